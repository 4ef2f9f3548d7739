import Embeddings
import Foundation
@testable import IntentRouting
import Testing

@Suite struct SeedVectorFileTests {
    static func fixture() throws -> RouterConfiguration {
        let folder = ConfigFolder()
        defer { folder.remove() }
        try folder.write("catalog.yaml", Fixture.catalog)
        return try RouterConfiguration.load(RouterConfigurationPaths(catalog: folder.catalog))
    }

    /// The fixture catalog's seed vectors, embedded once for the suite.
    static let fixtureFile = Task { () throws -> SeedVectorFile in
        SeedVectorFile(matrix: try await Router.build(try fixture(), provider: try Model.embedder()).router.seeds)
    }

    static func decode(_ bytes: [UInt8]) throws(SeedVectorFile.Problem) -> SeedVectorFile {
        try bytes.withUnsafeBytes { raw in Result { () throws(SeedVectorFile.Problem) in try SeedVectorFile(decoding: raw) } }.get()
    }

    @Test func roundTripKeepsKeysAndVectorsExactly() async throws {
        let file = try await Self.fixtureFile.value
        #expect(file.rowCount == 9)   // 2 descriptions + 7 seeds
        let folder = ConfigFolder()
        defer { folder.remove() }
        let path = folder.path + "/seed-vectors.bin"
        try file.write(to: path)
        let back = try #require(try SeedVectorFile.read(path: path))
        #expect(back.modelId == file.modelId && back.dimension == file.dimension)
        #expect(back.keys == file.keys)
        #expect(back.vectors.map(\.bitPattern) == file.vectors.map(\.bitPattern))
        #expect(back.encoded() == file.encoded())
        #expect(back.keys.contains(SeedKey(actionId: "leave.request", slot: SeedKey.descriptionSlot,
                                           textHash: ContentHash.of("create a leave request for some days."))))
        #expect(try SeedVectorFile.read(path: folder.path + "/missing.bin") == nil)
    }

    @Test func aCurrentFileMeansNothingIsEmbeddedAndScoresAreTheSame() async throws {
        let file = try await Self.fixtureFile.value
        let counting = CountingProvider(try Model.embedder())
        let build = try await Router.build(try Self.fixture(), provider: counting, precomputed: file)
        #expect(counting.passages.isEmpty)
        #expect(build.seeds == SeedMatrix.BuildReport(embedded: 0, reused: 0, fromFile: 9))
        let embedded = try await Router.build(try Self.fixture(), provider: try Model.embedder()).router
        let text = NormalizedText("tôi muốn đặt phòng họp ngày mai")
        let vector = try await counting.embed([text.normalized], role: .query)[0].vector
        #expect(build.router.rank(text, queryVector: vector) == embedded.rank(text, queryVector: vector))
    }

    @Test func anEditedSeedIsAMissAndOnlyItIsEmbedded() async throws {
        let file = try await Self.fixtureFile.value
        let folder = ConfigFolder()
        defer { folder.remove() }
        // Same action, same slot, new text.
        try folder.write("catalog.yaml", Fixture.catalog.replacingOccurrences(of: "\"quên mật khẩu\"", with: "\"tôi quên mật khẩu\""))
        let counting = CountingProvider(try Model.embedder())
        let build = try await Router.build(try RouterConfiguration.load(RouterConfigurationPaths(catalog: folder.catalog)),
                                           provider: counting, precomputed: file)
        #expect(counting.passages == ["tôi quên mật khẩu"])
        #expect(build.seeds.fromFile == 8 && build.seeds.embedded == 1)
    }

    @Test func actionsWithTheSameSeedTextKeepARowEach() async throws {
        func catalog(_ actions: [(String, [String])]) throws -> RouterConfiguration {
            try RouterConfiguration(catalog: ActionCatalog(domains: ["d"], actions: actions.map {
                ActionDefinition(id: $0.0, domain: "d", intentType: "create", seeds: $0.1)
            }))
        }
        let shared = "book a meeting room"
        let counting = CountingProvider(try Model.embedder())
        let first = try await Router.build(try catalog([("room.book", [shared, "reserve the boardroom"]), ("desk.book", ["book a desk"])]),
                                           provider: counting)
        let file = SeedVectorFile(matrix: first.router.seeds)
        // desk.book gains the text room.book already has: a new key, so a new row, embedded.
        counting.reset()
        let second = try await Router.build(
            try catalog([("room.book", [shared, "reserve the boardroom"]), ("desk.book", ["book a desk", shared])]),
            provider: counting, precomputed: file)
        #expect(counting.passages == [shared])
        #expect(second.seeds.fromFile == 3 && second.seeds.embedded == 1)
        let rows = SeedVectorFile(matrix: second.router.seeds)
        let keys = rows.keys.filter { $0.textHash == ContentHash.of(shared) }
        #expect(keys == [SeedKey(actionId: "room.book", slot: 0, textHash: ContentHash.of(shared)),
                         SeedKey(actionId: "desk.book", slot: 1, textHash: ContentHash.of(shared))])
        // Both rows survive a round trip through the file, apart.
        let back = try Self.decode(rows.encoded())
        #expect(back.rowCount == 4 && Set(back.keys).count == 4)
    }

    @Test func brokenFilesAreRefusedWithAReason() async throws {
        let good = try await Self.fixtureFile.value.encoded()
        func problem(_ bytes: [UInt8]) -> SeedVectorFile.Problem? {
            do {
                _ = try Self.decode(bytes)
                return nil
            } catch {
                return error
            }
        }
        #expect(problem(good) == nil)
        #expect(problem([]) == .corrupt("not a seed vector file (bad magic)"))
        #expect(problem(Array("not a seed vector file at all".utf8)) == .corrupt("not a seed vector file (bad magic)"))
        var version = good
        version[8] = 7
        #expect(problem(version) == .unsupportedVersion(7))
        // Cut short, or with bytes after the end.
        guard case .corrupt = problem(Array(good.dropLast(4))) else { Issue.record("truncated file accepted"); return }
        guard case .corrupt = problem(good + [0, 0, 0, 0]) else { Issue.record("overlong file accepted"); return }
        guard case .corrupt = problem(Array(good.prefix(30))) else { Issue.record("header-only file accepted"); return }
        // A row count the file cannot hold.
        var count = good
        count.replaceSubrange(16..<20, with: [0xFF, 0xFF, 0xFF, 0x7F])
        guard case .corrupt = problem(count) else { Issue.record("huge row count accepted"); return }
        // Garbage in the vector block: the last float of the last row becomes NaN.
        var nan = good
        nan.replaceSubrange((good.count - 4)..., with: [0x00, 0x00, 0xC0, 0x7F])
        guard case .corrupt(let reason) = problem(nan) else { Issue.record("NaN vector accepted"); return }
        #expect(reason.contains("password.reset") && reason.contains("not a unit vector"))
    }

    @Test func hostIgnoresFilesForAnotherModelOrDimensionOrCorruptOnes() async throws {
        let folder = ConfigFolder()
        defer { folder.remove() }
        try folder.write("catalog.yaml", Fixture.catalog)
        let path = folder.path + "/seed-vectors.bin"
        let paths = RouterConfigurationPaths(catalog: folder.catalog, seedVectors: path)
        let model = try Model.embedder()
        let configuration = try Self.fixture()
        let candidates: [(String, [UInt8])] = [
            ("another model", SeedVectorFile(matrix: try await Router.build(configuration, provider: Renamed(model, id: "other/model")).router.seeds).encoded()),
            ("another dimension", SeedVectorFile(matrix: try await Router.build(configuration, provider: Truncated(model, dimension: 64)).router.seeds).encoded()),
            ("corrupt", Array(try await Self.fixtureFile.value.encoded().dropLast(100))),
        ]
        for (name, bytes) in candidates {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let counting = CountingProvider(model)
            let host = try await RouterHost(paths: paths, provider: counting)
            let load = host.stats.lastLoad
            #expect(counting.passages.count == 9, "\(name)")
            #expect(load.fileRows == 0 && load.embeddedTexts == 9, "\(name)")
            #expect(load.seedVectorFile?.contains("ignored") == true, "\(name): \(load.seedVectorFile ?? "nil")")
            #expect(try await host.route("reset my password").topActions.first?.actionId == "password.reset", "\(name)")
        }
        // The right file: nothing embedded.
        try await Self.fixtureFile.value.write(to: path)
        let counting = CountingProvider(model)
        let host = try await RouterHost(paths: paths, provider: counting)
        #expect(counting.passages.isEmpty)
        #expect(host.stats.lastLoad.fileRows == 9)
        #expect(host.stats.lastLoad.seedVectorFile == "\(path), 9 vectors")
    }

    @Test func hostWithoutTheFileEmbedsAndSaysSo() async throws {
        let folder = ConfigFolder()
        defer { folder.remove() }
        try folder.write("catalog.yaml", Fixture.catalog)
        let path = folder.path + "/seed-vectors.bin"
        let counting = CountingProvider(try Model.embedder())
        let host = try await RouterHost(paths: RouterConfigurationPaths(catalog: folder.catalog, seedVectors: path), provider: counting)
        #expect(counting.passages.count == 9)
        #expect(host.stats.lastLoad.seedVectorFile == "\(path) not found, seeds embedded")
    }

    @Test func reloadEmbedsOnlyTheChangedActionsChangedSeeds() async throws {
        let folder = ConfigFolder()
        defer { folder.remove() }
        try folder.write("catalog.yaml", Fixture.catalog)
        try folder.write("router.yaml", Fixture.settings)
        let path = folder.path + "/seed-vectors.bin"
        try await Self.fixtureFile.value.write(to: path)
        let counting = CountingProvider(try Model.embedder())
        let host = try await RouterHost(paths: RouterConfigurationPaths(catalog: folder.catalog, settings: folder.settings, seedVectors: path),
                                        provider: counting, options: RouterHost.Options(reloadCheckInterval: .zero))
        #expect(counting.passages.isEmpty)
        // One action edited: one seed reworded, one added; the other actions untouched.
        try folder.write("catalog.yaml", Fixture.catalog.replacingOccurrences(
            of: "seeds: [\"đặt phòng họp lúc 3 giờ\", \"book a meeting room for tomorrow\"]",
            with: "seeds: [\"đặt phòng họp lúc 4 giờ\", \"book a meeting room for tomorrow\", \"reserve the boardroom\"]"))
        guard case .reloaded(_, let embedded) = await host.reload() else {
            Issue.record("expected a reload")
            return
        }
        #expect(embedded == 2)
        #expect(counting.passages.sorted() == ["reserve the boardroom", "đặt phòng họp lúc 4 giờ"])
        let load = host.stats.lastLoad
        #expect(load.reusedRows == 8 && load.fileRows == 0 && load.seedRows == 10)
    }

    @Test func reloadReadsTheSeedVectorFileAgainWhenItChanged() async throws {
        let folder = ConfigFolder()
        defer { folder.remove() }
        let edited = Fixture.catalog.replacingOccurrences(of: "\"reset my password\"", with: "\"I forgot my password\"")
        // The file for the edited catalog, as a deployment would write it beside the new catalog.
        try folder.write("catalog.yaml", edited)
        let editedFile = SeedVectorFile(matrix: try await Router.build(
            try RouterConfiguration.load(RouterConfigurationPaths(catalog: folder.catalog)), provider: try Model.embedder()).router.seeds)
        try folder.write("catalog.yaml", Fixture.catalog)
        let path = folder.path + "/seed-vectors.bin"
        let counting = CountingProvider(try Model.embedder())
        let host = try await RouterHost(paths: RouterConfigurationPaths(catalog: folder.catalog, seedVectors: path), provider: counting)
        #expect(counting.passages.count == 9)   // no file yet
        counting.reset()
        try editedFile.write(to: path)
        try folder.write("catalog.yaml", edited)
        guard case .reloaded(_, let embedded) = await host.reload() else {
            Issue.record("expected a reload")
            return
        }
        #expect(embedded == 0)
        #expect(counting.passages.isEmpty)
        #expect(host.stats.lastLoad.fileRows == 1 && host.stats.lastLoad.reusedRows == 8)
    }
}

/// The real model under another name: its vectors must not pass for the real model's.
struct Renamed: EmbeddingProvider {
    let base: any EmbeddingProvider
    let modelId: String
    init(_ base: any EmbeddingProvider, id: String) {
        self.base = base
        modelId = id
    }
    var dimension: Int { base.dimension }
    var maxInputTokens: Int { base.maxInputTokens }
    func embed(_ texts: [String], role: EmbeddingRole) async throws -> [Embedding] { try await base.embed(texts, role: role) }
}

/// The real model's vectors cut to `dimension` and renormalised: same model id, another size.
struct Truncated: EmbeddingProvider {
    let base: any EmbeddingProvider
    let dimension: Int
    init(_ base: any EmbeddingProvider, dimension: Int) {
        self.base = base
        self.dimension = dimension
    }
    var modelId: String { base.modelId }
    var maxInputTokens: Int { base.maxInputTokens }
    func embed(_ texts: [String], role: EmbeddingRole) async throws -> [Embedding] {
        try await base.embed(texts, role: role).map { e in
            var e = e
            let v = Array(e.vector.prefix(dimension))
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            e.vector = v.map { $0 / norm }
            return e
        }
    }
}
