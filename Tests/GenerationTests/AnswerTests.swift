import Foundation
import Testing
@testable import Generation

extension AgainstFakeProviders {
    /// What happens to a model's answer before it is returned: citations, redaction, confidence, the cache.
    @Suite struct AnswerProcessingTests {
        @Test func inventedCitationsAreDroppedAndCounted() async throws {
            let server = FakeLLMServer([.answer("Twelve days of leave [1][7]. Receipts within thirty days [2, 9]. See also [0].")])
            try await server.serve { base in
                let r = try await generator([openAI(base)]).generate(org: "acme", ask(), deadline: later)
                #expect(r.answer == "Twelve days of leave [1]. Receipts within thirty days [2]. See also.")
                #expect(r.responseMetadata.citationsDropped == 3)
                #expect(r.citations.map(\.number) == [1, 2])
                #expect(r.citations[1].usedContent == "Travel expenses are reimbursed within thirty days of submitting receipts.")
                citationsAreValid(r, given: policyChunks)
            }
        }

        @Test func anAnswerThatCitesNothingHasLowerConfidence() async throws {
            let cited = FakeLLMServer([.answer("Employees get twelve days of paid annual leave each year [1].")])
            let uncited = FakeLLMServer([.answer("Employees get twelve days of paid annual leave each year.")])
            try await serving([cited, uncited]) { bases in
                let a = try await generator([openAI(bases[0])]).generate(org: "acme", ask(), deadline: later)
                let b = try await generator([openAI(bases[1])]).generate(org: "acme", ask(), deadline: later)
                #expect(a.confidenceScore > 0.7)
                #expect(b.confidenceScore < a.confidenceScore / 2)
                #expect(b.citations.isEmpty)
                // Below the threshold the answer says it is unsure.
                #expect(b.answer.hasPrefix("I found some potentially relevant information, but I'm not certain it is accurate:"))
                #expect(b.answer.contains("Employees get twelve days of paid annual leave each year."))
            }
        }

        @Test func secretsAndCardNumbersAreRedactedFromTheAnswer() async throws {
            let server = FakeLLMServer([.answer("The wifi password: Hunter2! is on the card 4111 1111 1111 1111 [3]. Mail it@example.com, ticket 1234 5678 9012 3456.")])
            try await server.serve { base in
                let r = try await generator([openAI(base)]).generate(org: "acme", ask("What is the wifi password?"), deadline: later)
                #expect(!r.answer.contains("Hunter2"))
                #expect(!r.answer.contains("4111"))
                #expect(!r.answer.contains("it@example.com"))
                #expect(r.answer.contains("password: [REDACTED]"))
                #expect(r.answer.contains("1234 5678 9012 3456"), "not a card number (Luhn), kept")
                #expect(r.responseMetadata.redactions == 3)
            }
        }

        @Test func aRepeatedQuestionIsServedFromTheCache() async throws {
            let server = FakeLLMServer()
            try await server.serve { base in
                let g = try generator([openAI(base)])
                let first = try await g.generate(org: "acme", ask(), deadline: later)
                #expect(!first.responseMetadata.cacheHit)
                let second = try await g.generate(org: "acme", ask(), deadline: later)
                #expect(second.responseMetadata.cacheHit)
                #expect(second.answer == first.answer)
                #expect(second.responseMetadata.provider == "openai")
                #expect(outcomes(second) == ["cache:hit"])
                #expect(second.responseMetadata.costEstimate == 0)
                #expect(await server.count == 1)

                // Different chunk content under the same ids, another org, or a personalised request: the model again.
                var changed = policyChunks
                changed[0].content = "Employees get fifteen days of paid annual leave each year."
                _ = try await g.generate(org: "acme", ask(chunks: changed), deadline: later)
                _ = try await g.generate(org: "globex", ask(), deadline: later)
                let personal = try await g.generate(org: "acme", ask(userContext: ["department": "rd"]), deadline: later)
                #expect(!personal.responseMetadata.cacheHit)
                _ = try await g.generate(org: "acme", ask(userContext: ["department": "rd"]), deadline: later)
                #expect(await server.count == 5)
            }
        }

        @Test func fallbacksAreNotCached() async throws {
            let server = FakeLLMServer([.status(401)])
            try await server.serve { base in
                var s = settings()
                s.authCooldown = .zero
                let g = try generator([openAI(base)], settings: s)
                let first = try await g.generate(org: "acme", ask(), deadline: later)
                #expect(first.responseMetadata.fallback == .extractive)
                let second = try await g.generate(org: "acme", ask(), deadline: later)
                #expect(!second.responseMetadata.cacheHit)
                #expect(second.responseMetadata.provider == "openai", "the provider is asked again")
            }
        }

        @Test func metricsAreEmbeddedMetricFormatWithoutQueryText() async throws {
            let server = FakeLLMServer(then: .status(500))
            try await server.serve { base in
                let lines = MetricLines()
                let g = try generator([openAI(base)], metrics: lines)
                _ = try await g.generate(org: "acme", ask("Confidential question about annual leave"), deadline: later)
                let all = lines.all
                #expect(all.count == 4, "three provider calls and the request")
                for line in all {
                    #expect(line.hasSuffix("}\n"))
                    let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                    let aws = try #require(object["_aws"] as? [String: Any])
                    #expect(aws["Timestamp"] is Int)
                    let directive = try #require((aws["CloudWatchMetrics"] as? [[String: Any]])?.first)
                    #expect(directive["Namespace"] as? String == "RagFunctions")
                    #expect(!line.contains("Confidential"))
                    #expect(!line.contains("twelve"))
                }
                let request = try #require(try JSONSerialization.jsonObject(with: Data(all.last!.utf8)) as? [String: Any])
                #expect(request["provider"] as? String == "none")
                #expect(request["status"] as? String == "extractive")
                #expect(request["Requests"] as? Int == 1)
                let call = try #require(try JSONSerialization.jsonObject(with: Data(all[0].utf8)) as? [String: Any])
                #expect(call["provider"] as? String == "openai" && call["outcome"] as? String == "server_error")
            }
        }
    }
}

@Suite struct CitationParserTests {
    @Test func markersOfEveryShape() {
        let p = CitationParser.parse("A [1]. B [2, 3]. C [1-2]. D [4]. E [2][2].", count: 3)
        #expect(p.numbers == [1, 2, 3])
        #expect(p.dropped == 1)
        #expect(p.text == "A [1]. B [2][3]. C [1][2]. D. E [2][2].")
    }

    @Test func nothingIsValidWithoutChunks() {
        let p = CitationParser.parse("Made up [1].", count: 0)
        #expect(p.numbers.isEmpty && p.dropped == 1 && p.text == "Made up.")
    }

    @Test func bracketedTextThatIsNotACitationStays() {
        let p = CitationParser.parse("Use the [Submit] button [1].", count: 1)
        #expect(p.text == "Use the [Submit] button [1].")
    }
}

@Suite struct RedactorTests {
    let r = Redactor()

    @Test func seedPatterns() {
        #expect(r.redact("token=abc123 and secret: s3cr3t").text == "token=[REDACTED] and secret: [REDACTED]")
        #expect(r.redact("card 4111-1111-1111-1111 ok").text == "card [REDACTED] ok")
        #expect(r.redact("SSN 123-45-6789").text == "SSN [REDACTED]")
        #expect(r.redact("write to hr@acme.example").text == "write to [REDACTED]")
        #expect(r.redact("key sk-proj-abcdefghijklmnopqrstuvwx here").text == "key [REDACTED] here")
        #expect(r.redact("Mật khẩu: abc123").text == "Mật khẩu: [REDACTED]")
    }

    @Test func ordinaryNumbersSurvive() {
        let text = "Order 1234 5678 9012 3456 ships in 12 days; call 555-0100."
        #expect(r.redact(text).text == text)
        #expect(r.redact(text).count == 0)
    }

    @Test func extraPatternsFromSettings() {
        let custom = Redactor(extraPatterns: [#"EMP-\d{6}"#])
        #expect(custom.redact("employee EMP-123456").text == "employee [REDACTED]")
    }
}

@Suite struct ConfidenceTests {
    @Test func formula() {
        let full = Confidence.model(.init(relevances: [0.9], sentences: 2, citedSentences: 2, lengthOK: true, invented: 0, refusal: false,
                                          citationRequired: true, cited: true))
        #expect(full == 0.96)  // 0.4*0.9 + 0.4*1 + 0.2*1
        let uncited = Confidence.model(.init(relevances: [0.9], sentences: 2, citedSentences: 0, lengthOK: true, invented: 0, refusal: false,
                                             citationRequired: true, cited: false))
        #expect(uncited == 0.28)  // (0.36 + 0 + 0.2) / 2
        #expect(Confidence.extractive([0.8, 0.4]) == 0.3)
        #expect(Confidence.searchOnly([0.8]) == 0.2)
        #expect(Confidence.isRefusal("Tôi không tìm thấy thông tin này trong tài liệu hiện có."))
        #expect(Confidence.isRefusal("I cannot find this information in the available documents."))
    }
}
