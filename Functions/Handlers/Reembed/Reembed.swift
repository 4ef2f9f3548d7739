import Documents
import DocumentStore
import Embeddings
import FunctionProtocol
import FunctionRuntime
import FunctionServices
import ServiceErrors
import Indexing
import Ingestion
import LambdaEvents

/// `reembed`, the ingestion and re-embedding worker, invoked three ways:
/// - HTTP: `POST /v1/documents/{id}/reembed`, `POST /v1/reembed` queue jobs (`ReembedAPI`) and
///   ask this function for them at once;
/// - schedules: `{"task":"drain"}` every minute runs queued jobs until the deadline nears;
///   `{"task":"stale_scan"}` nightly queues re-embeds for documents not on `EMBEDDING_MODEL`;
/// - async events from `upload` (`{"job_id","org_id"}`): a drain, so a new document is
///   searchable within seconds.
/// Thin: decode the event, call the Indexing library, map errors.
@main
struct Reembed: FunctionHandler {
    let routes: HTTPRoutes
    let worker: QueueWorker
    let scan: StaleScan
    let margin: Double
    let budgetUsed: @Sendable () -> Double?
    let meter: EmbeddingUsageMeter

    init(context: InitializationContext) async throws {
        let services = try await Services.fromEnvironment(context.environment)
        let configuration: WorkerConfiguration
        do { configuration = try WorkerConfiguration.fromEnvironment(context.environment) } catch {
            throw Services.StartupError.configuration("\(error)")
        }
        // Passages bypass the query cache; the chunker counts with the model's own tokenizer
        // when it has one (an HTTP model's is estimated).
        let model = (services.embedder as? CachedEmbeddingProvider)?.base ?? services.embedder
        let counting = services.pool?.tokenCounting ?? (model as? any CountsTokens)
        let counter = counting.map { m in TokenCounter { m.countTokens(String($0)) } } ?? .estimate
        let blobs: any BlobStore
        do { blobs = try BlobStores.fromEnvironment(context.environment) } catch {
            throw Services.StartupError.configuration("the blob store: \(error.description)")
        }
        // The candidate's passages skip the query cache too.
        let shadowModel = services.shadow.map { ($0.provider as? CachedEmbeddingProvider)?.base ?? $0.provider }
        let pipeline = IndexingPipeline(store: services.store, blobs: blobs, embedder: model, tokenCounter: counter,
                                        configuration: configuration, shadowEmbedder: shadowModel)
        worker = QueueWorker(pipeline: pipeline, owner: QueueWorker.ownerName(function: context.functionName), logger: context.logger)
        let planner = ReembedPlanner(store: services.store, model: model.modelId, configuration: configuration)
        scan = StaleScan(planner: planner, shadowModel: shadowModel?.modelId)
        margin = configuration.deadlineMargin
        let api = ReembedAPI(planner: planner)
        let usage = services.ledger.map(UsageAPI.init(ledger:))
        let me = context.functionName

        @Sendable func respond(_ context: InvocationContext, _ body: () throws -> ReembedAPI.Result) async throws(APIError) -> APIGatewayV2Response {
            let result: ReembedAPI.Result
            do { result = try body() } catch {
                let e = ErrorMapping.apiError(error)
                if e.status >= 500 { context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"]) }
                throw e
            }
            if let first = result.queued.first {
                // One call is enough: the drain it starts runs every queued job.
                do { try await context.invokeAsync(me, event: WorkerRequest(jobId: first.id, orgId: first.orgId)) } catch {
                    context.logger.warning("could not invoke the worker; the queue drain will pick the jobs up",
                                           metadata: ["jobs": "\(result.queued.count)", "error": "\(error)"])
                }
            }
            return result.response
        }
        routes = HTTPRoutes([
            "POST /v1/documents/{id}/reembed": { request, context in try await respond(context) { try api.reembedDocument(request) } },
            "POST /v1/reembed": { request, context in try await respond(context) { try api.reembedAll(request) } },
            "GET /v1/usage": { request, context in
                guard let usage else { throw APIError.serviceUnavailable("This worker keeps no usage ledger.") }
                do { return try usage.usage(request) } catch { throw ErrorMapping.apiError(error) }
            },
        ])
        let ledger = services.ledger
        budgetUsed = { ledger?.budgetUsed }
        meter = EmbeddingUsageMeter(services.embedder)
        context.logger.info("worker ready", metadata: [
            "store": "\(services.store.kind)", "model": "\(model.modelId)", "lease_s": "\(configuration.lease)",
            "batch": "\(configuration.embedBatch)", "max_attempts": "\(configuration.maxAttempts)",
        ])
    }

    func handle(_ event: IncomingEvent, context: InvocationContext) async throws -> WorkerOutput {
        if case .http(let request) = event { return .http(await routes.respond(to: request, context: context)) }
        let task: WorkerEvent
        do { task = try WorkerEvent.from(event) } catch {
            throw ErrorPayload(errorType: "InvalidEvent", errorMessage: error.description)
        }
        // Stop claiming while there is still time to record the last job.
        let remaining = context.remainingTime - .milliseconds(Int64(margin * 1000))
        let deadline = ContinuousClock.now + max(remaining, .zero)
        var scanned: StaleScan.Report?
        context.metrics.dimension("task", task == .staleScan ? "stale_scan" : "drain")
        if task == .staleScan { scanned = scan.run(logger: context.logger) }
        let drainStarted = ContinuousClock.now
        let report = await worker.drain(until: deadline)
        Self.record(report, took: ContinuousClock.now - drainStarted, into: context.metrics)
        for (name, value) in meter.take() { context.metrics.set(name, value) }
        if let used = budgetUsed() { context.metrics.set("EmbeddingBudgetUsed", used) }
        context.logger.info("drain", metadata: [
            "claimed": "\(report.claimed)", "indexed": "\(report.indexed)", "failed": "\(report.failed)", "dead": "\(report.dead)",
            "chunks": "\(report.chunks)", "embedded": "\(report.embedded)", "reused": "\(report.reused)",
        ])
        return .report(WorkerReport(drain: report, staleScan: scanned))
    }
}

extension Reembed {
    /// What the drain did (docs/ARCHITECTURE.md, section 6a): jobs by outcome, chunks
    /// embedded against vectors reused, and the time per job.
    static func record(_ r: DrainReport, took: Duration, into m: InvocationMetrics) {
        m.set("JobsClaimed", Double(r.claimed))
        m.set("JobsDone", Double(r.indexed + r.purged + r.skipped))
        m.set("JobsFailed", Double(r.failed))
        m.set("JobsDeferred", Double(r.deferred))
        m.set("JobsDead", Double(r.dead))
        m.set("ChunksEmbedded", Double(r.embedded))
        m.set("VectorsReused", Double(r.reused))
        let ms = Double(took.components.seconds) * 1000 + Double(took.components.attoseconds) / 1e15
        if r.claimed > 0 { m.set("JobTime", ms / Double(r.claimed), unit: .milliseconds) }
    }
}

/// What an invocation answers: an HTTP response, or what a drain (and scan) did.
enum WorkerOutput: Encodable, Sendable {
    case http(APIGatewayV2Response)
    case report(WorkerReport)

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .http(let r): try r.encode(to: encoder)
        case .report(let r): try r.encode(to: encoder)
        }
    }
}

struct WorkerReport: Encodable, Sendable {
    var drain: DrainReport
    var staleScan: StaleScan.Report?
    enum CodingKeys: String, CodingKey { case drain, staleScan = "stale_scan" }
}
