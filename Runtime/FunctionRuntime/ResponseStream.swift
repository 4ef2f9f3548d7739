#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import FunctionProtocol
import Synchronization

/// Where a streamed answer's bytes go: the stdio protocol's frames, or the Lambda Runtime API's
/// chunked `/response` in streaming mode. The runtime's, not the handler's.
protocol StreamSink: Sendable {
    /// Hands the bytes to the transport (a pipe write, a queued chunk): synchronous, so a
    /// delta costs no task hop; the stream calls it under its lock, which keeps writes in order.
    func write(_ bytes: [UInt8]) throws
    func finish() async throws
    func fail(_ error: ErrorPayload) async throws
}

/// Why a write to a `ResponseStream` was refused.
public enum ResponseStreamError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The client went away (the emulator's `cancel`): stop producing, there is nobody to read it.
    case clientDisconnected
    /// `finish()` or `fail(_:)` already ended the stream.
    case ended
    /// Over Lambda's 200 MB limit for a streamed response.
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case .clientDisconnected: "the client disconnected"
        case .ended: "the response stream has already ended"
        case .tooLarge(let limit): "the streamed response exceeds Lambda's \(limit)-byte limit"
        }
    }
}

/// A response sent in pieces as the handler writes them (Lambda response streaming). Handlers
/// get one from `InvocationContext.startResponseStream(_:)`; the same code streams under the
/// emulator's stdio protocol and under the Lambda Runtime API.
///
/// Writes are ordered and each is on its way before `write` returns. After the client
/// disconnects (which only the emulator can tell; on AWS the invocation simply runs on),
/// `isCancelled` is true, the `onCancel` handlers have run, and writes throw
/// `ResponseStreamError.clientDisconnected`, so a handler that calls an LLM stops calling it.
public final class ResponseStream: Sendable {
    private struct State {
        var ended = false
        var cancelled = false
        var bytes = 0
        var onCancel: [@Sendable () -> Void] = []
    }

    private let sink: any StreamSink
    private let state = Mutex(State())

    init(sink: any StreamSink) { self.sink = sink }

    public var isCancelled: Bool { state.withLock { $0.cancelled } }
    public var isEnded: Bool { state.withLock { $0.ended } }
    /// Bytes written so far.
    public var bytesWritten: Int { state.withLock { $0.bytes } }

    /// Runs `handler` when the client disconnects (at once if it already has).
    public func onCancel(_ handler: @escaping @Sendable () -> Void) {
        let now = state.withLock { s -> Bool in
            if s.cancelled { return true }
            s.onCancel.append(handler)
            return false
        }
        if now { handler() }
    }

    /// Called by the transport when the emulator says the client went away.
    func cancel() {
        let handlers = state.withLock { s -> [@Sendable () -> Void] in
            guard !s.cancelled else { return [] }
            s.cancelled = true
            defer { s.onCancel = [] }
            return s.onCancel
        }
        for h in handlers { h() }
    }

    public func write(_ text: String) async throws { try await write(Array(text.utf8)) }

    public func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        // Checked and handed over under one lock: concurrent writers cannot interleave, and
        // nothing is written after the end.
        try state.withLock { s in
            if s.cancelled { throw ResponseStreamError.clientDisconnected }
            if s.ended { throw ResponseStreamError.ended }
            if s.bytes + bytes.count > FrameLimits.maxStreamedBytes { throw ResponseStreamError.tooLarge(limit: FrameLimits.maxStreamedBytes) }
            s.bytes += bytes.count
            try sink.write(bytes)
        }
    }

    /// Ends the stream normally. Ending an ended stream does nothing.
    public func finish() async throws {
        guard state.withLock({ s in defer { s.ended = true }; return !s.ended }) else { return }
        try await sink.finish()
    }

    /// Ends the stream with an error after something was sent (Lambda's error trailers; the
    /// emulator's `streamError`): the client sees the body end early.
    public func fail(_ error: ErrorPayload) async throws {
        guard state.withLock({ s in defer { s.ended = true }; return !s.ended }) else { return }
        try await sink.fail(error)
    }
}

/// Where a handler's `startResponseStream` goes: the transport and this invocation. Holds the
/// stream once started, for the runtime to end it after the handler returns.
final class StreamStarter: Sendable {
    private let start: @Sendable (StreamPrelude, ResponseStream.Box) async throws -> any StreamSink
    private let started = Mutex<ResponseStream?>(nil)

    init(start: @escaping @Sendable (StreamPrelude, ResponseStream.Box) async throws -> any StreamSink) { self.start = start }

    var stream: ResponseStream? { started.withLock { $0 } }

    func begin(_ prelude: StreamPrelude) async throws -> ResponseStream {
        let box = ResponseStream.Box()
        guard started.withLock({ $0 == nil }) else { throw ResponseStreamError.ended }
        let sink = try await start(prelude, box)
        let stream = ResponseStream(sink: sink)
        box.set(stream)
        try started.withLock { s in
            guard s == nil else { throw ResponseStreamError.ended }
            s = stream
        }
        return stream
    }
}

extension ResponseStream {
    /// Lets a transport reach the stream it is carrying (to cancel it) before the stream exists.
    final class Box: Sendable {
        /// The stream once it exists, and whether a cancel came before it did.
        private let state = Mutex<(stream: ResponseStream?, cancelled: Bool)>((nil, false))

        func set(_ s: ResponseStream) {
            let early = state.withLock { st -> Bool in
                st.stream = s
                return st.cancelled
            }
            if early { s.cancel() }
        }

        func cancel() {
            let s = state.withLock { st -> ResponseStream? in
                st.cancelled = true
                return st.stream
            }
            s?.cancel()
        }
    }
}
