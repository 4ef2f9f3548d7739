#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import Synchronization
import JSON

/// One JSON object per line on stderr (docs/ARCHITECTURE.md, section 9):
/// `{"ts":"...","level":"info","msg":"...","function":"search","requestId":"...", ...fields}`.
/// Each line is written with a single `write(2)`, so lines from one process never interleave.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let function: String

    public init(function: String, level: Logger.Level) {
        self.function = function
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = "{\"ts\":\"\(Timestamps.iso8601Millis(Timestamps.nowMs()))\",\"level\":\"\(event.level.rawValue)\",\"msg\":"
        JSONText.appendString(event.message.description, to: &line)
        line += ",\"function\":"
        JSONText.appendString(function, to: &line)
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        for key in merged.keys.sorted() where key != "function" && key != "ts" && key != "level" && key != "msg" {
            line += ","
            JSONText.appendString(key, to: &line)
            line += ":"
            JSONText.append(merged[key]!, to: &line)
        }
        line += "}\n"
        StandardError.write(line)
    }

    public static func level(from env: String?) -> Logger.Level {
        env.flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
    }
}

enum JSONText {
    static func append(_ value: Logger.Metadata.Value, to out: inout String) {
        switch value {
        case .string(let s): appendString(s, to: &out)
        case .stringConvertible(let c): appendString(c.description, to: &out)
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += "," }
                append(v, to: &out)
            }
            out += "]"
        case .dictionary(let d):
            out += "{"
            for (i, k) in d.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                appendString(k, to: &out)
                out += ":"
                append(d[k]!, to: &out)
            }
            out += "}"
        }
    }

    static func appendString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

enum StandardError {
    static func write(_ s: String) {
        var s = s
        s.withUTF8 { buf in FileDescriptorIO.writeAll(2, UnsafeRawBufferPointer(buf)) }
    }
}

enum FileDescriptorIO {
    /// Writes every byte, retrying on EINTR and short writes. Returns false when the peer is gone.
    @discardableResult
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Bool {
        guard var base = buffer.baseAddress else { return true }
        var left = buffer.count
        while left > 0 {
            let n = Glibc.write(fd, base, left)
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return false
            }
            left -= n
            base += n
        }
        return true
    }
}
