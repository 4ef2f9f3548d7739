import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// AWS credentials: on Lambda, the execution role's, from `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
package struct AWSCredentials: Sendable, Equatable {
    package var accessKeyId: String
    package var secretAccessKey: String
    package var sessionToken: String?

    package init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// Nil when the key pair is not in the environment.
    package static func fromEnvironment(_ env: [String: String]) -> AWSCredentials? {
        guard let id = env["AWS_ACCESS_KEY_ID"], !id.isEmpty, let secret = env["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else { return nil }
        let token = env["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token)
    }
}

/// Signature Version 4 for a request with its body in hand (header signing, not presigned URLs),
/// as https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
/// describes. HMAC and SHA-256 come from swift-crypto.
package struct SigV4Signer: Sendable {
    package var credentials: AWSCredentials
    package var region: String
    package var service: String

    package init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers to add to the request: `Authorization`, `X-Amz-Date`, and
    /// `X-Amz-Security-Token` with temporary credentials (plus `X-Amz-Content-Sha256`, which S3
    /// requires and other services ignore, when `contentSha256Header`). `headers` are the ones
    /// the request already carries; all of them are signed, with `host` from the URL.
    package func sign(method: String, url: URL, headers: [String: String] = [:], body: Data = Data(), date: Date = Date(),
                     contentSha256Header: Bool = false) -> [String: String] {
        let (amzDate, day) = Self.timestamps(date)
        let payloadHash = Self.hex(SHA256.hash(data: body))
        var signed: [String: String] = [:]
        for (k, v) in headers { signed[k.lowercased()] = Self.trimmed(v) }
        var host = url.host ?? ""
        if let port = url.port, !(url.scheme == "https" && port == 443), !(url.scheme == "http" && port == 80) { host += ":\(port)" }
        signed["host"] = host
        signed["x-amz-date"] = amzDate
        if contentSha256Header { signed["x-amz-content-sha256"] = payloadHash }
        if let token = credentials.sessionToken { signed["x-amz-security-token"] = token }

        let names = signed.keys.sorted()
        var headerBlock = ""
        for name in names { headerBlock += name + ":" + (signed[name] ?? "") + "\n" }
        let parts: [String] = [method.uppercased(), Self.canonicalPath(url), Self.canonicalQuery(url), headerBlock,
                               names.joined(separator: ";"), payloadHash]
        let canonical = parts.joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let toSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(data: Data(canonical.utf8)))].joined(separator: "\n")

        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: key))

        let signedNames = names.joined(separator: ";")
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope), SignedHeaders=\(signedNames), Signature=\(signature)"
        var out: [String: String] = ["X-Amz-Date": amzDate, "Authorization": authorization]
        if contentSha256Header { out["X-Amz-Content-Sha256"] = payloadHash }
        if let token = credentials.sessionToken { out["X-Amz-Security-Token"] = token }
        return out
    }

    // MARK: Canonical forms

    /// The request's path as sent (percent-encoded), each segment URI-encoded again: every
    /// service but S3 signs the double-encoded path (a function ARN's `:` is `%3A` on the wire
    /// and `%253A` in the canonical request), as the AWS SDKs do.
    static func canonicalPath(_ url: URL) -> String {
        let path = url.path(percentEncoded: true)
        if path.isEmpty { return "/" }
        return path.split(separator: "/", omittingEmptySubsequences: false).map { uriEncode(String($0)) }.joined(separator: "/")
    }

    static func canonicalQuery(_ url: URL) -> String {
        guard let items = URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems, !items.isEmpty else { return "" }
        var pairs: [(name: String, value: String)] = []
        for item in items { pairs.append((uriEncode(item.name), uriEncode(item.value ?? ""))) }
        pairs.sort { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        var out: [String] = []
        for p in pairs { out.append(p.name + "=" + p.value) }
        return out.joined(separator: "&")
    }

    /// RFC 3986 unreserved characters stay; every other byte is %XX, upper-case.
    package static func uriEncode(_ s: String) -> String {
        let upper = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in s.utf8 {
            let unreserved = (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
                || b == 0x2D || b == 0x5F || b == 0x2E || b == 0x7E
            if unreserved { out.append(b) } else { out += [0x25, upper[Int(b >> 4)], upper[Int(b & 15)]] }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Leading and trailing spaces removed, inner runs of spaces made one.
    static func trimmed(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// `yyyyMMdd'T'HHmmss'Z'` and `yyyyMMdd` in UTC (days to civil date, Howard Hinnant's algorithm).
    static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
        let secs = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        let rem = secs - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let day = pad(y, 4) + pad(m, 2) + pad(d, 2)
        return (day + "T" + pad(rem / 3600, 2) + pad(rem % 3600 / 60, 2) + pad(rem % 60, 2) + "Z", day)
    }

    static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes { out += [digits[Int(b >> 4)], digits[Int(b & 15)]] }
        return String(decoding: out, as: UTF8.self)
    }
}
