import Foundation

/// The `upload` function's settings, from its environment (the template sets them):
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `DATABASE_URL` | (required) | the store |
/// | `BLOB_DIR` | `.data/blobs` | where uploaded bytes are kept (relative to the working directory) |
/// | `MAX_UPLOAD_BYTES` | 5242880 (5 MB; API Gateway refuses bodies over 6 MB) | largest accepted document; 413 beyond |
/// | `REEMBED_FUNCTION` | this function's name with `-upload` replaced by `-reembed`, else `reembed` | the worker invoked asynchronously after an upload or delete |
package struct UploadConfiguration: Sendable, Equatable {
    package static let defaultMaxUploadBytes = 5 * 1024 * 1024
    package static let defaultBlobDirectory = ".data/blobs"

    package var databaseURL: String
    package var blobDirectory: String
    package var maxUploadBytes: Int
    package var reembedFunction: String

    package init(databaseURL: String, blobDirectory: String = defaultBlobDirectory,
                maxUploadBytes: Int = defaultMaxUploadBytes, reembedFunction: String = "reembed") {
        self.databaseURL = databaseURL
        self.blobDirectory = blobDirectory
        self.maxUploadBytes = maxUploadBytes
        self.reembedFunction = reembedFunction
    }

    package struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        package var description: String
    }

    /// - Parameter functionName: this function's own name (`AWS_LAMBDA_FUNCTION_NAME`), from
    ///   which the worker's default name is derived (`mystack-upload` gives `mystack-reembed`).
    package static func fromEnvironment(_ env: [String: String], functionName: String) throws(Invalid) -> UploadConfiguration {
        func value(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let url = value("DATABASE_URL") else {
            throw Invalid(description: "DATABASE_URL is not set (sqlite:///path/to/file or postgres://user:pass@host:5432/db)")
        }
        var max = defaultMaxUploadBytes
        if let raw = value("MAX_UPLOAD_BYTES") {
            guard let n = Int(raw.trimmingCharacters(in: .whitespaces)), n > 0 else {
                throw Invalid(description: "MAX_UPLOAD_BYTES must be a positive number of bytes, not `\(raw)`")
            }
            max = n
        }
        let worker = value("REEMBED_FUNCTION") ?? defaultWorkerName(functionName: functionName)
        return UploadConfiguration(databaseURL: url, blobDirectory: value("BLOB_DIR") ?? defaultBlobDirectory,
                                   maxUploadBytes: max, reembedFunction: worker)
    }

    static func defaultWorkerName(functionName: String) -> String {
        functionName.hasSuffix("-upload") ? String(functionName.dropLast("-upload".count)) + "-reembed" : "reembed"
    }
}
