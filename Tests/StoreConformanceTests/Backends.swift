import DocumentStore
import Foundation
import JSON
import PostgresClient
import PostgresStore
import SQLiteStore
import TestSupport

/// The stores every conformance test runs against. Each test gets an empty database of its
/// own; `connection()` opens another connection to the same database, as a second handler
/// process would.
enum Backend: String, CaseIterable, CustomStringConvertible, Sendable {
    case sqlite
    /// The real server from the `pgserver` wheel; each test gets a schema of its own.
    case postgres

    var description: String { rawValue }

    static let migrations = TestPaths.packageRoot + "/infra/migrations"

    func fresh() throws -> TestDatabase {
        switch self {
        case .sqlite:
            let path = TestPaths.temporaryDirectory("store") + "/rag.sqlite"
            let db = try TestDatabase { try SQLiteStore(path: path, migrationsDirectory: Self.migrations) }
            try db.store.migrate()
            return db
        case .postgres:
            let url = try PostgresTestServer.url.get()
            let schema = PostgresTestServer.schemaName(prefix: "t_")
            let db = try TestDatabase { try PostgresStore(url: url, schema: schema, migrationsDirectory: Self.migrations) }
            try db.store.migrate()
            return db
        }
    }
}

extension PostgresTestServer {
    /// This target's schemas are `t_` + 16 hex characters.
    static var url: Result<String, Unavailable> { Result { () throws(Unavailable) in try url(schemaPrefix: "t_") } }
}

/// One empty, migrated database and a way to open more connections to it.
final class TestDatabase: Sendable {
    let store: any Store
    let open: @Sendable () throws -> any Store

    init(open: @escaping @Sendable () throws -> any Store) rethrows {
        self.open = open
        store = try open()
    }

    func connection() throws -> any Store { try open() }
}

/// Fixtures shared by the tests.
enum Fixture {
    static func sha(_ s: String) -> String {
        // Not cryptographic, only distinct and stable: the stores treat it as an opaque key.
        var h: UInt64 = 1469598103934665603
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        return String(h, radix: 16) + String(s.utf8.count)
    }

    static func document(org: OrgID, content: String, metadata: JSONObject = [:], title: String? = nil) -> NewDocument {
        NewDocument(orgId: org, title: title ?? "Doc \(content.prefix(20))", filename: "doc.txt", mimeType: "text/plain",
                    bytes: content.utf8.count, sha256: sha(content), blobURI: "file:///blobs/\(sha(content))", metadata: metadata)
    }

    static func version(_ documentId: String, model: String = "test-model", dim: Int = 4, chunker: String = "c1") -> NewVersion {
        NewVersion(documentId: documentId, embedModel: model, dim: dim, chunkSize: 256, chunkOverlap: 32,
                   chunkerVersion: chunker, sourceSha256: "src")
    }

    static func chunk(_ i: Int, _ text: String, _ vector: [Float]) -> NewChunk {
        NewChunk(index: i, content: text, contentSha256: sha(text), tokenCount: text.split(separator: " ").count,
                 charStart: i * 100, charEnd: i * 100 + text.count, vector: vector)
    }

    /// Creates a document with one ready version holding `chunks` (text, vector).
    @discardableResult
    static func readyDocument(_ store: any Store, org: OrgID, content: String, chunks: [(String, [Float])],
                              model: String = "test-model", metadata: JSONObject = [:]) throws -> (Document, DocVersion) {
        let (doc, _, _) = try store.createDocument(document(org: org, content: content, metadata: metadata), job: nil)
        let v = try store.createVersion(org: org, version(doc.id, model: model, dim: chunks.first?.1.count ?? 4))
        try store.insertChunks(org: org, versionId: v.id, chunks.enumerated().map { chunk($0.offset, $0.element.0, $0.element.1) })
        let ready = try store.publishVersion(org: org, id: v.id)
        return (try store.document(org: org, id: doc.id)!, ready)
    }

    static func randomVector(_ dim: Int, using rng: inout some RandomNumberGenerator) -> [Float] {
        (0..<dim).map { _ in Float.random(in: -1...1, using: &rng) }
    }
}


/// A seeded generator so failures reproduce.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}
