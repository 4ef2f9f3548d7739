import Foundation
import PrivacyGuard
import Testing
import TestSupport

/// The PII guard: what it finds, where a provider counts as external, and, through the emulator,
/// that personal data never reaches an external embedding provider under `local` and reaches it
/// only masked under `redact`, while the stored chunk keeps the original.
@Suite struct PIIDetectorTests {
    let d = PIIDetector()

    @Test(arguments: [
        ("write to nguyen.van.an@example.com today", PIIDetector.Kind.email),
        ("gọi 0912 345 678 nhé", .phone),
        ("số máy 0912.345.678", .phone),
        ("call +84 912 345 678", .phone),
        ("landline 024 3825 1234", .phone),
        ("US office +1 415 555 0123", .phone),
        ("CCCD 001203012345 cấp ngày", .citizenID),
        ("card 4111 1111 1111 1111 exp", .card),
        ("IBAN DE89 3704 0044 0532 0130 00 please", .iban),
        ("key sk-proj-abcdefghijklmnopqrstuvwx1234", .secret),
        ("Authorization: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", .secret),
        ("mật khẩu: hunter2", .secret),
    ])
    func finds(_ text: String, _ kind: PIIDetector.Kind) {
        #expect(d.kinds(in: text) == [kind], "\(text): \(d.kinds(in: text))")
    }

    @Test(arguments: [
        "order 4111 1111 1111 1112 shipped",          // fails Luhn
        "IBAN GB82 WEST 1234 5698 7654 33",           // fails mod 97
        "Salaries are paid on 25/12/2026 at 10:30",
        "Employees get 20 days of paid leave; 1.5 days per month",
        "ticket 12345678 and invoice 2026-000123",
        "nghỉ phép năm 12 ngày",
    ])
    func leavesOrdinaryTextAlone(_ text: String) {
        #expect(d.kinds(in: text).isEmpty, "\(text): \(d.matches(in: text))")
    }

    @Test func redactionMasksEachMatchAndKeepsTheRest() {
        let r = d.redact("Mail a@b.co or call 0912345678 about leave.")
        #expect(r.text == "Mail [REDACTED] or call [REDACTED] about leave." && r.count == 2)
    }

    @Test(arguments: [
        ("http://127.0.0.1:8080", nil, ProviderLocation.private), ("http://localhost:11434", nil, .private),
        ("http://10.1.2.3", nil, .private), ("http://172.20.0.5:80", nil, .private), ("http://192.168.1.9", nil, .private),
        ("http://tei.internal:8080", nil, .private), ("https://api.openai.com", nil, .external), ("http://172.32.0.1", nil, .external),
        ("http://[::1]:8080", nil, .private), ("http://127.0.0.1:8080", "external", .external), ("https://api.jina.ai", "private", .private),
    ])
    func providerLocations(_ url: String, _ declared: String?, _ expected: ProviderLocation) {
        #expect(ProviderLocation.of(url: url, declared: declared) == expected)
    }
}

@Suite(.serialized) struct PIIGuardThroughEmulatorTests {
    static let document = "# Payroll\n\nFor payroll questions write to nguyen.van.an@example.com or call 0912 345 678.\n\nSalaries are paid on the 25th of each month.\n"

    func run(policy: String, store: String, _ check: @Sendable (BundleEmulator, String, [SeenRequest]) async throws -> Void) async throws {
        let server = FakeEmbeddingServer(dimension: 8)
        let storeEnvironment = store == "postgres" ? try EmulatorStore.postgresEnvironment(schemaPrefix: "pi_") : [:]
        try await server.serve { base in
            let emu = try await BundleEmulator.start(prefix: "pii-\(policy)", environment: [
                "EMBEDDING_PROVIDER": "http", "EMBEDDING_BASE_URL": base, "EMBEDDING_MODEL": "fake-model", "EMBEDDING_DIMENSIONS": "8",
                // The fake listens on loopback; it stands for a hosted API here.
                "EMBEDDING_PROVIDER_LOCATION": "external", "PII_POLICY": policy,
            ].merging(storeEnvironment) { a, _ in a })
            defer { emu.stop() }
            let acme = try await emu.token(org: "acme")
            let upload = try await emu.request("POST", "/v1/documents?filename=payroll.md", body: Data(Self.document.utf8),
                                               headers: ["Authorization": "Bearer \(acme)", "Content-Type": "text/markdown"])
            let id = try #require(upload.json["document_id"] as? String, "\(upload.text)")
            let status = try await emu.eventually(timeout: 120, interval: 0.25) { () -> String? in
                let s = try await emu.json("GET", "/v1/documents/\(id)", token: acme).json["status"] as? String
                return s == "ready" || s == "failed" ? s : nil
            }
            try await check(emu, status ?? "pending", await server.requests)
        }
    }

    @Test(arguments: ["sqlite", "postgres"])
    func localKeepsPersonalDataFromAnExternalProvider(_ store: String) async throws {
        try await run(policy: "local", store: store) { emu, status, seen in
            #expect(status == "failed")
            let acme = try await emu.token(org: "acme")
            let jobs = try await emu.json("GET", "/v1/jobs", token: acme).json["jobs"] as? [[String: Any]] ?? []
            let error = jobs.first?["error"] as? String ?? ""
            #expect(jobs.first?["status"] as? String == "dead" && jobs.first?["attempts"] as? Int == 1, "not retried: \(jobs)")
            #expect(error.contains("personal data") && error.contains("email") && error.contains("phone") && error.contains("PII_POLICY=local"), "\(error)")
            let sent = seen.flatMap(\.inputs).joined(separator: "\n")
            #expect(!sent.contains("example.com") && !sent.contains("0912") && !sent.contains("Salaries"), "\(sent)")
            // Once the org has vectors, a query with personal data is refused too, with the reason;
            // a clean one is answered.
            let clean = try await emu.request("POST", "/v1/documents?filename=pay.md", body: Data("Salaries are paid on the 25th.".utf8),
                                              headers: ["Authorization": "Bearer \(acme)", "Content-Type": "text/markdown"])
            let cleanId = try #require(clean.json["document_id"] as? String)
            let ready = try await emu.eventually(timeout: 120, interval: 0.25) { () -> Bool? in
                try await emu.json("GET", "/v1/documents/\(cleanId)", token: acme).json["status"] as? String == "ready" ? true : nil
            }
            #expect(ready == true)
            let refused = try await emu.json("POST", "/v1/search", token: acme, ["query": "mail nguyen.van.an@example.com"])
            #expect(refused.status == 422 && refused.text.contains("personal data"), "\(refused.text)")
            #expect(try await emu.json("POST", "/v1/search", token: acme, ["query": "when are salaries paid"]).status == 200)
        }
    }

    @Test(arguments: ["sqlite", "postgres"])
    func redactMasksItAndTheStoredChunkKeepsTheOriginal(_ store: String) async throws {
        try await run(policy: "redact", store: store) { emu, status, seen in
            #expect(status == "ready")
            let sent = seen.flatMap(\.inputs).joined(separator: "\n")
            #expect(sent.contains("[REDACTED]") && sent.contains("Salaries are paid"), "\(sent)")
            #expect(!sent.contains("example.com") && !sent.contains("0912 345 678"), "\(sent)")
            let acme = try await emu.token(org: "acme")
            let r = try await emu.json("POST", "/v1/search", token: acme, ["query": "payroll questions", "mode": "keyword"])
            let text = ((r.json["results"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
            #expect(text.contains("nguyen.van.an@example.com"), "\(r.text)")
        }
    }
}
