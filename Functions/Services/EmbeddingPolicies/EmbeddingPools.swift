import DocumentStore
import Embeddings
import Foundation

/// Builds the providers of the configured model as one pool, with the store's ledger.
package enum EmbeddingPools {
    /// The pool and its ledger. With `EMBEDDING_PROVIDERS_FILE`, the file's members, prices and
    /// budgets; without it, the one provider `EMBEDDING_PROVIDER` names, free and unlimited (its
    /// bulk tokens are still counted, for `GET /v1/usage`).
    package static func make(_ c: EmbeddingConfiguration, environment env: [String: String], store: any Store)
    throws(EmbeddingError) -> (pool: EmbeddingProviderPool, ledger: StoreSpendLedger, file: EmbeddingProvidersFile?) {
        let (members, file) = try self.members(c, environment: env)
        let ledger = StoreSpendLedger(store: store, budgets: file?.budgets ?? Budgets())
        let pool = EmbeddingProviderPool(members: members, reference: try reference(c, environment: env), spend: ledger,
                                         recheckAfter: file?.recheck ?? .seconds(30))
        return (pool, ledger, file)
    }

    /// The members alone (readiness probes them without a ledger).
    /// - Parameter skippingNative: leave the native members out (readiness loads no model).
    package static func members(_ c: EmbeddingConfiguration, environment env: [String: String], skippingNative: Bool = false)
    throws(EmbeddingError) -> (members: [PoolMember], file: EmbeddingProvidersFile?) {
        var file: EmbeddingProvidersFile?
        if let path = env[EmbeddingProvidersFile.variable], !path.isEmpty {
            do { file = try EmbeddingProvidersFile.load(path: path, environment: env) } catch {
                throw .configuration("\(EmbeddingProvidersFile.variable): \(error.description)")
            }
        }
        let members: [PoolMember]
        if let file {
            var built: [PoolMember] = []
            for m in file.members where !(skippingNative && m.kind == .native) {
                built.append(PoolMember(name: m.name, provider: try EmbeddingProviders.make(try file.configuration(of: m, base: c)),
                                        pricePer1kTokens: m.pricePer1kTokens))
            }
            members = built
        } else {
            members = [PoolMember(name: c.provider.rawValue, provider: try EmbeddingProviders.make(c))]
        }
        return (members, file)
    }

    /// The model's probe reference: `EMBEDDING_PROBE_REFERENCE`, else `probes/<model>.json` beside
    /// the providers file; nil without a providers file or without such a file (then the first
    /// provider is the reference).
    package static func reference(_ c: EmbeddingConfiguration, environment env: [String: String]) throws(EmbeddingError) -> ProbeReference? {
        let path: String
        if let p = env["EMBEDDING_PROBE_REFERENCE"], !p.isEmpty {
            path = p
        } else if let file = env[EmbeddingProvidersFile.variable], !file.isEmpty {
            path = ((file as NSString).deletingLastPathComponent as NSString)
                .appendingPathComponent("probes/" + ProbeReference.fileName(model: c.modelId))
        } else {
            return nil
        }
        guard let reference = try ProbeReference.load(path: path) else {
            if env["EMBEDDING_PROBE_REFERENCE"].map({ !$0.isEmpty }) == true { throw .configuration("EMBEDDING_PROBE_REFERENCE=\(path): no such file") }
            return nil
        }
        guard reference.model == c.modelId else {
            throw .configuration("\(path) is the probe reference of \(reference.model), not \(c.modelId)")
        }
        return reference
    }
}
