import Foundation

/// What an action's rule found in a request.
package struct RuleMatch: Sendable, Hashable {
    /// In [0, 1]: the noisy-OR of the weights that fired (`1 - Π(1 - w)`), so one strong keyword
    /// counts nearly fully and more evidence saturates towards 1 instead of adding past it;
    /// then times `missing_entity_factor` if a required entity is missing and times `1 - w` for
    /// each negative keyword.
    package var score: Double
    package var reasons: [String]
    package var patternFired: Bool
    /// The weight of the strongest negative keyword that fired, 0 if none did.
    package var negativeStrength: Double

    package static let none = RuleMatch(score: 0, reasons: [], patternFired: false, negativeStrength: 0)
}

/// The rules compiled once per configuration: keyword phrases as sequences of term ids (integer
/// comparisons, not string ones, for every keyword of every action on every request), patterns
/// and entities as regexes over the folded text, each distinct regex compiled and run once per
/// request however many actions share it.
struct RuleEngine: Sendable {
    struct Phrase: Sendable {
        let text: String
        let terms: [Int32]
        let weight: Double
    }

    struct Pattern: Sendable {
        let name: String
        let regex: Int       // index into `regexes`
        let weight: Double
    }

    struct CompiledRule: Sendable {
        let keywords: [Phrase]
        let patterns: [Pattern]
        let negatives: [Phrase]
        let requiredEntities: [String]
    }

    /// Indexed like the catalog's actions; nil for actions without a rule.
    let rules: [CompiledRule?]
    let regexes: [NSRegularExpression]
    /// Entity name to indices into `regexes`.
    let entities: [String: [Int]]
    /// Every term a keyword uses, numbered; request terms outside it can match nothing.
    let vocabulary: [String: Int32]
    let missingEntityFactor: Double

    init(configuration: RouterConfiguration) {
        var vocabulary: [String: Int32] = [:]
        func phrase(_ k: WeightedKeyword) -> Phrase {
            let ids = NormalizedText(k.text).terms.map { term -> Int32 in
                if let id = vocabulary[term] { return id }
                let id = Int32(vocabulary.count)
                vocabulary[term] = id
                return id
            }
            return Phrase(text: k.text, terms: ids, weight: k.weight)
        }
        var regexes: [NSRegularExpression] = []
        var regexIndex: [String: Int] = [:]
        func regex(_ source: String) -> Int {
            if let i = regexIndex[source] { return i }
            // The configuration is validated: every regex compiles.
            regexes.append(try! PatternCompiler.compile(source).get())
            regexIndex[source] = regexes.count - 1
            return regexes.count - 1
        }
        entities = configuration.rules.entities.mapValues { $0.map(regex) }
        rules = configuration.catalog.actions.map { action in
            guard let rule = configuration.rules.rules[action.id], !rule.isEmpty else { return nil }
            return CompiledRule(
                keywords: rule.keywords.map(phrase),
                patterns: rule.patterns.map { Pattern(name: $0.name, regex: regex($0.regex), weight: $0.weight) },
                negatives: rule.negativeKeywords.map(phrase),
                requiredEntities: rule.requiredEntities)
        }
        self.regexes = regexes
        self.vocabulary = vocabulary
        missingEntityFactor = configuration.settings.rules.missingEntityFactor
    }

    func hasRule(_ actionIndex: Int) -> Bool { rules[actionIndex] != nil }

    /// Whether an engine compiled for `a` is the one `b` would compile: the same rules and
    /// entities, the same action ids in the same order (rules are indexed by position), the same
    /// missing-entity factor.
    static func sameInputs(_ a: RouterConfiguration, _ b: RouterConfiguration) -> Bool {
        a.rules == b.rules && a.settings.rules == b.settings.rules && a.catalog.actions.count == b.catalog.actions.count
            && zip(a.catalog.actions, b.catalog.actions).allSatisfy { $0.id == $1.id }
    }

    /// One request as the rules see it: its term ids, and each regex's match, run when first
    /// needed and then shared by every rule that uses it.
    final class Request {
        let engine: RuleEngine
        let text: NormalizedText
        let terms: [Int32]
        private var matches: [String??]

        init(engine: RuleEngine, text: NormalizedText) {
            self.engine = engine
            self.text = text
            terms = text.terms.map { engine.vocabulary[$0] ?? -1 }
            matches = Array(repeating: nil, count: engine.regexes.count)
        }

        func match(_ regex: Int) -> String? {
            if let known = matches[regex] { return known }
            let found = engine.regexes[regex].firstMatchText(in: text.folded)
            matches[regex] = .some(found)
            return found
        }

        func entity(_ name: String) -> String? {
            engine.entities[name]?.lazy.compactMap { self.match($0) }.first
        }
    }

    func match(_ actionIndex: Int, request: Request) -> RuleMatch {
        guard let rule = rules[actionIndex] else { return .none }
        var miss = 1.0  // Π(1 - w) over the evidence that fired
        var reasons: [String] = []
        var patternFired = false
        for k in rule.keywords where Self.contains(request.terms, k.terms) {
            miss *= 1 - k.weight
            reasons.append("keyword '\(k.text)' (\(Fixed2.format(k.weight)))")
        }
        for p in rule.patterns {
            if let hit = request.match(p.regex) {
                miss *= 1 - p.weight
                patternFired = true
                reasons.append("pattern \(p.name) '\(hit)' (\(Fixed2.format(p.weight)))")
            }
        }
        var score = 1 - miss
        for name in rule.requiredEntities {
            if let value = request.entity(name) {
                reasons.append("entity \(name) '\(value)'")
            } else if score > 0 {
                score *= missingEntityFactor
                reasons.append("missing entity \(name) (x\(Fixed2.format(missingEntityFactor)))")
            }
        }
        var negative = 0.0
        for n in rule.negatives where Self.contains(request.terms, n.terms) {
            score *= 1 - n.weight
            negative = max(negative, n.weight)
            reasons.append("negative '\(n.text)' (-\(Fixed2.format(n.weight)))")
        }
        return RuleMatch(score: min(1, max(0, score)), reasons: reasons, patternFired: patternFired, negativeStrength: negative)
    }

    /// Whether `phrase` occurs in `terms` as consecutive whole terms.
    static func contains(_ terms: [Int32], _ phrase: [Int32]) -> Bool {
        guard let first = phrase.first, phrase.count <= terms.count else { return false }
        var i = 0
        while i + phrase.count <= terms.count {
            if terms[i] == first {
                var j = 1
                while j < phrase.count && terms[i + j] == phrase[j] { j += 1 }
                if j == phrase.count { return true }
            }
            i += 1
        }
        return false
    }
}
