import Foundation
import JSON
import TestSupport
import Testing

/// The `embed` executable: JSON lines in, one JSON line out per line, in order.
@Suite struct EmbedCLITests {
    @Test func embedsLinesAndReportsBadOnes() async throws {
        let exe = TestPaths.executable("embed")
        try #require(FileManager.default.isExecutableFile(atPath: exe), "build the embed product first")
        var env = ProcessInfo.processInfo.environment
        env["EMBEDDING_MODEL"] = "sentence-transformers/all-MiniLM-L6-v2"
        let child = try ChildProcess(exe, arguments: ["--model-dir", Shared.modelDirectory, "--batch-size", "2"], environment: env)
        child.write("{\"text\": \"Hello world\"}\nnot json\n{\"text\": \"The cat sat on the mat.\"}\n")
        child.closeStdin()
        let cases = try Shared.fixtureCases()
        var outputs: [JSONValue] = []
        while let line = await child.readLine(timeout: 60) { outputs.append(try JSONValue.parse(Array(line.utf8))) }
        #expect(await child.waitForExit(timeout: 30) == 0)
        try #require(outputs.count == 3)
        #expect(outputs[0]["input_ids"]?.arrayValue?.compactMap(\.intValue) == cases[0].inputIds.map(Int.init))
        #expect(outputs[0]["tokens"]?.intValue == 4 && outputs[0]["truncated"]?.boolValue == false)
        let v = outputs[0]["embedding"]?.arrayValue?.compactMap { $0.doubleValue.map(Float.init) } ?? []
        #expect(Shared.cosine(v, cases[0].embedding) >= 0.9999)
        #expect(outputs[1]["error"]?.stringValue?.contains("not JSON") == true)
        #expect(outputs[2]["input_ids"]?.arrayValue?.compactMap(\.intValue) == cases[1].inputIds.map(Int.init))
    }

    /// Each model's error names its own installer.
    @Test(arguments: [("sentence-transformers/all-MiniLM-L6-v2", "scripts/model.sh"), ("intfloat/multilingual-e5-small", "scripts/model-e5.sh")])
    func missingModelExitsWithTheFix(model: String, fix: String) async throws {
        let exe = TestPaths.executable("embed")
        try #require(FileManager.default.isExecutableFile(atPath: exe), "build the embed product first")
        var env = ProcessInfo.processInfo.environment
        env["EMBEDDING_MODEL"] = model
        let child = try ChildProcess(exe, arguments: ["--model-dir", "/nonexistent/model"], environment: env)
        child.closeStdin()
        #expect(await child.waitForExit(timeout: 30) == 2)
        #expect(await child.waitForStderr(containing: fix) != nil)
    }
}
