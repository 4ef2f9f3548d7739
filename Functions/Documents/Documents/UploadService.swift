import DocumentStore
import Foundation
import Ingestion
import LambdaEvents
import ServiceErrors

/// Accepts a document: validate, sniff, sanitise, hash, store the bytes, commit the document
/// and its `ingest` job. Nothing accepted is ever lost, and nothing half-accepted is visible:
///
/// 1. the bytes are written durably to the blob store first (fsync, rename, fsync the folder);
/// 2. then the document and its job are committed in one transaction;
/// 3. only then does the caller answer 202.
///
/// A crash between 1 and 2 leaves an orphan blob (disk space, nothing more); a document
/// without its blob cannot happen. A store error after the blob was written keeps the blob
/// too: the commit may have succeeded even though the answer was lost (a dropped Postgres
/// connection), and removing the blob then would break that document.
package struct UploadService: Sendable {
    package let store: any Store
    package let blobs: any BlobStore

    package init(store: any Store, blobs: any BlobStore) {
        self.store = store
        self.blobs = blobs
    }

    package struct Outcome: Sendable {
        package var document: Document
        /// The new `ingest` job; nil when the bytes were already there (`created == false`).
        package var job: Job?
        /// False: the org already had a live document with these bytes, returned as it is.
        package var created: Bool
        /// Problems that did not fail the upload (a duplicate's spare blob that could not be removed).
        package var warnings: [String]
    }

    /// The job's idempotency key: the hash and the blob, so each accepted upload gets its own
    /// job even when the same bytes come back after a delete while the old job is still queued.
    package static func ingestKey(sha256: String, blobId: String) -> String { "ingest:\(sha256):\(blobId)" }

    /// - Throws: `APIError` for what the caller can fix (415 type, 422 content or title) and
    ///   for a blob store that cannot write (503); `StoreError` from the store, unmapped.
    package func upload(org: OrgID, _ input: UploadInput) throws -> Outcome {
        let format: DocumentFormat
        do {
            format = try ContentSniffer.sniff(input.bytes, declaredContentType: input.declaredContentType, filename: input.filename)
        } catch {
            throw error.apiError
        }
        let filename = FilenameSanitizer.sanitize(input.filename, type: format.type)
        let title = try Self.title(input.title, filename: filename)
        let sha = SHA256.hex(input.bytes)

        let blob: BlobRef
        do { blob = try blobs.write(org: org, sha256: sha, bytes: input.bytes) } catch {
            throw APIError.serviceUnavailable("The document could not be stored: \(error.description).",
                                              details: ["dependency": "blob_store"])
        }
        let job = NewJob(orgId: org, type: .ingest, idempotencyKey: Self.ingestKey(sha256: sha, blobId: blob.id))
        let result = try store.createDocument(
            NewDocument(orgId: org, title: title, filename: filename, mimeType: format.mimeType, bytes: input.bytes.count,
                        sha256: sha, blobURI: blob.uri, metadata: input.metadata),
            job: job)
        var warnings: [String] = []
        if !result.created, result.document.blobURI != blob.uri {
            // The org already has these bytes: the blob just written is a spare.
            do { try blobs.delete(uri: blob.uri) } catch {
                warnings.append("could not remove the duplicate upload's spare blob: \(error.description)")
            }
        }
        return Outcome(document: result.document, job: result.job, created: result.created, warnings: warnings)
    }

    /// The given title, cleaned (control characters become spaces, runs of whitespace one
    /// space, trimmed); empty or absent gives the file name without its extension. Over
    /// `UploadInput.maxTitleCharacters` is a 422.
    package static func title(_ given: String?, filename: String) throws(APIError) -> String {
        var out = String.UnicodeScalarView()
        var lastSpace = true
        for s in (given ?? "").precomposedStringWithCanonicalMapping.unicodeScalars {
            let space = s.properties.isWhitespace || s.value < 0x20 || (0x7F...0x9F).contains(s.value)
            if space {
                if !lastSpace { out.append(" ") }
                lastSpace = true
            } else {
                out.append(s)
                lastSpace = false
            }
        }
        var title = String(out)
        while title.last == " " { title.removeLast() }
        if title.count > UploadInput.maxTitleCharacters {
            throw APIError.unprocessable("The title is \(title.count) characters; at most \(UploadInput.maxTitleCharacters).",
                                         details: ["field": "title"])
        }
        if !title.isEmpty { return title }
        if let dot = filename.lastIndex(of: "."), dot != filename.startIndex {
            let ext = filename[filename.index(after: dot)...]
            if !ext.isEmpty, ext.utf8.count <= 16, !ext.contains(" ") { return String(filename[..<dot]) }
        }
        return filename
    }
}
