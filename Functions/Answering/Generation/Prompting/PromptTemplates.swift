import Foundation
import Ingestion

/// The prompt and message templates from `prompts.yaml`, one text per language for each.
/// Placeholders are `{name}`; rendering is one pass, so a `{context}` typed by a user or found
/// in a document is never expanded.
package struct PromptTemplates: Sendable {
    package struct Localized: Sendable {
        var vi: String
        var en: String
        package subscript(_ language: Language) -> String { language == .vi ? vi : en }
    }

    package var system: Localized
    /// The user turn: the numbered context and the question.
    package var user: Localized
    /// The user turn when the caller says who is asking (`user_context`).
    package var contextual: Localized
    /// One chunk in the context block.
    package var chunk: Localized
    /// A citation's `reference`.
    package var reference: Localized
    package var page: Localized
    package var untitled: Localized
    package var noContext: Localized
    package var extractive: Localized
    package var searchOnly: Localized
    package var lowConfidence: Localized
    /// A hash of the file, part of the response cache key: a changed template is a new answer.
    package var fingerprint: String

    static let keys: [String] = ["system", "user", "contextual", "chunk", "reference", "page", "untitled",
                                 "no_context", "extractive", "search_only", "low_confidence"]
    /// Placeholders a template must hold, or the prompt would silently lose the question or context.
    static let required: [String: [String]] = [
        "user": ["{query}", "{context}"], "contextual": ["{query}", "{context}"],
        "chunk": ["{number}", "{content}"], "reference": ["{number}", "{title}"], "page": ["{page}"],
        "extractive": ["{sentences}"], "search_only": ["{results}"], "low_confidence": ["{partial_answer}"],
    ]

    package static func load(path: String) throws(GenerationConfigurationError) -> PromptTemplates {
        try parse(try YAMLValue.load(path))
    }

    package static func parse(yaml: String, file: String = "prompts.yaml") throws(GenerationConfigurationError) -> PromptTemplates {
        try parse(try YAMLValue.root(yaml: yaml, file: file))
    }

    static func parse(_ root: YAMLValue) throws(GenerationConfigurationError) -> PromptTemplates {
        let top = try root.fields(allowed: Set(keys + ["version"]))
        var texts: [String: Localized] = [:]
        var hashed = ""
        for key in keys {
            guard let entry = top[key] else { throw root.error("`\(key)` is missing (with `vi` and `en` texts)") }
            let langs = try entry.fields(allowed: ["vi", "en"])
            var pair: [Language: String] = [:]
            for language in Language.allCases {
                guard let v = langs[language.rawValue] else { throw entry.error("no `\(language.rawValue)` text") }
                let text = try v.string()
                for placeholder in required[key] ?? [] where !text.contains(placeholder) {
                    throw v.error("must contain \(placeholder)")
                }
                pair[language] = text
                hashed += key + language.rawValue + text
            }
            texts[key] = Localized(vi: pair[.vi]!, en: pair[.en]!)
        }
        return PromptTemplates(
            system: texts["system"]!, user: texts["user"]!, contextual: texts["contextual"]!, chunk: texts["chunk"]!,
            reference: texts["reference"]!, page: texts["page"]!, untitled: texts["untitled"]!, noContext: texts["no_context"]!,
            extractive: texts["extractive"]!, searchOnly: texts["search_only"]!, lowConfidence: texts["low_confidence"]!,
            fingerprint: String(SHA256.hex(hashed).prefix(16)))
    }

    /// Replaces `{name}` with `values[name]` in one left-to-right pass; unknown names stay as written.
    package static func render(_ template: String, _ values: [String: String]) -> String {
        var out = ""
        out.reserveCapacity(template.utf8.count + values.values.reduce(0) { $0 + $1.utf8.count })
        var i = template.startIndex
        while i < template.endIndex {
            let c = template[i]
            if c == "{", let close = template[i...].firstIndex(of: "}") {
                let name = template[template.index(after: i)..<close]
                if let v = values[String(name)], name.allSatisfy({ $0.isLetter || $0 == "_" }) {
                    out += v
                    i = template.index(after: close)
                    continue
                }
            }
            out.append(c)
            i = template.index(after: i)
        }
        return out
    }

    /// The `reference` of chunk `number` ("[2] Leave policy, page 3").
    package func reference(number: Int, chunk: ContextChunk, language: Language) -> String {
        Self.render(reference[language], [
            "number": String(number),
            "title": chunk.title.flatMap { $0.isEmpty ? nil : $0 } ?? untitled[language],
            "page": chunk.page.map { Self.render(page[language], ["page": String($0)]) } ?? "",
        ]).trimmingCharacters(in: .whitespaces)
    }
}
