import Foundation
import Testing
@testable import Generation

extension AgainstFakeProviders {
    /// Each wire format against a server that checks what a real one would: method, path,
    /// auth headers, and the request JSON fields.
    @Suite struct ProviderWireTests {
        @Test func openAIChatCompletions() async throws {
            let server = FakeLLMServer([.answer("Employees get twelve days of paid annual leave [1].", tokensIn: 200, tokensOut: 40)])
            try await server.serve { base in
                let g = try generator([openAI(base)])
                let r = try await g.generate(org: "acme", ask(), deadline: later)
                #expect(r.answer == "Employees get twelve days of paid annual leave [1].")
                #expect(r.responseMetadata.provider == "openai")
                #expect(r.responseMetadata.modelUsed == "gpt-test")
                #expect(r.responseMetadata.fallback == nil)
                #expect(r.responseMetadata.tokensIn == 200 && r.responseMetadata.tokensOut == 40)
                #expect(r.responseMetadata.tokensEstimated == false)
                // 200 * 0.5/1k + 40 * 1.5/1k
                #expect(abs(r.responseMetadata.costEstimate - 0.16) < 1e-9)
                #expect(outcomes(r) == ["openai:ok"])
                #expect(r.citations.map(\.chunkId) == ["c-leave"])
                #expect(r.citations.first?.reference == "[1] Leave policy, page 2")
                #expect(r.citations.first?.usedContent == "Employees get twelve days of paid annual leave each year.")
                #expect(r.citations.first?.documentId == "d-hr")
                citationsAreValid(r, given: policyChunks)

                let seen = try #require(await server.requests.first)
                #expect(seen.method == "POST")
                #expect(seen.path == "/v1/chat/completions")
                #expect(seen.headers["authorization"] == "Bearer sk-test-openai-0123456789")
                #expect(seen.headers["content-type"] == "application/json")
                let body = seen.json
                #expect(body["model"] as? String == "gpt-test")
                #expect(seen.text.contains(#""max_tokens":1000"#), "an integer, as the API requires")
                #expect(body["temperature"] as? Double == 0.1)
                #expect(body["stream"] as? Bool == false)
                let messages = try #require(body["messages"] as? [[String: Any]])
                #expect(messages.first?["role"] as? String == "system")
                #expect((messages.first?["content"] as? String)?.contains("[1]") == true)
                #expect(messages.last?["role"] as? String == "user")
                let user = seen.lastUserText
                #expect(user.contains("[1] Leave policy, page 2\nEmployees get twelve days"))
                #expect(user.contains("[2] Expense claims\n") && user.contains("[3] IT help\n"))
                #expect(user.contains("QUESTION: How many days of annual leave do employees get?"))
            }
        }

        @Test func openAICompatibleLocalServerWithoutKeyAndMaxCompletionTokens() async throws {
            let server = FakeLLMServer()
            try await server.serve { base in
                var local = openAI(base, name: "local", key: nil)
                local.requiresKey = false
                local.maxTokensField = "max_completion_tokens"
                let r = try await generator([local]).generate(org: "acme", ask(), deadline: later)
                #expect(r.responseMetadata.provider == "local")
                let seen = try #require(await server.requests.first)
                #expect(seen.headers["authorization"] == nil)
                #expect(seen.json["max_completion_tokens"] as? Int == 1000)
                #expect(seen.json["max_tokens"] == nil)
            }
        }

        @Test func anthropicMessages() async throws {
            let server = FakeLLMServer([.answer("Twelve days [1]; unused days expire in March [1].", tokensIn: 300, tokensOut: 20)])
            try await server.serve { base in
                let r = try await generator([anthropic(base)]).generate(
                    org: "acme", GenerateRequest(query: "How much annual leave?", contextChunks: policyChunks, maxTokens: 256), deadline: later)
                #expect(r.responseMetadata.provider == "claude")
                #expect(r.responseMetadata.modelUsed == "claude-test")
                #expect(r.responseMetadata.tokensIn == 300 && r.responseMetadata.tokensOut == 20)
                #expect(abs(r.responseMetadata.costEstimate - (0.9 + 0.3)) < 1e-9)
                #expect(r.citations.map(\.number) == [1])
                let seen = try #require(await server.requests.first)
                #expect(seen.path == "/v1/messages")
                #expect(seen.headers["x-api-key"] == "sk-ant-test-key-0123456789")
                #expect(seen.headers["anthropic-version"] == "2023-06-01")
                #expect(seen.headers["authorization"] == nil)
                let body = seen.json
                #expect(body["model"] as? String == "claude-test")
                #expect(body["max_tokens"] as? Int == 256)
                #expect((body["system"] as? String)?.contains("internal knowledge assistant") == true)
                let messages = try #require(body["messages"] as? [[String: Any]])
                #expect(messages.count == 1 && messages[0]["role"] as? String == "user")
                #expect(seen.lastUserText.contains("QUESTION: How much annual leave?"))
            }
        }

        @Test func anthropicTurnsAlternateStartingWithTheUser() async throws {
            let server = FakeLLMServer()
            try await server.serve { base in
                let request = GenerateRequest(query: "And how many days?", contextChunks: policyChunks, history: [
                    ChatMessage(role: .assistant, content: "Hello, how can I help?"),
                    ChatMessage(role: .user, content: "I have a question about leave."),
                    ChatMessage(role: .user, content: "It is about annual leave."),
                    ChatMessage(role: .assistant, content: "Sure."),
                ], language: .en)
                _ = try await generator([anthropic(base)]).generate(org: "acme", request, deadline: later)
                let messages = try #require(await server.requests.first?.json["messages"] as? [[String: Any]])
                #expect(messages.map { $0["role"] as? String } == ["user", "assistant", "user"])
                #expect(messages[0]["content"] as? String == "I have a question about leave.\n\nIt is about annual leave.")
            }
        }

        @Test func geminiGenerateContent() async throws {
            let server = FakeLLMServer([.answer("Nhân viên có mười hai ngày phép năm [1].", tokensIn: 150, tokensOut: 12)])
            try await server.serve { base in
                let r = try await generator([gemini(base)]).generate(
                    org: "acme", ask("Nhân viên được nghỉ phép năm bao nhiêu ngày?", language: nil), deadline: later)
                #expect(r.responseMetadata.provider == "gemini")
                #expect(r.responseMetadata.modelUsed == "gemini-test")
                #expect(r.responseMetadata.language == .vi)
                #expect(r.responseMetadata.tokensIn == 150 && r.responseMetadata.tokensOut == 12)
                #expect(r.citations.first?.reference == "[1] Leave policy, trang 2")
                let seen = try #require(await server.requests.first)
                #expect(seen.path == "/v1beta/models/gemini-test:generateContent")
                #expect(seen.headers["x-goog-api-key"] == "AIza-test-gemini-key")
                #expect(seen.query.isEmpty)
                let body = seen.json
                let system = try #require((body["systemInstruction"] as? [String: Any])?["parts"] as? [[String: Any]])
                #expect((system.first?["text"] as? String)?.contains("trợ lý tri thức nội bộ") == true)
                let contents = try #require(body["contents"] as? [[String: Any]])
                #expect(contents.last?["role"] as? String == "user")
                #expect(seen.lastUserText.contains("CÂU HỎI: Nhân viên được nghỉ phép năm bao nhiêu ngày?"))
                let config = try #require(body["generationConfig"] as? [String: Any])
                #expect(config["maxOutputTokens"] as? Int == 1000)
                #expect(config["temperature"] as? Double == 0.1)
            }
        }

        @Test func geminiKeyInQuery() async throws {
            let server = FakeLLMServer()
            try await server.serve { base in
                let r = try await generator([gemini(base, keyInQuery: true)]).generate(org: "acme", ask(), deadline: later)
                #expect(r.responseMetadata.provider == "gemini")
                let seen = try #require(await server.requests.first)
                #expect(seen.query == "key=AIza-test-gemini-key")
                #expect(seen.headers["x-goog-api-key"] == nil)
            }
        }

        @Test func usageMissingIsEstimated() async throws {
            let server = FakeLLMServer([.answer("Twelve days [1].", usage: false)])
            try await server.serve { base in
                let r = try await generator([openAI(base)]).generate(org: "acme", ask(), deadline: later)
                #expect(r.responseMetadata.tokensEstimated)
                #expect(r.responseMetadata.tokensIn > 50 && r.responseMetadata.tokensOut > 0)
                #expect(r.responseMetadata.costEstimate > 0)
            }
        }

        @Test func userContextUsesTheContextualTemplate() async throws {
            let server = FakeLLMServer()
            try await server.serve { base in
                _ = try await generator([openAI(base)]).generate(
                    org: "acme", ask(userContext: ["user_id": "emp001", "department": "rd", "access_level": "employee"]), deadline: later)
                let user = try #require(await server.requests.first?.lastUserText)
                #expect(user.contains("ASKED BY: department rd, access level employee."))
                #expect(!user.contains("emp001"), "the user id stays out of the prompt")
            }
        }
    }
}
