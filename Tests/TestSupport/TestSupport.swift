import Foundation

/// Paths the tests need: the built executables and the package root.
package enum TestPaths {
    /// The folder of the test bundle, which is the SwiftPM bin folder holding every product.
    package static var binDirectory: String {
        if let dir = ProcessInfo.processInfo.environment["TEST_BIN_DIR"] { return dir }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }

    package static func executable(_ product: String) -> String {
        (binDirectory as NSString).appendingPathComponent(product)
    }

    /// The package root, from this file's location (Tests/TestSupport/TestSupport.swift).
    package static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    package static func temporaryDirectory(_ prefix: String = "rag-test") -> String {
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// A child process with pipes on stdin, stdout and stderr, read line by line with timeouts.
/// Real processes and real pipes: what the emulator and the handlers use.
package final class ChildProcess: @unchecked Sendable {
    package let process = Process()
    private let stdinPipe = Pipe()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private let lock = NSLock()
    private var stdoutLines: [String] = []
    private var stderrLines: [String] = []
    private var stdoutBuffer = Data()
    private var stderrBuffer = Data()
    private var stdoutClosed = false

    package init(_ executable: String, arguments: [String] = [], environment: [String: String]? = nil, currentDirectory: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        stdoutPipe.fileHandleForReading.readabilityHandler = { [weak self] h in self?.consume(h.availableData, stdout: true) }
        stderrPipe.fileHandleForReading.readabilityHandler = { [weak self] h in self?.consume(h.availableData, stdout: false) }
        try process.run()
    }

    private func consume(_ data: Data, stdout: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if data.isEmpty {
            if stdout { stdoutClosed = true }
            (stdout ? stdoutPipe : stderrPipe).fileHandleForReading.readabilityHandler = nil
            return
        }
        if stdout { stdoutBuffer.append(data) } else { stderrBuffer.append(data) }
        while true {
            let buf = stdout ? stdoutBuffer : stderrBuffer
            guard let nl = buf.firstIndex(of: 0x0A) else { break }
            let line = String(decoding: buf[buf.startIndex..<nl], as: UTF8.self)
            let rest = Data(buf[(nl + 1)...])
            if stdout { stdoutLines.append(line); stdoutBuffer = rest } else { stderrLines.append(line); stderrBuffer = rest }
        }
    }

    package func write(_ text: String) {
        stdinPipe.fileHandleForWriting.write(Data(text.utf8))
    }

    package func write(_ data: Data) {
        stdinPipe.fileHandleForWriting.write(data)
    }

    package func closeStdin() {
        try? stdinPipe.fileHandleForWriting.close()
    }

    /// The next stdout line, or nil after `timeout` seconds (or at EOF).
    package func readLine(timeout: Double = 10) async -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        var exitedAt: Date?
        // Looks once more after the deadline passes: on a saturated machine this task may not
        // run for seconds, and a line that arrived meanwhile is an answer, not a timeout.
        while true {
            let (line, closed): (String?, Bool) = lock.withLock {
                stdoutLines.isEmpty ? (nil, stdoutClosed) : (stdoutLines.removeFirst(), false)
            }
            if let line { return line }
            if closed || Date() >= deadline { return nil }
            // Foundation's readability handler does not always report EOF for a child that exits
            // at once (seen: a `migrate` run waited out the whole timeout). Once the process is
            // gone, its last output gets two seconds to arrive, then this is EOF.
            if !process.isRunning {
                if let t = exitedAt { if Date().timeIntervalSince(t) > 2 { return nil } } else { exitedAt = Date() }
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    package var stderr: [String] {
        lock.withLock { stderrLines }
    }

    /// Waits for a stderr line containing `text`; returns it. Gives up early if the process exits.
    package func waitForStderr(containing text: String, timeout: Double = 10) async -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {  // looks once more after the deadline, as readLine does
            if let l = stderr.first(where: { $0.contains(text) }) { return l }
            if !process.isRunning {
                try? await Task.sleep(for: .milliseconds(50))  // let the last lines arrive
                return stderr.first(where: { $0.contains(text) })
            }
            if Date() >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits for exit; nil if still running after `timeout`.
    package func waitForExit(timeout: Double = 10) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {  // looks once more after the deadline, as readLine does
            if !process.isRunning { return process.terminationStatus }
            if Date() >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    package func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
