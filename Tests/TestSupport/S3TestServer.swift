import Foundation

/// The S3 the tests use: moto's S3 server at `TEST_S3_ENDPOINT` (set by scripts/test.sh), else the
/// one `infra/s3.sh start` runs. Each test makes a bucket of its own.
package enum S3TestServer {
    package struct Unavailable: Error, CustomStringConvertible { public let description: String }

    static let started: Result<String, Unavailable> = {
        let url = ProcessInfo.processInfo.environment["TEST_S3_ENDPOINT"] ?? ""
        if !url.isEmpty { return .success(url) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [TestPaths.packageRoot + "/infra/s3.sh", "start"]
        p.currentDirectoryURL = URL(fileURLWithPath: TestPaths.packageRoot)
        let out = Pipe()
        p.standardOutput = out
        do { try p.run() } catch { return .failure(Unavailable(description: "cannot run infra/s3.sh: \(error)")) }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let endpoint = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard p.terminationStatus == 0, !endpoint.isEmpty else {
            return .failure(Unavailable(description: "infra/s3.sh start failed (\(p.terminationStatus)); is moto[server] installed?"))
        }
        return .success(endpoint)
    }()

    package static func endpoint() throws -> String { try started.get() }

    /// Credentials moto accepts (any), as Lambda would hand them over.
    package static let environment = ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                                     "AWS_SESSION_TOKEN": "testing-token", "AWS_REGION": "us-east-1"]

    /// What a function needs to keep its blobs in a fresh bucket of its own on the test S3
    /// (`BLOB_URL`, the endpoint, credentials, region), the bucket created.
    package static func blobEnvironment(prefix: String = "fn") throws -> [String: String] {
        let endpoint = try endpoint()
        let bucket = bucketName(prefix)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // moto takes an unsigned bucket creation; the functions' own requests are signed.
        p.arguments = ["curl", "-sf", "-o", "/dev/null", "-X", "PUT", "\(endpoint)/\(bucket)"]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw Unavailable(description: "could not create bucket \(bucket) at \(endpoint)") }
        var env = environment
        env["AWS_ENDPOINT_URL_S3"] = endpoint
        env["BLOB_URL"] = "s3://\(bucket)/blobs"
        return env
    }

    /// A fresh bucket name (lower case, unique per call).
    package static func bucketName(_ prefix: String = "t") -> String {
        "\(prefix)-\(UUID().uuidString.lowercased().prefix(18))"
    }
}
