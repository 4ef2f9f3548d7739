import Embeddings
import Foundation
import Synchronization
import Testing

/// A clock the providers below move: each call "takes" its configured time, so latency and
/// throughput are exact and the tests never depend on the machine's speed.
final class VirtualClock: Sendable {
    private let t = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { t.withLock { $0 } }
    func advance(_ d: Duration) { t.withLock { $0 += d } }
}

/// A provider whose vectors come from `vector`, whose calls take `perCall + perText × n` on the
/// virtual clock, and which can be made to fail.
final class ScriptedProvider: EmbeddingProvider, Sendable {
    let modelId = "m"
    let dimension: Int
    let maxInputTokens = 512
    let clock: VirtualClock
    let perCall: Duration
    let perText: Duration
    let vector: @Sendable (String, EmbeddingRole) -> [Float]
    let failure = Mutex<EmbeddingError?>(nil)
    let calls = Mutex<[[String]]>([])

    init(dimension: Int = 4, clock: VirtualClock, perCall: Duration = .milliseconds(10), perText: Duration = .zero,
         vector: @escaping @Sendable (String, EmbeddingRole) -> [Float] = ScriptedProvider.modelVector) {
        self.dimension = dimension
        self.clock = clock
        self.perCall = perCall
        self.perText = perText
        self.vector = vector
    }

    /// The "model": a deterministic unit vector per (text, role).
    static func modelVector(_ text: String, _ role: EmbeddingRole) -> [Float] {
        var h: UInt64 = role == .query ? 7 : 13
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        let v = (0..<4).map { i in Float((h >> (UInt64(i) * 8)) & 0xff) + 1 }
        let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / n }
    }

    /// Calls that were not probes.
    var served: [[String]] { calls.withLock { $0 }.filter { !ProbeSet.queries.contains($0[0]) && !ProbeSet.passages.contains($0[0]) } }

    func embed(_ texts: [String], role: EmbeddingRole) async throws -> [Embedding] {
        calls.withLock { $0.append(texts) }
        clock.advance(perCall + perText * texts.count)
        if let e = failure.withLock({ $0 }) { throw e }
        return texts.map { Embedding(vector: vector($0, role), tokenCount: 10, untruncatedTokenCount: 10, truncated: false) }
    }
}

/// What the pool asked of its budget and recorded.
final class RecordingSpend: SpendPolicy, Sendable {
    let decisionValue: SpendDecision
    let records = Mutex<[(org: String?, provider: String, tokens: Int, cost: Double, purpose: EmbeddingCallContext.Purpose)]>([])
    init(_ d: SpendDecision) { decisionValue = d }
    func decision(org: String?) async -> SpendDecision { decisionValue }
    func record(org: String?, provider: String, model: String, tokens: Int, costUSD: Double, purpose: EmbeddingCallContext.Purpose) async {
        records.withLock { $0.append((org, provider, tokens, costUSD, purpose)) }
    }
}

@Suite struct EmbeddingProviderPoolTests {
    let clock = VirtualClock()

    func pool(_ members: [(String, ScriptedProvider, Double)], spend: (any SpendPolicy)? = nil) -> EmbeddingProviderPool {
        let c = clock
        return EmbeddingProviderPool(members: members.map { PoolMember(name: $0.0, provider: $0.1, pricePer1kTokens: $0.2) },
                                     spend: spend, recheckAfter: .seconds(30), now: { c.now })
    }

    @Test func aProviderOfAnotherModelOrSizeIsRefusedWithItsReason() async throws {
        let reference = ScriptedProvider(clock: clock)
        let same = ScriptedProvider(clock: clock)
        let other = ScriptedProvider(clock: clock) { t, r in ScriptedProvider.modelVector("x" + t, r) }
        let shorter = ScriptedProvider(dimension: 3, clock: clock) { t, r in Array(ScriptedProvider.modelVector(t, r).prefix(3)) }
        // A server that ignores the role's prefix convention: right for passages, wrong for queries.
        let noPrefix = ScriptedProvider(clock: clock) { t, _ in ScriptedProvider.modelVector(t, .passage) }
        let p = pool([("ref", reference, 0), ("same", same, 0), ("other", other, 0), ("short", shorter, 0), ("noprefix", noPrefix, 0)])
        await p.checkAll()
        let s = Dictionary(uniqueKeysWithValues: p.statuses.map { ($0.name, $0) })
        #expect(s["ref"]?.admission == .admitted && s["ref"]?.isReference == true)
        #expect(s["same"]?.admission == .admitted)
        guard case .refused(let why)? = s["other"]?.admission else { Issue.record("\(String(describing: s["other"]))"); return }
        #expect(why.contains("cosine") && why.contains("0.999"), "\(why)")
        guard case .refused(let dims)? = s["short"]?.admission else { Issue.record("\(String(describing: s["short"]))"); return }
        #expect(dims.contains("3 dimensions") && dims.contains("4"), "\(dims)")
        guard case .refused(let prefix)? = s["noprefix"]?.admission else { Issue.record("\(String(describing: s["noprefix"]))"); return }
        #expect(prefix.contains("probe 1"), "\(prefix)")
        for i in 0..<20 { _ = try await p.embed(["query \(i)"], role: .query) }
        _ = try await p.embed((0..<8).map { "passage \($0)" }, role: .passage)
        #expect(other.served.isEmpty && shorter.served.isEmpty && noPrefix.served.isEmpty)
    }

    @Test func queriesGoToTheLowestLatencyAndBatchesToTheHighestThroughput() async throws {
        let slow = ScriptedProvider(clock: clock, perCall: .milliseconds(300))
        // 40 ms a text: the quickest single query, the slowest batch.
        let quick = ScriptedProvider(clock: clock, perCall: .zero, perText: .milliseconds(40))
        // 100 ms a call whatever its size: a GPU server behind a network hop.
        let bulky = ScriptedProvider(clock: clock, perCall: .milliseconds(100))
        let p = pool([("ref", slow, 0), ("quick", quick, 0), ("bulky", bulky, 0)])
        await p.checkAll()
        for i in 0..<5 { _ = try await p.embed(["question \(i)"], role: .query) }
        for b in 0..<3 { _ = try await p.embed((0..<16).map { "chunk \(b)-\($0)" }, role: .passage) }
        #expect(quick.served.count == 5 && quick.served.allSatisfy { $0.count == 1 })
        #expect(bulky.served.count == 3 && bulky.served.allSatisfy { $0.count == 16 })
        #expect(slow.served.isEmpty)
        // The caller's purpose wins over the shape: one text of bulk work is still bulk.
        try await EmbeddingCallContext.$current.withValue(EmbeddingCallContext(org: "acme", purpose: .bulk)) {
            _ = try await p.embed(["one chunk"], role: .passage)
        }
        #expect(bulky.served.count == 4)
    }

    @Test func aFailingProviderIsSkippedAndProbedAgainWhenItComesBack() async throws {
        let ref = ScriptedProvider(clock: clock, perCall: .milliseconds(200))
        let quick = ScriptedProvider(clock: clock, perCall: .milliseconds(5))
        let p = pool([("ref", ref, 0), ("quick", quick, 0)])
        await p.checkAll()
        _ = try await p.embed(["a"], role: .query)
        #expect(quick.served.count == 1)
        quick.failure.withLock { $0 = .unavailable("connection refused") }
        let v = try await p.embed(["b"], role: .query)
        #expect(v.count == 1 && ref.served.count == 1)
        guard case .suspended(let why)? = p.statuses.first(where: { $0.name == "quick" })?.admission else {
            Issue.record("\(p.statuses)"); return
        }
        #expect(why.contains("connection refused"))
        #expect(p.usage.failovers == 1)
        // While suspended it is not called at all.
        let before = quick.calls.withLock { $0.count }
        _ = try await p.embed(["c"], role: .query)
        #expect(quick.calls.withLock { $0.count } == before && ref.served.count == 2)
        // It comes back; after the recheck interval it must pass the probe set again before serving.
        quick.failure.withLock { $0 = nil }
        clock.advance(.seconds(31))
        // The call that finds it due is served as before; the probe runs beside it.
        _ = try await p.embed(["d"], role: .query)
        #expect(ref.served.suffix(1) == [["d"]])
        for _ in 0..<500 where p.statuses.first(where: { $0.name == "quick" })?.admission != .admitted {
            try await Task.sleep(for: .milliseconds(10))
        }
        let probes = quick.calls.withLock { $0 }.suffix(3).filter { ProbeSet.queries.contains($0[0]) || ProbeSet.passages.contains($0[0]) }
        #expect(probes.count == 3, "\(quick.calls.withLock { $0 })")
        #expect(p.statuses.first { $0.name == "quick" }?.admission == .admitted)
        _ = try await p.embed(["e"], role: .query)
        #expect(quick.served.suffix(1) == [["e"]])
    }

    @Test func everyProviderDownIsUnavailableNamingEach() async throws {
        let a = ScriptedProvider(clock: clock), b = ScriptedProvider(clock: clock)
        let p = pool([("a", a, 0), ("b", b, 0)])
        await p.checkAll()
        a.failure.withLock { $0 = .unavailable("a is down") }
        b.failure.withLock { $0 = .providerFailed("b answered 502") }
        await #expect(throws: EmbeddingError.unavailable("every provider of m failed: a: Embedding provider unavailable: a is down; b: Embedding provider failed: b answered 502")) {
            try await p.embed(["q"], role: .query)
        }
        // Input no provider takes is the caller's, and does not move on.
        a.failure.withLock { $0 = nil }
        b.failure.withLock { $0 = nil }
        clock.advance(.seconds(31))
        _ = try await p.embed(["q"], role: .query)
        a.failure.withLock { $0 = .invalidInput("too long") }
        await #expect(throws: EmbeddingError.invalidInput("too long")) { try await p.embed(["q2"], role: .query) }
    }

    @Test func textAnExternalProviderMayNotSeeGoesToOneThatMay() async throws {
        let external = ScriptedProvider(clock: clock, perCall: .milliseconds(1))
        let own = ScriptedProvider(clock: clock, perCall: .milliseconds(50))
        let p = pool([("own", own, 0), ("api", external, 0)])
        await p.checkAll()
        external.failure.withLock { $0 = .personalData("holds an email") }
        _ = try await p.embed(["mail a@b.co"], role: .query)
        #expect(own.served == [["mail a@b.co"]])
        // Refusing one text says nothing about the provider's health.
        #expect(p.statuses.first { $0.name == "api" }?.admission == .admitted)
    }

    @Test func overBudgetBulkWorkUsesFreeProvidersOrWaitsAndQueriesAreOnlyCounted() async throws {
        let until = Date(timeIntervalSince1970: 1_800_000_000)
        let spend = RecordingSpend(.freeOnly(reason: "the org daily embedding budget of 1.00 USD is spent", until: until))
        let paid = ScriptedProvider(clock: clock, perCall: .milliseconds(1))
        let free = ScriptedProvider(clock: clock, perCall: .milliseconds(500))
        let both = pool([("paid", paid, 0.5), ("free", free, 0)], spend: spend)
        await both.checkAll()
        try await EmbeddingCallContext.$current.withValue(EmbeddingCallContext(org: "acme", purpose: .bulk)) {
            _ = try await both.embed(["c1", "c2"], role: .passage)
        }
        #expect(free.served.count == 1 && paid.served.isEmpty)

        let onlyPaid = pool([("paid", paid, 0.5)], spend: spend)
        await #expect(throws: EmbeddingError.budgetExceeded(until: until, "the org daily embedding budget of 1.00 USD is spent, and no provider of m that costs nothing can take the work")) {
            try await EmbeddingCallContext.$current.withValue(EmbeddingCallContext(org: "acme", purpose: .bulk)) {
                try await onlyPaid.embed(["c3"], role: .passage)
            }
        }
        // A query is never refused for budget: served by the paid provider, and counted.
        try await EmbeddingCallContext.$current.withValue(EmbeddingCallContext(org: "acme", purpose: .query)) {
            _ = try await onlyPaid.embed(["what is the refund policy"], role: .query)
        }
        let last = try #require(spend.records.withLock { $0.last })
        #expect(last.org == "acme" && last.provider == "paid" && last.tokens == 10 && abs(last.cost - 0.005) < 1e-12 && last.purpose == .query)
    }
}
