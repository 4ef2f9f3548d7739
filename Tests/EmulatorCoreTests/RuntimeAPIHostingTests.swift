import Foundation
import Testing
import TestSupport

/// Runtime API hosting: the emulator serves `/2018-06-01/runtime/...` per process, and two real
/// runtime clients run behind the HTTP API: our Swift runtime's Lambda transport (libcurl) and
/// AWS's own Python runtime interface client (`awslambdaric`, from PyPI).
@Suite(.serialized) struct RuntimeAPIHostingTests {
    static let pythonDir = TestPaths.packageRoot + "/Tests/Fixtures/python"

    static func template(pythonCodeUri: String = pythonDir) -> String {
        """
        Transform: AWS::Serverless-2016-10-31
        Globals:
          Function:
            Timeout: 3
        Resources:
          SwiftRAPI:
            Type: AWS::Serverless::Function
            Metadata:
              EmulatorInterface: runtime-api
            Properties:
              Handler: fixture-fn
              ReservedConcurrentExecutions: 1
              Events:
                A: {Type: HttpApi, Properties: {Method: ANY, Path: "/sw/{proxy+}"}}
          Stdio:
            Type: AWS::Serverless::Function
            Properties:
              Handler: fixture-fn
              Events:
                A: {Type: HttpApi, Properties: {Method: ANY, Path: "/stdio/{proxy+}"}}
          Py:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.12
              CodeUri: \(pythonCodeUri)
              Handler: app.handler
              ReservedConcurrentExecutions: 1
              Environment:
                Variables:
                  FROM_TEMPLATE: yes-python
              Events:
                A: {Type: HttpApi, Properties: {Method: ANY, Path: "/py/{proxy+}"}}
          PyRaw:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.12
              CodeUri: \(pythonCodeUri)
              Handler: app.raw
          PyBroken:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.12
              CodeUri: \(pythonCodeUri)
              Handler: broken.handler
              Events:
                A: {Type: HttpApi, Properties: {Method: GET, Path: /broken}}
        """
    }

    static func start(_ extra: [String] = [], pythonCodeUri: String = pythonDir) async throws -> EmulatorHarness {
        try await EmulatorHarness.start(template: template(pythonCodeUri: pythonCodeUri), arguments: ["--no-schedules"] + extra)
    }

    static func pid(_ reply: EmulatorHarness.Reply) -> Int? { reply.json["pid"] as? Int }

    /// On Lambda, `invokeAsync` is a SigV4-signed call to the Invoke API with InvocationType
    /// Event. Here the endpoint is the emulator's own Invoke API (`AWS_ENDPOINT_URL_LAMBDA`, as the
    /// AWS SDKs read it), so the whole path runs: the signed request, 202, and the event running.
    @Test func aRuntimeAPIFunctionInvokesAsyncThroughTheInvokeAPI() async throws {
        let port = Self.freePort()
        let emu = try await EmulatorHarness.start(
            template: Self.template(), arguments: ["--no-schedules", "--lambda-port", String(port)],
            environment: ["AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:\(port)", "AWS_REGION": "eu-west-1",
                          "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret", "AWS_SESSION_TOKEN": "tok"])
        defer { Task { await emu.stop() } }
        let r = try await emu.get("/sw/async?function=Stdio")
        #expect(r.status == 202, "\(r.text)")
        #expect(await emu.child.waitForStderr(containing: "[Stdio] START RequestId:", timeout: 30) != nil)
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    @Test func swiftRuntimeSpeaksTheRuntimeAPIBehindTheHTTPAPI() async throws {
        let emu = try await Self.start()
        defer { Task { await emu.stop() } }

        let first = try await emu.get("/sw/items?q=1")
        #expect(first.status == 200)
        #expect(first.json["rawPath"] as? String == "/sw/items")
        #expect(first.json["routeKey"] as? String == "ANY /sw/{proxy+}")
        // The process found its endpoint in AWS_LAMBDA_RUNTIME_API: the emulator's, per process.
        let endpoint = try await emu.get("/sw/env?name=AWS_LAMBDA_RUNTIME_API").json["value"] as? String ?? ""
        #expect(endpoint.hasPrefix("127.0.0.1:"))
        #expect(endpoint != "127.0.0.1:\(emu.port)")
        // A stdio function in the same emulator gets no endpoint.
        #expect(try await emu.get("/stdio/env?name=AWS_LAMBDA_RUNTIME_API").json["value"] as? String == "")

        // Warm: the same process serves the next request.
        let a = try await emu.get("/sw/pid"), b = try await emu.get("/sw/pid")
        #expect(Self.pid(a) != nil && Self.pid(a) == Self.pid(b))

        // A crash is a 502 and the next request gets a fresh process.
        let crash = try await emu.get("/sw/crash")
        #expect(crash.status == 502)
        #expect(crash.errorCode == "function_crashed")
        let after = try await emu.get("/sw/pid")
        #expect(after.status == 200)
        #expect(Self.pid(after) != Self.pid(a))

        // A timeout is a 504 and the process is replaced.
        let slow = try await emu.get("/sw/sleep?ms=5000")
        #expect(slow.status == 504)
        #expect(try await emu.get("/sw/pid").status == 200)
    }

    @Test func aStdioFunctionSwitchesToTheRuntimeAPIWithTheFlag() async throws {
        let emu = try await Self.start(["--runtime-api", "Stdio"])
        defer { Task { await emu.stop() } }
        let endpoint = try await emu.get("/stdio/env?name=AWS_LAMBDA_RUNTIME_API").json["value"] as? String ?? ""
        #expect(endpoint.hasPrefix("127.0.0.1:"))
        #expect(await emu.child.waitForStderr(containing: "Stdio speaks the Lambda Runtime API") != nil)
    }

    @Test func awsPythonRuntimeInterfaceClientServesHTTPRoutes() async throws {
        let emu = try await Self.start()
        defer { Task { await emu.stop() } }

        let first = try await emu.get("/py/hello?x=1")
        #expect(first.status == 200, "\(first.text)")
        #expect(first.json["runtime"] as? String == "python")
        #expect(first.json["path"] as? String == "/py/hello")
        #expect(first.json["functionName"] as? String == "Py")
        #expect(first.json["taskRoot"] as? String == Self.pythonDir)
        // The context's deadline came from Lambda-Runtime-Deadline-Ms: at most the 3 s timeout
        // (on a loaded machine it may already have run out by the time the handler reads it).
        let remaining = try #require(first.json["remainingMs"] as? Int)
        #expect(remaining <= 3000)
        // The request id the handler saw is the one the emulator logged.
        let requestId = try #require(first.json["requestId"] as? String)
        #expect(await emu.child.waitForStderr(containing: "[Py] [\(requestId)] python handler served /py/hello") != nil)

        // Warm reuse: module state survives between invocations.
        let second = try await emu.get("/py/hello")
        #expect(second.json["pid"] as? Int == first.json["pid"] as? Int)
        #expect(second.json["count"] as? Int == 2)

        // An exception is a function error with the Python type, and the process stays warm.
        let boom = try await emu.get("/py/boom")
        #expect(boom.status == 500)
        #expect(boom.errorCode == "function_error")
        #expect(boom.text.contains("ValueError"))
        #expect(await emu.child.waitForStderr(containing: "raise ValueError(\"boom from python\")") != nil)
        let third = try await emu.get("/py/hello")
        #expect(third.json["pid"] as? Int == first.json["pid"] as? Int)

        // A process that exits mid-invocation is a 502, then a fresh one serves.
        let exit = try await emu.get("/py/exit")
        #expect(exit.status == 502)
        #expect(exit.errorCode == "function_crashed")
        let fresh = try await emu.get("/py/hello")
        #expect(fresh.status == 200)
        #expect(fresh.json["pid"] as? Int != first.json["pid"] as? Int)
        #expect(fresh.json["count"] as? Int == 1)
    }

    @Test func pythonInitErrorsAndTimeoutsAreReported() async throws {
        let emu = try await Self.start()
        defer { Task { await emu.stop() } }
        // The runtime posts /init/error; the emulator answers 502 naming the exception.
        let broken = try await emu.get("/broken")
        #expect(broken.status == 502)
        #expect(broken.errorCode == "init_failed")
        #expect(broken.text.contains("broken at import"))

        let slow = try await emu.get("/py/sleep?s=10")
        #expect(slow.status == 504)
        #expect(slow.errorCode == "timeout")
        let next = try await emu.get("/py/hello")
        #expect(next.status == 200)
    }

    @Test func pythonFunctionsAreInvokedDirectlyWithRawEvents() async throws {
        let dir = TestPaths.temporaryDirectory("rapi-invoke")
        try Self.template().write(toFile: dir + "/template.yaml", atomically: true, encoding: .utf8)
        let cli = try ChildProcess(TestPaths.executable("emulator"),
                                   arguments: ["invoke", "PyRaw", "--event", "-", "--template", dir + "/template.yaml",
                                               "--build-dir", TestPaths.binDirectory],
                                   currentDirectory: dir)
        cli.write(#"{"hello":"wörld","n":[1,2,3]}"#)
        cli.closeStdin()
        let line = try #require(await cli.readLine(timeout: 30))
        #expect(await cli.waitForExit() == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let echo = try #require(json["echo"] as? [String: Any])
        #expect(echo["hello"] as? String == "wörld")
        #expect(echo["n"] as? [Int] == [1, 2, 3])
    }

    @Test func editingAPythonModuleRecyclesItsWarmProcesses() async throws {
        let code = TestPaths.temporaryDirectory("rapi-code")
        for file in ["app.py", "broken.py"] {
            try FileManager.default.copyItem(atPath: Self.pythonDir + "/" + file, toPath: code + "/" + file)
        }
        let emu = try await Self.start(pythonCodeUri: code)
        defer { Task { await emu.stop() } }
        let before = try await emu.get("/py/hello")
        #expect(before.json["runtime"] as? String == "python")

        let source = try String(contentsOfFile: code + "/app.py", encoding: .utf8)
        try source.replacingOccurrences(of: "\"runtime\": \"python\"", with: "\"runtime\": \"python-edited\"")
            .write(toFile: code + "/app.py", atomically: true, encoding: .utf8)
        let deadline = Date().addingTimeInterval(10)
        var runtime: String?
        while Date() < deadline {
            runtime = try await emu.get("/py/hello").json["runtime"] as? String
            if runtime == "python-edited" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(runtime == "python-edited")
    }

    @Test func templateRejectsWhatCannotWork() async throws {
        let dir = TestPaths.temporaryDirectory("rapi-bad")
        let bad = Self.template().replacingOccurrences(of: "EmulatorInterface: runtime-api", with: "EmulatorInterface: sockets")
        try bad.write(toFile: dir + "/template.yaml", atomically: true, encoding: .utf8)
        let child = try ChildProcess(TestPaths.executable("emulator"),
                                     arguments: ["start-api", "--port", "0", "--template", dir + "/template.yaml",
                                                 "--build-dir", TestPaths.binDirectory],
                                     currentDirectory: dir)
        #expect(await child.waitForExit(timeout: 60) != 0)
        #expect(child.stderr.joined().contains("EmulatorInterface must be stdio or runtime-api"))
    }
}
