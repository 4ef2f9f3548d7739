import Foundation
import NIOConcurrencyHelpers
import JSON

/// The emulator's output on stderr: its own lines, handler lines prefixed with the function and
/// request id, and Lambda's START/END/REPORT lines per invocation.
package final class EmulatorLog: Sendable {
    package enum Verbosity: Int, Sendable, Comparable {
        case quiet = 0, normal = 1, debug = 2
        package static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    }

    let verbosity: Verbosity
    private let sink: NIOLockedValueBox<Int32>
    /// Every handler line and invocation boundary also goes here (metrics, the dashboard).
    package let telemetry: Telemetry

    package init(verbosity: Verbosity = .normal, fd: Int32 = 2, telemetry: Telemetry = Telemetry()) {
        self.verbosity = verbosity
        self.telemetry = telemetry
        sink = NIOLockedValueBox(fd)
    }

    package func emulator(_ message: String) {
        write("\(Timestamps.iso8601Millis(Timestamps.nowMs())) emulator  \(message)\n")
    }

    package func debug(_ message: String) {
        guard verbosity >= .debug else { return }
        emulator(message)
    }

    func function(_ name: String, requestId: String?, _ line: String) {
        if let requestId { capture(requestId, line + "\n") }
        telemetry.line(function: name, requestId: requestId, line)
        // EMF records are for machines (/metrics, the dashboard, CloudWatch); on a terminal
        // they would double every request's output.
        guard verbosity >= (EMFRecord.looksLikeEMF(line) ? .debug : .normal) else { return }
        write("[\(name)] [\(requestId ?? "-")] \(line)\n")
    }

    func start(_ name: String, requestId: String) {
        let line = "START RequestId: \(requestId) Version: $LATEST\n"
        capture(requestId, line)
        guard verbosity >= .normal else { return }
        write("[\(name)] " + line)
    }

    func end(_ name: String, requestId: String, durationMs: Double, memorySizeMB: Int, maxMemoryMB: Int?, initMs: Double?) {
        var report = "REPORT RequestId: \(requestId)\tDuration: \(Self.fmt(durationMs)) ms\tBilled Duration: \(Int(durationMs.rounded(.up))) ms\tMemory Size: \(memorySizeMB) MB"
        if let maxMemoryMB { report += "\tMax Memory Used: \(maxMemoryMB) MB" }
        if let initMs { report += "\tInit Duration: \(Self.fmt(initMs)) ms" }
        capture(requestId, "END RequestId: \(requestId)\n" + report + "\n")
        guard verbosity >= .normal else { return }
        write("[\(name)] END RequestId: \(requestId)\n[\(name)] " + report + "\n")
    }

    // MARK: Per-invocation capture (the Invoke API's `X-Amz-Log-Type: Tail`)

    private let captures = NIOLockedValueBox<[String: String]>([:])

    func beginCapture(_ requestId: String) { captures.withLockedValue { $0[requestId] = "" } }

    func endCapture(_ requestId: String) -> String { captures.withLockedValue { $0.removeValue(forKey: requestId) } ?? "" }

    private func capture(_ requestId: String, _ text: String) {
        captures.withLockedValue { c in
            guard c[requestId] != nil else { return }
            c[requestId]! += text
        }
    }

    /// Two decimals without `String(format:)` (a printf call per REPORT line adds up).
    static func fmt(_ v: Double) -> String {
        let hundredths = Int((v * 100).rounded())
        let frac = hundredths % 100
        return "\(hundredths / 100).\(frac < 10 ? "0" : "")\(frac)"
    }

    private func write(_ text: String) {
        sink.withLockedValue { fd in
            var t = text
            t.withUTF8 { buf in
                var off = 0
                while off < buf.count {
                    let n = Foundation.write(fd, buf.baseAddress! + off, buf.count - off)
                    if n <= 0 { if errno == EINTR { continue } else { return } }
                    off += n
                }
            }
        }
    }
}
