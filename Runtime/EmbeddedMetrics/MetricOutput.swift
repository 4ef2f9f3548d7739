#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where records go: stderr, which Lambda sends to CloudWatch Logs (where EMF is extracted) and
/// the emulator reads line by line.
public enum MetricOutput {
    public typealias Sink = @Sendable (String) -> Void

    /// One write(2) per line: lines from one process never interleave with its log lines.
    public static let standardError: Sink = { line in writeStandardError(Array(line.utf8)) }

    public static func writeStandardError(_ line: [UInt8]) {
        line.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = write(2, raw.baseAddress! + off, raw.count - off)
                if n <= 0 { if errno == EINTR { continue } else { return } }
                off += n
            }
        }
    }
}
