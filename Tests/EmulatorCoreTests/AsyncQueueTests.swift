import Foundation
import Testing
import TestSupport

/// Event invocations through a real emulator: retries, the dead-letter file, persistence across
/// a restart, and `emulator invoke --async`.
@Suite(.serialized) struct AsyncQueueTests {
    static let args = ["--async-retry-scale", "0.005"]  // retries after 0.3 s and 0.6 s

    func files(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".json") }
    }

    func waitFor(_ timeout: Double = 15, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    @Test func failingEventsAreRetriedTwiceThenDeadLettered() async throws {
        let emu = try await EmulatorHarness.start(arguments: Self.args)
        defer { Task { await emu.stop() } }
        let r = try await emu.get("/fx/async?function=Broken")  // Broken fails its init every time
        #expect(r.status == 202)
        let dead = emu.directory + "/.data/emulator/async/dead-letter"
        #expect(await waitFor { files(dead).count == 1 })
        let file = try #require(files(dead).first)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dead + "/" + file))) as? [String: Any])
        #expect(json["function"] as? String == "Broken")
        #expect(json["attempts"] as? Int == 3)
        #expect((json["errors"] as? [[String: Any]])?.count == 3)
        #expect(((json["errors"] as? [[String: Any]])?.first?["error"] as? String)?.contains("FIXTURE_INIT_FAIL is set") == true)
        #expect((json["event"] as? [String: String]) == ["from": "async"])
        // The dead-letter file is written before the queued one is removed (never zero copies).
        #expect(await waitFor { files(emu.directory + "/.data/emulator/async/queued").isEmpty })
        #expect(await emu.child.waitForStderr(containing: "failed (attempt 1)") != nil)
    }

    /// A burst of events at a function at its concurrency limit: throttles are not attempts (as on
    /// Lambda), so every event waits for capacity and runs; none is dead-lettered.
    @Test func throttledEventsWaitForCapacityInsteadOfDying() async throws {
        let emu = try await EmulatorHarness.start(arguments: Self.args + ["--max-queue", "0"])
        defer { Task { await emu.stop() } }
        // One at a time (the HTTP side has no queue either); each event takes 200 ms, so the burst
        // piles up behind Single whatever the machine's speed.
        for _ in 0..<24 { #expect(try await emu.get("/fx/async?function=Single&sleepMs=200").status == 202) }
        let ran = await waitFor(120) { emu.child.stderr.filter { $0.contains("[Single] START RequestId:") }.count >= 24 }
        #expect(ran, "\(emu.child.stderr.filter { $0.contains("[Single] START RequestId:") }.count) of 24 ran")
        #expect(await waitFor { files(emu.directory + "/.data/emulator/async/queued").isEmpty })
        #expect(files(emu.directory + "/.data/emulator/async/dead-letter").isEmpty)
        #expect(await emu.child.waitForStderr(containing: "waiting for capacity") != nil)
    }

    @Test func successfulEventsLeaveNothingBehind() async throws {
        let emu = try await EmulatorHarness.start(arguments: Self.args)
        defer { Task { await emu.stop() } }
        #expect(try await emu.get("/fx/async?function=Single").status == 202)
        #expect(await emu.child.waitForStderr(containing: "[Single] START RequestId:") != nil)
        #expect(await waitFor { files(emu.directory + "/.data/emulator/async/queued").isEmpty })
        #expect(files(emu.directory + "/.data/emulator/async/dead-letter").isEmpty)
    }

    @Test func queuedEventsSurviveARestartAndInvokeAsyncFeedsTheQueue() async throws {
        // `emulator invoke --async` with no emulator running: the event waits on disk.
        let dir = TestPaths.temporaryDirectory("async")
        try EmulatorHarness.fixtureTemplate.write(toFile: dir + "/template.yaml", atomically: true, encoding: .utf8)
        let cli = try ChildProcess(TestPaths.executable("emulator"),
                                   arguments: ["invoke", "Single", "--async", "--event", "-", "--template", dir + "/template.yaml",
                                               "--build-dir", TestPaths.binDirectory],
                                   currentDirectory: dir)
        cli.write(#"{"queued":"before start"}"#)
        cli.closeStdin()
        let line = try #require(await cli.readLine(timeout: 60))
        #expect(await cli.waitForExit() == 0)
        #expect(line.contains(#""statusCode":202"#))
        #expect(files(dir + "/.data/emulator/async/queued").count == 1)

        // An emulator started on that folder runs it.
        let emu = try await EmulatorHarness.start(arguments: Self.args + ["--template", dir + "/template.yaml"], currentDirectory: dir)
        defer { Task { await emu.stop() } }
        #expect(await emu.child.waitForStderr(containing: "[Single] START RequestId:") != nil)
        #expect(await waitFor { files(dir + "/.data/emulator/async/queued").isEmpty })
    }
}
