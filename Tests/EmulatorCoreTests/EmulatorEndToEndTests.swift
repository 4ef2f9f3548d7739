import EmulatorCore
import Foundation
import Testing
import TestSupport

/// The emulator end to end: a real `emulator` process serving real handler processes over HTTP.
@Suite(.serialized) struct EmulatorEndToEndTests {
    @Test func routesRequestsWithPathQueryHeadersAndCookies() async throws {
        let emu = try await EmulatorHarness.start()
        defer { Task { await emu.stop() } }
        let r = try await emu.request("GET", "/items/a%20b?tag=x&tag=y&q=hi+there", headers: ["X-Custom": "v", "Cookie": "s=1; t=2"])
        #expect(r.status == 200)
        let echo = r.json
        #expect(echo["routeKey"] as? String == "GET /items/{id}")
        #expect(echo["pathParameters"] as? [String: String] == ["id": "a b"])
        #expect(echo["rawQueryString"] as? String == "tag=x&tag=y&q=hi+there")
        #expect(echo["queryStringParameters"] as? [String: String] == ["tag": "x,y", "q": "hi there"])
        #expect((echo["headers"] as? [String: String])?["x-custom"] == "v")
        #expect(echo["cookies"] as? [String] == ["s=1", "t=2"])
        #expect((echo["requestId"] as? String)?.isEmpty == false)

        // The literal route beats {id}.
        #expect(try await emu.get("/items/search").json["routeKey"] as? String == "GET /items/search")
        #expect(try await emu.get("/fx/a/b/c").json["pathParameters"] as? [String: String] == ["proxy": "a/b/c"])
    }

    @Test func unknownRoutesAre404AndWrongMethods405WithTheErrorShape() async throws {
        let emu = try await EmulatorHarness.start()
        defer { Task { await emu.stop() } }
        let notFound = try await emu.get("/nope")
        #expect(notFound.status == 404)
        #expect(notFound.errorCode == "not_found")
        #expect(notFound.json["requestId"] is String)
        let wrong = try await emu.request("DELETE", "/items/1")
        #expect(wrong.status == 405)
        #expect(wrong.errorCode == "method_not_allowed")
        #expect(wrong.headers["allow"] == "GET")
    }

    @Test func warmProcessesAreReused() async throws {
        let emu = try await EmulatorHarness.start()
        defer { Task { await emu.stop() } }
        var pids = Set<Int>()
        for _ in 0..<5 { pids.insert(try await emu.get("/fx/pid").json["pid"] as? Int ?? -1) }
        #expect(pids.count == 1)
    }

    @Test func postBodiesAndBinaryRoundTrip() async throws {
        let emu = try await EmulatorHarness.start()
        defer { Task { await emu.stop() } }
        let json = try await emu.request("POST", "/items", body: Data(#"{"a":1}"#.utf8), headers: ["Content-Type": "application/json"])
        #expect(json.json["body"] as? String == #"{"a":1}"#)
        #expect(json.json["isBase64Encoded"] as? Bool == false)

        var bytes = [UInt8](repeating: 0, count: 70_000)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        let bin = try await emu.request("POST", "/fx/binary", body: Data(bytes), headers: ["Content-Type": "application/octet-stream"])
        #expect(bin.status == 200)
        #expect(bin.headers["content-type"] == "application/octet-stream")
        #expect(bin.body == Data(bytes))
    }

    @Test func crashGives502AndTheProcessIsReplaced() async throws {
        let emu = try await EmulatorHarness.start()
        defer { Task { await emu.stop() } }
        let before = try await emu.get("/fx/pid").json["pid"] as? Int
        let crash = try await emu.get("/fx/crash")
        #expect(crash.status == 502)
        #expect(crash.errorCode == "function_crashed")
        #expect(crash.text.contains("exited with code 3"))
        let abort = try await emu.get("/fx/abort")
        #expect(abort.status == 502)
        #expect(abort.text.contains("SIGABRT") || abort.text.contains("signal"))
        let after = try await emu.get("/fx/pid")
        #expect(after.status == 200)
        #expect(after.json["pid"] as? Int != before)
    }

    @Test func timeoutGives504AndRecovers() async throws {
        let emu = try await EmulatorHarness.start()
        defer { Task { await emu.stop() } }
        let started = Date()
        let slow = try await emu.get("/single/sleep?ms=10000")
        #expect(slow.status == 504)
        #expect(slow.errorCode == "timeout")
        #expect(Date().timeIntervalSince(started) < 9)  // killed at its 3 s Timeout, not left to finish
        let next = try await emu.get("/single/sleep?ms=10")
        #expect(next.status == 200)
    }

    @Test func pastConcurrencyWithNoQueueIs429() async throws {
        let emu = try await EmulatorHarness.start(arguments: ["--max-queue", "0"])
        defer { Task { await emu.stop() } }
        _ = try await emu.get("/single/pid")  // warm it up
        async let busy = emu.get("/single/sleep?ms=800")  // under Single's 3 s Timeout
        try await emu.waitUntilBusy("Single")  // order by state, not by a guessed delay
        let throttled = try await emu.get("/single/pid")
        #expect(throttled.status == 429)
        #expect(throttled.errorCode == "too_many_requests")
        #expect(throttled.headers["retry-after"] == "1")
        #expect(try await busy.status == 200)
        #expect(try await emu.get("/single/pid").status == 200)
    }

    @Test func pastConcurrencyRequestsQueueWhenAllowed() async throws {
        let emu = try await EmulatorHarness.start(arguments: ["--max-queue", "8"])
        defer { Task { await emu.stop() } }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 { group.addTask { try await emu.get("/single/sleep?ms=100").status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses == [200, 200, 200, 200])
    }

    @Test func bodiesOver6MBAre413() async throws {
        let emu = try await EmulatorHarness.start()
        defer { Task { await emu.stop() } }
        let big = Data(repeating: 0x61, count: 6 * 1024 * 1024 + 10)
        let req = try await emu.request("POST", "/items", body: big, headers: ["Content-Type": "text/plain"])
        #expect(req.status == 413)
        #expect(req.errorCode == "payload_too_large")
        let resp = try await emu.get("/fx/big?bytes=7000000")
        #expect(resp.status == 413)
        #expect(resp.errorCode == "payload_too_large")
        // Just under the limit passes both ways.
        let ok = try await emu.get("/fx/big?bytes=5000000")
        #expect(ok.status == 200)
        #expect(ok.body.count == 5_000_000)
    }

    @Test func strayStdoutDoesNotBreakTheProtocol() async throws {
        let emu = try await EmulatorHarness.start()
        defer { Task { await emu.stop() } }
        let pid = try await emu.get("/fx/pid").json["pid"] as? Int
        let printed = try await emu.get("/fx/print")
        #expect(printed.status == 200)
        #expect(printed.json["printed"] as? Bool == true)
        #expect(try await emu.get("/fx/pid").json["pid"] as? Int == pid)
        #expect(await emu.child.waitForStderr(containing: "stray stdout during an invocation") != nil)
    }

    @Test func initErrorGives502WithTheReason() async throws {
        let emu = try await EmulatorHarness.start()
        defer { Task { await emu.stop() } }
        let r = try await emu.get("/broken")
        #expect(r.status == 502)
        #expect(r.errorCode == "init_failed")
        #expect(r.text.contains("FIXTURE_INIT_FAIL is set"))
        let missing = try await emu.get("/missing")
        #expect(missing.status == 502)
        #expect(missing.errorCode == "function_unavailable")
    }

    @Test func logsArePrefixedAndEachInvocationReports() async throws {
        let emu = try await EmulatorHarness.start()
        defer { Task { await emu.stop() } }
        let r = try await emu.get("/fx/pid")
        let id = try #require(r.headers["x-amzn-requestid"] ?? nil ?? (r.json["requestId"] as? String) ?? "")
        _ = id
        #expect(await emu.child.waitForStderr(containing: "[Fixture] START RequestId:") != nil)
        let report = await emu.child.waitForStderr(containing: "[Fixture] REPORT RequestId:")
        #expect(report?.contains("Duration:") == true)
        #expect(report?.contains("Init Duration:") == true)  // the first invocation is a cold start
        #expect(report?.contains("Max Memory Used:") == true)
        // The stray init print went to the logs, prefixed with the function.
        #expect(await emu.child.waitForStderr(containing: "[Fixture] [-] stray stdout during init") != nil)
    }

    @Test func environmentLayersReachTheHandler() async throws {
        let vars = TestPaths.temporaryDirectory("envvars") + "/env.json"
        try #"{"Fixture": {"LAYERED": "vars", "FROM_VARS": "vars", "FROM_FILE": "vars-over-file"}, "Single": {"FROM_VARS": "not me"}}"#
            .write(toFile: vars, atomically: true, encoding: .utf8)
        let emu = try await EmulatorHarness.start(arguments: ["--env-vars", vars], environment: ["LAYERED": "shell"],
                                                  envFile: "LAYERED=file\nFROM_FILE=file\nFROM_TEMPLATE=file-over-template\n")
        defer { Task { await emu.stop() } }
        #expect(try await emu.get("/fx/env?name=FROM_VARS").json["value"] as? String == "vars")
        #expect(try await emu.get("/fx/env?name=LAYERED").json["value"] as? String == "shell")
        #expect(try await emu.get("/fx/env?name=FROM_FILE").json["value"] as? String == "vars-over-file")
        #expect(try await emu.get("/fx/env?name=FROM_TEMPLATE").json["value"] as? String == "file-over-template")
        #expect(try await emu.get("/fx/env?name=AWS_LAMBDA_FUNCTION_NAME").json["value"] as? String == "Fixture")
    }

    @Test func shutdownDrainsInFlightRequestsAndEndsHandlers() async throws {
        let emu = try await EmulatorHarness.start()
        _ = try await emu.get("/fx/pid")
        #expect(!emu.handlerPids().isEmpty)
        async let slow = emu.get("/fx/sleep?ms=1200")
        try await emu.waitUntilBusy("Fixture")
        emu.child.signal(SIGTERM)
        let r = try await slow
        #expect(r.status == 200)
        #expect(r.json["slept"] as? Int == 1200)
        let code = await emu.child.waitForExit(timeout: 30)
        #expect(code == 0)
        #expect(emu.handlerPids().isEmpty)
    }

    @Test func asyncInvocationsFromHandlersRun() async throws {
        let emu = try await EmulatorHarness.start()
        defer { Task { await emu.stop() } }
        let r = try await emu.get("/fx/async?function=Single")
        #expect(r.status == 202)
        // The queued event ran in the named function: its START line shows up.
        #expect(await emu.child.waitForStderr(containing: "[Single] START RequestId:") != nil)
        let unknown = try await emu.get("/fx/async?function=nobody")
        #expect(unknown.status == 202)
        #expect(await emu.child.waitForStderr(containing: "unknown function `nobody`") != nil)
    }
}

/// The real template and the real health function, through the emulator.
@Suite(.serialized) struct BundleThroughEmulatorTests {
    @Test func healthAndStubRoutes() async throws {
        let data = TestPaths.temporaryDirectory("bundle")
        let emu = try await EmulatorHarness.start(
            environment: ["DATABASE_URL": "sqlite://\(data)/rag.sqlite", "BLOB_DIR": "\(data)/blobs",
                          "EMBEDDING_MODEL_DIR": TestPaths.packageRoot + "/.models/multilingual-e5-small",
                          "ROUTE_CATALOG": TestPaths.packageRoot + "/config/routing/catalog.yaml",
                          "ROUTE_RULES": TestPaths.packageRoot + "/config/routing/rules.yaml",
                          "ROUTE_SETTINGS": TestPaths.packageRoot + "/config/routing/router.yaml",
                          "GENERATION_PROVIDERS": TestPaths.packageRoot + "/config/generation/providers.yaml",
                          "GENERATION_SETTINGS": TestPaths.packageRoot + "/config/generation/generation.yaml",
                          "GENERATION_PROMPTS": TestPaths.packageRoot + "/config/generation/prompts.yaml",
                          "OPENAPI_SPEC": TestPaths.packageRoot + "/openapi.yaml"],
            templatePath: TestPaths.packageRoot + "/infra/template.yaml")
        defer { Task { await emu.stop() } }
        // The API describes itself, without a token, as a deployed stack does.
        let json = try await emu.get("/openapi.json")
        #expect(json.status == 200 && (json.json["openapi"] as? String)?.hasPrefix("3.1") == true, "\(json.status)")
        #expect((json.json["paths"] as? [String: Any]).map { ["/v1/search", "/v1/documents", "/healthz"].allSatisfy($0.keys.contains) } == true)
        let yaml = try await emu.get("/openapi.yaml")
        #expect(yaml.status == 200 && yaml.text.contains("openapi:") && yaml.text.contains("/v1/search"))
        let live = try await emu.get("/healthz")
        #expect(live.status == 200)
        #expect(live.json["status"] as? String == "ok")
        #expect(live.json["cold"] as? Bool == true)
        #expect(live.json["version"] is String)
        #expect(try await emu.get("/healthz").json["cold"] as? Bool == false)

        // The first readiness call opens the store and loads the model; on a loaded machine a check
        // can outlast its timeout once. Readiness is polled, as a load balancer would.
        var ready = try await emu.get("/readyz")
        for _ in 0..<30 where ready.status != 200 {
            try await Task.sleep(for: .seconds(1))
            ready = try await emu.get("/readyz")
        }
        #expect(ready.status == 200, "\(ready.text)")
        #expect((ready.json["checks"] as? [[String: Any]])?.map { $0["name"] as? String } == ["database_url", "store", "embedding_model", "blob_store", "route_catalog", "generation_config"])

        // The /v1 routes sit behind the template's JWT authorizer: no token, no entry.
        #expect(try await emu.request("POST", "/v1/search", body: Data("{}".utf8)).status == 401)
        let token = try await JWTAuthorizer.devToken(secret: JWTAuthorizer.developmentSecret, claims: [
            "org_id": "acme", "sub": "dev", "iss": "https://auth.example.com/", "aud": "rag-api",
            "exp": .number(Date().timeIntervalSince1970 + 600),
        ])
        // Search is built: an org with no documents gets an empty list, not an error.
        let search = try await emu.request("POST", "/v1/search", body: Data(#"{"query": "leave policy"}"#.utf8),
                                           headers: ["Content-Type": "application/json", "Authorization": "Bearer \(token)"])
        #expect(search.status == 200, "\(search.text)")
        #expect((search.json["results"] as? [Any])?.isEmpty == true)
        #expect(search.json["query_model"] as? String == "intfloat/multilingual-e5-small")
        let bad = try await emu.request("POST", "/v1/search", body: Data(#"{"query": "  "}"#.utf8),
                                        headers: ["Content-Type": "application/json", "Authorization": "Bearer \(token)"])
        #expect(bad.status == 422 && bad.errorCode == "validation_failed", "\(bad.text)")
        // The documents API is built (its own suite, UploadThroughEmulatorTests, covers it): unknown ids are 404.
        for (method, path) in [("GET", "/v1/documents/d1"), ("GET", "/v1/documents/d1/versions"), ("DELETE", "/v1/documents/d1"),
                               ("GET", "/v1/jobs/j1")] {
            let r = try await emu.request(method, path, headers: ["Authorization": "Bearer \(token)"])
            #expect(r.status == 404 && r.errorCode == "not_found", "\(method) \(path): \(r.text)")
        }
        let list = try await emu.request("GET", "/v1/documents", headers: ["Authorization": "Bearer \(token)"])
        #expect(list.status == 200 && (list.json["documents"] as? [Any])?.isEmpty == true, "\(list.text)")
        // The worker's routes are built (ReembedThroughEmulatorTests covers them).
        let reembedUnknown = try await emu.request("POST", "/v1/documents/d1/reembed", headers: ["Authorization": "Bearer \(token)"])
        #expect(reembedUnknown.status == 404 && reembedUnknown.errorCode == "not_found", "\(reembedUnknown.text)")
        let reembedAll = try await emu.request("POST", "/v1/reembed", body: Data("{}".utf8),
                                               headers: ["Content-Type": "application/json", "Authorization": "Bearer \(token)"])
        #expect(reembedAll.status == 202 && reembedAll.json["queued"] as? Int == 0, "\(reembedAll.text)")
        // Generation is built (its own suite, GenerateThroughEmulatorTests, covers it): a body without a query is a 422.
        let generate = try await emu.request("POST", "/v1/generate", body: Data("{}".utf8),
                                             headers: ["Content-Type": "application/json", "Authorization": "Bearer \(token)"])
        #expect(generate.status == 422 && generate.errorCode == "validation_failed", "\(generate.text)")
    }

    /// The route function with a small catalog of its own (ROUTE_CATALOG), so its init (every
    /// seed embedded once) stays short in a debug build.
    @Test func routeThroughTheEmulator() async throws {
        let dir = TestPaths.temporaryDirectory("route")
        try """
        version: 1
        domains: {leave: "Leave", it: "IT"}
        intent_types: [create, query]
        actions:
          - id: leave.request
            domain: leave
            intent_type: create
            title: {vi: "tạo đơn xin nghỉ phép", en: "request leave"}
            description: Create a leave request for one or more days.
            seeds: [xin nghỉ phép, tôi muốn xin nghỉ phép ngày mai, đăng ký nghỉ phép năm 3 ngày, I want to take a day off tomorrow,
                    request annual leave next week, apply for sick leave, xin nghỉ nửa ngày chiều nay, cho em nghỉ ốm hôm nay]
          - id: it.password_reset
            domain: it
            intent_type: create
            title: {vi: "đặt lại mật khẩu", en: "reset a password"}
            description: Reset a forgotten or expired account password.
            seeds: [quên mật khẩu, đặt lại mật khẩu email, tài khoản bị khóa, reset my password, I forgot my password,
                    my account is locked, cannot log in to email, đổi mật khẩu đăng nhập]
        """.write(toFile: dir + "/catalog.yaml", atomically: true, encoding: .utf8)
        let emu = try await EmulatorHarness.start(
            environment: ["ROUTE_CATALOG": dir + "/catalog.yaml", "ROUTE_RULES": "", "ROUTE_SETTINGS": "",
                          "EMBEDDING_MODEL_DIR": TestPaths.packageRoot + "/.models/multilingual-e5-small"],
            templatePath: TestPaths.packageRoot + "/infra/template.yaml")
        defer { Task { await emu.stop() } }
        let token = try await JWTAuthorizer.devToken(secret: JWTAuthorizer.developmentSecret, claims: [
            "org_id": "acme", "sub": "dev", "iss": "https://auth.example.com/", "aud": "rag-api",
            "exp": .number(Date().timeIntervalSince1970 + 600),
        ])
        let headers = ["Content-Type": "application/json", "Authorization": "Bearer \(token)"]
        let r = try await emu.request("POST", "/v1/route", body: Data(#"{"text": "xin nghi phep ngay mai", "request_id": "r-1", "top_k": 2}"#.utf8),
                                      headers: headers)
        #expect(r.status == 200, "\(r.text)")
        let top = (r.json["top_actions"] as? [[String: Any]]) ?? []
        #expect(top.count == 2)
        #expect(top.first?["action_id"] as? String == "leave.request", "\(r.text)")
        #expect(r.json["request_id"] as? String == "r-1")
        #expect(["execute", "confirm", "disambiguate", "clarify"].contains(r.json["ui_strategy"] as? String ?? ""))
        #expect((r.json["catalog_version"] as? String)?.isEmpty == false)
        let english = try await emu.request("POST", "/v1/route", body: Data(#"{"text": "I forgot my password"}"#.utf8), headers: headers)
        #expect(((english.json["top_actions"] as? [[String: Any]])?.first?["action_id"] as? String) == "it.password_reset", "\(english.text)")
        for (body, status) in [(#"{"text": "  "}"#, 422), (#"{"text": 5}"#, 400), (#"{}"#, 422), (#"{"text": "x", "top_k": 0}"#, 422),
                               ("{\"text\": \"\(String(repeating: "a", count: 1001))\"}", 422), ("not json", 400)] {
            let bad = try await emu.request("POST", "/v1/route", body: Data(body.utf8), headers: headers)
            #expect(bad.status == status, "\(body.prefix(40)): \(bad.text)")
        }
    }

    @Test func readinessFailsWithReasons() async throws {
        let file = TestPaths.temporaryDirectory("bundle") + "/a-file"
        FileManager.default.createFile(atPath: file, contents: Data())
        let emu = try await EmulatorHarness.start(
            environment: ["DATABASE_URL": "mysql://nope", "BLOB_DIR": "\(file)/blobs"],
            templatePath: TestPaths.packageRoot + "/infra/template.yaml")
        defer { Task { await emu.stop() } }
        let r = try await emu.get("/readyz")
        #expect(r.status == 503)
        #expect(r.errorCode == "not_ready")
        let checks = (r.json["error"] as? [String: Any]).flatMap { ($0["details"] as? [String: Any])?["checks"] as? [[String: Any]] } ?? []
        #expect(checks.count == 6)
        #expect(checks.allSatisfy { $0["ok"] as? Bool == false && ($0["reason"] as? String)?.isEmpty == false })
    }
}

/// `emulator invoke` and `emulator generate-event`.
@Suite struct EmulatorCLITests {
    func run(_ args: [String], stdin: String? = nil, cwd: String? = nil) async throws -> (Int32, String) {
        let tool = args.first == "migrate" ? "migrate" : "emulator"
        let child = try ChildProcess(TestPaths.executable(tool), arguments: tool == "migrate" ? Array(args.dropFirst()) : args, currentDirectory: cwd)
        if let stdin { child.write(stdin) }
        child.closeStdin()
        var out: [String] = []
        // Generous: on a starved machine even a 60 ms command can wait long for a core.
        while let line = await child.readLine(timeout: 120) { out.append(line) }
        let code = await child.waitForExit(timeout: 120) ?? -1
        return (code, out.joined(separator: "\n"))
    }

    func templateDir() throws -> String {
        let dir = TestPaths.temporaryDirectory("cli")
        try EmulatorHarness.fixtureTemplate.write(toFile: dir + "/template.yaml", atomically: true, encoding: .utf8)
        return dir
    }

    @Test func invokePrintsThePayload() async throws {
        let dir = try templateDir()
        try #"{"hello":"world"}"#.write(toFile: dir + "/event.json", atomically: true, encoding: .utf8)
        let (code, out) = try await run(["invoke", "Fixture", "--event", dir + "/event.json", "--template", dir + "/template.yaml",
                                         "--build-dir", TestPaths.binDirectory])
        #expect(code == 0)
        let json = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        #expect((json?["echo"] as? [String: String]) == ["hello": "world"])
        #expect(json?["function"] as? String == "Fixture")
    }

    @Test func invokeExitsNonZeroOnAFunctionError() async throws {
        let dir = try templateDir()
        let (code, out) = try await run(["invoke", "Fixture", "--event", "-", "--template", dir + "/template.yaml",
                                         "--build-dir", TestPaths.binDirectory], stdin: #"{"fail":"boom"}"#)
        #expect(code == 1)
        #expect(out.contains("FixtureError"))
        #expect(out.contains("boom"))
    }

    @Test func generateEventHTTPIsAPayload20Request() async throws {
        let (code, out) = try await run(["generate-event", "http", "--method", "POST", "--path", "/v1/search",
                                         "--body", #"{"query":"x"}"#, "--claim", "org_id=acme"])
        #expect(code == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(json["version"] as? String == "2.0")
        #expect(json["routeKey"] as? String == "POST /v1/search")
        #expect(json["body"] as? String == #"{"query":"x"}"#)
        let ctx = json["requestContext"] as? [String: Any]
        #expect(((ctx?["authorizer"] as? [String: Any])?["jwt"] as? [String: Any])?["claims"] as? [String: String] == ["org_id": "acme"])
    }

    @Test func schedulesListsNextFireTimes() async throws {
        let (code, out) = try await run(["schedules", "--template", TestPaths.packageRoot + "/infra/template.yaml",
                                         "--next", "2", "--now", "2026-11-21T10:00:30Z"])
        #expect(code == 0)
        #expect(out.contains("local-reembed-drain  rate(1 minute)  UTC  -> ReembedFunction\n  2026-11-21T10:01:30Z\n  2026-11-21T10:02:30Z"), "\(out)")
        #expect(out.contains("local-reembed-nightly  cron(0 2 * * ? *)  UTC  -> ReembedFunction\n  2026-11-22T02:00:00Z\n  2026-11-23T02:00:00Z"), "\(out)")
    }

    @Test func migrateAppliesTheSchemaOnceAndReportsIt() async throws {
        let dir = TestPaths.temporaryDirectory("migrate")
        let url = "sqlite://\(dir)/rag.sqlite"
        let template = TestPaths.packageRoot + "/infra/template.yaml"
        let (statusCode, before) = try await run(["migrate", "--template", template, "--database-url", url, "--status"], cwd: dir)
        #expect(statusCode == 1)  // a fresh file has everything pending
        #expect(before.contains("pending 001_init"), "\(before)")
        let (code, out) = try await run(["migrate", "--template", template, "--database-url", url], cwd: dir)
        #expect(code == 0, "\(out)")
        #expect(out.contains("applied 001_init, 002_fts_vocabulary, 003_jobs_by_org, 004_query_vector_cache, 005_embedding_usage, 006_shadow_comparisons; pending none"), "\(out)")
        let (again, _) = try await run(["migrate", "--template", template, "--database-url", url], cwd: dir)
        #expect(again == 0)
        let (bad, _) = try await run(["migrate", "--template", template, "--database-url", "mysql://x"], cwd: dir)
        #expect(bad != 0)
    }

    @Test func startRefusesAnInvalidSchedule() async throws {
        let dir = TestPaths.temporaryDirectory("cli")
        let yaml = """
        Resources:
          F:
            Type: AWS::Serverless::Function
            Properties:
              Handler: fixture-fn
              Events:
                Bad: {Type: ScheduleV2, Properties: {Name: bad-rule, ScheduleExpression: "rate(1 minutes)"}}
        """
        try yaml.write(toFile: dir + "/template.yaml", atomically: true, encoding: .utf8)
        let child = try ChildProcess(TestPaths.executable("emulator"),
                                     arguments: ["start-api", "--template", dir + "/template.yaml", "--port", "0", "--build-dir", TestPaths.binDirectory])
        let code = await child.waitForExit(timeout: 60)
        #expect(code != nil && code != 0)
        #expect(child.stderr.joined(separator: "\n").contains("Schedule bad-rule (F): invalid expression `rate(1 minutes)`"))
    }

    @Test func generateEventSchedule() async throws {
        let (code, out) = try await run(["generate-event", "schedule", "--rule", "nightly"])
        #expect(code == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(json["detail-type"] as? String == "Scheduled Event")
        #expect(json["source"] as? String == "aws.events")
        #expect((json["resources"] as? [String])?.first?.hasSuffix("rule/nightly") == true)
    }
}

/// Handlers that are not ours: any executable speaking (or failing to speak) the protocol.
@Suite(.serialized) struct ForeignHandlerTests {
    /// A bin folder with shell-script "handlers" beside the real fixture.
    static func binDirectory() throws -> String {
        let dir = TestPaths.temporaryDirectory("bin")
        let scripts = [
            // Ready, then answers every invoke with a line that is not a frame.
            "garbage": "#!/bin/sh\necho '{\"type\":\"ready\",\"initMs\":1}'\nwhile read -r line; do echo 'this is not a frame'; done\n",
            // Ready, then answers with a frame for another request id.
            "wrong-id": "#!/bin/sh\necho '{\"type\":\"ready\",\"initMs\":1}'\nwhile read -r line; do echo '{\"type\":\"response\",\"requestId\":\"nope\",\"payload\":{}}'; done\n",
            // Dies during init without a word.
            "dies": "#!/bin/sh\nexit 7\n",
        ]
        for (name, text) in scripts {
            let path = dir + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
        }
        try FileManager.default.createSymbolicLink(atPath: dir + "/fixture-fn", withDestinationPath: TestPaths.executable("fixture-fn"))
        return dir
    }

    static let template = """
    Resources:
      Garbage: {Type: AWS::Serverless::Function, Properties: {Handler: garbage, Timeout: 3, Events: {E: {Type: HttpApi, Properties: {Method: GET, Path: /garbage}}}}}
      WrongId: {Type: AWS::Serverless::Function, Properties: {Handler: wrong-id, Timeout: 3, Events: {E: {Type: HttpApi, Properties: {Method: GET, Path: /wrong-id}}}}}
      Dies: {Type: AWS::Serverless::Function, Properties: {Handler: dies, Events: {E: {Type: HttpApi, Properties: {Method: GET, Path: /dies}}}}}
      Fixture: {Type: AWS::Serverless::Function, Properties: {Handler: fixture-fn, Events: {E: {Type: HttpApi, Properties: {Method: GET, Path: "/fx/{proxy+}"}}}}}
    """

    @Test func protocolViolationsGive502AndTheProcessIsReplaced() async throws {
        let emu = try await EmulatorHarness.start(template: Self.template, arguments: ["--build-dir", try Self.binDirectory()])
        defer { Task { await emu.stop() } }
        for _ in 0..<2 {  // the second request needs a fresh process: the first was replaced
            let r = try await emu.get("/garbage")
            #expect(r.status == 502)
            #expect(r.errorCode == "protocol_violation")
            #expect(r.text.contains("not a protocol frame"))
        }
        let wrong = try await emu.get("/wrong-id")
        #expect(wrong.status == 502)
        #expect(wrong.errorCode == "protocol_violation")
        let dies = try await emu.get("/dies")
        #expect(dies.status == 502)
        #expect(dies.errorCode == "function_crashed")
        #expect(dies.text.contains("exited with code 7"))
        // The emulator itself is unharmed.
        #expect(try await emu.get("/fx/pid").status == 200)
    }

    @Test func idleProcessesAreReaped() async throws {
        let emu = try await EmulatorHarness.start(arguments: ["--idle-timeout", "0.5"])
        defer { Task { await emu.stop() } }
        #expect(try await emu.get("/fx/pid").status == 200)
        #expect(!emu.handlerPids().isEmpty)
        var gone = false
        for _ in 0..<50 where !gone {
            try await Task.sleep(for: .milliseconds(100))
            gone = emu.handlerPids().isEmpty
        }
        #expect(gone)
        // And the next request simply starts a new one.
        #expect(try await emu.get("/fx/pid").status == 200)
    }
}

/// Rebuild recycling: a changed executable replaces warm processes without a restart.
@Suite(.serialized) struct RebuildRecyclingTests {
    @Test func aRebuiltBinaryServesTheNextRequestAndInFlightWorkFinishes() async throws {
        let bin = TestPaths.temporaryDirectory("rebuild")
        let target = bin + "/fixture-fn"
        try FileManager.default.copyItem(atPath: TestPaths.executable("fixture-fn"), toPath: target)
        let emu = try await EmulatorHarness.start(arguments: ["--build-dir", bin])
        defer { Task { await emu.stop() } }
        let before = try #require(try await emu.get("/fx/pid").json["pid"] as? Int)
        async let inFlight = emu.get("/fx/sleep?ms=1500")
        try await Task.sleep(for: .milliseconds(300))

        // "swift build" finishing: a new file replaces the old one.
        try FileManager.default.copyItem(atPath: TestPaths.executable("fixture-fn"), toPath: target + ".new")
        let swapped = Date()
        rename(target + ".new", target)

        var after = before
        while after == before, Date().timeIntervalSince(swapped) < 10 {
            try await Task.sleep(for: .milliseconds(50))
            after = try await emu.get("/fx/pid").json["pid"] as? Int ?? before
        }
        #expect(after != before)
        print("rebuild to first response from the new binary: \(Int(Date().timeIntervalSince(swapped) * 1000)) ms")
        #expect(await emu.child.waitForStderr(containing: "changed; recycling") != nil)
        // The invocation that was running when the binary changed completed normally.
        let done = try await inFlight
        #expect(done.status == 200)
        #expect(done.json["slept"] as? Int == 1500)
    }
}
