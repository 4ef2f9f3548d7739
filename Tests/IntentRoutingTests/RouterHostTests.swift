import Foundation
import IntentRouting
import Testing

@Suite struct RouterHostTests {
    /// A folder with the fixture files and a host over them, on a counting real provider.
    struct Setup {
        let folder = ConfigFolder()
        let provider: CountingProvider
        let host: RouterHost

        init(options: RouterHost.Options = RouterHost.Options(reloadCheckInterval: .zero)) async throws {
            try folder.write("catalog.yaml", Fixture.catalog)
            try folder.write("rules.yaml", Fixture.rules)
            try folder.write("router.yaml", Fixture.settings)
            provider = CountingProvider(try Model.embedder())
            host = try await RouterHost(paths: folder.paths, provider: provider, options: options)
        }
    }

    @Test func initialLoadEmbedsEverySeedAndDescriptionOnce() async throws {
        let s = try await Setup()
        defer { s.folder.remove() }
        // 2 descriptions + 7 seeds.
        #expect(s.provider.passages.count == 9)
        #expect(s.host.stats.lastReloadEmbeddedTexts == 9)
        #expect(s.host.health.actions == 3)
        #expect(s.host.health.lastReloadError == nil)
    }

    @Test func changedSeedsReembedOnlyWhatChanged() async throws {
        let s = try await Setup()
        defer { s.folder.remove() }
        let before = s.host.router.catalogVersion
        s.provider.reset()
        try s.folder.write("catalog.yaml", Fixture.catalog
            .replacingOccurrences(of: "\"book a meeting room for tomorrow\"", with: "\"reserve a conference room\"")
            .replacingOccurrences(of: "Create a leave request for some days.", with: "Ask for days off."))
        let outcome = await s.host.reload()
        #expect(s.provider.passages.sorted() == ["ask for days off.", "reserve a conference room"])
        guard case .reloaded(let version, let embedded) = outcome else {
            Issue.record("expected a reload, got \(outcome)")
            return
        }
        #expect(embedded == 2)
        #expect(version != before)
        #expect(s.host.router.catalogVersion == version)
        #expect(s.host.router.catalog.action("room.book")?.seeds.last == "reserve a conference room")
        #expect(s.host.stats.reloads == 1)
    }

    @Test func addedActionIsEmbeddedAloneAndRouted() async throws {
        let s = try await Setup()
        defer { s.folder.remove() }
        s.provider.reset()
        try s.folder.write("catalog.yaml", Fixture.catalog + """

              - id: visitor.register
                domain: facilities
                intent_type: create
                seeds: ["đăng ký khách đến văn phòng", "register a visitor for tomorrow"]
            """)
        // route() notices the change itself (check interval 0) before routing.
        let result = try await s.host.route("I have a visitor coming tomorrow, please register him")
        #expect(s.provider.passages.sorted() == ["register a visitor for tomorrow", "đăng ký khách đến văn phòng"])
        #expect(result.topActions.first?.actionId == "visitor.register")
        #expect(s.host.health.actions == 4)
    }

    @Test func removedActionDisappearsWithoutEmbedding() async throws {
        let s = try await Setup()
        defer { s.folder.remove() }
        s.provider.reset()
        let catalog = Fixture.catalog.components(separatedBy: "  - id: password.reset")[0]
        try s.folder.write("catalog.yaml", catalog)
        let outcome = await s.host.reload()
        guard case .reloaded(_, let embedded) = outcome else {
            Issue.record("expected a reload, got \(outcome)")
            return
        }
        #expect(embedded == 0)
        #expect(s.provider.passages.isEmpty)
        #expect(s.host.router.catalog.action("password.reset") == nil)
        #expect(s.host.router.seeds.rowCount == 7)
    }

    @Test func rulesOnlyChangeEmbedsNothingButChangesTheVersion() async throws {
        let s = try await Setup()
        defer { s.folder.remove() }
        let before = s.host.router.catalogVersion
        s.provider.reset()
        try s.folder.write("rules.yaml", Fixture.rules + "\n  password.reset:\n    keywords: [mật khẩu]\n")
        let outcome = await s.host.reload()
        #expect(outcome == .reloaded(catalogVersion: s.host.router.catalogVersion, embeddedTexts: 0))
        #expect(s.host.router.catalogVersion != before)
        #expect(s.provider.passages.isEmpty)
    }

    @Test func brokenFileKeepsTheOldCatalogAndReportsTheError() async throws {
        let s = try await Setup()
        defer { s.folder.remove() }
        let version = s.host.router.catalogVersion
        try s.folder.write("rules.yaml", "rules:\n  room.book:\n    patterns: ['dat (phong']\n")
        let outcome = await s.host.reload()
        guard case .failed(let message) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(message.contains("rules.yaml") && message.contains("room.book") && message.contains("patterns[0]"))
        #expect(s.host.router.catalogVersion == version)
        #expect(s.host.health.lastReloadError == message)
        #expect(!s.host.health.filesLoaded)
        #expect(s.host.stats.reloadErrors == 1)
        // Still serving the old catalog.
        let result = try await s.host.route("đặt phòng họp lúc 3 giờ chiều mai")
        #expect(result.topActions.first?.actionId == "room.book")
        #expect(result.catalogVersion == version)
        // The same broken file is not parsed again on every check.
        #expect(await s.host.reload() == .unchanged)
        #expect(s.host.stats.reloadErrors == 1)

        // Invalid YAML in the catalog: same story.
        try s.folder.write("catalog.yaml", "actions: [oops\n")
        guard case .failed(let yamlMessage) = await s.host.reload() else {
            Issue.record("expected a failure")
            return
        }
        #expect(yamlMessage.contains("catalog.yaml"))

        // Fixed: the error clears.
        try s.folder.write("catalog.yaml", Fixture.catalog)
        try s.folder.write("rules.yaml", Fixture.rules)
        let fixed = await s.host.reload()
        #expect(fixed == .unchanged)            // back to the serving content: nothing to rebuild
        #expect(s.host.health.lastReloadError == nil)
        #expect(s.host.router.catalogVersion == version)
    }

    /// An unchanged rules file is not parsed again on reload, but it is checked again when the
    /// catalog's actions change: a rule for an action that is gone is still an error.
    @Test func unchangedRulesAreCheckedAgainstAChangedCatalog() async throws {
        let s = try await Setup()
        defer { s.folder.remove() }
        let version = s.host.router.catalogVersion
        let parts = Fixture.catalog.components(separatedBy: "  - id: room.book")
        let withoutRoom = parts[0] + "  - id: password.reset" + parts[1].components(separatedBy: "  - id: password.reset")[1]
        try s.folder.write("catalog.yaml", withoutRoom)
        guard case .failed(let message) = await s.host.reload() else {
            Issue.record("expected a failure")
            return
        }
        #expect(message.contains("rules.yaml") && message.contains("room.book"))
        #expect(s.host.router.catalogVersion == version)
    }

    @Test func deletedFileIsAnErrorAndTheOldCatalogServes() async throws {
        let s = try await Setup()
        defer { s.folder.remove() }
        try FileManager.default.removeItem(atPath: s.folder.rules)
        guard case .failed(let message) = await s.host.reload() else {
            Issue.record("expected a failure")
            return
        }
        #expect(message.contains("rules.yaml"))
        #expect(s.host.health.actions == 3)
    }

    @Test func rewritingTheSameBytesRebuildsNothing() async throws {
        let s = try await Setup()
        defer { s.folder.remove() }
        s.provider.reset()
        try s.folder.write("catalog.yaml", Fixture.catalog)  // new inode and mtime, same content
        #expect(await s.host.reload() == .unchanged)
        #expect(s.host.stats.reloads == 0)
        #expect(s.provider.passages.isEmpty)
    }

    @Test func filesAreLookedAtOncePerInterval() async throws {
        let s = try await Setup(options: RouterHost.Options(reloadCheckInterval: .seconds(3600)))
        defer { s.folder.remove() }
        let version = s.host.router.catalogVersion
        try s.folder.write("rules.yaml", Fixture.rules + "\n  password.reset:\n    keywords: [mật khẩu]\n")
        _ = try await s.host.route("quên mật khẩu")
        #expect(s.host.router.catalogVersion == version)   // not due yet
        #expect(await s.host.reload(force: false) == .skipped)
        guard case .reloaded = await s.host.reload(force: true) else {
            Issue.record("a forced check reloads")
            return
        }
        #expect(s.host.router.catalogVersion != version)
    }

    @Test func requestsDuringAReloadSeeOneCatalogOrTheOther() async throws {
        let s = try await Setup()
        defer { s.folder.remove() }
        let old = s.host.router.catalogVersion
        try s.folder.write("catalog.yaml", Fixture.catalog.replacingOccurrences(of: "\"quên mật khẩu\"", with: "\"tôi quên mật khẩu rồi\""))
        let versions = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<8 {
                group.addTask { try await s.host.route("quên mật khẩu \(i)").catalogVersion }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        let new = s.host.router.catalogVersion
        #expect(new != old)
        #expect(versions.allSatisfy { $0 == old || $0 == new })
        #expect(s.host.stats.reloads == 1)
    }

    @Test func resultsAreCachedByTextAndVersion() async throws {
        let s = try await Setup()
        defer { s.folder.remove() }
        s.provider.reset()
        let first = try await s.host.route("Quên  mật khẩu", requestId: "1")
        let second = try await s.host.route("quên mật khẩu", requestId: "2")
        #expect(s.provider.queries.count == 1)
        #expect(second.requestId == "2" && first.requestId == "1")
        #expect(second.topActions == first.topActions)
        #expect(s.host.stats.cacheHits == 1)
        #expect(s.host.stats.requests == 2)
        // A reload changes the version: the next request is scored afresh.
        try s.folder.write("rules.yaml", Fixture.rules + "\n  password.reset:\n    keywords: [mật khẩu]\n")
        let third = try await s.host.route("quên mật khẩu")
        #expect(third.catalogVersion != first.catalogVersion)
        #expect(third.topActions[0].ruleScore > 0)
        #expect(s.provider.queries.count == 2)
    }

    @Test func cacheEntriesExpire() async throws {
        let s = try await Setup(options: RouterHost.Options(reloadCheckInterval: .seconds(3600), cacheTTL: .milliseconds(200)))
        defer { s.folder.remove() }
        s.provider.reset()
        _ = try await s.host.route("reset my password")
        _ = try await s.host.route("reset my password")
        #expect(s.provider.queries.count == 1)
        try await Task.sleep(for: .milliseconds(300))
        _ = try await s.host.route("reset my password")
        #expect(s.provider.queries.count == 2)
        #expect(s.host.stats.cacheHits == 1)
    }

    @Test func cacheIsBoundedLeastRecentlyUsedFirst() async throws {
        let s = try await Setup(options: RouterHost.Options(reloadCheckInterval: .seconds(3600), cacheCapacity: 2))
        defer { s.folder.remove() }
        s.provider.reset()
        _ = try await s.host.route("one")
        _ = try await s.host.route("two")
        _ = try await s.host.route("one")        // "two" is now the least recently used
        _ = try await s.host.route("three")      // evicts "two"
        #expect(s.host.stats.cacheEntries == 2)
        _ = try await s.host.route("one")
        #expect(s.provider.queries == ["one", "two", "three"])
        _ = try await s.host.route("two")
        #expect(s.provider.queries == ["one", "two", "three", "two"])
    }

    @Test func startingWithABrokenFileFails() async throws {
        let folder = ConfigFolder()
        defer { folder.remove() }
        try folder.write("catalog.yaml", "domains: [d]\nactions:\n  - { id: a, domain: x, intent_type: create, seeds: [s] }\n")
        await #expect(throws: ConfigurationError.self) {
            _ = try await RouterHost(paths: RouterConfigurationPaths(catalog: folder.catalog), provider: try Model.embedder())
        }
    }
}
