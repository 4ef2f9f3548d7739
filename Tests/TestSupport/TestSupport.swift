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
///
/// Each output pipe is drained by a thread of its own doing blocking `read(2)`s, not by
/// `FileHandle.readabilityHandler`: on Linux, setting up and tearing down readability handlers
/// from many threads corrupts libdispatch's epoll bookkeeping (swift-corelibs-libdispatch#949),
/// and a fresh CI run of this suite died of it (SIGSEGV in `_dispatch_event_loop_drain`).
package final class ChildProcess: @unchecked Sendable {
    package let process = Process()
    private let stdinPipe = Pipe()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private let output = OutputLines()

    package init(_ executable: String, arguments: [String] = [], environment: [String: String]? = nil, currentDirectory: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        try process.run()
        Self.drain(stdoutPipe.fileHandleForReading, into: output, stdout: true)
        Self.drain(stderrPipe.fileHandleForReading, into: output, stdout: false)
    }

    /// Reads `handle` until EOF on a thread of its own. The thread keeps the handle (and so its
    /// descriptor) alive until the child's end is closed, which happens when the child exits.
    private static func drain(_ handle: FileHandle, into output: OutputLines, stdout: Bool) {
        let thread = Thread {
            let fd = handle.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    output.append(Data(buffer[0..<n]), stdout: stdout)
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    output.close(stdout: stdout)
                    return
                }
            }
        }
        thread.name = stdout ? "child-stdout" : "child-stderr"
        thread.start()
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
            let (line, closed) = output.nextStdoutLine()
            if let line { return line }
            if closed || Date() >= deadline { return nil }
            // A grandchild that inherited the pipe keeps it open after the child exits. Once the
            // process is gone, its last output gets two seconds to arrive, then this is EOF.
            if !process.isRunning {
                if let t = exitedAt { if Date().timeIntervalSince(t) > 2 { return nil } } else { exitedAt = Date() }
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    package var stderr: [String] {
        output.stderrLines
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

/// The lines a child wrote, split as they arrive; shared by the reader threads and the tests.
private final class OutputLines: @unchecked Sendable {
    private let lock = NSLock()
    private var stdoutLines: [String] = []
    private var stderr: [String] = []
    private var stdoutBuffer = Data()
    private var stderrBuffer = Data()
    private var stdoutClosed = false

    func append(_ data: Data, stdout: Bool) {
        lock.withLock {
            if stdout { stdoutBuffer.append(data) } else { stderrBuffer.append(data) }
            while true {
                let buf = stdout ? stdoutBuffer : stderrBuffer
                guard let nl = buf.firstIndex(of: 0x0A) else { break }
                let line = String(decoding: buf[buf.startIndex..<nl], as: UTF8.self)
                let rest = Data(buf[(nl + 1)...])
                if stdout { stdoutLines.append(line); stdoutBuffer = rest } else { stderr.append(line); stderrBuffer = rest }
            }
        }
    }

    func close(stdout: Bool) {
        if stdout { lock.withLock { stdoutClosed = true } }
    }

    /// The next stdout line, or nil and whether stdout has reached EOF.
    func nextStdoutLine() -> (String?, Bool) {
        lock.withLock { stdoutLines.isEmpty ? (nil, stdoutClosed) : (stdoutLines.removeFirst(), false) }
    }

    var stderrLines: [String] { lock.withLock { stderr } }
}
