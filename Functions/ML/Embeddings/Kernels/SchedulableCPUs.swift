import Foundation

/// How many CPUs this process can actually run on at once: the cores in its affinity mask,
/// lowered to a cgroup CPU quota when one is set. `ProcessInfo.activeProcessorCount` counts the
/// machine's online cores on Linux and ignores both, so a process pinned to one core (the
/// emulator's `--cpu-affinity shard`, `taskset`, a cpuset) or given one CPU's quota
/// (`docker --cpus 1`, Kubernetes limits) would start one spinning embedding thread per machine
/// core and run them in turn on that one: measured, a 20-token query took 9 ms that way
/// against 6 ms on one thread.
package enum SchedulableCPUs {
    package static let count: Int = {
        let online = ProcessInfo.processInfo.activeProcessorCount
        #if os(Linux)
        let quota = cgroupQuota()
        return max(1, min(online, affinityCount() ?? online, quota ?? online))
        #else
        return max(1, online)
        #endif
    }()

    #if os(Linux)
    /// Cores in the calling thread's affinity mask (threads inherit it), from the kernel's
    /// `Cpus_allowed_list` ("0-3,8"): glibc's `sched_getaffinity` is not visible to Swift.
    static func affinityCount(status: String = "/proc/thread-self/status") -> Int? {
        guard let text = try? String(contentsOfFile: status, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) else { return nil }
        return cpuCount(list: line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces))
    }

    /// Whole CPUs of the cgroup's quota (v2 `cpu.max`, v1 `cpu.cfs_quota_us`/`cpu.cfs_period_us`),
    /// at least one; nil without a quota.
    static func cgroupQuota(root: String = "/sys/fs/cgroup") -> Int? {
        if let line = try? String(contentsOfFile: root + "/cpu.max", encoding: .utf8) {
            return quota(cpuMax: line)
        }
        // v1 keeps the same two figures in two files (quota -1: none).
        guard let q = try? String(contentsOfFile: root + "/cpu/cpu.cfs_quota_us", encoding: .utf8),
              let p = try? String(contentsOfFile: root + "/cpu/cpu.cfs_period_us", encoding: .utf8) else { return nil }
        return quota(cpuMax: q + " " + p)
    }
    #endif

    /// A kernel CPU list ("0-3,8,10-11") counted; nil if malformed.
    static func cpuCount(list: String) -> Int? {
        var n = 0
        for part in list.split(separator: ",") {
            let ends = part.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            switch ends.count {
            case 1: guard ends[0] != nil else { return nil }; n += 1
            case 2: guard let a = ends[0], let b = ends[1], b >= a else { return nil }; n += b - a + 1
            default: return nil
            }
        }
        return n > 0 ? n : nil
    }

    /// `cpu.max` holds "max 100000" (no quota) or "150000 100000" (1.5 CPUs: one whole one).
    static func quota(cpuMax line: String) -> Int? {
        let fields = line.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let quota = Double(fields[0]), let period = Double(fields[1]), quota > 0, period > 0 else { return nil }
        return max(1, Int(quota / period))
    }
}
