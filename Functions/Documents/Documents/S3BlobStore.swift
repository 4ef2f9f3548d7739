import AWSSigV4
import Crypto
import Foundation
import HTTPClient
import Synchronization
import Tenancy

/// Blobs as objects in an S3 bucket (`BLOB_URL=s3://bucket/prefix`): `<prefix>/<org>/<sha256>-<16 hex>`,
/// URIs `s3://bucket/<key>`. What Lambda needs: every instance of `upload` and `reembed` sees the
/// same objects, where a folder under `/tmp` belongs to one instance.
///
/// A write is durable when it returns: S3 answers 200 only once the object is stored, and the
/// PUT carries `x-amz-checksum-sha256`, so S3 refuses bytes that changed on the way. Requests are
/// signed with SigV4 (`Runtime/AWSSigV4`) from the credentials Lambda puts in the environment.
/// Object keys hold only RFC 3986 unreserved characters and `/` (the org folder is named as
/// `FileBlobStore` names it), so the signer's canonical path is exact for S3 too.
///
/// Calls block (like the stores): a handler serves one invocation at a time. Server errors,
/// `SlowDown` and dropped connections are retried with jittered exponential backoff; access,
/// bucket and key errors are typed (`BlobStoreError.accessDenied`, `.noSuchBucket`, `.notFound`).
package final class S3BlobStore: BlobStore, Sendable {
    package let bucket: String
    /// No leading or trailing `/`; empty for the bucket's root.
    package let prefix: String
    let signer: SigV4Signer
    /// `https://s3.<region>.amazonaws.com`-style virtual hosts, or a path-style endpoint
    /// (`AWS_ENDPOINT_URL_S3`, for moto or MinIO): `<endpoint>/<bucket>/<key>`.
    let endpoint: String?
    let attempts: Int
    private let client: Mutex<CurlHTTPClient?>

    package init(url: String, credentials: AWSCredentials, region: String, endpoint: String? = nil, attempts: Int = 4) throws(BlobStoreError) {
        guard url.hasPrefix("s3://") else { throw .invalidURI(url) }
        let rest = url.dropFirst("s3://".count)
        let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bucket = parts.first, Self.isValidBucket(String(bucket)) else {
            throw .configuration("BLOB_URL=\(url): the bucket name must be 3-63 lower-case letters, digits, dots and hyphens")
        }
        self.bucket = String(bucket)
        prefix = parts.count > 1 ? parts[1].split(separator: "/").joined(separator: "/") : ""
        guard prefix.utf8.allSatisfy({ Self.isKeyByte($0) || $0 == UInt8(ascii: "/") }) else {
            throw .configuration("BLOB_URL=\(url): the prefix may hold letters, digits and - _ . ~ / only")
        }
        signer = SigV4Signer(credentials: credentials, region: region, service: "s3")
        self.endpoint = endpoint.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.attempts = max(1, attempts)
        client = Mutex(nil)
    }

    static func isValidBucket(_ name: String) -> Bool {
        (3...63).contains(name.utf8.count)
            && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D }
    }

    static func isKeyByte(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x5F || b == 0x2E || b == 0x7E
    }

    // MARK: BlobStore

    package func write(org: OrgID, sha256: String, bytes: [UInt8]) throws(BlobStoreError) -> BlobRef {
        guard sha256.utf8.count == 64, sha256.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw .invalidURI("sha256 must be 64 lower-case hex digits")
        }
        let id = FileBlobStore.randomHex(8)
        let key = (prefix.isEmpty ? "" : prefix + "/") + FileBlobStore.folderName(org: org.rawValue) + "/" + sha256 + "-" + id
        let body = Data(bytes)
        // The checksum of what we send, computed here rather than trusted from `sha256`: S3
        // compares it with what it received.
        let checksum = Data(SHA256.hash(data: body)).base64EncodedString()
        let response = try send("PUT", key: key, body: body, headers: [
            "content-type": "application/octet-stream", "x-amz-checksum-sha256": checksum,
        ])
        guard response.status == 200 else { throw Self.error(response, key: key, uri: uri(key)) }
        return BlobRef(uri: uri(key), bytes: bytes.count, id: id)
    }

    package func read(uri: String) throws(BlobStoreError) -> [UInt8] {
        let key = try key(of: uri)
        let response = try send("GET", key: key)
        guard response.status == 200 else { throw Self.error(response, key: key, uri: uri) }
        return Array(response.body)
    }

    package func delete(uri: String) throws(BlobStoreError) {
        let key = try key(of: uri)
        let response = try send("DELETE", key: key)
        // S3 answers 204 whether or not the object was there.
        guard response.status == 204 || response.status == 200 || response.status == 404 else {
            throw Self.error(response, key: key, uri: uri)
        }
    }

    /// Readiness: writes and deletes a small object under the prefix, which proves the bucket
    /// exists and this role may write to it (what `upload` and the `delete` job need).
    package func checkWritable() throws(BlobStoreError) {
        let key = (prefix.isEmpty ? "" : prefix + "/") + ".readyz-" + FileBlobStore.randomHex(8)
        let body = Data("ok".utf8)
        let put = try send("PUT", key: key, body: body, headers: [
            "content-type": "text/plain", "x-amz-checksum-sha256": Data(SHA256.hash(data: body)).base64EncodedString(),
        ])
        guard put.status == 200 else { throw Self.error(put, key: key, uri: uri(key)) }
        let delete = try send("DELETE", key: key)
        guard delete.status == 204 || delete.status == 200 else { throw Self.error(delete, key: key, uri: uri(key)) }
    }

    // MARK: Plumbing

    func uri(_ key: String) -> String { "s3://\(bucket)/\(key)" }

    /// The key of a URI this store wrote; refuses another bucket, another prefix, odd characters.
    package func key(of uri: String) throws(BlobStoreError) -> String {
        let head = "s3://\(bucket)/" + (prefix.isEmpty ? "" : prefix + "/")
        guard uri.hasPrefix(head) else { throw .invalidURI(uri) }
        let rest = uri.dropFirst(head.count)
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") && $0.utf8.allSatisfy(Self.isKeyByte) }) else {
            throw .invalidURI(uri)
        }
        return String(uri.dropFirst("s3://\(bucket)/".count))
    }

    func url(for key: String) -> String {
        if let endpoint { return "\(endpoint)/\(bucket)/\(key)" }
        return "https://\(bucket).s3.\(signer.region).amazonaws.com/\(key)"
    }

    /// One signed request, retried on what a retry can fix.
    func send(_ method: String, key: String, body: Data = Data(), headers: [String: String] = [:]) throws(BlobStoreError) -> CurlHTTPClient.Response {
        let target = url(for: key)
        guard let parsed = URL(string: target) else { throw .invalidURI(target) }
        var delayMs = 100.0
        var lastFailure = ""
        for attempt in 1...attempts {
            let lines = signedHeaders(method, url: parsed, body: body, headers: headers).map { "\($0.key): \($0.value)" }
            do {
                let response = try client.withLock { c throws -> CurlHTTPClient.Response in
                    if c == nil { c = try CurlHTTPClient() }
                    return try c!.send(method: method, url: target, body: method == "GET" ? nil : body, headers: lines, timeoutMs: 30_000)
                }
                let code = Self.errorCode(response.body)
                let retryable = response.status >= 500 || code == "SlowDown" || code == "RequestTimeout" || code == "InternalError"
                if !retryable || attempt == attempts { return response }
                lastFailure = "HTTP \(response.status) \(code ?? "")"
            } catch {
                // A dropped or refused connection: a new handle next time.
                client.withLock { $0 = nil }
                lastFailure = "\(error)"
                if attempt == attempts { throw .unavailable("S3 \(method) \(key): \(lastFailure) (after \(attempts) attempts)") }
            }
            // Full jitter (AWS's backoff advice): a random wait up to the doubled ceiling.
            usleep(UInt32(Double.random(in: 0...delayMs) * 1000))
            delayMs = min(delayMs * 2, 5_000)
        }
        throw .unavailable("S3 \(method) \(key): \(lastFailure)")
    }

    /// The request's headers with its SigV4 signature (and `x-amz-content-sha256`, which S3
    /// requires): every header given is signed.
    package func signedHeaders(_ method: String, url: URL, body: Data, headers: [String: String], date: Date = Date()) -> [String: String] {
        var all = headers
        for (k, v) in signer.sign(method: method, url: url, headers: headers, body: body, date: date, contentSha256Header: true) { all[k] = v }
        return all
    }

    /// Creates the bucket (for tests and local servers; a deployment's bucket comes from its template).
    package func createBucket() throws(BlobStoreError) {
        guard let endpoint else { throw .configuration("createBucket is for a local S3 endpoint") }
        let url = "\(endpoint)/\(bucket)"
        guard let parsed = URL(string: url) else { throw .invalidURI(url) }
        let lines = signedHeaders("PUT", url: parsed, body: Data(), headers: [:]).map { "\($0.key): \($0.value)" }
        let response: CurlHTTPClient.Response
        do { response = try CurlHTTPClient().send(method: "PUT", url: url, body: Data(), headers: lines, timeoutMs: 30_000) } catch {
            throw .unavailable("S3 PUT bucket: \(error)")
        }
        guard response.status == 200 || Self.errorCode(response.body) == "BucketAlreadyOwnedByYou" else {
            throw Self.error(response, key: "", uri: "s3://\(bucket)")
        }
    }

    /// S3's XML error `<Error><Code>NoSuchKey</Code>...`.
    static func errorCode(_ body: Data) -> String? {
        guard !body.isEmpty, let text = String(data: body.prefix(4096), encoding: .utf8),
              let start = text.range(of: "<Code>"), let end = text.range(of: "</Code>", range: start.upperBound..<text.endIndex)
        else { return nil }
        return String(text[start.upperBound..<end.lowerBound])
    }

    static func error(_ response: CurlHTTPClient.Response, key: String, uri: String) -> BlobStoreError {
        let code = errorCode(response.body)
        switch (response.status, code) {
        case (_, "NoSuchKey"), (404, nil): return .notFound(uri)
        case (_, "NoSuchBucket"): return .noSuchBucket(uri)
        case (_, "AccessDenied"), (403, _): return .accessDenied("\(uri): \(code ?? "HTTP 403")")
        default: return .unavailable("S3 answered HTTP \(response.status) \(code ?? "") for \(key)")
        }
    }
}
