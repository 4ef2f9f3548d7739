#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CCurl
import Dispatch
import Synchronization

/// Why a request got no HTTP response at all. A response with any status is not an error here:
/// callers decide what 4xx/5xx mean.
package enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// libcurl is not installed (it is loaded lazily, see CCurl/shim.h).
    case libraryMissing
    /// No answer within the request's timeout.
    case timedOut(url: String)
    /// DNS, refused or reset connections, TLS failures.
    case connectionFailed(url: String, reason: String)

    package var description: String {
        switch self {
        case .libraryMissing: "libcurl.so.4 cannot be loaded; install libcurl (Debian libcurl4, Amazon Linux 2023 ships it)"
        case .timedOut(let url): "\(url): no response before the timeout"
        case .connectionFailed(let url, let reason): "\(url): \(reason)"
        }
    }
}

/// A minimal blocking HTTP client over one libcurl easy handle (keep-alive, no timeout unless
/// asked). Not thread-safe by itself: its owner confines it to one thread at a time (a serial
/// queue, or `HTTPClient`'s pool).
package final class CurlHTTPClient: @unchecked Sendable {
    /// A valid pointer for empty bodies: libcurl reads zero bytes from it.
    nonisolated(unsafe) static let empty = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1))

    package struct Response: Sendable {
        package var status: Int
        /// Lower-cased names.
        package var headers: [String: String]
        package var body: Data

        package init(status: Int, headers: [String: String], body: Data) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    private let handle: UnsafeMutableRawPointer

    package init() throws {
        guard CurlLibrary.loaded else { throw HTTPClientError.libraryMissing }
        guard let h = ccurl_easy_init() else { throw HTTPClientError.libraryMissing }
        handle = h
    }

    deinit { ccurl_easy_cleanup(handle) }

    /// - Parameter timeoutMs: 0 waits forever (the Runtime API's `/next` long-poll).
    /// - Parameter stream: a body sent as it is written (chunked), instead of `body`; its
    ///   trailers go after the last chunk.
    /// - Parameter receiver: takes a 2xx response's head and then its body as it arrives,
    ///   instead of collecting it (an error status's body is still collected); its `body`
    ///   returning false aborts the transfer.
    package func send(method: String, url: String, body: Data? = nil, headers: [String] = [], timeoutMs: Int = 0,
                      stream: StreamingUploadBody? = nil, receiver: StreamingDownload? = nil) throws -> Response {
        final class Sink {
            var body = Data()
            var headers: [String: String] = [:]
            var status = 0
            var headDelivered = false
            var receiver: StreamingDownload?
        }
        let sink = Sink()
        sink.receiver = receiver
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()

        var list: UnsafeMutablePointer<curl_slist>? = nil
        // An empty `Expect:` stops libcurl waiting for `100 Continue` before large bodies.
        for h in headers + ["Expect:"] { list = ccurl_slist_append(list, h) }
        defer { ccurl_slist_free_all(list) }

        ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutMs)
        ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, 10_000)
        ccurl_setopt_ptr(handle, CURLOPT_HTTPHEADER, list)
        ccurl_setopt_write(handle) { ptr, size, count, user in
            let n = size * count
            guard let ptr, let user else { return n }
            let sink = Unmanaged<Sink>.fromOpaque(user).takeUnretainedValue()
            if let receiver = sink.receiver, (200..<300).contains(sink.status) {
                if !sink.headDelivered {
                    sink.headDelivered = true
                    receiver.head(sink.status, sink.headers)
                }
                let ok = receiver.body(UnsafeRawBufferPointer(start: ptr, count: n))
                return ok ? n : 0  // 0 makes libcurl stop with a write error
            }
            ptr.withMemoryRebound(to: UInt8.self, capacity: n) { sink.body.append($0, count: n) }
            return n
        }
        ccurl_setopt_ptr(handle, CURLOPT_WRITEDATA, sinkPointer)
        ccurl_setopt_header(handle) { ptr, size, count, user in
            let n = size * count
            guard let ptr, let user else { return n }
            let sink = Unmanaged<Sink>.fromOpaque(user).takeUnretainedValue()
            let line = ptr.withMemoryRebound(to: UInt8.self, capacity: n) {
                String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self)
            }
            if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].lowercased()
                let value = String(line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
                    .reversed().drop(while: \.isWhitespace).reversed())  // "\r\n" is one Character: `== "\r"` misses it
                sink.headers[name] = value
            } else if line.hasPrefix("HTTP/") {
                sink.headers.removeAll()  // a new response (after a redirect or 100)
                sink.status = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            }
            return n
        }
        ccurl_setopt_ptr(handle, CURLOPT_HEADERDATA, sinkPointer)

        let result: CURLcode = url.withCString { cURL in
            ccurl_setopt_ptr(handle, CURLOPT_URL, cURL)
            if method == "GET" {
                ccurl_setopt_long(handle, CURLOPT_HTTPGET, 1)
                ccurl_setopt_ptr(handle, CURLOPT_CUSTOMREQUEST, nil)
                return ccurl_easy_perform(handle)
            }
            if let stream {
                let streamPointer = Unmanaged.passUnretained(stream).toOpaque()
                ccurl_setopt_long(handle, CURLOPT_POST, 1)
                ccurl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, -1)
                ccurl_setopt_read(handle) { buffer, size, count, user in
                    guard let buffer, let user else { return 0 }
                    return Unmanaged<StreamingUploadBody>.fromOpaque(user).takeUnretainedValue().read(into: buffer, capacity: size * count)
                }
                ccurl_setopt_ptr(handle, CURLOPT_READDATA, streamPointer)
                ccurl_setopt_trailer(handle) { list, user in
                    guard let list, let user else { return 0 }  // CURL_TRAILERFUNC_OK
                    for line in Unmanaged<StreamingUploadBody>.fromOpaque(user).takeUnretainedValue().trailerLines {
                        list.pointee = ccurl_slist_append(list.pointee, line)
                    }
                    return 0
                }
                ccurl_setopt_ptr(handle, CURLOPT_TRAILERDATA, streamPointer)
                defer {
                    ccurl_setopt_read(handle, nil)
                    ccurl_setopt_trailer(handle, nil)
                    ccurl_setopt_ptr(handle, CURLOPT_READDATA, nil)
                    ccurl_setopt_ptr(handle, CURLOPT_TRAILERDATA, nil)
                }
                return ccurl_easy_perform(handle)
            }
            let payload = body ?? Data()
            return payload.withUnsafeBytes { raw in
                ccurl_setopt_long(handle, CURLOPT_POST, 1)
                ccurl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, raw.count)
                ccurl_setopt_ptr(handle, CURLOPT_POSTFIELDS, raw.baseAddress ?? CurlHTTPClient.empty)
                return method == "POST"
                    ? ccurl_easy_perform(handle)
                    : method.withCString { m in
                        ccurl_setopt_ptr(handle, CURLOPT_CUSTOMREQUEST, m)
                        return ccurl_easy_perform(handle)
                    }
            }
        }
        // Never leave pointers into freed memory in the handle between calls.
        ccurl_setopt_ptr(handle, CURLOPT_POSTFIELDS, nil)
        ccurl_setopt_ptr(handle, CURLOPT_HTTPHEADER, nil)
        ccurl_setopt_ptr(handle, CURLOPT_CUSTOMREQUEST, nil)
        guard result == CURLE_OK else {
            if result == CURLE_OPERATION_TIMEDOUT { throw HTTPClientError.timedOut(url: url) }
            throw HTTPClientError.connectionFailed(url: url, reason: String(cString: ccurl_easy_strerror(result)))
        }
        var status = 0
        ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return Response(status: status, headers: sink.headers, body: sink.body)
    }
}

/// Receives a 2xx response as it arrives (`CurlHTTPClient.send(receiver:)`), on the thread
/// running the request: the status and headers once, then each piece of the body.
package final class StreamingDownload: @unchecked Sendable {
    let head: (Int, [String: String]) -> Void
    let body: (UnsafeRawBufferPointer) -> Bool

    /// - Parameter body: false stops the transfer.
    package init(head: @escaping (Int, [String: String]) -> Void, body: @escaping (UnsafeRawBufferPointer) -> Bool) {
        self.head = head
        self.body = body
    }
}

/// A request body written while the request is in flight: libcurl's read callback, on the
/// thread running the request, takes each piece as it is written (and sends it as one chunk of
/// a chunked body), waiting when there is none yet. `finish` ends it, with trailers if given.
package final class StreamingUploadBody: @unchecked Sendable {
    private struct Queue {
        var pieces: [[UInt8]] = []
        var ended = false
        var trailers: [String] = []
    }
    private let queue = Mutex(Queue())
    private let available = DispatchSemaphore(value: 0)
    /// Only the read callback's thread touches these.
    private var current: [UInt8] = []
    private var offset = 0

    package init() {}

    package func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        queue.withLock { $0.pieces.append(bytes) }
        available.signal()
    }

    /// - Parameter trailers: `Name: value` lines sent after the last chunk.
    package func finish(trailers: [String] = []) {
        queue.withLock { q in
            q.ended = true
            q.trailers = trailers
        }
        available.signal()
    }

    var trailerLines: [String] { queue.withLock { $0.trailers } }

    /// libcurl's read callback: copies what is pending, blocking until something is; 0 ends the body.
    func read(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        while true {
            if offset < current.count {
                let n = min(capacity, current.count - offset)
                current.withUnsafeBytes { raw in
                    UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress! + offset, byteCount: n)
                }
                offset += n
                return n
            }
            enum Next { case piece([UInt8]), end, wait }
            let next: Next = queue.withLock { q in
                if !q.pieces.isEmpty { return .piece(q.pieces.removeFirst()) }
                return q.ended ? .end : .wait
            }
            switch next {
            case .piece(let p):
                current = p
                offset = 0
            case .end:
                return 0
            case .wait:
                available.wait()
            }
        }
    }
}

/// `ccurl_load` must run once, from one thread, before any other libcurl call.
enum CurlLibrary {
    static let loaded: Bool = ccurl_load() != 0
}
