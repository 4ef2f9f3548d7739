import Foundation

/// Where the routing configuration lives. `rules` and `settings` are optional: without rules the
/// router scores by embeddings and word overlap; without settings it uses `RouterSettings.defaults`.
/// `seedVectors` is a cache of the catalog's seed vectors (`SeedVectorFile`), not configuration:
/// it is not watched like the three files, and a missing one only means embedding at start.
package struct RouterConfigurationPaths: Sendable, Hashable {
    package static let catalogVariable = "ROUTE_CATALOG"
    package static let rulesVariable = "ROUTE_RULES"
    package static let settingsVariable = "ROUTE_SETTINGS"
    package static let seedVectorsVariable = "ROUTE_SEED_VECTORS"
    /// The seed vector file's name beside the catalog when `ROUTE_SEED_VECTORS` is unset.
    package static let defaultSeedVectorsName = "seed-vectors.bin"
    package static let defaultCatalog = "config/routing/catalog.yaml"
    package static let defaultRules = "config/routing/rules.yaml"
    package static let defaultSettings = "config/routing/router.yaml"

    package var catalog: String
    package var rules: String?
    package var settings: String?
    package var seedVectors: String?

    package init(catalog: String, rules: String? = nil, settings: String? = nil, seedVectors: String? = nil) {
        self.catalog = catalog
        self.rules = rules
        self.settings = settings
        self.seedVectors = seedVectors
    }

    /// `ROUTE_CATALOG`, `ROUTE_RULES` and `ROUTE_SETTINGS`, else the defaults under
    /// `config/routing/`. A variable set to an empty string turns that file off (rules and
    /// settings only); an unset one uses the default path when that file exists.
    /// `ROUTE_SEED_VECTORS` names the seed vector file; unset, it is `seed-vectors.bin` beside the
    /// catalog (the deployment bundle puts it there), empty turns it off.
    package static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment,
                                       fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) })
        -> RouterConfigurationPaths {
        func optional(_ variable: String, _ fallback: String) -> String? {
            if let value = environment[variable] { return value.isEmpty ? nil : value }
            return fileExists(fallback) ? fallback : nil
        }
        let catalog = environment[catalogVariable].flatMap { $0.isEmpty ? nil : $0 } ?? defaultCatalog
        var seedVectors: String? = ((catalog as NSString).deletingLastPathComponent as NSString)
            .appendingPathComponent(defaultSeedVectorsName)
        if let value = environment[seedVectorsVariable] { seedVectors = value.isEmpty ? nil : value }
        return RouterConfigurationPaths(catalog: catalog, rules: optional(rulesVariable, defaultRules),
                                        settings: optional(settingsVariable, defaultSettings), seedVectors: seedVectors)
    }

    /// The files to watch, catalog first (not the seed vector file: a cache, looked at on reload).
    package var all: [String] { [catalog] + [rules, settings].compactMap { $0 } }
}
