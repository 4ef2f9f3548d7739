import Foundation
import JSON
import TestSupport
import Testing
@testable import EmulatorCore

/// The six real functions through the real template: each invocation writes one EMF record
/// CloudWatch would accept, with the phases its function has, and the emulator's `/metrics`,
/// state, `GET /v1/jobs` and `GET /v1/route/stats` show the same traffic.
@Suite(.serialized) struct BundleMetricsTests {
    /// The EMF records in one invocation's lines (from the dashboard state).
    static func records(_ invocation: [String: Any]) throws -> [EMFRecord] {
        try ((invocation["logs"] as? [String]) ?? []).filter(EMFRecord.looksLikeEMF).map { try EMFRecord.parse($0) }
    }

    @Test func everyFunctionWritesItsRecordAndTheEmulatorShowsIt() async throws {
        let emu = try await BundleEmulator.start(prefix: "bundle-metrics")
        defer { emu.stop() }
        let acme = try await emu.token(org: "acme")
        let upload = try await emu.request("POST", "/v1/documents?filename=leave.md&title=Leave",
                                           body: Data("# Leave\n\nEmployees get 20 days of paid annual leave per year.\n".utf8),
                                           headers: ["Authorization": "Bearer \(acme)", "Content-Type": "text/markdown"])
        #expect(upload.status == 202, "\(upload.text)")
        let document = try #require(upload.json["document_id"] as? String)
        // Read the upload's record now: status polls below are invocations too, and the state
        // keeps the latest 50.
        let uploadRecord = try await emu.eventually(timeout: 30) { () -> EMFRecord? in
            let state = try await emu.request("GET", "/__emulator/state")
            return try ((state.json["recent"] as? [[String: Any]]) ?? []).flatMap(Self.records).first { $0.dimension("route") == "POST /v1/documents" }
        }
        let ready = try await emu.eventually(timeout: 120, interval: 0.25) { () -> Bool? in
            let d = try await emu.json("GET", "/v1/documents/\(document)", token: acme)
            return d.json["status"] as? String == "ready" ? true : nil
        }
        #expect(ready == true)
        #expect(try await emu.json("POST", "/v1/search", token: acme, ["query": "annual leave"]).status == 200)
        #expect(try await emu.json("POST", "/v1/route", token: acme, ["text": "I want to reset my password"]).status == 200)
        #expect(try await emu.json("POST", "/v1/generate", token: acme, ["query": "How much annual leave do I get?"]).status == 200)
        #expect(try await emu.request("GET", "/healthz").status == 200)

        // Every function's invocation carries its record (read from the emulator's state, which
        // keeps each invocation's lines; the record may follow the answer by a moment).
        let wanted = ["UploadFunction", "ReembedFunction", "SearchFunction", "RouteFunction", "GenerateFunction", "HealthFunction"]
        let recent = try await emu.eventually(timeout: 30) { () -> [String: [EMFRecord]]? in
            let state = try await emu.request("GET", "/__emulator/state")
            var byFunction: [String: [EMFRecord]] = [:]
            for invocation in (state.json["recent"] as? [[String: Any]]) ?? [] {
                guard let f = invocation["function"] as? String, invocation["outcome"] as? String == "ok" else { continue }
                byFunction[f, default: []] += try Self.records(invocation)
            }
            return wanted.allSatisfy({ byFunction[$0]?.contains { $0.metric("Invocations") == 1 } == true }) ? byFunction : nil
        }
        let records = try #require(recent, "not every function's record arrived")
        func invocationRecord(_ f: String) throws -> EMFRecord {
            try #require(records[f]?.first { $0.metric("Invocations") == 1 })
        }
        for f in wanted {
            let r = try invocationRecord(f)
            #expect(r.namespace == "RagFunctions")
            #expect(r.dimensions.first?.name == "function")
            #expect(r.dimension("org") == nil, "an org id is never a dimension")
            for name in ["Duration", "ColdStart", "Errors"] { #expect(r.metric(name) != nil, "\(f) lacks \(name)") }
        }
        let search = try invocationRecord("SearchFunction")
        for name in ["EmbedTime", "DenseTime", "KeywordTime", "PageTime", "Results", "QueryCacheMisses", "EmbeddingCalls"] {
            #expect(search.metric(name) != nil, "search lacks \(name)")
        }
        #expect(search.dimension("route") == "POST /v1/search" && search.dimension("mode") == "hybrid" && search.dimension("status_class") == "2xx")
        #expect(search.properties["org"]?.stringValue == "acme" && search.properties["model"]?.stringValue?.isEmpty == false)
        let up = try #require(uploadRecord)
        let bytes = try #require((upload.json["document"] as? [String: Any])?["bytes"] as? Int)
        #expect(up.metric("UploadBytes") == Double(bytes) && up.metric("Deduplicated") == 0 && up.dimension("type") == "text/markdown")
        let reembed = try #require(records["ReembedFunction"]?.first { ($0.metric("JobsClaimed") ?? 0) >= 1 })
        #expect(reembed.metric("ChunksEmbedded").map { $0 >= 1 } == true && reembed.metric("JobsDone") == 1 && reembed.metric("JobTime") != nil)
        let route = try invocationRecord("RouteFunction")
        #expect(route.metric("TopScore") != nil && route.dimension("strategy") != nil && route.properties["catalog_version"] != nil)
        // generate: the invocation record and the answer's (no provider key: the extractive fallback).
        let answer = try #require(records["GenerateFunction"]?.first { $0.metric("Requests") == 1 })
        #expect(answer.dimension("status") == "extractive" && answer.metric("Fallbacks") == 1 && answer.metric("GenerationTime") != nil)

        // /metrics shows the same traffic, functions' metrics included.
        let metrics = try await emu.request("GET", "/metrics").text
        #expect(metrics.contains(#"rag_invocations_total{function="SearchFunction",route="POST /v1/search",outcome="ok"} 1"#))
        #expect(metrics.contains(#"rag_invocations_total{function="ReembedFunction",route="async",outcome="ok"}"#))
        #expect(metrics.contains("rag_fn_embed_time_seconds_bucket{"))
        #expect(metrics.contains("rag_fn_upload_bytes_total{"))
        let state = try await emu.request("GET", "/__emulator/state")
        let router = try #require(state.json["router"] as? [String: Any])
        #expect((router["actions"] as? Int ?? 0) > 0 && (router["seeds"] as? Int ?? 0) > 0)

        // The jobs list behind the dashboard's per-org panel, tenant-scoped.
        let jobs = try await emu.json("GET", "/v1/jobs?limit=10", token: acme)
        #expect(jobs.status == 200, "\(jobs.text)")
        let list = try #require(jobs.json["jobs"] as? [[String: Any]])
        #expect(list.count == 1 && list.first?["type"] as? String == "ingest" && list.first?["status"] as? String == "succeeded")
        let globex = try await emu.token(org: "globex")
        #expect((try await emu.json("GET", "/v1/jobs", token: globex).json["jobs"] as? [Any])?.isEmpty == true)
        #expect(try await emu.json("GET", "/v1/jobs?status=sideways", token: acme).status == 422)

        // Seed 000's /stats.
        let stats = try await emu.json("GET", "/v1/route/stats", token: acme)
        #expect(stats.status == 200)
        #expect(stats.json["catalog_version"] as? String == route.properties["catalog_version"]?.stringValue)
        #expect((stats.json["requests"] as? Int ?? 0) >= 1 && stats.json["cache_hit_rate"] is Double)
    }
}
