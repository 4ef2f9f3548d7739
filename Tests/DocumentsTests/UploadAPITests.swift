import DocumentStore
import Documents
import Foundation
import Ingestion
import Testing
import TestSupport

/// The documents and jobs API against the real stores (SQLite and Postgres) and a real blob folder.
@Suite struct UploadAPITests {
    @Test(arguments: Backend.allCases) func uploadIsDurableThenTheSameBytesAreADuplicate(backend: Backend) async throws {
        let h = try Harness(backend)
        let text = "Leave policy\n\nEmployees get 12 days of paid leave per year.\n"
        let first = await h.upload(.file(text, filename: "leave-policy.txt", metadata: #"{"dept": "hr", "year": 2026}"#))
        #expect(first.status == 202, "\(first.text)")
        let documentId = try #require(first.string("document_id"))
        let jobId = try #require(first.string("job_id"))
        #expect(first.string("status") == "pending")
        #expect(first.json["created"] as? Bool == true)
        #expect(first.response.headers?["location"] == "/v1/documents/\(documentId)")
        let doc = first.document
        #expect(doc["id"] as? String == documentId)
        #expect(doc["title"] as? String == "leave-policy")
        #expect(doc["filename"] as? String == "leave-policy.txt")
        #expect(doc["mime_type"] as? String == "text/plain")
        #expect(doc["bytes"] as? Int == text.utf8.count)
        #expect(doc["sha256"] as? String == SHA256.hex(text))
        #expect((doc["metadata"] as? [String: Any])?["dept"] as? String == "hr")
        #expect(doc["ready_version_id"] is NSNull)
        #expect(doc["deleted_at"] is NSNull)
        #expect(isISO8601Millis(doc["created_at"]) && isISO8601Millis(doc["updated_at"]))
        #expect(doc["blob_uri"] == nil && doc["org_id"] == nil)

        // Committed: the document, its queued ingest job, and the blob on disk.
        let stored = try #require(try h.store.document(org: "acme", id: documentId))
        #expect(try h.blobs.read(uri: stored.blobURI) == Array(text.utf8))
        #expect(h.blobFiles().count == 1)
        let job = try #require(try h.store.job(org: "acme", id: jobId))
        #expect(job.type == .ingest && job.status == .queued && job.documentId == documentId)
        // The worker was asked at once.
        #expect(h.notified.withLock { $0 } == [WorkerRequest(jobId: jobId, orgId: "acme")])

        // The same bytes again, as multipart with another name and as a raw body: 200, same document, no job.
        let again = await h.upload(.file(text, filename: "copy.txt"))
        #expect(again.status == 200, "\(again.text)")
        #expect(again.string("document_id") == documentId)
        #expect(again.json["job_id"] is NSNull)
        #expect(again.json["created"] as? Bool == false)
        #expect(again.document["filename"] as? String == "leave-policy.txt")
        let raw = await h.uploadRaw(Array(text.utf8), contentType: "text/plain", query: ["filename": "raw.txt"])
        #expect(raw.status == 200 && raw.string("document_id") == documentId, "\(raw.text)")
        #expect(h.notified.withLock { $0.count } == 1)
        // The duplicates' spare blobs are gone; the original stays.
        #expect(h.blobFiles().count == 1)
        #expect(try h.store.listDocuments(org: "acme", status: nil, limit: 10, cursor: nil).items.count == 1)
    }

    @Test(arguments: Backend.allCases) func rawBodyUploadWithFilenameTitleAndMetadataInTheQuery(backend: Backend) async throws {
        let h = try Harness(backend)
        let md = "# Onboarding\n\nWelcome aboard.\n"
        let r = await h.uploadRaw(Array(md.utf8), contentType: "text/markdown; charset=utf-8",
                                  query: ["filename": "../../etc/on\u{7}boarding.md", "title": "  Onboarding\tguide ",
                                          "metadata": #"{"team":"people"}"#])
        #expect(r.status == 202, "\(r.text)")
        #expect(r.document["filename"] as? String == "onboarding.md")
        #expect(r.document["title"] as? String == "Onboarding guide")
        #expect(r.document["mime_type"] as? String == "text/markdown")
        #expect((r.document["metadata"] as? [String: Any])?["team"] as? String == "people")

        // No name at all: the type's default; a Content-Disposition header names it otherwise.
        let unnamed = await h.uploadRaw(Array("plain words".utf8), contentType: "text/plain")
        #expect(unnamed.document["filename"] as? String == "document.txt" && unnamed.document["title"] as? String == "document")
        let disposed = await h.uploadRaw(Array("{\"a\": 1}".utf8), contentType: "application/json",
                                         headers: ["content-disposition": "attachment; filename*=UTF-8''b%C3%A1o%20c%C3%A1o.json"])
        #expect(disposed.status == 202, "\(disposed.text)")
        #expect(disposed.document["filename"] as? String == "báo cáo.json")
        #expect(disposed.document["mime_type"] as? String == "application/json")
    }

    @Test(arguments: Backend.allCases) func everyAcceptedTypeIsSniffed(backend: Backend) async throws {
        let h = try Harness(backend)
        let cases: [([UInt8], String?, String, String)] = [
            (Array("plain".utf8), "text/plain", "a.txt", "text/plain"),
            (Array("# md".utf8), "text/markdown", "b.md", "text/markdown"),
            (Array("<!doctype html><p>hi</p>".utf8), "text/plain", "c.txt", "text/html"),  // the content says HTML
            (Array("{\"k\": [1, 2]}".utf8), "application/octet-stream", "d", "application/json"),
            (Bytes.pdf, "application/octet-stream", "e.bin", "application/pdf"),
            (Bytes.pdf, nil, "scan.pdf", "application/pdf"),
        ]
        for (i, (bytes, declared, name, expected)) in cases.enumerated() {
            var unique = bytes
            if expected != "application/pdf" && expected != "application/json" && expected != "text/html" { unique += Array(" \(i)".utf8) }
            if i == 5 { unique += [0x25, 0x25] }  // other bytes than case 4
            let r = await h.upload(.file(unique, filename: name, contentType: declared))
            #expect(r.status == 202, "\(name): \(r.text)")
            #expect(r.document["mime_type"] as? String == expected, "\(name)")
        }
    }

    @Test(arguments: Backend.allCases) func anotherOrgSeesNothingAndGetsItsOwnDocument(backend: Backend) async throws {
        let h = try Harness(backend)
        let text = "Quarterly numbers, confidential."
        let mine = await h.upload(.file(text))
        let id = try #require(mine.string("document_id"))
        let jobId = try #require(mine.string("job_id"))

        for (route, target) in [("GET /v1/documents/{id}", id), ("GET /v1/documents/{id}/versions", id),
                                ("DELETE /v1/documents/{id}", id), ("GET /v1/jobs/{id}", jobId)] {
            let r = await h.get(route, id: target, org: "globex")
            #expect(r.status == 404, "\(route): \(r.text)")
            #expect(r.errorCode == "not_found")
        }
        let list = await h.get("GET /v1/documents", org: "globex")
        #expect((list.json["documents"] as? [Any])?.isEmpty == true)
        // Still there for its owner.
        #expect(await h.get("GET /v1/documents/{id}", id: id).status == 200)

        // The same bytes in another org are another document, with its own job and blob.
        let theirs = await h.upload(.file(text), org: "globex")
        #expect(theirs.status == 202, "\(theirs.text)")
        #expect(theirs.string("document_id") != id)
        #expect(h.blobFiles().map { $0.split(separator: "/")[0] }.sorted() == ["acme", "globex"])
    }

    @Test(arguments: Backend.allCases) func listingPagesNewestFirstAndFiltersByStatus(backend: Backend) async throws {
        let h = try Harness(backend)
        var ids: [String] = []
        for i in 0..<5 {
            let r = await h.upload(.file("document number \(i)", filename: "d\(i).txt"))
            ids.append(try #require(r.string("document_id")))
        }
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            var query = ["limit": "2"]
            if let cursor { query["cursor"] = cursor }
            let page = await h.get("GET /v1/documents", query: query)
            #expect(page.status == 200, "\(page.text)")
            let docs = page.json["documents"] as? [[String: Any]] ?? []
            #expect(docs.count <= 2)
            seen += docs.compactMap { $0["id"] as? String }
            cursor = page.json["next_cursor"] as? String
            #expect(page.json["next_cursor"] != nil)  // present, null on the last page
            pages += 1
        } while cursor != nil && pages < 10
        #expect(pages == 3)
        #expect(seen == ids.reversed())

        #expect((await h.get("GET /v1/documents", query: ["status": "pending"]).json["documents"] as? [Any])?.count == 5)
        #expect((await h.get("GET /v1/documents", query: ["status": "ready"]).json["documents"] as? [Any])?.count == 0)
        #expect((await h.get("GET /v1/documents").json["documents"] as? [Any])?.count == 5)  // default page size 20

        for (query, field) in [(["limit": "0"], "limit"), (["limit": "101"], "limit"), (["limit": "ten"], "limit"),
                               (["status": "archived"], "status"), (["cursor": "not-a-cursor"], "cursor"),
                               (["cursor": "bad cursor\u{1}"], "cursor")] {
            let r = await h.get("GET /v1/documents", query: query)
            #expect(r.status == 422, "\(query): \(r.text)")
            #expect(r.errorCode == "validation_failed")
            #expect(r.errorDetails?["field"] as? String == field, "\(query)")
        }
    }

    @Test(arguments: Backend.allCases) func deleteIsSoftQueuesAJobAndIsIdempotent(backend: Backend) async throws {
        let h = try Harness(backend)
        let text = "To be deleted."
        let up = await h.upload(.file(text))
        let id = try #require(up.string("document_id"))

        let del = await h.get("DELETE /v1/documents/{id}", id: id)
        #expect(del.status == 202, "\(del.text)")
        #expect(del.string("status") == "deleted")
        let deleteJobId = try #require(del.string("job_id"))
        #expect(isISO8601Millis(del.document["deleted_at"]))
        let job = await h.get("GET /v1/jobs/{id}", id: deleteJobId)
        #expect(job.string("type") == "delete" && job.string("status") == "queued" && job.string("document_id") == id)
        #expect(h.notified.withLock { $0.last } == WorkerRequest(jobId: deleteJobId, orgId: "acme"))

        // Gone from listings (and from search: the store's search reads live documents only),
        // still answerable by id until the worker purges it.
        #expect((await h.get("GET /v1/documents").json["documents"] as? [Any])?.isEmpty == true)
        #expect((await h.get("GET /v1/documents", query: ["status": "deleted"]).json["documents"] as? [Any])?.count == 1)
        let shown = await h.get("GET /v1/documents/{id}", id: id)
        #expect(shown.status == 200 && shown.string("status") == "deleted")

        let again = await h.get("DELETE /v1/documents/{id}", id: id)
        #expect(again.status == 200, "\(again.text)")
        #expect(again.json["job_id"] is NSNull && again.json["created"] as? Bool == false)
        #expect(h.notified.withLock { $0.count } == 2)

        // The bytes are free again: a new document with its own job.
        let reupload = await h.upload(.file(text))
        #expect(reupload.status == 202, "\(reupload.text)")
        #expect(reupload.string("document_id") != id)
        #expect(reupload.string("job_id") != up.string("job_id"))

        // Purged by the worker: 404 from then on.
        try h.store.hardDeleteDocument(org: "acme", id: id)
        #expect(await h.get("GET /v1/documents/{id}", id: id).status == 404)
        #expect(await h.get("DELETE /v1/documents/{id}", id: id).status == 404)
    }

    @Test(arguments: Backend.allCases) func detailVersionsAndJobShapes(backend: Backend) async throws {
        let h = try Harness(backend)
        let up = await h.upload(.file("Versioned text."))
        let id = try #require(up.string("document_id"))
        let fresh = await h.get("GET /v1/documents/{id}", id: id)
        #expect(fresh.status == 200)
        #expect(fresh.json["ready_version"] is NSNull)
        #expect(fresh.json["version_count"] as? Int == 0 && fresh.json["chunk_count"] as? Int == 0)
        #expect((await h.get("GET /v1/documents/{id}/versions", id: id).json["versions"] as? [Any])?.isEmpty == true)

        // What the worker does, straight through the store: a version with two chunks, published.
        let v = try h.store.createVersion(org: "acme", NewVersion(documentId: id, embedModel: "test-model", dim: 3, chunkSize: 256,
                                                                   chunkOverlap: 32, chunkerVersion: "c1", sourceSha256: "src"))
        try h.store.insertChunks(org: "acme", versionId: v.id, [
            NewChunk(index: 0, content: "Versioned", contentSha256: "a", tokenCount: 1, charStart: 0, charEnd: 9, vector: [1, 0, 0]),
            NewChunk(index: 1, content: "text.", contentSha256: "b", tokenCount: 1, charStart: 10, charEnd: 15, vector: [0, 1, 0]),
        ])
        try h.store.publishVersion(org: "acme", id: v.id)

        let detail = await h.get("GET /v1/documents/{id}", id: id)
        #expect(detail.string("status") == "ready")
        #expect(detail.string("ready_version_id") == v.id)
        #expect(detail.json["version_count"] as? Int == 1 && detail.json["chunk_count"] as? Int == 2)
        let ready = try #require(detail.json["ready_version"] as? [String: Any])
        #expect(ready["id"] as? String == v.id && ready["state"] as? String == "ready" && ready["dim"] as? Int == 3)
        #expect(ready["embed_model"] as? String == "test-model" && isISO8601Millis(ready["ready_at"]))

        let versions = await h.get("GET /v1/documents/{id}/versions", id: id)
        #expect(versions.string("document_id") == id)
        let list = try #require(versions.json["versions"] as? [[String: Any]])
        #expect(list.count == 1)
        #expect(Set(list[0].keys) == ["id", "document_id", "state", "embed_model", "dim", "chunk_size", "chunk_overlap",
                                      "chunker_version", "source_sha256", "error", "created_at", "ready_at"])

        let upJobId = try #require(up.string("job_id"))
        let job = await h.get("GET /v1/jobs/{id}", id: upJobId)
        #expect(job.status == 200)
        #expect(Set(job.json.keys) == ["id", "type", "status", "document_id", "version_id", "params", "attempts", "max_attempts",
                                       "error", "duration_ms", "run_after", "created_at", "updated_at", "started_at", "finished_at"])
        #expect(job.json["attempts"] as? Int == 0 && job.json["max_attempts"] as? Int == 5)
        #expect(job.json["error"] is NSNull && job.json["started_at"] is NSNull)
        #expect(isISO8601Millis(job.json["run_after"]))

        for (route, bad) in [("GET /v1/documents/{id}", "nope"), ("GET /v1/documents/{id}", "../x"), ("GET /v1/documents/{id}", "a\u{0}b"),
                             ("GET /v1/documents/{id}/versions", String(repeating: "a", count: 200)), ("GET /v1/jobs/{id}", "j1"),
                             ("GET /v1/jobs/{id}", "")] {
            let r = await h.get(route, id: bad)
            #expect(r.status == 404, "\(route) \(bad): \(r.text)")
            #expect(r.errorCode == "not_found")
        }
    }

    @Test func aWorkerThatCannotBeReachedDoesNotFailTheUpload() async throws {
        let h = try Harness(workerFails: true)
        let r = await h.upload(.file("queued anyway"))
        #expect(r.status == 202, "\(r.text)")
        let jobId = try #require(r.string("job_id"))
        #expect(try h.store.job(org: "acme", id: jobId)?.status == .queued)
        #expect(h.warnings.withLock { $0 }.contains { $0.contains("queue drain") })
        let del = await h.get("DELETE /v1/documents/{id}", id: r.string("document_id"))
        #expect(del.status == 202)
        #expect(h.warnings.withLock { $0.count } == 2)
    }

    @Test func aBlobStoreThatCannotWriteIs503AndNothingIsCommitted() async throws {
        let dir = TestPaths.temporaryDirectory("upload-blobs")
        _ = FileManager.default.createFile(atPath: dir + "/a-file", contents: Data())
        let h = try Harness(blobRoot: dir + "/a-file/blobs")
        let r = await h.upload(.file("nowhere to go"))
        #expect(r.status == 503, "\(r.text)")
        #expect(r.errorCode == "service_unavailable")
        #expect(try h.store.listDocuments(org: "acme", status: nil, limit: 10, cursor: nil).items.isEmpty)
        #expect(h.notified.withLock { $0 }.isEmpty)
    }

    @Test func concurrentUploadsOfTheSameBytesMakeOneDocument() async throws {
        let h = try Harness()
        let statuses = await withTaskGroup(of: (Int, String?).self) { group in
            for _ in 0..<6 {
                group.addTask {
                    let r = await h.upload(.file("raced bytes"))
                    return (r.status, r.string("document_id"))
                }
            }
            return await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0.0 == 202 }.count == 1)
        #expect(statuses.filter { $0.0 == 200 }.count == 5)
        #expect(Set(statuses.compactMap(\.1)).count == 1)
        #expect(h.blobFiles().count == 1)
    }
}
