#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import CStdio
import Dispatch
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

    /// While a stream is out, stdin is read by a watcher thread, so a `cancel` frame reaches the
    /// handler at once. The watcher reads until a line that is not a cancel (the next invoke, or
    /// EOF), which it leaves here for `next()`: one reader of stdin at any time.
    private struct Watch {
        var threadRunning = false
        var streamRequestId: String?
        var cancel: ResponseStream.Box?
        var handedOver: LineReader.Result?
    }
    private let watch = Mutex(Watch())
    private let handedOver = DispatchSemaphore(value: 0)

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
            let result = readLine()
            if case .line(let bytes) = result, FrameCodec.cancelRequestId(bytes) != nil {
                continue  // a cancel for a stream that has already ended
            }
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

    /// The next line of stdin: from the watcher when one is (or was) reading, else read here.
    private func readLine() -> LineReader.Result {
        // Set only by `startWatching`, on this thread's invocation: read without the lock first.
        guard watcherMayRun, watch.withLock({ $0.threadRunning }) else { return reader.next() }
        handedOver.wait()
        return watch.withLock { w in
            defer { w.handedOver = nil; w.threadRunning = false }
            return w.handedOver ?? .eof
        }
    }

    /// Whether a stream was ever started: until then, `readLine` skips the watcher's lock.
    private let streamedOnce = Atomic<Bool>(false)
    private var watcherMayRun: Bool { streamedOnce.load(ordering: .acquiring) }

    private func startWatching(requestId: String, cancel: ResponseStream.Box) {
        streamedOnce.store(true, ordering: .releasing)
        let spawn = watch.withLock { w -> Bool in
            w.streamRequestId = requestId
            w.cancel = cancel
            defer { w.threadRunning = true }
            return !w.threadRunning
        }
        guard spawn else { return }
        // A queue of its own: the read blocks until the emulator writes a line.
        DispatchQueue(label: "function-runtime.stdin-watch").async { [self] in
            while true {
                let r = reader.next()
                if case .line(let bytes) = r, let id = FrameCodec.cancelRequestId(bytes) {
                    watch.withLock { $0.streamRequestId == id ? $0.cancel : nil }?.cancel()
                    continue
                }
                watch.withLock { $0.handedOver = r }
                handedOver.signal()
                return
            }
        }
    }

    private func stopWatching(requestId: String) {
        watch.withLock { w in
            guard w.streamRequestId == requestId else { return }
            w.streamRequestId = nil
            w.cancel = nil
        }
    }

    func startStream(_ meta: InvocationMeta, prelude: StreamPrelude, cancel: ResponseStream.Box) async throws -> any StreamSink {
        startWatching(requestId: meta.requestId, cancel: cancel)
        writeLine(StreamStartFrame(requestId: meta.requestId, prelude: prelude).json.jsonBytes() + [0x0A])
        return Sink(transport: self, requestId: meta.requestId)
    }

    private struct Sink: StreamSink {
        let transport: StdioTransport
        let requestId: String

        func write(_ bytes: [UInt8]) throws {
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + FrameLimits.maxChunkBytes)
                transport.writeLine(StreamChunkFrame(requestId: requestId, data: Array(bytes[offset..<end])).json.jsonBytes() + [0x0A])
                offset = end
            }
        }

        func finish() async throws {
            transport.stopWatching(requestId: requestId)
            transport.write(StreamEndFrame(requestId: requestId))
        }

        func fail(_ error: ErrorPayload) async throws {
            transport.stopWatching(requestId: requestId)
            transport.write(StreamErrorFrame(requestId: requestId, error: error))
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
