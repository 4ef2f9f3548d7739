import DocumentStore
import Documents
import Foundation
import LambdaEvents
import PostgresClient
import PostgresStore
import SQLiteStore
import ServiceErrors
import Synchronization
import TestSupport

/// The stores the upload tests run against: each test gets an empty database of its own.
enum Backend: String, CaseIterable, CustomStringConvertible, Sendable {
    case sqlite
    /// The real server `infra/postgres.sh` runs; each test gets a schema of its own (`u_...`).
    case postgres

    var description: String { rawValue }

    static let migrations = TestPaths.packageRoot + "/infra/migrations"

    func freshStore() throws -> any Store {
        switch self {
        case .sqlite:
            let store = try SQLiteStore(path: TestPaths.temporaryDirectory("upload-store") + "/rag.sqlite", migrationsDirectory: Self.migrations)
            try store.migrate()
            return store
        case .postgres:
            let url = try PostgresTestServer.url(schemaPrefix: "u_")
            let store = try PostgresStore(url: url, schema: PostgresTestServer.schemaName(prefix: "u_"), migrationsDirectory: Self.migrations)
            try store.migrate()
            return store
        }
    }
}


/// One API over a fresh store and blob folder, with a recording worker.
final class Harness: Sendable {
    let store: any Store
    let blobRoot: String
    let blobs: FileBlobStore
    let api: DocumentsAPI
    let notified = Mutex<[WorkerRequest]>([])
    let warnings = Mutex<[String]>([])
    let workerFails: Bool

    init(_ backend: Backend = .sqlite, maxUploadBytes: Int = UploadConfiguration.defaultMaxUploadBytes, workerFails: Bool = false,
         blobRoot: String? = nil) throws {
        store = try backend.freshStore()
        self.blobRoot = blobRoot ?? TestPaths.temporaryDirectory("upload-blobs") + "/blobs"
        blobs = FileBlobStore(root: self.blobRoot)
        self.workerFails = workerFails
        api = DocumentsAPI(store: store, blobs: blobs,
                           configuration: UploadConfiguration(databaseURL: "test", blobDirectory: self.blobRoot,
                                                              maxUploadBytes: maxUploadBytes, reembedFunction: "test-reembed"))
    }

    struct WorkerDown: Error {}

    var hooks: RequestHooks {
        RequestHooks(
            notifyWorker: { [self] request in
                if workerFails { throw WorkerDown() }
                notified.withLock { $0.append(request) }
            },
            warn: { [self] message, _ in warnings.withLock { $0.append(message) } })
    }

    /// Runs a route as the handler does: library errors mapped to the documented shape.
    func call(_ route: String, _ request: APIGatewayV2Request) async -> Reply {
        let response: APIGatewayV2Response
        do {
            switch route {
            case "POST /v1/documents": response = try await api.createDocument(request, hooks: hooks)
            case "GET /v1/documents": response = try api.listDocuments(request)
            case "GET /v1/documents/{id}": response = try api.getDocument(request)
            case "GET /v1/documents/{id}/versions": response = try api.listVersions(request)
            case "DELETE /v1/documents/{id}": response = try await api.deleteDocument(request, hooks: hooks)
            case "GET /v1/jobs/{id}": response = try api.getJob(request)
            default: fatalError("unknown route \(route)")
            }
        } catch {
            response = .error(ErrorMapping.apiError(error), requestId: "test")
        }
        return Reply(response)
    }

    // Shorthands.

    func upload(_ form: Form, org: String? = "acme", query: [String: String]? = nil) async -> Reply {
        await call("POST /v1/documents", Request.make("POST", "/v1/documents", org: org, headers: ["content-type": form.contentType],
                                                      query: query, body: form.body()))
    }

    func uploadRaw(_ bytes: [UInt8], contentType: String?, org: String? = "acme", query: [String: String]? = nil,
                   headers: [String: String] = [:]) async -> Reply {
        var h = headers
        if let contentType { h["content-type"] = contentType }
        return await call("POST /v1/documents", Request.make("POST", "/v1/documents", org: org, headers: h, query: query, body: bytes))
    }

    func get(_ route: String, id: String? = nil, org: String? = "acme", query: [String: String]? = nil) async -> Reply {
        let path = route.split(separator: " ").last.map(String.init)!.replacingOccurrences(of: "{id}", with: id ?? "")
        return await call(route, Request.make(String(route.split(separator: " ")[0]), path, org: org, query: query,
                                              pathParameters: id.map { ["id": $0] }))
    }

    /// Files under the blob folder, as paths relative to it (temporary files included).
    func blobFiles() -> [String] {
        let fm = FileManager.default
        guard let orgs = try? fm.contentsOfDirectory(atPath: blobRoot) else { return [] }
        return orgs.flatMap { org in ((try? fm.contentsOfDirectory(atPath: blobRoot + "/" + org)) ?? []).map { org + "/" + $0 } }.sorted()
    }
}

/// A response, decoded for assertions.
struct Reply: Sendable {
    let response: APIGatewayV2Response

    init(_ response: APIGatewayV2Response) { self.response = response }

    var status: Int { response.statusCode }
    var text: String { response.body ?? "" }
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    var errorMessage: String? { (json["error"] as? [String: Any])?["message"] as? String }
    var errorDetails: [String: Any]? { (json["error"] as? [String: Any])?["details"] as? [String: Any] }
    func string(_ key: String) -> String? { json[key] as? String }
    var document: [String: Any] { json["document"] as? [String: Any] ?? [:] }
}

/// Shared with the other suites that call handlers' libraries directly.
typealias Request = TestRequest

/// A `multipart/form-data` body built by hand, as clients send it.
struct Form: Sendable {
    struct Part: Sendable {
        var headers: [String]
        var body: [UInt8]
    }

    var boundary = "----RagFormBoundary7MA4YWxkTrZu0gW"
    var parts: [Part] = []
    /// `\r\n` as RFC 2046 says; `\n` as some hand-made clients send.
    var lineEnding = "\r\n"
    var closed = true
    var quoteBoundary = false

    var contentType: String {
        "multipart/form-data; boundary=" + (quoteBoundary ? "\"\(boundary)\"" : boundary)
    }

    static func file(_ bytes: [UInt8], filename: String? = "notes.txt", contentType: String? = "text/plain",
                     title: String? = nil, metadata: String? = nil) -> Form {
        var f = Form()
        f.addFile(bytes, filename: filename, contentType: contentType)
        if let title { f.addField("title", title) }
        if let metadata { f.addField("metadata", metadata) }
        return f
    }

    static func file(_ text: String, filename: String? = "notes.txt", contentType: String? = "text/plain",
                     title: String? = nil, metadata: String? = nil) -> Form {
        file(Array(text.utf8), filename: filename, contentType: contentType, title: title, metadata: metadata)
    }

    mutating func addFile(_ bytes: [UInt8], name: String = "file", filename: String? = "notes.txt", contentType: String? = "text/plain") {
        var disposition = "Content-Disposition: form-data; name=\"\(name)\""
        if let filename { disposition += "; filename=\"\(filename)\"" }
        var headers = [disposition]
        if let contentType { headers.append("Content-Type: \(contentType)") }
        parts.append(Part(headers: headers, body: bytes))
    }

    mutating func addField(_ name: String, _ value: String) {
        parts.append(Part(headers: ["Content-Disposition: form-data; name=\"\(name)\""], body: Array(value.utf8)))
    }

    func body() -> [UInt8] {
        var out: [UInt8] = []
        let eol = Array(lineEnding.utf8)
        for part in parts {
            out += Array("--\(boundary)".utf8) + eol
            for h in part.headers { out += Array(h.utf8) + eol }
            out += eol
            out += part.body
            out += eol
        }
        if closed { out += Array("--\(boundary)--".utf8) + eol }
        return out
    }
}

enum Bytes {
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8) + [UInt8](repeating: 1, count: 20)

    /// A minimal PDF header and body: enough for the sniffer, which reads the magic bytes.
    static let pdf: [UInt8] = Array("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n".utf8)
        + [0xE2, 0xE3, 0xCF, 0xD3, 0x0D, 0x0A]
}

/// `2026-11-21T19:59:04.123Z`
func isISO8601Millis(_ value: Any?) -> Bool {
    guard let s = value as? String else { return false }
    return s.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression) != nil
}
