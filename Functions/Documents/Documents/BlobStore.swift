import Foundation
import Ingestion
import Tenancy
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where uploaded bytes live. The document row stores the blob's `uri`; the worker reads the
/// bytes back through the same store.
///
/// Every write is its own blob (`<org>/<sha256>-<random>`), even for bytes the org already
/// has: a document owns its blob outright, so the worker's `delete` job can remove it without
/// asking whether another document (a re-upload after a soft delete, say) shares it. The upload
/// path removes the blob it just wrote when the store answers that the bytes were a duplicate.
package protocol BlobStore: Sendable {
    /// Stores `bytes` durably: when this returns, the blob survives a crash or a power cut.
    func write(org: OrgID, sha256: String, bytes: [UInt8]) throws(BlobStoreError) -> BlobRef
    /// The bytes of a blob this store wrote.
    func read(uri: String) throws(BlobStoreError) -> [UInt8]
    /// Removes a blob; removing one that is not there is not an error.
    func delete(uri: String) throws(BlobStoreError)
}

/// A stored blob: its URI (what `documents.blob_uri` holds) and size.
package struct BlobRef: Sendable, Equatable {
    package var uri: String
    package var bytes: Int
    /// Unique per write; part of the blob's name (and of the ingest job's idempotency key).
    package var id: String

    package init(uri: String, bytes: Int, id: String) {
        self.uri = uri
        self.bytes = bytes
        self.id = id
    }
}

package enum BlobStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed: `operation` names it (`write`, `fsync`, `rename`...), `errno` says why.
    case io(operation: String, errno: Int32)
    /// A URI this store did not write (another scheme, outside the blob folder, not a blob name).
    case invalidURI(String)
    case notFound(String)
    /// The bucket refused this role (S3 `AccessDenied`, a bad key or signature): the deployment's
    /// policy or credentials must change.
    case accessDenied(String)
    /// S3 `NoSuchBucket`: `BLOB_URL` names a bucket that does not exist.
    case noSuchBucket(String)
    /// The service did not answer well after the retries (5xx, `SlowDown`, dropped connections).
    case unavailable(String)
    /// `BLOB_URL` / `BLOB_DIR` cannot be used as given.
    case configuration(String)

    package var description: String {
        switch self {
        case .io(let op, let code): "\(op) failed: \(String(cString: strerror(code)))"
        case .invalidURI(let uri): "not a blob of this store: \(uri)"
        case .notFound(let uri): "no blob at \(uri)"
        case .accessDenied(let m): "access denied by the blob store (S3 AccessDenied): \(m)"
        case .noSuchBucket(let uri): "no such bucket (S3 NoSuchBucket): \(uri)"
        case .unavailable(let m): "the blob store is unavailable: \(m)"
        case .configuration(let m): m
        }
    }

    /// Whether trying again later can succeed.
    package var isTransient: Bool {
        switch self {
        case .io, .unavailable: true
        case .invalidURI, .notFound, .accessDenied, .noSuchBucket, .configuration: false
        }
    }
}

/// Blobs as files under a folder (`BLOB_DIR`): `<root>/<org>/<sha256>-<16 hex>`, URIs
/// `file:///abs/path`. The org folder is the org id when it is a plain name
/// (`[A-Za-z0-9][A-Za-z0-9._-]{0,99}`), else `~` and the SHA-256 of the id, so no claim value
/// can climb out of the root or collide with another org's folder.
///
/// A write is durable before it returns: the bytes go to a temporary file in the destination
/// folder (`.tmp-<random>`, created exclusively), which is fsynced, renamed into place, and the
/// folder fsynced so the rename itself survives a power cut; a newly created org folder is made
/// durable in its parent the same way. Readers never see a partial blob: the name appears only
/// after its bytes are on disk. A crash mid-write leaves at most a `.tmp-*` file, which
/// `removeStaleTemporaryFiles` sweeps.
package struct FileBlobStore: BlobStore {
    /// Absolute and standardised.
    package let root: String

    /// - Parameter root: the blob folder; a relative path is taken from the working directory.
    ///   Created on first write, so a missing folder fails uploads (503), not the function's start.
    package init(root: String) {
        let absolute = root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root
        self.root = URL(fileURLWithPath: absolute).standardizedFileURL.path
    }

    /// The folder name of an org under the root.
    package static func folderName(org: String) -> String {
        let bytes = Array(org.utf8)
        func plain(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F || b == 0x2E
        }
        if (1...100).contains(bytes.count), let first = bytes.first, plain(first), first != 0x2E, bytes.allSatisfy(plain) {
            return org
        }
        return "~" + SHA256.hex(org)
    }

    package func write(org: OrgID, sha256: String, bytes: [UInt8]) throws(BlobStoreError) -> BlobRef {
        guard sha256.utf8.count == 64, sha256.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw .invalidURI("sha256 must be 64 lower-case hex digits")
        }
        let folder = root + "/" + Self.folderName(org: org.rawValue)
        try Self.makeDirectoryDurably(folder)
        let id = Self.randomHex(8)
        let final = folder + "/" + sha256 + "-" + id
        let temp = folder + "/.tmp-" + Self.randomHex(8)

        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw .io(operation: "open", errno: errno) }
        do throws(BlobStoreError) {
            try Self.writeAll(fd, bytes)
            guard fsync(fd) == 0 else { throw .io(operation: "fsync", errno: errno) }
            guard close(fd) == 0 else { throw .io(operation: "close", errno: errno) }
        } catch {
            _ = close(fd)
            _ = unlink(temp)
            throw error
        }
        guard rename(temp, final) == 0 else {
            let code = errno
            _ = unlink(temp)
            throw .io(operation: "rename", errno: code)
        }
        try Self.syncDirectory(folder)
        return BlobRef(uri: URL(fileURLWithPath: final).absoluteString, bytes: bytes.count, id: id)
    }

    package func read(uri: String) throws(BlobStoreError) -> [UInt8] {
        let path = try path(of: uri)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw code == ENOENT ? .notFound(uri) : .io(operation: "open", errno: code)
        }
        defer { _ = close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read", errno: errno)
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    package func delete(uri: String) throws(BlobStoreError) {
        let path = try path(of: uri)
        if unlink(path) != 0 {
            let code = errno
            if code == ENOENT { return }
            throw .io(operation: "unlink", errno: code)
        }
        try Self.syncDirectory((path as NSString).deletingLastPathComponent)
    }

    /// The file behind a URI this store wrote; refuses anything else (another scheme, a path
    /// outside the root, a name that is not a blob's).
    package func path(of uri: String) throws(BlobStoreError) -> String {
        guard let url = URL(string: uri), url.isFileURL else { throw .invalidURI(uri) }
        let path = url.standardizedFileURL.path
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        guard path.hasPrefix(root + "/"), components.count == root.split(separator: "/", omittingEmptySubsequences: false).count + 2,
              let name = components.last, !name.hasPrefix(".") else {
            throw .invalidURI(uri)
        }
        return path
    }

    /// Removes `.tmp-*` files older than `age` seconds (left by a crash mid-write); returns how
    /// many. Orphan blobs (written, then the process died before the document was committed)
    /// are not found this way: they look like any blob and are harmless, only disk space.
    @discardableResult
    package func removeStaleTemporaryFiles(olderThan age: TimeInterval = 3600) -> Int {
        let fm = FileManager.default
        guard let orgs = try? fm.contentsOfDirectory(atPath: root) else { return 0 }
        var removed = 0
        let cutoff = Date().addingTimeInterval(-age)
        for org in orgs {
            let folder = root + "/" + org
            for name in (try? fm.contentsOfDirectory(atPath: folder)) ?? [] where name.hasPrefix(".tmp-") {
                let path = folder + "/" + name
                if let modified = (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date, modified < cutoff,
                   unlink(path) == 0 {
                    removed += 1
                }
            }
        }
        return removed
    }

    // MARK: Plumbing

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(BlobStoreError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "write", errno: errno)
            }
            offset += n
        }
    }

    static func syncDirectory(_ path: String) throws(BlobStoreError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(operation: "open directory", errno: errno) }
        defer { _ = close(fd) }
        // Some file systems cannot fsync a directory (EINVAL): nothing more can be done there.
        guard fsync(fd) == 0 || errno == EINVAL else { throw .io(operation: "fsync directory", errno: errno) }
    }

    /// `mkdir -p`, making each folder it creates durable in its parent.
    static func makeDirectoryDurably(_ path: String) throws(BlobStoreError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .io(operation: "mkdir", errno: ENOTDIR) }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if parent != path, !parent.isEmpty { try makeDirectoryDurably(parent) }
        if mkdir(path, 0o750) != 0 {
            let code = errno
            // EEXIST: a concurrent writer made it and may not have made it durable yet.
            guard code == EEXIST else { throw .io(operation: "mkdir", errno: code) }
        }
        try syncDirectory(parent)
    }

    package static func randomHex(_ byteCount: Int) -> String {
        var g = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(byteCount * 2)
        for _ in 0..<byteCount {
            let b = UInt8.random(in: 0...255, using: &g)
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

// The struct's `read`/`write` methods shadow the C functions inside it.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, buffer, count)
}
