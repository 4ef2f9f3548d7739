#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads newline-terminated lines from a blocking file descriptor, with a length limit.
/// A line over the limit is skipped to its end and reported with its first bytes, so the
/// caller can answer it; the stream stays usable.
/// Confined to the transport's read queue, hence unchecked.
final class LineReader: @unchecked Sendable {
    enum Result {
        case line([UInt8])
        case tooLong(prefix: [UInt8])
        case eof
    }

    private let fd: Int32
    private let maxLine: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var scanned = 0

    init(fd: Int32, maxLine: Int) {
        self.fd = fd
        self.maxLine = maxLine
        buffer.reserveCapacity(64 * 1024)
    }

    func next() -> Result {
        var skipping = false
        var skippedPrefix: [UInt8] = []
        while true {
            if let nl = findNewline() {
                let line = Array(buffer[start..<nl])
                start = nl + 1
                scanned = start
                if skipping { return .tooLong(prefix: skippedPrefix) }
                if line.count > maxLine { return .tooLong(prefix: Array(line.prefix(4096))) }
                return .line(line)
            }
            if buffer.count - start > maxLine {
                // Keep the head for the caller, drop the rest of the oversized line as it streams in.
                if !skipping { skippedPrefix = Array(buffer[start..<min(buffer.count, start + 4096)]) }
                skipping = true
                buffer.removeAll(keepingCapacity: true)
                start = 0
                scanned = 0
            }
            if start > 0, start == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                start = 0
                scanned = 0
            } else if start > 64 * 1024 {
                buffer.removeSubrange(0..<start)
                scanned -= start
                start = 0
            }
            let n = fill()
            if n == 0 {
                if skipping { return .tooLong(prefix: skippedPrefix) }
                if start < buffer.count {
                    let line = Array(buffer[start...])
                    start = buffer.count
                    return .line(line)
                }
                return .eof
            }
        }
    }

    private func findNewline() -> Int? {
        guard scanned < buffer.count else { return nil }
        let found: Int? = buffer.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return nil }
            guard let p = memchr(base + scanned, 0x0A, buffer.count - scanned) else { return nil }
            return base.distance(to: UnsafeRawPointer(p))
        }
        scanned = found ?? buffer.count
        return found
    }

    /// Reads what is available; 0 means end of stream (or an unrecoverable read error).
    private func fill() -> Int {
        let chunk = 64 * 1024
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: chunk))
        while true {
            let n = buffer.withUnsafeMutableBytes { raw in read(fd, raw.baseAddress! + old, chunk) }
            if n < 0, errno == EINTR { continue }
            buffer.removeLast(chunk - max(n, 0))
            return max(n, 0)
        }
    }
}
