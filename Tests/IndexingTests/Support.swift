import Documents
import DocumentStore
import Embeddings
import Foundation
import Indexing
import Ingestion
import Logging
import PostgresStore
import SQLiteStore
import TestSupport

/// The stores the worker tests run against; each test gets an empty database of its own and
/// can open a second connection to it (a reader beside the worker).
enum Backend: String, CaseIterable, CustomStringConvertible, Sendable {
    case sqlite
    case postgres

    var description: String { rawValue }

    static let migrations = TestPaths.packageRoot + "/infra/migrations"

    /// A fresh store and a way to open another connection to the same data.
    func fresh() throws -> (store: any Store, reopen: @Sendable () throws -> any Store) {
        switch self {
        case .sqlite:
            let path = TestPaths.temporaryDirectory("index-store") + "/rag.sqlite"
            let open: @Sendable () throws -> any Store = { try SQLiteStore(path: path, migrationsDirectory: Self.migrations) }
            let store = try open()
            try store.migrate()
            return (store, open)
        case .postgres:
            let url = try PostgresTestServer.url(schemaPrefix: "i_")
            let schema = PostgresTestServer.schemaName(prefix: "i_")
            let open: @Sendable () throws -> any Store = { try PostgresStore(url: url, schema: schema, migrationsDirectory: Self.migrations) }
            let store = try open()
            try store.migrate()
            return (store, open)
        }
    }
}

/// The real all-MiniLM-L6-v2, loaded once for the whole suite.
enum Model {
    static let miniLM: MiniLMEmbedder = {
        do { return try MiniLMEmbedder(modelDirectory: TestPaths.packageRoot + "/.models/all-MiniLM-L6-v2") } catch {
            fatalError("IndexingTests need the model in .models/all-MiniLM-L6-v2 (scripts/model.sh): \(error)")
        }
    }()
    static let counter = TokenCounter { miniLM.tokenizer.wordPieces(String($0)).count }
}

/// Counts the texts a provider is asked to embed (reuse shows as texts never sent).
final class CountingEmbedder: EmbeddingProvider, @unchecked Sendable {
    let base: any EmbeddingProvider
    private let lock = NSLock()
    private var _texts = 0
    init(_ base: any EmbeddingProvider) { self.base = base }
    var modelId: String { base.modelId }
    var dimension: Int { base.dimension }
    var maxInputTokens: Int { base.maxInputTokens }
    var texts: Int { lock.withLock { _texts } }
    func embed(_ texts: [String], role: EmbeddingRole) async throws -> [Embedding] {
        lock.withLock { _texts += texts.count }
        return try await base.embed(texts, role: role)
    }
}

/// A store, a blob folder, the upload service and a worker over them, as the functions wire them.
struct WorkerHarness: Sendable {
    let store: any Store
    let reopen: @Sendable () throws -> any Store
    let blobs: FileBlobStore
    let uploads: UploadService
    let embedder: CountingEmbedder
    let configuration: WorkerConfiguration

    init(_ backend: Backend, embedder: (any EmbeddingProvider)? = nil, configure: (inout WorkerConfiguration) -> Void = { _ in }) throws {
        let (store, reopen) = try backend.fresh()
        self.store = store
        self.reopen = reopen
        blobs = FileBlobStore(root: TestPaths.temporaryDirectory("index-blobs") + "/blobs")
        uploads = UploadService(store: store, blobs: blobs)
        self.embedder = CountingEmbedder(embedder ?? Model.miniLM)
        var c = WorkerConfiguration()
        // Generous: a loaded CI machine can take many seconds per embedding batch.
        c.lease = 300
        c.backoff = Backoff(base: 0, cap: 0)
        configure(&c)
        configuration = c
    }

    init(store: any Store, reopen: @escaping @Sendable () throws -> any Store, blobs: FileBlobStore, uploads: UploadService,
         embedder: CountingEmbedder, configuration: WorkerConfiguration) {
        self.store = store
        self.reopen = reopen
        self.blobs = blobs
        self.uploads = uploads
        self.embedder = embedder
        self.configuration = configuration
    }

    var pipeline: IndexingPipeline {
        IndexingPipeline(store: store, blobs: blobs, embedder: embedder, tokenCounter: Model.counter, configuration: configuration)
    }

    func worker(_ owner: String = "test-worker") -> QueueWorker {
        QueueWorker(pipeline: pipeline, owner: owner, logger: Logger(label: "indexing-tests"))
    }

    var planner: ReembedPlanner { ReembedPlanner(store: store, model: embedder.modelId, configuration: configuration) }

    func drain() async -> DrainReport {
        await worker().drain(until: .now + .seconds(600))
    }

    @discardableResult
    func upload(_ text: String, org: OrgID = "acme", title: String? = nil, filename: String = "doc.txt",
                contentType: String = "text/plain") throws -> UploadService.Outcome {
        try upload(Array(text.utf8), org: org, title: title, filename: filename, contentType: contentType)
    }

    @discardableResult
    func upload(_ bytes: [UInt8], org: OrgID = "acme", title: String? = nil, filename: String, contentType: String) throws -> UploadService.Outcome {
        try uploads.upload(org: org, UploadInput(bytes: bytes, declaredContentType: contentType, filename: filename, title: title))
    }
}
