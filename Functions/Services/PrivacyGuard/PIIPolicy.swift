import Foundation

/// What happens to text with personal data before it goes to a provider outside this process
/// (`PII_POLICY`): `local` keeps it from any provider that is not in this process or on a
/// private address (the call is refused with the reason), `redact` masks it before sending (what
/// is stored keeps the original), `allow` sends it as it is.
package enum PIIPolicy: String, Sendable, CaseIterable {
    case local, redact, allow

    /// `PII_POLICY`, `local` when unset (seed 004: PII forces local processing).
    package static func fromEnvironment(_ env: [String: String]) throws(PIIConfigurationError) -> PIIPolicy {
        guard let raw = env["PII_POLICY"]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return .local }
        guard let p = PIIPolicy(rawValue: raw.lowercased()) else {
            throw PIIConfigurationError(description: "PII_POLICY=\(raw) is not one of local, redact, allow")
        }
        return p
    }
}

package struct PIIConfigurationError: Error, CustomStringConvertible, Equatable {
    package var description: String
}

/// Whether a provider at a URL is inside the deployment's network: loopback, private (RFC 1918,
/// RFC 4193), link-local, or a `.local`/`.internal` name. Anything else is external. A declared
/// location (`private` or `external`) wins: a VPC endpoint of a hosted API is external though
/// its address is private, and a test's local fake can stand for an external API.
package enum ProviderLocation: String, Sendable {
    case inProcess = "in_process", `private`, external

    package static func of(url: String, declared: String? = nil) -> ProviderLocation {
        if let d = declared?.lowercased() {
            if d == "private" { return .private }
            if d == "external" { return .external }
        }
        guard let host = URLComponents(string: url)?.host?.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]")) else {
            return .external
        }
        if host == "localhost" || host.hasSuffix(".local") || host.hasSuffix(".internal") || host.hasSuffix(".localhost") { return .private }
        let parts = host.split(separator: ".").compactMap { Int($0) }
        if parts.count == 4 {
            switch (parts[0], parts[1]) {
            case (127, _), (10, _), (192, 168), (169, 254): return .private
            case (172, let b) where (16...31).contains(b): return .private
            default: return .external
            }
        }
        if host == "::1" || host.hasPrefix("fc") || host.hasPrefix("fd") || host.hasPrefix("fe80:") { return .private }
        return .external
    }
}
