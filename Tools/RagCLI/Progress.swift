#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// What `ingest` tells the user as it goes: on a terminal, one bar redrawn in place; otherwise
/// (a pipe, a CI log) one plain line per event, so a log reads top to bottom.
final class Progress: Sendable {
    struct Counts: Sendable {
        var total = 0
        var uploaded = 0
        var skipped = 0
        var ready = 0
        var failed = 0
        var pending: Int { max(0, uploaded - ready - failed) }
    }

    let isTerminal: Bool
    private let state = Mutex(Counts())

    init(terminal: Bool = isatty(2) == 1) { isTerminal = terminal }

    var counts: Counts { state.withLock { $0 } }

    func update(_ change: (inout Counts) -> Void) {
        let c = state.withLock { s -> Counts in
            change(&s)
            return s
        }
        if isTerminal { draw(c) }
    }

    /// A line for a log; on a terminal it goes above the bar.
    func event(_ text: String) {
        if isTerminal {
            emit("\r\u{1B}[2K" + text + "\n")
            draw(counts)
        } else {
            emit(text + "\n")
        }
    }

    func finish() {
        if isTerminal { emit("\n") }
    }

    private func draw(_ c: Counts) {
        let width = 30
        let done = c.total == 0 ? width : width * (c.uploaded + c.skipped) / c.total
        let bar = String(repeating: "#", count: done) + String(repeating: ".", count: width - done)
        emit("\r\u{1B}[2K[\(bar)] \(c.uploaded + c.skipped)/\(c.total) sent · \(c.ready) ready · \(c.failed) failed · \(c.pending) pending")
    }

    private func emit(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { _ = write(2, $0.baseAddress, $0.count) }
    }
}
