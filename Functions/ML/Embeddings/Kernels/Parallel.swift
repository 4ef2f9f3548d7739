import COpenBLAS
import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Fork-join over `width` threads, the caller's included: what the encoder uses to spread one
/// pass over the cores when the batch is too small (one query) or too uneven to share out
/// whole sequences. A pass forks and joins seven times per layer, so the hand-off must be cheap:
/// on the process-wide `WorkerTeam` it is a few microseconds; Dispatch's `concurrentPerform`,
/// whose threads park between calls, took 50-450 us per join on a 2-vCPU VM, as much as the
/// work it split for a short query. When the team is busy another pass already has the cores,
/// so this one runs on its caller's thread alone (Dispatch's threads are shared with the Swift
/// concurrency executor on Linux: borrowing them starved the process's other tasks).
struct Parallel: Sendable {
    let width: Int
    let team: WorkerTeam?

    static let serial = Parallel(width: 1, team: nil)

    /// `body(0) ... body(width - 1)`, concurrently; returns when all have.
    @inline(__always)
    func run(_ body: (Int) -> Void) {
        if width == 1 {
            body(0)
        } else if let team, width <= team.width {
            team.run(width: width, body)
        } else {
            for j in 0..<width { body(j) }
        }
    }

    /// The `j`-th of `width` near-equal slices of `0..<n`, inner boundaries on multiples of
    /// `align` (column blocks stay cache-line and SIMD aligned).
    @inline(__always)
    func part(_ j: Int, of n: Int, align: Int = 1) -> Range<Int> {
        guard width > 1 else { return 0..<n }
        func boundary(_ k: Int) -> Int {
            k == width ? n : min(n, (n * k / width + align / 2) / align * align)
        }
        return boundary(j)..<boundary(j + 1)
    }
}

/// Threads that stay with one caller for the length of a pass: woken at its start, they spin
/// between the pass's fork-joins (a pass of a short query has 42, ~100 us apart) and sleep on a
/// semaphore once idle for ~50 us. One team per process, used by one pass at a time.
///
/// Robust to a busy or preempted core (this VM shows ~13% steal time): a fork-join's indices are
/// claimed, not assigned, so the caller runs whatever a worker has not taken yet instead of
/// waiting for it; and every wait spins only briefly before yielding the CPU, so a caller never
/// burns the timeslice a worker sharing its core needs.
final class WorkerTeam: @unchecked Sendable {
    // @unchecked: `body` is written by the owning caller only between fork-joins, and read by a
    // worker only after it has claimed an index of the current one (which the caller waits for).
    let width: Int
    /// One word, so a claim is checked against one consistent snapshot: generation << 40 |
    /// index count << 20 | next index. A claim is a compare-exchange of the whole word, so it can
    /// only take an index of the fork-join it saw, and only while that one is unfinished.
    private let state = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let active = Atomic<Bool>(false)
    private let owned = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let wake = DispatchSemaphore(value: 0)
    private var body: ((Int) -> Void)?
    private static let indexBits = 20
    /// PAUSEs (~50 ns each on recent Intel cores) before a wait yields or a worker sleeps.
    private static let spins = 1000

    /// One thread per core this process may use (the caller being one of them).
    static let shared = WorkerTeam(width: SchedulableCPUs.count)

    /// A team lives as long as the process: its threads keep it (they sleep when idle).
    init(width: Int) {
        self.width = max(1, width)
        for j in 1..<self.width {
            let thread = Thread { self.work() }
            thread.name = "embedding-worker-\(j)"
            thread.start()
        }
    }

    /// Runs `pass` with the team's threads awake (`Parallel` over them), or with `nil` if
    /// another pass holds the team.
    func withTeam<R>(_ pass: (WorkerTeam?) throws -> R) rethrows -> R {
        guard width > 1, owned.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return try pass(nil)
        }
        active.store(true, ordering: .sequentiallyConsistent)
        wakeSleepers()
        defer {
            active.store(false, ordering: .releasing)
            owned.store(false, ordering: .releasing)
        }
        return try pass(self)
    }

    private static func generation(_ s: Int) -> Int { s >> (2 * indexBits) }
    private static func count(_ s: Int) -> Int { (s >> indexBits) & ((1 << indexBits) - 1) }
    private static func index(_ s: Int) -> Int { s & ((1 << indexBits) - 1) }

    /// `body(0..<n)`, each index once, the caller taking part. Only inside `withTeam`.
    func run(width n: Int, _ body: (Int) -> Void) {
        precondition(n < 1 << Self.indexBits)
        withoutActuallyEscaping(body) { body in
            // Every index of the previous fork-join is finished, so no worker can claim until the
            // new word is published: `body` and `finished` are the caller's to set.
            self.body = body
            finished.store(0, ordering: .relaxed)
            let generation = (Self.generation(state.load(ordering: .relaxed)) + 1) & ((1 << 23) - 1)
            state.store(generation << (2 * Self.indexBits) | n << Self.indexBits, ordering: .sequentiallyConsistent)
            wakeSleepers()
            claim(generation)
            var spun = 0
            while finished.load(ordering: .acquiring) < n {
                spun += 1
                if spun < Self.spins { emb_cpu_relax() } else { sched_yield() }
            }
            self.body = nil
        }
    }

    /// Runs unclaimed indices of fork-join `generation` until there are none.
    private func claim(_ generation: Int) {
        while true {
            let s = state.load(ordering: .acquiring)
            guard Self.generation(s) == generation, Self.index(s) < Self.count(s) else { return }
            guard state.compareExchange(expected: s, desired: s + 1, ordering: .acquiringAndReleasing).exchanged else {
                continue
            }
            body!(Self.index(s))
            finished.add(1, ordering: .releasing)
        }
    }

    /// Signals each sleeping worker once. Paired with `work`'s re-check after it counts itself a
    /// sleeper (both sequentially consistent), no wake-up is lost; a surplus signal only makes a
    /// worker look once more and sleep again.
    private func wakeSleepers() {
        let n = sleepers.load(ordering: .sequentiallyConsistent)
        for _ in 0..<min(n, width - 1) { wake.signal() }
    }

    private func work() {
        var seen = 0
        var idle = 0
        while true {
            let generation = Self.generation(state.load(ordering: .acquiring))
            if active.load(ordering: .acquiring), generation != seen {
                seen = generation
                idle = 0
                claim(generation)
                continue
            }
            idle += 1
            if idle < Self.spins {
                emb_cpu_relax()
                continue
            }
            sleepers.add(1, ordering: .sequentiallyConsistent)
            let now = Self.generation(state.load(ordering: .sequentiallyConsistent))
            if !(active.load(ordering: .sequentiallyConsistent) && now != seen) { wake.wait() }
            sleepers.subtract(1, ordering: .sequentiallyConsistent)
            idle = 0
        }
    }
}

/// A pointer handed to the threads of one `Parallel.run`, which write disjoint parts of it.
struct SharedPointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}

/// A value carried into `concurrentPerform`'s @Sendable closure; the caller vouches for it.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
