import IntentRouting

extension ReadinessCheck {
    /// The router's catalog, rules and settings files (`ROUTE_CATALOG`, `ROUTE_RULES`,
    /// `ROUTE_SETTINGS`, defaults under `config/routing/`) load and validate. A warm `route`
    /// process keeps serving its last good catalog when a file breaks; this is where the broken
    /// file shows, with the file, action and field named.
    package static func routeCatalog(environment: [String: String], timeout: Duration = .seconds(2)) -> ReadinessCheck {
        ReadinessCheck("route_catalog", timeout: timeout) {
            let paths = RouterConfigurationPaths.fromEnvironment(environment)
            do {
                _ = try RouterConfiguration.load(paths)
            } catch {
                throw CheckFailure("\(error)")
            }
        }
    }
}
