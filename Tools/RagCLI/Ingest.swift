import Crypto
import Foundation
import JSON

/// `rag ingest PATH...`: uploads a folder's documents, shows progress, waits until each is
/// indexed or failed, and reports. Resumable: a file whose bytes the org already has (the same
/// SHA-256 as a live document) is not sent again, so a second run after an interruption sends
/// only what is missing.
struct IngestRun {
    let api: APIClient
    let progress: Progress
    let concurrency: Int
    let wait: Bool
    let timeout: Duration

    /// The types the upload endpoint indexes, by extension (the server sniffs the bytes anyway;
    /// this only decides what a folder walk sends).
    static let types: [String: String] = [
        "txt": "text/plain", "text": "text/plain", "md": "text/markdown", "markdown": "text/markdown",
        "html": "text/html", "htm": "text/html", "pdf": "application/pdf", "json": "application/json",
    ]

    struct File: Sendable {
        var path: String
        var display: String
        var contentType: String
    }

    struct Outcome: Sendable {
        var file: File
        var documentId: String?
        var jobId: String?
        /// Set when the upload was refused or the document failed.
        var failure: String?
        var ready = false
        var alreadyThere = false
    }

    /// The files under the paths, recursively, hidden ones left out; unsupported types are
    /// reported (not sent).
    static func collect(_ paths: [String]) throws -> (files: [File], unsupported: [String]) {
        var files: [File] = []
        var unsupported: [String] = []
        let fm = FileManager.default
        func consider(_ path: String, display: String) {
            let ext = (path as NSString).pathExtension.lowercased()
            if let type = types[ext] { files.append(File(path: path, display: display, contentType: type)) } else { unsupported.append(display) }
        }
        for root in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: root, isDirectory: &isDir) else { throw APIClient.Failure(status: 0, description: "no such file or folder: \(root)") }
            if !isDir.boolValue {
                consider(root, display: root)
                continue
            }
            guard let walker = fm.enumerator(atPath: root) else { continue }
            var relative: [String] = []
            while let item = walker.nextObject() as? String {
                if item.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
                    if (walker.fileAttributes?[.type] as? FileAttributeType) == .typeDirectory { walker.skipDescendants() }
                    continue
                }
                if (walker.fileAttributes?[.type] as? FileAttributeType) == .typeRegular { relative.append(item) }
            }
            for item in relative.sorted() { consider((root as NSString).appendingPathComponent(item), display: item) }
        }
        return (files, unsupported)
    }

    /// Every live document's SHA-256 and status in the org (all pages).
    func existing() async throws -> [String: (id: String, status: String)] {
        var out: [String: (id: String, status: String)] = [:]
        var cursor: String?
        repeat {
            let q = cursor.map { "&cursor=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? ""
            let page = try await api.get("/v1/documents?limit=100" + q)
            for d in page["documents"]?.arrayValue ?? [] {
                if let sha = d["sha256"]?.stringValue, let id = d["id"]?.stringValue { out[sha] = (id, d["status"]?.stringValue ?? "") }
            }
            cursor = page["next_cursor"]?.stringValue
        } while cursor != nil
        return out
    }

    func run(_ files: [File]) async throws -> [Outcome] {
        progress.update { $0.total = files.count }
        let known = try await existing()
        var outcomes = [Outcome?](repeating: nil, count: files.count)
        // A bounded number of uploads in flight: enough to hide latency, few enough not to
        // throttle a small deployment (the function's concurrency).
        try await withThrowingTaskGroup(of: (Int, Outcome).self) { group in
            var next = 0
            func start() {
                guard next < files.count else { return }
                let i = next
                next += 1
                group.addTask { (i, await self.send(files[i], known: known)) }
            }
            for _ in 0..<max(1, concurrency) { start() }
            while let (i, outcome) = try await group.next() {
                outcomes[i] = outcome
                start()
            }
        }
        var results = outcomes.compactMap { $0 }
        if wait { results = try await waitForIndexing(results) }
        progress.finish()
        return results
    }

    private func send(_ file: File, known: [String: (id: String, status: String)]) async -> Outcome {
        var outcome = Outcome(file: file)
        guard let bytes = FileManager.default.contents(atPath: file.path) else {
            outcome.failure = "cannot read the file"
            progress.update { $0.failed += 1; $0.skipped += 1 }
            progress.event("failed  \(file.display): cannot read the file")
            return outcome
        }
        let sha = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        if let have = known[sha] {
            outcome.documentId = have.id
            outcome.alreadyThere = true
            outcome.ready = have.status == "ready"
            if have.status == "failed" { outcome.failure = "already in the org, and its indexing had failed (document \(have.id))" }
            progress.update { c in
                c.skipped += 1
                if have.status == "failed" { c.failed += 1 }
            }
            progress.event("skipped \(file.display): already in the org (\(have.status))")
            return outcome
        }
        do {
            let (status, body) = try await api.upload(bytes, filename: (file.path as NSString).lastPathComponent, contentType: file.contentType)
            outcome.documentId = body["document_id"]?.stringValue
            outcome.jobId = body["job_id"]?.stringValue
            outcome.alreadyThere = status == 200
            outcome.ready = body["status"]?.stringValue == "ready"
            progress.update { $0.uploaded += 1; if outcome.ready { $0.ready += 1 } }
            progress.event("sent    \(file.display) -> \(outcome.documentId ?? "?")")
        } catch {
            outcome.failure = "\(error)"
            progress.update { $0.skipped += 1; $0.failed += 1 }
            progress.event("failed  \(file.display): \(error)")
        }
        return outcome
    }

    /// Polls the documents still pending until each is ready or failed, or the timeout passes.
    private func waitForIndexing(_ outcomes: [Outcome]) async throws -> [Outcome] {
        var results = outcomes
        let deadline = ContinuousClock.now + timeout
        var delay = Duration.milliseconds(200)
        while true {
            let pending = results.indices.filter { results[$0].failure == nil && !results[$0].ready && results[$0].documentId != nil }
            if pending.isEmpty { return results }
            if ContinuousClock.now >= deadline {
                for i in pending { results[i].failure = "still pending after \(timeout)" }
                return results
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(2))
            for i in pending {
                let d = try await api.get("/v1/documents/\(results[i].documentId!)")
                switch d["status"]?.stringValue {
                case "ready":
                    results[i].ready = true
                    progress.update { $0.ready += 1 }
                    progress.event("ready   \(results[i].file.display)")
                case "failed":
                    results[i].failure = await reason(results[i])
                    progress.update { $0.failed += 1 }
                    progress.event("failed  \(results[i].file.display): \(results[i].failure!)")
                default: break
                }
            }
        }
    }

    /// Why indexing failed: the job's recorded error.
    private func reason(_ o: Outcome) async -> String {
        guard let job = o.jobId, let j = try? await api.get("/v1/jobs/\(job)"), let error = j["error"]?.stringValue else {
            return "indexing failed"
        }
        return error
    }
}
