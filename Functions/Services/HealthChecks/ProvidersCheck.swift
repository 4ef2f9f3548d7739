import EmbeddingPolicies
import Embeddings
import Foundation
import Synchronization

extension ReadinessCheck {
    /// With `EMBEDDING_PROVIDERS_FILE`: every HTTP provider of the model is admitted, i.e. its
    /// vectors for the probe set agree with the model's reference (its shipped probe file, else
    /// the first provider's); a refused or failing one is named with its reason. Probes run once
    /// per process and again only for a provider not admitted, after the file's
    /// `recheck_seconds`, so polling readiness does not run up a paid API's bill.
    ///
    /// The probes run in a task of their own: a check that times out (health has 5 s) leaves
    /// them running, and the next poll reports what they found.
    package static func embeddingProviders(environment env: [String: String], timeout: Duration = .seconds(4)) -> ReadinessCheck? {
        guard let path = env[EmbeddingProvidersFile.variable], !path.isEmpty else { return nil }
        let built = Mutex<EmbeddingProviderPool?>(nil)
        let probing = Mutex<ProbeRound?>(nil)
        return ReadinessCheck("embedding_providers", timeout: timeout) {
            let pool: EmbeddingProviderPool
            if let p = built.withLock({ $0 }) {
                pool = p
            } else {
                do {
                    let c = try EmbeddingConfiguration.fromEnvironment(env)
                    let file = try EmbeddingProvidersFile.load(path: path, environment: env)
                    // Health loads no model (128 MB, and on Lambda none is shipped to it): it
                    // checks the HTTP providers against the model's shipped reference vectors.
                    // Without a reference file the first provider is the reference, and if that
                    // is the native model, the functions that embed check at their start.
                    let reference = try EmbeddingPools.reference(c, environment: env)
                    guard reference != nil || file.members.first?.kind != .native else { return }
                    let (all, _) = try EmbeddingPools.members(c, environment: env, skippingNative: true)
                    guard !all.isEmpty else { return }
                    pool = EmbeddingProviderPool(members: all, reference: reference, recheckAfter: file.recheck)
                } catch {
                    throw CheckFailure("\(error)")
                }
                built.withLock { $0 = pool }
            }
            let round = probing.withLock { r in
                if r == nil || r!.finished { r = ProbeRound(pool) }
                return r!
            }
            await round.task.value
            let bad = pool.statuses.compactMap { s -> String? in
                switch s.admission {
                case .admitted: return nil
                case .unchecked: return "\(s.name): not checked yet"
                case .refused(let why), .suspended(let why): return "\(s.name): \(why)"
                }
            }
            if !bad.isEmpty { throw CheckFailure(bad.joined(separator: "; ")) }
        }
    }
}

/// One round of probes, running on its own so that a timed-out readiness check leaves it going.
private final class ProbeRound: Sendable {
    private let done = Flag()
    let task: Task<Void, Never>

    init(_ pool: EmbeddingProviderPool) {
        let done = self.done
        task = Task {
            await pool.checkAll()
            done.value.store(true, ordering: .releasing)
        }
    }

    var finished: Bool { done.value.load(ordering: .acquiring) }

    private final class Flag: Sendable { let value = Atomic(false) }
}
