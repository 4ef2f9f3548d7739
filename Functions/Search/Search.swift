import FunctionRuntime
import LambdaEvents

/// `search (hybrid retrieval)`: answers its routes with 501 until its own issue lands.
@main
struct Search: HTTPFunction {
    let routes = HTTPRoutes([
        "POST /v1/search": HTTPRoutes.notImplemented("POST /v1/search"),
    ])

    init(context: InitializationContext) async throws {}
}
