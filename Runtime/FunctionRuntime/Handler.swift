#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import FunctionProtocol
import JSON

/// A function. The runtime creates it once per process (the cold start: open connections,
/// load models), then calls `handle` once per invocation, one at a time, many in sequence.
/// The same code runs under the emulator's stdin/stdout protocol and the Lambda Runtime API.
public protocol FunctionHandler: Sendable {
    associatedtype Event: Decodable & Sendable
    associatedtype Output: Encodable & Sendable

    init(context: InitializationContext) async throws
    func handle(_ event: Event, context: InvocationContext) async throws -> Output
}

extension FunctionHandler {
    /// Lets a handler type be the executable's entry point: `@main struct Search: HTTPFunction`.
    public static func main() async {
        await FunctionRuntime.run(Self.self)
    }
}

/// What a handler gets at init.
public struct InitializationContext: Sendable {
    public let functionName: String
    public let logger: Logger
    public let environment: [String: String]

    public func env(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// What a handler gets with each invocation.
public struct InvocationContext: Sendable {
    public let requestId: String
    /// Epoch milliseconds after which the caller has given up (the function's timeout).
    public let deadlineMs: Int64
    public let functionName: String
    public let invokedFunctionArn: String
    public let traceId: String?
    /// Bound to this request: every line it writes carries `requestId`.
    public let logger: Logger
    /// This invocation's metrics, written as one EMF line when it ends: add the handler's phases.
    public let metrics: InvocationMetrics
    let asyncInvoker: any AsyncInvoker
    let streamStarter: StreamStarter?
    /// Whether the caller reads this invocation's answer as a stream: a function URL in
    /// `RESPONSE_STREAM` mode (`HTTPFunction` sets it from the event and
    /// `FUNCTION_URL_INVOKE_MODE`). A handler may stream only then; otherwise it answers whole.
    public var acceptsResponseStream = false

    init(requestId: String, deadlineMs: Int64, functionName: String, invokedFunctionArn: String, traceId: String?,
         logger: Logger, asyncInvoker: any AsyncInvoker, streamStarter: StreamStarter? = nil, metrics: InvocationMetrics? = nil) {
        self.requestId = requestId
        self.deadlineMs = deadlineMs
        self.functionName = functionName
        self.invokedFunctionArn = invokedFunctionArn
        self.traceId = traceId
        self.logger = logger
        self.asyncInvoker = asyncInvoker
        self.streamStarter = streamStarter
        self.metrics = metrics ?? InvocationMetrics(function: functionName, requestId: requestId)
    }

    public var deadline: Duration { .milliseconds(deadlineMs) }

    /// Time left before the deadline; negative once it has passed.
    public var remainingTime: Duration { .milliseconds(deadlineMs - Timestamps.nowMs()) }

    /// Queues an event invocation of another function of the bundle and returns at once
    /// (Lambda's `InvocationType=Event`). Delivery and retries belong to the platform.
    public func invokeAsync<E: Codable & Sendable>(_ functionName: String, event: E) async throws {
        try await asyncInvoker.invokeAsync(functionName: functionName, event: event)
    }

    /// Starts streaming the answer: `prelude` (status, headers, cookies) goes out now, the body
    /// as the stream is written. Once started, whatever the handler returns is ignored; the
    /// runtime finishes a stream the handler left open, and ends it with an error if the
    /// handler throws. Only when `acceptsResponseStream`; at most once per invocation.
    public func startResponseStream(_ prelude: StreamPrelude) async throws -> ResponseStream {
        guard acceptsResponseStream, let streamStarter else {
            throw ErrorPayload(errorType: "Runtime.StreamingNotAccepted",
                               errorMessage: "This invocation's caller reads the answer whole (not a function URL in RESPONSE_STREAM mode).")
        }
        return try await streamStarter.begin(prelude)
    }

    /// The stream this invocation started, if it did.
    public var responseStream: ResponseStream? { streamStarter?.stream }
}

protocol AsyncInvoker: Sendable {
    func invokeAsync<E: Codable & Sendable>(functionName: String, event: E) async throws
}
