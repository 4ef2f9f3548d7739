import Foundation
import Testing
import TestSupport

/// `rerank` through the emulator's real search function and a local Cohere-format server.
@Suite(.serialized) struct RerankThroughEmulatorTests {
    static let documents = [
        "# Leave\n\nEmployees get twenty days of paid annual leave.",
        "# Carry-over\n\nUnused annual leave days carry over until the end of March.",
        "# Laptops\n\nLaptops are replaced every three years by the IT service desk.",
    ]

    @Test func theRerankerReordersTheCandidatesAndAFailureFallsBackToTheFusedOrder() async throws {
        let server = FakeRerankServer()
        try await server.serve { base in
            let emu = try await BundleEmulator.start(prefix: "rerank", environment: [
                "RERANK_PROVIDER": "cohere", "RERANK_BASE_URL": base, "RERANK_MODEL": "rerank-v3.5", "RERANK_API_KEY": "k-123",
                "RERANK_CANDIDATES": "10",
            ])
            defer { emu.stop() }
            let acme = try await emu.token(org: "acme")
            for (i, text) in Self.documents.enumerated() {
                let r = try await emu.request("POST", "/v1/documents?filename=d\(i).md", body: Data(text.utf8),
                                              headers: ["Authorization": "Bearer \(acme)", "Content-Type": "text/markdown"])
                let id = try #require(r.json["document_id"] as? String)
                _ = try await emu.eventually(timeout: 120, interval: 0.25) { () -> Bool? in
                    try await emu.json("GET", "/v1/documents/\(id)", token: acme).json["status"] as? String == "ready" ? true : nil
                }
            }
            let query = "unused leave carry over march"
            let plain = try await emu.json("POST", "/v1/search", token: acme, ["query": query, "limit": 3])
            #expect(((plain.json["results"] as? [[String: Any]]) ?? []).allSatisfy { $0["rerank_score"] == nil })
            #expect(server.requests.withLock { $0.isEmpty }, "no rerank unless asked")

            let reranked = try await emu.json("POST", "/v1/search", token: acme, ["query": query, "limit": 3, "rerank": true])
            let hits = try #require(reranked.json["results"] as? [[String: Any]], "\(reranked.text)")
            let scores = hits.compactMap { $0["rerank_score"] as? Double }
            #expect(scores.count == hits.count && scores == scores.sorted(by: >), "\(reranked.text)")
            let expected = hits.map { FakeRerankServer.score(query, $0["text"] as? String ?? "") }
            #expect(zip(scores, expected).allSatisfy { abs($0 - $1) < 1e-9 })
            #expect((hits.first?["text"] as? String)?.contains("carry over") == true)
            #expect((reranked.json["timings"] as? [String: Any])?["rerank_ms"] != nil)
            #expect(server.requests.withLock { $0.last?.json["query"] as? String } == query)

            // The reranker down: still an answer, in the fused order, saying why.
            server.failing.withLock { $0 = 503 }
            let fallback = try await emu.json("POST", "/v1/search", token: acme, ["query": query, "limit": 3, "rerank": true])
            #expect(fallback.status == 200)
            let warnings = fallback.json["warnings"] as? [String] ?? []
            #expect(warnings.contains { $0.contains("Reranking failed") && $0.contains("fused order") }, "\(fallback.text)")
            #expect((fallback.json["results"] as? [[String: Any]])?.map { $0["chunk_id"] as? String } == (plain.json["results"] as? [[String: Any]])?.map { $0["chunk_id"] as? String })
            #expect(try await emu.json("POST", "/v1/search", token: acme, ["query": query, "rerank": "yes"]).status == 400)
        }
    }
}
