#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import CStdio
import FunctionProtocol
import JSON
import LambdaEvents
import Synchronization

/// The emulator's protocol: NDJSON frames on stdin/stdout (docs/ARCHITECTURE.md, section 4).
///
/// stdout belongs to the protocol, so at start the transport keeps a private duplicate of fd 1
/// for frames and points fd 1 at stderr: a stray `print` ends up in the logs, not in a frame.
final class StdioTransport: Transport, @unchecked Sendable {
    private let frameFD: Int32
    private let reader: LineReader
    private let writeLock = Mutex(())
    private let encoder = FrameCodec.encoder()
    private let decoder = JSONDecoder()

    init() {
        frameFD = fcntl(1, F_DUPFD_CLOEXEC, 3)
        dup2(2, 1)
        cstdio_line_buffer_stdout()
        reader = LineReader(fd: 0, maxLine: FrameLimits.maxLineBytes)
    }

    func ready(initMs: Double) async {
        write(ReadyFrame(initMs: initMs))
    }

    func initError(_ error: ErrorPayload) async {
        write(InitErrorFrame(error: error))
    }

    func next<E: Decodable & Sendable>(_ type: E.Type) async throws -> Invocation<E>? {
        while true {
            // The read blocks the calling thread on purpose. Between invocations there is nothing
            // else to do (Lambda freezes an idle environment the same way), and reading on the
            // thread that then runs the handler saves a cross-core thread hop per invocation,
            // which is most of the protocol's round-trip cost. Other tasks keep the rest of the
            // cooperative pool.
            let result = reader.next()
            if case .eof = result {} else { Termination.beginInvocation() }
            switch result {
            case .eof:
                return nil
            case .tooLong(let prefix):
                write(ErrorFrame(
                    requestId: FrameCodec.sniffRequestId(prefix),
                    error: ErrorPayload(errorType: "RequestTooLarge",
                                        errorMessage: "Frame exceeds the \(FrameLimits.maxPayloadBytes)-byte payload limit.")))
            case .line(let bytes):
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) {
                    Termination.endInvocation()
                    continue
                }
                if let invocation = decodeInvocation(bytes, as: E.self) { return invocation }
            }
            Termination.endInvocation()
        }
    }

    /// The invocation in `bytes`, or nil after answering a frame that is not a usable invoke.
    private func decodeInvocation<E: Decodable & Sendable>(_ bytes: [UInt8], as: E.Type) -> Invocation<E>? {
        // HTTP functions, the common case: parsed by hand, several times faster than Codable.
        // Anything the fast path does not accept goes through Codable below, for its errors.
        if E.self == APIGatewayV2Request.self, let fast = Self.fastHTTPInvoke(bytes) {
            return Invocation(meta: fast.meta, event: .success(fast.event as! E))
        }
        let data = Data(bytes)
        if let frame = try? decoder.decode(TypedInvoke<E>.self, from: data), frame.type == FrameType.invoke.rawValue {
            return Invocation(meta: frame.meta, event: .success(frame.event))
        }
        guard let header = try? decoder.decode(FrameHeader.self, from: data) else {
            write(ErrorFrame(requestId: FrameCodec.sniffRequestId(bytes),
                             error: ErrorPayload(errorType: "InvalidFrame", errorMessage: "The frame is not a JSON object.")))
            return nil
        }
        guard header.type == FrameType.invoke.rawValue else {
            write(ErrorFrame(requestId: header.requestId,
                             error: ErrorPayload(errorType: "InvalidFrame",
                                                 errorMessage: "Unknown frame type \(header.type.map { "`\($0)`" } ?? "(none)"); a handler accepts only `invoke`.")))
            return nil
        }
        // An invoke whose envelope is fine but whose event does not fit the handler's type.
        if let frame = try? decoder.decode(TypedInvoke<JSONValue>.self, from: data) {
            let reason: String
            do { _ = try decoder.decode(TypedInvoke<E>.self, from: data); reason = "unknown" } catch { reason = "\(error)" }
            return Invocation(meta: frame.meta, event: .failure(ErrorPayload(
                errorType: "InvalidEvent", errorMessage: "The event does not match \(E.self): \(reason)")))
        }
        write(ErrorFrame(requestId: header.requestId,
                         error: ErrorPayload(errorType: "InvalidFrame",
                                             errorMessage: "An invoke frame needs requestId, deadlineMs, functionName and event.")))
        return nil
    }

    private static func fastHTTPInvoke(_ bytes: [UInt8]) -> (meta: InvocationMeta, event: APIGatewayV2Request)? {
        guard case .object(let o)? = try? JSONValue.parse(bytes), o["type"]?.stringValue == FrameType.invoke.rawValue,
              let requestId = o["requestId"]?.stringValue, let deadline = o["deadlineMs"]?.doubleValue,
              let functionName = o["functionName"]?.stringValue, let eventJSON = o["event"],
              let event = APIGatewayV2Request(json: eventJSON) else { return nil }
        let meta = InvocationMeta(
            requestId: requestId, deadlineMs: Int64(deadline), functionName: functionName,
            invokedFunctionArn: o["invokedFunctionArn"]?.stringValue ?? "arn:aws:lambda:us-east-1:123456789012:function:\(functionName)",
            traceId: o["traceId"]?.stringValue)
        return (meta, event)
    }

    func respond<P: Encodable & Sendable>(_ meta: InvocationMeta, payload: P) async throws {
        let line: Data
        if let http = payload as? APIGatewayV2Response {
            var w = JSONWriter(capacity: 96 + (http.body?.utf8.count ?? 0))
            w.raw("{\"type\":\"response\",\"requestId\":")
            w.string(meta.requestId)
            w.raw(",\"payload\":")
            http.write(to: &w)
            w.raw("}\n")
            line = Data(w.bytes)
        } else {
            line = try FrameCodec.line(ResponseFrame(requestId: meta.requestId, payload: payload), encoder: encoder)
        }
        if line.count > FrameLimits.maxPayloadBytes + 256 {
            write(ErrorFrame(requestId: meta.requestId, error: ErrorPayload(
                errorType: "Function.ResponseSizeTooLarge",
                errorMessage: "Response payload size (\(line.count) bytes) exceeded maximum allowed payload size (\(FrameLimits.maxPayloadBytes) bytes).")))
            return
        }
        writeLine(line)
    }

    func fail(_ meta: InvocationMeta, error: ErrorPayload) async throws {
        write(ErrorFrame(requestId: meta.requestId, error: error))
    }

    func invokeAsync<E: Codable & Sendable>(functionName: String, event: E) async throws {
        writeLine(try FrameCodec.line(InvokeAsyncFrame(functionName: functionName, event: event), encoder: encoder))
    }

    private func write<T: Encodable>(_ frame: T) {
        guard let line = try? FrameCodec.line(frame, encoder: encoder) else { return }
        writeLine(line)
    }

    private func writeLine(_ line: Data) {
        writeLock.withLock { _ in
            let ok = line.withUnsafeBytes { FileDescriptorIO.writeAll(frameFD, $0) }
            // The emulator closed the pipe: nobody can ever read an answer again.
            if !ok { exit(0) }
        }
    }
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
                       invokedFunctionArn: invokedFunctionArn ?? "arn:aws:lambda:us-east-1:123456789012:function:\(functionName)",
                       traceId: traceId)
    }
}
