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
