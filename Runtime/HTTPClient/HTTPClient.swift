import Foundation
import Synchronization

/// An async HTTP client for calling other services (embedding and LLM APIs, the Lambda Invoke
/// API). libcurl blocks, so each request runs on a thread of its own, on an idle keep-alive
/// handle from a small pool. Not a Dispatch global queue: on Linux those share a thread per core
/// with the Swift concurrency executor, and requests waiting in libcurl starved every other task
/// in the process (timers, the Runtime API loop, in-process servers in tests).
package final class HTTPClient: Sendable {
    package typealias Response = CurlHTTPClient.Response

    private let idle = Mutex<[CurlHTTPClient]>([])
    private let maxIdle: Int

    package init(maxIdleConnections: Int = 8) throws {
        guard CurlLibrary.loaded else { throw HTTPClientError.libraryMissing }
        maxIdle = maxIdleConnections
    }

    /// - Parameter timeout: for the whole exchange; `nil` waits as long as it takes.
    package func send(method: String, url: String, headers: [String] = [], body: Data? = nil,
                     timeout: Duration? = nil) async throws -> Response {
        let ms = timeout.map { max(1, Int($0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000)) } ?? 0
        let handle = try checkOut()
        return try await withCheckedThrowingContinuation { cont in
            let thread = Thread {
                let result = Result { try handle.send(method: method, url: url, body: body, headers: headers, timeoutMs: ms) }
                self.checkIn(handle, reusable: (try? result.get()) != nil)
                cont.resume(with: result)
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// A response whose body is read as it arrives (server-sent events from an LLM API).
    package struct StreamedResponse: Sendable {
        package var status: Int
        /// Lower-cased names.
        package var headers: [String: String]
        /// A 2xx body, piece by piece; empty for an error status, whose body is in `errorBody`.
        package var body: AsyncThrowingStream<[UInt8], any Error>
        package var errorBody: Data
        /// Stops the transfer (the body then ends with an error).
        package let cancel: @Sendable () -> Void
    }

    /// Sends a request and returns once the response's head has arrived; the body follows in
    /// `body`. `timeout` bounds the whole exchange, body included.
    package func openStream(method: String, url: String, headers: [String] = [], body: Data? = nil,
                            timeout: Duration? = nil) async throws -> StreamedResponse {
        let ms = timeout.map { max(1, Int($0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000)) } ?? 0
        let handle = try checkOut()
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        let stopped = Mutex(false)
        let cancel: @Sendable () -> Void = { stopped.withLock { $0 = true } }
        continuation.onTermination = { _ in cancel() }
        return try await withCheckedThrowingContinuation { (opened: CheckedContinuation<StreamedResponse, any Error>) in
            let resumed = Mutex(false)
            let receiver = StreamingDownload(head: { status, headers in
                resumed.withLock { $0 = true }
                opened.resume(returning: StreamedResponse(status: status, headers: headers, body: stream, errorBody: Data(), cancel: cancel))
            }, body: { bytes in
                guard !stopped.withLock({ $0 }) else { return false }
                continuation.yield(Array(bytes))
                return true
            })
            let thread = Thread {
                let result = Result { try handle.send(method: method, url: url, body: body, headers: headers, timeoutMs: ms, receiver: receiver) }
                self.checkIn(handle, reusable: (try? result.get()) != nil)
                let headSent = resumed.withLock { $0 }
                switch result {
                case .success(let r):
                    if headSent {
                        continuation.finish()
                    } else {
                        // An error status (or a 2xx without a body): everything is here already.
                        continuation.finish()
                        opened.resume(returning: StreamedResponse(status: r.status, headers: r.headers, body: stream,
                                                                  errorBody: r.body, cancel: cancel))
                    }
                case .failure(let error):
                    continuation.finish(throwing: error)
                    if !headSent { opened.resume(throwing: error) }
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func checkOut() throws -> CurlHTTPClient {
        if let h = idle.withLock({ $0.popLast() }) { return h }
        return try CurlHTTPClient()
    }

    /// A handle that failed mid-exchange may hold a broken connection: let it go.
    private func checkIn(_ handle: CurlHTTPClient, reusable: Bool) {
        guard reusable else { return }
        idle.withLock { if $0.count < maxIdle { $0.append(handle) } }
    }
}
