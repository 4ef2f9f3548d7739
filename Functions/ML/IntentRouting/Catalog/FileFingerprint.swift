#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file's modification time, size and inode: one `stat`, cheap enough to take on every check.
/// Only when it differs is the file read and hashed (an editor that rewrites the same bytes, or a
/// `touch`, changes the fingerprint but not the hash, and does not rebuild anything).
struct FileFingerprint: Hashable, Sendable {
    let seconds: Int
    let nanoseconds: Int
    let size: Int64
    let inode: UInt64

    /// Nil when the file cannot be stat'ed (missing): that is a change too, and the reload that
    /// follows reports it.
    static func of(_ path: String) -> FileFingerprint? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        #if canImport(Darwin)
        return FileFingerprint(seconds: Int(st.st_mtimespec.tv_sec), nanoseconds: Int(st.st_mtimespec.tv_nsec),
                               size: Int64(st.st_size), inode: UInt64(st.st_ino))
        #else
        return FileFingerprint(seconds: Int(st.st_mtim.tv_sec), nanoseconds: Int(st.st_mtim.tv_nsec),
                               size: Int64(st.st_size), inode: UInt64(st.st_ino))
        #endif
    }
}
