#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JSON

/// Metadata of one invocation, whichever transport carried it.
public struct InvocationMeta: Sendable, Equatable {
    public var requestId: String
    public var deadlineMs: Int64
    public var functionName: String
    public var invokedFunctionArn: String
    public var traceId: String?

    public init(requestId: String, deadlineMs: Int64, functionName: String, invokedFunctionArn: String, traceId: String?) {
        self.requestId = requestId
        self.deadlineMs = deadlineMs
        self.functionName = functionName
        self.invokedFunctionArn = invokedFunctionArn
        self.traceId = traceId
    }

    /// Lambda's ARN for a function of the emulator's account and region.
    public static func localARN(_ functionName: String) -> String {
        "arn:aws:lambda:us-east-1:123456789012:function:\(functionName)"
    }
}

/// An invoke frame as the handler's side reads it.
public enum DecodedInvoke<Event: Sendable>: Sendable {
    /// An invoke frame: the event, or why it does not fit the handler's type (answered as an error).
    case invocation(InvocationMeta, Result<Event, ErrorPayload>)
    /// Not a usable invoke frame; the frame to answer with.
    case refused(ErrorFrame)
}

/// The one codec of the stdio protocol (docs/ARCHITECTURE.md, section 4), used by both sides:
/// the emulator writes invokes and reads every other frame; the handler's transport reads
/// invokes and writes answers.
///
/// An event or payload whose type is `JSONRepresentable` (API Gateway's request and response,
/// `JSONValue`) is read and written by hand, so the per-request path runs no Codable; any other
/// `Codable` type goes through JSONEncoder and JSONDecoder. Which one runs depends only on the
/// type's conformance, not on which concrete type it is.
public enum FrameCodec {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes]
        return e
    }

    /// Encodes a frame as one line, newline included. JSONEncoder never emits a raw newline
    /// (it escapes them in strings), so the output is always a single line.
    public static func line<T: Encodable>(_ frame: T, encoder: JSONEncoder) throws -> Data {
        var data = try encoder.encode(frame)
        data.append(0x0A)
        return data
    }

    // MARK: Invoke frames

    /// The `invoke` frame carrying `event`, as one line.
    public static func invokeLine<E: Codable & Sendable>(_ meta: InvocationMeta, event: E, encoder: JSONEncoder) throws -> [UInt8] {
        guard let event = event as? any JSONRepresentable else {
            return Array(try line(InvokeFrame(requestId: meta.requestId, deadlineMs: meta.deadlineMs, functionName: meta.functionName,
                                              invokedFunctionArn: meta.invokedFunctionArn, traceId: meta.traceId, event: event),
                                  encoder: encoder))
        }
        var w = JSONWriter(capacity: 256 + event.jsonCapacityHint)
        w.raw("{\"type\":\"invoke\",\"requestId\":"); w.string(meta.requestId)
        w.raw(",\"deadlineMs\":"); w.int(meta.deadlineMs)
        w.raw(",\"functionName\":"); w.string(meta.functionName)
        w.raw(",\"invokedFunctionArn\":"); w.string(meta.invokedFunctionArn)
        if let traceId = meta.traceId { w.raw(",\"traceId\":"); w.string(traceId) }
        w.raw(",\"event\":")
        event.writeJSON(to: &w)
        w.raw("}\n")
        return w.bytes
    }

    /// Reads one line that should be an `invoke` frame for a handler of `Event`.
    public static func decodeInvoke<E: Decodable & Sendable>(_ bytes: [UInt8], as type: E.Type, decoder: JSONDecoder) -> DecodedInvoke<E> {
        // One parse of the line into a tree, the event built from its subtree. Anything this path
        // does not accept goes through Codable below, for Codable's error messages.
        if let representable = E.self as? any JSONRepresentable.Type,
           case .object(let o)? = try? JSONValue.parse(bytes), o["type"]?.stringValue == FrameType.invoke.rawValue,
           let requestId = o["requestId"]?.stringValue, let deadline = o["deadlineMs"]?.doubleValue,
           let functionName = o["functionName"]?.stringValue, let eventJSON = o["event"],
           let event = build(representable, from: eventJSON) as? E {
            let meta = InvocationMeta(requestId: requestId, deadlineMs: Int64(deadline), functionName: functionName,
                                      invokedFunctionArn: o["invokedFunctionArn"]?.stringValue ?? InvocationMeta.localARN(functionName),
                                      traceId: o["traceId"]?.stringValue)
            return .invocation(meta, .success(event))
        }
        let data = Data(bytes)
        if let frame = try? decoder.decode(TypedInvoke<E>.self, from: data), frame.type == FrameType.invoke.rawValue {
            return .invocation(frame.meta, .success(frame.event))
        }
        guard let header = try? decoder.decode(FrameHeader.self, from: data) else {
            return .refused(ErrorFrame(requestId: sniffRequestId(bytes),
                                       error: ErrorPayload(errorType: "InvalidFrame", errorMessage: "The frame is not a JSON object.")))
        }
        guard header.type == FrameType.invoke.rawValue else {
            return .refused(ErrorFrame(requestId: header.requestId, error: ErrorPayload(
                errorType: "InvalidFrame",
                errorMessage: "Unknown frame type \(header.type.map { "`\($0)`" } ?? "(none)"); a handler accepts only `invoke`.")))
        }
        // An invoke whose envelope is fine but whose event does not fit the handler's type.
        if let frame = try? decoder.decode(TypedInvoke<JSONValue>.self, from: data) {
            let reason: String
            do { _ = try decoder.decode(TypedInvoke<E>.self, from: data); reason = "unknown" } catch { reason = "\(error)" }
            return .invocation(frame.meta, .failure(ErrorPayload(
                errorType: "InvalidEvent", errorMessage: "The event does not match \(E.self): \(reason)")))
        }
        return .refused(ErrorFrame(requestId: header.requestId, error: ErrorPayload(
            errorType: "InvalidFrame", errorMessage: "An invoke frame needs requestId, deadlineMs, functionName and event.")))
    }

    // MARK: Answers

    /// The `response` frame carrying `payload`, as one line.
    public static func responseLine<P: Encodable & Sendable>(requestId: String, payload: P, encoder: JSONEncoder) throws -> [UInt8] {
        guard let payload = payload as? any JSONRepresentable else {
            return Array(try line(ResponseFrame(requestId: requestId, payload: payload), encoder: encoder))
        }
        var w = JSONWriter(capacity: 96 + payload.jsonCapacityHint)
        w.raw("{\"type\":\"response\",\"requestId\":"); w.string(requestId)
        w.raw(",\"payload\":")
        payload.writeJSON(to: &w)
        w.raw("}\n")
        return w.bytes
    }

    /// A payload on its own (the Lambda Runtime API's `/response` body), by the same rule.
    public static func payload<P: Encodable & Sendable>(_ payload: P, encoder: JSONEncoder) throws -> [UInt8] {
        guard let payload = payload as? any JSONRepresentable else { return Array(try encoder.encode(payload)) }
        var w = JSONWriter(capacity: payload.jsonCapacityHint)
        payload.writeJSON(to: &w)
        return w.bytes
    }

    /// An event on its own (the Lambda Runtime API's `/invocation/next` body), by the same rule.
    public static func event<E: Decodable & Sendable>(_ bytes: [UInt8], as type: E.Type, decoder: JSONDecoder) throws -> E {
        if let representable = E.self as? any JSONRepresentable.Type, let json = try? JSONValue.parse(bytes),
           let event = build(representable, from: json) as? E {
            return event
        }
        return try decoder.decode(E.self, from: Data(bytes))
    }

    /// Any frame the emulator reads from a handler: its type and members, or nil for a line that
    /// is not a frame of the protocol.
    public static func frame(_ bytes: some Collection<UInt8>) -> (type: FrameType, members: JSONObject)? {
        guard case .object(let o)? = try? JSONValue.parse(bytes),
              let type = o["type"]?.stringValue.flatMap(FrameType.init(rawValue:)) else { return nil }
        return (type, o)
    }

    /// The request id of a `cancel` frame, or nil for any other line. Runs on every line a
    /// handler reads, so it rules lines out without parsing: a cancel frame is a type and a
    /// request id, well under 512 bytes (an invoke is longer but for the tiniest events), and
    /// only a line holding `"cancel"` is parsed.
    public static func cancelRequestId(_ bytes: [UInt8]) -> String? {
        guard bytes.count <= 512, bytes.count >= 8 else { return nil }
        let found = bytes.withUnsafeBufferPointer { b -> Bool in
            // `"cancel"`: 0x22 c a n c e l 0x22
            var i = 0
            while i + 8 <= b.count {
                if b[i] == 0x22, b[i + 1] == 0x63, b[i + 2] == 0x61, b[i + 3] == 0x6E, b[i + 4] == 0x63, b[i + 5] == 0x65,
                   b[i + 6] == 0x6C, b[i + 7] == 0x22 { return true }
                i += 1
            }
            return false
        }
        guard found, case .object(let o)? = try? JSONValue.parse(bytes), o["type"]?.stringValue == FrameType.cancel.rawValue else { return nil }
        return o["requestId"]?.stringValue
    }

    /// Best-effort `requestId` of a line too large or too broken to decode, so the answer can
    /// still be matched to the invocation. Looks only at the first 4 KB.
    public static func sniffRequestId(_ bytes: some Collection<UInt8>) -> String? {
        let head = Array(bytes.prefix(4096))
        let key = Array("\"requestId\"".utf8)
        guard head.count >= key.count else { return nil }
        for start in 0...(head.count - key.count) where head[start..<(start + key.count)].elementsEqual(key) {
            var i = start + key.count
            while i < head.count, head[i] == 0x20 || head[i] == 0x3A { i += 1 }  // spaces and ':'
            guard i < head.count, head[i] == 0x22 else { return nil }
            guard let end = head[(i + 1)...].firstIndex(of: 0x22) else { return nil }
            return String(decoding: head[(i + 1)..<end], as: UTF8.self)
        }
        return nil
    }

    private static func build<R: JSONRepresentable>(_ type: R.Type, from json: JSONValue) -> R? { R(json: json) }
}

/// An invoke frame decoded straight into the handler's event type, in one pass.
private struct TypedInvoke<E: Decodable>: Decodable {
    var type: String
    var requestId: String
    var deadlineMs: Int64
    var functionName: String
    var invokedFunctionArn: String?
    var traceId: String?
    var event: E

    var meta: InvocationMeta {
        InvocationMeta(requestId: requestId, deadlineMs: deadlineMs, functionName: functionName,
                       invokedFunctionArn: invokedFunctionArn ?? InvocationMeta.localARN(functionName), traceId: traceId)
    }
}
