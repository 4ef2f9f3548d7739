import Foundation
import JSON
import TestSupport
import Testing
@testable import EmulatorCore

/// The shared query cache through the emulator: `search` embeds a query, then `generate` (another
/// function, another process) asks the same and finds the vector in the shared level, on SQLite,
/// on Postgres and in Redis. Read off the functions' own metric records.
@Suite(.serialized) struct SharedQueryCacheTests {
    enum Level: String, CaseIterable { case sqlite, postgres, redis }

    func environment(_ level: Level) throws -> [String: String] {
        switch level {
        case .sqlite: [:]
        case .postgres: try EmulatorStore.postgresEnvironment(schemaPrefix: "qe_")
        case .redis: ["REDIS_URL": try RedisTestServer.url()]
        }
    }

    /// The invocation records of one function in the emulator's state.
    func records(_ emu: BundleEmulator, route: String) async throws -> [EMFRecord] {
        let state = try await emu.request("GET", "/__emulator/state")
        return try ((state.json["recent"] as? [[String: Any]]) ?? []).flatMap { inv -> [EMFRecord] in
            try ((inv["logs"] as? [String]) ?? []).filter(EMFRecord.looksLikeEMF).map { try EMFRecord.parse($0) }
        }.filter { $0.dimension("route") == route && $0.metric("Invocations") == 1 }
    }

    @Test(arguments: Level.allCases)
    func aQueryEmbeddedByOneFunctionIsFoundByAnother(_ level: Level) async throws {
        let emu = try await BundleEmulator.start(prefix: "shared-cache-\(level.rawValue)", environment: try environment(level))
        defer { emu.stop() }
        let acme = try await emu.token(org: "acme")
        let upload = try await emu.request("POST", "/v1/documents?filename=leave.md",
                                           body: Data("# Leave\n\nEmployees get 20 days of paid annual leave per year.\n".utf8),
                                           headers: ["Authorization": "Bearer \(acme)", "Content-Type": "text/markdown"])
        let id = try #require(upload.json["document_id"] as? String)
        let ready = try await emu.eventually(timeout: 120, interval: 0.25) { () -> Bool? in
            try await emu.json("GET", "/v1/documents/\(id)", token: acme).json["status"] as? String == "ready" ? true : nil
        }
        #expect(ready == true)
        let query = "How many days of annual leave? \(UUID().uuidString)"
        #expect(try await emu.json("POST", "/v1/search", token: acme, ["query": query]).status == 200)
        #expect(try await emu.json("POST", "/v1/generate", token: acme, ["query": query]).status == 200)

        let (search, generate) = try #require(try await emu.eventually(timeout: 30) { () -> (EMFRecord, EMFRecord)? in
            guard let s = try await records(emu, route: "POST /v1/search").first,
                  let g = try await records(emu, route: "POST /v1/generate").first else { return nil }
            return (s, g)
        })
        #expect(search.metric("SharedCacheMisses") == 1 && search.metric("SharedCacheHits") == 0 && search.metric("EmbeddingCalls") == 1,
                "\(search.metrics)")
        #expect(generate.metric("SharedCacheHits") == 1 && generate.metric("EmbeddingCalls") == 0, "\(generate.metrics)")
        #expect(generate.metric("SharedCacheErrors") == 0 && search.metric("SharedCacheErrors") == 0)
        #expect(generate.property("shared_cache")?.stringValue == (level == .redis ? "redis" : "store"))
    }
}
