import Foundation

/// A validated catalog, its rules and the router settings, with the version that names them.
/// Loading checks everything a router build relies on (ids, seeds, domains, intent types,
/// regexes, entities, weight ranges), so a router is never built from a half-valid file.
package struct RouterConfiguration: Sendable, Hashable {
    package let catalog: ActionCatalog
    package let rules: RoutingRules
    package let settings: RouterSettings
    /// A short content hash of the files (or seeds) this was loaded from: `catalog_version`.
    package let version: String

    /// Checks a configuration built in code. `source` names it in errors.
    package init(catalog: ActionCatalog, rules: RoutingRules = .none, settings: RouterSettings = .defaults,
                version: String? = nil, source: String = "<configuration>") throws(ConfigurationError) {
        try Self.validate(catalog: catalog, rules: rules, settings: settings, source: source)
        self.catalog = catalog
        self.rules = rules
        self.settings = settings
        self.version = version ?? ContentHash.shortHex(ContentHash.of(Self.stableDescription(catalog, rules, settings)))
    }

    private init(validated catalog: ActionCatalog, rules: RoutingRules, settings: RouterSettings, version: String) {
        self.catalog = catalog
        self.rules = rules
        self.settings = settings
        self.version = version
    }

    // MARK: Files

    /// The files' bytes, read once so the version hashes exactly what was parsed.
    package struct Sources: Sendable, Hashable {
        package var catalog: [UInt8]
        package var rules: [UInt8]?
        package var settings: [UInt8]?

        package init(catalog: [UInt8], rules: [UInt8]? = nil, settings: [UInt8]? = nil) {
            self.catalog = catalog
            self.rules = rules
            self.settings = settings
        }

        package static func read(_ paths: RouterConfigurationPaths) throws(ConfigurationError) -> Sources {
            Sources(catalog: try readFile(paths.catalog), rules: try paths.rules.map(readFile),
                    settings: try paths.settings.map(readFile))
        }

        package var contentHash: UInt64 { ContentHash.combined([catalog, rules ?? [], settings ?? []]) }
    }

    package static func load(_ paths: RouterConfigurationPaths) throws(ConfigurationError) -> RouterConfiguration {
        try parse(Sources.read(paths), paths: paths)
    }

    /// Parses and checks file contents already read; `paths` names them in errors.
    ///
    /// `previous` (the serving configuration and the bytes it was parsed from) spares a reload
    /// parsing files that did not change: its rules are kept when the rules file's bytes and the
    /// catalog's action ids (all that rules are checked against) are the same, its settings when
    /// the settings file's bytes and the catalog's domains and intent types are. The catalog
    /// itself is always parsed: it is what a reload is nearly always about.
    package static func parse(_ sources: Sources, paths: RouterConfigurationPaths,
                             previous: (sources: Sources, configuration: RouterConfiguration)? = nil) throws(ConfigurationError)
        -> RouterConfiguration {
        let catalog = try CatalogFile.parse(yaml: try text(sources.catalog, file: paths.catalog), file: paths.catalog)
        var rules = RoutingRules.none
        if let bytes = sources.rules, let file = paths.rules {
            if let previous, previous.sources.rules == bytes,
               previous.configuration.catalog.actions.map(\.id).sorted() == catalog.actions.map(\.id).sorted() {
                rules = previous.configuration.rules
            } else {
                rules = try RulesFile.parse(yaml: try text(bytes, file: file), file: file, catalog: catalog)
            }
        }
        var settings = RouterSettings.defaults
        if let bytes = sources.settings, let file = paths.settings {
            if let previous, previous.sources.settings == bytes, previous.configuration.catalog.domains == catalog.domains,
               previous.configuration.catalog.intentTypes == catalog.intentTypes {
                settings = previous.configuration.settings
            } else {
                settings = try RouterSettingsFile.parse(yaml: try text(bytes, file: file), file: file, catalog: catalog)
            }
        }
        return RouterConfiguration(validated: catalog, rules: rules, settings: settings,
                                   version: ContentHash.shortHex(sources.contentHash))
    }

    static func readFile(_ path: String) throws(ConfigurationError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .fileUnreadable(file: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw .fileUnreadable(file: path, reason: "it is a directory") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .fileUnreadable(file: path, reason: "permission denied or I/O error")
        }
        return [UInt8](data)
    }

    static func text(_ bytes: [UInt8], file: String) throws(ConfigurationError) -> String {
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw .fileUnreadable(file: file, reason: "not UTF-8 text")
        }
        return s
    }

    // MARK: Seeds only

    /// One action per label from JSON lines `{"text": ..., "label": ...}` (a public benchmark's
    /// training split, say): no rules, no descriptions, the default domain and intent type.
    package static func fromSeeds(path: String, settings: RouterSettings = .defaults) throws(ConfigurationError) -> RouterConfiguration {
        let bytes = try readFile(path)
        let examples = try LabelledText.parseLines(bytes, file: path)
        return try fromSeeds(examples, source: path, settings: settings,
                             version: ContentHash.shortHex(ContentHash.combined([bytes])))
    }

    package static func fromSeeds(_ examples: [LabelledText], source: String = "<seeds>", settings: RouterSettings = .defaults,
                                 version: String? = nil) throws(ConfigurationError) -> RouterConfiguration {
        var order: [String] = []
        var seeds: [String: [String]] = [:]
        for example in examples {
            if seeds[example.label] == nil { order.append(example.label) }
            seeds[example.label, default: []].append(example.text)
        }
        let intent = ActionCatalog.defaultIntentTypes[1]
        let catalog = ActionCatalog(domains: [ActionCatalog.defaultDomain], actions: order.map {
            ActionDefinition(id: $0, domain: ActionCatalog.defaultDomain, intentType: intent, seeds: seeds[$0]!)
        })
        return try RouterConfiguration(catalog: catalog, settings: settings, version: version, source: source)
    }

    /// Dictionaries print in a per-process order; sorting them keeps a code-built version stable.
    static func stableDescription(_ catalog: ActionCatalog, _ rules: RoutingRules, _ settings: RouterSettings) -> String {
        var parts = ["\(catalog.domains)\(catalog.intentTypes)"]
        for a in catalog.actions {
            parts.append("\(a.id)|\(a.domain)|\(a.intentType)|\(a.description)|\(a.seeds)|\(a.titles.sorted { $0.key.rawValue < $1.key.rawValue })")
        }
        parts += rules.entities.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        parts += rules.rules.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        var s = settings
        let domains = s.fusion.domainWeights.sorted { $0.key < $1.key }, intents = s.fusion.intentTypeWeights.sorted { $0.key < $1.key }
        let languages = s.fusion.languageWeights.sorted { $0.key.rawValue < $1.key.rawValue }
        let floors = s.embedding.languageFloors.sorted { $0.key.rawValue < $1.key.rawValue }
        let messages = s.messages.sorted { $0.key.rawValue < $1.key.rawValue }
        s.fusion.domainWeights = [:]
        s.fusion.intentTypeWeights = [:]
        s.fusion.languageWeights = [:]
        s.embedding.languageFloors = [:]
        s.messages = [:]
        parts.append("\(s)\(domains)\(intents)\(languages)\(floors)\(messages)")
        return parts.joined(separator: "\n")
    }

    // MARK: Checks for configurations built in code

    static func validate(catalog: ActionCatalog, rules: RoutingRules, settings: RouterSettings, source: String) throws(ConfigurationError) {
        let domains = Set(catalog.domains), intents = Set(catalog.intentTypes)
        var seen: Set<String> = []
        for (i, action) in catalog.actions.enumerated() {
            guard !action.id.isEmpty else { throw .missingField(file: source, action: nil, field: "actions[\(i)].id") }
            guard seen.insert(action.id).inserted else {
                throw .duplicateActionId(file: source, action: action.id, field: "actions[\(i)].id")
            }
            guard domains.contains(action.domain) else {
                throw .unknownDomain(file: source, action: action.id, field: "actions[\(i)].domain", domain: action.domain)
            }
            guard intents.contains(action.intentType) else {
                throw .unknownIntentType(file: source, action: action.id, field: "actions[\(i)].intent_type",
                                         intentType: action.intentType)
            }
            guard action.seeds.contains(where: { !NormalizedText($0).isEmpty }) else {
                throw .emptySeeds(file: source, action: action.id, field: "actions[\(i)].seeds")
            }
        }
        for (name, patterns) in rules.entities {
            for (j, p) in patterns.enumerated() {
                if case .failure(let f) = PatternCompiler.compile(p) {
                    throw .invalidRegex(file: source, action: nil, field: "entities.\(name)[\(j)]", pattern: p, reason: f.reason)
                }
            }
        }
        for (id, rule) in rules.rules {
            let at = "rules[\(id)]"
            guard seen.contains(id) else { throw .unknownAction(file: source, action: id, field: at) }
            for (j, k) in rule.keywords.enumerated() where !(0...1).contains(k.weight) {
                throw .valueOutOfRange(file: source, action: id, field: "\(at).keywords[\(j)].weight", value: k.weight, range: "[0, 1]")
            }
            for (j, k) in rule.negativeKeywords.enumerated() where !(0...1).contains(k.weight) {
                throw .valueOutOfRange(file: source, action: id, field: "\(at).negative_keywords[\(j)].weight", value: k.weight,
                                       range: "[0, 1]")
            }
            for (j, p) in rule.patterns.enumerated() {
                guard (0...1).contains(p.weight) else {
                    throw .valueOutOfRange(file: source, action: id, field: "\(at).patterns[\(j)].weight", value: p.weight,
                                           range: "[0, 1]")
                }
                if case .failure(let f) = PatternCompiler.compile(p.regex) {
                    throw .invalidRegex(file: source, action: id, field: "\(at).patterns[\(j)].regex", pattern: p.regex, reason: f.reason)
                }
            }
            for (j, e) in rule.requiredEntities.enumerated() where rules.entities[e] == nil {
                throw .unknownEntity(file: source, action: id, field: "\(at).required_entities[\(j)]", entity: e)
            }
        }
        let w = settings.fusion.weights
        for (name, value) in [("rule", w.rule), ("embedding", w.embedding), ("lexical", w.lexical)] where !(0...1).contains(value) {
            throw .valueOutOfRange(file: source, action: nil, field: "fusion.weights.\(name)", value: value, range: "[0, 1]")
        }
        for (domain, o) in settings.fusion.domainWeights {
            guard domains.contains(domain) else {
                throw .unknownDomain(file: source, action: nil, field: "fusion.domains.\(domain)", domain: domain)
            }
            try checkOverride(o, at: "fusion.domains.\(domain)", source: source)
        }
        for (type, o) in settings.fusion.intentTypeWeights {
            guard intents.contains(type) else {
                throw .unknownIntentType(file: source, action: nil, field: "fusion.intent_types.\(type)", intentType: type)
            }
            try checkOverride(o, at: "fusion.intent_types.\(type)", source: source)
        }
        for (language, o) in settings.fusion.languageWeights {
            try checkOverride(o, at: "fusion.languages.\(language.rawValue)", source: source)
        }
    }

    static func checkOverride(_ o: FusionWeightOverride, at path: String, source: String) throws(ConfigurationError) {
        for (name, value) in [("rule", o.rule), ("embedding", o.embedding), ("lexical", o.lexical)] {
            if let value, !(0...1).contains(value) {
                throw .valueOutOfRange(file: source, action: nil, field: "\(path).\(name)", value: value, range: "[0, 1]")
            }
        }
    }
}
