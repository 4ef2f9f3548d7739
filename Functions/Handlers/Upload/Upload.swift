import DocumentStore
import Documents
import FunctionRuntime
import LambdaEvents
import ServiceErrors
import Stores

/// `upload`: documents in (durable before the answer), and the documents and jobs API. The
/// tenant is the `org_id` claim. Thin: the routes call `DocumentsAPI` and map its errors;
/// after a job is committed the worker (`REEMBED_FUNCTION`) is invoked asynchronously with
/// `{"job_id", "org_id"}`, and if that fails the per-minute queue drain still runs the job.
@main
struct Upload: HTTPFunction {
    let routes: HTTPRoutes

    init(context: InitializationContext) async throws {
        let configuration = try UploadConfiguration.fromEnvironment(context.environment, functionName: context.functionName)
        let store: any Store
        do { store = try Stores.open(url: configuration.databaseURL) } catch {
            throw StartupError.configuration("cannot open the store at \(Stores.redacted(configuration.databaseURL)): \(error)")
        }
        let blobs: any BlobStore
        do { blobs = try BlobStores.fromEnvironment(context.environment) } catch {
            throw StartupError.configuration("the blob store: \(error.description)")
        }
        let api = DocumentsAPI(store: store, blobs: blobs, configuration: configuration)
        let worker = configuration.reembedFunction
        context.logger.info("upload ready", metadata: [
            "store": "\(store.kind)", "max_upload_bytes": "\(configuration.maxUploadBytes)", "worker": "\(worker)",
        ])

        @Sendable func hooks(_ context: InvocationContext) -> RequestHooks {
            RequestHooks(
                notifyWorker: { request in try await context.invokeAsync(worker, event: request) },
                warn: { message, fields in context.logger.warning("\(message)", metadata: fields.mapValues { "\($0)" }) },
                uploaded: { bytes, type, deduplicated in
                    context.metrics.set("UploadBytes", Double(bytes), unit: .bytes)
                    context.metrics.set("Deduplicated", deduplicated ? 1 : 0)
                    context.metrics.dimension("type", type)
                })
        }
        /// Library errors to the documented shape; what becomes a 5xx is logged with its cause.
        @Sendable func mapped(_ context: InvocationContext, _ body: () async throws -> APIGatewayV2Response) async throws(APIError) -> APIGatewayV2Response {
            do { return try await body() } catch {
                let e = ErrorMapping.apiError(error)
                if e.status >= 500 { context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"]) }
                throw e
            }
        }
        routes = HTTPRoutes([
            "POST /v1/documents": { request, context in
                try await mapped(context) { try await api.createDocument(request, hooks: hooks(context)) }
            },
            "GET /v1/documents": { request, context in
                try await mapped(context) { try api.listDocuments(request) }
            },
            "GET /v1/documents/{id}": { request, context in
                try await mapped(context) { try api.getDocument(request) }
            },
            "GET /v1/documents/{id}/versions": { request, context in
                try await mapped(context) { try api.listVersions(request) }
            },
            "DELETE /v1/documents/{id}": { request, context in
                try await mapped(context) { try await api.deleteDocument(request, hooks: hooks(context)) }
            },
            "GET /v1/jobs": { request, context in
                try await mapped(context) { try api.listJobs(request) }
            },
            "GET /v1/jobs/{id}": { request, context in
                try await mapped(context) { try api.getJob(request) }
            },
        ])
    }
}
