import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An HTTP reply as the emulator tests look at it.
package struct TestHTTPReply: Sendable {
    package var status: Int
    package var body: Data
    /// Lower-cased names.
    package var headers: [String: String]

    package var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    package var text: String { String(decoding: body, as: UTF8.self) }
    /// The documented error code (docs/ARCHITECTURE.md, section 4), when the body is the error shape.
    package var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
}

/// Requests to a local server on `port`. One session per client: corelibs URLSession state has
/// been seen to leak between tests after multi-megabyte bodies (spurious
/// NSURLErrorDataLengthExceedsMaximum).
package final class TestHTTPClient: Sendable {
    package let port: Int
    let session: URLSession

    package init(port: Int) {
        self.port = port
        let c = URLSessionConfiguration.ephemeral
        c.timeoutIntervalForRequest = 60
        c.httpMaximumConnectionsPerHost = 64
        session = URLSession(configuration: c)
    }

    package func request(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> TestHTTPReply {
        var r = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        r.httpMethod = method
        r.httpBody = body
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await session.data(for: r)
        guard let http = response as? HTTPURLResponse else { throw URLError(.badServerResponse) }
        var h: [String: String] = [:]
        for (k, v) in http.allHeaderFields { h["\(k)".lowercased()] = "\(v)" }
        return TestHTTPReply(status: http.statusCode, body: data, headers: h)
    }
}
