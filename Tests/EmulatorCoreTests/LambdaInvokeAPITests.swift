import Foundation
import Testing
import TestSupport

/// The Lambda Invoke API, driven by the real AWS CLI (`python3 -m awscli`).
@Suite(.serialized) struct LambdaInvokeAPITests {
    func aws(_ args: [String], in dir: String) async throws -> (Int32, String) {
        var env = ProcessInfo.processInfo.environment
        env["AWS_ACCESS_KEY_ID"] = "emulator"
        env["AWS_SECRET_ACCESS_KEY"] = "emulator"
        env["AWS_DEFAULT_REGION"] = "us-east-1"
        env["AWS_PAGER"] = ""
        let child = try ChildProcess("/usr/bin/env", arguments: ["python3", "-m", "awscli"] + args, environment: env, currentDirectory: dir)
        child.closeStdin()
        var out: [String] = []
        while let line = await child.readLine(timeout: 60) { out.append(line) }
        let code = await child.waitForExit(timeout: 60) ?? -1
        return (code, out.joined(separator: "\n") + child.stderr.joined(separator: "\n"))
    }

    @Test func theAWSCLIInvokesThroughTheEmulator() async throws {
        let emu = try await EmulatorHarness.start(arguments: ["--lambda-port", "0"])
        defer { Task { await emu.stop() } }
        let line = try #require(await emu.child.waitForStderr(containing: "Lambda Invoke API on http://"))
        let url = try #require(line.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init))
        let dir = emu.directory

        // RequestResponse with the log tail.
        let (code, out) = try await aws(["lambda", "invoke", "--endpoint-url", url, "--function-name", "Fixture",
                                         "--payload", #"{"hello":"cli"}"#, "--log-type", "Tail", "out.json"], in: dir)
        #expect(code == 0, "\(out)")
        let meta = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(meta["StatusCode"] as? Int == 200)
        let tail = String(decoding: Data(base64Encoded: meta["LogResult"] as? String ?? "") ?? Data(), as: UTF8.self)
        #expect(tail.contains("START RequestId:"))
        #expect(tail.contains("REPORT RequestId:"))
        let payload = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out.json"))) as? [String: Any])
        #expect(payload["echo"] as? [String: String] == ["hello": "cli"])

        // Lambda hands back the function's JSON as the function wrote it: member order survives
        // the emulator, the protocol and the handler's decoding both ways.
        let (orderCode, orderOut) = try await aws(["lambda", "invoke", "--endpoint-url", url, "--function-name", "Fixture",
                                                   "--payload", #"{"zeta":1,"alpha":{"y":true,"b":null},"mid":"m"}"#, "order.json"], in: dir)
        #expect(orderCode == 0, "\(orderOut)")
        let ordered = try String(contentsOfFile: dir + "/order.json", encoding: .utf8)
        #expect(ordered.contains(#""echo":{"zeta":1,"alpha":{"y":true,"b":null},"mid":"m"}"#), "\(ordered)")

        // A function error: 200 with FunctionError and Lambda's error object.
        let (_, failed) = try await aws(["lambda", "invoke", "--endpoint-url", url, "--function-name", "Fixture",
                                         "--payload", #"{"fail":"boom"}"#, "err.json"], in: dir)
        #expect(failed.contains(#""FunctionError": "Unhandled""#), "\(failed)")
        let err = try String(contentsOfFile: dir + "/err.json", encoding: .utf8)
        #expect(err.contains(#""errorType":"FixtureError""#) && err.contains(#""errorMessage":"boom""#))

        // Event (202) and DryRun (204).
        #expect(try await aws(["lambda", "invoke", "--endpoint-url", url, "--function-name", "Fixture", "--invocation-type", "Event",
                               "--payload", #"{"a":1}"#, "e.json"], in: dir).1.contains(#""StatusCode": 202"#))
        #expect(try await aws(["lambda", "invoke", "--endpoint-url", url, "--function-name", "Fixture", "--invocation-type", "DryRun",
                               "d.json"], in: dir).1.contains(#""StatusCode": 204"#))

        // An unknown function is the SDK's ResourceNotFoundException.
        let (missingCode, missing) = try await aws(["lambda", "invoke", "--endpoint-url", url, "--function-name", "Nope", "n.json"], in: dir)
        #expect(missingCode != 0)
        #expect(missing.contains("ResourceNotFoundException"))
    }

    /// The same API through boto3, the SDK most callers use, with nothing changed but the endpoint.
    @Test func boto3InvokesThroughTheEmulator() async throws {
        let emu = try await EmulatorHarness.start(arguments: ["--lambda-port", "0"])
        defer { Task { await emu.stop() } }
        let line = try #require(await emu.child.waitForStderr(containing: "Lambda Invoke API on http://"))
        let url = try #require(line.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init))
        let script = """
            import base64, json, sys, boto3
            client = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1",
                                  aws_access_key_id="emulator", aws_secret_access_key="emulator")
            r = client.invoke(FunctionName="Fixture", Payload=json.dumps({"hello": "boto3"}), LogType="Tail")
            out = {"status": r["StatusCode"], "payload": json.loads(r["Payload"].read()),
                   "tail": "REPORT RequestId:" in base64.b64decode(r["LogResult"]).decode()}
            e = client.invoke(FunctionName="Fixture", Payload=json.dumps({"fail": "boom"}))
            out["error"] = [e.get("FunctionError"), json.loads(e["Payload"].read()).get("errorMessage")]
            out["event"] = client.invoke(FunctionName="Fixture", InvocationType="Event", Payload=b"{}")["StatusCode"]
            try:
                client.invoke(FunctionName="Nope", Payload=b"{}")
            except client.exceptions.ResourceNotFoundException:
                out["missing"] = "ResourceNotFoundException"
            print(json.dumps(out))
            """
        let child = try ChildProcess("/usr/bin/env", arguments: ["python3", "-c", script, url], currentDirectory: emu.directory)
        child.closeStdin()
        let printed = await child.readLine(timeout: 60) ?? ""
        #expect(await child.waitForExit(timeout: 60) == 0, "\(child.stderr.joined(separator: "\n"))")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [String: Any], "\(printed)")
        #expect(out["status"] as? Int == 200)
        #expect((out["payload"] as? [String: Any])?["echo"] as? [String: String] == ["hello": "boto3"])
        #expect(out["tail"] as? Bool == true)
        #expect(out["error"] as? [String] == ["Unhandled", "boom"])
        #expect(out["event"] as? Int == 202)
        #expect(out["missing"] as? String == "ResourceNotFoundException")
    }
}
