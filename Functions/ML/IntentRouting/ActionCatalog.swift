/// One thing the assistant can do, as the catalog file declares it.
public struct ActionDefinition: Sendable, Hashable {
    public var id: String
    public var domain: String
    public var intentType: String
    /// Display names per language, for the UI message ("Bạn muốn {action}?"). Missing ones fall
    /// back to the other language, then to the id.
    public var titles: [RequestLanguage: String]
    /// What the action does, in business terms; embedded like a seed when the settings say so.
    public var description: String
    /// Example requests; each is embedded and kept under (action id, seed index).
    public var seeds: [String]

    public init(id: String, domain: String, intentType: String, titles: [RequestLanguage: String] = [:],
                description: String = "", seeds: [String]) {
        self.id = id
        self.domain = domain
        self.intentType = intentType
        self.titles = titles
        self.description = description
        self.seeds = seeds
    }

    public func title(in language: RequestLanguage) -> String {
        if let t = titles[language], !t.isEmpty { return t }
        if let t = titles.values.first(where: { !$0.isEmpty }) { return t }
        return id
    }
}

/// The action catalog: the domains and intent types actions may use, and the actions in order.
public struct ActionCatalog: Sendable, Hashable {
    /// Intent types a catalog may use when it declares none.
    public static let defaultIntentTypes = ["create", "query", "update", "cancel", "status"]
    /// The domain of catalogs built from bare seed phrases (`route-eval --seeds`).
    public static let defaultDomain = "default"

    public var domains: [String]
    public var intentTypes: [String]
    public var actions: [ActionDefinition]

    public init(domains: [String], intentTypes: [String] = ActionCatalog.defaultIntentTypes, actions: [ActionDefinition]) {
        self.domains = domains
        self.intentTypes = intentTypes
        self.actions = actions
    }

    public func action(_ id: String) -> ActionDefinition? { actions.first { $0.id == id } }
}
