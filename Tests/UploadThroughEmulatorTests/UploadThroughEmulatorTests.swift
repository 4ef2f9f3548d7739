import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport

/// The `upload` function through the real emulator and the real template: the JWT authorizer,
/// the gateway's body encoding, the handler process, the store and blob folder it opens from
/// its environment, and the async invocation of the worker that indexes what was uploaded.
@Suite(.serialized) struct UploadThroughEmulatorTests {
    @Test func documentsLifecycleThroughTheBundle() async throws {
        let emu = try await BundleEmulator.start(prefix: "upload-bundle")
        defer { emu.stop() }
        let acme = try await emu.token(org: "acme")
        let text = "Remote work policy\n\nStaff may work remotely two days a week.\n"

        // Multipart upload: 202 with the document and its job, committed before the answer.
        let up = try await emu.request("POST", "/v1/documents", body: MultipartBody.make(file: Array(text.utf8), filename: "remote-work.txt",
                                                                                      title: "Remote work", metadata: #"{"dept":"hr"}"#),
                                       headers: ["Content-Type": MultipartBody.contentType, "Authorization": "Bearer \(acme)"])
        #expect(up.status == 202, "\(up.text)")
        let id = try #require(up.json["document_id"] as? String)
        let jobId = try #require(up.json["job_id"] as? String)
        #expect(up.json["status"] as? String == "pending")
        #expect((up.json["document"] as? [String: Any])?["title"] as? String == "Remote work")
        #expect(up.headers["location"] == "/v1/documents/\(id)")

        // The blob is on disk under BLOB_DIR, in the org's folder.
        let blobs = (try? FileManager.default.contentsOfDirectory(atPath: emu.data + "/blobs/acme")) ?? []
        #expect(blobs.count == 1 && blobs.first?.hasPrefix(SHA256Hex.of(text)) == true, "\(blobs)")

        // The worker was asked at once: the async invocation reached it.
        #expect(await emu.child.waitForStderr(containing: "[ReembedFunction] START RequestId:", timeout: 30) != nil)

        // The same bytes again: 200, the same document, no new job.
        let again = try await emu.request("POST", "/v1/documents", body: MultipartBody.make(file: Array(text.utf8), filename: "again.txt"),
                                          headers: ["Content-Type": MultipartBody.contentType, "Authorization": "Bearer \(acme)"])
        #expect(again.status == 200, "\(again.text)")
        #expect(again.json["document_id"] as? String == id)
        #expect(again.json["job_id"] is NSNull)

        // A raw body with ?filename=.
        let raw = try await emu.request("POST", "/v1/documents?filename=faq.md&title=FAQ", body: Data("# FAQ\n\nAsk away.\n".utf8),
                                        headers: ["Content-Type": "text/markdown", "Authorization": "Bearer \(acme)"])
        #expect(raw.status == 202, "\(raw.text)")
        let rawId = try #require(raw.json["document_id"] as? String)
        #expect((raw.json["document"] as? [String: Any])?["mime_type"] as? String == "text/markdown")
        #expect((raw.json["document"] as? [String: Any])?["filename"] as? String == "faq.md")

        // Read it back, once the worker has indexed it.
        let ready = try await emu.eventually(timeout: 120) { () -> TestHTTPReply? in
            let r = try await emu.request("GET", "/v1/documents/\(id)", headers: ["Authorization": "Bearer \(acme)"])
            return r.json["status"] as? String == "ready" ? r : nil
        }
        let got = try #require(ready)
        #expect(got.json["id"] as? String == id && got.json["version_count"] as? Int == 1 && (got.json["chunk_count"] as? Int ?? 0) >= 1)
        #expect((got.json["ready_version"] as? [String: Any])?["state"] as? String == "ready")
        let versions = try await emu.request("GET", "/v1/documents/\(id)/versions", headers: ["Authorization": "Bearer \(acme)"])
        #expect(versions.status == 200 && (versions.json["versions"] as? [Any])?.count == 1, "\(versions.text)")
        let job = try await emu.request("GET", "/v1/jobs/\(jobId)", headers: ["Authorization": "Bearer \(acme)"])
        #expect(job.status == 200, "\(job.text)")
        #expect(job.json["type"] as? String == "ingest" && job.json["document_id"] as? String == id)
        #expect(job.json["status"] as? String == "succeeded" && job.json["attempts"] as? Int == 1, "\(job.text)")

        // List, one per page, newest first.
        let first = try await emu.request("GET", "/v1/documents?limit=1", headers: ["Authorization": "Bearer \(acme)"])
        #expect(first.status == 200, "\(first.text)")
        #expect((first.json["documents"] as? [[String: Any]])?.map { $0["id"] as? String } == [rawId])
        let cursor = try #require(first.json["next_cursor"] as? String)
        let second = try await emu.request("GET", "/v1/documents?limit=1&cursor=\(cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor)",
                                           headers: ["Authorization": "Bearer \(acme)"])
        #expect((second.json["documents"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
        #expect(second.json["next_cursor"] is NSNull)
        let badLimit = try await emu.request("GET", "/v1/documents?limit=1000", headers: ["Authorization": "Bearer \(acme)"])
        #expect(badLimit.status == 422 && badLimit.errorCode == "validation_failed")

        // Another org sees none of it.
        let globex = try await emu.token(org: "globex")
        for path in ["/v1/documents/\(id)", "/v1/documents/\(id)/versions", "/v1/jobs/\(jobId)"] {
            let r = try await emu.request("GET", path, headers: ["Authorization": "Bearer \(globex)"])
            #expect(r.status == 404 && r.errorCode == "not_found", "\(path): \(r.text)")
        }
        #expect(try await emu.request("DELETE", "/v1/documents/\(id)", headers: ["Authorization": "Bearer \(globex)"]).status == 404)
        let theirList = try await emu.request("GET", "/v1/documents", headers: ["Authorization": "Bearer \(globex)"])
        #expect((theirList.json["documents"] as? [Any])?.isEmpty == true)

        // Delete: 202 with the delete job; the document shows as deleted, out of the listing.
        let del = try await emu.request("DELETE", "/v1/documents/\(id)", headers: ["Authorization": "Bearer \(acme)"])
        #expect(del.status == 202, "\(del.text)")
        #expect(del.json["status"] as? String == "deleted")
        let deleteJob = try #require(del.json["job_id"] as? String)
        let dj = try await emu.request("GET", "/v1/jobs/\(deleteJob)", headers: ["Authorization": "Bearer \(acme)"])
        #expect(dj.json["type"] as? String == "delete")
        // Shown as deleted until the worker's delete job purges it (it may already have).
        let gone = try await emu.request("GET", "/v1/documents/\(id)", headers: ["Authorization": "Bearer \(acme)"])
        #expect((gone.status == 200 && gone.json["status"] as? String == "deleted") || gone.status == 404, "\(gone.text)")
        let listed = try await emu.request("GET", "/v1/documents", headers: ["Authorization": "Bearer \(acme)"])
        #expect((listed.json["documents"] as? [[String: Any]])?.map { $0["id"] as? String } == [rawId])
        let purged = try await emu.eventually(timeout: 60) {
            try await emu.request("GET", "/v1/documents/\(id)", headers: ["Authorization": "Bearer \(acme)"]).status == 404 ? true : nil
        }
        #expect(purged == true)
        #expect(try await emu.request("GET", "/v1/jobs/\(deleteJob)", headers: ["Authorization": "Bearer \(acme)"]).json["status"] as? String == "succeeded")
        #expect(try await emu.request("DELETE", "/v1/documents/\(id)", headers: ["Authorization": "Bearer \(acme)"]).status == 404)
    }

    @Test func refusalsThroughTheBundle() async throws {
        let emu = try await BundleEmulator.start(prefix: "upload-bundle")
        defer { emu.stop() }
        let acme = try await emu.token(org: "acme")

        // No token: the authorizer refuses before the function runs.
        #expect(try await emu.request("GET", "/v1/documents").status == 401)
        #expect(try await emu.request("POST", "/v1/documents", body: Data("x".utf8), headers: ["Content-Type": "text/plain"]).status == 401)
        // A token without an org: the function refuses.
        let noOrg = try await emu.token(org: "")
        let r401 = try await emu.request("GET", "/v1/documents", headers: ["Authorization": "Bearer \(noOrg)"])
        #expect(r401.status == 401 && r401.errorCode == "unauthorized", "\(r401.text)")

        // A PNG named .txt (a binary body: the gateway base64-encodes it).
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8) + [UInt8](repeating: 1, count: 20)
        let r415 = try await emu.request("POST", "/v1/documents", body: MultipartBody.make(file: png, filename: "notes.txt"),
                                         headers: ["Content-Type": MultipartBody.contentType, "Authorization": "Bearer \(acme)"])
        #expect(r415.status == 415 && r415.errorCode == "unsupported_media_type", "\(r415.text)")

        // Over MAX_UPLOAD_BYTES (5 MB in the template) but under the gateway's 6 MB.
        let big = Data(repeating: 0x61, count: 5 * 1024 * 1024 + 100)
        let r413 = try await emu.request("POST", "/v1/documents?filename=big.txt", body: big,
                                         headers: ["Content-Type": "text/plain", "Authorization": "Bearer \(acme)"])
        #expect(r413.status == 413 && r413.errorCode == "payload_too_large", "\(r413.text)")

        // A truncated multipart body, bad metadata.
        var cut = MultipartBody.make(file: Array("x".utf8), filename: "x.txt")
        cut.removeLast(8)
        let r400 = try await emu.request("POST", "/v1/documents", body: cut,
                                         headers: ["Content-Type": MultipartBody.contentType, "Authorization": "Bearer \(acme)"])
        #expect(r400.status == 400 && r400.errorCode == "invalid_multipart", "\(r400.text)")
        let r422 = try await emu.request("POST", "/v1/documents", body: MultipartBody.make(file: Array("x".utf8), filename: "x.txt", metadata: "[1]"),
                                         headers: ["Content-Type": MultipartBody.contentType, "Authorization": "Bearer \(acme)"])
        #expect(r422.status == 422 && r422.errorCode == "validation_failed", "\(r422.text)")
        #expect(try await emu.request("GET", "/v1/documents/no-such-id", headers: ["Authorization": "Bearer \(acme)"]).status == 404)

        // Nothing was stored for any of them.
        let list = try await emu.request("GET", "/v1/documents", headers: ["Authorization": "Bearer \(acme)"])
        #expect(list.status == 200 && (list.json["documents"] as? [Any])?.isEmpty == true, "\(list.text)")
    }
}

/// The hex SHA-256 of a text, by `sha256sum` (this target links no digest code).
enum SHA256Hex {
    static func of(_ text: String) -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sha256sum"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        guard (try? p.run()) != nil else { return "?" }
        input.fileHandleForWriting.write(Data(text.utf8))
        try? input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(String(decoding: data, as: UTF8.self).prefix(64))
    }
}
