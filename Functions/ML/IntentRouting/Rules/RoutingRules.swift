/// A keyword phrase and how much it says about its action, in [0, 1].
package struct WeightedKeyword: Sendable, Hashable {
    package var text: String
    package var weight: Double
    package init(_ text: String, weight: Double) {
        self.text = text
        self.weight = weight
    }
}

/// A regular expression (ICU syntax) and its weight in [0, 1]. `name` is what the reasoning shows.
package struct WeightedPattern: Sendable, Hashable {
    package var name: String
    package var regex: String
    package var weight: Double
    package init(name: String, regex: String, weight: Double) {
        self.name = name
        self.regex = regex
        self.weight = weight
    }
}

/// The hand-written evidence for one action. All parts are optional.
package struct ActionRule: Sendable, Hashable {
    package var keywords: [WeightedKeyword]
    package var patterns: [WeightedPattern]
    /// Phrases that argue against the action ("hủy" for creating a leave request); the weight is
    /// how much of the rule score each one removes, 1 removes all of it.
    package var negativeKeywords: [WeightedKeyword]
    /// Entity names (declared in the rules file) the request should mention; when one is
    /// missing the rule score is scaled by the settings' `missing_entity_factor`.
    package var requiredEntities: [String]

    package init(keywords: [WeightedKeyword] = [], patterns: [WeightedPattern] = [],
                negativeKeywords: [WeightedKeyword] = [], requiredEntities: [String] = []) {
        self.keywords = keywords
        self.patterns = patterns
        self.negativeKeywords = negativeKeywords
        self.requiredEntities = requiredEntities
    }

    package var isEmpty: Bool { keywords.isEmpty && patterns.isEmpty && negativeKeywords.isEmpty && requiredEntities.isEmpty }
}

/// The rules file: named entity patterns and one rule per action (actions without one are scored
/// by embeddings and word overlap alone).
package struct RoutingRules: Sendable, Hashable {
    /// Entity name to the patterns that find it (any one matching is enough).
    package var entities: [String: [String]]
    package var rules: [String: ActionRule]

    package init(entities: [String: [String]] = [:], rules: [String: ActionRule] = [:]) {
        self.entities = entities
        self.rules = rules
    }

    package static let none = RoutingRules()
}
