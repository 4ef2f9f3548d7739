import Foundation

/// Where the routing configuration lives. `rules` and `settings` are optional: without rules the
/// router scores by embeddings and word overlap; without settings it uses `RouterSettings.defaults`.
public struct RouterConfigurationPaths: Sendable, Hashable {
    public static let catalogVariable = "ROUTE_CATALOG"
    public static let rulesVariable = "ROUTE_RULES"
    public static let settingsVariable = "ROUTE_SETTINGS"
    public static let defaultCatalog = "config/routing/catalog.yaml"
    public static let defaultRules = "config/routing/rules.yaml"
    public static let defaultSettings = "config/routing/router.yaml"

    public var catalog: String
    public var rules: String?
    public var settings: String?

    public init(catalog: String, rules: String? = nil, settings: String? = nil) {
        self.catalog = catalog
        self.rules = rules
        self.settings = settings
    }

    /// `ROUTE_CATALOG`, `ROUTE_RULES` and `ROUTE_SETTINGS`, else the defaults under
    /// `config/routing/`. A variable set to an empty string turns that file off (rules and
    /// settings only); an unset one uses the default path when that file exists.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment,
                                       fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) })
        -> RouterConfigurationPaths {
        func optional(_ variable: String, _ fallback: String) -> String? {
            if let value = environment[variable] { return value.isEmpty ? nil : value }
            return fileExists(fallback) ? fallback : nil
        }
        let catalog = environment[catalogVariable].flatMap { $0.isEmpty ? nil : $0 } ?? defaultCatalog
        return RouterConfigurationPaths(catalog: catalog, rules: optional(rulesVariable, defaultRules),
                                        settings: optional(settingsVariable, defaultSettings))
    }

    /// The files to watch, catalog first.
    public var all: [String] { [catalog] + [rules, settings].compactMap { $0 } }
}
