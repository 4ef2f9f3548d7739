/// A keyword phrase and how much it says about its action, in [0, 1].
public struct WeightedKeyword: Sendable, Hashable {
    public var text: String
    public var weight: Double
    public init(_ text: String, weight: Double) {
        self.text = text
        self.weight = weight
    }
}

/// A regular expression (ICU syntax) and its weight in [0, 1]. `name` is what the reasoning shows.
public struct WeightedPattern: Sendable, Hashable {
    public var name: String
    public var regex: String
    public var weight: Double
    public init(name: String, regex: String, weight: Double) {
        self.name = name
        self.regex = regex
        self.weight = weight
    }
}

/// The hand-written evidence for one action. All parts are optional.
public struct ActionRule: Sendable, Hashable {
    public var keywords: [WeightedKeyword]
    public var patterns: [WeightedPattern]
    /// Phrases that argue against the action ("hủy" for creating a leave request); the weight is
    /// how much of the rule score each one removes, 1 removes all of it.
    public var negativeKeywords: [WeightedKeyword]
    /// Entity names (declared in the rules file) the request should mention; when one is
    /// missing the rule score is scaled by the settings' `missing_entity_factor`.
    public var requiredEntities: [String]

    public init(keywords: [WeightedKeyword] = [], patterns: [WeightedPattern] = [],
                negativeKeywords: [WeightedKeyword] = [], requiredEntities: [String] = []) {
        self.keywords = keywords
        self.patterns = patterns
        self.negativeKeywords = negativeKeywords
        self.requiredEntities = requiredEntities
    }

    public var isEmpty: Bool { keywords.isEmpty && patterns.isEmpty && negativeKeywords.isEmpty && requiredEntities.isEmpty }
}

/// The rules file: named entity patterns and one rule per action (actions without one are scored
/// by embeddings and word overlap alone).
public struct RoutingRules: Sendable, Hashable {
    /// Entity name to the patterns that find it (any one matching is enough).
    public var entities: [String: [String]]
    public var rules: [String: ActionRule]

    public init(entities: [String: [String]] = [:], rules: [String: ActionRule] = [:]) {
        self.entities = entities
        self.rules = rules
    }

    public static let none = RoutingRules()
}
