import Foundation

/// How the emulator starts one function's processes and speaks to them: derived from the
/// template (`Runtime`, `Handler`, `CodeUri`, `Metadata.EmulatorInterface`) and the build folder.
public struct FunctionLaunch: Sendable, Equatable {
    public var executable: String
    public var arguments: [String] = []
    /// nil: the emulator's own working directory.
    public var workingDirectory: String?
    public var interface: FunctionInterface
    /// `LAMBDA_TASK_ROOT`: where the function's code is.
    public var taskRoot: String
    /// When this file changes, warm processes are recycled: the Swift binary after a rebuild,
    /// a Python handler's module after an edit.
    public var watchedFile: String

    /// - Throws: `InvocationFailure.spawnFailed` naming what is missing and how to get it.
    public static func resolve(_ function: FunctionSpec, template: Template, binaries: ExecutableLocator,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws(InvocationFailure) -> FunctionLaunch {
        if function.isPython { return try python(function, template: template, environment: environment) }
        guard let executable = binaries.path(for: function) else {
            throw .spawnFailed("No executable `\(function.handler)` for \(function.logicalId) in \(binaries.description). Run `swift build`.")
        }
        return FunctionLaunch(executable: executable, interface: function.interface,
                              taskRoot: (executable as NSString).deletingLastPathComponent, watchedFile: executable)
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
