import FunctionProtocol

struct Invocation<Event: Sendable>: Sendable {
    var meta: InvocationMeta
    /// The event, or why it could not be decoded into the handler's type (answered as an error).
    var event: Result<Event, ErrorPayload>
}

/// Carries invocations to the handler and answers back. The handler never sees which one runs.
protocol Transport: AsyncInvoker {
    func ready(initMs: Double) async
    func initError(_ error: ErrorPayload) async
    /// The next invocation, or nil when there will be none (stdin closed).
    func next<E: Decodable & Sendable>(_ type: E.Type) async throws -> Invocation<E>?
    func respond<P: Encodable & Sendable>(_ meta: InvocationMeta, payload: P) async throws
    func fail(_ meta: InvocationMeta, error: ErrorPayload) async throws
    /// Starts a streamed answer to `meta`'s invocation instead of `respond`/`fail`. `cancel` is
    /// told when the client goes away, where the transport can know it.
    func startStream(_ meta: InvocationMeta, prelude: StreamPrelude, cancel: ResponseStream.Box) async throws -> any StreamSink
}

enum TransportError: Error, CustomStringConvertible {
    case runtimeAPI(String)
    case unsupported(String)

    var description: String {
        switch self {
        case .runtimeAPI(let m): "Lambda Runtime API: \(m)"
        case .unsupported(let m): m
        }
    }
}
