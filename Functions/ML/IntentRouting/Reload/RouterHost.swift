import Embeddings
import Foundation
import JSON
import Synchronization

/// A `Router` that follows its files: what a warm function process keeps between requests.
///
/// Each `route` first looks at the files, at most once per `reloadCheckInterval` (default 1 s):
/// a `stat` each (mtime, size, inode); only if one changed are they read and hashed, and only if
/// the content changed is the configuration parsed and a new router built, embedding only the
/// seeds whose (action id, seed index, text hash) the serving router does not have. The new
/// router is swapped in under the mutex, so a request sees the old or the new catalog, never a
/// mix. A file that fails to load leaves the old catalog serving and its error in
/// `health.lastReloadError`. The request that notices a change does the reload before routing;
/// requests arriving meanwhile carry on with the old router.
///
/// Seed vectors come, in this order, from the serving router (same key), from the seed vector
/// file (`paths.seedVectors`, read at init and again at a reload if it changed), and only then
/// from the provider, in one batch.
///
/// Results are cached by (catalog version, normalised text) with a TTL and a size bound.
package final class RouterHost: Sendable {
    package struct Options: Sendable {
        /// Nil: the settings file's `reload.check_interval_seconds`.
        package var reloadCheckInterval: Duration?
        /// Nil: the settings file's `cache.ttl_seconds` / `cache.max_entries`.
        package var cacheTTL: Duration?
        package var cacheCapacity: Int?
        /// Told about every successful reload (not the initial load: see `stats.lastLoad`), for
        /// the handler's log; called on the task that reloaded, so it must be quick.
        package var onReload: (@Sendable (LoadReport) -> Void)?

        package init(reloadCheckInterval: Duration? = nil, cacheTTL: Duration? = nil, cacheCapacity: Int? = nil,
                    onReload: (@Sendable (LoadReport) -> Void)? = nil) {
            self.reloadCheckInterval = reloadCheckInterval
            self.cacheTTL = cacheTTL
            self.cacheCapacity = cacheCapacity
            self.onReload = onReload
        }
    }

    /// What a look at the files did.
    package enum ReloadOutcome: Sendable, Hashable {
        /// Not due yet, or another reload is running.
        case skipped
        case unchanged
        case reloaded(catalogVersion: String, embeddedTexts: Int)
        /// The old catalog keeps serving.
        case failed(String)
    }

    struct State {
        var router: Router
        var fingerprints: [FileFingerprint?]
        /// The bytes the serving router was parsed from, so a reload reparses only changed files.
        var sources: RouterConfiguration.Sources
        var contentHash: UInt64
        var lastCheck: ContinuousClock.Instant
        var reloading = false
        var loadedAt: Date
        var lastReloadError: String?
        var lastReloadErrorAt: Date?
        var cache: RouteCache
        var requests = 0
        var cacheHits = 0
        var reloads = 0
        var reloadErrors = 0
        var lastLoad: LoadReport
        var seedVectors: LoadedSeedVectors
    }

    package let paths: RouterConfigurationPaths
    package let provider: any EmbeddingProvider
    package let options: Options
    private let state: Mutex<State>

    /// Loads the files and builds the catalog's seed vectors (from the seed vector file where it
    /// has them). Throws `ConfigurationError` (or the provider's error): with nothing to serve,
    /// starting must fail. `stats.lastLoad` says what the load cost and where the vectors came from.
    package init(paths: RouterConfigurationPaths, provider: any EmbeddingProvider, options: Options = Options()) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        var report = LoadReport()
        let fingerprints = paths.all.map(FileFingerprint.of)
        let sources = try RouterConfiguration.Sources.read(paths)
        let seedVectors = LoadedSeedVectors.load(path: paths.seedVectors, modelId: provider.modelId, dimension: provider.dimension)
        let read = clock.now
        let configuration = try RouterConfiguration.parse(sources, paths: paths)
        let parsed = clock.now
        let build = try await Router.build(configuration, provider: provider, precomputed: seedVectors.file)
        report.readMilliseconds = (read - start).milliseconds
        report.parseMilliseconds = (parsed - read).milliseconds
        Self.record(build, in: &report, seedVectors: seedVectors, total: clock.now - start)
        self.paths = paths
        self.provider = provider
        self.options = options
        state = Mutex(State(router: build.router, fingerprints: fingerprints, sources: sources, contentHash: sources.contentHash,
                            lastCheck: clock.now, loadedAt: Date(),
                            cache: Self.cache(for: configuration.settings, options: options),
                            lastLoad: report, seedVectors: seedVectors))
    }

    /// The router serving now.
    package var router: Router { state.withLock { $0.router } }

    /// Routes a request with the current catalog (after reloading it if its files changed).
    package func route(_ text: String, requestId: String? = nil) async throws -> RouteResult {
        _ = await reload(force: false)
        let key = NormalizedText(text).normalized
        let now = ContinuousClock.now
        let (router, cached) = state.withLock { s -> (Router, RouteResult?) in
            s.requests += 1
            let hit = s.cache.get(RouteCache.Key(catalogVersion: s.router.catalogVersion, text: key), now: now)
            if hit != nil { s.cacheHits += 1 }
            return (s.router, hit)
        }
        if var cached {
            cached.requestId = requestId
            return cached
        }
        let result = try await router.route(text, requestId: requestId)
        state.withLock { s in
            s.cache.put(RouteCache.Key(catalogVersion: result.catalogVersion, text: key), result, now: ContinuousClock.now)
        }
        return result
    }

    /// Looks at the files now (`force`) or only if the check interval has passed, and reloads
    /// what changed.
    @discardableResult
    package func reload(force: Bool = true) async -> ReloadOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        let claimed = state.withLock { s -> Bool in
            guard !s.reloading else { return false }
            if !force {
                let interval = options.reloadCheckInterval ?? .seconds(s.router.configuration.settings.runtime.reloadCheckIntervalSeconds)
                guard start - s.lastCheck >= interval else { return false }
            }
            s.lastCheck = start
            s.reloading = true
            return true
        }
        guard claimed else { return .skipped }
        defer { state.withLock { $0.reloading = false } }

        let fingerprints = paths.all.map(FileFingerprint.of)
        let (known, servingHash, old, servingSources) = state.withLock { ($0.fingerprints, $0.contentHash, $0.router, $0.sources) }
        guard fingerprints != known else { return .unchanged }

        var report = LoadReport()
        let sources: RouterConfiguration.Sources
        do {
            sources = try RouterConfiguration.Sources.read(paths)
        } catch {
            return failed(error.description, fingerprints: fingerprints)
        }
        // A file being written right now: its fingerprint moves under us. Look again next time.
        guard paths.all.map(FileFingerprint.of) == fingerprints else { return .unchanged }
        guard sources.contentHash != servingHash else {
            state.withLock { s in
                s.fingerprints = fingerprints
                s.lastReloadError = nil
                s.lastReloadErrorAt = nil
            }
            return .unchanged
        }

        let read = clock.now
        let configuration: RouterConfiguration
        do {
            configuration = try RouterConfiguration.parse(sources, paths: paths, previous: (servingSources, old.configuration))
        } catch {
            return failed(error.description, fingerprints: fingerprints)
        }
        let parsed = clock.now
        // Rows the serving router lacks may be in the seed vector file if it was regenerated.
        let seedVectors = state.withLock { $0.seedVectors }
            .refreshed(path: paths.seedVectors, modelId: provider.modelId, dimension: provider.dimension)
        let seedVectorsRead = clock.now
        let build: Router.Build
        do {
            build = try await Router.build(configuration, provider: provider, reusing: old, precomputed: seedVectors.file)
        } catch {
            // The provider failed, not the files: leave the fingerprints so the next check retries.
            return failed("embedding the catalog failed: \(error)", fingerprints: nil)
        }
        report.readMilliseconds = (read - start).milliseconds + (seedVectorsRead - parsed).milliseconds
        report.parseMilliseconds = (parsed - read).milliseconds
        Self.record(build, in: &report, seedVectors: seedVectors, total: clock.now - start)
        state.withLock { s in
            s.router = build.router
            s.fingerprints = fingerprints
            s.sources = sources
            s.contentHash = sources.contentHash
            s.loadedAt = Date()
            s.lastReloadError = nil
            s.lastReloadErrorAt = nil
            s.reloads += 1
            s.lastLoad = report
            s.seedVectors = seedVectors
            // Old entries are keyed by the old version and would only take room.
            s.cache = Self.cache(for: configuration.settings, options: options)
        }
        options.onReload?(report)
        return .reloaded(catalogVersion: configuration.version, embeddedTexts: build.embeddedTexts)
    }

    static func record(_ build: Router.Build, in report: inout LoadReport, seedVectors: LoadedSeedVectors, total: Duration) {
        report.totalMilliseconds = total.milliseconds
        report.seedsMilliseconds = build.seedsMilliseconds
        report.embedMilliseconds = build.seeds.embedMilliseconds
        report.indexMilliseconds = build.indexMilliseconds
        report.embeddedTexts = build.seeds.embedded
        report.reusedRows = build.seeds.reused
        report.fileRows = build.seeds.fromFile
        report.seedRows = build.router.seeds.rowCount
        report.seedVectorFile = seedVectors.status
    }

    /// Records a failed reload. With `fingerprints` the broken files are remembered, so they are
    /// not parsed again every second; the next edit is looked at.
    private func failed(_ message: String, fingerprints: [FileFingerprint?]?) -> ReloadOutcome {
        state.withLock { s in
            if let fingerprints { s.fingerprints = fingerprints }
            s.lastReloadError = message
            s.lastReloadErrorAt = Date()
            s.reloadErrors += 1
        }
        return .failed(message)
    }

    package var health: RouterHealth {
        state.withLock { s in
            RouterHealth(catalogVersion: s.router.catalogVersion, actions: s.router.catalog.actions.count, loadedAt: s.loadedAt,
                         lastReloadError: s.lastReloadError, lastReloadErrorAt: s.lastReloadErrorAt)
        }
    }

    /// The last reload failure, nil once a reload succeeds.
    package var lastReloadError: String? { state.withLock { $0.lastReloadError } }

    package var stats: RouterStats {
        state.withLock { s in
            RouterStats(requests: s.requests, cacheHits: s.cacheHits, cacheEntries: s.cache.count, reloads: s.reloads,
                        reloadErrors: s.reloadErrors, lastReloadMilliseconds: s.lastLoad.totalMilliseconds,
                        lastReloadEmbeddedTexts: s.lastLoad.embeddedTexts, lastLoad: s.lastLoad, catalogVersion: s.router.catalogVersion,
                        actions: s.router.catalog.actions.count, seedRows: s.router.seeds.rowCount)
        }
    }

    static func cache(for settings: RouterSettings, options: Options) -> RouteCache {
        RouteCache(ttl: options.cacheTTL ?? .milliseconds(Int64(settings.runtime.cacheTTLSeconds * 1000)),
                   capacity: options.cacheCapacity ?? settings.runtime.cacheMaxEntries)
    }
}
