import Foundation
import Testing
@testable import Embeddings

/// The embedder's thread count follows what the process may really use, not the machine's cores.
@Suite struct SchedulableCPUsTests {
    @Test func cgroupQuotasAreWholeCPUs() {
        #expect(SchedulableCPUs.quota(cpuMax: "max 100000\n") == nil)
        #expect(SchedulableCPUs.quota(cpuMax: "150000 100000\n") == 1)
        #expect(SchedulableCPUs.quota(cpuMax: "400000 100000") == 4)
        #expect(SchedulableCPUs.quota(cpuMax: "50000 100000") == 1)
        #expect(SchedulableCPUs.quota(cpuMax: "garbage") == nil)
    }

    @Test func kernelCPUListsAreCounted() {
        #expect(SchedulableCPUs.cpuCount(list: "0") == 1)
        #expect(SchedulableCPUs.cpuCount(list: "0-3,8,10-11") == 7)
        #expect(SchedulableCPUs.cpuCount(list: "") == nil)
        #expect(SchedulableCPUs.cpuCount(list: "3-1") == nil)
    }

    #if os(Linux)
    /// cgroup v1 keeps quota and period in two files; -1 is no quota.
    @Test func cgroupV1QuotasAreReadToo() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cgroup-v1-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/cpu", withIntermediateDirectories: true)
        try "100000\n".write(toFile: root + "/cpu/cpu.cfs_period_us", atomically: true, encoding: .utf8)
        try "250000\n".write(toFile: root + "/cpu/cpu.cfs_quota_us", atomically: true, encoding: .utf8)
        #expect(SchedulableCPUs.cgroupQuota(root: root) == 2)
        try "-1\n".write(toFile: root + "/cpu/cpu.cfs_quota_us", atomically: true, encoding: .utf8)
        #expect(SchedulableCPUs.cgroupQuota(root: root) == nil)
    }

    @Test func aThreadPinnedToOneCoreCountsOne() throws {
        let online = ProcessInfo.processInfo.activeProcessorCount
        let all = try #require(SchedulableCPUs.affinityCount())
        #expect(all >= 1 && all <= online)
        // Affinity is per thread and inherited by what it starts: pin a fresh thread to the first
        // core, as the emulator's pinned event loop does before it spawns a handler.
        let counted = CountBox()
        let thread = Thread {
            // glibc's sched_setaffinity, looked up at run time (Swift's Glibc does not declare it).
            typealias SetAffinity = @convention(c) (Int32, Int, UnsafeRawPointer) -> Int32
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_setaffinity") else { return }
            let setAffinity = unsafeBitCast(symbol, to: SetAffinity.self)
            var mask = [UInt64](repeating: 0, count: 16)
            mask[0] = 1
            guard mask.withUnsafeBytes({ setAffinity(0, $0.count, $0.baseAddress!) }) == 0 else { return }
            counted.set(SchedulableCPUs.affinityCount())
        }
        thread.start()
        while !thread.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        #expect(counted.get() == 1)
    }
    #endif
}

private final class CountBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int?
    func set(_ v: Int?) { lock.withLock { value = v } }
    func get() -> Int? { lock.withLock { value } }
}
