import AWSSigV4
import Foundation

/// The blob store a function's environment names.
///
/// | variable | meaning |
/// |---|---|
/// | `BLOB_URL` | `s3://bucket/prefix` (S3), or `file:///abs/path` (a folder); wins over `BLOB_DIR` when set |
/// | `BLOB_DIR` | a folder, relative to the working directory (default `.data/blobs`); used when `BLOB_URL` is unset |
/// | `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` | S3 credentials (Lambda sets them from the function's role) |
/// | `AWS_REGION` (or `AWS_DEFAULT_REGION`) | the bucket's region (Lambda sets it) |
/// | `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL` | another S3 endpoint (moto, MinIO), addressed path-style |
package enum BlobStores {
    package static let defaultDirectory = ".data/blobs"

    package static func fromEnvironment(_ env: [String: String]) throws(BlobStoreError) -> any BlobStore {
        func value(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let url = value("BLOB_URL") else { return FileBlobStore(root: value("BLOB_DIR") ?? defaultDirectory) }
        if url.hasPrefix("file://") {
            guard let path = URL(string: url)?.path, path.hasPrefix("/") else {
                throw .configuration("BLOB_URL=\(url) is not a file:///absolute/path")
            }
            return FileBlobStore(root: path)
        }
        guard url.hasPrefix("s3://") else {
            throw .configuration("BLOB_URL=\(url): use s3://bucket/prefix or file:///absolute/path (or BLOB_DIR for a folder)")
        }
        guard let credentials = AWSCredentials.fromEnvironment(env) else {
            throw .configuration("BLOB_URL=\(url) needs AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; Lambda sets them from the function's role)")
        }
        guard let region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") else {
            throw .configuration("BLOB_URL=\(url) needs AWS_REGION (Lambda sets it)")
        }
        return try S3BlobStore(url: url, credentials: credentials, region: region,
                               endpoint: value("AWS_ENDPOINT_URL_S3") ?? value("AWS_ENDPOINT_URL"))
    }
}
