import Foundation
import Ingestion

/// Builds the request a provider gets: the language's system prompt, the recent conversation,
/// and a user turn holding the numbered context `[1]..[n]` fitted to a token budget.
///
/// Tokens are counted with `TokenCounter.estimate`, which errs high for the BPE tokenizers
/// of chat models, so a prompt that fits here fits there; a provider that still says the
/// prompt is too long gets half the budget on the retry (`ProviderCall`).
struct PromptBuilder: Sendable {
    let templates: PromptTemplates
    let settings: GenerationSettings
    let counter: TokenCounter = .estimate

    struct Fitted: Sendable, Equatable {
        /// The chunks in the prompt, in rank order; the text of the last may be cut.
        var chunks: [ContextChunk]
        var truncated: Bool
        var tokens: Int
    }

    func renderChunk(number: Int, _ chunk: ContextChunk, content: String, language: Language) -> String {
        PromptTemplates.render(templates.chunk[language], [
            "number": String(number),
            "title": chunk.title.flatMap { $0.isEmpty ? nil : $0 } ?? templates.untitled[language],
            "page": chunk.page.map { PromptTemplates.render(templates.page[language], ["page": String($0)]) } ?? "",
            "content": content,
        ])
    }

    /// The highest-ranked chunks that fit in `budget` tokens. Chunks go in whole, in rank order;
    /// the first that does not fit is cut at the last sentence end that fits (at a word when
    /// even its first sentence is too long and nothing is in yet), and the ones ranked below it
    /// are left out: the lowest-ranked context goes first.
    func fit(_ chunks: [ContextChunk], budget: Int, language: Language) -> Fitted {
        var out: [ContextChunk] = []
        var used = 0
        var truncated = false
        for (i, chunk) in chunks.enumerated() {
            let whole = counter.count(renderChunk(number: i + 1, chunk, content: chunk.content, language: language)) + 2
            if used + whole <= budget {
                out.append(chunk)
                used += whole
                continue
            }
            let overhead = counter.count(renderChunk(number: i + 1, chunk, content: "", language: language)) + 2
            let room = budget - used - overhead
            if let cut = cut(chunk.content, toTokens: room, allowWordCut: out.isEmpty) {
                var c = chunk
                c.content = cut
                out.append(c)
                used += overhead + counter.count(cut)
                truncated = true
            } else {
                truncated = true
            }
            break
        }
        return Fitted(chunks: out, truncated: truncated || out.count < chunks.count, tokens: used)
    }

    /// The longest prefix of whole sentences within `tokens`; nil when not even one fits (and a
    /// word cut is not allowed). Too small a room (under 24 tokens) is not worth a fragment.
    func cut(_ text: String, toTokens tokens: Int, allowWordCut: Bool) -> String? {
        guard tokens >= 24 || (allowWordCut && tokens > 0) else { return nil }
        var end: String.Index? = nil
        var count = 0
        for sentence in Sentences.split(text) {
            let t = counter.count(sentence) + 1
            if count + t > tokens { break }
            count += t
            end = sentence.endIndex
        }
        if let end { return String(text[..<end]) }
        guard allowWordCut else { return nil }
        var out = ""
        count = 0
        for word in text.split(whereSeparator: { $0.isWhitespace }) {
            let t = counter.count(word)
            if count + t > tokens - 1 { break }
            out += (out.isEmpty ? "" : " ") + word
            count += t
        }
        return out.isEmpty ? nil : out + "…"
    }

    /// The recent turns that fit `maxHistoryTurns` and `maxHistoryTokens`, newest kept first.
    func history(_ turns: [ChatMessage]) -> [ChatMessage] {
        var kept: [ChatMessage] = []
        var used = 0
        for turn in turns.reversed().prefix(settings.maxHistoryTurns) {
            let t = counter.count(turn.content)
            if used + t > settings.maxHistoryTokens { break }
            kept.append(turn)
            used += t
        }
        return kept.reversed()
    }

    func request(model: String, query: String, chunks: [ContextChunk], budget: Int, language: Language,
                 userContext: [String: String]?, history: [ChatMessage], maxTokens: Int, temperature: Double) -> (LLMRequest, Fitted) {
        let fitted = fit(chunks, budget: budget, language: language)
        let context = fitted.chunks.enumerated()
            .map { renderChunk(number: $0 + 1, $1, content: $1.content, language: language) }
            .joined(separator: "\n\n")
        let user: String
        if let userContext, !userContext.isEmpty {
            user = PromptTemplates.render(templates.contextual[language], [
                "query": query, "context": context,
                "department": userContext["department"] ?? "-", "access_level": userContext["access_level"] ?? "-",
            ])
        } else {
            user = PromptTemplates.render(templates.user[language], ["query": query, "context": context])
        }
        let system = PromptTemplates.render(templates.system[language], ["count": String(fitted.chunks.count)])
        let request = LLMRequest(model: model, system: system, messages: self.history(history) + [ChatMessage(role: .user, content: user)],
                                 maxTokens: maxTokens, temperature: temperature)
        return (request, fitted)
    }
}
