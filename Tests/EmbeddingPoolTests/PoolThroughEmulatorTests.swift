import Foundation
import Testing
import TestSupport

/// Several providers of one model, a refused impostor, routing, failover and budgets, through
/// the emulator's real functions on both stores. The providers are local servers running the
/// real multilingual-e5-small (and, for the impostor, all-MiniLM-L6-v2: the same 384 dimensions,
/// another model).
@Suite(.serialized) struct PoolThroughEmulatorTests {
    static let document = """
        # Leave policy

        Employees get twenty days of paid annual leave. Unused days carry over until the end of March.

        Nhân viên được nghỉ phép năm hai mươi ngày có lương. Ngày phép chưa dùng được chuyển sang đến hết tháng Ba.
        """

    static func start(_ store: String, file: String, data: String? = nil, extra: [String: String] = [:]) async throws -> BundleEmulator {
        let data = data ?? TestPaths.temporaryDirectory("pool")
        let path = data + "/providers-\(UUID().uuidString.prefix(6)).yaml"
        try file.write(toFile: path, atomically: true, encoding: .utf8)
        let storeEnvironment = store == "postgres" ? try EmulatorStore.postgresEnvironment(schemaPrefix: "po_") : [:]
        return try await BundleEmulator.start(
            prefix: "pool", data: data,
            environment: ["EMBEDDING_PROVIDERS_FILE": path].merging(extra) { a, _ in a }.merging(storeEnvironment) { a, _ in a },
            arguments: ["--now", "2026-01-01T00:00:05Z"], schedules: true)
    }

    static func upload(_ emu: BundleEmulator, _ text: String, name: String, token: String) async throws -> (document: String, job: String) {
        let r = try await emu.request("POST", "/v1/documents?filename=\(name)", body: Data(text.utf8),
                                      headers: ["Authorization": "Bearer \(token)", "Content-Type": "text/markdown"])
        return (try #require(r.json["document_id"] as? String, "\(r.text)"), try #require(r.json["job_id"] as? String, "\(r.text)"))
    }

    static func waitReady(_ emu: BundleEmulator, _ id: String, token: String) async throws -> String? {
        try await emu.eventually(timeout: 180, interval: 0.25) { () -> String? in
            let s = try await emu.json("GET", "/v1/documents/\(id)", token: token).json["status"] as? String
            return s == "ready" || s == "failed" ? s : nil
        }
    }

    @Test(arguments: ["sqlite", "postgres"])
    func anotherModelUnderTheNameIsRefusedWithItsReasonInReadiness(_ store: String) async throws {
        let same = ModelServer(model: Models.e5)
        let impostor = ModelServer(model: Models.miniLM)
        try await Models.warmUp()
        try await ModelServer.serving([same, impostor]) { urls in
            let emu = try await Self.start(store, file: """
                providers:
                  - { name: native, kind: native }
                  - { name: tei, kind: tei, base_url: "\(urls[0])" }
                  - { name: impostor, kind: tei, base_url: "\(urls[1])" }
                """, extra: ["EMBEDDING_PROBE_REFERENCE": TestPaths.packageRoot + "/config/embedding/probes/intfloat__multilingual-e5-small.json"])
            defer { emu.stop() }
            // The probes may outlast one readiness call on a busy machine; the next one reports them.
            let ready = try #require(try await emu.eventually(timeout: 90, interval: 0.5) { () -> TestHTTPReply? in
                let r = try await emu.request("GET", "/readyz")
                return r.text.contains("impostor: ") ? r : nil
            })
            #expect(ready.status == 503, "\(ready.text)")
            #expect(ready.text.contains("impostor: not the model's vectors: cosine") && ready.text.contains("< 0.999"), "\(ready.text)")
            #expect(!ready.text.contains("tei: "), "the agreeing server is admitted: \(ready.text)")
            let acme = try await emu.token(org: "acme")
            let doc = try await Self.upload(emu, Self.document, name: "leave.md", token: acme)
            #expect(try await Self.waitReady(emu, doc.document, token: acme) == "ready")
            for q in ["how many days of annual leave", "ngày phép chưa dùng"] {
                let r = try await emu.json("POST", "/v1/search", token: acme, ["query": q])
                #expect(r.status == 200 && r.text.contains(doc.document), "\(r.text)")
            }
            // The impostor saw the probe set and nothing else; the documents and queries went to
            // providers of the model.
            #expect(impostor.served.isEmpty, "\(impostor.served)")
            #expect(impostor.probeCalls > 0)
        }
    }

    @Test(arguments: ["sqlite", "postgres"])
    func queriesGoToTheFastestBatchesToTheHighestThroughputAndAFailureFailsOver(_ store: String) async throws {
        // The reference is slow at everything; `quick` answers one text fast but pays per text;
        // `bulky` pays per call, whatever its size (a GPU server a network hop away).
        try await Models.warmUp()
        let reference = ModelServer(model: Models.e5, perCall: .milliseconds(600))
        let quick = ModelServer(model: Models.e5, perText: .milliseconds(80))
        let bulky = ModelServer(model: Models.e5, perCall: .milliseconds(250))
        try await ModelServer.serving([reference, quick, bulky]) { urls in
            let emu = try await Self.start(store, file: """
                providers:
                  - { name: reference, kind: tei, base_url: "\(urls[0])" }
                  - { name: quick, kind: tei, base_url: "\(urls[1])" }
                  - { name: bulky, kind: tei, base_url: "\(urls[2])" }
                recheck_seconds: 1
                """, extra: ["EMBEDDING_TIMEOUT_MS": "20000"])
            defer { emu.stop() }
            #expect(try await emu.request("GET", "/readyz").status == 200)
            let acme = try await emu.token(org: "acme")
            let doc = try await Self.upload(emu, Self.document, name: "leave.md", token: acme)
            #expect(try await Self.waitReady(emu, doc.document, token: acme) == "ready")
            for q in ["annual leave days", "carry over unused leave", "nghỉ phép năm"] {
                #expect(try await emu.json("POST", "/v1/search", token: acme, ["query": q]).status == 200)
            }
            #expect(quick.served.count == 3 && quick.served.allSatisfy { $0.count == 1 && $0[0].hasPrefix("query: ") }, "\(quick.served)")
            #expect(!bulky.served.isEmpty && bulky.served.allSatisfy { $0.allSatisfy { $0.hasPrefix("passage: ") } }, "\(bulky.served)")
            #expect(reference.served.isEmpty, "\(reference.served)")

            // `quick` goes down: queries are answered by the next provider.
            quick.failing.withLock { $0 = 503 }
            let during = try await emu.json("POST", "/v1/search", token: acme, ["query": "who approves leave"])
            #expect(during.status == 200, "\(during.text)")
            #expect(bulky.served.contains { $0 == ["query: who approves leave"] } || reference.served.contains { $0 == ["query: who approves leave"] })
            // It comes back: after the recheck it passes the probe set again, then serves again.
            quick.failing.withLock { $0 = nil }
            let probesBefore = quick.probeCalls
            try await Task.sleep(for: .seconds(1.5))
            let back = try await emu.eventually(timeout: 60, interval: 0.5) { () -> Bool? in
                let q = "leave question \(UUID().uuidString.prefix(6))"
                _ = try await emu.json("POST", "/v1/search", token: acme, ["query": q])
                return quick.served.contains { $0 == ["query: " + q] } ? true : nil
            }
            #expect(back == true && quick.probeCalls > probesBefore, "\(quick.probeCalls) probe calls, before \(probesBefore)")
        }
    }

    @Test(arguments: ["sqlite", "postgres"])
    func aSpentBudgetDefersJobsUntilAFreeProviderCanTakeThemAndQueriesAreCounted(_ store: String) async throws {
        let api = ModelServer(model: Models.e5)
        let own = ModelServer(model: Models.e5)
        try await ModelServer.serving([api, own]) { urls in
            let data = TestPaths.temporaryDirectory("pool-budget")
            let storeEnvironment = store == "postgres" ? try EmulatorStore.postgresEnvironment(schemaPrefix: "pb_") : [:]
            // 1 USD per 1,000 tokens and 0.01 USD a day per org: the first document spends it.
            let paidOnly = """
                providers:
                  - { name: api, kind: http, base_url: "\(urls[0])", price_per_1k_tokens: 1.0 }
                budgets:
                  org: { daily_usd: 0.01 }
                  look_again_seconds: 1
                """
            var emu = try await Self.start(store, file: paidOnly, data: data, extra: storeEnvironment)
            let acme = try await emu.token(org: "acme")
            let first = try await Self.upload(emu, Self.document, name: "leave.md", token: acme)
            #expect(try await Self.waitReady(emu, first.document, token: acme) == "ready")
            let second = try await Self.upload(emu, "# Travel\n\nBook flights through the travel desk at least two weeks ahead.", name: "travel.md", token: acme)
            let deferred = try await emu.eventually(timeout: 120, interval: 0.25) { () -> [String: Any]? in
                let j = try await emu.json("GET", "/v1/jobs/\(second.job)", token: acme).json
                return (j["error"] as? String)?.contains("deferred until") == true ? j : nil
            }
            let reason = deferred?["error"] as? String ?? ""
            #expect(deferred?["status"] as? String == "queued" && deferred?["attempts"] as? Int == 0, "\(String(describing: deferred))")
            #expect(reason.contains("org daily embedding budget of 0.01 USD is spent") && reason.contains("costs nothing"), "\(reason)")
            // Queries are never refused for budget, only counted.
            let usageBefore = try await emu.json("GET", "/v1/usage", token: acme).json
            let search = try await emu.json("POST", "/v1/search", token: acme, ["query": "how many leave days"])
            #expect(search.status == 200, "\(search.text)")
            let usage = try await emu.json("GET", "/v1/usage", token: acme)
            #expect(usage.status == 200, "\(usage.text)")
            let tokens = { (u: [String: Any]) in u["tokens"] as? Int ?? 0 }
            #expect(tokens(usage.json) > tokens(usageBefore), "\(usage.text)")
            let days = usage.json["days"] as? [[String: Any]] ?? []
            let providers = days.flatMap { $0["providers"] as? [[String: Any]] ?? [] }
            #expect(providers.contains { $0["provider"] as? String == "api" && ($0["cost_usd"] as? Double ?? 0) > 0.01 }, "\(usage.text)")
            let budgets = usage.json["budgets"] as? [[String: Any]] ?? []
            #expect(budgets.contains { $0["scope"] as? String == "org" && $0["period"] as? String == "daily" && $0["hard_limit_reached"] as? Bool == true },
                    "\(usage.text)")
            // Another org's usage is its own.
            let globex = try await emu.token(org: "globex")
            #expect(try await emu.json("GET", "/v1/usage", token: globex).json["tokens"] as? Int == 0)
            #expect(try await emu.request("GET", "/v1/usage?from=2026-13-01", headers: ["Authorization": "Bearer \(acme)"]).status == 422)
            emu.stop()

            // A provider of the same model that costs nothing joins: the job runs on it.
            let apiBefore = api.served.count
            emu = try await Self.start(store, file: """
                providers:
                  - { name: api, kind: http, base_url: "\(urls[0])", price_per_1k_tokens: 1.0 }
                  - { name: own, kind: tei, base_url: "\(urls[1])" }
                budgets:
                  org: { daily_usd: 0.01 }
                  look_again_seconds: 1
                """, data: data, extra: storeEnvironment)
            defer { emu.stop() }
            let done = try await emu.eventually(timeout: 120, interval: 0.5) { () -> String? in
                _ = try await emu.request("POST", "/__emulator/schedules/local-reembed-drain/trigger")
                let s = try await emu.json("GET", "/v1/documents/\(second.document)", token: acme).json["status"] as? String
                return s == "ready" || s == "failed" ? s : nil
            }
            let finalJob = try await emu.json("GET", "/v1/jobs/\(second.job)", token: acme).text
            let versions = try await emu.json("GET", "/v1/documents/\(second.document)", token: acme).text
            #expect(done == "ready", "\(finalJob) \(versions)")
            #expect(own.served.contains { $0.contains { $0.contains("travel desk") } }, "\(own.served)")
            #expect(!api.served.dropFirst(apiBefore).contains { $0.contains { $0.contains("travel desk") } })
        }
    }
}
