import Foundation
import JSON
import LambdaEvents
import NIOConcurrencyHelpers

/// Event invocations (`invokeAsync` frames, `emulator invoke --async`), as Lambda runs them:
/// accepted at once, retried twice on failure (after 1 and 2 minutes, scaled by
/// `--async-retry-scale` for tests), and, when every attempt failed, written to the dead-letter
/// folder as JSON with each attempt's error. Every accepted event is a file in `queued/` until it
/// succeeds or is dead-lettered, so a restart resumes where the last run stopped. One emulator
/// per folder.
package final class AsyncInvocationQueue: Sendable {
    package struct Entry: Codable, Sendable {
        package var id: String
        package var function: String
        package var event: JSONValue
        package var source: String
        package var enqueuedAt: String
        package var attempts: Int
        package var errors: [Attempt]
        /// Epoch ms before which the next attempt must not run (the retry delay, across restarts).
        package var notBeforeMs: Int64

        package struct Attempt: Codable, Sendable {
            package var at: String
            package var requestId: String
            package var error: String
        }
    }

    package typealias Invoke = @Sendable (_ function: String, _ event: JSONValue, _ requestId: String) async -> InvocationResult

    package let queuedDirectory: String
    package let deadLetterDirectory: String
    let retryScale: Double
    let log: EmulatorLog
    let invoke: Invoke
    private let active = NIOLockedValueBox<Set<String>>([])

    /// Lambda's policy: two retries, one minute then two minutes apart.
    static let retryDelays: [Double] = [60, 120]

    package init(directory: String, retryScale: Double, log: EmulatorLog, invoke: @escaping Invoke) throws {
        queuedDirectory = (directory as NSString).appendingPathComponent("queued")
        deadLetterDirectory = (directory as NSString).appendingPathComponent("dead-letter")
        for d in [queuedDirectory, deadLetterDirectory] {
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        }
        self.retryScale = retryScale
        self.log = log
        self.invoke = invoke
    }

    /// Writes the event durably (before the caller answers 202) and starts working on it.
    @discardableResult
    package func enqueue(function: String, event: JSONValue, source: String) throws -> String {
        let entry = try Self.write(function: function, event: event, source: source, to: queuedDirectory)
        start(entry.id)
        return entry.id
    }

    /// For `emulator invoke --async` without a running emulator in the process: the file is the
    /// queue; a running emulator on the same folder picks it up within a second.
    package static func write(function: String, event: JSONValue, source: String, to queuedDirectory: String) throws -> Entry {
        try FileManager.default.createDirectory(atPath: queuedDirectory, withIntermediateDirectories: true)
        let now = Timestamps.nowMs()
        let entry = Entry(id: Invoker.newRequestId(), function: function, event: event, source: source,
                          enqueuedAt: Timestamps.iso8601Millis(now), attempts: 0, errors: [], notBeforeMs: 0)
        try DurableFile.write(JSONEncoder().encode(entry), to: (queuedDirectory as NSString).appendingPathComponent(entry.id + ".json"))
        return entry
    }

    /// Picks up queued files not being worked on: at start (left by an earlier run) and then
    /// every half second (written by `emulator invoke --async`). Returns when cancelled.
    package func run() async {
        while !Task.isCancelled {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: queuedDirectory)) ?? []
            for f in files where f.hasSuffix(".json") { start(String(f.dropLast(5))) }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    package var pending: Int { active.withLockedValue { $0.count } }

    private func start(_ id: String) {
        let isNew = active.withLockedValue { $0.insert(id).inserted }
        guard isNew else { return }
        Task { await process(id) }
    }

    private func path(_ id: String) -> String { (queuedDirectory as NSString).appendingPathComponent(id + ".json") }

    private func process(_ id: String) async {
        defer { _ = active.withLockedValue { $0.remove(id) } }
        guard let data = FileManager.default.contents(atPath: path(id)),
              var entry = try? JSONDecoder().decode(Entry.self, from: data) else {
            log.emulator("async queue: cannot read \(path(id)); left in place")
            return
        }
        var throttles = 0
        while true {
            let wait = entry.notBeforeMs - Timestamps.nowMs()
            if wait > 0 { try? await Task.sleep(for: .milliseconds(wait)) }
            let requestId = Invoker.newRequestId()
            log.telemetry.label(requestId, "async")
            let result = await invoke(entry.function, entry.event, requestId)
            // Like Lambda, a throttle (the function at its concurrency limit) is not an attempt:
            // the event goes back to the queue and waits for capacity, backing off from 1 s to
            // a minute (scaled like the retries), instead of burning its two retries in a burst.
            if case .failure(.throttled) = result.outcome {
                throttles += 1
                let delay = min(60, pow(2, Double(min(throttles - 1, 6)))) * retryScale * Double.random(in: 0.5...1)
                if throttles == 1 || throttles.isMultiple(of: 10) {
                    log.emulator("async event \(id) for \(entry.function) throttled (\(throttles)x); waiting for capacity")
                }
                try? await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
                continue
            }
            let failure: String?
            switch result.outcome {
            case .success(.response), .success(.streamed(_, nil)): failure = nil
            case .success(.streamed(_, let e?)), .success(.functionError(let e)): failure = "\(e.errorType): \(e.errorMessage)"
            case .failure(let f): failure = f.description
            }
            entry.attempts += 1
            guard let failure else {
                try? FileManager.default.removeItem(atPath: path(id))
                return
            }
            entry.errors.append(.init(at: Timestamps.iso8601Millis(Timestamps.nowMs()), requestId: requestId, error: failure))
            if entry.attempts > Self.retryDelays.count {
                let dead = (deadLetterDirectory as NSString).appendingPathComponent(id + ".json")
                do {
                    let e = JSONEncoder()
                    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                    try DurableFile.write(e.encode(entry), to: dead)
                    try FileManager.default.removeItem(atPath: path(id))
                    log.emulator("async event \(id) for \(entry.function) failed \(entry.attempts) times; dead-lettered to \(dead): \(failure)")
                } catch {
                    log.emulator("async event \(id): cannot dead-letter (\(error)); left queued")
                }
                return
            }
            let delay = Self.retryDelays[entry.attempts - 1] * retryScale
            entry.notBeforeMs = Timestamps.nowMs() + Int64(delay * 1000)
            try? DurableFile.write(JSONEncoder().encode(entry), to: path(id))
            log.emulator("async event \(id) for \(entry.function) failed (attempt \(entry.attempts)): \(failure); retrying in \(EmulatorLog.fmt(delay)) s")
        }
    }
}

/// Write-then-rename with fsync: a file is either the old one or the complete new one.
enum DurableFile {
    static func write(_ data: Data, to path: String) throws {
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: tmp]) }
        let ok = data.withUnsafeBytes { raw -> Bool in
            var off = 0
            while off < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + off, raw.count - off)
                if n <= 0 { if errno == EINTR { continue }; return false }
                off += n
            }
            return fsync(fd) == 0
        }
        close(fd)
        guard ok, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        let dir = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }
}

extension AsyncInvocationQueue {
    /// Entries in a folder, newest first (at most `limit`): the dashboard's queue and dead letters.
    static func entries(in directory: String, limit: Int = 100) -> [Entry] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".json") }
        let decoder = JSONDecoder()
        return files.compactMap { f -> Entry? in
            FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent(f)).flatMap { try? decoder.decode(Entry.self, from: $0) }
        }.sorted { $0.enqueuedAt > $1.enqueuedAt }.prefix(limit).map { $0 }
    }

    package var queuedEntries: [Entry] { Self.entries(in: queuedDirectory) }
    package var deadLetters: [Entry] { Self.entries(in: deadLetterDirectory) }

    /// How many files each folder holds (cheaper than reading them, for `/metrics`).
    package var counts: (queued: Int, deadLetters: Int) {
        let n = { (d: String) in ((try? FileManager.default.contentsOfDirectory(atPath: d)) ?? []).filter { $0.hasSuffix(".json") }.count }
        return (n(queuedDirectory), n(deadLetterDirectory))
    }

    /// Sends a dead-lettered event back to the queue as a new event with fresh attempts (its
    /// source says it is a replay); the dead letter is removed only once the new one is durable.
    /// Nil when there is no such dead letter.
    package func replay(_ id: String) throws -> String? {
        // Ids are the queue's own UUIDs: anything else could name a path outside the folder.
        guard id.count == 36, id.allSatisfy({ $0.isHexDigit || $0 == "-" }) else { return nil }
        let path = (deadLetterDirectory as NSString).appendingPathComponent(id + ".json")
        guard let data = FileManager.default.contents(atPath: path), let dead = try? JSONDecoder().decode(Entry.self, from: data) else { return nil }
        let fresh = try enqueue(function: dead.function, event: dead.event, source: "replay of \(id) (\(dead.source))")
        try FileManager.default.removeItem(atPath: path)
        log.emulator("dead letter \(id) for \(dead.function) replayed as \(fresh)")
        return fresh
    }
}
