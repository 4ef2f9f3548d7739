import Documents
import DocumentStore
import Foundation
import Indexing
import Ingestion
import LambdaEvents
import Testing
import TestSupport

/// The re-embed routes, the stale scan, and the worker's inputs (events, parameters,
/// configuration), over a real SQLite store and the real model.
@Suite struct ReembedAPITests {
    func post(_ api: ReembedAPI, document id: String?, org: String? = "acme", body: String? = nil) throws -> (status: Int, json: [String: Any], queued: Int) {
        let path = id.map { "/v1/documents/\($0)/reembed" } ?? "/v1/reembed"
        let request = TestRequest.make("POST", path, org: org, pathParameters: id.map { ["id": $0] }, body: body.map { Array($0.utf8) })
        let result = id == nil ? try api.reembedAll(request) : try api.reembedDocument(request)
        let json = (try? JSONSerialization.jsonObject(with: Data((result.response.body ?? "").utf8))) as? [String: Any] ?? [:]
        return (result.response.statusCode, json, result.queued.count)
    }

    func apiError(_ body: () throws -> Any) -> APIError? {
        do { _ = try body(); return nil } catch { return error as? APIError }
    }

    @Test func aDocumentReembedIsIdempotentAndSaysWhenNothingIsToDo() async throws {
        let h = try WorkerHarness(.sqlite)
        let api = ReembedAPI(planner: h.planner)
        let up = try h.upload(Prose.document(6), title: "Leave")
        let id = up.document.id

        // Pending (the ingest job has not run): a re-embed waits for nothing and queues one.
        _ = await h.drain()
        let same = try post(api, document: id)
        #expect(same.status == 200 && same.json["status"] as? String == "up_to_date" && same.queued == 0, "\(same.json)")
        #expect(same.json["version_id"] as? String == (try h.store.document(org: "acme", id: id)?.readyVersionId))

        let first = try post(api, document: id, body: #"{"chunk_size": 100, "chunk_overlap": 20}"#)
        #expect(first.status == 202 && first.json["created"] as? Bool == true && first.queued == 1, "\(first.json)")
        let jobId = try #require(first.json["job_id"] as? String)
        let job = try #require(first.json["job"] as? [String: Any])
        #expect(job["type"] as? String == "reembed" && job["status"] as? String == "queued")
        #expect((job["params"] as? [String: Any])?["chunk_size"] as? Int == 100)
        // The same request while that job is live: that job, nothing new.
        let again = try post(api, document: id, body: #"{"chunk_size": 100, "chunk_overlap": 20}"#)
        #expect(again.status == 202 && again.json["job_id"] as? String == jobId && again.json["created"] as? Bool == false && again.queued == 0)

        _ = await h.drain()
        let done = try post(api, document: id, body: #"{"chunk_size": 100, "chunk_overlap": 20}"#)
        #expect(done.status == 200 && done.json["status"] as? String == "up_to_date")
        // A model change keeps the document's own chunking: asking again without sizes is up to date too.
        #expect(try post(api, document: id).json["status"] as? String == "up_to_date")
        // force rebuilds anyway.
        let forced = try post(api, document: id, body: #"{"force": true}"#)
        #expect(forced.status == 202 && forced.queued == 1)
    }

    /// An overlap given without a size must fit each document's own size: a 422 naming
    /// `chunk_overlap` (it was a 500), and an org-wide request refused that way queues nothing.
    @Test func anOverlapAloneIsCheckedAgainstEachDocumentsOwnSize() async throws {
        let h = try WorkerHarness(.sqlite)
        let api = ReembedAPI(planner: h.planner)
        let small = try h.upload(Prose.document(6), title: "Small").document.id
        let large = try h.upload(Prose.document(7), title: "Large").document.id
        _ = await h.drain()
        #expect(try post(api, document: small, body: #"{"chunk_size": 64, "chunk_overlap": 10}"#).status == 202)
        #expect(try post(api, document: large, body: #"{"chunk_size": 1000, "chunk_overlap": 100}"#).status == 202)
        _ = await h.drain()

        let tooBig = apiError { try post(api, document: small, body: #"{"chunk_overlap": 90}"#) }
        #expect(tooBig?.status == 422 && tooBig?.details["field"] == "chunk_overlap", "\(String(describing: tooBig))")
        // 150 fits the large document's 1000-token chunks, though not the default 200.
        let fits = try post(api, document: large, body: #"{"chunk_overlap": 150}"#)
        #expect(fits.status == 202 && fits.queued == 1, "\(fits.json)")
        _ = await h.drain()

        let before = try h.store.documentCounts(org: "acme")
        let all = apiError { try post(api, document: nil, body: #"{"chunk_overlap": 90, "scope": "all"}"#) }
        #expect(all?.status == 422 && all?.details["field"] == "chunk_overlap" && all?.message.contains(small) == true)
        #expect(try post(api, document: nil, body: #"{"scope": "stale"}"#).json["queued"] as? Int == 0)  // nothing was left queued
        #expect(try h.store.documentCounts(org: "acme") == before)
        // Out of range for any size: refused before any document is looked at.
        #expect(apiError { try post(api, document: small, body: #"{"chunk_overlap": 500}"#) }?.status == 422)
    }

    @Test func badRequestsAreNamedAndOtherOrgsSeeNothing() async throws {
        let h = try WorkerHarness(.sqlite)
        let api = ReembedAPI(planner: h.planner)
        let id = try h.upload("Some text to index.").document.id
        _ = await h.drain()
        let cases: [(String, Int, String)] = [
            (#"{"model": "text-embedding-3-large"}"#, 422, "model"),
            (#"{"chunk_size": 5}"#, 422, "chunk_size"),
            (#"{"chunk_size": 100, "chunk_overlap": 60}"#, 422, "chunk_overlap"),  // the size is fine; the overlap is not
            (#"{"chunk_size": "big"}"#, 400, "chunk_size"),
            (#"{"force": "yes"}"#, 400, "force"),
            (#"{"colour": "blue"}"#, 422, "colour"),
        ]
        for (body, status, field) in cases {
            let e = apiError { try post(api, document: id, body: body) }
            #expect(e?.status == status, "\(body)")
            #expect(e?.details["field"]?.stringValue == field, "\(body): \(String(describing: e))")
        }
        #expect(apiError { try post(api, document: id, body: "[1]") }?.status == 400)
        #expect(apiError { try post(api, document: id, body: "{nope") }?.status == 400)
        #expect(apiError { try post(api, document: nil, body: #"{"scope": "some"}"#) }?.status == 422)
        // Another org's document, an unknown one, a deleted one: 404.
        #expect(apiError { try post(api, document: id, org: "globex") }?.status == 404)
        #expect(apiError { try post(api, document: "no-such-doc") }?.status == 404)
        _ = try h.store.softDeleteDocument(org: "acme", id: id, job: nil)
        #expect(apiError { try post(api, document: id) }?.status == 404)
        #expect(apiError { try post(api, document: id, org: nil) }?.status == 401)
    }

    @Test func anOrgWideReembedQueuesWhatIsStaleOrEverything() async throws {
        let h = try WorkerHarness(.sqlite)
        let api = ReembedAPI(planner: h.planner)
        for k in 0..<3 { try h.upload(Prose.document(3, seed: UInt64(k + 20)), title: "Doc \(k)") }
        try h.upload("Other org's document.", org: "globex")
        _ = await h.drain()
        try h.upload("Not indexed yet.")  // pending: left to its ingest job

        let stale = try post(api, document: nil)
        #expect(stale.status == 202 && stale.json["queued"] as? Int == 0 && stale.json["up_to_date"] as? Int == 3
                && stale.json["pending"] as? Int == 1, "\(stale.json)")
        let all = try post(api, document: nil, body: #"{"scope": "all", "chunk_size": 64}"#)
        #expect(all.json["queued"] as? Int == 3 && (all.json["job_ids"] as? [String])?.count == 3 && all.queued == 3, "\(all.json)")
        let repeated = try post(api, document: nil, body: #"{"scope": "all", "chunk_size": 64}"#)
        #expect(repeated.json["queued"] as? Int == 0 && repeated.json["already_queued"] as? Int == 3)
        let report = await h.drain()
        #expect(report.indexed == 4, "three re-embeds and the pending ingest: \(report)")
        // globex was never touched.
        #expect(try h.store.listDocuments(org: "globex", status: nil, limit: 10, cursor: nil).items.allSatisfy {
            (try? h.store.version(org: "globex", id: $0.readyVersionId ?? ""))??.chunkSize == 200
        })
    }

    @Test func theStaleScanQueuesDocumentsOnAnotherModelOnce() async throws {
        let h = try WorkerHarness(.sqlite)
        for k in 0..<3 { try h.upload(Prose.document(2, seed: UInt64(k)), org: k == 2 ? "globex" : "acme") }
        _ = await h.drain()
        // Same model: nothing is stale.
        #expect(StaleScan(planner: h.planner).run(logger: .init(label: "t")).found == 0)
        // The deployment's model changed: every org's documents are found, each queued once.
        var c = h.configuration
        c.staleScanLimit = 10
        let moved = ReembedPlanner(store: h.store, model: "intfloat/multilingual-e5-small", configuration: c)
        let first = StaleScan(planner: moved).run(logger: .init(label: "t"))
        #expect(first.found == 3 && first.queued == 3 && first.errors == 0, "\(first)")
        let second = StaleScan(planner: moved).run(logger: .init(label: "t"))
        #expect(second.queued == 0 && second.alreadyQueued == 3, "\(second)")
        let jobs = try h.store.claimJobs(owner: "t", limit: 10, lease: 30, types: [.reembed])
        #expect(jobs.count == 3 && jobs.allSatisfy { $0.params["model"]?.stringValue == "intfloat/multilingual-e5-small" })
    }

    @Test func workerEventsAreRecognisedAndOthersRefused() throws {
        func event(_ json: String) throws -> IncomingEvent { try JSONDecoder().decode(IncomingEvent.self, from: Data(json.utf8)) }
        #expect(try WorkerEvent.from(event(#"{"task":"drain"}"#)) == .drain)
        #expect(try WorkerEvent.from(event(#"{"task":"stale_scan"}"#)) == .staleScan)
        #expect(try WorkerEvent.from(event(#"{"job_id":"j1","org_id":"acme"}"#)) == .job(id: "j1", org: "acme"))
        let scheduled = #"{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","account":"1","time":"2026-11-22T02:00:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:1:rule/r"],"detail":{}}"#
        #expect(try WorkerEvent.from(event(scheduled)) == .drain)
        #expect(throws: WorkerEvent.Unknown.self) { try WorkerEvent.from(event(#"{"task":"explode"}"#)) }
        #expect(throws: WorkerEvent.Unknown.self) { try WorkerEvent.from(event(#"{"secret":"do not log me"}"#)) }
        do { _ = try WorkerEvent.from(event(#"{"secret":"do not log me"}"#)) } catch {
            let text = "\(error)"
            #expect(!text.contains("do not log me") && text.contains("secret"))
        }
    }

    @Test func configurationAndChunkingRules() throws {
        let c = try WorkerConfiguration.fromEnvironment(["WORKER_LEASE_SECONDS": "5", "JOB_MAX_ATTEMPTS": "2", "CHUNK_SIZE": "300",
                                                         "CHUNK_OVERLAP": "30", "JOB_BACKOFF_BASE_SECONDS": "0.5"])
        #expect(c.lease == 5 && c.maxAttempts == 2 && c.chunking.chunkSize == 300 && c.chunking.overlap == 30 && c.backoff.base == 0.5)
        #expect(throws: WorkerConfiguration.Invalid.self) { try WorkerConfiguration.fromEnvironment(["WORKER_LEASE_SECONDS": "soon"]) }
        #expect(throws: WorkerConfiguration.Invalid.self) { try WorkerConfiguration.fromEnvironment(["CHUNK_SIZE": "100", "CHUNK_OVERLAP": "80"]) }

        let ready = DocVersion(id: "v", orgId: "acme", documentId: "d", embedModel: "m", dim: 3, chunkSize: 300, chunkOverlap: 50,
                               chunkerVersion: Chunker.version, sourceSha256: "s", state: .ready, createdAt: Date())
        // Nothing asked: the document keeps its chunking; no document version: the defaults.
        #expect(try ReembedParameters().chunking(current: ready, defaults: .default) == ChunkerConfiguration(chunkSize: 300, overlap: 50))
        #expect(try ReembedParameters().chunking(current: nil, defaults: .default) == .default)
        // A smaller size asked without an overlap gets the default overlap, shrunk to fit.
        #expect(try ReembedParameters(chunkSize: 64).chunking(current: ready, defaults: .default) == ChunkerConfiguration(chunkSize: 64, overlap: 31))
        #expect(try ReembedParameters(chunkSize: 400).chunking(current: ready, defaults: .default) == ChunkerConfiguration(chunkSize: 400, overlap: 40))
        let target = VersionTarget(model: "m", chunking: try ChunkerConfiguration(chunkSize: 300, overlap: 50))
        #expect(target.matches(ready, sourceSha256: "s") && !target.matches(ready, sourceSha256: "other"))
        #expect(target.jobKey(documentId: "d", force: false) != target.jobKey(documentId: "d", force: true))
    }
}
