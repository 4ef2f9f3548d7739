import FunctionRuntime
import LambdaEvents

/// `route (intent router)`: answers its routes with 501 until its own issue lands.
@main
struct Route: HTTPFunction {
    let routes = HTTPRoutes([
        "POST /v1/route": HTTPRoutes.notImplemented("POST /v1/route"),
    ])

    init(context: InitializationContext) async throws {}
}
