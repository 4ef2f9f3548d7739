import CSpawn
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts a child with posix_spawn: its stdin, stdout and stderr on fresh pipes, default signal
/// handling, an empty signal mask and a process group of its own (so a terminal's Ctrl-C
/// reaches the emulator, which drains first, rather than killing handlers mid-invocation).
enum Spawn {
    struct Child {
        let pid: pid_t
        /// Parent ends: write to the child's stdin, read its stdout and stderr.
        let stdin: Int32
        let stdout: Int32
        let stderr: Int32
    }

    struct SpawnError: Error, CustomStringConvertible {
        let description: String
    }

    /// pipe2(O_CLOEXEC) is not visible from Swift here, so pipe()+FD_CLOEXEC and the spawn
    /// happen under one lock: no concurrent spawn can inherit another child's pipe ends (which
    /// would hide that child's exit from us).
    private static let lock = NSLock()

    private static func pipe2(_ fds: inout [Int32], _ flags: Int32) -> Int32 {
        let rc = fds.withUnsafeMutableBufferPointer { pipe($0.baseAddress!) }
        guard rc == 0 else { return rc }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return 0
    }

    static func spawn(executable: String, arguments: [String] = [], environment: [String: String],
                      workingDirectory: String? = nil) throws -> Child {
        lock.lock()
        defer { lock.unlock() }
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        // O_CLOEXEC everywhere: only the dup2'd copies on 0/1/2 survive into the child.
        guard pipe2(&inPipe, O_CLOEXEC) == 0, pipe2(&outPipe, O_CLOEXEC) == 0, pipe2(&errPipe, O_CLOEXEC) == 0 else {
            let e = errno
            for fd in inPipe + outPipe + errPipe where fd >= 0 { close(fd) }
            throw SpawnError(description: "pipe: \(String(cString: strerror(e)))")
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        // Only 0, 1 and 2 go to the child (see CSpawn/shim.h for what leaked before).
        _ = cspawn_add_closefrom(&actions, 3)
        if let workingDirectory { _ = cspawn_add_chdir(&actions, workingDirectory) }

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attr, argv, envp)
        close(inPipe[0])
        close(outPipe[1])
        close(errPipe[1])
        guard rc == 0 else {
            close(inPipe[1])
            close(outPipe[0])
            close(errPipe[0])
            throw SpawnError(description: "cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        return Child(pid: pid, stdin: inPipe[1], stdout: outPipe[0], stderr: errPipe[0])
    }

    /// How a reaped child ended, in words.
    static func describe(status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "exited with code \((status >> 8) & 0xff)" }
        return "killed by signal \(signal)\(signalName(signal).map { " (\($0))" } ?? "")"
    }

    static func signalName(_ s: Int32) -> String? {
        [SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGILL: "SIGILL", SIGTERM: "SIGTERM",
         SIGBUS: "SIGBUS", SIGTRAP: "SIGTRAP", SIGFPE: "SIGFPE"][s]
    }

    /// Waits for the child without blocking an event loop. A child that closed stdout but
    /// lingers is killed after a short grace, so no thread waits forever.
    static func reap(_ pid: pid_t, completion: @escaping @Sendable (Int32) -> Void) {
        DispatchQueue.global().async {
            var status: Int32 = 0
            for _ in 0..<50 {
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid { return completion(status) }
                if r < 0 { return completion(status) }
                usleep(2_000)
            }
            kill(pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0, errno == EINTR {}
            completion(status)
        }
    }

    /// Peak resident memory (VmHWM) of a live process, in MB.
    static func peakMemoryMB(_ pid: pid_t) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
        let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return (kb + 1023) / 1024
    }
}

