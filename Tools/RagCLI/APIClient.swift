import Foundation
import HTTPClient
import JSON

/// The HTTP API as the CLI sees it: a base URL, a bearer token, JSON in and out, and the
/// documented error shape turned into one readable line.
struct APIClient: Sendable {
    let base: String
    let token: String
    let http: HTTPClient

    struct Failure: Error, CustomStringConvertible {
        var status: Int
        var description: String
    }

    /// `--token`, else `$RAG_TOKEN`, else (a local emulator) a development token for `--org`.
    static func connect(url: String, token: String?, org: String?) async throws -> APIClient {
        let http = try HTTPClient()
        let base = url.hasSuffix("/") ? String(url.dropLast()) : url
        if let token = token ?? ProcessInfo.processInfo.environment["RAG_TOKEN"], !token.isEmpty {
            return APIClient(base: base, token: token, http: http)
        }
        guard let org else {
            throw Failure(status: 0, description: "no token: pass --token (or set RAG_TOKEN), or --org ORG for a local emulator's development token")
        }
        let q = org.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? org
        let r = try await http.send(method: "GET", url: "\(base)/__emulator/token?org=\(q)", timeout: .seconds(30))
        guard r.status == 200, let value = try? JSONValue.parse(Array(r.body)), let t = value["token"]?.stringValue else {
            throw Failure(status: r.status, description: "\(base) gave no development token for --org (\(Self.message(r))); is it an emulator on this machine?")
        }
        return APIClient(base: base, token: t, http: http)
    }

    var authorization: String { "Authorization: Bearer \(token)" }

    func get(_ path: String) async throws -> JSONValue {
        try Self.decode(try await http.send(method: "GET", url: base + path, headers: [authorization], timeout: .seconds(60)))
    }

    func post(_ path: String, json: JSONValue) async throws -> JSONValue {
        let body = try json.encoded()
        return try Self.decode(try await http.send(method: "POST", url: base + path, headers: [authorization, "Content-Type: application/json"],
                                                   body: body, timeout: .seconds(120)))
    }

    /// A raw-body upload; returns the status too (200 means the org already had the bytes).
    func upload(_ bytes: Data, filename: String, contentType: String) async throws -> (status: Int, body: JSONValue) {
        let name = filename.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? "document"
        let r = try await http.send(method: "POST", url: "\(base)/v1/documents?filename=\(name)",
                                    headers: [authorization, "Content-Type: \(contentType)"], body: bytes, timeout: .seconds(120))
        return (r.status, try Self.decode(r))
    }

    static func decode(_ r: HTTPClient.Response) throws -> JSONValue {
        guard (200..<300).contains(r.status) else { throw Failure(status: r.status, description: message(r)) }
        guard let value = try? JSONValue.parse(Array(r.body)) else {
            throw Failure(status: r.status, description: "the answer is not JSON: \(String(decoding: r.body.prefix(200), as: UTF8.self))")
        }
        return value
    }

    /// `{"error":{"code","message"}}` as `code: message (HTTP n)`.
    static func message(_ r: HTTPClient.Response) -> String {
        if let value = try? JSONValue.parse(Array(r.body)), let e = value["error"],
           let code = e["code"]?.stringValue, let message = e["message"]?.stringValue {
            return "\(code): \(message) (HTTP \(r.status))"
        }
        return "HTTP \(r.status): \(String(decoding: r.body.prefix(200), as: UTF8.self))"
    }
}
