import Foundation

/// How the emulator starts one function's processes and speaks to them: derived from the
/// template (`Runtime`, `Handler`, `CodeUri`, `Metadata.EmulatorInterface`) and the build folder.
package struct FunctionLaunch: Sendable, Equatable {
    package var executable: String
    package var arguments: [String] = []
    /// nil: the emulator's own working directory.
    package var workingDirectory: String?
    package var interface: FunctionInterface
    /// `LAMBDA_TASK_ROOT`: where the function's code is.
    package var taskRoot: String
    /// When this file changes, warm processes are recycled: the Swift binary after a rebuild,
    /// a Python handler's module after an edit.
    package var watchedFile: String
    /// Variables this launch sets over the function's environment (a package's `LD_LIBRARY_PATH`).
    package var environment: [String: String] = [:]
    /// A package's relative local storage paths resolve against the emulator's directory.
    package var anchorsStoragePaths = false
    /// The task root is mounted read-only for the process.
    package var readOnlyTaskRoot = false

    /// - Throws: `InvocationFailure.spawnFailed` naming what is missing and how to get it.
    package static func resolve(_ function: FunctionSpec, template: Template, binaries: ExecutableLocator,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws(InvocationFailure) -> FunctionLaunch {
        if function.isPython { return try python(function, template: template, environment: environment) }
        guard let executable = binaries.path(for: function) else {
            if binaries.layout == .packages {
                throw .spawnFailed("No package for \(function.logicalId) in \(binaries.directory) (looked for \(function.handler)/bootstrap and \(function.logicalId)/bootstrap). Run infra/package.sh or sam build.")
            }
            throw .spawnFailed("No executable `\(function.handler)` for \(function.logicalId) in \(binaries.description). Run `swift build`.")
        }
        let taskRoot = (executable as NSString).deletingLastPathComponent
        if binaries.layout == .packages { return package(bootstrap: executable, taskRoot: taskRoot) }
        return FunctionLaunch(executable: executable, interface: function.interface, taskRoot: taskRoot, watchedFile: executable)
    }

    /// A Lambda package run as Lambda runs it: `bootstrap` speaking the Runtime API, its folder
    /// the task root and working directory, `lib/` on the library path, and the folder mounted
    /// read-only in the process's own mount namespace when the machine allows one
    /// (`ReadOnlyTaskRoot`), so a write there fails here as it fails on Lambda.
    static func package(bootstrap: String, taskRoot: String) -> FunctionLaunch {
        var launch = FunctionLaunch(executable: bootstrap, workingDirectory: taskRoot, interface: .runtimeAPI,
                                    taskRoot: taskRoot, watchedFile: bootstrap)
        launch.environment = ["LD_LIBRARY_PATH": "\(taskRoot):\(taskRoot)/lib"]
        launch.anchorsStoragePaths = true
        if let wrapper = ReadOnlyTaskRoot.command(taskRoot: taskRoot, bootstrap: bootstrap) {
            launch.executable = wrapper[0]
            launch.arguments = Array(wrapper.dropFirst())
            launch.readOnlyTaskRoot = true
        }
        return launch
    }

    /// The function's environment with this launch's own variables; for a package, the local
    /// storage paths of the template (a relative `sqlite://` file, `BLOB_DIR`) anchored at the
    /// emulator's working directory: the code is the package's, the data stays the project's
    /// (and the task root is read-only).
    package func adjusted(_ env: [String: String], emulatorDirectory: String = FileManager.default.currentDirectoryPath) -> [String: String] {
        var env = env.merging(environment) { _, own in own }
        guard anchorsStoragePaths else { return env }
        if let url = env["DATABASE_URL"], url.hasPrefix("sqlite://"), !url.hasPrefix("sqlite:///") {
            env["DATABASE_URL"] = "sqlite://" + (emulatorDirectory as NSString).appendingPathComponent(String(url.dropFirst("sqlite://".count)))
        }
        if let dir = env["BLOB_DIR"], !dir.isEmpty, !dir.hasPrefix("/") {
            env["BLOB_DIR"] = (emulatorDirectory as NSString).appendingPathComponent(dir)
        }
        return env
    }

    /// `python3 -m awslambdaric module.function` in the `CodeUri` folder, as the Lambda Python
    /// base images run it. `EMULATOR_PYTHON` picks the interpreter (default: `python3` on PATH).
    static func python(_ function: FunctionSpec, template: Template, environment: [String: String]) throws(InvocationFailure) -> FunctionLaunch {
        let codeDir: String
        if let uri = function.codeUri, !uri.isEmpty {
            codeDir = uri.hasPrefix("/") ? uri : ((template.directory as NSString).appendingPathComponent(uri) as NSString).standardizingPath
        } else {
            codeDir = template.directory
        }
        let module = function.handler.split(separator: ".").dropLast().joined(separator: "/")
        let candidates = ["\(codeDir)/\(module).py", "\(codeDir)/\(module)/__init__.py"]
        guard let moduleFile = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw .spawnFailed("\(function.logicalId): no module for Handler \(function.handler) in \(codeDir) (looked for \(module).py).")
        }
        let python: String?
        if let chosen = environment["EMULATOR_PYTHON"], !chosen.isEmpty {
            python = chosen.contains("/") ? chosen : which(chosen, path: environment["PATH"])
        } else {
            python = which("python3", path: environment["PATH"])
        }
        guard let python, FileManager.default.isExecutableFile(atPath: python) else {
            throw .spawnFailed("\(function.logicalId) (\(function.runtime)) needs python3 on PATH (or EMULATOR_PYTHON) with `pip install awslambdaric`.")
        }
        return FunctionLaunch(executable: python, arguments: ["-m", "awslambdaric", function.handler], workingDirectory: codeDir,
                              interface: .runtimeAPI, taskRoot: codeDir, watchedFile: moduleFile)
    }

    static func which(_ name: String, path: String?) -> String? {
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// Lambda's task root is read-only. Without Docker, the emulator gets the same effect from a
/// mount namespace per process (`unshare --mount`, with `--user --map-root-user` when not root):
/// the package folder is bind-mounted read-only over itself, then `bootstrap` is exec'd in the
/// same process (so the pid the emulator watches is the handler's). Where namespaces are not
/// allowed (some containers), packages run without it and the emulator says so.
enum ReadOnlyTaskRoot {
    static let unshare: [String]? = {
        guard let path = FunctionLaunch.which("unshare", path: "/usr/bin:/bin:/usr/sbin:/sbin") else { return nil }
        let base = getuid() == 0 ? [path, "--mount", "--propagation", "private"]
                                 : [path, "--user", "--map-root-user", "--mount", "--propagation", "private"]
        // Probe once: the same bind mount on a scratch folder.
        let probe = NSTemporaryDirectory() + "emulator-ro-probe-\(getpid())"
        try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: probe) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: base[0])
        p.arguments = Array(base.dropFirst()) + ["/bin/sh", "-c", script(probe: true), probe]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        p.waitUntilExit()
        return p.terminationStatus == 0 ? base : nil
    }()

    /// `$0` is the task root. The probe also proves a write there fails.
    static func script(probe: Bool) -> String {
        let mount = #"mount --bind "$0" "$0" && mount -o remount,bind,ro "$0""#
        return probe ? mount + #" && ! touch "$0/x" 2>/dev/null"# : mount + #" && exec "$1""#
    }

    static func command(taskRoot: String, bootstrap: String) -> [String]? {
        unshare.map { $0 + ["/bin/sh", "-c", script(probe: false), taskRoot, bootstrap] }
    }
}
