import Embeddings
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import TestSupport

/// An OpenAI-compatible `/v1/embeddings` on 127.0.0.1 that embeds with a real model in this
/// process, as a TEI or vLLM server running that model would: the texts arrive with the model's
/// role prefix ("query: ", "passage: "), which it reads as the role. Each call can take an extra
/// `perCall + perText × n`, fail with a status, and is recorded.
final class ModelServer: Sendable {
    let model: any EmbeddingProvider
    let perCall: Duration
    let perText: Duration
    let failing = Mutex<Int?>(nil)
    let seen = Mutex<[[String]]>([])

    init(model: any EmbeddingProvider, perCall: Duration = .zero, perText: Duration = .zero) {
        self.model = model
        self.perCall = perCall
        self.perText = perText
    }

    /// Requests that were not the probe set nor the start-up dimension probe.
    var served: [[String]] {
        let probes = Set((ProbeSet.queries.map { "query: " + $0 }) + ProbeSet.passages.map { "passage: " + $0 } + ["passage: dimension probe"])
        return seen.withLock { $0 }.filter { !probes.contains($0[0]) }
    }

    var probeCalls: Int {
        seen.withLock { $0 }.filter { $0[0].hasPrefix("query: ") && ProbeSet.queries.contains(String($0[0].dropFirst(7))) }.count
    }

    func respond(_ request: Request) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 64 << 20)
        let json = (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] ?? [:]
        let inputs = json["input"] as? [String] ?? []
        seen.withLock { $0.append(inputs) }
        try? await Task.sleep(for: perCall + perText * inputs.count)
        if let status = failing.withLock({ $0 }) { return Self.reply(status, #"{"error":{"message":"scripted failure"}}"#) }
        var queries: [(Int, String)] = [], passages: [(Int, String)] = []
        for (i, t) in inputs.enumerated() {
            if t.hasPrefix("query: ") { queries.append((i, String(t.dropFirst(7)))) } else {
                passages.append((i, t.hasPrefix("passage: ") ? String(t.dropFirst(9)) : t))
            }
        }
        var vectors = [[Float]](repeating: [], count: inputs.count)
        var tokens = 0
        for (group, role) in [(queries, EmbeddingRole.query), (passages, .passage)] where !group.isEmpty {
            let out = try await model.embed(group.map(\.1), role: role)
            for ((i, _), e) in zip(group, out) { vectors[i] = e.vector; tokens += e.tokenCount }
        }
        let data = vectors.enumerated().map { i, v in "{\"index\":\(i),\"embedding\":[\(v.map { "\($0)" }.joined(separator: ","))]}" }
        return Self.reply(200, "{\"object\":\"list\",\"data\":[\(data.joined(separator: ","))],\"usage\":{\"prompt_tokens\":\(tokens),\"total_tokens\":\(tokens)}}")
    }

    static func reply(_ status: Int, _ body: String) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// Serves every server given at once while `body` runs; hands it their base URLs in order.
    static func serving<T: Sendable>(_ servers: [ModelServer], _ body: @escaping @Sendable ([String]) async throws -> T) async throws -> T {
        try await nest(servers, 0, [], body)
    }

    private static func nest<T: Sendable>(_ servers: [ModelServer], _ i: Int, _ urls: [String],
                                          _ body: @escaping @Sendable ([String]) async throws -> T) async throws -> T {
        guard i < servers.count else { return try await body(urls) }
        let server = servers[i]
        let router = Router()
        router.post("/v1/embeddings") { request, _ -> Response in try await server.respond(request) }
        return try await serveLocally(router, label: "model-server-\(i)") { port in
            try await nest(servers, i + 1, urls + ["http://127.0.0.1:\(port)"], body)
        }
    }
}

enum Models {
    /// Loads both models and runs each once, so a server's first answer is not slowed by it.
    static func warmUp() async throws {
        _ = try await e5.embed(["warm up"], role: .query)
        _ = try await miniLM.embed(["warm up"], role: .query)
    }

    static let e5: any EmbeddingProvider = {
        try! MultilingualE5Embedder(path: TestPaths.packageRoot + "/.models/multilingual-e5-small", threads: 1)
    }()
    static let miniLM: any EmbeddingProvider = {
        try! MiniLMEmbedder(modelDirectory: TestPaths.packageRoot + "/.models/all-MiniLM-L6-v2", threads: 1)
    }()
    /// The reference's precision: the model's own float32 weights.
    static let miniLMFloat32: any EmbeddingProvider = {
        try! MiniLMEmbedder(modelDirectory: TestPaths.packageRoot + "/.models/all-MiniLM-L6-v2", threads: 1, weights: .float32)
    }()
}
