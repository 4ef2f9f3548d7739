import Foundation
import Synchronization

/// One provider of the pool's model, by the name the configuration gives it.
package struct PoolMember: Sendable {
    package let name: String
    package let provider: any EmbeddingProvider
    /// USD per 1,000 tokens; 0 for a provider that bills nothing (native, a server of your own).
    package let pricePer1kTokens: Double

    package init(name: String, provider: any EmbeddingProvider, pricePer1kTokens: Double = 0) {
        self.name = name
        self.provider = provider
        self.pricePer1kTokens = pricePer1kTokens
    }

    package var isPaid: Bool { pricePer1kTokens > 0 }
}

/// Several providers of one model (native in process, an HTTP server such as TEI, vLLM or
/// Ollama, an API), used as one provider:
///
/// - **Admission.** The reference is the model's `ProbeReference` when one ships for it, else
///   the first member's vectors. Every member compared with it embeds `ProbeSet`'s texts before
///   it serves, at start and again each time it comes back from a failure, and is refused when a
///   vector's cosine with the reference's is under 0.999 or its size differs (a server running
///   another model, size or prefix convention). The reason is in `statuses`, which readiness
///   reports.
/// - **Routing.** A query (one text, or `EmbeddingCallContext.Purpose.query`) goes to the
///   admitted member with the lowest recent latency; bulk work (a re-embed batch) to the one with
///   the highest recent throughput. Both are moving averages over real calls, seeded by the probe.
/// - **Failover.** A member that fails (down, slow, its circuit breaker open, a bad key) is
///   suspended and the call moves to the next; a suspended member is probed again after
///   `recheckAfter` before it serves. A text an external member may not see (`PII_POLICY=local`)
///   moves to a member that may.
/// - **Spending.** With a `SpendPolicy`, every call's tokens and cost are recorded against the
///   org of `EmbeddingCallContext.current`; bulk work over a hard limit goes only to members
///   that cost nothing, and waits (`EmbeddingError.budgetExceeded`) when none can take it.
///   Queries are never refused for budget, only counted.
///
/// Vectors record the model, never the member: all members are the same model by admission.
package final class EmbeddingProviderPool: EmbeddingProvider, ReportsEmbeddingUsage {
    package let members: [PoolMember]
    let spend: (any SpendPolicy)?
    let recheckAfter: Duration
    private let state: Mutex<[MemberRuntime]>
    private let referenceVectors: Mutex<[[Float]]?>
    /// Whether the reference came from the model's file (then the first member is checked too).
    private let hasReferenceFile: Bool
    private let counters = EmbeddingUsageCounters()
    private let now: @Sendable () -> ContinuousClock.Instant

    /// A member's life in the pool, as readiness and the dashboard show it.
    package enum Admission: Sendable, Equatable {
        /// Not probed yet (or probing now).
        case unchecked
        case admitted
        /// Its vectors disagree with the reference; probed again after `recheckAfter`.
        case refused(String)
        /// It failed a call or its probe; probed again after `recheckAfter`.
        case suspended(String)
    }

    package struct MemberStatus: Sendable, Equatable {
        package var name: String
        package var admission: Admission
        package var isReference: Bool
        package var isPaid: Bool
        /// Recent latency of one call, ms.
        package var latencyMs: Double?
        /// Recent texts per second in batches.
        package var textsPerSecond: Double?
        package var served: Int
    }

    struct MemberRuntime {
        var admission: Admission = .unchecked
        var since: ContinuousClock.Instant?
        var probing = false
        var latencyMs: Double?
        var textsPerSecond: Double?
        var served = 0
    }

    /// - Parameters:
    ///   - members: without a `reference`, the first is the reference, whose probe vectors the others must match.
    ///   - reference: the model's own probe vectors, which every member must match.
    ///   - recheckAfter: how long a suspended or refused member waits before its next probe.
    package init(members: [PoolMember], reference: ProbeReference? = nil, spend: (any SpendPolicy)? = nil,
                 recheckAfter: Duration = .seconds(30), now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        precondition(!members.isEmpty, "a pool needs a member")
        self.members = members
        self.spend = spend
        self.recheckAfter = recheckAfter
        self.now = now
        var runtime = Array(repeating: MemberRuntime(), count: members.count)
        // One member and no reference: it is its own reference, nothing to compare, nothing to probe.
        if members.count == 1 && reference == nil { runtime[0].admission = .admitted }
        state = Mutex(runtime)
        referenceVectors = Mutex(reference?.vectors)
        hasReferenceFile = reference != nil
    }

    package var modelId: String { members[0].provider.modelId }
    package var dimension: Int { members[0].provider.dimension }
    package var maxInputTokens: Int { members.map(\.provider.maxInputTokens).min() ?? members[0].provider.maxInputTokens }
    /// Whether the member a query would go to now runs in this process.
    package var runsLocally: Bool { members[ranked(for: .query, orderOnly: true).first ?? 0].provider.runsLocally }

    /// The first member that counts tokens with the model's own tokenizer, for the chunker.
    package var tokenCounting: (any CountsTokens)? {
        members.lazy.compactMap { $0.provider as? any CountsTokens }.first
    }

    package var usage: EmbeddingUsage {
        var total = counters.value
        for m in members {
            guard let u = (m.provider as? any ReportsEmbeddingUsage)?.usage else { continue }
            total.calls += u.calls
            total.retries += u.retries
            total.failures += u.failures
            total.piiBlocked += u.piiBlocked
            total.piiRedacted += u.piiRedacted
            total.breakerOpen = total.breakerOpen || u.breakerOpen
        }
        return total
    }

    package var statuses: [MemberStatus] {
        state.withLock { s in
            members.indices.map { i in
                MemberStatus(name: members[i].name, admission: s[i].admission, isReference: i == 0 && !hasReferenceFile, isPaid: members[i].isPaid,
                             latencyMs: s[i].latencyMs, textsPerSecond: s[i].textsPerSecond, served: s[i].served)
            }
        }
    }

    // MARK: Admission

    /// Probes every member not yet admitted, all at once (at start, so the first request does not pay for it).
    package func checkAll() async {
        await withTaskGroup(of: Void.self) { group in
            for i in members.indices where needsProbe(i) { group.addTask { _ = await self.probe(i) } }
        }
    }

    private func needsProbe(_ i: Int) -> Bool {
        state.withLock { s in
            switch s[i].admission {
            case .admitted: return false
            case .unchecked: return !s[i].probing
            case .refused, .suspended: return !s[i].probing && (s[i].since.map { now() - $0 >= recheckAfter } ?? true)
            }
        }
    }

    /// The reference's probe vectors, computed once from the first member.
    private func reference() async throws -> [[Float]] {
        if let r = referenceVectors.withLock({ $0 }) { return r }
        let vectors = try await embedProbes(0)
        referenceVectors.withLock { $0 = vectors }
        return vectors
    }

    /// Embeds the probe set with member `i`, timing a single query and a batch.
    private func embedProbes(_ i: Int) async throws -> [[Float]] {
        let p = members[i].provider
        var vectors: [[Float]] = []
        var single: Duration = .zero
        for q in ProbeSet.queries {
            let t = now()
            vectors.append(contentsOf: try await p.embed([q], role: .query).map(\.vector))
            single += now() - t
        }
        let t = now()
        vectors.append(contentsOf: try await p.embed(ProbeSet.passages, role: .passage).map(\.vector))
        let batch = now() - t
        state.withLock { s in
            s[i].latencyMs = Self.ms(single) / Double(ProbeSet.queries.count)
            s[i].textsPerSecond = Double(ProbeSet.passages.count) / max(Self.ms(batch) / 1000, 1e-6)
        }
        return vectors
    }

    /// Probes member `i`; true when it is admitted afterwards.
    private func probe(_ i: Int) async -> Bool {
        let mine = state.withLock { s in
            guard !s[i].probing else { return false }
            s[i].probing = true
            return true
        }
        guard mine else { return false }
        let outcome: Admission
        do {
            let ref = try await reference()
            if i == 0 && !hasReferenceFile {
                outcome = .admitted
            } else {
                let candidate = try await embedProbes(i)
                outcome = ProbeSet.disagreement(reference: ref, candidate: candidate)
                    .map { .refused("not the model's vectors: \($0)") } ?? .admitted
            }
        } catch {
            outcome = i == 0 || hasReferenceFile ? .suspended("the probe failed: \(error)")
                             : .suspended("unchecked: \(Self.referenceOrProbe(error, referenceUp: referenceVectors.withLock { $0 } != nil))")
        }
        state.withLock { s in
            s[i].probing = false
            s[i].admission = outcome
            s[i].since = now()
        }
        return outcome == .admitted
    }

    private static func referenceOrProbe(_ error: any Error, referenceUp: Bool) -> String {
        referenceUp ? "the probe failed: \(error)" : "the reference provider could not embed the probe set: \(error)"
    }

    // MARK: Routing

    /// Member indices in the order a call of `purpose` tries them: admitted members by recent
    /// latency (queries) or throughput (bulk), then those due for another probe.
    func ranked(for purpose: EmbeddingCallContext.Purpose, orderOnly: Bool = false) -> [Int] {
        state.withLock { s in
            let admitted = members.indices.filter { s[$0].admission == .admitted }
            let sorted = admitted.sorted { a, b in
                switch purpose {
                case .query:
                    let (la, lb) = (s[a].latencyMs ?? .infinity, s[b].latencyMs ?? .infinity)
                    return la != lb ? la < lb : a < b
                case .bulk:
                    let (ta, tb) = (s[a].textsPerSecond ?? 0, s[b].textsPerSecond ?? 0)
                    return ta != tb ? ta > tb : a < b
                }
            }
            if orderOnly { return sorted }
            // Then members waiting for a probe: those due first, then, as a last resort when
            // nothing else answers, suspended ones not yet due. A refused member (another
            // model) serves only after a probe it passes, when due.
            var due: [Int] = [], early: [Int] = []
            for i in members.indices where s[i].admission != .admitted && !s[i].probing {
                let isDue = s[i].admission == .unchecked || (s[i].since.map { now() - $0 >= recheckAfter } ?? true)
                if isDue { due.append(i) } else if case .suspended = s[i].admission { early.append(i) }
            }
            return sorted + due + early
        }
    }

    package func embed(_ texts: [String], role: EmbeddingRole) async throws -> [Embedding] {
        guard !texts.isEmpty else { return [] }
        let purpose = purpose(texts, role)
        var order = ranked(for: purpose)
        let org = EmbeddingCallContext.current?.org
        if purpose == .bulk, let spend, order.contains(where: { members[$0].isPaid }) {
            if case .freeOnly(let reason, let until) = await spend.decision(org: org) {
                order.removeAll { members[$0].isPaid }
                if order.isEmpty {
                    counters.record { $0.budgetDeferred += 1 }
                    throw EmbeddingError.budgetExceeded(until: until, "\(reason), and no provider of \(modelId) that costs nothing can take the work")
                }
            }
        }
        // A member back from a failure (or refused before) is probed again when due, beside the
        // call rather than in front of it: the request goes on with the admitted ones.
        let admittedCount = state.withLock { s in order.filter { s[$0].admission == .admitted }.count }
        if admittedCount > 0 {
            for i in order.dropFirst(admittedCount) where needsProbe(i) { Task { _ = await self.probe(i) } }
        }
        var failures: [(name: String, error: any Error)] = []
        for (n, i) in order.enumerated() {
            if state.withLock({ $0[i].admission != .admitted }) {
                guard await probe(i) else { continue }
            }
            do {
                let out = try await serve(i, texts, role: role, purpose: purpose)
                if n > 0 || !failures.isEmpty { counters.record { $0.failovers += 1 } }
                return out
            } catch let e as EmbeddingError where !Self.movesOn(e) {
                throw e
            } catch {
                failures.append((members[i].name, error))
                // A lone member has no one to hand over to: it stays in, and its breaker decides.
                if members.count > 1, let e = error as? EmbeddingError, Self.suspends(e) {
                    state.withLock { s in
                        s[i].admission = .suspended("failed a call: \(error)")
                        s[i].since = now()
                    }
                }
            }
        }
        throw Self.combined(failures, model: modelId)
    }

    private func purpose(_ texts: [String], _ role: EmbeddingRole) -> EmbeddingCallContext.Purpose {
        EmbeddingCallContext.current?.purpose ?? (role == .query && texts.count == 1 ? .query : .bulk)
    }

    /// One call to member `i`, timed and billed.
    private func serve(_ i: Int, _ texts: [String], role: EmbeddingRole, purpose: EmbeddingCallContext.Purpose) async throws -> [Embedding] {
        let m = members[i]
        let t = now()
        let out = try await m.provider.embed(texts, role: role)
        let ms = Self.ms(now() - t)
        state.withLock { s in
            s[i].served += 1
            // Moving averages, a fifth per call: recent enough to follow a provider that slows
            // down, steady enough that one slow call does not move all traffic.
            if texts.count == 1 { s[i].latencyMs = Self.average(s[i].latencyMs, ms) }
            if texts.count > 1 { s[i].textsPerSecond = Self.average(s[i].textsPerSecond, Double(texts.count) / max(ms / 1000, 1e-6)) }
        }
        if let spend, m.isPaid || purpose == .bulk {
            let tokens = out.reduce(0) { $0 + $1.tokenCount }
            await spend.record(org: EmbeddingCallContext.current?.org, provider: m.name, model: m.provider.modelId, tokens: tokens,
                               costUSD: Double(tokens) / 1000 * m.pricePer1kTokens, purpose: purpose)
        }
        return out
    }

    static func average(_ old: Double?, _ new: Double) -> Double { old.map { $0 * 0.8 + new * 0.2 } ?? new }

    static func ms(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }

    /// Whether another member may succeed where this one failed: everything but input no provider takes.
    static func movesOn(_ e: EmbeddingError) -> Bool {
        if case .invalidInput = e { return false }
        return true
    }

    /// Whether the failure says the member is unhealthy (not that this request was refused).
    static func suspends(_ e: EmbeddingError) -> Bool {
        switch e {
        case .unavailable, .providerFailed, .malformedResponse, .rateLimited, .unauthorized, .modelMissing, .modelCorrupt, .configuration: true
        case .invalidInput, .badRequest, .personalData, .budgetExceeded: false
        }
    }

    /// Every member failed: the error a caller can act on. A retryable failure wins over a
    /// refusal, since the member that failed may take the text when it is back.
    static func combined(_ failures: [(name: String, error: any Error)], model: String) -> any Error {
        guard !failures.isEmpty else {
            return EmbeddingError.unavailable("no provider of \(model) is admitted (see readiness for each one's reason)")
        }
        if failures.count == 1 { return failures[0].error }
        let all = failures.map { "\($0.name): \($0.error)" }.joined(separator: "; ")
        let errors = failures.compactMap { $0.error as? EmbeddingError }
        if errors.count == failures.count, errors.allSatisfy({ if case .personalData = $0 { true } else { false } }) {
            return EmbeddingError.personalData("every provider of \(model) that was tried is external (\(all))")
        }
        if errors.contains(where: suspends) || errors.count < failures.count {
            return EmbeddingError.unavailable("every provider of \(model) failed: \(all)")
        }
        return failures[0].error
    }
}
