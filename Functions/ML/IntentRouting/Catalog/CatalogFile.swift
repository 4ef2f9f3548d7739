import Foundation

/// Reads the action catalog (`config/routing/catalog.yaml`):
///
/// ```yaml
/// domains:                 # id: description (or a plain list of ids)
///   leave: Nghỉ phép, leave balance
/// intent_types: [create, query, update, cancel, status]   # optional; these are the defaults
/// actions:
///   - id: leave.request
///     domain: leave
///     intent_type: create
///     title: { vi: "tạo đơn xin nghỉ phép", en: "request leave" }   # or one string
///     description: Create a leave request (annual, sick, unpaid) for given dates.
///     seeds:
///       - xin nghỉ phép ngày mai
///       - I want to take a day off
/// ```
enum CatalogFile {
    static let topKeys: Set<String> = ["version", "domains", "intent_types", "actions"]
    static let actionKeys: Set<String> = ["id", "domain", "intent_type", "title", "description", "seeds"]

    static func parse(yaml: String, file: String) throws(ConfigurationError) -> ActionCatalog {
        let root = try YAMLField.root(yaml: yaml, file: file)
        let top = try root.fields(allowed: topKeys)

        var domains: [String] = []
        if let d = top["domains"] {
            switch d.node {
            case .mapping: for (key, _) in try d.entries() { domains.append(key) }
            default: for item in try d.items() { domains.append(try item.nonEmptyString()) }
            }
        }
        var intentTypes = ActionCatalog.defaultIntentTypes
        if let t = top["intent_types"] {
            intentTypes = []
            for item in try t.items() { intentTypes.append(try item.nonEmptyString()) }
        }

        guard let actionsField = top["actions"] else { throw .missingField(file: file, action: nil, field: "actions") }
        let domainSet = Set(domains), intentSet = Set(intentTypes)
        var actions: [ActionDefinition] = []
        var seen: Set<String> = []
        for item in try actionsField.items() {
            let action = try parseAction(item, domains: domainSet, intentTypes: intentSet)
            guard seen.insert(action.id).inserted else {
                throw .duplicateActionId(file: file, action: action.id, field: "\(item.path).id")
            }
            actions.append(action)
        }
        return ActionCatalog(domains: domains, intentTypes: intentTypes, actions: actions)
    }

    static func parseAction(_ item: YAMLField, domains: Set<String>, intentTypes: Set<String>) throws(ConfigurationError) -> ActionDefinition {
        // The id first, so every later error can name the action.
        guard case .mapping = item.node else { throw item.wrongType("a mapping (an action)") }
        let raw = try item.entries()
        guard let idField = raw.first(where: { $0.key == "id" })?.value else {
            throw .missingField(file: item.file, action: nil, field: "\(item.path).id")
        }
        let id = try idField.nonEmptyString()
        let f = try item.withContext(id).fields(allowed: actionKeys)

        func required(_ key: String) throws(ConfigurationError) -> YAMLField {
            guard let v = f[key] else { throw .missingField(file: item.file, action: id, field: "\(item.path).\(key)") }
            return v
        }
        let domainField = try required("domain")
        let domain = try domainField.nonEmptyString()
        guard domains.contains(domain) else {
            throw .unknownDomain(file: item.file, action: id, field: domainField.path, domain: domain)
        }
        let intentField = try required("intent_type")
        let intentType = try intentField.nonEmptyString()
        guard intentTypes.contains(intentType) else {
            throw .unknownIntentType(file: item.file, action: id, field: intentField.path, intentType: intentType)
        }

        var titles: [RequestLanguage: String] = [:]
        if let t = f["title"] {
            if case .mapping = t.node {
                for (key, value) in try t.entries(allowed: Set(RequestLanguage.allCases.map(\.rawValue))) {
                    titles[RequestLanguage(rawValue: key)!] = try value.nonEmptyString()
                }
            } else {
                let s = try t.nonEmptyString()
                for language in RequestLanguage.allCases { titles[language] = s }
            }
        }
        let description = try f["description"].map { v throws(ConfigurationError) in try v.string() } ?? ""

        let seedsField = try required("seeds")
        var seeds: [String] = []
        for seed in try seedsField.items() {
            let text = try seed.string().trimmedWhitespace
            guard !text.isEmpty else {
                throw .invalidValue(file: item.file, action: id, field: seed.path, reason: "seed phrases must not be empty")
            }
            seeds.append(text)
        }
        guard !seeds.isEmpty else { throw .emptySeeds(file: item.file, action: id, field: seedsField.path) }

        return ActionDefinition(id: id, domain: domain, intentType: intentType, titles: titles,
                                description: description.trimmedWhitespace, seeds: seeds)
    }
}
