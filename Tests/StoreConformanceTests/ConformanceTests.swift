import DocumentStore
import Foundation
import JSON
import Testing

/// One suite, every store: what ingestion, search and the jobs API rely on.
@Suite struct ConformanceTests {
    // MARK: Schema

    @Test(arguments: Backend.allCases)
    func migrationsRunFromEmptyOnceEvenWhenProcessesRace(_ backend: Backend) async throws {
        let db = try backend.fresh()
        #expect(try db.store.migrationStatus().isCurrent)
        #expect(try db.store.migrationStatus().applied.first == "001_init")
        // Several connections migrating together (processes starting at once) all succeed.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                let c = try db.connection()
                group.addTask { try c.migrate() }
            }
            try await group.waitForAll()
        }
        #expect(try db.store.migrationStatus().pending.isEmpty)
        try db.store.ping()
    }

    // MARK: Documents

    @Test(arguments: Backend.allCases)
    func sameBytesTwiceIsOneDocumentAndOneJob(_ backend: Backend) throws {
        let store = try backend.fresh().store
        let new = Fixture.document(org: "acme", content: "hello world")
        let first = try store.createDocument(new, job: NewJob(orgId: "acme", type: .ingest))
        #expect(first.created)
        #expect(first.document.status == .pending)
        let job = try #require(first.job)
        #expect(job.documentId == first.document.id)
        #expect(job.status == .queued)

        let again = try store.createDocument(new, job: NewJob(orgId: "acme", type: .ingest))
        #expect(!again.created)
        #expect(again.job == nil)
        #expect(again.document.id == first.document.id)

        // Another org uploading the same bytes gets its own document.
        let other = try store.createDocument(Fixture.document(org: "globex", content: "hello world"), job: nil)
        #expect(other.created)
        #expect(other.document.id != first.document.id)

        // A deleted document frees its hash.
        _ = try store.softDeleteDocument(org: "acme", id: first.document.id, job: nil)
        let afterDelete = try store.createDocument(new, job: nil)
        #expect(afterDelete.created)
    }

    @Test(arguments: Backend.allCases)
    func listingPagesThroughEverythingOnce(_ backend: Backend) throws {
        let store = try backend.fresh().store
        var ids: Set<String> = []
        for i in 0..<25 { ids.insert(try store.createDocument(Fixture.document(org: "acme", content: "doc \(i)"), job: nil).document.id) }
        _ = try store.createDocument(Fixture.document(org: "globex", content: "theirs"), job: nil)
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try store.listDocuments(org: "acme", status: nil, limit: 10, cursor: cursor)
            seen += page.items.map(\.id)
            cursor = page.nextCursor
            pages += 1
        } while cursor != nil && pages < 10
        #expect(pages == 3)
        #expect(seen.count == 25)
        #expect(Set(seen) == ids)
        // Newest first.
        let all = try store.listDocuments(org: "acme", status: nil, limit: 100, cursor: nil).items
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.createdAt >= $1.createdAt })
        #expect(throws: StoreError.self) { try store.listDocuments(org: "acme", status: nil, limit: 10, cursor: "garbage!") }
        #expect(try store.listDocuments(org: "acme", status: .ready, limit: 10, cursor: nil).items.isEmpty)
        #expect(try store.listDocuments(org: "acme", status: .pending, limit: 100, cursor: nil).items.count == 25)
    }

    // MARK: Tenant isolation

    @Test(arguments: Backend.allCases)
    func anotherOrgsIdsBehaveAsIfAbsent(_ backend: Backend) throws {
        let store = try backend.fresh().store
        let content = "Quy trình xin nghỉ phép năm"
        let (mine, myVersion) = try Fixture.readyDocument(store, org: "acme", content: content, chunks: [(content, [1, 0, 0, 0])])
        let (theirs, _) = try Fixture.readyDocument(store, org: "globex", content: content, chunks: [(content, [1, 0, 0, 0])])
        let myChunks = try store.chunks(org: "acme", versionId: myVersion.id)
        let myJob = try store.enqueue(NewJob(orgId: "acme", type: .reembed, documentId: mine.id, idempotencyKey: "k")).job

        #expect(try store.document(org: "globex", id: mine.id) == nil)
        #expect(try store.documentDetail(org: "globex", id: mine.id) == nil)
        #expect(try store.listDocuments(org: "globex", status: nil, limit: 100, cursor: nil).items.map(\.id) == [theirs.id])
        #expect(try store.version(org: "globex", id: myVersion.id) == nil)
        #expect(try store.versions(org: "globex", documentId: mine.id).isEmpty)
        #expect(try store.chunks(org: "globex", versionId: myVersion.id).isEmpty)
        #expect(try store.chunks(org: "globex", ids: myChunks.map(\.id)).isEmpty)
        #expect(try store.documentTitles(org: "globex", ids: [mine.id, theirs.id]) == [theirs.id: theirs.title])
        #expect(try store.documentTitles(org: "acme", ids: [mine.id, theirs.id, "unknown"]) == [mine.id: mine.title])
        #expect(try store.job(org: "globex", id: myJob.id) == nil)
        #expect(throws: StoreError.notFound("document \(mine.id)")) { try store.createVersion(org: "globex", Fixture.version(mine.id)) }
        #expect(throws: StoreError.self) { try store.markVersionFailed(org: "globex", id: myVersion.id, error: "x") }
        #expect(throws: StoreError.self) { try store.publishVersion(org: "globex", id: myVersion.id) }
        #expect(throws: StoreError.self) { try store.insertChunks(org: "globex", versionId: myVersion.id, []) }
        #expect(try store.softDeleteDocument(org: "globex", id: mine.id, job: nil) == nil)
        #expect(try store.hardDeleteDocument(org: "globex", id: mine.id) == false)

        // Identical content and vectors: each org's searches see only its own rows.
        let dense = try store.denseSearch(org: "acme", model: "test-model", query: [1, 0, 0, 0], k: 10, filter: SearchFilter())
        #expect(dense.map(\.documentId) == [mine.id])
        let keyword = try store.keywordSearch(org: "globex", query: "nghỉ phép", k: 10, filter: SearchFilter())
        #expect(keyword.map(\.documentId) == [theirs.id])
        #expect(try store.denseSearch(org: "acme", model: "test-model", query: [1, 0, 0, 0], k: 10,
                                      filter: SearchFilter(documentIds: [theirs.id])).isEmpty)
        // Vector reuse never crosses tenants.
        #expect(try store.reusableVectors(org: "initech", model: "test-model", contentSha256s: [Fixture.sha(content)]).isEmpty)
        // Idempotency keys are per org.
        let theirJob = try store.enqueue(NewJob(orgId: "globex", type: .reembed, idempotencyKey: "k"))
        #expect(theirJob.created)
        #expect(theirJob.job.id != myJob.id)
        // Everything of acme is still there.
        #expect(try store.document(org: "acme", id: mine.id)?.status == .ready)
    }

    // MARK: Versions

    @Test(arguments: Backend.allCases)
    func publishingFlipsOneReadyVersionAtATime(_ backend: Backend) throws {
        let store = try backend.fresh().store
        let (doc, v1) = try Fixture.readyDocument(store, org: "acme", content: "flip", chunks: [("old text", [1, 0, 0, 0])])
        #expect(doc.status == .ready)
        #expect(doc.readyVersionId == v1.id)

        let v2 = try store.createVersion(org: "acme", Fixture.version(doc.id))
        try store.insertChunks(org: "acme", versionId: v2.id, [Fixture.chunk(0, "new text", [0, 1, 0, 0])])
        // While v2 is indexing, search still reads v1 only.
        #expect(try store.keywordSearch(org: "acme", query: "new", k: 5, filter: SearchFilter()).isEmpty)
        #expect(try store.keywordSearch(org: "acme", query: "old", k: 5, filter: SearchFilter()).count == 1)
        try store.publishVersion(org: "acme", id: v2.id)
        let states = Dictionary(uniqueKeysWithValues: try store.versions(org: "acme", documentId: doc.id).map { ($0.id, $0.state) })
        #expect(states == [v1.id: .superseded, v2.id: .ready])
        #expect(try store.keywordSearch(org: "acme", query: "old", k: 5, filter: SearchFilter()).isEmpty)
        #expect(try store.keywordSearch(org: "acme", query: "new", k: 5, filter: SearchFilter()).first?.versionId == v2.id)
        let detail = try #require(try store.documentDetail(org: "acme", id: doc.id))
        #expect(detail.readyVersion?.id == v2.id)
        #expect(detail.versionCount == 2)
        #expect(detail.chunkCount == 1)

        // Only an indexing version can be published or failed.
        #expect(throws: StoreError.self) { try store.publishVersion(org: "acme", id: v1.id) }
        let v3 = try store.createVersion(org: "acme", Fixture.version(doc.id))
        try store.markVersionFailed(org: "acme", id: v3.id, error: "embedding service down")
        #expect(try store.version(org: "acme", id: v3.id)?.error == "embedding service down")
        #expect(throws: StoreError.self) { try store.publishVersion(org: "acme", id: v3.id) }
        // A failed rebuild leaves the document ready on its old version.
        #expect(try store.document(org: "acme", id: doc.id)?.status == .ready)
        #expect(try store.document(org: "acme", id: doc.id)?.readyVersionId == v2.id)

        // A first version that fails marks the document failed.
        let (fresh, _, _) = try store.createDocument(Fixture.document(org: "acme", content: "never indexed"), job: nil)
        let fv = try store.createVersion(org: "acme", Fixture.version(fresh.id))
        try store.markVersionFailed(org: "acme", id: fv.id, error: "unreadable PDF")
        #expect(try store.document(org: "acme", id: fresh.id)?.status == .failed)
    }

    @Test(arguments: Backend.allCases)
    func aReaderNeverSeesZeroOrTwoReadyVersionsDuringFlips(_ backend: Backend) async throws {
        let db = try backend.fresh()
        let (doc, _) = try Fixture.readyDocument(db.store, org: "acme", content: "busy", chunks: [("alpha", [1, 0, 0, 0])])
        let writer = try db.connection(), reader = try db.connection()
        let flips = 15
        let observations = try await withThrowingTaskGroup(of: [Int].self) { group in
            group.addTask {
                for i in 0..<flips {
                    let v = try writer.createVersion(org: "acme", Fixture.version(doc.id))
                    try writer.insertChunks(org: "acme", versionId: v.id, [Fixture.chunk(0, "alpha \(i)", [1, 0, 0, 0])])
                    try writer.publishVersion(org: "acme", id: v.id)
                }
                return []
            }
            group.addTask {
                var seen: [Int] = []
                let deadline = Date().addingTimeInterval(20)
                while seen.count < 400 && Date() < deadline {
                    // What search sees: chunks of ready versions of this document.
                    let hits = try reader.denseSearch(org: "acme", model: "test-model", query: [1, 0, 0, 0], k: 10, filter: SearchFilter())
                    seen.append(Set(hits.map(\.versionId)).count)
                    let readyVersions = try reader.versions(org: "acme", documentId: doc.id).filter { $0.state == .ready }.count
                    seen.append(readyVersions)
                }
                return seen
            }
            var all: [Int] = []
            for try await o in group { all += o }
            return all
        }
        #expect(!observations.isEmpty)
        #expect(observations.allSatisfy { $0 == 1 }, "saw \(Set(observations)) ready versions")
        #expect(try db.store.versions(org: "acme", documentId: doc.id).filter { $0.state == .ready }.count == 1)
    }

    // MARK: Chunks and vectors

    @Test(arguments: Backend.allCases)
    func vectorsAreReusedByContentHashAndModel(_ backend: Backend) throws {
        let store = try backend.fresh().store
        let a: [Float] = [0.1, 0.2, 0.3, 0.4], b: [Float] = [-1, 0.5, 0.25, 1e-7]
        try Fixture.readyDocument(store, org: "acme", content: "reuse", chunks: [("first", a), ("second", b)])
        let found = try store.reusableVectors(org: "acme", model: "test-model", contentSha256s: [Fixture.sha("first"), Fixture.sha("second"), Fixture.sha("new")])
        #expect(found == [Fixture.sha("first"): a, Fixture.sha("second"): b])  // exactly, bit for bit
        #expect(try store.reusableVectors(org: "acme", model: "other-model", contentSha256s: [Fixture.sha("first")]).isEmpty)
        #expect(try store.readyModels(org: "acme") == ["test-model": 4])
    }

    /// The models a query must be embedded with follow flips and deletes at once, in a store
    /// that already answered (SQLite remembers the answer for a search generation).
    @Test(arguments: Backend.allCases)
    func readyModelsFollowFlipsAndDeletes(_ backend: Backend) throws {
        let store = try backend.fresh().store
        #expect(try store.readyModels(org: "acme").isEmpty)
        let (a, _) = try Fixture.readyDocument(store, org: "acme", content: "on a", chunks: [("a", [1, 0, 0, 0])], model: "model-a")
        #expect(try store.readyModels(org: "acme") == ["model-a": 4])
        let (b, _) = try Fixture.readyDocument(store, org: "acme", content: "on b", chunks: [("b", [0, 1, 0])], model: "model-b")
        #expect(try store.readyModels(org: "acme") == ["model-a": 4, "model-b": 3])
        #expect(try store.readyModels(org: "globex").isEmpty)
        _ = try store.softDeleteDocument(org: "acme", id: a.id, job: nil)
        #expect(try store.readyModels(org: "acme") == ["model-b": 3])
        #expect(try store.hardDeleteDocument(org: "acme", id: b.id))
        #expect(try store.readyModels(org: "acme").isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func oneModelIdKeepsOneVectorSize(_ backend: Backend) throws {
        let store = try backend.fresh().store
        #expect(try store.storedDimensions(model: "test-model").isEmpty)
        try Fixture.readyDocument(store, org: "acme", content: "four", chunks: [("four dims", [1, 0, 0, 0])])
        // Sizes are store-wide: another org's version of the model cannot take another size either.
        let (doc, _, _) = try store.createDocument(Fixture.document(org: "globex", content: "eight"), job: nil)
        #expect(throws: StoreError.self) { try store.createVersion(org: "globex", Fixture.version(doc.id, dim: 8)) }
        do {
            _ = try store.createVersion(org: "globex", Fixture.version(doc.id, dim: 8))
        } catch {
            #expect("\(error)".contains("test-model already has 4-dimensional vectors"))
        }
        // The same size, or another model id, is fine.
        _ = try store.createVersion(org: "globex", Fixture.version(doc.id, dim: 4))
        _ = try store.createVersion(org: "globex", Fixture.version(doc.id, model: "test-model@8", dim: 8))
        #expect(try store.storedDimensions(model: "test-model") == [4])
        #expect(try store.storedDimensions(model: "test-model@8") == [8])
    }

    @Test(arguments: Backend.allCases)
    func hardDeleteRemovesEverythingBelow(_ backend: Backend) throws {
        let store = try backend.fresh().store
        let (doc, v) = try Fixture.readyDocument(store, org: "acme", content: "gone", chunks: [("to be removed", [1, 0, 0, 0])])
        let chunkIds = try store.chunks(org: "acme", versionId: v.id).map(\.id)
        #expect(try store.hardDeleteDocument(org: "acme", id: doc.id))
        #expect(try store.document(org: "acme", id: doc.id) == nil)
        #expect(try store.versions(org: "acme", documentId: doc.id).isEmpty)
        #expect(try store.chunks(org: "acme", ids: chunkIds).isEmpty)
        #expect(try store.reusableVectors(org: "acme", model: "test-model", contentSha256s: [Fixture.sha("to be removed")]).isEmpty)
        #expect(try store.keywordSearch(org: "acme", query: "removed", k: 5, filter: SearchFilter()).isEmpty)
        #expect(try store.denseSearch(org: "acme", model: "test-model", query: [1, 0, 0, 0], k: 5, filter: SearchFilter()).isEmpty)
        #expect(try store.hardDeleteDocument(org: "acme", id: doc.id) == false)
    }

    @Test(arguments: Backend.allCases)
    func softDeleteHidesAtOnceAndQueuesCleanup(_ backend: Backend) throws {
        let store = try backend.fresh().store
        let (doc, _) = try Fixture.readyDocument(store, org: "acme", content: "soft", chunks: [("visible words", [1, 0, 0, 0])])
        // Warm the dense cache first: the delete must invalidate it.
        #expect(try store.denseSearch(org: "acme", model: "test-model", query: [1, 0, 0, 0], k: 5, filter: SearchFilter()).count == 1)
        let result = try #require(try store.softDeleteDocument(org: "acme", id: doc.id, job: NewJob(orgId: "acme", type: .delete)))
        #expect(result.document.status == .deleted)
        #expect(result.document.deletedAt != nil)
        #expect(result.job?.type == .delete)
        #expect(result.job?.documentId == doc.id)
        #expect(try store.denseSearch(org: "acme", model: "test-model", query: [1, 0, 0, 0], k: 5, filter: SearchFilter()).isEmpty)
        #expect(try store.keywordSearch(org: "acme", query: "visible", k: 5, filter: SearchFilter()).isEmpty)
        // A search that ranked it just before the delete gets no title for it, so drops it.
        #expect(try store.documentTitles(org: "acme", ids: [doc.id]).isEmpty)
        #expect(try store.listDocuments(org: "acme", status: nil, limit: 10, cursor: nil).items.isEmpty)
        #expect(try store.listDocuments(org: "acme", status: .deleted, limit: 10, cursor: nil).items.map(\.id) == [doc.id])
        #expect(try store.softDeleteDocument(org: "acme", id: doc.id, job: nil) == nil)
        #expect(throws: StoreError.self) { try store.createVersion(org: "acme", Fixture.version(doc.id)) }
    }

    @Test(arguments: Backend.allCases)
    func staleDocumentsAreThoseBuiltWithAnotherModelOrChunker(_ backend: Backend) throws {
        let store = try backend.fresh().store
        let (current, _) = try Fixture.readyDocument(store, org: "acme", content: "current", chunks: [("a", [1, 0, 0, 0])], model: "m2")
        let (old, _) = try Fixture.readyDocument(store, org: "acme", content: "old", chunks: [("b", [1, 0, 0, 0])], model: "m1")
        let (otherOrg, _) = try Fixture.readyDocument(store, org: "globex", content: "old too", chunks: [("c", [1, 0, 0, 0])], model: "m1")
        let stale = Set(try store.staleDocuments(embedModel: "m2", chunkerVersion: "c1", limit: 100).map(\.id))
        #expect(stale == [old.id, otherOrg.id])
        #expect(!stale.contains(current.id))
        // A document already being rebuilt is not handed out twice.
        _ = try store.createVersion(org: "acme", Fixture.version(old.id, model: "m2"))
        #expect(Set(try store.staleDocuments(embedModel: "m2", chunkerVersion: "c1", limit: 100).map(\.id)) == [otherOrg.id])
    }

    // MARK: Bad input

    /// SQLite and libpq take strings as C strings: `id + "\0x"` would be cut to `id` and select its
    /// row. Every string a caller hands a store is refused with a NUL instead, on both stores.
    @Test(arguments: Backend.allCases)
    func aValueWithANULNeverMatchesAnotherRow(_ backend: Backend) throws {
        let store = try backend.fresh().store
        let (doc, version) = try Fixture.readyDocument(store, org: "acme", content: "leave policy days", chunks: [("leave policy days", [1, 0, 0, 0])])
        func invalid(_ field: String, _ body: () throws -> Void) -> Bool {
            do { try body(); return false } catch let e as StoreError {
                if case .invalidInput(let f, _) = e { return f == field }
                return false
            } catch { return false }
        }
        let nul = "\u{0}x"
        #expect(invalid("id") { _ = try store.document(org: "acme", id: doc.id + nul) })
        #expect(invalid("id") { _ = try store.documentDetail(org: "acme", id: doc.id + nul) })
        #expect(invalid("id") { _ = try store.softDeleteDocument(org: "acme", id: doc.id + nul, job: nil) })
        #expect(invalid("id") { _ = try store.hardDeleteDocument(org: "acme", id: doc.id + nul) })
        #expect(invalid("document_id") { _ = try store.versions(org: "acme", documentId: doc.id + nul) })
        #expect(invalid("id") { _ = try store.version(org: "acme", id: version.id + nul) })
        #expect(invalid("version_id") { _ = try store.chunks(org: "acme", versionId: version.id + nul) })
        #expect(invalid("ids") { _ = try store.documentTitles(org: "acme", ids: [doc.id + nul]) })
        #expect(invalid("cursor") { _ = try store.listDocuments(org: "acme", status: nil, limit: 10, cursor: "abc" + nul) })
        #expect(invalid("query") { _ = try store.keywordSearch(org: "acme", query: "leave" + nul, k: 5, filter: SearchFilter()) })
        #expect(invalid("filter.document_ids") {
            _ = try store.keywordSearch(org: "acme", query: "leave", k: 5, filter: SearchFilter(documentIds: [doc.id + nul]))
        })
        #expect(invalid("filter.metadata.dept") {
            _ = try store.denseSearch(org: "acme", model: "test-model", query: [1, 0, 0, 0], k: 5,
                                      filter: SearchFilter(metadata: ["dept": .equals(.string("hr" + nul))]))
        })
        #expect(invalid("title") {
            var d = Fixture.document(org: "acme", content: "another")
            d.title = "t" + nul
            _ = try store.createDocument(d, job: nil)
        })
        // The document is untouched and still found by its real id.
        #expect(try store.document(org: "acme", id: doc.id)?.deletedAt == nil)
    }

    @Test(arguments: Backend.allCases)
    func documentCountsPerStatusAreTheOrgsOwn(_ backend: Backend) throws {
        let store = try backend.fresh().store
        _ = try Fixture.readyDocument(store, org: "acme", content: "ready one", chunks: [("a", [1, 0, 0, 0])])
        _ = try store.createDocument(Fixture.document(org: "acme", content: "pending one"), job: nil)
        _ = try store.createDocument(Fixture.document(org: "acme", content: "pending two"), job: nil)
        _ = try store.createDocument(Fixture.document(org: "globex", content: "someone else's"), job: nil)
        #expect(try store.documentCounts(org: "acme") == [.ready: 1, .pending: 2])
        #expect(try store.documentCounts(org: "globex") == [.pending: 1])
        #expect(try store.documentCounts(org: "initech").isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func badInputIsATypedError(_ backend: Backend) throws {
        let store = try backend.fresh().store
        let (doc, _, _) = try store.createDocument(Fixture.document(org: "acme", content: "bad input"), job: nil)
        let v = try store.createVersion(org: "acme", Fixture.version(doc.id, dim: 4))
        func invalid(_ body: () throws -> Void) -> Bool {
            do { try body(); return false } catch let e as StoreError { if case .invalidInput = e { return true }; return false } catch { return false }
        }
        #expect(invalid { try store.insertChunks(org: "acme", versionId: v.id, [Fixture.chunk(0, "x", [])]) })
        #expect(invalid { try store.insertChunks(org: "acme", versionId: v.id, [Fixture.chunk(0, "x", [1, 2, 3])]) })
        #expect(invalid { try store.insertChunks(org: "acme", versionId: v.id, [Fixture.chunk(0, "x", [1, .nan, 0, 0])]) })
        #expect(invalid { try store.insertChunks(org: "acme", versionId: v.id, [Fixture.chunk(0, "x", [1, .infinity, 0, 0])]) })
        #expect(try store.chunks(org: "acme", versionId: v.id).isEmpty)  // nothing half-inserted
        let huge: JSONObject = ["blob": .string(String(repeating: "x", count: 20_000))]
        #expect(invalid { _ = try store.createDocument(Fixture.document(org: "acme", content: "meta", metadata: huge), job: nil) })
        #expect(invalid { _ = try store.createVersion(org: "acme", Fixture.version(doc.id, dim: 0)) })
        #expect(invalid { _ = try store.denseSearch(org: "acme", model: "test-model", query: [], k: 5, filter: SearchFilter()) })
        #expect(invalid { _ = try store.denseSearch(org: "acme", model: "test-model", query: [.nan, 0, 0, 0], k: 5, filter: SearchFilter()) })
        try store.insertChunks(org: "acme", versionId: v.id, [Fixture.chunk(0, "ok", [1, 0, 0, 0])])
        try store.publishVersion(org: "acme", id: v.id)
        #expect(invalid { _ = try store.denseSearch(org: "acme", model: "test-model", query: [1, 0], k: 5, filter: SearchFilter()) })
        #expect(throws: StoreError.self) { try store.insertChunks(org: "acme", versionId: v.id, [Fixture.chunk(1, "late", [1, 0, 0, 0])]) }
    }
}
