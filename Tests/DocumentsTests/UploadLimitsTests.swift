import DocumentStore
import Documents
import Foundation
import Testing
import TestSupport

/// Bad input is a clear 4xx with the documented error shape, and nothing is stored for it.
@Suite struct UploadLimitsTests {
    /// The answer is the error shape, and neither a document nor a blob was left behind.
    func expectRefused(_ r: Reply, _ status: Int, _ code: String, _ h: Harness, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(r.status == status, "\(r.text)", sourceLocation: sourceLocation)
        #expect(r.errorCode == code, "\(r.text)", sourceLocation: sourceLocation)
        #expect(r.errorMessage?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(r.json["requestId"] as? String == "test", sourceLocation: sourceLocation)
        #expect(try h.store.listDocuments(org: "acme", status: nil, limit: 10, cursor: nil).items.isEmpty, sourceLocation: sourceLocation)
        #expect(h.blobFiles().isEmpty, "\(h.blobFiles())", sourceLocation: sourceLocation)
        #expect(h.notified.withLock { $0 }.isEmpty, sourceLocation: sourceLocation)
    }

    @Test func noOrgClaimIs401OnEveryRoute() async throws {
        let h = try Harness()
        try expectRefused(await h.upload(.file("x"), org: nil), 401, "unauthorized", h)
        try expectRefused(await h.upload(.file("x"), org: ""), 401, "unauthorized", h)
        for route in ["GET /v1/documents", "GET /v1/documents/{id}", "GET /v1/documents/{id}/versions", "DELETE /v1/documents/{id}", "GET /v1/jobs/{id}"] {
            let r = await h.get(route, id: route.contains("{id}") ? "d1" : nil, org: nil)
            #expect(r.status == 401, "\(route)")
            #expect(r.errorMessage?.contains("org_id") == true)
        }
        // A signed but malformed org id is no tenant either: 403 before any store or blob call.
        try expectRefused(await h.upload(.file("x"), org: String(repeating: "o", count: 129)), 403, "invalid_tenant", h)
    }

    @Test func overTheLimitIs413() async throws {
        let h = try Harness(maxUploadBytes: 1024)
        let big = [UInt8](repeating: 0x61, count: 1025)
        let raw = await h.uploadRaw(big, contentType: "text/plain")
        try expectRefused(raw, 413, "payload_too_large", h)
        #expect(raw.errorDetails?["max_bytes"] as? Int == 1024)
        #expect(raw.errorMessage?.contains("MAX_UPLOAD_BYTES") == true)
        try expectRefused(await h.upload(.file(big)), 413, "payload_too_large", h)
        // A base64 body is judged by its size before decoding.
        let huge = [UInt8](repeating: 0x89, count: 200_000)
        try expectRefused(await h.uploadRaw(huge, contentType: "application/octet-stream"), 413, "payload_too_large", h)
        // At the limit is fine.
        #expect(await h.uploadRaw([UInt8](repeating: 0x61, count: 1024), contentType: "text/plain").status == 202)
    }

    @Test func theDefaultLimitIs5MB() async throws {
        #expect(UploadConfiguration.defaultMaxUploadBytes == 5 * 1024 * 1024)
        let h = try Harness()
        let justOver = [UInt8](repeating: 0x61, count: 5 * 1024 * 1024 + 1)
        try expectRefused(await h.uploadRaw(justOver, contentType: "text/plain"), 413, "payload_too_large", h)
    }

    @Test func unsupportedTypesAre415WhateverTheyClaim() async throws {
        let h = try Harness()
        // A PNG named .txt and declared text/plain: the bytes decide.
        let png = await h.upload(.file(Bytes.png, filename: "notes.txt", contentType: "text/plain"))
        try expectRefused(png, 415, "unsupported_media_type", h)
        #expect(png.errorDetails?["detected"] as? String == "image/png")
        #expect((png.errorDetails?["accepted"] as? [String])?.contains("application/pdf") == true)
        try expectRefused(await h.uploadRaw(Bytes.png, contentType: "image/png", query: ["filename": "a.png"]), 415, "unsupported_media_type", h)
        // Text declared as a type we do not index.
        try expectRefused(await h.uploadRaw(Array("<svg/>".utf8), contentType: "image/svg+xml"), 415, "unsupported_media_type", h)
        // ZIP bytes (a .docx) declared as text.
        try expectRefused(await h.upload(.file([0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 30), filename: "a.docx")),
                          415, "unsupported_media_type", h)
        // Multipart flavours other than form-data.
        try expectRefused(await h.uploadRaw(Array("x".utf8), contentType: "multipart/mixed; boundary=x"), 415, "unsupported_media_type", h)
    }

    @Test func unreadableContentIs422() async throws {
        let h = try Harness()
        try expectRefused(await h.upload(.file([UInt8](), filename: "empty.txt")), 422, "invalid_document", h)
        try expectRefused(await h.upload(.file("   \n\t ")), 422, "invalid_document", h)
        try expectRefused(await h.upload(.file("{not json", filename: "a.json", contentType: "application/json")), 422, "invalid_document", h)
        try expectRefused(await h.upload(.file([0x63, 0x61, 0xFF, 0xFE, 0x66], filename: "bad.txt")), 422, "invalid_document", h)
        try expectRefused(await h.upload(.file("not a pdf at all", filename: "a.pdf", contentType: "application/pdf")), 422, "invalid_document", h)
    }

    @Test func badMetadataOrTitleIs422() async throws {
        let h = try Harness()
        // Too deep to answer with (509 levels was stored, then every list of the org failed to
        // encode), and a number JSON cannot hold (1e400 was stored as {} silently).
        let deep = { (n: Int) in String(repeating: "{\"k\":", count: n) + "1" + String(repeating: "}", count: n) }
        for metadata in ["not json", "[1, 2]", "\"text\"", "42", "{\"a\": }", deep(33), deep(509), deep(512), "{\"x\": 1e400}"] {
            let r = await h.upload(.file("x", metadata: metadata))
            try expectRefused(r, 422, "validation_failed", h)
            #expect(r.errorDetails?["field"] as? String == "metadata", "\(metadata)")
        }
        let big = "{\"k\": \"" + String(repeating: "v", count: 16 * 1024) + "\"}"
        try expectRefused(await h.upload(.file("x", metadata: big)), 422, "validation_failed", h)
        try expectRefused(await h.uploadRaw(Array("x".utf8), contentType: "text/plain", query: ["metadata": "[]"]), 422, "validation_failed", h)
        let title = await h.upload(.file("x", title: String(repeating: "t", count: 501)))
        try expectRefused(title, 422, "validation_failed", h)
        #expect(title.errorDetails?["field"] as? String == "title")
        let nested = await h.upload(.file("nested", metadata: deep(32)))
        #expect(nested.status == 202, "\(nested.text)")
        #expect(await h.get("GET /v1/documents").status == 200)
        // Just under the limits is fine; an empty metadata part means none.
        let ok = await h.upload(.file("x", title: String(repeating: "t", count: 500), metadata: " "))
        #expect(ok.status == 202, "\(ok.text)")
        #expect((ok.document["metadata"] as? [String: Any])?.isEmpty == true)
    }

    @Test func malformedMultipartIs400() async throws {
        let h = try Harness()
        var unclosed = Form.file("cut short")
        unclosed.closed = false
        let r = await h.upload(unclosed)
        try expectRefused(r, 400, "invalid_multipart", h)
        #expect(r.errorMessage?.contains("closing boundary") == true)

        let noBoundary = await h.uploadRaw(Form.file("x").body(), contentType: "multipart/form-data")
        try expectRefused(noBoundary, 400, "invalid_multipart", h)
        let wrongBoundary = await h.uploadRaw(Form.file("x").body(), contentType: "multipart/form-data; boundary=other")
        try expectRefused(wrongBoundary, 400, "invalid_multipart", h)

        var noFile = Form()
        noFile.addField("title", "only a title")
        try expectRefused(await h.upload(noFile), 400, "missing_file", h)

        var unknown = Form.file("x")
        unknown.addField("colour", "blue")
        let u = await h.upload(unknown)
        try expectRefused(u, 400, "unknown_field", h)
        #expect(u.errorDetails?["field"] as? String == "colour")

        var twoFiles = Form.file("x")
        twoFiles.addFile(Array("y".utf8), filename: "y.txt")
        try expectRefused(await h.upload(twoFiles), 400, "duplicate_field", h)

        var unnamed = Form()
        unnamed.parts.append(.init(headers: ["Content-Disposition: form-data"], body: Array("x".utf8)))
        try expectRefused(await h.upload(unnamed), 400, "invalid_multipart", h)

        try expectRefused(await h.uploadRaw([], contentType: "text/plain"), 400, "missing_file", h)
        var bad = Request.make("POST", "/v1/documents", headers: ["content-type": "text/plain"])
        bad.body = "%%% not base64 %%%"
        bad.isBase64Encoded = true
        try expectRefused(await h.call("POST /v1/documents", bad), 400, "invalid_request", h)
    }

    @Test func filenamesAreSanitised() async throws {
        let h = try Harness()
        let cases: [(String, String)] = [
            ("../../../etc/passwd.txt", "passwd.txt"),
            ("C:\\Users\\bob\\report.md", "report.md"),
            ("evil\u{202E}txt.exe.txt", "eviltxt.exe.txt"),
            ("tab\tand\u{1}ctl.txt", "tabandctl.txt"),
            (String(repeating: "n", count: 400) + ".txt", String(repeating: "n", count: 251) + ".txt"),
            ("..", "document.txt"),
        ]
        for (i, (raw, expected)) in cases.enumerated() {
            let r = await h.upload(.file("content \(i)", filename: raw))
            #expect(r.status == 202, "\(raw): \(r.text)")
            #expect(r.document["filename"] as? String == expected, "\(raw)")
        }
    }

    @Test func configurationFromTheEnvironment() throws {
        let c = try UploadConfiguration.fromEnvironment(["DATABASE_URL": "sqlite:///x"], functionName: "prod-upload")
        #expect(c.maxUploadBytes == 5_242_880 && c.blobDirectory == ".data/blobs" && c.reembedFunction == "prod-reembed")
        #expect(try UploadConfiguration.fromEnvironment(["DATABASE_URL": "x"], functionName: "UploadFunction").reembedFunction == "reembed")
        let set = try UploadConfiguration.fromEnvironment(
            ["DATABASE_URL": "x", "MAX_UPLOAD_BYTES": "1000", "BLOB_DIR": "/srv/blobs", "REEMBED_FUNCTION": "w"], functionName: "f")
        #expect(set == UploadConfiguration(databaseURL: "x", blobDirectory: "/srv/blobs", maxUploadBytes: 1000, reembedFunction: "w"))
        #expect(throws: UploadConfiguration.Invalid.self) { try UploadConfiguration.fromEnvironment([:], functionName: "f") }
        #expect(throws: UploadConfiguration.Invalid.self) {
            try UploadConfiguration.fromEnvironment(["DATABASE_URL": "x", "MAX_UPLOAD_BYTES": "5MB"], functionName: "f")
        }
    }
}
