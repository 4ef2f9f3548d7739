import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport

/// The cron emulator inside a real `emulator start-api`, on a virtual clock.
@Suite(.serialized) struct CronEmulatorTests {
    static let template = """
    Resources:
      Fixture:
        Type: AWS::Serverless::Function
        Properties:
          Handler: fixture-fn
          Events:
            Tick: {Type: ScheduleV2, Properties: {Name: tick, ScheduleExpression: "rate(1 minute)", Input: '{"sleepMs": 3000}'}}
            Noon: {Type: ScheduleV2, Properties: {Name: noon, ScheduleExpression: "cron(0 12 * * ? *)"}}
            Off: {Type: Schedule, Properties: {Name: never-on, Schedule: "rate(1 minute)", Enabled: false}}
            Api: {Type: HttpApi, Properties: {Method: GET, Path: "/fx/{proxy+}"}}
    """

    func status(_ emu: EmulatorHarness, _ rule: String) async throws -> [String: Any] {
        let list = try JSONSerialization.jsonObject(with: try await emu.get("/__emulator/schedules").body) as? [[String: Any]] ?? []
        return try #require(list.first { $0["name"] as? String == rule })
    }

    func post(_ emu: EmulatorHarness, _ path: String, _ body: String = "{}") async throws -> EmulatorHarness.Reply {
        try await emu.request("POST", path, body: Data(body.utf8), headers: ["Content-Type": "application/json"])
    }

    @Test func cronFiresOnItsOwnAtTheComputedTime() async throws {
        // Started an hour early (a loaded machine may take seconds to start it), then moved to
        // just before noon: the firing itself happens in real time, as it would without --now.
        let emu = try await EmulatorHarness.start(template: Self.template, arguments: ["--now", "2026-11-21T11:00:00Z"])
        defer { Task { await emu.stop() } }
        #expect(try await status(emu, "noon")["next"] as? String == "2026-11-21T12:00:00Z")
        #expect(try await post(emu, "/__emulator/clock", #"{"now": "2026-11-21T11:59:57Z"}"#).status == 200)
        // Three virtual seconds later (real time, the clock runs), within a second of it.
        let fired = await emu.child.waitForStderr(containing: "schedule noon: firing for 2026-11-21T12:00:00Z -> Fixture", timeout: 30)
        #expect(fired != nil)
        #expect(await emu.child.waitForStderr(containing: "[Fixture] START RequestId:", timeout: 30) != nil)
        #expect(try await status(emu, "noon")["next"] as? String == "2026-11-22T12:00:00Z")
        #expect(try await status(emu, "never-on")["enabled"] as? Bool == false)
        #expect(try await status(emu, "never-on")["next"] == nil)
    }

    @Test func aLongPauseCatchesUpOnceAndRunsNeverOverlap() async throws {
        let emu = try await EmulatorHarness.start(template: Self.template, arguments: ["--now", "2026-11-21T10:00:00Z"])
        defer { Task { await emu.stop() } }
        // Ten minutes pass at once: one catch-up run, not ten.
        let moved = try await post(emu, "/__emulator/clock", #"{"advance": 600}"#)
        #expect(moved.status == 200)
        #expect(await emu.child.waitForStderr(containing: "schedule tick: firing", timeout: 30) != nil)
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await status(emu, "tick")["fired"] as? Int == 1)
        // The run (3 s) is still going: a trigger now is refused rather than overlapping.
        let refused = try await post(emu, "/__emulator/schedules/tick/trigger")
        #expect(refused.status == 409)
        #expect(refused.errorCode == "conflict")
        // And a scheduled run due meanwhile is skipped and logged.
        _ = try await post(emu, "/__emulator/clock", #"{"advance": 60}"#)
        #expect(await emu.child.waitForStderr(containing: "schedule tick: skipped", timeout: 30) != nil)
        // Once it is done, triggering works.
        try await Task.sleep(for: .milliseconds(3000))
        let ok = try await post(emu, "/__emulator/schedules/tick/trigger")
        #expect(ok.status == 202)
        #expect((ok.json["requestId"] as? String)?.isEmpty == false)
        #expect(try await post(emu, "/__emulator/schedules/nope/trigger").status == 404)
        #expect(try await post(emu, "/__emulator/clock", "not json").status == 400)
    }
}

@Suite struct TriggerCLITests {
    @Test func triggerFiresTheRulesEventAndPrintsTheAnswer() async throws {
        let dir = TestPaths.temporaryDirectory("trigger")
        try CronEmulatorTests.template.write(toFile: dir + "/template.yaml", atomically: true, encoding: .utf8)
        let child = try ChildProcess(TestPaths.executable("emulator"),
                                     arguments: ["trigger", "noon", "--template", dir + "/template.yaml", "--build-dir", TestPaths.binDirectory])
        child.closeStdin()
        let line = await child.readLine(timeout: 120)  // a wait, generous for a starved machine
        #expect(await child.waitForExit(timeout: 30) == 0)
        // The fixture answers a scheduled event with the rule's name from the event's ARN.
        #expect(line == #"{"scheduled":"noon"}"#)
    }
}

/// The cron emulator alone, and the Lambda endpoint alone.
@Suite(.serialized) struct HeadlessModesTests {
    @Test func schedulesRunFiresWithoutTheHTTPAPI() async throws {
        let dir = TestPaths.temporaryDirectory("headless")
        try CronEmulatorTests.template.write(toFile: dir + "/template.yaml", atomically: true, encoding: .utf8)
        let child = try ChildProcess(TestPaths.executable("emulator"),
                                     arguments: ["schedules", "--run", "--template", dir + "/template.yaml", "--build-dir", TestPaths.binDirectory,
                                                 "--now", "2026-11-21T11:59:59Z"], currentDirectory: dir)
        #expect(await child.waitForStderr(containing: "schedule noon: firing for 2026-11-21T12:00:00Z", timeout: 120) != nil)
        #expect(await child.waitForStderr(containing: "[Fixture] START RequestId:", timeout: 30) != nil)
        #expect(!child.stderr.contains { $0.contains("listening on http://") })
        child.signal(SIGTERM)
        #expect(await child.waitForExit(timeout: 30) == 0)
    }

    @Test func startLambdaServesOnlyTheInvokeAPI() async throws {
        let dir = TestPaths.temporaryDirectory("headless")
        try CronEmulatorTests.template.write(toFile: dir + "/template.yaml", atomically: true, encoding: .utf8)
        let child = try ChildProcess(TestPaths.executable("emulator"),
                                     arguments: ["start-lambda", "--port", "0", "--template", dir + "/template.yaml",
                                                 "--build-dir", TestPaths.binDirectory], currentDirectory: dir)
        defer { child.signal(SIGKILL) }
        let line = try #require(await child.waitForStderr(containing: "Lambda Invoke API on http://", timeout: 20))
        let url = try #require(line.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init))
        var request = URLRequest(url: URL(string: url + "/2015-03-31/functions/Fixture/invocations")!)
        request.httpMethod = "POST"
        request.httpBody = Data(#"{"k":"v"}"#.utf8)
        let (data, response) = try await URLSession(configuration: .ephemeral).data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: data, as: UTF8.self).contains(#""echo":{"k":"v"}"#))
        #expect(!child.stderr.contains { $0.contains("listening on http://") })
    }
}
