import FunctionRuntime
import HealthChecks
import JSON
import LambdaEvents
import Synchronization

/// `GET /healthz` (liveness), `GET /readyz` (readiness, a list of named checks), and the API's
/// OpenAPI description at `GET /openapi.yaml` and `GET /openapi.json`.
@main
struct Health: HTTPFunction {
    let routes: HTTPRoutes

    init(context: InitializationContext) async throws {
        let liveness = Liveness(version: context.env("APP_VERSION") ?? ServiceInfo.version, function: context.functionName)
        // Readiness is this list: one line per dependency the bundle needs.
        let checks: [ReadinessCheck] = [
            .databaseURL(context.env("DATABASE_URL"), environment: context.environment),
            .store(url: context.env("DATABASE_URL")),
            .embeddingModel(environment: context.environment, storeURL: context.env("DATABASE_URL")),
            .blobStore(environment: context.environment),
            .routeCatalog(environment: context.environment),
            .generationConfig(environment: context.environment),
        ] + [.embeddingProviders(environment: context.environment)].compactMap { $0 }
        // The API's own description; a package without one still serves health, and says so there.
        let description = Result { () throws(APIDescription.LoadError) in try APIDescription.load(path: context.env("OPENAPI_SPEC")) }
        if case .failure(let e) = description { context.logger.warning("GET /openapi.*: \(e)") }
        @Sendable func served(_ body: (APIDescription) -> APIGatewayV2Response) throws(APIError) -> APIGatewayV2Response {
            switch description {
            case .success(let d): return body(d)
            case .failure(let e): throw APIError.notFound("This deployment has no API description: \(e.description).")
            }
        }
        routes = HTTPRoutes([
            "GET /openapi.yaml": { _, _ in try served { .text($0.yaml, contentType: "application/yaml") } },
            "GET /openapi.json": { _, _ in try served { APIGatewayV2Response(statusCode: 200, headers: ["content-type": "application/json"],
                                                                            body: String(decoding: $0.json, as: UTF8.self)) } },
            "GET /healthz": { _, _ in .json(liveness.report()) },
            "GET /readyz": { _, _ in
                let results = await Readiness.run(checks)
                let failing = results.filter { !$0.ok }
                if failing.isEmpty { return .json(ReadyReport(status: "ready", checks: results)) }
                throw APIError(
                    status: 503, code: "not_ready",
                    message: "Not ready: " + failing.map { "\($0.name): \($0.reason ?? "failed")" }.joined(separator: "; "),
                    details: ["checks": .array(results.map { r in
                        var o: JSONObject = ["name": .string(r.name), "ok": .bool(r.ok), "duration_ms": .number(r.durationMs)]
                        if let reason = r.reason { o["reason"] = .string(reason) }
                        return .object(o)
                    })])
            },
        ])
    }
}

/// Process-level facts for `/healthz`: a warm process says so, which makes cold starts visible.
final class Liveness: Sendable {
    let version: String
    let function: String
    let startedMs = Timestamps.nowMs()
    private let served = Atomic<Int>(0)

    init(version: String, function: String) {
        self.version = version
        self.function = function
    }

    struct Report: Encodable {
        var status = "ok"
        var version: String
        var function: String
        var uptime_s: Double
        var cold: Bool
        var invocations: Int
    }

    func report() -> Report {
        let n = served.wrappingAdd(1, ordering: .relaxed).newValue
        let uptime = Double(Timestamps.nowMs() - startedMs) / 1000
        return Report(version: version, function: function, uptime_s: uptime, cold: n == 1, invocations: n)
    }
}

struct ReadyReport: Encodable {
    var status: String
    var checks: [CheckResult]
}
