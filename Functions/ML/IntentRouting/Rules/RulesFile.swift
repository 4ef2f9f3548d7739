/// Reads the rules file (`config/routing/rules.yaml`):
///
/// ```yaml
/// defaults: { keyword_weight: 0.5, pattern_weight: 0.6, negative_weight: 1.0 }   # optional
/// entities:                      # name: pattern, or a list of patterns (any one matches)
///   date: ['\b\d{1,2}[/-]\d{1,2}\b', '\b(ngày mai|hôm nay|tomorrow|today)\b']
/// rules:
///   leave.request:               # an action id from the catalog
///     keywords:                  # a list of phrases / {text, weight}, or a mapping phrase: weight
///       nghỉ phép: 0.7
///       day off: 0.6
///     patterns:
///       - { name: leave_days, regex: 'nghi \d+ ngay', weight: 0.6 }
///     negative_keywords: [hủy, cancel]
///     required_entities: [date]
/// ```
///
/// Keywords and negatives match whole folded words in order ("nghỉ phép" matches "xin nghi phep
/// mai" but not "nghiphep"); patterns and entities match the folded text (see `PatternCompiler`).
enum RulesFile {
    static let topKeys: Set<String> = ["defaults", "entities", "rules"]
    static let defaultKeys: Set<String> = ["keyword_weight", "pattern_weight", "negative_weight"]
    static let ruleKeys: Set<String> = ["keywords", "patterns", "negative_keywords", "required_entities"]
    static let weightRange: ClosedRange<Double> = 0...1

    struct Defaults {
        var keyword = 0.5
        var pattern = 0.6
        var negative = 1.0
    }

    static func parse(yaml: String, file: String, catalog: ActionCatalog) throws(ConfigurationError) -> RoutingRules {
        let root = try YAMLField.root(yaml: yaml, file: file)
        let top = try root.fields(allowed: topKeys)

        var defaults = Defaults()
        if let d = top["defaults"] {
            let f = try d.fields(allowed: defaultKeys)
            if let v = f["keyword_weight"] { defaults.keyword = try v.double(in: weightRange) }
            if let v = f["pattern_weight"] { defaults.pattern = try v.double(in: weightRange) }
            if let v = f["negative_weight"] { defaults.negative = try v.double(in: weightRange) }
        }

        var entities: [String: [String]] = [:]
        if let e = top["entities"] {
            for (name, value) in try e.entries() {
                var patterns: [String] = []
                for p in try value.items() {
                    let source = try p.nonEmptyString()
                    if case .failure(let failure) = PatternCompiler.compile(source) {
                        throw .invalidRegex(file: file, action: nil, field: p.path, pattern: source, reason: failure.reason)
                    }
                    patterns.append(source)
                }
                guard !patterns.isEmpty else {
                    throw .invalidValue(file: file, action: nil, field: value.path, reason: "an entity needs at least one pattern")
                }
                entities[name] = patterns
            }
        }

        let known = Set(catalog.actions.map(\.id))
        var rules: [String: ActionRule] = [:]
        if let r = top["rules"] {
            for (actionId, value) in try r.entries() {
                let field = YAMLField(node: value.node, file: file, context: actionId, path: "rules[\(actionId)]")
                guard known.contains(actionId) else { throw .unknownAction(file: file, action: actionId, field: field.path) }
                rules[actionId] = try parseRule(field, defaults: defaults, entities: entities)
            }
        }
        return RoutingRules(entities: entities, rules: rules)
    }

    static func parseRule(_ field: YAMLField, defaults: Defaults, entities: [String: [String]]) throws(ConfigurationError) -> ActionRule {
        let f = try field.fields(allowed: ruleKeys)
        var rule = ActionRule()
        if let k = f["keywords"] { rule.keywords = try keywords(k, defaultWeight: defaults.keyword) }
        if let k = f["negative_keywords"] { rule.negativeKeywords = try keywords(k, defaultWeight: defaults.negative) }
        if let p = f["patterns"] {
            for (index, item) in try p.items().enumerated() {
                let pattern: WeightedPattern
                if case .mapping = item.node {
                    let pf = try item.fields(allowed: ["name", "regex", "weight"])
                    guard let regexField = pf["regex"] else {
                        throw .missingField(file: item.file, action: item.context, field: "\(item.path).regex")
                    }
                    let source = try regexField.nonEmptyString()
                    if case .failure(let failure) = PatternCompiler.compile(source) {
                        throw .invalidRegex(file: item.file, action: item.context, field: regexField.path, pattern: source,
                                            reason: failure.reason)
                    }
                    pattern = WeightedPattern(
                        name: try pf["name"].map { v throws(ConfigurationError) in try v.nonEmptyString() } ?? "pattern \(index + 1)",
                        regex: source,
                        weight: try pf["weight"].map { v throws(ConfigurationError) in try v.double(in: weightRange) } ?? defaults.pattern)
                } else {
                    let source = try item.nonEmptyString()
                    if case .failure(let failure) = PatternCompiler.compile(source) {
                        throw .invalidRegex(file: item.file, action: item.context, field: item.path, pattern: source, reason: failure.reason)
                    }
                    pattern = WeightedPattern(name: "pattern \(index + 1)", regex: source, weight: defaults.pattern)
                }
                rule.patterns.append(pattern)
            }
        }
        if let e = f["required_entities"] {
            for item in try e.items() {
                let name = try item.nonEmptyString()
                guard entities[name] != nil else {
                    throw .unknownEntity(file: item.file, action: item.context, field: item.path, entity: name)
                }
                rule.requiredEntities.append(name)
            }
        }
        return rule
    }

    /// A list of phrases or `{text, weight}` mappings, or one mapping of phrase to weight.
    static func keywords(_ field: YAMLField, defaultWeight: Double) throws(ConfigurationError) -> [WeightedKeyword] {
        var out: [WeightedKeyword] = []
        if case .mapping = field.node {
            for (phrase, weight) in try field.entries() {
                out.append(WeightedKeyword(try checkedPhrase(phrase, at: weight), weight: try weight.double(in: weightRange)))
            }
            return out
        }
        for item in try field.items() {
            if case .mapping = item.node {
                let kf = try item.fields(allowed: ["text", "weight"])
                guard let textField = kf["text"] else {
                    throw .missingField(file: item.file, action: item.context, field: "\(item.path).text")
                }
                let text = try checkedPhrase(try textField.nonEmptyString(), at: textField)
                let weight = try kf["weight"].map { v throws(ConfigurationError) in try v.double(in: weightRange) } ?? defaultWeight
                out.append(WeightedKeyword(text, weight: weight))
            } else {
                out.append(WeightedKeyword(try checkedPhrase(try item.nonEmptyString(), at: item), weight: defaultWeight))
            }
        }
        return out
    }

    /// A phrase with no word in it ("?!") could never match: say so instead of ignoring it.
    static func checkedPhrase(_ phrase: String, at field: YAMLField) throws(ConfigurationError) -> String {
        guard !NormalizedText(phrase).terms.isEmpty else {
            throw .invalidValue(file: field.file, action: field.context, field: field.path, reason: "'\(phrase)' has no words to match")
        }
        return phrase
    }
}
