import Foundation
import Testing
import TestSupport

/// `POST /v1/search` as a client sees it, on both stores: documents uploaded through the API and
/// indexed by the worker, then searched in every mode, with filters, accents or none, grouping,
/// per-request fusion settings, bad input in the error shape, and another org seeing nothing.
@Suite(.serialized) struct SearchThroughEmulatorTests {
    enum Kind: String, CaseIterable, CustomStringConvertible, Sendable {
        case sqlite, postgres
        var description: String { rawValue }
        /// SQLite and a folder (the local defaults); Postgres and S3 (what a deployment uses).
        func environment() throws -> [String: String] {
            self == .sqlite ? [:] : try EmulatorStore.postgresEnvironment(schemaPrefix: "se_").merging(try S3TestServer.blobEnvironment()) { a, _ in a }
        }
    }

    static let documents: [(title: String, text: String, metadata: String)] = [
        ("Leave policy", "Employees may take twelve days of paid annual leave each year.\n\nRequests go to your manager three days ahead.",
         #"{"dept": "hr", "lang": "en"}"#),
        ("Quy định nghỉ phép", "Nhân viên xin nghỉ phép phải gửi đơn cho quản lý trước ba ngày làm việc.", #"{"dept": "hr", "lang": "vi"}"#),
        ("VPN", "Connect with the GlobalProtect client before opening internal systems from home.", #"{"dept": "it", "lang": "en"}"#),
    ]

    @Test(arguments: Kind.allCases)
    func searchThroughTheAPI(_ kind: Kind) async throws {
        let emu = try await BundleEmulator.start(prefix: "search-api", environment: try kind.environment())
        defer { emu.stop() }
        let acme = try await emu.token(org: "acme")
        var ids: [String: String] = [:]
        for d in Self.documents {
            let r = try await emu.request("POST", "/v1/documents",
                                          body: MultipartBody.make(file: Array(d.text.utf8), filename: "\(d.title).txt", title: d.title, metadata: d.metadata),
                                          headers: ["Content-Type": MultipartBody.contentType, "Authorization": "Bearer \(acme)"])
            #expect(r.status == 202, "\(r.text)")
            ids[d.title] = try #require(r.json["document_id"] as? String)
        }
        for id in ids.values {
            let ready = try await emu.eventually(timeout: 120) {
                let s = try await emu.json("GET", "/v1/documents/\(id)", token: acme).json["status"] as? String
                return s == "ready" || s == "failed" ? s : nil
            }
            #expect(ready == "ready")
        }
        func search(_ body: [String: Any], token: String? = nil) async throws -> (status: Int, json: [String: Any], hits: [[String: Any]]) {
            let r = try await emu.json("POST", "/v1/search", token: token ?? acme, body)
            return (r.status, r.json, r.json["results"] as? [[String: Any]] ?? [])
        }

        // Vietnamese, typed with and without accents, in every mode.
        for query in ["xin nghỉ phép", "xin nghi phep"] {
            for mode in ["hybrid", "keyword"] {
                let r = try await search(["query": query, "mode": mode])
                #expect(r.status == 200 && r.hits.first?["document_id"] as? String == ids["Quy định nghỉ phép"], "\(query) \(mode): \(r.json)")
            }
        }
        // English paraphrase: the dense arm carries it.
        let dense = try await search(["query": "how many vacation days", "mode": "dense", "limit": 1])
        #expect(dense.hits.first?["document_id"] as? String == ids["Leave policy"] && dense.hits.first?["dense_rank"] as? Int == 1)
        // Filters through the API: metadata, document ids.
        let it = try await search(["query": "leave", "limit": 100, "filters": ["metadata": ["dept": "it"]]])
        #expect(!it.hits.isEmpty && it.hits.allSatisfy { $0["document_id"] as? String == ids["VPN"] }, "\(it.json)")
        let one = try await search(["query": "leave", "limit": 100, "filters": ["document_ids": [ids["Leave policy"]!]]])
        #expect(!one.hits.isEmpty && one.hits.allSatisfy { $0["document_id"] as? String == ids["Leave policy"] })
        // Grouping and per-request fusion (hybrid only).
        let grouped = try await search(["query": "leave policy days", "group_by": "document", "limit": 100,
                                        "fusion": ["k": 10, "dense_weight": 1, "keyword_weight": 0.5]])
        let docs = grouped.hits.compactMap { $0["document_id"] as? String }
        #expect(grouped.status == 200 && docs.count == Set(docs).count && docs.first == ids["Leave policy"], "\(grouped.json)")
        // score = (1/(10+dr) + 0.5/(10+kr)) / (1/11 + 0.5/11)
        for h in grouped.hits {
            let raw = ((h["dense_rank"] as? Int).map { 1 / (10 + Double($0)) } ?? 0) + ((h["keyword_rank"] as? Int).map { 0.5 / (10 + Double($0)) } ?? 0)
            #expect(abs((h["score"] as? Double ?? -1) - raw / (1.5 / 11)) < 1e-9)
        }

        // Bad input: 4xx in the error shape, the field named.
        for (body, status, field) in [(["query": ""], 422, "query"), (["query": "x", "limit": 500], 422, "limit"),
                                      (["query": "x", "mode": "dense", "fusion": ["k": 10]], 422, "fusion"),
                                      (["query": "x", "fusion": ["k": -1]], 422, "fusion.k"),
                                      (["query": "x", "filters": ["created_after": "soon"]], 422, "filters.created_after")] as [([String: Any], Int, String)] {
            let r = try await search(body)
            let error = r.json["error"] as? [String: Any]
            #expect(r.status == status && (error?["details"] as? [String: Any])?["field"] as? String == field, "\(body): \(r.status) \(r.json)")
        }
        // Another org: nothing, even naming acme's documents.
        let globex = try await emu.token(org: "globex")
        let leak = try await search(["query": "xin nghi phep leave", "limit": 100, "filters": ["document_ids": Array(ids.values)]], token: globex)
        #expect(leak.status == 200 && leak.hits.isEmpty)
        let leak2 = try await search(["query": "xin nghi phep leave", "limit": 100], token: globex)
        #expect(leak2.status == 200 && leak2.hits.isEmpty)

        try await lookAlikeTenantsSeeNothing(emu, acmeIds: Array(ids.values))

        // A NUL in a request string is refused naming the field; it never selects another row.
        let docId = ids["Leave policy"]!
        for (body, field) in [(["query": "leave\u{0}"], "query"), (["query": "leave", "filters": ["document_ids": [docId + "\u{0}x"]]], "filters.document_ids[0]"),
                              (["query": "leave", "filters": ["metadata": ["dept": "hr\u{0}"]]], "filters.metadata.dept"),
                              (["query": "leave", "filters": ["created_after": "2026-01-01\u{0}"]], "filters.created_after")] as [([String: Any], String)] {
            let r = try await search(body)
            let error = r.json["error"] as? [String: Any]
            #expect([400, 422].contains(r.status) && (error?["details"] as? [String: Any])?["field"] as? String == field, "\(body): \(r.status) \(r.json)")
        }
        let nulId = try await emu.json("GET", "/v1/documents/\(docId)%00x", token: acme)
        #expect([400, 404].contains(nulId.status) && !nulId.text.contains("Leave policy"), "\(nulId.status) \(nulId.text)")
        // Dates: RFC 3339 or a 422 naming the field.
        for bad in ["9999999-01-01", "2026-01-01T00:00:00+99:99", "2026-02-30", "2026-01-01T24:00:00Z", "2026-1-1"] {
            let r = try await search(["query": "leave", "filters": ["created_after": bad]])
            let error = r.json["error"] as? [String: Any]
            #expect(r.status == 422 && (error?["details"] as? [String: Any])?["field"] as? String == "filters.created_after", "\(bad): \(r.json)")
        }
        for good in ["2000-01-01", "2000-01-01T00:00:00Z", "2000-01-01T07:00:00+07:00", "2000-01-01T00:00:00.5-01:30"] {
            let r = try await search(["query": "leave", "filters": ["created_after": good]])
            #expect(r.status == 200 && !r.hits.isEmpty, "\(good): \(r.json)")
        }
    }

    /// Tokens signed with the right key whose `org_id` is a look-alike of `acme` (or not a string):
    /// every endpoint refuses them (403 `invalid_tenant`, 401 for a null claim) or, where the
    /// claim is a valid id of its own (`ACME`, `acm_`, `123`), answers as for an empty org. No
    /// answer holds an id or a word of acme's documents.
    func lookAlikeTenantsSeeNothing(_ emu: BundleEmulator, acmeIds: [String]) async throws {
        let claims = [#""acme\u0000""#, #""acme\u0000x""#, #""acme ""#, #"" acme""#, #""ACME""#, #""acme\u200b""#, #""\u0430cme""#,
                      #""acm%""#, #""acm_""#, #""acm*""#, #""*""#, #""%""#, #""../x""#, #""""#,
                      #"["acme"]"#, "123", "null", "true", #"{"id":"acme"}"#]
        let valid: Set<String> = [#""ACME""#, #""acm_""#, "123", "true"]
        // The first id is named in the paths (a 404 repeats it); the others must never appear.
        let secrets = Array(acmeIds.dropFirst()) + ["twelve days", "GlobalProtect", "gửi đơn cho quản lý"]
        let id = acmeIds[0]
        let calls: [(String, String, [String: Any]?)] = [
            ("GET", "/v1/documents", nil), ("GET", "/v1/documents/\(id)", nil), ("GET", "/v1/documents/\(id)/versions", nil),
            ("GET", "/v1/jobs/\(id)", nil), ("POST", "/v1/search", ["query": "leave days", "limit": 100]),
            ("POST", "/v1/generate", ["query": "how many days of leave"]), ("POST", "/v1/documents/\(id)/reembed", nil),
            ("POST", "/v1/route", ["text": "book a meeting room"]), ("DELETE", "/v1/documents/\(id)", nil),
        ]
        // The router embeds its catalog when it starts (no seed vector file in a test): start it
        // first, so a slow cold start on a busy machine is not taken for an answer below.
        let acme = try await emu.token(org: "acme")
        let warm = try await emu.eventually(timeout: 180) {
            try await emu.json("POST", "/v1/route", token: acme, ["text": "book a meeting room"]).status == 200 ? true : nil
        }
        #expect(warm == true)
        for claim in claims {
            let token = try await emu.token(orgJSON: claim)
            for (method, path, body) in calls {
                let r = try await emu.json(method, path, token: token, body)
                let code = (r.json["error"] as? [String: Any])?["code"] as? String
                if valid.contains(claim) || (path == "/v1/route" && (claim == "null" || claim == #""""#)) {
                    // The router needs no tenant: a missing one is no error there.
                    #expect([200, 202, 404].contains(r.status), "\(claim) \(method) \(path): \(r.status) \(r.text)")
                } else if claim == "null" || claim == #""""# {
                    #expect(r.status == 401, "\(claim) \(method) \(path): \(r.status) \(r.text)")
                } else {
                    #expect(r.status == 403 && code == "invalid_tenant", "\(claim) \(method) \(path): \(r.status) \(r.text)")
                }
                for secret in secrets { #expect(!r.text.contains(secret), "\(claim) \(method) \(path) leaked \(secret)") }
            }
        }
        // acme's documents are all still there.
        for id in acmeIds { #expect(try await emu.json("GET", "/v1/documents/\(id)", token: acme).json["status"] as? String == "ready") }
    }
}
