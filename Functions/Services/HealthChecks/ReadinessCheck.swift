#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JSON
import Synchronization

/// One named readiness check. Adding a check to `health` is one line in its list:
/// `.init("store") { try await store.ping() }`.
package struct ReadinessCheck: Sendable {
    package let name: String
    package let timeout: Duration
    package let run: @Sendable () async throws -> Void

    package init(_ name: String, timeout: Duration = .seconds(2), run: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.timeout = timeout
        self.run = run
    }
}

/// A check's outcome as `/readyz` reports it.
package struct CheckResult: Codable, Sendable, Equatable {
    package var name: String
    package var ok: Bool
    package var durationMs: Double
    package var reason: String?

    enum CodingKeys: String, CodingKey {
        case name, ok, durationMs = "duration_ms", reason
    }
}

/// Why a check failed, in words an operator can act on.
package struct CheckFailure: Error, CustomStringConvertible, Sendable {
    package var description: String
    package init(_ description: String) { self.description = description }
}

package enum Readiness {
    /// Runs every check concurrently, each bounded by its timeout, and returns results in the
    /// order given. A check that hangs is reported as timed out, never awaited forever.
    package static func run(_ checks: [ReadinessCheck]) async -> [CheckResult] {
        await withTaskGroup(of: (Int, CheckResult).self) { group in
            for (index, check) in checks.enumerated() {
                group.addTask { (index, await evaluate(check)) }
            }
            var results = [CheckResult?](repeating: nil, count: checks.count)
            for await (index, result) in group { results[index] = result }
            return results.compactMap { $0 }
        }
    }

    static func evaluate(_ check: ReadinessCheck) async -> CheckResult {
        let clock = ContinuousClock()
        let start = clock.now
        let outcome: String? = await withTaskGroup(of: String?.self) { group in
            group.addTask { await Readiness.outcome(of: check) }
            group.addTask {
                try? await Task.sleep(for: check.timeout)
                return "timed out after \(check.timeout)"
            }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
        let elapsed = clock.now - start
        let ms = elapsed.milliseconds
        return CheckResult(name: check.name, ok: outcome == nil, durationMs: (ms * 1000).rounded() / 1000, reason: outcome)
    }

    /// The check's outcome: nil when it passed, else why not. The check runs in a task of its own
    /// so that waiting for it stops as soon as the caller is cancelled (on timeout), even when the
    /// check ignores cancellation (a blocking connect, a continuation never resumed): a task group
    /// would otherwise await that child for ever.
    static func outcome(of check: ReadinessCheck) async -> String? {
        let slot = OutcomeSlot()
        let work = Task {
            do {
                try await check.run()
                slot.resolve(nil)
            } catch {
                slot.resolve(String(describing: error))
            }
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { slot.wait($0) }
        } onCancel: {
            work.cancel()
            slot.resolve("cancelled")
        }
    }
}

/// The first outcome of a check, delivered once to one waiter.
private final class OutcomeSlot: Sendable {
    private enum State {
        case empty
        case waiting(CheckedContinuation<String?, Never>)
        case resolved(String?)
    }
    private let state = Mutex(State.empty)

    func wait(_ continuation: CheckedContinuation<String?, Never>) {
        let ready: String?? = state.withLock { s in
            switch s {
            case .empty:
                s = .waiting(continuation)
                return .none
            case .resolved(let value):
                return .some(value)
            case .waiting:
                preconditionFailure("one waiter only")
            }
        }
        if case .some(let value) = ready { continuation.resume(returning: value) }
    }

    func resolve(_ value: String?) {
        let waiter: CheckedContinuation<String?, Never>? = state.withLock { s in
            switch s {
            case .empty:
                s = .resolved(value)
                return nil
            case .waiting(let c):
                s = .resolved(value)
                return c
            case .resolved:
                return nil
            }
        }
        waiter?.resume(returning: value)
    }
}
