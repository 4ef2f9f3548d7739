#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JSON

/// The NDJSON protocol between the emulator and a handler process (docs/ARCHITECTURE.md, section 4).
/// One frame per line; the handler serves one invocation at a time.
///
/// A streamed answer is `streamStart` (status and headers), any number of `streamChunk`, then
/// `streamEnd`, or `streamError` once something has been sent and the rest cannot be. `cancel`
/// goes the other way, from the emulator: the client of a streamed answer went away.
public enum FrameType: String, Codable, Sendable {
    case ready, initError, invoke, response, error, invokeAsync
    case streamStart, streamChunk, streamEnd, streamError, cancel
}

public enum FrameLimits {
    /// Lambda's synchronous payload limit, for both the event and the response.
    public static let maxPayloadBytes = 6 * 1024 * 1024
    /// A line may carry the envelope around a full payload.
    public static let maxLineBytes = maxPayloadBytes + 64 * 1024
    /// Lambda's limit on a streamed response (InvokeWithResponseStream, function URLs in
    /// RESPONSE_STREAM mode).
    public static let maxStreamedBytes = 200 * 1024 * 1024
    /// Bytes of one `streamChunk`: a handler's larger writes are split, so a line stays small.
    public static let maxChunkBytes = 256 * 1024
}

/// What a streamed HTTP answer starts with: Lambda's HTTP integration prelude (the JSON object
/// a function URL in RESPONSE_STREAM mode reads before the 8 NUL delimiter).
public struct StreamPrelude: Sendable, Equatable {
    public var statusCode: Int
    public var headers: [String: String]
    public var cookies: [String]

    public init(statusCode: Int = 200, headers: [String: String] = [:], cookies: [String] = []) {
        self.statusCode = statusCode
        self.headers = headers
        self.cookies = cookies
    }

    /// The prelude as Lambda reads it: `{"statusCode":...,"headers":{...},"cookies":[...]}`.
    public var json: JSONValue {
        var o: JSONObject = ["statusCode": .number(Double(statusCode))]
        o["headers"] = .object(JSONObject(headers.mapValues(JSONValue.string)))
        if !cookies.isEmpty { o["cookies"] = .array(cookies.map(JSONValue.string)) }
        return .object(o)
    }

    /// Reads a prelude (from a `streamStart` frame or the bytes before the delimiter).
    public init?(json: JSONValue) {
        guard case .object(let o) = json, let status = o["statusCode"]?.intValue, (100...599).contains(status) else { return nil }
        var headers: [String: String] = [:]
        if case .object(let h)? = o["headers"] { for (k, v) in h { headers[k] = v.textValue } }
        self.init(statusCode: status, headers: headers, cookies: o["cookies"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }

    /// The delimiter between the prelude and the body in Lambda's HTTP integration stream.
    public static let delimiter = [UInt8](repeating: 0, count: 8)
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

public struct StreamStartFrame: Sendable {
    public var requestId: String
    public var prelude: StreamPrelude
    public init(requestId: String, prelude: StreamPrelude) {
        self.requestId = requestId
        self.prelude = prelude
    }

    public var json: JSONValue { ["type": .string(FrameType.streamStart.rawValue), "requestId": .string(requestId), "prelude": prelude.json] }
}

/// Bytes of a streamed answer, base64 in `data` (a chunk may end inside a UTF-8 sequence).
public struct StreamChunkFrame: Sendable {
    public var requestId: String
    public var data: [UInt8]
    public init(requestId: String, data: [UInt8]) {
        self.requestId = requestId
        self.data = data
    }

    public var json: JSONValue {
        ["type": .string(FrameType.streamChunk.rawValue), "requestId": .string(requestId), "data": .string(Data(data).base64EncodedString())]
    }
}

public struct StreamEndFrame: Codable, Sendable {
    public var type = FrameType.streamEnd
    public var requestId: String
    public init(requestId: String) { self.requestId = requestId }
}

/// The stream cannot go on after something was sent: the client sees the body end early (and,
/// through the emulator, an `error` the function wrote itself if it wrote one).
public struct StreamErrorFrame: Codable, Sendable {
    public var type = FrameType.streamError
    public var requestId: String
    public var error: ErrorPayload
    public init(requestId: String, error: ErrorPayload) {
        self.requestId = requestId
        self.error = error
    }
}

/// From the emulator: the client of request `requestId`'s stream disconnected.
public struct CancelFrame: Codable, Sendable {
    public var type = FrameType.cancel
    public var requestId: String
    public init(requestId: String) { self.requestId = requestId }
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
    /// `streamStart`'s status and headers.
    public var prelude: JSONValue?
    /// `streamChunk`'s bytes, base64.
    public var data: String?
}

/// Just enough of a frame to answer it: used when the full frame does not decode.
public struct FrameHeader: Decodable, Sendable {
    public var type: String?
    public var requestId: String?
}
