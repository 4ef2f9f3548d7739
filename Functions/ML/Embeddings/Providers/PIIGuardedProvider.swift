import PrivacyGuard

/// An external embedding provider behind the PII guard (`PII_POLICY`): texts with personal data
/// or secrets are refused (`local`: the call fails, not retried, saying which kinds and why) or
/// masked before they are sent (`redact`: the caller keeps and stores the original; only the
/// vector comes from the masked text).
package struct PIIGuardedProvider: EmbeddingProvider, ReportsEmbeddingUsage {
    package let base: any EmbeddingProvider
    package let policy: PIIPolicy
    let endpoint: String
    private let detector = PIIDetector()
    private let counters = EmbeddingUsageCounters()

    package init(_ base: any EmbeddingProvider, policy: PIIPolicy, endpoint: String) {
        self.base = base
        self.policy = policy
        self.endpoint = endpoint
    }

    package var modelId: String { base.modelId }
    package var dimension: Int { base.dimension }
    package var maxInputTokens: Int { base.maxInputTokens }
    package var runsLocally: Bool { base.runsLocally }

    package var usage: EmbeddingUsage {
        var u = (base as? any ReportsEmbeddingUsage)?.usage ?? EmbeddingUsage()
        let own = counters.value
        u.piiBlocked = own.piiBlocked
        u.piiRedacted = own.piiRedacted
        return u
    }

    package func embed(_ texts: [String], role: EmbeddingRole) async throws -> [Embedding] {
        switch policy {
        case .allow:
            return try await base.embed(texts, role: role)
        case .local:
            let flagged = texts.map(detector.kinds(in:))
            let n = flagged.filter { !$0.isEmpty }.count
            guard n > 0 else { return try await base.embed(texts, role: role) }
            counters.record { $0.piiBlocked += n }
            let kinds = flagged.reduce(into: Set<PIIDetector.Kind>()) { $0.formUnion($1) }.sorted().map(\.rawValue)
            throw EmbeddingError.personalData(
                "\(n) of \(texts.count) text(s) hold personal data or secrets (\(kinds.joined(separator: ", "))), and PII_POLICY=local keeps "
                + "them from \(endpoint), an external provider; use a provider in this network, PII_POLICY=redact, or remove the data")
        case .redact:
            let masked = texts.map(detector.redact)
            let n = masked.filter { $0.count > 0 }.count
            if n > 0 { counters.record { $0.piiRedacted += n } }
            return try await base.embed(masked.map(\.text), role: role)
        }
    }
}
