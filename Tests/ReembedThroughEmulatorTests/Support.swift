import Foundation
import TestSupport

/// The store an emulator test runs on: a SQLite file in its folder, or a fresh schema of the
/// real Postgres (through libpq's `options`, as a deployment would name one).
enum StoreKind: String, CaseIterable, CustomStringConvertible, Sendable {
    case sqlite, postgres
    var description: String { rawValue }

    func environment() throws -> [String: String] {
        switch self {
        case .sqlite: [:]
        case .postgres: try EmulatorStore.postgresEnvironment(schemaPrefix: "e_")
        }
    }
}

/// The local embeddings API (`fake_embeddings.py`, OpenAI's wire format) as a child process.
final class FakeEmbeddings: @unchecked Sendable {
    let child: ChildProcess
    let baseURL: String

    init(mode: String) async throws {
        let script = TestPaths.packageRoot + "/Tests/ReembedThroughEmulatorTests/fake_embeddings.py"
        child = try ChildProcess("/usr/bin/env", arguments: ["python3", script, mode])
        guard let line = await child.readLine(timeout: 30), let port = Int(line.trimmingCharacters(in: .whitespaces)) else {
            child.signal(SIGKILL)
            throw BundleEmulator.StartError(description: "fake embeddings server did not start: \(child.stderr.joined(separator: "\n"))")
        }
        baseURL = "http://127.0.0.1:\(port)"
    }

    /// What a function needs to embed with it: OpenAI's text-embedding-3-small cut to 256 dimensions.
    var environment: [String: String] {
        ["EMBEDDING_PROVIDER": "openai", "EMBEDDING_BASE_URL": baseURL, "EMBEDDING_API_KEY": "test-key",
         "EMBEDDING_MODEL": "text-embedding-3-small", "EMBEDDING_DIMENSIONS": "256"]
    }

    func stop() { child.signal(SIGKILL) }
}

extension BundleEmulator {
    /// Waits until the document is `ready` (or `failed`): its detail.
    func settled(_ id: String, token: String, timeout: Double = 120) async throws -> [String: Any]? {
        try await eventually(timeout: timeout, interval: 0.1) {
            let r = try await json("GET", "/v1/documents/\(id)", token: token)
            let status = r.json["status"] as? String
            return status == "ready" || status == "failed" ? r.json : nil
        }
    }

    func job(_ id: String, token: String) async throws -> [String: Any] {
        try await json("GET", "/v1/jobs/\(id)", token: token).json
    }

    func upload(_ bytes: [UInt8], filename: String, type: String, token: String, title: String? = nil) async throws -> TestHTTPReply {
        try await request("POST", "/v1/documents", body: MultipartBody.make(file: bytes, filename: filename, contentType: type, title: title),
                          headers: ["Content-Type": MultipartBody.contentType, "Authorization": "Bearer \(token)"])
    }

    /// Chunk ids a search returns for one document (dense, up to 100: every chunk of a small one).
    func chunkIds(of id: String, token: String) async throws -> Set<String> {
        let r = try await json("POST", "/v1/search", token: token,
                               ["query": "policy", "mode": "dense", "limit": 100, "filters": ["document_ids": [id]]])
        return Set(((r.json["results"] as? [[String: Any]]) ?? []).compactMap { $0["chunk_id"] as? String })
    }

    /// Pids of this emulator's warm processes of one function (their working folder is ours).
    func processes(of product: String) -> [Int32] {
        let exe = URL(fileURLWithPath: TestPaths.executable(product)).resolvingSymlinksInPath().path
        let cwd = URL(fileURLWithPath: data).resolvingSymlinksInPath().path
        let fm = FileManager.default
        return ((try? fm.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }.filter { pid in
            (try? fm.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) == exe
                && (try? fm.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")) == cwd
        }
    }
}
