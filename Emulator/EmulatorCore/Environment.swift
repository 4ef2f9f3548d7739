import Foundation
import JSON

/// A handler's environment: template `Environment` < `.env`/`--env-file` < `--env-vars env.json`
/// (SAM's format: `"Parameters"` for every function, then per function) < the emulator's own
/// environment (the shell wins), then Lambda's reserved variables, which no layer may override.
/// Values are never logged: they may hold secrets.
package struct EnvironmentLayers: Sendable {
    package var envFile: [String: String]
    /// `--env-vars`: by logical id (or FunctionName); `"Parameters"` applies to all.
    package var envVars: [String: [String: String]]
    package var shell: [String: String]

    package init(envFile: [String: String] = [:], envVars: [String: [String: String]] = [:],
                shell: [String: String] = ProcessInfo.processInfo.environment) {
        self.envFile = envFile
        self.envVars = envVars
        var shell = shell
        // Set per process (each Runtime API process has its own endpoint), never inherited.
        shell["AWS_LAMBDA_RUNTIME_API"] = nil
        self.shell = shell
    }

    package func resolved(for function: FunctionSpec, taskRoot: String) -> [String: String] {
        var env = function.environment
        env.merge(envFile) { _, new in new }
        env.merge(envVars["Parameters"] ?? [:]) { _, new in new }
        env.merge(envVars[function.logicalId] ?? envVars[function.functionName] ?? [:]) { _, new in new }
        env.merge(shell) { _, new in new }
        let reserved: [String: String] = [
            "AWS_LAMBDA_FUNCTION_NAME": function.functionName,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": String(function.memoryMB),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/\(function.functionName)",
            "AWS_LAMBDA_LOG_STREAM_NAME": "local/[$LATEST]emulator",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": "AWS_Lambda_\(function.runtime)",
            "LAMBDA_TASK_ROOT": taskRoot,
            "_HANDLER": function.handler,
            // As `sam local` sets it: lets a function tell the emulator from Lambda (readiness
            // refuses instance-local storage on Lambda only).
            "AWS_SAM_LOCAL": "true",
        ]
        env.merge(reserved) { _, new in new }
        if env["AWS_REGION"] == nil { env["AWS_REGION"] = "us-east-1" }
        if env["AWS_DEFAULT_REGION"] == nil { env["AWS_DEFAULT_REGION"] = env["AWS_REGION"] }
        return env
    }

    /// Parses SAM's `--env-vars` JSON: `{"Parameters": {...}, "FunctionLogicalId": {"KEY": "value"}}`.
    /// Numbers and booleans are taken as their text, as SAM does.
    package static func parseEnvVarsJSON(_ data: Data) throws -> [String: [String: String]] {
        guard case .object(let top)? = try? JSONValue.parse(Array(data)) else {
            throw TemplateError("--env-vars must be a JSON object: {\"FunctionName\": {\"KEY\": \"value\"}}.")
        }
        var out: [String: [String: String]] = [:]
        for (name, vars) in top {
            guard case .object(let o) = vars else { throw TemplateError("--env-vars: `\(name)` must map to an object of variables.") }
            out[name] = o.mapValues(\.textValue)
        }
        return out
    }

    /// Parses a `.env` file: `KEY=value`, optional `export `, `#` comments, single or double
    /// quotes (double quotes understand `\n`, `\"`, `\\`).
    package static func parseEnvFile(_ text: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let eq = line.firstIndex(of: "=") else {
                throw TemplateError(".env line \(n + 1): expected KEY=value, got `\(line)`.")
            }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw TemplateError(".env line \(n + 1): `\(key)` is not a valid variable name.")
            }
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.count >= 2, value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
                    .replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\\"", with: "\"")
                    .replacingOccurrences(of: "\\\\", with: "\\")
            } else if value.hasPrefix("'"), value.count >= 2, value.hasSuffix("'") {
                value = String(value.dropFirst().dropLast())
            } else if let hash = value.range(of: " #") {
                value = value[..<hash.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            out[key] = value
        }
        return out
    }
}

/// Where the functions' executables are: a SwiftPM bin folder.
package struct ExecutableLocator: Sendable, CustomStringConvertible {
    package let directory: String
    package let layout: Layout

    /// Where a function's executable sits under `directory`.
    package enum Layout: Sendable, Equatable {
        /// SwiftPM's bin folder: `<directory>/<handler>`.
        case buildFolder
        /// Lambda packages: `<directory>/<handler>/bootstrap` (infra/package.sh) or
        /// `<directory>/<LogicalId>/bootstrap` (`sam build`), each folder a task root.
        case packages
    }

    package init(directory: String, layout: Layout = .buildFolder) {
        self.directory = directory
        self.layout = layout
    }

    package var description: String { layout == .packages ? "the packages in \(directory)" : directory }

    package func path(for function: FunctionSpec) -> String? {
        switch layout {
        case .buildFolder:
            let p = (directory as NSString).appendingPathComponent(function.handler)
            return FileManager.default.isExecutableFile(atPath: p) ? p : nil
        case .packages:
            for folder in [function.handler, function.logicalId] {
                let p = ((directory as NSString).appendingPathComponent(folder) as NSString).appendingPathComponent("bootstrap")
                if FileManager.default.isExecutableFile(atPath: p) { return p }
            }
            return nil
        }
    }

    /// The bin folder of the newest existing build under `packageRoot` (debug or release),
    /// judged by the newest of the handlers' binaries.
    package static func newestBuild(packageRoot: String, handlers: [String]) -> ExecutableLocator? {
        let candidates = [".build/debug", ".build/release"].map { (packageRoot as NSString).appendingPathComponent($0) }
        var best: (String, Date)?
        for dir in candidates {
            let dates = handlers.compactMap { h -> Date? in
                let p = (dir as NSString).appendingPathComponent(h)
                guard FileManager.default.isExecutableFile(atPath: p) else { return nil }
                return (try? FileManager.default.attributesOfItem(atPath: p))?[.modificationDate] as? Date
            }
            guard let newest = dates.max() else { continue }
            if best == nil || newest > best!.1 { best = (dir, newest) }
        }
        return best.map { ExecutableLocator(directory: $0.0) }
    }
}
