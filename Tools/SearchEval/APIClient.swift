import Foundation
import HTTPClient

/// The bundle's HTTP API as the harness uses it: uploads, document status, search. Every call
/// retries what a busy emulator or a cold process answers (429 with `Retry-After`, 502/503/504,
/// a refused connection) a few times with backoff; anything else that is not 2xx is an error
/// naming the call, the status and the API's message.
struct APIClient: Sendable {
    let baseURL: String
    let token: String
    let http: HTTPClient
    var attempts = 6

    struct CallError: Error, CustomStringConvertible {
        let description: String
    }

    init(baseURL: String, token: String) throws {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        http = try HTTPClient(maxIdleConnections: 16)
    }

    /// Uploads one corpus document (its text as a plain-text file, its title as the title, its
    /// corpus id in the metadata): the API's document id. The same text twice in one org is
    /// one document (the API deduplicates by content), so two corpus ids can share an id.
    func upload(_ doc: EvaluationDocumentUpload) async throws -> String {
        let boundary = "----search-eval-\(UUID().uuidString)"
        var body = Data()
        func add(_ s: String) { body.append(Data(s.utf8)) }
        let safeName = doc.id.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }
        add("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(String(safeName)).txt\"\r\nContent-Type: text/plain\r\n\r\n")
        add(doc.body)
        add("\r\n")
        if !doc.title.isEmpty {
            add("--\(boundary)\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n\(doc.title)\r\n")
        }
        let metadata = try JSONSerialization.data(withJSONObject: ["corpus_id": doc.id])
        add("--\(boundary)\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n")
        body.append(metadata)
        add("\r\n--\(boundary)--\r\n")
        let r = try await call("POST", "/v1/documents", body: body, contentType: "multipart/form-data; boundary=\(boundary)",
                               what: "upload of `\(doc.id)`")
        guard let id = r["document_id"] as? String else { throw CallError(description: "upload of `\(doc.id)`: no document_id in \(r)") }
        return id
    }

    /// The org's document count per status, in one request (`GET /v1/documents?counts=true`).
    func documentCounts() async throws -> [String: Int] {
        let r = try await call("GET", "/v1/documents?limit=1&counts=true", what: "document counts")
        guard let counts = r["counts"] as? [String: Any] else { throw CallError(description: "document counts: no counts in \(r)") }
        return counts.compactMapValues { ($0 as? NSNumber)?.intValue }
    }

    /// Ids of the org's documents in `status`, every page.
    func documentIds(status: String) async throws -> [String] {
        var ids: [String] = []
        var cursor: String?
        repeat {
            let page = try await call("GET", "/v1/documents?status=\(status)&limit=100" + (cursor.map { "&cursor=\($0)" } ?? ""),
                                      what: "\(status) documents")
            ids += (page["documents"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            cursor = page["next_cursor"] as? String
        } while cursor != nil
        return ids
    }

    /// Why a failed document failed: its newest version's error.
    func failure(of id: String) async throws -> String? {
        let versions = try await call("GET", "/v1/documents/\(id)/versions", what: "versions of \(id)")["versions"] as? [[String: Any]]
        return versions?.compactMap { $0["error"] as? String }.first
    }

    /// Document ids best first (`group_by: document`, as BEIR judges documents).
    func search(_ body: [String: Any]) async throws -> [String] {
        let data = try JSONSerialization.data(withJSONObject: body)
        let r = try await call("POST", "/v1/search", body: data, contentType: "application/json", what: "search")
        guard let results = r["results"] as? [[String: Any]] else { throw CallError(description: "search: no results in \(r)") }
        return results.compactMap { $0["document_id"] as? String }
    }

    func call(_ method: String, _ path: String, body: Data? = nil, contentType: String? = nil, what: String) async throws -> [String: Any] {
        var headers = ["Authorization: Bearer \(token)"]
        if let contentType { headers.append("Content-Type: \(contentType)") }
        var delay = 0.25
        for attempt in 1...attempts {
            let last = attempt == attempts
            let response: HTTPClient.Response
            do {
                response = try await http.send(method: method, url: baseURL + path, headers: headers, body: body, timeout: .seconds(60))
            } catch {
                if last { throw CallError(description: "\(what): \(error) (after \(attempts) attempts)") }
                try await Task.sleep(for: .seconds(delay))
                delay *= 2
                continue
            }
            let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:]
            switch response.status {
            case 200..<300:
                return object
            case 429, 502, 503, 504 where !last:
                let retryAfter = response.headers["retry-after"].flatMap(Double.init) ?? delay
                try await Task.sleep(for: .seconds(min(30, max(retryAfter, delay))))
                delay *= 2
            default:
                let error = object["error"] as? [String: Any]
                let message = error?["message"] as? String ?? String(decoding: response.body.prefix(300), as: UTF8.self)
                throw CallError(description: "\(what): HTTP \(response.status) \(error?["code"] as? String ?? ""): \(message)")
            }
        }
        throw CallError(description: "\(what): no answer after \(attempts) attempts")
    }
}

/// What is uploaded for one corpus document.
struct EvaluationDocumentUpload: Sendable {
    var id: String
    var title: String
    /// The text, or the title when a corpus entry has no text (an empty file is refused).
    var body: String
}
