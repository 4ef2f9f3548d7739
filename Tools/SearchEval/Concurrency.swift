import Foundation

/// `body` over `items`, at most `width` at a time (a few concurrent uploads keep the worker fed
/// without drowning the emulator's queue); results in the items' order.
func mapConcurrently<T: Sendable, R: Sendable>(_ items: [T], width: Int, _ body: @escaping @Sendable (T) async throws -> R) async throws -> [R] {
    try await withThrowingTaskGroup(of: (Int, R).self) { group in
        var out = [R?](repeating: nil, count: items.count)
        var next = 0
        func start() {
            guard next < items.count else { return }
            let i = next, item = items[i]
            next += 1
            group.addTask { (i, try await body(item)) }
        }
        for _ in 0..<max(1, width) { start() }
        while let (i, r) = try await group.next() {
            out[i] = r
            start()
        }
        return out.map { $0! }
    }
}

/// Runs a command to its end without blocking a thread of Swift's executor: its stdout.
func runCommand(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let status: Int32 = try await withCheckedThrowingContinuation { cont in
        p.terminationHandler = { cont.resume(returning: $0.terminationStatus) }
        do { try p.run() } catch { cont.resume(throwing: error) }
    }
    return (status, String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
            String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
}
