#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// SIGTERM handling that never cuts an invocation short: while idle the process exits at once;
/// while busy it finishes the invocation, answers it, and then exits (docs/ARCHITECTURE.md, section 4).
enum Termination {
    static let busy = Atomic<Bool>(false)
    static let requested = Atomic<Bool>(false)

    static func install() {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGTERM) { _ in
            // Only async-signal-safe work here: atomics and _exit.
            if !Termination.busy.load(ordering: .sequentiallyConsistent) { _exit(0) }
            Termination.requested.store(true, ordering: .sequentiallyConsistent)
        }
    }

    static func beginInvocation() { busy.store(true, ordering: .sequentiallyConsistent) }

    /// Marks the process idle; exits if a SIGTERM arrived during the invocation.
    static func endInvocation() {
        busy.store(false, ordering: .sequentiallyConsistent)
        if requested.load(ordering: .sequentiallyConsistent) { exit(0) }
    }
}
