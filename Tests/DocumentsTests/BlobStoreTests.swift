import Documents
import Foundation
import Ingestion
import Tenancy
import Testing
import TestSupport

@Suite struct BlobStoreTests {
    func store() -> FileBlobStore { FileBlobStore(root: TestPaths.temporaryDirectory("blobs") + "/nested/blobs") }

    func files(_ dir: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() }

    @Test func writeIsAFileUnderTheOrgFolderAndReadsBack() throws {
        let blobs = store()
        let bytes = Array("hello blob\n".utf8)
        let sha = SHA256.hex(bytes)
        let ref = try blobs.write(org: "acme", sha256: sha, bytes: bytes)
        #expect(ref.uri.hasPrefix("file:///"))
        #expect(ref.bytes == bytes.count)
        let path = try blobs.path(of: ref.uri)
        #expect(path == blobs.root + "/acme/\(sha)-\(ref.id)")
        #expect(FileManager.default.contents(atPath: path) == Data(bytes))
        #expect(try blobs.read(uri: ref.uri) == bytes)
        // Nothing but the blob: the temporary file was renamed into place.
        #expect(files(blobs.root + "/acme") == ["\(sha)-\(ref.id)"])
        // Not world-readable: documents are tenant data.
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0
        #expect(mode & 0o007 == 0)
    }

    @Test func deleteRemovesAndIsIdempotent() throws {
        let blobs = store()
        let ref = try blobs.write(org: "acme", sha256: SHA256.hex("x"), bytes: Array("x".utf8))
        try blobs.delete(uri: ref.uri)
        #expect(files(blobs.root + "/acme").isEmpty)
        #expect(throws: BlobStoreError.notFound(ref.uri)) { try blobs.read(uri: ref.uri) }
        try blobs.delete(uri: ref.uri)
    }

    @Test func concurrentWritersOfTheSameBytesEachGetACompleteBlob() async throws {
        let blobs = store()
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let sha = SHA256.hex(bytes)
        let refs = try await withThrowingTaskGroup(of: BlobRef.self) { group in
            for _ in 0..<8 { group.addTask { try blobs.write(org: "acme", sha256: sha, bytes: bytes) } }
            return try await group.reduce(into: [BlobRef]()) { $0.append($1) }
        }
        #expect(Set(refs.map(\.uri)).count == 8)
        for ref in refs { #expect(try blobs.read(uri: ref.uri) == bytes) }
        let names = files(blobs.root + "/acme")
        #expect(names.count == 8)
        #expect(names.allSatisfy { $0.hasPrefix(sha + "-") })  // no temporary file left behind
    }

    @Test func orgIdsThatAreNotPlainNamesCannotEscapeTheRoot() throws {
        let blobs = store()
        #expect(FileBlobStore.folderName(org: "acme-corp_1.eu") == "acme-corp_1.eu")
        for org in ["../evil", "..", ".", ".hidden", "a/b", "a\\b", "", "x\u{0}y", String(repeating: "a", count: 101), "tổ chức"] {
            let folder = FileBlobStore.folderName(org: org)
            #expect(folder.hasPrefix("~") && folder.count == 65, "\(org)")
        }
        #expect(FileBlobStore.folderName(org: "a/b") != FileBlobStore.folderName(org: "a\\b"))
        // `OrgID` cannot hold such a name at all; one with `:` or `@` is valid but still hashed.
        let escape = "../../etc"
        #expect(OrgID(escape) == nil)
        let ref = try blobs.write(org: "team@acme:eu", sha256: SHA256.hex("y"), bytes: Array("y".utf8))
        #expect(try blobs.path(of: ref.uri).hasPrefix(blobs.root + "/~"))
    }

    @Test func urisOutsideTheStoreAreRefused() throws {
        let blobs = store()
        let ref = try blobs.write(org: "acme", sha256: SHA256.hex("z"), bytes: Array("z".utf8))
        let outside = ["file:///etc/passwd", "http://example.com/x", "not a uri", "file://\(blobs.root)/acme",
                       "file://\(blobs.root)/acme/../../x/y", "file://\(blobs.root)/acme/.tmp-1234", ref.uri + "/more"]
        for uri in outside {
            #expect(throws: BlobStoreError.self, "\(uri)") { try blobs.read(uri: uri) }
            #expect(throws: BlobStoreError.self, "\(uri)") { try blobs.delete(uri: uri) }
        }
    }

    @Test func aRootThatCannotBeCreatedFailsTheWrite() throws {
        let dir = TestPaths.temporaryDirectory("blobs")
        _ = FileManager.default.createFile(atPath: dir + "/a-file", contents: Data())
        let blobs = FileBlobStore(root: dir + "/a-file/blobs")
        #expect(throws: BlobStoreError.self) { try blobs.write(org: "acme", sha256: SHA256.hex("x"), bytes: [1]) }
        #expect(throws: BlobStoreError.invalidURI("sha256 must be 64 lower-case hex digits")) {
            try store().write(org: "acme", sha256: "../../x", bytes: [1])
        }
    }

    @Test func relativeRootsAreAnchoredAtTheWorkingDirectory() {
        let blobs = FileBlobStore(root: ".data/./blobs")
        #expect(blobs.root == FileManager.default.currentDirectoryPath + "/.data/blobs")
    }

    @Test func staleTemporaryFilesAreSwept() throws {
        let blobs = store()
        _ = try blobs.write(org: "acme", sha256: SHA256.hex("a"), bytes: [1])
        let old = blobs.root + "/acme/.tmp-deadbeef"
        let fresh = blobs.root + "/acme/.tmp-cafebabe"
        _ = FileManager.default.createFile(atPath: old, contents: Data([1, 2]))
        _ = FileManager.default.createFile(atPath: fresh, contents: Data([1, 2]))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: old)
        #expect(blobs.removeStaleTemporaryFiles(olderThan: 3600) == 1)
        #expect(!FileManager.default.fileExists(atPath: old))
        #expect(FileManager.default.fileExists(atPath: fresh))
    }
}
