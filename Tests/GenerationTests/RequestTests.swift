import Foundation
import JSON
import LambdaEvents
import ServiceErrors
import Testing
@testable import Generation

@Suite struct GenerateRequestTests {
    let limits = InputLimits()

    /// Parsed, and a refusal as the documented error the handler answers with.
    func parse(_ json: String) throws(APIError) -> GenerateRequest {
        do {
            return try GenerateRequest.parse(try! JSONValue.parse(Array(json.utf8)), limits: limits, providers: ["openai", "claude"])
        } catch {
            throw ErrorMapping.apiError(error)
        }
    }

    func status(_ json: String) -> (Int, String?) {
        do {
            _ = try parse(json)
            return (200, nil)
        } catch {
            return (error.status, error.details["field"]?.stringValue)
        }
    }

    @Test func theSeedsShape() throws {
        let r = try parse("""
        {"query": "  Quy trình mua hàng trình giám đốc như thế nào?  ",
         "context_chunks": [{"chunk_id": "doc123_chunk_5", "content": "Bước 1: Tạo yêu cầu mua hàng...",
                             "metadata": {"document_id": "proc_001", "title": "Quy trình Mua hàng", "page": 2, "confidence_score": 0.95}}],
         "user_context": {"user_id": "emp001", "department": "rd", "access_level": "employee"},
         "conversation_history": [{"role": "user", "content": "Xin chào"}, {"role": "assistant", "content": "Chào bạn"}],
         "preferred_provider": "claude", "language": "auto", "max_tokens": 500, "temperature": 0.2}
        """)
        #expect(r.query == "Quy trình mua hàng trình giám đốc như thế nào?")
        #expect(r.contextChunks == [ContextChunk(chunkId: "doc123_chunk_5", documentId: "proc_001", title: "Quy trình Mua hàng", page: 2,
                                                 content: "Bước 1: Tạo yêu cầu mua hàng...", relevance: 0.95)])
        #expect(r.userContext?["department"] == "rd" && r.history.count == 2 && r.isPersonalised)
        #expect(r.preferredProvider == "claude" && r.language == nil && r.maxTokens == 500 && r.temperature == 0.2)
    }

    @Test func violationsAreClear4xx() {
        let long = String(repeating: "a", count: 2001)
        #expect(status(#"{"query": "\#(long)"}"#) == (422, "query"))
        #expect(status(#"{"query": "   "}"#) == (422, "query"))
        #expect(status(#"{"query": 5}"#) == (400, "query"))
        #expect(status(#"{}"#) == (422, "query"))
        #expect(status(#"[1]"#).0 == 400)
        let eleven = (0..<11).map { #"{"chunk_id": "c\#($0)", "content": "text"}"# }.joined(separator: ",")
        #expect(status(#"{"query": "q", "context_chunks": [\#(eleven)]}"#) == (422, "context_chunks"))
        let big = String(repeating: "x", count: 9_000)
        let heavy = (0..<8).map { #"{"chunk_id": "c\#($0)", "content": "\#(big)"}"# }.joined(separator: ",")
        #expect(status(#"{"query": "q", "context_chunks": [\#(heavy)]}"#) == (413, "context_chunks"))
        #expect(status(#"{"query": "q", "context_chunks": [{"chunk_id": "a", "content": "\#(String(repeating: "y", count: 20_001))"}]}"#).0 == 413)
        #expect(status(#"{"query": "q", "context_chunks": {"a": 1}}"#) == (400, "context_chunks"))
        #expect(status(#"{"query": "q", "context_chunks": [{"content": "text"}]}"#) == (422, "context_chunks[0].chunk_id"))
        #expect(status(#"{"query": "q", "context_chunks": [{"chunk_id": "a"}]}"#) == (422, "context_chunks[0].content"))
        #expect(status(#"{"query": "q", "context_chunks": [{"chunk_id": "a", "content": "t", "metadata": {"confidence_score": 7}}]}"#).0 == 422)
        #expect(status(#"{"query": "q", "preferred_provider": "cohere"}"#) == (422, "preferred_provider"))
        #expect(status(#"{"query": "q", "language": "fr"}"#) == (422, "language"))
        #expect(status(#"{"query": "q", "max_tokens": 0}"#) == (422, "max_tokens"))
        #expect(status(#"{"query": "q", "max_tokens": 1.5}"#) == (400, "max_tokens"))
        #expect(status(#"{"query": "q", "temperature": 3}"#) == (422, "temperature"))
        #expect(status(#"{"query": "q", "conversation_history": [{"role": "system", "content": "x"}]}"#) == (422, "conversation_history[0].role"))
        #expect(status(#"{"query": "q", "user_context": "rd"}"#) == (400, "user_context"))
        #expect(status(#"{"query": "q", "top_k": 3}"#) == (422, "top_k"))
    }
}

@Suite struct PromptBuilderTests {
    let builder = PromptBuilder(templates: templates, settings: GenerationSettings())

    @Test func lowestRankedChunksGoFirstAndCutsFallAtSentenceEnds() {
        let sentence = "Employees must file each leave request in the portal before the first day of leave."
        let long = Array(repeating: sentence, count: 12).joined(separator: " ")
        let chunks = (1...4).map { ContextChunk(chunkId: "c\($0)", title: "Doc \($0)", content: long) }
        let whole = builder.fit(chunks, budget: 100_000, language: .en)
        #expect(whole.chunks == chunks && !whole.truncated)
        let perChunk = whole.tokens / 4
        let fitted = builder.fit(chunks, budget: perChunk * 2 + perChunk / 2, language: .en)
        #expect(fitted.chunks.map(\.chunkId) == ["c1", "c2", "c3"], "two whole, the third cut, the fourth dropped")
        #expect(fitted.chunks[0].content == long && fitted.chunks[1].content == long)
        #expect(fitted.chunks[2].content.count < long.count)
        #expect(fitted.chunks[2].content.hasSuffix("first day of leave."), "cut after a sentence, not inside one")
        #expect(fitted.truncated && fitted.tokens <= perChunk * 2 + perChunk / 2)
    }

    @Test func aSingleHugeSentenceIsCutAtAWordOnlyWhenNothingElseFits() {
        let words = Array(repeating: "policy", count: 2000).joined(separator: " ")
        let fitted = builder.fit([ContextChunk(chunkId: "a", content: words), ContextChunk(chunkId: "b", content: "Short one.")],
                                 budget: 200, language: .en)
        #expect(fitted.chunks.map(\.chunkId) == ["a"])
        #expect(fitted.chunks[0].content.hasSuffix("policy…"))
    }

    @Test func chunksAreNumberedInThePrompt() {
        let (request, fitted) = builder.request(model: "m", query: "q?", chunks: policyChunks, budget: 3000, language: .vi, userContext: nil,
                                                history: [], maxTokens: 10, temperature: 0)
        #expect(fitted.chunks.count == 3)
        let user = request.messages.last!.content
        #expect(user.contains("[1] Leave policy, trang 2\nEmployees get"))
        #expect(user.contains("[3] IT help\nTo reset"))
        #expect(user.hasSuffix("CÂU HỎI: q?\n"))
        #expect(request.system.contains("Chỉ dùng các số từ 1 đến 3."))
    }

    @Test func sentences() {
        #expect(Sentences.split("First one. Second, e.g. this one! Third?\nFourth line") .map(String.init)
                == ["First one.", "Second, e.g. this one!", "Third?", "Fourth line"])
        #expect(Sentences.split("Version 3.5 ships. Done.").map(String.init) == ["Version 3.5 ships.", "Done."])
    }

    @Test func extractivePicksTheBestMatchingSentences() {
        let picks = ExtractiveAnswer.pick(query: "xin nghỉ phép cần báo trước mấy ngày", chunks: [
            ContextChunk(chunkId: "a", content: "Lương được trả vào ngày 5 hàng tháng. Phòng IT hỗ trợ máy tính."),
            ContextChunk(chunkId: "b", content: "Nhân viên xin nghỉ phép phải báo trước ba ngày. Đơn gửi cho quản lý trực tiếp."),
        ], maxSentences: 2)
        #expect(picks.first?.number == 2)
        #expect(picks.first?.sentence == "Nhân viên xin nghỉ phép phải báo trước ba ngày.")
        #expect(ExtractiveAnswer.pick(query: "what is the", chunks: policyChunks, maxSentences: 3).isEmpty, "stop words match nothing")
    }
}
