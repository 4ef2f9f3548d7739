import Foundation
import HealthChecks
import TestSupport
import Testing

/// Readiness of the blob store and the rules for Lambda: instance-local storage is refused there
/// (and only there: the emulator marks itself with AWS_SAM_LOCAL, as SAM does).
@Suite struct BlobStoreCheckTests {
    static let lambda = ["AWS_LAMBDA_FUNCTION_NAME": "rag-upload"]
    static let emulator = ["AWS_LAMBDA_FUNCTION_NAME": "rag-upload", "AWS_SAM_LOCAL": "true"]

    @Test func aFolderIsFineLocallyAndRefusedOnLambdaUnlessOnEFS() async throws {
        let dir = TestPaths.temporaryDirectory("blob-check") + "/blobs"
        #expect(await failure(of: .blobStore(environment: ["BLOB_DIR": dir], timeout: .seconds(60))) == nil)
        #expect(await failure(of: .blobStore(environment: Self.emulator.merging(["BLOB_DIR": dir]) { a, _ in a }, timeout: .seconds(60))) == nil)
        let reason = try #require(await failure(of: .blobStore(environment: Self.lambda.merging(["BLOB_DIR": "/tmp/blobs"]) { a, _ in a },
                                                               timeout: .seconds(60))))
        #expect(reason.contains("BLOB_URL=s3://") && reason.contains("one instance"), "\(reason)")
    }

    @Test func sqliteIsRefusedOnLambda() async throws {
        let dir = TestPaths.temporaryDirectory("blob-check-db")
        #expect(await failure(of: .databaseURL("sqlite://\(dir)/rag.db", environment: Self.emulator, timeout: .seconds(60))) == nil)
        let reason = try #require(await failure(of: .databaseURL("sqlite://\(dir)/rag.db", environment: Self.lambda, timeout: .seconds(60))))
        #expect(reason.contains("postgres://"), "\(reason)")
        #expect(await failure(of: .databaseURL("postgres://u@h/db", environment: Self.lambda, timeout: .seconds(60))) == nil)
    }

    @Test func anS3BucketMustTakeAWrite() async throws {
        let env = try S3TestServer.blobEnvironment(prefix: "ready")
        #expect(await failure(of: .blobStore(environment: Self.lambda.merging(env) { a, _ in a }, timeout: .seconds(60))) == nil)
        var missing = env
        missing["BLOB_URL"] = "s3://\(S3TestServer.bucketName("gone"))/x"
        let reason = try #require(await failure(of: .blobStore(environment: missing, timeout: .seconds(60))))
        #expect(reason.contains("NoSuchBucket"), "\(reason)")
    }
}
