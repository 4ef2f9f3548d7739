@_exported import LanguageDetection

/// The router's name for the language its UI message is written in: the shared `Language`, so
/// routing and generation detect it with one detector.
package typealias RequestLanguage = Language

extension Language {
    /// `Language.detect` over the router's normalised text (already lower-cased and folded).
    package static func detect(_ text: NormalizedText, fallback: Language = .vi) -> Language {
        detect(lowercased: text.normalized, terms: text.terms, fallback: fallback)
    }
}
