import Foundation
import IntentRouting
import Testing

@Suite struct ConfigurationTests {
    /// Writes the files, loads them, and returns the error (nil if they loaded).
    func loadError(catalog: String = Fixture.catalog, rules: String? = nil, settings: String? = nil) throws -> ConfigurationError? {
        let folder = ConfigFolder()
        defer { folder.remove() }
        try folder.write("catalog.yaml", catalog)
        if let rules { try folder.write("rules.yaml", rules) }
        if let settings { try folder.write("router.yaml", settings) }
        let paths = RouterConfigurationPaths(catalog: folder.catalog, rules: rules == nil ? nil : folder.rules,
                                             settings: settings == nil ? nil : folder.settings)
        do {
            _ = try RouterConfiguration.load(paths)
            return nil
        } catch {
            return error
        }
    }

    /// The error names the file (by its last path component), the action and the field, and its
    /// description says all three.
    func expectNamed(_ error: ConfigurationError?, file: String, action: String?, field: String?,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error else {
            Issue.record("expected an error", sourceLocation: sourceLocation)
            return
        }
        #expect((error.file as NSString).lastPathComponent == file, sourceLocation: sourceLocation)
        #expect(error.action == action, sourceLocation: sourceLocation)
        #expect(error.field == field, sourceLocation: sourceLocation)
        #expect(error.description.contains(file), sourceLocation: sourceLocation)
        if let action { #expect(error.description.contains("action '\(action)'"), sourceLocation: sourceLocation) }
        if let field { #expect(error.description.contains("field '\(field)'"), sourceLocation: sourceLocation) }
    }

    static let twoActions = """
        domains: [d]
        actions:
          - { id: a, domain: d, intent_type: create, seeds: [one] }
          - { id: b, domain: d, intent_type: create, seeds: [two] }
        """

    @Test func fixtureAndShippedConfigurationsLoad() throws {
        #expect(try loadError(rules: Fixture.rules, settings: Fixture.settings) == nil)
        let shipped = try RouterConfiguration.load(Shipped.paths)
        #expect(shipped.catalog.actions.count >= 20)
        #expect(shipped.catalog.actions.allSatisfy { $0.seeds.count >= 8 })
        #expect(shipped.version.count == 12)
        #expect(try RouterConfiguration.load(Shipped.paths).version == shipped.version)
    }

    @Test func duplicateActionIds() throws {
        let yaml = Self.twoActions.replacingOccurrences(of: "id: b", with: "id: a")
        let error = try loadError(catalog: yaml)
        #expect(error == .duplicateActionId(file: error?.file ?? "", action: "a", field: "actions[1].id"))
        expectNamed(error, file: "catalog.yaml", action: "a", field: "actions[1].id")
    }

    @Test func emptySeeds() throws {
        let none = try loadError(catalog: Self.twoActions.replacingOccurrences(of: "seeds: [two]", with: "seeds: []"))
        expectNamed(none, file: "catalog.yaml", action: "b", field: "actions[1].seeds")
        if case .emptySeeds = none {} else { Issue.record("expected emptySeeds, got \(String(describing: none))") }

        let blank = try loadError(catalog: Self.twoActions.replacingOccurrences(of: "seeds: [two]", with: "seeds: ['two', '  ']"))
        expectNamed(blank, file: "catalog.yaml", action: "b", field: "actions[1].seeds[1]")

        let missing = try loadError(catalog: Self.twoActions.replacingOccurrences(of: ", seeds: [two]", with: ""))
        #expect(missing == .missingField(file: missing?.file ?? "", action: "b", field: "actions[1].seeds"))
    }

    @Test func unknownDomainAndIntentType() throws {
        let domain = try loadError(catalog: Self.twoActions.replacingOccurrences(of: "{ id: b, domain: d", with: "{ id: b, domain: hr"))
        #expect(domain == .unknownDomain(file: domain?.file ?? "", action: "b", field: "actions[1].domain", domain: "hr"))
        expectNamed(domain, file: "catalog.yaml", action: "b", field: "actions[1].domain")

        let intent = try loadError(catalog: Self.twoActions.replacingOccurrences(of: "id: a, domain: d, intent_type: create",
                                                                                  with: "id: a, domain: d, intent_type: approve"))
        #expect(intent == .unknownIntentType(file: intent?.file ?? "", action: "a", field: "actions[0].intent_type",
                                             intentType: "approve"))
        // Declared intent types replace the defaults.
        #expect(try loadError(catalog: "intent_types: [approve]\n" + Self.twoActions.replacingOccurrences(of: "create", with: "approve")) == nil)
    }

    @Test func unknownFieldIsATypo() throws {
        let error = try loadError(catalog: Self.twoActions.replacingOccurrences(of: "seeds: [two]", with: "seed: [two]"))
        expectNamed(error, file: "catalog.yaml", action: "b", field: "actions[1].seed")
        if case .unknownField = error {} else { Issue.record("expected unknownField, got \(String(describing: error))") }
    }

    @Test func badRegex() throws {
        let rules = """
            rules:
              room.book:
                patterns:
                  - { name: ok, regex: 'phong' }
                  - { name: broken, regex: 'dat (phong' }
            """
        let error = try loadError(rules: rules)
        expectNamed(error, file: "rules.yaml", action: "room.book", field: "rules[room.book].patterns[1].regex")
        if case .invalidRegex(_, _, _, let pattern, _) = error { #expect(pattern == "dat (phong") } else {
            Issue.record("expected invalidRegex, got \(String(describing: error))")
        }
        let entity = try loadError(rules: "entities:\n  date: ['[0-9']\n")
        expectNamed(entity, file: "rules.yaml", action: nil, field: "entities.date[0]")
    }

    @Test func ruleForAnUnknownAction() throws {
        let error = try loadError(rules: "rules:\n  leave.cancel:\n    keywords: [hủy]\n")
        #expect(error == .unknownAction(file: error?.file ?? "", action: "leave.cancel", field: "rules[leave.cancel]"))
        expectNamed(error, file: "rules.yaml", action: "leave.cancel", field: "rules[leave.cancel]")
    }

    @Test func unknownEntity() throws {
        let error = try loadError(rules: "rules:\n  leave.request:\n    required_entities: [date]\n")
        expectNamed(error, file: "rules.yaml", action: "leave.request", field: "rules[leave.request].required_entities[0]")
        if case .unknownEntity(_, _, _, let e) = error { #expect(e == "date") } else { Issue.record("got \(String(describing: error))") }
    }

    @Test func weightsOutOfRange() throws {
        let keyword = try loadError(rules: "rules:\n  leave.request:\n    keywords: { nghỉ phép: 1.5 }\n")
        expectNamed(keyword, file: "rules.yaml", action: "leave.request", field: "rules[leave.request].keywords.nghỉ phép")
        if case .valueOutOfRange(_, _, _, let v, _) = keyword { #expect(v == 1.5) } else { Issue.record("got \(String(describing: keyword))") }

        let pattern = try loadError(rules: "rules:\n  leave.request:\n    patterns: [{ regex: 'nghi', weight: -0.1 }]\n")
        expectNamed(pattern, file: "rules.yaml", action: "leave.request", field: "rules[leave.request].patterns[0].weight")

        let fusion = try loadError(settings: "fusion:\n  weights: { rule: 2 }\n")
        expectNamed(fusion, file: "router.yaml", action: nil, field: "fusion.weights.rule")

        let allZero = try loadError(settings: "fusion:\n  weights: { rule: 0, embedding: 0, lexical: 0 }\n")
        expectNamed(allZero, file: "router.yaml", action: nil, field: "fusion.weights")

        let threshold = try loadError(settings: "decision: { clarify_below: 0.8, execute_at: 0.5 }\n")
        expectNamed(threshold, file: "router.yaml", action: nil, field: "decision.execute_at")
    }

    @Test func settingsOverridesMustNameCatalogDomainsAndIntents() throws {
        let domain = try loadError(settings: "fusion:\n  domains: { finance: { rule: 0.5 } }\n")
        #expect(domain == .unknownDomain(file: domain?.file ?? "", action: nil, field: "fusion.domains.finance", domain: "finance"))
        let intent = try loadError(settings: "fusion:\n  intent_types: { approve: { rule: 0.5 } }\n")
        expectNamed(intent, file: "router.yaml", action: nil, field: "fusion.intent_types.approve")
        let language = try loadError(settings: "fusion:\n  languages: { fr: { rule: 0.5 } }\n")
        expectNamed(language, file: "router.yaml", action: nil, field: "fusion.languages.fr")
    }

    @Test func settingsAreParsed() throws {
        let folder = ConfigFolder()
        defer { folder.remove() }
        try folder.write("catalog.yaml", Fixture.catalog)
        try folder.write("router.yaml", """
            fusion:
              weights: { rule: 0.5 }
              domains: { leave: { embedding: 0.1 } }
            embedding: { aggregation: mean, floor: { default: 0.1, vi: 0.5 } }
            decision: { clarify_below: 0.25 }
            messages:
              en: { confirm: "Really {action}?" }
            cache: { ttl_seconds: 5, max_entries: 10 }
            """)
        let s = try RouterConfiguration.load(RouterConfigurationPaths(catalog: folder.catalog, settings: folder.settings)).settings
        #expect(s.fusion.weights == FusionWeights(rule: 0.5, embedding: 0.35, lexical: 0.25))
        #expect(s.fusion.domainWeights["leave"] == FusionWeightOverride(embedding: 0.1))
        #expect(s.embedding.aggregation == .mean)
        #expect(s.embedding.floor(for: .en) == 0.1 && s.embedding.floor(for: .vi) == 0.5)
        #expect(s.decision.clarifyBelow == 0.25 && s.decision.executeAt == RouterSettings.defaults.decision.executeAt)
        #expect(s.messages(for: .en).confirm == "Really {action}?")
        #expect(s.messages(for: .en).clarify == RouterSettings.defaults.messages(for: .en).clarify)
        #expect(s.runtime.cacheMaxEntries == 10)
    }

    /// A model's floor replaces the top-level one; its language weights replace that language's;
    /// a router over another model's vectors does not see them.
    @Test func modelOverridesApplyOnlyToTheirModel() throws {
        let folder = ConfigFolder()
        defer { folder.remove() }
        try folder.write("catalog.yaml", Fixture.catalog)
        try folder.write("router.yaml", """
            embedding: { floor: { default: 0.1, vi: 0.5 } }
            fusion:
              languages: { en: { embedding: 0.5 } }
            models:
              multilingual-e5-small:
                embedding: { floor: 0.75 }
                fusion:
                  languages: { vi: { embedding: 0.45 } }
            """)
        let s = try RouterConfiguration.load(RouterConfigurationPaths(catalog: folder.catalog, settings: folder.settings)).settings
        let e5 = s.resolved(forModel: "intfloat/multilingual-e5-small")
        #expect(e5.embedding.floor(for: .en) == 0.75 && e5.embedding.floor(for: .vi) == 0.75)
        #expect(e5.fusion.languageWeights[.vi] == FusionWeightOverride(embedding: 0.45))
        #expect(e5.fusion.languageWeights[.en] == FusionWeightOverride(embedding: 0.5))
        let miniLM = s.resolved(forModel: "sentence-transformers/all-MiniLM-L6-v2")
        #expect(miniLM.embedding.floor(for: .en) == 0.1 && miniLM.embedding.floor(for: .vi) == 0.5)
        #expect(miniLM.fusion.languageWeights[.vi] == nil)

        // The built-in defaults carry multilingual-e5-small's floors, so a file need not.
        let builtIn = RouterSettings.defaults.resolved(forModel: "intfloat/multilingual-e5-small")
        #expect(builtIn.embedding.floor(for: .en) == 0.7 && builtIn.embedding.floor(for: .vi) == 0.8)
    }

    @Test func modelOverridesNameAKnownModelAndOnlyModelScopedKeys() throws {
        let unknown = try loadError(settings: "models:\n  acme/embedder-9000:\n    embedding: { floor: 0.5 }\n")
        expectNamed(unknown, file: "router.yaml", action: nil, field: "models.acme/embedder-9000")
        let shared = try loadError(settings: "models:\n  multilingual-e5-small:\n    decision: { clarify_below: 0.5 }\n")
        #expect(shared != nil)
        let range = try loadError(settings: "models:\n  multilingual-e5-small:\n    embedding: { floor: 1.5 }\n")
        expectNamed(range, file: "router.yaml", action: nil, field: "models.multilingual-e5-small.embedding.floor")
    }

    @Test func malformedYAMLGivesTheLine() throws {
        let error = try loadError(catalog: "domains: [d]\nactions:\n  - id: a\n    seeds: [unclosed\n")
        guard case .malformedYAML(let file, let line, _) = error else {
            Issue.record("expected malformedYAML, got \(String(describing: error))")
            return
        }
        #expect((file as NSString).lastPathComponent == "catalog.yaml")
        #expect(line != nil)
    }

    @Test func missingFileIsNamed() {
        #expect(throws: ConfigurationError.fileUnreadable(file: "/nonexistent/catalog.yaml", reason: "no such file")) {
            try RouterConfiguration.load(RouterConfigurationPaths(catalog: "/nonexistent/catalog.yaml"))
        }
    }

    /// YAML 1.1 would turn unquoted `no`/`on` into booleans; seed phrases stay as written.
    @Test func yamlBooleanLookalikesStayStrings() throws {
        let folder = ConfigFolder()
        defer { folder.remove() }
        try folder.write("catalog.yaml", "domains: [d]\nactions:\n  - { id: a, domain: d, intent_type: create, seeds: [no, on, yes] }\n")
        let c = try RouterConfiguration.load(RouterConfigurationPaths(catalog: folder.catalog))
        #expect(c.catalog.actions[0].seeds == ["no", "on", "yes"])
    }

    /// Booleans are read from the scalar's text (tags are not resolved): YAML 1.1's words,
    /// unquoted only.
    @Test func settingsBooleans() throws {
        let folder = ConfigFolder()
        defer { folder.remove() }
        try folder.write("catalog.yaml", Fixture.catalog)
        func lexical(_ yaml: String) throws -> LexicalScoring {
            try folder.write("router.yaml", yaml)
            return try RouterConfiguration.load(RouterConfigurationPaths(catalog: folder.catalog, settings: folder.settings)).settings.lexical
        }
        #expect(try lexical("lexical: { bigrams: no, include_description: True }").bigrams == false)
        #expect(try lexical("lexical: { bigrams: no, include_description: True }").includeDescription == true)
        #expect(try lexical("lexical: { bigrams: on }").bigrams == true)
        #expect(throws: ConfigurationError.self) { try lexical("lexical: { bigrams: \"yes\" }") }
        #expect(throws: ConfigurationError.self) { try lexical("lexical: { bigrams: 1 }") }
    }

    @Test func seedsAndDescriptionsAreTrimmed() throws {
        let folder = ConfigFolder()
        defer { folder.remove() }
        try folder.write("catalog.yaml", """
            domains: [d]
            actions:
              - { id: a, domain: d, intent_type: create, description: "  Book it.\\n", seeds: ["  xin nghỉ phép\\t", "đặt phòng", "\\u00A0tab\\u2003"] }
            """)
        let a = try RouterConfiguration.load(RouterConfigurationPaths(catalog: folder.catalog)).catalog.actions[0]
        #expect(a.description == "Book it.")
        #expect(a.seeds == ["xin nghỉ phép", "đặt phòng", "tab"])
    }

    @Test func configurationsBuiltInCodeAreCheckedToo() {
        let catalog = ActionCatalog(domains: ["d"], actions: [ActionDefinition(id: "a", domain: "d", intentType: "create", seeds: ["x"])])
        #expect(throws: ConfigurationError.unknownAction(file: "<configuration>", action: "zz", field: "rules[zz]")) {
            try RouterConfiguration(catalog: catalog, rules: RoutingRules(rules: ["zz": ActionRule()]))
        }
        #expect(throws: ConfigurationError.self) {
            try RouterConfiguration(catalog: catalog, rules: RoutingRules(rules: [
                "a": ActionRule(patterns: [WeightedPattern(name: "p", regex: "(", weight: 0.5)]),
            ]))
        }
    }

    @Test func seedsFileMakesOneActionPerLabel() throws {
        let folder = ConfigFolder()
        defer { folder.remove() }
        try folder.write("seeds.jsonl", """
            {"text": "book a flight", "label": "travel"}
            # comments and blank lines are skipped

            {"text": "what's my balance", "label": "balance"}
            {"text": "fly to Hanoi", "label": "travel"}
            """)
        let c = try RouterConfiguration.fromSeeds(path: folder.path + "/seeds.jsonl")
        #expect(c.catalog.actions.map(\.id) == ["travel", "balance"])
        #expect(c.catalog.actions[0].seeds == ["book a flight", "fly to Hanoi"])
        #expect(c.catalog.actions.allSatisfy { $0.domain == ActionCatalog.defaultDomain && $0.description.isEmpty })
        #expect(c.rules.rules.isEmpty)

        try folder.write("bad.jsonl", "{\"text\": \"ok\", \"label\": \"a\"}\n{\"text\": \"no label\"}\n")
        #expect(throws: ConfigurationError.malformedLine(file: folder.path + "/bad.jsonl", line: 2, reason: "no \"label\" string")) {
            try RouterConfiguration.fromSeeds(path: folder.path + "/bad.jsonl")
        }
    }

    @Test func pathsFromTheEnvironment() {
        let none = RouterConfigurationPaths.fromEnvironment([:], fileExists: { _ in false })
        #expect(none == RouterConfigurationPaths(catalog: "config/routing/catalog.yaml", seedVectors: "config/routing/seed-vectors.bin"))
        let defaults = RouterConfigurationPaths.fromEnvironment([:], fileExists: { _ in true })
        #expect(defaults == RouterConfigurationPaths(catalog: "config/routing/catalog.yaml", rules: "config/routing/rules.yaml",
                                                     settings: "config/routing/router.yaml", seedVectors: "config/routing/seed-vectors.bin"))
        // The seed vector file defaults to beside the catalog, wherever that is.
        let set = RouterConfigurationPaths.fromEnvironment(["ROUTE_CATALOG": "/x/c.yaml", "ROUTE_RULES": "", "ROUTE_SETTINGS": "/s.yaml"],
                                                           fileExists: { _ in true })
        #expect(set == RouterConfigurationPaths(catalog: "/x/c.yaml", rules: nil, settings: "/s.yaml", seedVectors: "/x/seed-vectors.bin"))
        let named = RouterConfigurationPaths.fromEnvironment(["ROUTE_SEED_VECTORS": "/v/seeds.bin"], fileExists: { _ in false })
        #expect(named.seedVectors == "/v/seeds.bin")
        let off = RouterConfigurationPaths.fromEnvironment(["ROUTE_SEED_VECTORS": ""], fileExists: { _ in true })
        #expect(off.seedVectors == nil)
    }
}
