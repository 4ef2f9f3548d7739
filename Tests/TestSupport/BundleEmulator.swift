import Foundation

/// A real `emulator start-api` on a free port with the real template, its data in a temporary
/// folder (the store, the blobs, and the emulator's async queue under its working directory).
/// Shared by every suite that drives the bundle through HTTP as a user would.
package final class BundleEmulator: @unchecked Sendable {
    package let child: ChildProcess
    package let port: Int
    /// The emulator's working directory: `rag.sqlite`, `blobs/`, the async queue.
    package let data: String
    /// One per emulator (see TestHTTPClient).
    package let http: TestHTTPClient

    package struct StartError: Error, CustomStringConvertible {
        package let description: String
        package init(description: String) { self.description = description }
    }

    package static var template: String { TestPaths.packageRoot + "/infra/template.yaml" }

    /// `environment` is layered over this process's environment and the defaults (SQLite store
    /// and blobs in `data`, the bundled model); `arguments` are added to `start-api`'s.
    /// Schedules are off unless `arguments` holds `--now` or `schedules` is true.
    /// - Parameter templatePath: another template (a variant of the real one) instead of it.
    package static func start(prefix: String = "bundle", data: String? = nil, environment: [String: String] = [:],
                             arguments: [String] = [], schedules: Bool = false, templatePath: String? = nil) async throws -> BundleEmulator {
        let data = data ?? TestPaths.temporaryDirectory(prefix)
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = "sqlite://\(data)/rag.sqlite"
        env["BLOB_DIR"] = "\(data)/blobs"
        env["EMBEDDING_MODEL_DIR"] = TestPaths.packageRoot + "/.models/multilingual-e5-small"
        env["ROUTE_CATALOG"] = TestPaths.packageRoot + "/config/routing/catalog.yaml"
        env["ROUTE_RULES"] = TestPaths.packageRoot + "/config/routing/rules.yaml"
        env["ROUTE_SETTINGS"] = TestPaths.packageRoot + "/config/routing/router.yaml"
        env["GENERATION_PROVIDERS"] = TestPaths.packageRoot + "/config/generation/providers.yaml"
        env["GENERATION_SETTINGS"] = TestPaths.packageRoot + "/config/generation/generation.yaml"
        env["GENERATION_PROMPTS"] = TestPaths.packageRoot + "/config/generation/prompts.yaml"
        for (k, v) in environment { env[k] = v }
        var args = ["start-api", "--port", "0", "--template", templatePath ?? template, "--build-dir", TestPaths.binDirectory,
                    "--async-retry-scale", "0.01"]
        if !schedules { args.append("--no-schedules") }
        args += arguments
        let child = try ChildProcess(TestPaths.executable("emulator"), arguments: args, environment: env, currentDirectory: data)
        guard let line = await child.waitForStderr(containing: "listening on http://", timeout: 120),
              let port = line.split(separator: ":").last.flatMap({ Int($0) }) else {
            child.signal(SIGKILL)
            throw StartError(description: "emulator did not start: \(child.stderr.joined(separator: "\n"))")
        }
        return BundleEmulator(child: child, port: port, data: data)
    }

    private init(child: ChildProcess, port: Int, data: String) {
        self.child = child
        self.port = port
        http = TestHTTPClient(port: port)
        self.data = data
    }

    /// A development JWT from `emulator token`, with the template's issuer and audience.
    package func token(org: String) async throws -> String {
        try await token(arguments: ["--org", org])
    }

    /// A token whose `org_id` claim is this raw JSON (`["acme"]`, `123`, `null`).
    package func token(orgJSON: String) async throws -> String {
        try await token(arguments: ["--org-json", orgJSON])
    }

    private func token(arguments: [String]) async throws -> String {
        let p = try ChildProcess(TestPaths.executable("emulator"), arguments: ["token"] + arguments + ["--template", Self.template])
        p.closeStdin()
        guard let line = await p.readLine(timeout: 30), !line.isEmpty else {
            throw StartError(description: "emulator token failed: \(p.stderr.joined(separator: "\n"))")
        }
        _ = await p.waitForExit(timeout: 10)
        return line.trimmingCharacters(in: .whitespaces)
    }

    package func request(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> TestHTTPReply {
        try await http.request(method, path, body: body, headers: headers)
    }

    /// A JSON request with a bearer token.
    package func json(_ method: String, _ path: String, token: String, _ object: Any? = nil) async throws -> TestHTTPReply {
        let body = try object.map { try JSONSerialization.data(withJSONObject: $0) }
        return try await http.request(method, path, body: body,
                                      headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"])
    }

    /// Polls `check` every `interval` seconds until it returns a value or `timeout` passes.
    package func eventually<T>(timeout: Double = 60, interval: Double = 0.1, _ check: () async throws -> T?) async throws -> T? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let value = try await check() { return value }
            try await Task.sleep(nanoseconds: UInt64(interval * 1e9))
        }
        return try await check()
    }

    package func stop() {
        child.signal(SIGTERM)
        let pid = child.process.processIdentifier
        // Give it the shutdown grace, then make sure; never outlive the test.
        DispatchQueue.global().asyncAfter(deadline: .now() + 10) { if kill(pid, 0) == 0 { kill(pid, SIGKILL) } }
    }
}

/// `multipart/form-data` bodies as a browser or `curl -F` sends them.
package enum MultipartBody {
    package static let boundary = "----RagFunctionsTest9f8e7d"
    package static let contentType = "multipart/form-data; boundary=\(boundary)"

    package static func make(file: [UInt8], filename: String, contentType fileType: String = "text/plain",
                            title: String? = nil, metadata: String? = nil) -> Data {
        var out = Data()
        func add(_ s: String) { out.append(Data(s.utf8)) }
        add("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\nContent-Type: \(fileType)\r\n\r\n")
        out.append(Data(file))
        add("\r\n")
        if let title { add("--\(boundary)\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n\(title)\r\n") }
        if let metadata { add("--\(boundary)\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n\(metadata)\r\n") }
        add("--\(boundary)--\r\n")
        return out
    }
}
