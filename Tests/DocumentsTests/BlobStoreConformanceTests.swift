import AWSSigV4
import Documents
import Foundation
import Ingestion
import Tenancy
import Testing
import TestSupport

/// One suite, both blob stores: a folder (`BLOB_DIR`) and S3 (`BLOB_URL`, against moto's S3
/// server). What `upload`, the worker and the `delete` job rely on.
@Suite struct BlobStoreConformanceTests {
    enum Kind: String, CaseIterable, CustomStringConvertible, Sendable {
        case folder, s3
        var description: String { rawValue }

        func fresh() throws -> any BlobStore {
            switch self {
            case .folder:
                return try BlobStores.fromEnvironment(["BLOB_DIR": TestPaths.temporaryDirectory("blob-conformance") + "/blobs"])
            case .s3:
                var env = S3TestServer.environment
                env["AWS_ENDPOINT_URL_S3"] = try S3TestServer.endpoint()
                env["BLOB_URL"] = "s3://\(S3TestServer.bucketName())/tenants/docs"
                let store = try #require(try BlobStores.fromEnvironment(env) as? S3BlobStore)
                try store.createBucket()
                return store
            }
        }
    }

    @Test(arguments: Kind.allCases)
    func writeReadDelete(_ kind: Kind) throws {
        let blobs = try kind.fresh()
        let bytes = Array("Leave policy: twelve days.\n".utf8)
        let ref = try blobs.write(org: "acme", sha256: SHA256.hex(bytes), bytes: bytes)
        #expect(ref.uri.hasPrefix(kind == .s3 ? "s3://" : "file:///") && ref.bytes == bytes.count && ref.uri.contains(ref.id))
        #expect(try blobs.read(uri: ref.uri) == bytes)
        try blobs.delete(uri: ref.uri)
        #expect(throws: BlobStoreError.notFound(ref.uri)) { try blobs.read(uri: ref.uri) }
        try blobs.delete(uri: ref.uri)  // idempotent
    }

    @Test(arguments: Kind.allCases)
    func everyWriteIsItsOwnBlobAndLargeOnesRoundTrip(_ kind: Kind) throws {
        let blobs = try kind.fresh()
        let bytes = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        let sha = SHA256.hex(bytes)
        let a = try blobs.write(org: "acme", sha256: sha, bytes: bytes)
        let b = try blobs.write(org: "acme", sha256: sha, bytes: bytes)
        #expect(a.uri != b.uri && a.id != b.id)
        try blobs.delete(uri: a.uri)
        #expect(try blobs.read(uri: b.uri) == bytes)  // deleting one leaves the other whole
        let empty = try blobs.write(org: "acme", sha256: SHA256.hex([UInt8]()), bytes: [])
        #expect(try blobs.read(uri: empty.uri).isEmpty)
    }

    @Test(arguments: Kind.allCases)
    func orgsAreSeparateAndOddIdsStayInsideTheStore(_ kind: Kind) throws {
        let blobs = try kind.fresh()
        let bytes = Array("same bytes".utf8)
        let acme = try blobs.write(org: "acme", sha256: SHA256.hex(bytes), bytes: bytes)
        let other = try blobs.write(org: "team@acme:eu", sha256: SHA256.hex(bytes), bytes: bytes)
        #expect(acme.uri.contains("/acme/") && !other.uri.contains("team@acme") && other.uri.contains("/~"))
        #expect(try blobs.read(uri: other.uri) == bytes)
    }

    @Test(arguments: Kind.allCases)
    func urisItDidNotWriteAreRefused(_ kind: Kind) throws {
        let blobs = try kind.fresh()
        let ref = try blobs.write(org: "acme", sha256: SHA256.hex("z"), bytes: Array("z".utf8))
        let base = String(ref.uri[..<ref.uri.range(of: "/acme/")!.lowerBound])
        for uri in ["file:///etc/passwd", "s3://another-bucket/tenants/docs/acme/x", "http://example.com/x", "not a uri",
                    base + "/acme/../../x", base + "/acme/.tmp-1", base + "/acme", ref.uri + "/more"] {
            #expect(throws: BlobStoreError.self, "\(uri)") { try blobs.read(uri: uri) }
            #expect(throws: BlobStoreError.self, "\(uri)") { try blobs.delete(uri: uri) }
        }
        #expect(throws: BlobStoreError.self) { try blobs.write(org: "acme", sha256: "not-a-hash", bytes: [1]) }
    }

    // MARK: S3 only

    @Test func aMissingBucketIsATypedErrorThatSaysSo() throws {
        var env = S3TestServer.environment
        env["AWS_ENDPOINT_URL_S3"] = try S3TestServer.endpoint()
        env["BLOB_URL"] = "s3://\(S3TestServer.bucketName("missing"))/x"
        let blobs = try BlobStores.fromEnvironment(env)
        do {
            _ = try blobs.write(org: "acme", sha256: SHA256.hex("a"), bytes: Array("a".utf8))
            Issue.record("wrote into a bucket that does not exist")
        } catch {
            guard case .noSuchBucket = error else { Issue.record("\(error)"); return }
            #expect(error.description.contains("NoSuchBucket"))
        }
        #expect(throws: BlobStoreError.self) { try (blobs as? S3BlobStore)?.checkWritable() }
    }

    @Test func readinessWritesAndDeletesAProbe() throws {
        let blobs = try #require(try Kind.s3.fresh() as? S3BlobStore)
        try blobs.checkWritable()
    }

    @Test func configurationErrorsNameTheVariable() {
        for (env, needle) in [(["BLOB_URL": "s3://b-ok/x"], "AWS_ACCESS_KEY_ID"),
                              (["BLOB_URL": "s3://b-ok/x", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"], "AWS_REGION"),
                              (["BLOB_URL": "s3://Bad_Bucket/x"], "bucket"), (["BLOB_URL": "ftp://x"], "s3://"),
                              (["BLOB_URL": "file://relative"], "absolute")] {
            var full = env
            if needle == "bucket" { full.merge(S3TestServer.environment) { a, _ in a } }
            do {
                _ = try BlobStores.fromEnvironment(full)
                Issue.record("accepted \(env)")
            } catch {
                #expect(error.description.contains(needle), "\(error)")
            }
        }
        // BLOB_URL wins over BLOB_DIR.
        let folder = TestPaths.temporaryDirectory("blob-url")
        let store = try? BlobStores.fromEnvironment(["BLOB_URL": "file://" + folder, "BLOB_DIR": "/nonexistent"]) as? FileBlobStore
        #expect(store?.root == folder)
    }

    /// The S3 store signs as botocore (the AWS SDK for Python, an independent implementation)
    /// signs the same PUT: path-style, with the checksum and content headers, temporary credentials.
    @Test func signsAPutAsBotocoreDoes() async throws {
        let key = "tenants/docs/acme/" + String(repeating: "ab", count: 32) + "-0123456789abcdef"
        let url = "http://127.0.0.1:54330/rag-blobs/" + key
        let body = "twelve days"
        let checksum = "6dcd4ce23d88e2ee9568ba546c007c63d9131c1b"  // any value: it is signed, not checked here
        let script = """
            import datetime, json, sys
            from unittest import mock
            import botocore.auth, botocore.awsrequest, botocore.credentials
            creds = botocore.credentials.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token/with+chars=")
            req = botocore.awsrequest.AWSRequest(method="PUT", url=sys.argv[1], data=sys.argv[2].encode(),
                headers={"Content-Type": "application/octet-stream", "x-amz-checksum-sha256": sys.argv[3]})
            with mock.patch("botocore.auth.get_current_datetime", return_value=datetime.datetime(2026, 11, 22, 1, 2, 3)):
                botocore.auth.S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
            print(json.dumps(dict(req.headers.items())))
            """
        let child = try ChildProcess("/usr/bin/env", arguments: ["python3", "-c", script, url, body, checksum])
        child.closeStdin()
        let line = await child.readLine(timeout: 60) ?? ""
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "\(child.stderr)")

        let store = try S3BlobStore(url: "s3://rag-blobs/tenants/docs",
                                    credentials: AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                                                sessionToken: "token/with+chars="),
                                    region: "us-east-1", endpoint: "http://127.0.0.1:54330")
        let ours = store.signedHeaders("PUT", url: URL(string: url)!, body: Data(body.utf8),
                                       headers: ["content-type": "application/octet-stream", "x-amz-checksum-sha256": checksum],
                                       date: Date(timeIntervalSince1970: 1_795_309_323))
        #expect(ours["Authorization"] == expected["Authorization"], "\(line)")
        #expect(ours["X-Amz-Content-Sha256"] == expected["X-Amz-Content-SHA256"])
    }
}
