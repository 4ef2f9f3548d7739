import FunctionProtocol
import FunctionRuntime
import LambdaEvents

/// `reembed`, the ingestion/re-embedding worker. It is invoked three ways: HTTP routes,
/// schedules (queue drain, nightly stale scan) and async invocations from `upload`.
@main
struct Reembed: FunctionHandler {
    let routes = HTTPRoutes([
        "POST /v1/documents/{id}/reembed": HTTPRoutes.notImplemented("POST /v1/documents/{id}/reembed"),
        "POST /v1/reembed": HTTPRoutes.notImplemented("POST /v1/reembed"),
    ])

    init(context: InitializationContext) async throws {}

    func handle(_ event: IncomingEvent, context: InvocationContext) async throws -> APIGatewayV2Response {
        switch event {
        case .http(let request):
            return await routes.respond(to: request, context: context)
        case .schedule(let schedule):
            throw ErrorPayload(errorType: "NotImplemented", errorMessage: "The worker does not run scheduled jobs yet (rule \(schedule.ruleName ?? "?")).")
        case .other:
            throw ErrorPayload(errorType: "NotImplemented", errorMessage: "The worker does not process jobs yet.")
        }
    }
}
