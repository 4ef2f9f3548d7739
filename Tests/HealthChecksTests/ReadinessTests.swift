import Foundation
import HealthChecks
import Synchronization
import Testing

/// Suspends every caller until `count` callers have arrived. Checks that pass it must have run
/// at the same time: run one after another, the first would wait for ever (and time out).
actor Barrier {
    private let count: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []
    init(count: Int) { self.count = count }

    func arrive() async {
        if waiting.count + 1 == count {
            let all = waiting
            waiting = []
            for c in all { c.resume() }
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }
}

/// A continuation the test resumes when it is done: a check that hangs and ignores cancellation,
/// like a blocking connect inside a C client library.
final class Gate: Sendable {
    private let state = Mutex<(opened: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { c in
            let resumeNow = state.withLock { s -> Bool in
                if s.opened { return true }
                s.waiters.append(c)
                return false
            }
            if resumeNow { c.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { s in
            s.opened = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for c in waiters { c.resume() }
    }
}

struct SomeError: Error, CustomStringConvertible {
    var description: String { "connection refused (127.0.0.1:5432)" }
}

@Suite struct ReadinessTests {
    @Test func emptyListIsEmpty() async {
        #expect(await Readiness.run([]).isEmpty)
    }

    @Test func passingCheck() async {
        let results = await Readiness.run([ReadinessCheck("fine", timeout: .seconds(60)) {}])
        #expect(results.count == 1)
        #expect(results[0].name == "fine")
        #expect(results[0].ok)
        #expect(results[0].reason == nil)
        #expect(results[0].durationMs >= 0)
    }

    @Test func keepsTheOrderGivenNotTheOrderOfCompletion() async {
        // The first check finishes last, the last first.
        let names = (0..<8).map { "check-\($0)" }
        let checks = names.enumerated().map { i, name in
            ReadinessCheck(name, timeout: .seconds(60)) { try await Task.sleep(for: .milliseconds((8 - i) * 15)) }
        }
        let results = await Readiness.run(checks)
        #expect(results.map(\.name) == names)
        #expect(results.allSatisfy { $0.ok })
    }

    @Test func runsChecksConcurrently() async {
        let barrier = Barrier(count: 4)
        let checks = (0..<4).map { i in ReadinessCheck("c\(i)", timeout: .seconds(20)) { await barrier.arrive() } }
        let results = await Readiness.run(checks)
        #expect(results.map(\.ok) == [true, true, true, true], "\(results.map { $0.reason ?? "ok" })")
    }

    @Test func thrownErrorsBecomeReasons() async {
        let results = await Readiness.run([
            ReadinessCheck("ok", timeout: .seconds(60)) {},
            ReadinessCheck("store", timeout: .seconds(60)) { throw CheckFailure("DATABASE_URL points at a read-only folder.") },
            ReadinessCheck("db", timeout: .seconds(60)) { throw SomeError() },
        ])
        #expect(results.map(\.name) == ["ok", "store", "db"])
        #expect(results.map(\.ok) == [true, false, false])
        #expect(results[0].reason == nil)
        #expect(results[1].reason == "DATABASE_URL points at a read-only folder.")
        #expect(results[2].reason == "connection refused (127.0.0.1:5432)")
    }

    @Test func hangingCheckTimesOut() async throws {
        let results = await Readiness.run([
            ReadinessCheck("hangs", timeout: .milliseconds(100)) { try await Task.sleep(for: .seconds(600)) },
            ReadinessCheck("fine", timeout: .seconds(60)) {},
        ])
        #expect(results.map(\.name) == ["hangs", "fine"])
        #expect(results[0].ok == false)
        let reason = try #require(results[0].reason)
        #expect(reason.contains("timed out"), "\(reason)")
        #expect(results[1].ok)
    }

    @Test(.timeLimit(.minutes(1)))
    func checkThatIgnoresCancellationStillTimesOut() async throws {
        let gate = Gate()
        defer { gate.open() }  // let the abandoned check finish once the test is done
        let results = await Readiness.run([
            ReadinessCheck("stuck", timeout: .milliseconds(100)) { await gate.wait() },
            ReadinessCheck("fine", timeout: .seconds(60)) {},
        ])
        #expect(results.map(\.name) == ["stuck", "fine"])
        #expect(results[0].ok == false)
        #expect(results[0].reason?.contains("timed out") == true, "\(results[0].reason ?? "nil")")
        #expect(results[1].ok)
    }

    @Test func timedOutCheckIsCancelled() async {
        let sawCancellation = Atomic<Bool>(false)
        let gate = Gate()
        _ = await Readiness.run([
            ReadinessCheck("slow", timeout: .milliseconds(50)) {
                await withTaskCancellationHandler {
                    await gate.wait()
                } onCancel: {
                    sawCancellation.store(true, ordering: .sequentiallyConsistent)
                    gate.open()
                }
            },
        ])
        let cancelled = sawCancellation.load(ordering: .sequentiallyConsistent)
        #expect(cancelled)
    }

    @Test func resultEncodesDurationInSnakeCase() async throws {
        let results = await Readiness.run([ReadinessCheck("a", timeout: .seconds(60)) {}, ReadinessCheck("b", timeout: .seconds(60)) { throw CheckFailure("down") }])
        let data = try JSONEncoder().encode(results)
        let objects = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(objects.count == 2)
        #expect(Set(objects[0].keys) == ["name", "ok", "duration_ms"])
        #expect(Set(objects[1].keys) == ["name", "ok", "duration_ms", "reason"])
        #expect(objects[1]["reason"] as? String == "down")
        #expect(try JSONDecoder().decode([CheckResult].self, from: data) == results)
    }
}
