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
        switch FrameCodec.decodeInvoke(bytes, as: E.self, decoder: decoder) {
        case .invocation(let meta, let event): return Invocation(meta: meta, event: event)
        case .refused(let answer):
            write(answer)
            return nil
        }
    }

    func respond<P: Encodable & Sendable>(_ meta: InvocationMeta, payload: P) async throws {
        let line = try FrameCodec.responseLine(requestId: meta.requestId, payload: payload, encoder: encoder)
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
        writeLine(Array(try FrameCodec.line(InvokeAsyncFrame(functionName: functionName, event: event), encoder: encoder)))
    }

    private func write<T: Encodable>(_ frame: T) {
        guard let line = try? FrameCodec.line(frame, encoder: encoder) else { return }
        writeLine(Array(line))
    }

    private func writeLine(_ line: [UInt8]) {
        writeLock.withLock { _ in
            let ok = line.withUnsafeBytes { FileDescriptorIO.writeAll(frameFD, $0) }
            // The emulator closed the pipe: nobody can ever read an answer again.
            if !ok { exit(0) }
        }
    }
}
