import FunctionRuntime
import LambdaEvents

/// `upload (documents and jobs API)`: answers its routes with 501 until its own issue lands.
@main
struct Upload: HTTPFunction {
    let routes = HTTPRoutes([
        "POST /v1/documents": HTTPRoutes.notImplemented("POST /v1/documents"),
        "GET /v1/documents": HTTPRoutes.notImplemented("GET /v1/documents"),
        "GET /v1/documents/{id}": HTTPRoutes.notImplemented("GET /v1/documents/{id}"),
        "GET /v1/documents/{id}/versions": HTTPRoutes.notImplemented("GET /v1/documents/{id}/versions"),
        "DELETE /v1/documents/{id}": HTTPRoutes.notImplemented("DELETE /v1/documents/{id}"),
        "GET /v1/jobs/{id}": HTTPRoutes.notImplemented("GET /v1/jobs/{id}"),
    ])

    init(context: InitializationContext) async throws {}
}
