import Embeddings
import Foundation
import IntentRouting
import Synchronization
import TestSupport

/// The real model, loaded once for the target (the project uses test doubles only for external
/// services; the embedder is local).
enum Model {
    static let directory: String = {
        if let dir = ProcessInfo.processInfo.environment[EmbeddingModelDirectory.environmentVariable], !dir.isEmpty { return dir }
        return (TestPaths.packageRoot as NSString).appendingPathComponent(EmbeddingModelDirectory.miniLMPath)
    }()

    static let loaded: Result<MiniLMEmbedder, EmbeddingError> = Result { () throws(EmbeddingError) in
        try MiniLMEmbedder(modelDirectory: directory)
    }

    static func embedder() throws -> MiniLMEmbedder { try loaded.get() }
}

/// The real provider, counting what it is asked to embed: proves which seeds a rebuild embedded.
final class CountingProvider: EmbeddingProvider {
    let base: any EmbeddingProvider
    private let log = Mutex<[(texts: [String], role: EmbeddingRole)]>([])

    init(_ base: any EmbeddingProvider) { self.base = base }

    var modelId: String { base.modelId }
    var dimension: Int { base.dimension }
    var maxInputTokens: Int { base.maxInputTokens }

    func embed(_ texts: [String], role: EmbeddingRole) async throws -> [Embedding] {
        log.withLock { $0.append((texts, role)) }
        return try await base.embed(texts, role: role)
    }

    /// Texts embedded as passages (seeds and descriptions), in order.
    var passages: [String] { log.withLock { $0.filter { $0.role == .passage }.flatMap(\.texts) } }
    var queries: [String] { log.withLock { $0.filter { $0.role == .query }.flatMap(\.texts) } }
    func reset() { log.withLock { $0.removeAll() } }
}

/// The shipped configuration under config/routing.
enum Shipped {
    static let directory = TestPaths.packageRoot + "/config/routing"
    static let paths = RouterConfigurationPaths(catalog: directory + "/catalog.yaml", rules: directory + "/rules.yaml",
                                                settings: directory + "/router.yaml")
    static let devset = directory + "/devset.jsonl"

    /// Built once: embedding the catalog takes about a second.
    static let router = Task { () throws -> Router in
        try await Router.build(try RouterConfiguration.load(paths), provider: try Model.embedder()).router
    }
}

/// A folder of configuration files a test can rewrite.
struct ConfigFolder {
    let path: String

    init() { path = TestPaths.temporaryDirectory("intent-routing") }

    var catalog: String { path + "/catalog.yaml" }
    var rules: String { path + "/rules.yaml" }
    var settings: String { path + "/router.yaml" }
    var paths: RouterConfigurationPaths { RouterConfigurationPaths(catalog: catalog, rules: rules, settings: settings) }

    func write(_ name: String, _ text: String) throws {
        // Write-and-rename, as a deployment tool would, so a reader never sees half a file.
        try text.write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Small catalogs for tests, as YAML.
enum Fixture {
    static let catalog = """
        domains: [leave, facilities, it]
        actions:
          - id: leave.request
            domain: leave
            intent_type: create
            title: { vi: "xin nghỉ phép", en: "request leave" }
            description: Create a leave request for some days.
            seeds: ["xin nghỉ phép ngày mai", "I want to take a day off", "nghỉ ốm hôm nay"]
          - id: room.book
            domain: facilities
            intent_type: create
            title: { vi: "đặt phòng họp", en: "book a meeting room" }
            description: Book a meeting room.
            seeds: ["đặt phòng họp lúc 3 giờ", "book a meeting room for tomorrow"]
          - id: password.reset
            domain: it
            intent_type: update
            title: { vi: "đặt lại mật khẩu", en: "reset a password" }
            seeds: ["quên mật khẩu", "reset my password"]
        """

    static let rules = """
        entities:
          date: ['\\b(ngay mai|hom nay|tomorrow|today)\\b']
        rules:
          leave.request:
            keywords: { nghỉ phép: 0.7 }
            negative_keywords: [hủy]
          room.book:
            keywords: { phòng họp: 0.6 }
        """

    static let settings = """
        reload: { check_interval_seconds: 0 }
        """
}
