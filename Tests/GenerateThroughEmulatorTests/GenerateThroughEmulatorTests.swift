import Foundation
import Testing
import TestSupport

/// The `generate` function through the real emulator and template: JWT authorizer, the handler
/// process reading its provider YAML with `${VAR}` keys from the environment, a provider over
/// real HTTP (a local server speaking OpenAI's wire format), the store and the search library.
@Suite(.serialized) struct GenerateThroughEmulatorTests {
    /// A providers file with one OpenAI-compatible provider whose key and URL come from the environment.
    static func providersFile() throws -> String {
        let path = TestPaths.temporaryDirectory("generate-providers") + "/providers.yaml"
        try """
        providers:
          testai:
            api: openai
            api_key: ${TEST_LLM_KEY}
            base_url: ${TEST_LLM_BASE_URL}
            models: { primary: test-model }
            timeout_ms: 10000
            cost: { input_per_1k: 1, output_per_1k: 2 }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static var chunks: [[String: Any]] { [
        ["chunk_id": "hr-7", "content": "Staff may work remotely two days a week. Managers approve the schedule.",
         "metadata": ["document_id": "remote-policy", "title": "Remote work", "page": 1, "confidence_score": 0.9]],
        ["chunk_id": "it-2", "content": "Laptops are replaced every four years by the IT department.",
         "metadata": ["document_id": "it-faq", "title": "IT FAQ"]],
    ] }

    @Test func anAnswerFromAProviderWithTheCallersChunks() async throws {
        let server = FakeChatServer(answer: "You may work remotely two days a week [1], with your manager's approval [1][5].")
        try await server.serve { base in
            let emu = try await BundleEmulator.start(prefix: "generate-bundle", environment: [
                "GENERATION_PROVIDERS": try Self.providersFile(), "TEST_LLM_KEY": "sk-e2e-secret-key", "TEST_LLM_BASE_URL": base + "/v1",
            ])
            defer { emu.stop() }
            let acme = try await emu.token(org: "acme")
            let query = "How many remote days per week are allowed for staff?"
            let r = try await emu.json("POST", "/v1/generate", token: acme, ["query": query, "context_chunks": Self.chunks])
            #expect(r.status == 200, "\(r.text)")
            #expect(r.json["answer"] as? String == "You may work remotely two days a week [1], with your manager's approval [1].")
            let citations = try #require(r.json["citations"] as? [[String: Any]])
            #expect(citations.count == 1)
            #expect(citations.first?["chunk_id"] as? String == "hr-7")
            #expect(citations.first?["document_id"] as? String == "remote-policy")
            #expect(citations.first?["reference"] as? String == "[1] Remote work, page 1")
            let meta = try #require(r.json["response_metadata"] as? [String: Any])
            #expect(meta["provider"] as? String == "testai")
            #expect(meta["model_used"] as? String == "test-model")
            #expect(meta["tokens_in"] as? Int == 321 && meta["tokens_out"] as? Int == 17)
            #expect(meta["citations_dropped"] as? Int == 1)
            #expect(meta["context_source"] as? String == "request")
            #expect(meta["fallback"] is NSNull)
            #expect((r.json["confidence_score"] as? Double ?? 0) > 0.5)

            let seen = try #require(await server.requests.first)
            #expect(seen.authorization == "Bearer sk-e2e-secret-key")
            #expect(seen.userText.contains("[1] Remote work, page 1\nStaff may work remotely"))
            #expect(seen.userText.contains("[2] IT FAQ\nLaptops"))

            // The same question again: the warm process's cache.
            let again = try await emu.json("POST", "/v1/generate", token: acme, ["query": query, "context_chunks": Self.chunks])
            #expect((again.json["response_metadata"] as? [String: Any])?["cache_hit"] as? Bool == true)
            #expect(await server.requests.count == 1)

            // Bad input: the documented error shape, never a 500.
            let tooMany = try await emu.json("POST", "/v1/generate", token: acme,
                                             ["query": "q", "context_chunks": Array(repeating: Self.chunks[0], count: 11)])
            #expect(tooMany.status == 422 && tooMany.errorCode == "validation_failed", "\(tooMany.text)")
            let big = try await emu.json("POST", "/v1/generate", token: acme, ["query": "q", "context_chunks": (0..<7).map {
                ["chunk_id": "c\($0)", "content": String(repeating: "word ", count: 2_000)]
            }])
            #expect(big.status == 413, "\(big.text)")
            let noQuery = try await emu.json("POST", "/v1/generate", token: acme, ["context_chunks": Self.chunks])
            #expect(noQuery.status == 422 && (noQuery.json["error"] as? [String: Any])?["details"] as? [String: String] == ["field": "query"])
            let malformed = try await emu.request("POST", "/v1/generate", body: Data("{not json".utf8),
                                                  headers: ["Authorization": "Bearer \(acme)"])
            #expect(malformed.status == 400 && malformed.errorCode == "invalid_json")
            let anonymous = try await emu.request("POST", "/v1/generate", body: Data(#"{"query":"q"}"#.utf8))
            #expect(anonymous.status == 401)

            // Metrics in the function's output (the emulator keeps each invocation's lines; a
            // terminal shows EMF only with --verbose), and never the question or the key.
            let state = try await emu.eventually(timeout: 30) { () -> String? in
                let text = try await emu.request("GET", "/__emulator/state").text
                return text.contains("ProviderCalls") ? text : nil
            }
            let log = emu.child.stderr.joined(separator: "\n") + (state ?? "")
            #expect(log.contains(#"\"Namespace\":\"RagFunctions\""#), "\(state ?? "no EMF record")")
            #expect(!log.contains("remote days per week"))
            #expect(!log.contains("sk-e2e-secret-key"))
        }
    }

    /// Server-sent events read off a body: (name, data) pairs.
    static func events(_ text: String) -> [(String, [String: Any])] {
        text.components(separatedBy: "\n\n").compactMap { block in
            let lines = block.split(separator: "\n")
            guard let name = lines.first(where: { $0.hasPrefix("event: ") })?.dropFirst(7),
                  let data = lines.first(where: { $0.hasPrefix("data: ") })?.dropFirst(6) else { return nil }
            return (String(name), (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:])
        }
    }

    /// `"stream": true` through generate's function URL (RESPONSE_STREAM, the template's): the
    /// answer arrives in pieces while the provider is still writing, the function checks the
    /// token itself, and the same request through the HTTP API gets the same events in one body.
    /// The real template, with generate speaking the Lambda Runtime API to the emulator (as its
    /// package does on AWS) instead of the stdio protocol.
    static func runtimeAPITemplate() throws -> String {
        let text = try String(contentsOfFile: BundleEmulator.template, encoding: .utf8)
        let marker = "  GenerateFunction:\n    Type: AWS::Serverless::Function\n    Metadata:\n      BuildMethod: makefile\n"
        #expect(text.contains(marker))
        let path = TestPaths.packageRoot + "/infra/.template-runtime-api-\(UUID().uuidString.prefix(8)).yaml"
        try text.replacingOccurrences(of: marker, with: marker + "      EmulatorInterface: runtime-api\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(arguments: ["stdio", "runtime-api"])
    func aStreamedAnswerThroughTheFunctionURL(interface: String) async throws {
        let answer = "You may work remotely two days a week [1], with your manager's approval [1]."
        // The provider holds after two words until the client has its first event.
        let server = FakeChatServer(answer: answer, holdAfter: 2)
        let template = interface == "stdio" ? nil : try Self.runtimeAPITemplate()
        defer { if let template { try? FileManager.default.removeItem(atPath: template) } }
        try await server.serve { base in
            let emu = try await BundleEmulator.start(prefix: "generate-stream", environment: [
                "GENERATION_PROVIDERS": try Self.providersFile(), "TEST_LLM_KEY": "sk-e2e-secret-key", "TEST_LLM_BASE_URL": base + "/v1",
            ], templatePath: template)
            if template != nil {
                #expect(await emu.child.waitForStderr(containing: "GenerateFunction speaks the Lambda Runtime API", timeout: 30) != nil)
            }
            defer { emu.stop() }
            let urls = try JSONSerialization.jsonObject(with: try await emu.request("GET", "/__emulator/function-urls").body) as? [String: String]
            let url = try #require(urls?["GenerateFunction"], "\(String(describing: urls))")
            let port = try #require(url.split(separator: ":").last.flatMap { Int($0) })
            let acme = try await emu.token(org: "acme")
            let body = try JSONSerialization.data(withJSONObject: ["query": "How many remote days per week are allowed?", "stream": true,
                                                                   "context_chunks": Self.chunks, "language": "en"])
            let response = try await StreamingHTTP.request(port: port, method: "POST", path: "/v1/generate",
                                                           headers: ["Authorization": "Bearer \(acme)", "Content-Type": "application/json"],
                                                           body: Array(body))
            #expect(response.status == 200)
            #expect(response.headers["content-type"]?.hasPrefix("text/event-stream") == true)
            var text = ""
            var writtenAtFirstPiece: Int?
            for try await piece in response.body {
                if writtenAtFirstPiece == nil {
                    writtenAtFirstPiece = await server.piecesWritten
                    server.release()
                }
                text += String(decoding: piece, as: UTF8.self)
            }
            let words = answer.split(separator: " ").count
            #expect((writtenAtFirstPiece ?? words) < words, "the first event came while the provider was still writing")
            let events = Self.events(text)
            #expect(events.filter { $0.0 == "delta" }.count >= 2)
            #expect(events.filter { $0.0 == "delta" }.compactMap { $0.1["text"] as? String }.joined() == answer)
            #expect(events.suffix(3).map(\.0) == ["citations", "metadata", "done"])
            #expect(((events.first { $0.0 == "metadata" }?.1["response_metadata"]) as? [String: Any])?["provider"] as? String == "testai")

            // The URL has no authorizer in front: the function refuses what the API would.
            let anonymous = try await StreamingHTTP.request(port: port, method: "POST", path: "/v1/generate", body: Array(body))
            #expect(anonymous.status == 401)
            let forged = try await StreamingHTTP.request(port: port, method: "POST", path: "/v1/generate",
                                                         headers: ["Authorization": "Bearer \(acme.dropLast(3))abc"], body: Array(body))
            #expect(forged.status == 401)

            // Through the HTTP API (which buffers), the same events in one text/event-stream body.
            let buffered = try await emu.json("POST", "/v1/generate", token: acme, ["query": "How many remote days per week are allowed for staff?",
                                                                                     "stream": true, "context_chunks": Self.chunks])
            #expect(buffered.status == 200)
            #expect(buffered.headers["content-type"]?.hasPrefix("text/event-stream") == true)
            #expect(Self.events(buffered.text).suffix(3).map(\.0) == ["citations", "metadata", "done"])
        }
    }

    @Test func offlineWithoutProvidersTheAnswerIsExtractive() async throws {
        let emu = try await BundleEmulator.start(prefix: "generate-offline", environment: [
            "GENERATION_PROVIDERS": try Self.providersFile(), "TEST_LLM_KEY": "", "TEST_LLM_BASE_URL": "",
        ])
        defer { emu.stop() }
        let acme = try await emu.token(org: "acme")
        let r = try await emu.json("POST", "/v1/generate", token: acme, [
            "query": "When are laptops replaced?", "context_chunks": Self.chunks, "language": "en", "preferred_provider": "testai",
        ])
        #expect(r.status == 200, "\(r.text)")
        let meta = try #require(r.json["response_metadata"] as? [String: Any])
        #expect(meta["fallback"] as? String == "extractive")
        #expect(meta["provider"] is NSNull)
        let attempts = try #require(meta["attempts"] as? [[String: Any]])
        #expect(attempts.map { "\($0["provider"]!):\($0["outcome"]!)" } == ["testai:disabled", "extractive:used"])
        #expect((r.json["answer"] as? String)?.contains("Laptops are replaced every four years by the IT department. [2]") == true)
        #expect((r.json["citations"] as? [[String: Any]])?.first?["chunk_id"] as? String == "it-2")

        // No documents in this org and no chunks given: the no-context message.
        let empty = try await emu.json("POST", "/v1/generate", token: acme, ["query": "Chính sách làm việc từ xa?"])
        #expect(empty.status == 200, "\(empty.text)")
        #expect((empty.json["response_metadata"] as? [String: Any])?["fallback"] as? String == "no_context")
        #expect((empty.json["answer"] as? String)?.hasPrefix("Xin lỗi, tôi không tìm thấy thông tin") == true)
    }

    /// Uploads indexed by the worker, retrieved by the search library, cited by the provider.
    @Test func uploadedDocumentsAreSearchedAndCited() async throws {
        let server = FakeChatServer(answer: "Staff may work remotely two days a week [1].")
        try await server.serve { base in
            let emu = try await BundleEmulator.start(prefix: "generate-upload", environment: [
                "GENERATION_PROVIDERS": try Self.providersFile(), "TEST_LLM_KEY": "sk-e2e", "TEST_LLM_BASE_URL": base + "/v1",
            ])
            defer { emu.stop() }
            let acme = try await emu.token(org: "acme")
            let docs = [
                ("remote.txt", "Remote work", "Remote work policy\n\nStaff may work remotely two days a week. Managers approve the schedule.\n"),
                ("laptops.txt", "IT FAQ", "Laptops\n\nLaptops are replaced every four years by the IT department.\n"),
            ]
            var ids: [String: String] = [:]
            for (file, title, text) in docs {
                let up = try await emu.request("POST", "/v1/documents", body: MultipartBody.make(file: Array(text.utf8), filename: file, title: title),
                                               headers: ["Content-Type": MultipartBody.contentType, "Authorization": "Bearer \(acme)"])
                #expect(up.status == 202, "\(up.text)")
                ids[title] = try #require(up.json["document_id"] as? String)
            }
            for id in ids.values {
                let ready = try await emu.eventually(timeout: 120, interval: 0.5) { () -> Bool? in
                    let d = try await emu.request("GET", "/v1/documents/\(id)", headers: ["Authorization": "Bearer \(acme)"])
                    return d.json["status"] as? String == "ready" ? true : nil
                }
                #expect(ready == true, "document \(id) became ready")
            }
            let r = try await emu.json("POST", "/v1/generate", token: acme, ["query": "How many days a week can staff work remotely?"])
            #expect(r.status == 200, "\(r.text)")
            let meta = try #require(r.json["response_metadata"] as? [String: Any])
            #expect(meta["context_source"] as? String == "search")
            #expect(meta["provider"] as? String == "testai")
            let citation = try #require((r.json["citations"] as? [[String: Any]])?.first)
            #expect(citation["document_id"] as? String == ids["Remote work"])
            #expect(await server.requests.first?.userText.contains("Staff may work remotely two days a week.") == true)

            // The same org offline-style: another org sees none of it.
            let globex = try await emu.token(org: "globex")
            let other = try await emu.json("POST", "/v1/generate", token: globex, ["query": "How many days a week can staff work remotely?"])
            #expect((other.json["response_metadata"] as? [String: Any])?["fallback"] as? String == "no_context")
        }
    }
}
