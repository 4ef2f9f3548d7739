import Foundation
import Resilience
import Testing
@testable import Generation

extension AgainstFakeProviders {
    /// The retry loop and the fallback chain against providers failing in each documented way.
    @Suite struct ChainTests {
        @Test func rateLimitedWithRetryAfterIsWaitedFor() async throws {
            let server = FakeLLMServer([
                .status(429, body: #"{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}"#,
                        headers: ["Retry-After": "1"]),
            ])
            try await server.serve { base in
                let r = try await generator([openAI(base)]).generate(org: "acme", ask(), deadline: later)
                #expect(r.responseMetadata.provider == "openai")
                #expect(outcomes(r) == ["openai:rate_limited", "openai:ok"])
                #expect(r.responseMetadata.attempts[0].retryAfterMs == 1000)
                #expect(r.responseMetadata.attempts[0].httpStatus == 429)
                let seen = await server.requests
                #expect(seen.count == 2)
                #expect(seen[1].at - seen[0].at >= .milliseconds(900), "waited for Retry-After, not the 20 ms backoff")
            }
        }

        @Test func rateLimitedWithoutRetryAfterBacksOff() async throws {
            let server = FakeLLMServer([.status(429, body: #"{"error":{"message":"slow down","type":"requests"}}"#),
                                        .status(429, body: #"{"error":{"message":"slow down","type":"requests"}}"#)])
            try await server.serve { base in
                let r = try await generator([openAI(base)]).generate(org: "acme", ask(), deadline: later)
                #expect(outcomes(r) == ["openai:rate_limited", "openai:rate_limited", "openai:ok"])
                #expect(r.responseMetadata.attempts[0].retryAfterMs == nil)
                #expect(r.responseMetadata.fallback == nil)
            }
        }

        @Test func aRetryAfterLongerThanThePolicyMovesOnAtOnce() async throws {
            let limited = FakeLLMServer(then: .status(429, body: #"{"error":{"message":"Rate limit","type":"tokens"}}"#,
                                                      headers: ["Retry-After": "3600"]))
            let backup = FakeLLMServer()
            try await serving([limited, backup]) { bases in
                let start = ContinuousClock.now
                let r = try await generator([openAI(bases[0]), anthropic(bases[1])]).generate(org: "acme", ask(), deadline: later)
                #expect(ContinuousClock.now - start < .seconds(60), "did not sit out the hour")
                #expect(outcomes(r) == ["openai:rate_limited", "claude:ok"])
                #expect(r.responseMetadata.fallback == .nextProvider)
                #expect(await limited.count == 1)
            }
        }

        @Test func geminiRateLimitIsNotBillingAndItsRetryDelayIsHonoured() async throws {
            let server = FakeLLMServer([.status(429, body: #"{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1s"}]}}"#)])
            try await server.serve { base in
                let r = try await generator([gemini(base)]).generate(org: "acme", ask(), deadline: later)
                #expect(outcomes(r) == ["gemini:rate_limited", "gemini:ok"])
                #expect(r.responseMetadata.attempts[0].retryAfterMs == 1000)
                let seen = await server.requests
                #expect(seen[1].at - seen[0].at >= .milliseconds(900))
            }
        }

        @Test func serverErrorThenSuccess() async throws {
            let server = FakeLLMServer([.status(500, body: #"{"error":{"message":"The server had an error","type":"server_error"}}"#)])
            try await server.serve { base in
                let r = try await generator([openAI(base)]).generate(org: "acme", ask(), deadline: later)
                #expect(outcomes(r) == ["openai:server_error", "openai:ok"])
                #expect(r.responseMetadata.attempts[0].httpStatus == 500)
                #expect(r.responseMetadata.attempts[0].detail?.contains("The server had an error") == true)
                #expect(r.responseMetadata.provider == "openai" && r.responseMetadata.fallback == nil)
            }
        }

        @Test func serverErrorsExhaustRetriesThenSwitch() async throws {
            let failing = FakeLLMServer(then: .status(529, body: #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#))
            let backup = FakeLLMServer()
            try await serving([failing, backup]) { bases in
                let r = try await generator([anthropic(bases[0]), gemini(bases[1])]).generate(org: "acme", ask(), deadline: later)
                #expect(outcomes(r) == ["claude:server_error", "claude:server_error", "claude:server_error", "gemini:ok"])
                #expect(r.responseMetadata.provider == "gemini" && r.responseMetadata.fallback == .nextProvider)
            }
        }

        @Test func aTimeoutIsRetriedOnce() async throws {
            // Generous budgets: the retry's 6 s (twice the first) must hold an immediate answer
            // even on a loaded 2-core machine, where 2 s once did not.
            let server = FakeLLMServer([.hang(.seconds(12), then: .answer("late [1]"))], then: .answer("Twelve days [1]."))
            try await server.serve { base in
                let r = try await generator([openAI(base, timeout: .seconds(3))]).generate(org: "acme", ask(), deadline: later)
                #expect(outcomes(r) == ["openai:timed_out", "openai:ok"])
                #expect(r.responseMetadata.provider == "openai")
                #expect(r.answer == "Twelve days [1].")
            }
        }

        @Test func theRetryAfterATimeoutWaitsTwiceAsLongThenTheChainSwitches() async throws {
            let server = FakeLLMServer(then: .hang(.seconds(10), then: .answer("late [1]")))
            let backup = FakeLLMServer()
            try await serving([server, backup]) { bases in
                let r = try await generator([openAI(bases[0], timeout: .milliseconds(500)), gemini(bases[1])])
                    .generate(org: "acme", ask(), deadline: later)
                #expect(outcomes(r) == ["openai:timed_out", "openai:timed_out", "gemini:ok"])
                #expect(r.responseMetadata.attempts[0].detail?.hasSuffix("within 500 ms") == true, "\(r.responseMetadata.attempts[0].detail ?? "")")
                #expect(r.responseMetadata.attempts[1].detail?.hasSuffix("within 1.0 s") == true, "\(r.responseMetadata.attempts[1].detail ?? "")")
                #expect(r.responseMetadata.fallback == .nextProvider)
            }
        }

        @Test func unauthorizedDisablesTheProviderAndSwitches() async throws {
            let refusing = FakeLLMServer(then: .status(401, body: #"{"error":{"message":"Incorrect API key provided: sk-test-openai-0123456789","type":"invalid_request_error","code":"invalid_api_key"}}"#))
            let backup = FakeLLMServer()
            try await serving([refusing, backup]) { bases in
                let g = try generator([openAI(bases[0]), anthropic(bases[1])])
                let first = try await g.generate(org: "acme", ask(), deadline: later)
                #expect(outcomes(first) == ["openai:unauthorized", "claude:ok"])
                #expect(first.responseMetadata.fallback == .nextProvider)
                #expect(first.responseMetadata.attempts[0].detail?.contains("sk-test-openai-0123456789") == false, "the key is never echoed")
                // The next request skips it without calling: its key will not have changed.
                let second = try await g.generate(org: "acme", ask("How fast are travel expenses reimbursed?"), deadline: later)
                #expect(outcomes(second) == ["openai:cooldown", "claude:ok"])
                #expect(second.responseMetadata.fallback == .nextProvider)
                #expect(await refusing.count == 1)
            }
        }

        @Test func billingDisablesTheProvider() async throws {
            let broke = FakeLLMServer(then: .status(429, body: #"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","code":"insufficient_quota"}}"#))
            let backup = FakeLLMServer()
            try await serving([broke, backup]) { bases in
                let g = try generator([openAI(bases[0]), gemini(bases[1])])
                let r = try await g.generate(org: "acme", ask(), deadline: later)
                #expect(outcomes(r) == ["openai:billing", "gemini:ok"])
                let again = try await g.generate(org: "acme", ask("Unused leave?"), deadline: later)
                #expect(outcomes(again).first == "openai:cooldown")
                #expect(await broke.count == 1)
            }
        }

        @Test func contextLengthDropsLowestRankedChunksAndRetries() async throws {
            // The model takes at most two passages.
            let server = FakeLLMServer(then: .custom { seen in
                seen.passages > 2
                    ? .status(400, body: #"{"error":{"message":"This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#)
                    : .answer("Twelve days [1]; receipts within thirty days [2].")
            })
            try await server.serve { base in
                var s = settings()
                s.maxContextTokens = 100
                let r = try await generator([openAI(base)], settings: s).generate(org: "acme", ask(), deadline: later)
                #expect(outcomes(r) == ["openai:context_length", "openai:ok"])
                #expect(r.responseMetadata.attempts[0].chunks == 3)
                #expect(r.responseMetadata.attempts[1].chunks == 1 || r.responseMetadata.attempts[1].chunks == 2)
                #expect(r.responseMetadata.contextChunksUsed == r.responseMetadata.attempts[1].chunks)
                let seen = await server.requests
                #expect(seen[1].passages < seen[0].passages)
                // The highest-ranked chunk stays; citations are checked against what was sent.
                #expect(seen[1].lastUserText.contains("[1] Leave policy"))
                #expect(!seen[1].lastUserText.contains("IT help"))
                citationsAreValid(r, given: policyChunks)
                #expect(r.citations.allSatisfy { $0.number <= r.responseMetadata.contextChunksUsed })
            }
        }

        @Test func anthropicPromptTooLongIsAContextLengthError() async throws {
            let server = FakeLLMServer([.status(400, body: #"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#)])
            try await server.serve { base in
                let r = try await generator([anthropic(base)]).generate(org: "acme", ask(), deadline: later)
                #expect(outcomes(r) == ["claude:context_length", "claude:ok"])
            }
        }

        @Test func malformedJSONIsRetriedOnceThenSwitches() async throws {
            let garbage = FakeLLMServer(then: .status(200, body: "<html>upstream proxy error</html>"))
            let backup = FakeLLMServer()
            try await serving([garbage, backup]) { bases in
                let r = try await generator([openAI(bases[0]), anthropic(bases[1])]).generate(org: "acme", ask(), deadline: later)
                #expect(outcomes(r) == ["openai:malformed_response", "openai:malformed_response", "claude:ok"])
                #expect(r.responseMetadata.attempts[0].detail?.contains("not JSON") == true)
            }
        }

        @Test func contentFilterSwitchesWithoutRetry() async throws {
            let filtered = FakeLLMServer(then: .status(200, body: #"{"id":"x","model":"gpt-test","choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"content_filter"}]}"#))
            let blocked = FakeLLMServer(then: .status(200, body: #"{"promptFeedback":{"blockReason":"SAFETY"}}"#))
            let backup = FakeLLMServer()
            try await serving([filtered, blocked, backup]) { bases in
                let r = try await generator([openAI(bases[0]), gemini(bases[1]), anthropic(bases[2])]).generate(org: "acme", ask(), deadline: later)
                #expect(outcomes(r) == ["openai:content_filter", "gemini:content_filter", "claude:ok"])
            }
        }

        @Test func notFoundTriesTheFallbackModel() async throws {
            let server = FakeLLMServer(then: .custom { seen in
                (seen.json["model"] as? String) == "gpt-missing"
                    ? .status(404, body: #"{"error":{"message":"The model `gpt-missing` does not exist","type":"invalid_request_error","code":"model_not_found"}}"#)
                    : .answer("Twelve days [1].")
            })
            try await server.serve { base in
                let r = try await generator([openAI(base, model: "gpt-missing", fallback: "gpt-backup")]).generate(org: "acme", ask(), deadline: later)
                #expect(outcomes(r) == ["openai:not_found", "openai:ok"])
                #expect(r.responseMetadata.attempts.map(\.model) == ["gpt-missing", "gpt-backup"])
                #expect(r.responseMetadata.modelUsed == "gpt-backup")
                #expect(r.responseMetadata.fallback == .fallbackModel)
            }
        }

        @Test func preferredProviderGoesFirst() async throws {
            let a = FakeLLMServer()
            let b = FakeLLMServer([.answer("From Claude: twelve days [1].")])
            try await serving([a, b]) { bases in
                let r = try await generator([openAI(bases[0]), anthropic(bases[1])]).generate(org: "acme", ask(preferred: "claude"), deadline: later)
                #expect(outcomes(r) == ["claude:ok"])
                #expect(r.answer.hasPrefix("From Claude"))
                #expect(await a.count == 0)
            }
        }

        @Test func aPreferredProviderWithoutKeyIsSkippedVisibly() async throws {
            let a = FakeLLMServer()
            try await a.serve { base in
                let r = try await generator([openAI(base), anthropic(base, key: nil)]).generate(org: "acme", ask(preferred: "claude"), deadline: later)
                #expect(outcomes(r) == ["claude:disabled", "openai:ok"])
                #expect(r.responseMetadata.attempts[0].detail == "no API key")
            }
        }

        @Test func theBreakerOpensAfterRepeatedFailuresAndIsSharedByRequests() async throws {
            let down = FakeLLMServer(then: .status(503, body: #"{"error":{"message":"unavailable","status":"UNAVAILABLE","code":503}}"#))
            try await down.serve { base in
                var s = settings()
                s.breakerFailureThreshold = 3
                let g = try generator([gemini(base)], settings: s)
                let first = try await g.generate(org: "acme", ask(), deadline: later)
                #expect(outcomes(first) == ["gemini:server_error", "gemini:server_error", "gemini:server_error", "extractive:used"])
                let second = try await g.generate(org: "acme", ask("When does unused leave expire?"), deadline: later)
                #expect(outcomes(second) == ["gemini:circuit_open", "extractive:used"])
                #expect(await down.count == 3)
            }
        }

        @Test func everyProviderFailingGivesTheExtractiveAnswerWithValidCitations() async throws {
            let a = FakeLLMServer(then: .status(500))
            let b = FakeLLMServer(then: .status(403, body: #"{"type":"error","error":{"type":"permission_error","message":"not allowed"}}"#))
            let c = FakeLLMServer(then: .status(400, body: #"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#))
            try await serving([a, b, c]) { bases in
                let r = try await generator([openAI(bases[0]), anthropic(bases[1]), gemini(bases[2])])
                    .generate(org: "acme", ask("How many days of paid annual leave do employees get?"), deadline: later)
                #expect(r.responseMetadata.fallback == .extractive)
                #expect(r.responseMetadata.provider == nil && r.responseMetadata.modelUsed == nil)
                #expect(outcomes(r) == ["openai:server_error", "openai:server_error", "openai:server_error", "claude:unauthorized",
                                        "gemini:unauthorized", "extractive:used"])
                #expect(r.answer.contains("Employees get twelve days of paid annual leave each year. [1]"))
                #expect(r.answer.hasPrefix("A full answer cannot be generated right now."))
                #expect(r.citations.first?.chunkId == "c-leave")
                #expect(r.confidenceScore > 0 && r.confidenceScore <= 0.5)
                citationsAreValid(r, given: policyChunks)
            }
        }

        @Test func noProviderConfiguredAnswersExtractivelyOffline() async throws {
            let r = try await generator([]).generate(org: "acme", ask("How fast are travel expenses reimbursed?"), deadline: later)
            #expect(r.responseMetadata.fallback == .extractive)
            #expect(r.citations.first?.chunkId == "c-expense")
            #expect(r.answer.contains("Travel expenses are reimbursed within thirty days of submitting receipts. [2]"))
            citationsAreValid(r, given: policyChunks)
        }

        @Test func noMatchingSentenceGivesTheSearchResultsAlone() async throws {
            let r = try await generator([]).generate(org: "acme", ask("Quarterly revenue forecast?"), deadline: later)
            #expect(r.responseMetadata.fallback == .searchOnly)
            #expect(outcomes(r) == ["extractive:no_match", "search_only:used"])
            #expect(r.answer.contains("- [1] Leave policy, page 2\n- [2] Expense claims\n- [3] IT help"))
            #expect(r.citations.map(\.chunkId) == ["c-leave", "c-expense", "c-it"])
            citationsAreValid(r, given: policyChunks)
        }

        @Test func noChunksGivesTheNoContextMessage() async throws {
            let server = FakeLLMServer()
            try await server.serve { base in
                let g = try generator([openAI(base)])
                let found = try await g.generate(org: "acme", ask("Chính sách nghỉ phép là gì?", chunks: nil, language: nil), deadline: later)
                #expect(found.responseMetadata.fallback == .noContext)
                #expect(found.responseMetadata.contextSource == .search)
                #expect(found.answer.hasPrefix("Xin lỗi, tôi không tìm thấy thông tin liên quan đến câu hỏi \"Chính sách nghỉ phép là gì?\""))
                #expect(found.citations.isEmpty && found.confidenceScore == 0)
                let given = try await g.generate(org: "acme", ask(chunks: []), deadline: later)
                #expect(given.responseMetadata.fallback == .noContext)
                #expect(given.answer.hasPrefix("Sorry, I couldn't find information related to"))
                #expect(await server.count == 0, "no model call without context")
            }
        }

        @Test func theDeadlineIsRespectedWhenProvidersHang() async throws {
            let hanging = FakeLLMServer(then: .hang(.seconds(8), then: .answer("too late [1]")))
            try await serving([hanging]) { bases in
                var s = settings()
                s.deadlineReserve = .seconds(1)
                let g = try generator([openAI(bases[0], timeout: .seconds(30)), anthropic(bases[0], timeout: .seconds(30))], settings: s)
                let start = ContinuousClock.now
                let r = try await g.generate(org: "acme", ask(), deadline: .now + .seconds(4))
                #expect(ContinuousClock.now - start < .seconds(25), "well before the providers' 30 s timeouts")
                #expect(r.responseMetadata.fallback == .extractive)
                #expect(r.responseMetadata.attempts.first?.outcome == "timed_out")
                #expect(outcomes(r).contains("claude:out_of_time"))
                #expect(outcomes(r).last == "extractive:used")
                citationsAreValid(r, given: policyChunks)
            }
        }
    }
}
