import FunctionRuntime
import LambdaEvents

/// `generate (grounded answers)`: answers its routes with 501 until its own issue lands.
@main
struct Generate: HTTPFunction {
    let routes = HTTPRoutes([
        "POST /v1/generate": HTTPRoutes.notImplemented("POST /v1/generate"),
    ])

    init(context: InitializationContext) async throws {}
}
