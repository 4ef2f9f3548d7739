import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import Testing

/// A real `emulator start-api` process on a free port, with a client for it.
final class EmulatorHarness: @unchecked Sendable {
    let child: ChildProcess
    let port: Int
    let directory: String

    struct StartError: Error, CustomStringConvertible {
        let description: String
    }

    static let fixtureTemplate = """
    AWSTemplateFormatVersion: "2010-09-09"
    Transform: AWS::Serverless-2016-10-31
    Globals:
      Function:
        Runtime: provided.al2023
        Timeout: 5
        Environment:
          Variables:
            LAYERED: template
            FROM_TEMPLATE: template
    Resources:
      Fixture:
        Type: AWS::Serverless::Function
        Properties:
          Handler: fixture-fn
          ReservedConcurrentExecutions: 2
          Events:
            Item: {Type: HttpApi, Properties: {Method: GET, Path: "/items/{id}"}}
            Search: {Type: HttpApi, Properties: {Method: GET, Path: /items/search}}
            Post: {Type: HttpApi, Properties: {Method: POST, Path: /items}}
            Any: {Type: HttpApi, Properties: {Method: ANY, Path: "/fx/{proxy+}"}}
      Single:
        Type: AWS::Serverless::Function
        Properties:
          Handler: fixture-fn
          Timeout: 3  # short for the timeout test; not so short that a loaded machine's 800 ms request misses it
          ReservedConcurrentExecutions: 1
          Events:
            S: {Type: HttpApi, Properties: {Method: GET, Path: "/single/{proxy+}"}}
      Broken:
        Type: AWS::Serverless::Function
        Properties:
          Handler: fixture-fn
          Environment:
            Variables:
              FIXTURE_INIT_FAIL: "1"
          Events:
            B: {Type: HttpApi, Properties: {Method: GET, Path: /broken}}
      Missing:
        Type: AWS::Serverless::Function
        Properties:
          Handler: no-such-binary
          Events:
            M: {Type: HttpApi, Properties: {Method: GET, Path: /missing}}
    """

    static func start(template: String = fixtureTemplate, arguments: [String] = [], environment: [String: String] = [:],
                      envFile: String? = nil, templatePath: String? = nil, currentDirectory: String? = nil) async throws -> EmulatorHarness {
        let dir = currentDirectory ?? TestPaths.temporaryDirectory("emulator")
        let path: String
        if let templatePath {
            path = templatePath
        } else {
            path = dir + "/template.yaml"
            try template.write(toFile: path, atomically: true, encoding: .utf8)
        }
        var args = ["start-api", "--port", "0"]
        if !arguments.contains("--template") { args += ["--template", path] }
        if !arguments.contains("--build-dir") && !arguments.contains("--packages") { args += ["--build-dir", TestPaths.binDirectory] }
        if let envFile {
            try envFile.write(toFile: dir + "/test.env", atomically: true, encoding: .utf8)
            args += ["--env-file", dir + "/test.env"]
        }
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        let child = try ChildProcess(TestPaths.executable("emulator"), arguments: args + arguments, environment: env, currentDirectory: dir)
        guard let line = await child.waitForStderr(containing: "listening on http://", timeout: 120),
              let port = line.split(separator: ":").last.flatMap({ Int($0) }) else {
            child.signal(SIGKILL)
            throw StartError(description: "emulator did not start: \(child.stderr.joined(separator: "\n"))")
        }
        return EmulatorHarness(child: child, port: port, directory: dir)
    }

    private init(child: ChildProcess, port: Int, directory: String) {
        self.child = child
        self.port = port
        http = TestHTTPClient(port: port)
        self.directory = directory
    }

    typealias Reply = TestHTTPReply

    /// One per emulator (see TestHTTPClient).
    let http: TestHTTPClient

    func request(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> Reply {
        try await http.request(method, path, body: body, headers: headers)
    }

    func get(_ path: String) async throws -> Reply { try await request("GET", path) }

    /// Waits until no process of `function` is serving an invocation.
    func waitUntilIdle(_ function: String, timeout: Double = 30) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let health = try JSONSerialization.jsonObject(with: try await get("/__emulator/health").body) as? [String: Any]
            let stats = (health?["functions"] as? [[String: Any]])?.first { $0["function"] as? String == function }
            if let live = stats?["live"] as? Int, let idle = stats?["idle"] as? Int, live == idle { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("\(function) still busy after \(timeout) s")
    }

    /// Waits until `function` has `busy` processes serving invocations (from `/__emulator/health`),
    /// so tests order events by state rather than by guessing timings.
    func waitUntilBusy(_ function: String, busy: Int = 1, timeout: Double = 10) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let health = try JSONSerialization.jsonObject(with: try await get("/__emulator/health").body) as? [String: Any]
            let stats = (health?["functions"] as? [[String: Any]])?.first { $0["function"] as? String == function }
            if let live = stats?["live"] as? Int, let idle = stats?["idle"] as? Int, live - idle >= busy { return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Live handler processes (children of the emulator), by command name.
    func handlerPids() -> [Int32] {
        let ppid = child.process.processIdentifier
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
            let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
            // After the command: state, ppid.
            return fields.count > 1 && Int32(fields[1]) == ppid && !fields[0].hasPrefix("Z")
        }
    }

    func stop() async {
        child.signal(SIGTERM)
        if await child.waitForExit(timeout: 10) == nil { child.signal(SIGKILL) }
    }
}
