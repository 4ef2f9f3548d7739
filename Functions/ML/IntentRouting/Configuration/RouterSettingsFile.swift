import Embeddings

/// Reads the router settings (`config/routing/router.yaml`). Every key is optional and falls
/// back to `RouterSettings.defaults`; see `config/routing/README.md` for the meaning of each.
///
/// ```yaml
/// fusion:
///   weights: { rule: 0.4, embedding: 0.35, lexical: 0.25 }
///   pattern_bonus: 0.1
///   negative_penalty: 0.3
///   domains: { finance: { rule: 0.5 } }          # partial overrides, keys from the catalog
///   intent_types: { cancel: { rule: 0.6 } }
///   languages: { en: { embedding: 0.5 } }          # applied last, by the request's language
/// embedding: { aggregation: max_mean, mean_weight: 0.3, mean_top_k: 3, include_description: true,
///              floor: { default: 0.2, vi: 0.5 },   # or one number
///              classifier: { weight: 0.5, shrinkage: 0.6 } }
/// lexical: { k1: 1.2, b: 0.5, bigrams: true, include_description: false }
/// rules: { missing_entity_factor: 0.6 }
/// decision: { clarify_below: 0.3, execute_at: 0.7, execute_margin: 0.15, disambiguate_margin: 0.05, max_choices: 3, top_k: 5 }
/// default_language: vi
/// messages:
///   vi: { execute: "...", confirm: "...", disambiguate: "...", clarify: "...", or: "hoặc" }
///   en: { ... }
/// cache: { ttl_seconds: 300, max_entries: 1000 }
/// reload: { check_interval_seconds: 1 }
/// ```
enum RouterSettingsFile {
    static let topKeys: Set<String> = ["fusion", "embedding", "lexical", "rules", "decision", "messages",
                                       "default_language", "cache", "reload", "models"]
    static let unit: ClosedRange<Double> = 0...1

    static func parse(yaml: String, file: String, catalog: ActionCatalog) throws(ConfigurationError) -> RouterSettings {
        let root = try YAMLField.root(yaml: yaml, file: file)
        let top = try root.fields(allowed: topKeys)
        var s = RouterSettings.defaults

        if let fusion = top["fusion"] {
            let f = try fusion.fields(allowed: ["weights", "pattern_bonus", "negative_penalty", "domains", "intent_types", "languages"])
            if let w = f["weights"] {
                s.fusion.weights = try weightOverride(w).applied(to: s.fusion.weights)
                let total = s.fusion.weights.rule + s.fusion.weights.embedding + s.fusion.weights.lexical
                guard total > 0 else {
                    throw .invalidValue(file: file, action: nil, field: w.path, reason: "at least one weight must be above 0")
                }
            }
            if let v = f["pattern_bonus"] { s.fusion.patternBonus = try v.double(in: unit) }
            if let v = f["negative_penalty"] { s.fusion.negativePenalty = try v.double(in: unit) }
            if let d = f["domains"] {
                let known = Set(catalog.domains)
                for (domain, value) in try d.entries() {
                    guard known.contains(domain) else {
                        throw .unknownDomain(file: file, action: nil, field: value.path, domain: domain)
                    }
                    s.fusion.domainWeights[domain] = try weightOverride(value)
                }
            }
            if let t = f["intent_types"] {
                let known = Set(catalog.intentTypes)
                for (type, value) in try t.entries() {
                    guard known.contains(type) else {
                        throw .unknownIntentType(file: file, action: nil, field: value.path, intentType: type)
                    }
                    s.fusion.intentTypeWeights[type] = try weightOverride(value)
                }
            }
            if let l = f["languages"] {
                for (code, value) in try l.entries() {
                    let lang = try language(YAMLField(node: .scalar(.init(code)), file: file, path: value.path))
                    s.fusion.languageWeights[lang] = try weightOverride(value)
                }
            }
        }

        if let e = top["embedding"] {
            let f = try e.fields(allowed: ["aggregation", "mean_weight", "mean_top_k", "include_description", "floor", "classifier"])
            if let v = f["aggregation"] {
                let name = try v.nonEmptyString()
                guard let a = SeedAggregation(rawValue: name) else {
                    throw .invalidValue(file: file, action: nil, field: v.path,
                                        reason: "'\(name)' is not one of \(SeedAggregation.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                s.embedding.aggregation = a
            }
            if let v = f["mean_weight"] { s.embedding.meanWeight = try v.double(in: unit) }
            if let v = f["mean_top_k"] { s.embedding.meanTopK = try v.int(in: 1...1000) }
            if let v = f["include_description"] { s.embedding.includeDescription = try v.bool() }
            if let v = f["floor"] { (s.embedding.floor, s.embedding.languageFloors) = try floors(v, base: s.embedding) }
            if let v = f["classifier"] {
                let cf = try v.fields(allowed: ["weight", "shrinkage"])
                if let w = cf["weight"] { s.embedding.classifierWeight = try w.double(in: unit) }
                if let w = cf["shrinkage"] { s.embedding.classifierShrinkage = try w.double(in: unit) }
            }
        }

        if let l = top["lexical"] {
            let f = try l.fields(allowed: ["k1", "b", "bigrams", "include_description"])
            if let v = f["k1"] { s.lexical.k1 = try v.double(in: 0...10) }
            if let v = f["b"] { s.lexical.b = try v.double(in: unit) }
            if let v = f["bigrams"] { s.lexical.bigrams = try v.bool() }
            if let v = f["include_description"] { s.lexical.includeDescription = try v.bool() }
        }

        if let r = top["rules"] {
            let f = try r.fields(allowed: ["missing_entity_factor"])
            if let v = f["missing_entity_factor"] { s.rules.missingEntityFactor = try v.double(in: unit) }
        }

        if let d = top["decision"] {
            let f = try d.fields(allowed: ["clarify_below", "execute_at", "execute_margin", "disambiguate_margin",
                                           "max_choices", "top_k"])
            if let v = f["clarify_below"] { s.decision.clarifyBelow = try v.double(in: unit) }
            if let v = f["execute_at"] { s.decision.executeAt = try v.double(in: unit) }
            if let v = f["execute_margin"] { s.decision.executeMargin = try v.double(in: unit) }
            if let v = f["disambiguate_margin"] { s.decision.disambiguateMargin = try v.double(in: unit) }
            if let v = f["max_choices"] { s.decision.maxChoices = try v.int(in: 2...20) }
            if let v = f["top_k"] { s.decision.topK = try v.int(in: 1...100) }
            guard s.decision.executeAt >= s.decision.clarifyBelow else {
                throw .invalidValue(file: file, action: nil, field: "\(d.path).execute_at",
                                    reason: "must not be below clarify_below (\(s.decision.clarifyBelow))")
            }
        }

        if let l = top["default_language"] { s.defaultLanguage = try language(l) }

        if let m = top["messages"] {
            for (code, value) in try m.entries() {
                let lang = try language(YAMLField(node: .scalar(.init(code)), file: file, path: value.path))
                let f = try value.fields(allowed: ["execute", "confirm", "disambiguate", "clarify", "or"])
                var msgs = s.messages[lang] ?? RouterSettings.defaults.messages[lang]!
                if let v = f["execute"] { msgs.execute = try v.nonEmptyString() }
                if let v = f["confirm"] { msgs.confirm = try v.nonEmptyString() }
                if let v = f["disambiguate"] { msgs.disambiguate = try v.nonEmptyString() }
                if let v = f["clarify"] { msgs.clarify = try v.nonEmptyString() }
                if let v = f["or"] { msgs.or = try v.nonEmptyString() }
                s.messages[lang] = msgs
            }
        }

        if let c = top["cache"] {
            let f = try c.fields(allowed: ["ttl_seconds", "max_entries"])
            if let v = f["ttl_seconds"] { s.runtime.cacheTTLSeconds = try v.double(in: 0...86_400) }
            if let v = f["max_entries"] { s.runtime.cacheMaxEntries = try v.int(in: 0...1_000_000) }
        }
        if let r = top["reload"] {
            let f = try r.fields(allowed: ["check_interval_seconds"])
            if let v = f["check_interval_seconds"] { s.runtime.reloadCheckIntervalSeconds = try v.double(in: 0...3600) }
        }
        if let m = top["models"] {
            for (id, value) in try m.entries() {
                guard let spec = EmbeddingModelRegistry.spec(for: id) else {
                    throw .invalidValue(file: file, action: nil, field: value.path,
                                        reason: "'\(id)' is not a known embedding model (\(EmbeddingModelRegistry.known.map(\.id).joined(separator: ", ")))")
                }
                s.models[spec.id] = try modelOverride(value, file: file)
            }
        }
        return s
    }

    /// `models.<id>`: `embedding: { floor, classifier: { weight } }` and `fusion: { weights, languages }` only; the
    /// rest is shared by every model (see `ModelOverride`).
    static func modelOverride(_ field: YAMLField, file: String) throws(ConfigurationError) -> ModelOverride {
        let top = try field.fields(allowed: ["embedding", "fusion"])
        var o = ModelOverride()
        if let e = top["embedding"] {
            let f = try e.fields(allowed: ["floor", "classifier"])
            if let v = f["classifier"] {
                let cf = try v.fields(allowed: ["weight"])
                if let w = cf["weight"] { o.classifierWeight = try w.double(in: 0...1) }
            }
            if let v = f["floor"] {
                let (floor, languages) = try floors(v, base: EmbeddingScoring(aggregation: .max, meanWeight: 0, meanTopK: 1,
                                                                                includeDescription: false, floor: .nan))
                o.floor = floor.isNaN ? nil : floor
                o.languageFloors = languages
            }
        }
        if let fusion = top["fusion"] {
            let f = try fusion.fields(allowed: ["weights", "languages"])
            if let w = f["weights"] { o.weights = try weightOverride(w) }
            if let l = f["languages"] {
                for (code, value) in try l.entries() {
                    let lang = try language(YAMLField(node: .scalar(.init(code)), file: file, path: value.path))
                    o.languageWeights[lang] = try weightOverride(value)
                }
            }
        }
        return o
    }

    /// One number, or one per language ({ vi: 0.5, en: 0.2 }); a language left out uses `default`.
    static func floors(_ v: YAMLField, base: EmbeddingScoring) throws(ConfigurationError) -> (Double, [RequestLanguage: Double]) {
        var floor = base.floor
        var languages = base.languageFloors
        if case .mapping = v.node {
            for (code, value) in try v.entries() {
                if code == "default" {
                    floor = try value.double(in: 0...0.95)
                    continue
                }
                let lang = try language(YAMLField(node: .scalar(.init(code)), file: v.file, path: value.path))
                languages[lang] = try value.double(in: 0...0.95)
            }
        } else {
            floor = try v.double(in: 0...0.95)
        }
        return (floor, languages)
    }

    static func weightOverride(_ field: YAMLField) throws(ConfigurationError) -> FusionWeightOverride {
        let f = try field.fields(allowed: ["rule", "embedding", "lexical"])
        return FusionWeightOverride(
            rule: try f["rule"].map { v throws(ConfigurationError) in try v.double(in: unit) },
            embedding: try f["embedding"].map { v throws(ConfigurationError) in try v.double(in: unit) },
            lexical: try f["lexical"].map { v throws(ConfigurationError) in try v.double(in: unit) })
    }

    static func language(_ field: YAMLField) throws(ConfigurationError) -> RequestLanguage {
        let code = try field.nonEmptyString()
        guard let lang = RequestLanguage(rawValue: code) else {
            throw .invalidValue(file: field.file, action: nil, field: field.fieldName,
                                reason: "'\(code)' is not a supported language (vi, en)")
        }
        return lang
    }
}

extension RouterSettings {
    /// Reads a settings file on its own; `catalog` is what its domain and intent type overrides
    /// are checked against.
    package static func load(path: String, catalog: ActionCatalog) throws(ConfigurationError) -> RouterSettings {
        let bytes = try RouterConfiguration.readFile(path)
        return try RouterSettingsFile.parse(yaml: try RouterConfiguration.text(bytes, file: path), file: path, catalog: catalog)
    }
}
