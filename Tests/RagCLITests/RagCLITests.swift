import Foundation
import Testing
import TestSupport

/// `rag`, the command-line client, against the real bundle in the emulator: a folder ingested
/// with progress and failures reported, resumed without sending anything twice, then search,
/// ask, jobs and docs.
@Suite(.serialized) struct RagCLITests {
    struct Run {
        var code: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `rag` to its end.
    static func rag(_ arguments: [String], port: Int) async throws -> Run {
        try await run(TestPaths.executable("rag"), arguments + ["--url", "http://127.0.0.1:\(port)"])
    }

    /// Runs a program to its end (its output goes to files, not pipes, so nothing blocks).
    static func run(_ executable: String, _ arguments: [String]) async throws -> Run {
        let dir = TestPaths.temporaryDirectory("rag-cli")
        let out = dir + "/out", err = dir + "/err"
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["RAG_TOKEN"] = nil
        p.environment = env
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try p.run()
        let deadline = Date().addingTimeInterval(300)
        while p.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if p.isRunning { p.terminate() }
        return Run(code: p.terminationStatus, stdout: try String(contentsOfFile: out, encoding: .utf8),
                   stderr: try String(contentsOfFile: err, encoding: .utf8))
    }

    static func folder() throws -> String {
        let root = TestPaths.temporaryDirectory("rag-docs")
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/policies/hr", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/.git", withIntermediateDirectories: true)
        try "# Leave\n\nEmployees get 20 days of paid annual leave per year.\n".write(toFile: root + "/policies/hr/leave.md", atomically: true, encoding: .utf8)
        try "Laptops are replaced every four years by the IT department.\n".write(toFile: root + "/it.txt", atomically: true, encoding: .utf8)
        // An HTML page with no text: accepted, then its indexing fails.
        try "<html><body><script>render()</script></body></html>".write(toFile: root + "/empty.html", atomically: true, encoding: .utf8)
        try "not an image".write(toFile: root + "/logo.png", atomically: true, encoding: .utf8)
        try "ref: refs/heads/main\n".write(toFile: root + "/.git/HEAD.txt", atomically: true, encoding: .utf8)
        return root
    }

    @Test func ingestReportsProgressAndFailuresAndResumesWithoutResending() async throws {
        let emu = try await BundleEmulator.start(prefix: "rag-cli")
        defer { emu.stop() }
        let docs = try Self.folder()
        let first = try await Self.rag(["ingest", docs, "--org", "acme"], port: emu.port)
        #expect(first.code == 1, "a failed document makes the run fail: \(first.stdout) \(first.stderr)")
        #expect(first.stdout.contains("3 file(s): 3 sent, 0 already in the org, 2 ready, 1 failed, 1 left out"), "\(first.stdout)")
        #expect(first.stdout.contains("failed: empty.html: ") && first.stdout.contains("no text"), "\(first.stdout)")
        // Not a terminal: one plain line per event, in a log's order.
        let lines = first.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("sent    policies/hr/leave.md -> ") })
        #expect(lines.contains("ready   policies/hr/leave.md") && lines.contains("ready   it.txt"))
        #expect(lines.contains("left out logo.png: not a type the API indexes"))
        #expect(!first.stderr.contains(".git") && !first.stderr.contains("\u{1B}["), "hidden files are skipped; no bar without a terminal")

        let acme = try await emu.token(org: "acme")
        let listed = try await emu.json("GET", "/v1/documents?counts=true", token: acme)
        #expect((listed.json["counts"] as? [String: Int]) == ["pending": 0, "ready": 2, "failed": 1, "deleted": 0])

        // A second run sends nothing: every file's bytes are already in the org.
        let second = try await Self.rag(["ingest", docs, "--org", "acme"], port: emu.port)
        #expect(second.stdout.contains("3 file(s): 0 sent, 3 already in the org, 2 ready, 1 failed, 1 left out"), "\(second.stdout)")
        #expect(second.code == 1)
        let metrics = try await emu.request("GET", "/metrics").text
        #expect(metrics.contains(#"rag_invocations_total{function="UploadFunction",route="POST /v1/documents",outcome="ok"} 3"#),
                "only the first run uploaded")

        // The good files alone succeed; another org starts from nothing.
        #expect(try await Self.rag(["ingest", docs + "/policies", docs + "/it.txt", "--org", "acme"], port: emu.port).code == 0)
        let globex = try await Self.rag(["ingest", docs + "/it.txt", "--org", "globex"], port: emu.port)
        #expect(globex.code == 0 && globex.stdout.contains("1 file(s): 1 sent, 0 already in the org, 1 ready, 0 failed"), "\(globex.stdout)")

        // On a terminal (a pseudo-terminal from util-linux's `script`) the progress is a bar redrawn in place.
        let rag = TestPaths.executable("rag")
        let tty = try await Self.run("/usr/bin/script", ["-qec", "\(rag) ingest \(docs)/it.txt --org initech --url http://127.0.0.1:\(emu.port)", "/dev/null"])
        #expect(tty.code == 0 && tty.stdout.contains("\r\u{1B}[2K[") && tty.stdout.contains("1/1 sent · 1 ready · 0 failed · 0 pending"), "\(tty.stdout)")

        // search, ask, jobs, docs over what was ingested.
        let search = try await Self.rag(["search", "annual leave", "--org", "acme"], port: emu.port)
        #expect(search.code == 0 && search.stdout.hasPrefix("1. leave"), "\(search.stdout)")
        let ask = try await Self.rag(["ask", "How many days of annual leave do employees get?", "--org", "acme"], port: emu.port)
        #expect(ask.code == 0 && ask.stdout.contains("20 days") && ask.stdout.contains("Sources:"), "\(ask.stdout) \(ask.stderr)")
        let dead = try await Self.rag(["jobs", "--status", "dead", "--org", "acme"], port: emu.port)
        #expect(dead.code == 0 && dead.stdout.contains("ingest  dead") && dead.stdout.contains("extraction failed"), "\(dead.stdout)")
        let failedDocs = try await Self.rag(["docs", "--status", "failed", "--org", "acme"], port: emu.port)
        #expect(failedDocs.stdout.contains("failed  empty") && failedDocs.stdout.contains("pending 0 · ready 2 · failed 1 · deleted 0"), "\(failedDocs.stdout)")
    }

    @Test func refusalsAreOneClearLineAndAFailingExit() async throws {
        let emu = try await BundleEmulator.start(prefix: "rag-cli-errors")
        defer { emu.stop() }
        let badToken = try await Self.rag(["jobs", "--token", "not-a-jwt"], port: emu.port)
        #expect(badToken.code == 1 && badToken.stderr.hasPrefix("rag: ") && badToken.stderr.contains("HTTP 401"), "\(badToken.stderr)")
        let noToken = try await Self.rag(["docs"], port: emu.port)
        #expect(noToken.code != 0 && noToken.stderr.contains("no token"), "\(noToken.stderr)")
        let badStatus = try await Self.rag(["jobs", "--status", "sideways", "--org", "acme"], port: emu.port)
        #expect(badStatus.code == 1 && badStatus.stderr.contains("HTTP 422"), "\(badStatus.stderr)")
        let missing = try await Self.rag(["ingest", "/no/such/folder", "--org", "acme"], port: emu.port)
        #expect(missing.code == 1 && missing.stderr.contains("no such file or folder"), "\(missing.stderr)")
    }
}
