import ConfigFiles
import Embeddings
import Foundation
import PrivacyGuard

/// `EMBEDDING_PROVIDERS_FILE`: the providers of the one configured model, their prices and the
/// spending limits (format: config/embedding/providers.yaml and the README's "Embedding
/// providers"). Without the file, the provider `EMBEDDING_PROVIDER` names is the only one.
///
/// The model, its size, its prefixes, the caches and `PII_POLICY` still come from the
/// environment: they describe the vectors, which every provider must produce alike.
package struct EmbeddingProvidersFile: Sendable, Equatable {
    package struct Member: Sendable, Equatable {
        package var name: String
        package var kind: EmbeddingConfiguration.ProviderKind
        package var baseURL: String?
        package var apiKey: String?
        package var timeoutMs: Int?
        package var batchSize: Int?
        package var pricePer1kTokens: Double
        /// `private` or `external`, overriding what the base URL's address says.
        package var location: String?
    }

    package var members: [Member]
    /// Members left out because their base URL (or key) was empty after `${VAR}` substitution.
    package var disabled: [String]
    package var budgets: Budgets
    package var recheck: Duration

    package static let variable = "EMBEDDING_PROVIDERS_FILE"

    package static func load(path: String, environment: [String: String]) throws(EmbeddingPolicyError) -> EmbeddingProvidersFile {
        let root = try YAMLField<EmbeddingPolicyError>.load(path)
        /// A number that may come from the environment (`${VAR}`); empty after substitution is unset.
        func number(_ field: YAMLField<EmbeddingPolicyError>?, _ range: ClosedRange<Double>) throws(EmbeddingPolicyError) -> Double? {
            guard let field else { return nil }
            let text = try field.substituted(environment).trimmingCharacters(in: .whitespaces)
            if text.isEmpty { return nil }
            guard let v = Double(text), v.isFinite else { throw field.error("expected a number, not `\(text)`") }
            guard range.contains(v) else { throw field.error("\(text) is outside \(range.lowerBound)...\(range.upperBound)") }
            return v
        }
        let top = try root.fields(allowed: ["providers", "budgets", "recheck_seconds"])
        guard let list = top["providers"] else { throw root.error("needs `providers:`, a list of the model's providers (the first is the reference)") }
        var members: [Member] = []
        var disabled: [String] = []
        for item in try list.items() {
            let f = try item.fields(allowed: ["name", "kind", "base_url", "api_key", "timeout_ms", "batch_size", "price_per_1k_tokens", "location"])
            guard let nameField = f["name"] else { throw item.error("every provider needs a `name`") }
            let name = try nameField.nonEmptyString()
            guard !members.contains(where: { $0.name == name }), !disabled.contains(name) else { throw nameField.error("`\(name)` is named twice") }
            guard let kindField = f["kind"] else { throw item.error("`\(name)` needs a `kind`") }
            let kindText = try kindField.string().lowercased()
            guard let kind = EmbeddingConfiguration.ProviderKind(rawValue: kindText) else {
                throw kindField.error("`\(kindText)` is not a provider kind; use one of "
                                      + EmbeddingConfiguration.ProviderKind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            let baseURL = try f["base_url"].map { field throws(EmbeddingPolicyError) in try field.substituted(environment) }.flatMap { $0.isEmpty ? nil : $0 }
            let apiKey = try f["api_key"].map { field throws(EmbeddingPolicyError) in try field.substituted(environment) }.flatMap { $0.isEmpty ? nil : $0 }
            if kind != .native {
                // Like the LLM providers: a member whose server or key is not configured here is
                // off, not an error, so one file serves every environment.
                let needsKey = kind == .openai || kind == .jina
                if (baseURL ?? kind.defaultBaseURL) == nil || (needsKey && apiKey == nil) {
                    disabled.append(name)
                    continue
                }
            }
            var location: String?
            if let l = f["location"] {
                let text = try l.string().lowercased()
                guard ["private", "external"].contains(text) else { throw l.error("`\(text)` is not a location; use private or external") }
                location = text
            }
            members.append(Member(
                name: name, kind: kind, baseURL: baseURL, apiKey: apiKey,
                timeoutMs: try f["timeout_ms"]?.int(in: 1...600_000), batchSize: try f["batch_size"]?.int(in: 1...4096),
                pricePer1kTokens: try number(f["price_per_1k_tokens"], 0...1000) ?? 0, location: location))
        }
        guard !members.isEmpty else {
            throw list.error("no provider is enabled" + (disabled.isEmpty ? "" : " (\(disabled.joined(separator: ", ")) have no base URL or key here)"))
        }
        var budgets = Budgets()
        if let b = top["budgets"] {
            let bf = try b.fields(allowed: ["deployment", "org", "soft_limit", "look_again_seconds"])
            func limits(_ field: YAMLField<EmbeddingPolicyError>?) throws(EmbeddingPolicyError) -> (Double?, Double?) {
                guard let field else { return (nil, nil) }
                let lf = try field.fields(allowed: ["daily_usd", "monthly_usd"])
                return (try number(lf["daily_usd"], 0...1e9), try number(lf["monthly_usd"], 0...1e9))
            }
            (budgets.deploymentDaily, budgets.deploymentMonthly) = try limits(bf["deployment"])
            (budgets.orgDaily, budgets.orgMonthly) = try limits(bf["org"])
            if let s = bf["soft_limit"] { budgets.softLimit = try s.double(in: 0.01...1) }
            if let s = bf["look_again_seconds"] { budgets.lookAgain = .seconds(try s.int(in: 1...86_400)) }
        }
        let recheck = Duration.seconds(try top["recheck_seconds"]?.int(in: 1...86_400) ?? 30)
        return EmbeddingProvidersFile(members: members, disabled: disabled, budgets: budgets, recheck: recheck)
    }

    /// The configuration of one member: the environment's model and settings, the member's server.
    package func configuration(of m: Member, base: EmbeddingConfiguration) throws(EmbeddingError) -> EmbeddingConfiguration {
        var c = base
        c.provider = m.kind
        if m.kind == .native {
            guard let native = EmbeddingModelRegistry.spec(for: base.spec.id), EmbeddingModelRegistry.native.contains(native), base.dimensions == nil else {
                throw .configuration("\(Self.variable): provider `\(m.name)` is native, but \(base.modelId) has no native implementation "
                                     + "(the native provider runs " + EmbeddingModelRegistry.native.map(\.id).joined(separator: " and ") + ")")
            }
            c.baseURL = nil
            c.apiKey = nil
            c.providerLocation = .inProcess
            return c
        }
        guard let url = m.baseURL ?? m.kind.defaultBaseURL, let parsed = URL(string: url),
              ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
            throw .configuration("\(Self.variable): provider `\(m.name)`: base_url \(m.baseURL ?? "") is not an http(s) URL")
        }
        c.baseURL = url
        c.apiKey = m.apiKey
        if let t = m.timeoutMs { c.timeout = .milliseconds(t) }
        if let b = m.batchSize { c.batchSize = b }
        c.providerLocation = ProviderLocation.of(url: url, declared: m.location)
        return c
    }
}
