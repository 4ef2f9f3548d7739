import Foundation

/// Counters for a `/stats` endpoint or the logs.
package struct RouterStats: Sendable, Hashable, Codable {
    package var requests: Int
    package var cacheHits: Int
    package var cacheEntries: Int
    /// Catalog swaps since start (the initial load is not counted).
    package var reloads: Int
    /// Changed files that could not be loaded (the previous catalog kept serving).
    package var reloadErrors: Int
    /// How long the last successful load took: read, parse, embed what changed, build.
    package var lastReloadMilliseconds: Double
    /// Texts the last successful load embedded (0 when only rules or settings changed).
    package var lastReloadEmbeddedTexts: Int
    /// The last successful load (the initial one until a reload happens), phase by phase.
    package var lastLoad: LoadReport
    package var catalogVersion: String
    package var actions: Int
    package var seedRows: Int

    enum CodingKeys: String, CodingKey {
        case requests
        case cacheHits = "cache_hits"
        case cacheEntries = "cache_entries"
        case reloads
        case reloadErrors = "reload_errors"
        case lastReloadMilliseconds = "last_reload_ms"
        case lastReloadEmbeddedTexts = "last_reload_embedded_texts"
        case lastLoad = "last_load"
        case catalogVersion = "catalog_version"
        case actions
        case seedRows = "seed_rows"
    }
}

/// What a health check reports: which catalog is serving and whether the files on disk are.
package struct RouterHealth: Sendable, Hashable, Codable {
    package var catalogVersion: String
    package var actions: Int
    package var loadedAt: Date
    /// The last reload failure, until a later reload succeeds (or the files return to the
    /// serving content). The previous catalog keeps serving meanwhile.
    package var lastReloadError: String?
    package var lastReloadErrorAt: Date?

    /// False while the files on disk could not be loaded: the router works, but not on them.
    package var filesLoaded: Bool { lastReloadError == nil }

    enum CodingKeys: String, CodingKey {
        case catalogVersion = "catalog_version"
        case actions
        case loadedAt = "loaded_at"
        case lastReloadError = "last_reload_error"
        case lastReloadErrorAt = "last_reload_error_at"
    }
}
