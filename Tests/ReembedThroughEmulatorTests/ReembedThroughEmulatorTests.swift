import Foundation
import Testing
import TestSupport

/// The worker through the real emulator and template: uploads become searchable on their own
/// (the upload's async call), schedules drain and scan, a killed worker's job finishes, a
/// failing provider leaves the old version serving, and a model change rolls out nightly.
@Suite(.serialized) struct ReembedThroughEmulatorTests {
    @Test(arguments: StoreKind.allCases)
    func everyFileTypeBecomesSearchableAndADeleteRemovesIt(_ kind: StoreKind) async throws {
        let emu = try await BundleEmulator.start(prefix: "reembed-types", environment: try kind.environment())
        defer { emu.stop() }
        let acme = try await emu.token(org: "acme")
        let files: [(name: String, type: String, bytes: [UInt8], word: String)] = [
            ("notes.txt", "text/plain", Array("Plain notes\n\nThe quartermaster signs every requisition.\n".utf8), "quartermaster"),
            ("guide.md", "text/markdown", Array("# Guide\n\n- Bring your **lanyard** to the gate.\n".utf8), "lanyard"),
            ("page.html", "text/html", Array("<html><head><title>Page</title><script>var x='zzz';</script></head><body><h1>Visitors</h1><p>Visitors sign the ledger at reception.</p></body></html>".utf8), "ledger"),
            ("data.json", "application/json", Array(#"{"policy": {"name": "Parking", "rule": "Motorbikes park in the basement"}}"#.utf8), "motorbikes"),
            ("scan.pdf", "application/pdf", PDFFixture.text([["Quarterly audit report", "The auditor reviews petty cash monthly."]]), "auditor"),
        ]
        var ids: [String: String] = [:]
        for f in files {
            let r = try await emu.upload(f.bytes, filename: f.name, type: f.type, token: acme)
            #expect(r.status == 202, "\(f.name): \(r.text)")
            ids[f.name] = r.json["document_id"] as? String
        }
        let bad = try await emu.upload(PDFFixture.imageOnly(), filename: "blank.pdf", type: "application/pdf", token: acme)
        let badId = try #require(bad.json["document_id"] as? String)

        // No schedule runs in this test: the upload's own async call to the worker does it.
        for f in files {
            let id = try #require(ids[f.name])
            let detail = try await emu.settled(id, token: acme)
            #expect(detail?["status"] as? String == "ready", "\(f.name): \(String(describing: detail))")
            let r = try await emu.json("POST", "/v1/search", token: acme, ["query": f.word, "mode": "keyword", "limit": 3])
            let top = (r.json["results"] as? [[String: Any]])?.first
            #expect(top?["document_id"] as? String == id, "\(f.word) should find \(f.name): \(r.text)")
        }
        let failed = try await emu.settled(badId, token: acme)
        #expect(failed?["status"] as? String == "failed")
        let badJob = try await emu.job(try #require(bad.json["job_id"] as? String), token: acme)
        #expect(badJob["status"] as? String == "dead" && (badJob["error"] as? String)?.contains("text layer") == true, "\(badJob)")

        // Another org sees none of it, even by id.
        let globex = try await emu.token(org: "globex")
        let leak = try await emu.json("POST", "/v1/search", token: globex, ["query": "quartermaster", "mode": "keyword"])
        #expect((leak.json["results"] as? [Any])?.isEmpty == true)
        #expect(try await emu.json("POST", "/v1/documents/\(ids["notes.txt"]!)/reembed", token: globex).status == 404)

        // Delete: out of search at once; the worker's delete job then purges it.
        let gone = try #require(ids["notes.txt"])
        #expect(try await emu.json("DELETE", "/v1/documents/\(gone)", token: acme).status == 202)
        let after = try await emu.json("POST", "/v1/search", token: acme, ["query": "quartermaster", "mode": "keyword"])
        #expect((after.json["results"] as? [[String: Any]])?.contains { $0["document_id"] as? String == gone } == false)
        let purged = try await emu.eventually(timeout: 60) {
            try await emu.json("GET", "/v1/documents/\(gone)", token: acme).status == 404 ? true : nil
        }
        #expect(purged == true)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: emu.data + "/blobs/acme")) ?? []).count == files.count)
    }

    @Test func aKilledWorkersJobFinishesAfterItsLeaseWhileReadersSeeOneVersion() async throws {
        // Schedules on, on a virtual clock that never reaches the nightly run; the drain is
        // triggered by hand, after the lease, as the per-minute schedule would.
        let emu = try await BundleEmulator.start(prefix: "reembed-kill", environment: ["WORKER_LEASE_SECONDS": "3", "WORKER_EMBED_BATCH": "4",
                                                                                      "JOB_BACKOFF_BASE_SECONDS": "1"],
                                                 arguments: ["--now", "2026-01-01T00:00:05Z"], schedules: true)
        defer { emu.stop() }
        let acme = try await emu.token(org: "acme")
        let up = try await emu.upload(Array(Prose.document(70, seed: 4).utf8), filename: "policy.txt", type: "text/plain", token: acme, title: "Travel policy")
        let id = try #require(up.json["document_id"] as? String)
        let ingest = try #require(up.json["job_id"] as? String)
        // The first version, ready. On a saturated machine its first attempt can outlast the
        // 3 s lease and be retried (the behaviour under test below); the drain retries it.
        let ready = try await emu.eventually(timeout: 180, interval: 0.5) { () -> Bool? in
            if try await emu.json("GET", "/v1/documents/\(id)", token: acme).json["status"] as? String == "ready" { return true }
            if try await emu.job(ingest, token: acme)["status"] as? String == "queued" {
                _ = try await emu.request("POST", "/__emulator/schedules/local-reembed-drain/trigger")
            }
            return nil
        }
        let ingestJob = try await emu.job(ingest, token: acme)
        #expect(ready == true, "\(ingestJob)")
        let before = try await emu.chunkIds(of: id, token: acme)
        #expect(!before.isEmpty && before.count < 100)

        let reader = Task { () -> [Set<String>] in
            var seen: [Set<String>] = []
            while !Task.isCancelled {
                if let ids = try? await emu.chunkIds(of: id, token: acme) { seen.append(ids) }
            }
            return seen
        }
        let queued = try await emu.json("POST", "/v1/documents/\(id)/reembed", token: acme, ["chunk_size": 120, "force": true])
        #expect(queued.status == 202, "\(queued.text)")
        let jobId = try #require(queued.json["job_id"] as? String)
        // Kill the worker while it runs the job.
        let killed = try await emu.eventually(timeout: 60, interval: 0.02) { () -> Int32? in
            guard try await emu.job(jobId, token: acme)["status"] as? String == "running" else { return nil }
            let pids = emu.processes(of: "reembed")
            for pid in pids { kill(pid, SIGKILL) }
            return pids.first
        }
        #expect(killed != nil, "the worker was never seen running the job")
        #expect(try await emu.job(jobId, token: acme)["status"] as? String == "running")

        // After the lease, a drain finishes it.
        try await Task.sleep(for: .seconds(4))
        let done = try await emu.eventually(timeout: 120, interval: 0.5) { () -> [String: Any]? in
            let job = try await emu.job(jobId, token: acme)
            if job["status"] as? String == "succeeded" { return job }
            _ = try await emu.request("POST", "/__emulator/schedules/local-reembed-drain/trigger")
            return nil
        }
        reader.cancel()
        let seen = await reader.value
        let job = try #require(done)
        #expect((job["attempts"] as? Int ?? 0) >= 2, "\(job)")
        let afterIds = try await emu.chunkIds(of: id, token: acme)
        #expect(afterIds.isDisjoint(with: before) && !afterIds.isEmpty)
        #expect(seen.count > 3)
        for s in seen { #expect(s == before || s == afterIds, "a reader saw a mix or a gap (\(s.count) chunks)") }
        let versions = try await emu.json("GET", "/v1/documents/\(id)/versions", token: acme).json["versions"] as? [[String: Any]] ?? []
        // The killed attempt left a version behind only if it got as far as making one (the kill
        // lands anywhere in the job); such a version is failed as abandoned, none stays indexing.
        #expect(!versions.contains { $0["state"] as? String == "indexing" }, "\(versions)")
        for v in versions where v["state"] as? String == "failed" {
            #expect((v["error"] as? String)?.contains("abandoned") == true, "\(v)")
        }
        #expect(versions.filter { $0["state"] as? String == "ready" }.count == 1)
    }

    @Test func aFailingProviderRetriesThenDiesWhileSearchServesTheOldVersion() async throws {
        let data = TestPaths.temporaryDirectory("reembed-fail")
        let acme: String
        let id: String
        do {
            let emu = try await BundleEmulator.start(data: data)
            defer { emu.stop() }
            acme = try await emu.token(org: "acme")
            let up = try await emu.upload(Array(Prose.document(5, seed: 8).utf8), filename: "expenses.txt", type: "text/plain", token: acme)
            id = try #require(up.json["document_id"] as? String)
            #expect(try await emu.settled(id, token: acme)?["status"] as? String == "ready")
        }
        try await Task.sleep(for: .seconds(1))

        // The worker alone moves to an HTTP provider that is failing (SAM's --env-vars format).
        let fake = try await FakeEmbeddings(mode: "fail")
        defer { fake.stop() }
        var workerEnv = fake.environment
        workerEnv["JOB_MAX_ATTEMPTS"] = "3"
        workerEnv["JOB_BACKOFF_BASE_SECONDS"] = "0.2"
        workerEnv["JOB_BACKOFF_CAP_SECONDS"] = "0.5"
        let envFile = data + "/env.json"
        try JSONSerialization.data(withJSONObject: ["ReembedFunction": workerEnv]).write(to: URL(fileURLWithPath: envFile))
        let emu = try await BundleEmulator.start(data: data, arguments: ["--env-vars", envFile, "--now", "2026-01-01T00:00:05Z"], schedules: true)
        defer { emu.stop() }
        let before = try await emu.chunkIds(of: id, token: acme)
        let queued = try await emu.json("POST", "/v1/documents/\(id)/reembed", token: acme)
        #expect(queued.status == 202, "\(queued.text)")
        let jobId = try #require(queued.json["job_id"] as? String)
        let params = (queued.json["job"] as? [String: Any])?["params"] as? [String: Any]
        #expect(params?["model"] as? String == "text-embedding-3-small@256", "\(queued.text)")

        let dead = try await emu.eventually(timeout: 180, interval: 0.5) { () -> [String: Any]? in
            let job = try await emu.job(jobId, token: acme)
            if job["status"] as? String == "dead" { return job }
            _ = try await emu.request("POST", "/__emulator/schedules/local-reembed-drain/trigger")
            return nil
        }
        let job = try #require(dead)
        #expect(job["attempts"] as? Int == 3)
        #expect((job["error"] as? String)?.contains("embedding failed") == true, "\(job)")
        // The old version still answers, unchanged.
        #expect(try await emu.chunkIds(of: id, token: acme) == before)
        let detail = try await emu.json("GET", "/v1/documents/\(id)", token: acme).json
        #expect(detail["status"] as? String == "ready")
        #expect((detail["ready_version"] as? [String: Any])?["embed_model"] as? String == "intfloat/multilingual-e5-small")
    }

    @Test func theNightlyScheduleMovesDocumentsToANewModel() async throws {
        let data = TestPaths.temporaryDirectory("reembed-nightly")
        let acme: String
        var ids: [String] = []
        do {
            let emu = try await BundleEmulator.start(data: data)
            defer { emu.stop() }
            acme = try await emu.token(org: "acme")
            for (k, text) in ["Visitors sign the ledger at reception.", "Motorbikes park in the basement after six."].enumerated() {
                let up = try await emu.upload(Array(text.utf8), filename: "d\(k).txt", type: "text/plain", token: acme)
                ids.append(try #require(up.json["document_id"] as? String))
            }
            for id in ids { #expect(try await emu.settled(id, token: acme)?["status"] as? String == "ready") }
        }
        try await Task.sleep(for: .seconds(1))

        // Every function moves to the new model; nothing changes until the nightly run.
        let fake = try await FakeEmbeddings(mode: "ok")
        defer { fake.stop() }
        let emu = try await BundleEmulator.start(data: data, environment: fake.environment,
                                                 arguments: ["--now", "2026-03-01T01:59:50Z"], schedules: true)
        defer { emu.stop() }
        func models() async throws -> [String?] {
            var out: [String?] = []
            for id in ids {
                let d = try await emu.json("GET", "/v1/documents/\(id)", token: acme).json
                out.append((d["ready_version"] as? [String: Any])?["embed_model"] as? String)
            }
            return out
        }
        #expect(try await models() == ["intfloat/multilingual-e5-small", "intfloat/multilingual-e5-small"])
        // Meanwhile the old vectors are still found by keyword.
        let meanwhile = try await emu.json("POST", "/v1/search", token: acme, ["query": "basement motorbikes"])
        #expect((meanwhile.json["results"] as? [[String: Any]])?.first?["document_id"] as? String == ids[1], "\(meanwhile.text)")

        // 02:00 UTC comes: the scan queues both, the drain runs them.
        let moved = try await emu.request("POST", "/__emulator/clock", body: Data(#"{"advance": 15}"#.utf8))
        #expect(moved.status == 200, "\(moved.text)")
        let rolled = try await emu.eventually(timeout: 120, interval: 0.5) { () -> [String?]? in
            let m = try await models()
            return m.allSatisfy { $0 == "text-embedding-3-small@256" } ? m : nil
        }
        #expect(rolled != nil, "documents did not move")
        // Dense search now runs on the new model's vectors.
        let r = try await emu.json("POST", "/v1/search", token: acme, ["query": "where do motorbikes park", "mode": "dense"])
        #expect(r.json["query_model"] as? String == "text-embedding-3-small@256", "\(r.text)")
        #expect((r.json["results"] as? [[String: Any]])?.first?["document_id"] as? String == ids[1], "\(r.text)")
    }
}
