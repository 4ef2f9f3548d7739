import ArgumentParser
import Foundation
import HTTPClient
import JSON

/// `rag`: the HTTP API from a terminal, against a local emulator or a deployed stack.
@main
struct Rag: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rag",
        abstract: "Ingest documents, search, ask, and list jobs and documents through the HTTP API.",
        discussion: """
        Connects to --url (default $RAG_URL, else http://127.0.0.1:3000) with --token (default
        $RAG_TOKEN); against a local emulator, --org ORG asks it for a development token instead.
        """,
        subcommands: [Ingest.self, Search.self, Ask.self, Jobs.self, Docs.self])
}

struct Connection: ParsableArguments {
    @Option(help: "The API's base URL (a local emulator or a deployed stack's ApiUrl).")
    var url = ProcessInfo.processInfo.environment["RAG_URL"] ?? "http://127.0.0.1:3000"

    @Option(help: "A bearer token with an org_id claim (default: $RAG_TOKEN).")
    var token: String?

    @Option(help: "Against a local emulator: the org to get a development token for.")
    var org: String?

    func client() async throws -> APIClient {
        do { return try await APIClient.connect(url: url, token: token, org: org) } catch let f as APIClient.Failure {
            throw ValidationError(f.description)
        }
    }
}

/// Exits 1 with the message on stderr (the API's refusal, a connection failure).
func failing<T>(_ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch let error as APIClient.Failure {
        FileHandle.standardError.write(Data("rag: \(error.description)\n".utf8))
        throw ExitCode.failure
    }
}

struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upload files and folders (recursively, by type) and wait until each is indexed.",
        discussion: """
        Sends .txt, .md, .html, .pdf and .json files; others are listed and left out. Files whose
        bytes the org already has are not sent again, so a second run resumes an interrupted one.
        Exits 1 when any file was refused or failed to index.
        """)

    @OptionGroup var connection: Connection

    @Argument(help: "Files or folders.")
    var paths: [String]

    @Option(help: "Uploads in flight at once.")
    var concurrency = 4

    @Flag(help: "Return once the files are sent, without waiting for indexing.")
    var noWait = false

    @Option(help: "Seconds to wait for indexing before reporting what is still pending as failed.")
    var timeout = 600.0

    func run() async throws {
        let (files, unsupported) = try await failing { try IngestRun.collect(paths) }
        let api = try await connection.client()
        let progress = Progress()
        for u in unsupported { progress.event("left out \(u): not a type the API indexes") }
        let run = IngestRun(api: api, progress: progress, concurrency: concurrency, wait: !noWait,
                            timeout: .milliseconds(Int64(timeout * 1000)))
        let outcomes = try await failing { try await run.run(files) }
        let failed = outcomes.filter { $0.failure != nil }
        let sent = outcomes.filter { !$0.alreadyThere && $0.documentId != nil }.count
        let already = outcomes.filter(\.alreadyThere).count
        let ready = outcomes.filter(\.ready).count
        print("\(files.count) file(s): \(sent) sent, \(already) already in the org, \(ready) ready, \(failed.count) failed, \(unsupported.count) left out")
        for f in failed { print("  failed: \(f.file.display): \(f.failure!)") }
        if !failed.isEmpty { throw ExitCode.failure }
    }
}

struct Search: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Search the org's documents.")

    @OptionGroup var connection: Connection
    @Argument(help: "The query.") var query: String
    @Option(help: "Results to show.") var limit = 5
    @Option(help: "hybrid, dense or keyword.") var mode: String?
    @Flag(help: "Print the API's JSON.") var json = false

    func run() async throws {
        let api = try await connection.client()
        var body: JSONObject = ["query": .string(query), "limit": .number(Double(limit))]
        if let mode { body["mode"] = .string(mode) }
        let r = try await failing { try await api.post("/v1/search", json: .object(body)) }
        if json { return print(String(decoding: try r.encoded(), as: UTF8.self)) }
        let hits = r["results"]?.arrayValue ?? []
        if hits.isEmpty { print("No results.") }
        for (i, h) in hits.enumerated() {
            let score = h["score"]?.doubleValue.map { String(format: "%.4f", $0) } ?? "-"
            print("\(i + 1). \(h["title"]?.stringValue ?? "?")  (score \(score), document \(h["document_id"]?.stringValue ?? "?"))")
            let text = (h["text"]?.stringValue ?? "").replacingOccurrences(of: "\n", with: " ")
            print("   " + (text.count > 200 ? String(text.prefix(200)) + "…" : text))
        }
    }
}

struct Ask: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask a question; the answer streams as it is written, then its sources.",
        discussion: "Through API Gateway the events arrive together; --stream-url (generate's function URL) streams them as written.")

    @OptionGroup var connection: Connection
    @Argument(help: "The question.") var query: String
    @Option(help: "generate's function URL (the stack's GenerateStreamUrl; the emulator's --function-url-port).") var streamURL: String?

    func run() async throws {
        let api = try await connection.client()
        let base = (streamURL ?? api.base).hasSuffix("/") ? String((streamURL ?? api.base).dropLast()) : (streamURL ?? api.base)
        let body = try JSONValue.object(["query": .string(query), "stream": .bool(true)]).encoded()
        let r = try await api.http.openStream(method: "POST", url: base + "/v1/generate",
                                              headers: [api.authorization, "Content-Type: application/json", "Accept: text/event-stream"],
                                              body: body, timeout: .seconds(300))
        guard (200..<300).contains(r.status) else {
            let failure = APIClient.Failure(status: r.status, description: APIClient.message(.init(status: r.status, headers: r.headers, body: r.errorBody)))
            return try await failing { throw failure }
        }
        var parser = ServerSentEvents()
        var failed: String?
        func handle(_ e: ServerSentEvents.Event) {
            guard let data = try? JSONValue.parse(Array(e.data.utf8)) else { return }
            switch e.name {
            case "delta":
                FileHandle.standardOutput.write(Data((data["text"]?.stringValue ?? "").utf8))
            case "citations":
                let citations = data["citations"]?.arrayValue ?? []
                print(citations.isEmpty ? "\n" : "\n\nSources:")
                for c in citations { print("  \(c["reference"]?.stringValue ?? "[\(c["number"]?.intValue ?? 0)]")") }
            case "metadata":
                let m = data["response_metadata"]
                let provider = m?["provider"]?.stringValue ?? "extractive"
                print("(\(provider), \(m?["processing_time_ms"]?.doubleValue.map { String(format: "%.0f ms", $0) } ?? "-"))")
            case "error":
                failed = "\(data["error"]?["code"]?.stringValue ?? "error"): \(data["error"]?["message"]?.stringValue ?? "")"
            default: break
            }
        }
        for try await chunk in r.body { for e in parser.feed(chunk) { handle(e) } }
        if let e = parser.finish() { handle(e) }
        if let failed { try await failing { throw APIClient.Failure(status: 0, description: "the answer broke off: \(failed)") } }
    }
}

struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the org's jobs, newest first.")

    @OptionGroup var connection: Connection
    @Option(help: "queued, running, succeeded, failed or dead.") var status: String?
    @Option(help: "How many (1-100).") var limit = 20

    func run() async throws {
        let api = try await connection.client()
        let q = "/v1/jobs?limit=\(limit)" + (status.map { "&status=\($0)" } ?? "")
        let jobs = try await failing { try await api.get(q) }["jobs"]?.arrayValue ?? []
        Table.print(["job", "type", "status", "attempts", "document", "error"], jobs.map { j in
            [j["id"]?.stringValue ?? "", j["type"]?.stringValue ?? "", j["status"]?.stringValue ?? "",
             "\(j["attempts"]?.intValue ?? 0)/\(j["max_attempts"]?.intValue ?? 0)", j["document_id"]?.stringValue ?? "-",
             j["error"]?.stringValue ?? ""]
        })
    }
}

struct Docs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the org's documents, newest first.")

    @OptionGroup var connection: Connection
    @Option(help: "pending, ready, failed or deleted.") var status: String?
    @Option(help: "How many (1-100).") var limit = 20

    func run() async throws {
        let api = try await connection.client()
        let q = "/v1/documents?limit=\(limit)&counts=true" + (status.map { "&status=\($0)" } ?? "")
        let page = try await failing { try await api.get(q) }
        Table.print(["document", "status", "title", "bytes", "updated"], (page["documents"]?.arrayValue ?? []).map { d in
            [d["id"]?.stringValue ?? "", d["status"]?.stringValue ?? "", d["title"]?.stringValue ?? "",
             "\(d["bytes"]?.intValue ?? 0)", d["updated_at"]?.stringValue ?? ""]
        })
        if let c = page["counts"] {
            print(["pending", "ready", "failed", "deleted"].map { "\($0) \(c[$0]?.intValue ?? 0)" }.joined(separator: " · "))
        }
    }
}

/// Columns padded to their widest cell.
enum Table {
    static func print(_ header: [String], _ rows: [[String]]) {
        guard !rows.isEmpty else { return Swift.print("None.") }
        let all = [header] + rows
        let widths = header.indices.map { i in min(60, all.map { $0[i].count }.max() ?? 0) }
        for row in all {
            Swift.print(row.enumerated().map { i, cell in
                let c = cell.count > 60 ? String(cell.prefix(59)) + "…" : cell
                return i == row.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  "))
        }
    }
}
