#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JSON

/// The NDJSON protocol between the emulator and a handler process (docs/ARCHITECTURE.md, section 4).
/// One frame per line; the handler serves one invocation at a time.
public enum FrameType: String, Codable, Sendable {
    case ready, initError, invoke, response, error, invokeAsync
}

public enum FrameLimits {
    /// Lambda's synchronous payload limit, for both the event and the response.
    public static let maxPayloadBytes = 6 * 1024 * 1024
    /// A line may carry the envelope around a full payload.
    public static let maxLineBytes = maxPayloadBytes + 64 * 1024
}

/// Lambda's error object: what `/error` takes and what the Invoke API returns for a failed function.
public struct ErrorPayload: Codable, Sendable, Equatable, Error {
    public var errorType: String
    public var errorMessage: String
    public var stackTrace: [String]?

    public init(errorType: String, errorMessage: String, stackTrace: [String]? = []) {
        self.errorType = errorType
        self.errorMessage = errorMessage
        self.stackTrace = stackTrace
    }
}

public struct ReadyFrame: Codable, Sendable {
    public var type = FrameType.ready
    public var initMs: Double
    public init(initMs: Double) { self.initMs = initMs }
}

public struct InitErrorFrame: Codable, Sendable {
    public var type = FrameType.initError
    public var error: ErrorPayload
    public init(error: ErrorPayload) { self.error = error }
}

public struct InvokeFrame<Event: Codable & Sendable>: Codable, Sendable {
    public var type = FrameType.invoke
    public var requestId: String
    public var deadlineMs: Int64
    public var functionName: String
    public var invokedFunctionArn: String
    public var traceId: String?
    public var event: Event

    public init(requestId: String, deadlineMs: Int64, functionName: String, invokedFunctionArn: String, traceId: String?, event: Event) {
        self.requestId = requestId
        self.deadlineMs = deadlineMs
        self.functionName = functionName
        self.invokedFunctionArn = invokedFunctionArn
        self.traceId = traceId
        self.event = event
    }
}

public struct ResponseFrame<Payload: Encodable & Sendable>: Encodable, Sendable {
    public var type = FrameType.response
    public var requestId: String
    public var payload: Payload
    public init(requestId: String, payload: Payload) {
        self.requestId = requestId
        self.payload = payload
    }
}

public struct ErrorFrame: Codable, Sendable {
    public var type = FrameType.error
    /// Absent only when the frame that caused the error could not be read far enough to know it.
    public var requestId: String?
    public var error: ErrorPayload
    public init(requestId: String?, error: ErrorPayload) {
        self.requestId = requestId
        self.error = error
    }
}

public struct InvokeAsyncFrame<Event: Codable & Sendable>: Codable, Sendable {
    public var type = FrameType.invokeAsync
    public var functionName: String
    public var event: Event
    public init(functionName: String, event: Event) {
        self.functionName = functionName
        self.event = event
    }
}

/// Any frame, decoded in one pass with every field optional. Used by whoever reads frames of
/// several types from one stream (the emulator reading a handler's stdout).
public struct AnyFrame: Decodable, Sendable {
    public var type: FrameType
    public var requestId: String?
    public var initMs: Double?
    public var payload: JSONValue?
    public var error: ErrorPayload?
    public var functionName: String?
    public var event: JSONValue?
    public var deadlineMs: Int64?
}

/// Just enough of a frame to answer it: used when the full frame does not decode.
public struct FrameHeader: Decodable, Sendable {
    public var type: String?
    public var requestId: String?
}
