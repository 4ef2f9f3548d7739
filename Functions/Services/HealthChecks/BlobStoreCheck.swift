import Documents
import Foundation

/// Where this process runs: on AWS Lambda, or locally (the emulator sets `AWS_SAM_LOCAL`, as
/// SAM does, beside Lambda's own variables).
package enum RunPlace {
    package static func isLambda(_ env: [String: String]) -> Bool {
        env["AWS_LAMBDA_FUNCTION_NAME"].map { !$0.isEmpty } == true && env["AWS_SAM_LOCAL"] == nil
    }

    /// The process runs from a Lambda package (its task root holds `bootstrap`): on Lambda, under
    /// AWS's RIE, or under `emulator start-api --packages`; not from a build folder. A package
    /// holds only what its function needs (health's leaves the model out).
    package static func runsFromPackage(_ env: [String: String]) -> Bool {
        guard let root = env["LAMBDA_TASK_ROOT"], !root.isEmpty else { return false }
        return FileManager.default.fileExists(atPath: (root as NSString).appendingPathComponent("bootstrap"))
    }
}

extension ReadinessCheck {
    /// The blob store `BLOB_URL` / `BLOB_DIR` name can take a write: an S3 bucket is written and
    /// read back with a probe object (the bucket exists, the role may write); a folder must be
    /// writable. On Lambda a folder must be an EFS mount under `/mnt/`: anywhere else it belongs
    /// to one instance (and `/var/task` is read-only), so `reembed` would never see `upload`'s files.
    package static func blobStore(environment env: [String: String], timeout: Duration = .seconds(4)) -> ReadinessCheck {
        ReadinessCheck("blob_store", timeout: timeout) {
            let store: any BlobStore
            do { store = try BlobStores.fromEnvironment(env) } catch { throw CheckFailure("\(error)") }
            switch store {
            case let s3 as S3BlobStore:
                do { try s3.checkWritable() } catch {
                    throw CheckFailure("BLOB_URL=s3://\(s3.bucket)/\(s3.prefix): \(error)")
                }
            case let folder as FileBlobStore:
                if RunPlace.isLambda(env), !folder.root.hasPrefix("/mnt/") {
                    throw CheckFailure("on Lambda, blobs in \(folder.root) belong to one instance (and /var/task is read-only): "
                                       + "set BLOB_URL=s3://bucket/prefix (or BLOB_DIR to an EFS mount under /mnt/)")
                }
                try WritableDirectory.ensure(folder.root, what: "BLOB_DIR")
            default:
                break
            }
        }
    }
}
