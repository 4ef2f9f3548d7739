/// One thing the assistant can do, as the catalog file declares it.
package struct ActionDefinition: Sendable, Hashable {
    package var id: String
    package var domain: String
    package var intentType: String
    /// Display names per language, for the UI message ("Bạn muốn {action}?"). Missing ones fall
    /// back to the other language, then to the id.
    package var titles: [RequestLanguage: String]
    /// What the action does, in business terms; embedded like a seed when the settings say so.
    package var description: String
    /// Example requests; each is embedded and kept under (action id, seed index).
    package var seeds: [String]

    package init(id: String, domain: String, intentType: String, titles: [RequestLanguage: String] = [:],
                description: String = "", seeds: [String]) {
        self.id = id
        self.domain = domain
        self.intentType = intentType
        self.titles = titles
        self.description = description
        self.seeds = seeds
    }

    package func title(in language: RequestLanguage) -> String {
        if let t = titles[language], !t.isEmpty { return t }
        if let t = titles.values.first(where: { !$0.isEmpty }) { return t }
        return id
    }
}

/// The action catalog: the domains and intent types actions may use, and the actions in order.
package struct ActionCatalog: Sendable, Hashable {
    /// Intent types a catalog may use when it declares none.
    package static let defaultIntentTypes = ["create", "query", "update", "cancel", "status"]
    /// The domain of catalogs built from bare seed phrases (`route-eval --seeds`).
    package static let defaultDomain = "default"

    package var domains: [String]
    package var intentTypes: [String]
    package var actions: [ActionDefinition]

    package init(domains: [String], intentTypes: [String] = ActionCatalog.defaultIntentTypes, actions: [ActionDefinition]) {
        self.domains = domains
        self.intentTypes = intentTypes
        self.actions = actions
    }

    package func action(_ id: String) -> ActionDefinition? { actions.first { $0.id == id } }
}
