import Foundation
import Testing
import TestSupport

/// The PII guard in front of LLM providers, through the emulator: a local server speaking
/// OpenAI's wire format, declared external, records what it receives. Under `local` a prompt with
/// personal data never reaches it (the answer is the extractive one, made in the function);
/// under `redact` it receives the prompt masked.
@Suite(.serialized) struct PIIGuardGenerateTests {
    static func providersFile() throws -> String {
        let path = TestPaths.temporaryDirectory("pii-providers") + "/providers.yaml"
        try """
        providers:
          hosted:
            api: openai
            api_key: ${TEST_LLM_KEY}
            base_url: ${TEST_LLM_BASE_URL}
            location: external
            models: { primary: test-model }
            timeout_ms: 10000
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static var chunks: [[String: Any]] { [
        ["chunk_id": "hr-9", "content": "Payroll questions go to nguyen.van.an@example.com or 0912 345 678. Salaries are paid on the 25th.",
         "metadata": ["document_id": "payroll", "title": "Payroll"]],
    ] }

    func ask(policy: String) async throws -> (answer: [String: Any], seen: [FakeChatServer.Seen]) {
        let server = FakeChatServer(answer: "Salaries are paid on the 25th [1].")
        let (body, seen) = try await server.serve { base -> (Data, [FakeChatServer.Seen]) in
            let emu = try await BundleEmulator.start(prefix: "pii-gen-\(policy)", environment: [
                "GENERATION_PROVIDERS": try Self.providersFile(), "TEST_LLM_KEY": "sk-test", "TEST_LLM_BASE_URL": base + "/v1",
                "PII_POLICY": policy,
            ])
            defer { emu.stop() }
            let acme = try await emu.token(org: "acme")
            let r = try await emu.json("POST", "/v1/generate", token: acme, ["query": "When are salaries paid?", "context_chunks": Self.chunks])
            #expect(r.status == 200, "\(r.text)")
            return (r.body, await server.requests)
        }
        return ((try JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:], seen)
    }

    @Test func localNeverSendsThePromptToAnExternalProvider() async throws {
        let (answer, seen) = try await ask(policy: "local")
        #expect(seen.isEmpty, "the external provider was called")
        let meta = try #require(answer["response_metadata"] as? [String: Any])
        #expect(meta["fallback"] as? String == "extractive")
        let attempts = meta["attempts"] as? [[String: Any]] ?? []
        #expect(attempts.first?["provider"] as? String == "hosted" && attempts.first?["outcome"] as? String == "pii_blocked", "\(attempts)")
    }

    @Test func redactSendsItMasked() async throws {
        let (answer, seen) = try await ask(policy: "redact")
        let sent = try #require(seen.first).userText
        #expect(sent.contains("[REDACTED]") && sent.contains("Salaries are paid on the 25th"), "\(sent)")
        #expect(!sent.contains("example.com") && !sent.contains("0912 345 678"), "\(sent)")
        #expect((answer["response_metadata"] as? [String: Any])?["provider"] as? String == "hosted")
    }
}
