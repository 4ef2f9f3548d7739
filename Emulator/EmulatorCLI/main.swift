import ArgumentParser
import EmulatorCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import FunctionProtocol
import JSON
import LambdaEvents

@main
struct Emulator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulator",
        abstract: "Runs the bundle's functions locally from the SAM template: HTTP API, invocations, events.",
        subcommands: [StartAPI.self, StartLambda.self, Invoke.self, GenerateEvent.self, Schedules.self, Trigger.self, Token.self])
}

/// Options every command that reads the template shares.
struct TemplateOptions: ParsableArguments {
    @Option(help: "The SAM template.")
    var template = "infra/template.yaml"

    @Option(help: "Folder with the functions' executables (default: the newest of .build/debug and .build/release).")
    var buildDir: String?

    @Flag(help: "Run the Lambda packages instead of the build: each function's `bootstrap` from its package folder (--package-dir), through the Runtime API, the folder as a read-only task root. Smoke-tests the exact artifacts `sam deploy` uploads, without Docker.")
    var packages = false

    @Option(help: "The package folders for --packages: infra/package.sh's .build/lambda, or `sam build`'s infra/.aws-sam/build.")
    var packageDir = ".build/lambda"

    @Option(help: "A .env file layered over the template's Environment (the shell still wins).")
    var envFile: String?

    @Option(help: "Per-function variables in SAM's format: {\"Parameters\": {...}, \"FunctionName\": {\"KEY\": \"value\"}}.")
    var envVars: String?

    @Option(help: "Template parameter overrides, `Key=Value`, repeatable.")
    var parameterOverrides: [String] = []

    @Option(help: "Serve this function (or `all`) through the Lambda Runtime API instead of the stdio protocol, as `Metadata: EmulatorInterface: runtime-api` does; repeatable.")
    var runtimeAPI: [String] = []

    /// `--env-file`, which must be readable, else `./.env` when there is one.
    static func readEnvFile(_ path: String?) throws -> [String: String] {
        if let path {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("Cannot read --env-file \(path).")
            }
            return try EnvironmentLayers.parseEnvFile(text)
        }
        guard let text = try? String(contentsOfFile: ".env", encoding: .utf8) else { return [:] }
        return try EnvironmentLayers.parseEnvFile(text)
    }

    func load() throws -> (Template, ExecutableLocator, EnvironmentLayers) {
        var overrides: [String: String] = [:]
        for o in parameterOverrides {
            guard let eq = o.firstIndex(of: "=") else { throw ValidationError("--parameter-overrides takes Key=Value, got \(o)") }
            overrides[String(o[..<eq])] = String(o[o.index(after: eq)...])
        }
        var template = try Template.load(path: template, parameterOverrides: overrides)
        try template.useRuntimeAPI(for: runtimeAPI)
        let locator: ExecutableLocator
        if packages {
            guard buildDir == nil else { throw ValidationError("--packages runs the packages in --package-dir; drop --build-dir.") }
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: packageDir, isDirectory: &isDir), isDir.boolValue else {
                throw ValidationError("No package folder at \(packageDir). Run infra/package.sh (or sam build, then --package-dir infra/.aws-sam/build).")
            }
            locator = ExecutableLocator(directory: (packageDir as NSString).standardizingPath.hasPrefix("/") ? packageDir
                                        : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(packageDir), layout: .packages)
        } else if let buildDir {
            locator = ExecutableLocator(directory: buildDir)
        } else {
            let root = (template.directory as NSString).deletingLastPathComponent
            let candidates = [FileManager.default.currentDirectoryPath, root.isEmpty ? "." : root]
            guard let found = candidates.lazy.compactMap({
                ExecutableLocator.newestBuild(packageRoot: $0, handlers: template.functions.map(\.handler))
            }).first else {
                throw ValidationError("No build of the functions found under .build/debug or .build/release. Run `swift build` first, or pass --build-dir.")
            }
            locator = found
        }
        let fileEnv = try Self.readEnvFile(envFile)
        var perFunction: [String: [String: String]] = [:]
        if let envVars {
            guard let data = FileManager.default.contents(atPath: envVars) else { throw ValidationError("Cannot read --env-vars \(envVars).") }
            perFunction = try EnvironmentLayers.parseEnvVarsJSON(data)
        }
        return (template, locator, EnvironmentLayers(envFile: fileEnv, envVars: perFunction))
    }
}

struct StartAPI: AsyncParsableCommand {
    /// Function URLs' first port: as given (-1: none), else the API's port + 1, or free ports
    /// when the API's is free too (so parallel emulators never collide).
    static func functionURLBase(_ option: Int?, apiPort: Int) -> Int? {
        if let option { return option < 0 ? nil : option }
        return apiPort == 0 ? 0 : apiPort + 1
    }

    static let configuration = CommandConfiguration(commandName: "start-api", abstract: "Serve the template's HttpApi routes over HTTP.")

    @OptionGroup var options: TemplateOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 3000

    @Option(help: "Also serve the Lambda Invoke API on this port (for `aws lambda invoke --endpoint-url`).")
    var lambdaPort: Int?

    @Option(help: "Serve the first function URL (FunctionUrlConfig) on this port, each further one on the next (default: --port + 1, or free ones when --port is 0; --function-url-port=-1 serves none).")
    var functionURLPort: Int?

    @Option(help: "Concurrency of a function without ReservedConcurrentExecutions.")
    var defaultConcurrency = 4

    @Option(help: "Requests that may wait for a busy function before it answers 429.")
    var maxQueue = 64

    @Option(help: "Seconds a warm process may sit idle before it is ended.")
    var idleTimeout = 300.0

    @Option(help: "Seconds API Gateway waits for an integration (AWS: 30).")
    var gatewayTimeout = 30.0

    @Option(help: "CPU placement: `shard` pins one event loop per CPU and runs each handler on its loop's CPU (lowest latency); `none` leaves it to the kernel (CPU-heavy handlers may use every core).")
    var cpuAffinity: String = InvokerOptions.CPUAffinity.shard.rawValue

    @Option(help: "Start the schedules' clock at this instant (ISO 8601) instead of now; move it with POST /__emulator/clock.")
    var now: String?

    @Flag(help: "Do not fire the template's schedules.")
    var noSchedules = false

    @Option(help: "Folder of the durable async queue (queued/ and dead-letter/).")
    var asyncDir = ".data/emulator/async"

    @Option(help: "HS256 secret the JWT authorizers accept (default: $EMULATOR_JWT_SECRET, else the development secret `emulator token` signs with).")
    var jwtSecret: String?

    @Option(help: "A JWKS file or URL (fetched once at start) whose keys (RS256, ES256, ...) the JWT authorizers accept.")
    var jwks: String?

    @Option(help: "Multiplies Lambda's async retry delays (1 and 2 minutes); e.g. 0.01 in tests.")
    var asyncRetryScale = 1.0

    @Option(help: "Alert rules (thresholds for /metrics, the dashboard and the template's alarms; default: config/alerts.yaml when present, else seed 004's numbers).")
    var alerts: String?

    @Flag(help: "Only the emulator's own lines: no handler logs, no START/END/REPORT.")
    var quiet = false

    @Flag(help: "Also the emulator's debug lines.")
    var verbose = false

    /// `start-lambda` and `schedules --run` reuse this command without the HTTP API.
    var serveHTTPAPI = true

    func run() async throws {
        let (template, locator, env) = try options.load()
        let rules = try ScheduleRule.all(in: template)  // refuse to start with a schedule that can never fire
        let alertRules: AlertRules
        do {
            if let alerts { alertRules = try AlertRules.load(path: alerts) }
            else if FileManager.default.fileExists(atPath: "config/alerts.yaml") { alertRules = try AlertRules.load(path: "config/alerts.yaml") }
            else { alertRules = .defaults }
        } catch { throw ValidationError(error.description) }
        var telemetryOptions = Telemetry.Options()
        telemetryOptions.windowSeconds = alertRules.windowMinutes * 60
        let log = EmulatorLog(verbosity: quiet ? .quiet : verbose ? .debug : .normal,
                              telemetry: Telemetry(options: telemetryOptions, alerts: alertRules))
        var missing: [String] = []
        for function in template.functions {
            do throws(InvocationFailure) {
                _ = try FunctionLaunch.resolve(function, template: template, binaries: locator)
            } catch {
                if function.isPython { log.emulator("warning: \(error.description)") } else { missing.append(function.handler) }
            }
        }
        if !missing.isEmpty {
            log.emulator("warning: no executable for \(missing.joined(separator: ", ")) in \(locator); those routes answer 502 until built")
        }
        if locator.layout == .packages {
            let readOnly = template.functions.compactMap { try? FunctionLaunch.resolve($0, template: template, binaries: locator) }.allSatisfy(\.readOnlyTaskRoot)
            log.emulator("serving \(locator) through the Runtime API" + (readOnly ? ", each task root read-only"
                : "; warning: no mount namespaces here (unshare), so the task roots are writable, unlike on Lambda"))
        } else {
            for function in template.functions where function.interface == .runtimeAPI {
                log.emulator("\(function.logicalId) speaks the Lambda Runtime API (each process gets its own AWS_LAMBDA_RUNTIME_API)")
            }
        }
        var opts = InvokerOptions()
        opts.defaultConcurrency = defaultConcurrency
        opts.maxQueue = maxQueue
        opts.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
        guard let affinity = InvokerOptions.CPUAffinity(rawValue: cpuAffinity) else {
            throw ValidationError("--cpu-affinity takes \(InvokerOptions.CPUAffinity.allCases.map(\.rawValue).joined(separator: " or ")).")
        }
        opts.cpuAffinity = affinity
        opts.asyncDirectory = asyncDir
        opts.asyncRetryScale = asyncRetryScale
        log.emulator("template \(options.template); executables from \(locator)")
        let invoker = Invoker(template: template, binaries: locator, environment: env, options: opts, log: log,
                              eventLoops: affinity.makeEventLoopGroup())
        var jwksJSON: String?
        if let jwks {
            if jwks.hasPrefix("http://") || jwks.hasPrefix("https://") {
                guard let url = URL(string: jwks), let (data, response) = try? await URLSession.shared.data(from: url),
                      (response as? HTTPURLResponse)?.statusCode == 200 else {
                    throw ValidationError("Cannot fetch --jwks \(jwks).")
                }
                jwksJSON = String(decoding: data, as: UTF8.self)
            } else {
                guard let text = try? String(contentsOfFile: jwks, encoding: .utf8) else { throw ValidationError("Cannot read --jwks \(jwks).") }
                jwksJSON = text
            }
        }
        let secret = jwtSecret ?? ProcessInfo.processInfo.environment["EMULATOR_JWT_SECRET"] ?? JWTAuthorizer.developmentSecret
        var authorizers: [String: JWTAuthorizer] = [:]
        for api in template.apis.values {
            for (name, spec) in api.authorizers {
                authorizers[name] = try await JWTAuthorizer(spec: spec, hmacSecret: secret, jwksJSON: jwksJSON)
            }
        }
        let clock = EmulatorClock(now: try parseInstant(now))
        let schedules = noSchedules ? nil : CronEmulator(rules: rules, invoker: invoker, clock: clock)
        try await EmulatorServer(host: host, port: serveHTTPAPI ? port : nil, gatewayTimeout: .milliseconds(Int64(gatewayTimeout * 1000)), invoker: invoker,
                                 schedules: schedules, authorizers: authorizers, lambdaPort: lambdaPort,
                                 functionURLPort: serveHTTPAPI ? Self.functionURLBase(functionURLPort, apiPort: port) : nil,
                                 devTokens: Self.isLoopback(host) ? DevTokenMinter(secret: secret, template: template) : nil).run()
    }

    /// The dashboard's development tokens are only handed out to this machine.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

struct StartLambda: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start-lambda",
        abstract: "Serve only the Lambda Invoke API (like `sam local start-lambda`), with schedules and async invocations.")

    @Option(help: "Port of the Lambda Invoke API.")
    var port = 3001

    @OptionGroup var options: TemplateOptions

    func run() async throws {
        var api = try StartAPI.parse(Self.forwarded(options) + ["--lambda-port", String(port)])
        api.serveHTTPAPI = false
        try await api.run()
    }

    static func forwarded(_ o: TemplateOptions) -> [String] {
        var args = ["--template", o.template]
        if let b = o.buildDir { args += ["--build-dir", b] }
        if let e = o.envFile { args += ["--env-file", e] }
        if let v = o.envVars { args += ["--env-vars", v] }
        for p in o.parameterOverrides { args += ["--parameter-overrides", p] }
        if o.packages { args += ["--packages", "--package-dir", o.packageDir] }
        for r in o.runtimeAPI { args += ["--runtime-api", r] }
        return args
    }
}

struct Invoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Invoke one function once and print its answer (exit 1 if it failed).")

    @Argument(help: "Function: logical id, FunctionName or Handler.")
    var name: String

    @Option(help: "Event JSON file (`-` reads stdin). Default: {}.")
    var event: String?

    @Flag(help: "Queue an event invocation (202) in the durable queue that `start-api` works through, and return at once.")
    var async = false

    @Option(help: "Folder of the durable async queue (as for start-api).")
    var asyncDir = ".data/emulator/async"

    @OptionGroup var options: TemplateOptions

    func run() async throws {
        let (template, locator, env) = try options.load()
        guard let function = template.function(named: name) else {
            throw ValidationError("No function \(name) in the template (have: \(template.functions.map(\.logicalId).joined(separator: ", "))).")
        }
        let data: Data
        switch event {
        case nil: data = Data("{}".utf8)
        case "-": data = FileHandle.standardInput.readDataToEndOfFile()
        case let path?:
            guard let d = FileManager.default.contents(atPath: path) else { throw ValidationError("Cannot read event file \(path).") }
            data = d
        }
        let payload: JSONValue
        do {
            payload = try JSONValue.decode(data)
        } catch {
            throw ValidationError("The event is not valid JSON: \(error)")
        }
        if async {
            let entry = try AsyncInvocationQueue.write(function: function.logicalId, event: payload, source: "emulator invoke --async",
                                                       to: (asyncDir as NSString).appendingPathComponent("queued"))
            print(#"{"statusCode":202,"id":"\#(entry.id)"}"#)
            return
        }
        let log = EmulatorLog()
        let invoker = Invoker(template: template, binaries: locator, environment: env, options: InvokerOptions(), log: log)
        let result = await invoker.invoke(function, event: payload)
        await invoker.shutdown()
        try printOutcome(result, log: log)
    }
}

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Mint a development JWT (HS256) that the emulator's authorizer accepts.")

    @Option(help: "The tenant: the `org_id` claim.")
    var org: String?

    @Option(help: "The `org_id` claim as raw JSON instead of --org (a list, a number, null): to see how functions refuse a malformed tenant.")
    var orgJSON: String?

    func validate() throws {
        guard (org == nil) != (orgJSON == nil) else { throw ValidationError("give --org or --org-json") }
    }

    @Option(help: "The user: the `sub` claim.")
    var sub: String = "dev-user"

    @Option(help: "Lifetime in seconds.")
    var ttl = 3600

    @Option(help: "Space-separated scopes (the `scope` claim).")
    var scope: String?

    @Option(help: "The SAM template, for the authorizer's issuer and audience.")
    var template = "infra/template.yaml"

    @Option(help: "HS256 secret (default: $EMULATOR_JWT_SECRET, else the development secret).")
    var secret: String?

    func run() async throws {
        var orgClaim: JSONValue? = org.map { .string($0) }
        if let orgJSON {
            guard let value = try? JSONValue.parse(Array(orgJSON.utf8)) else { throw ValidationError("--org-json is not JSON") }
            orgClaim = value
        }
        let key = secret ?? ProcessInfo.processInfo.environment["EMULATOR_JWT_SECRET"] ?? JWTAuthorizer.developmentSecret
        let minter = DevTokenMinter(secret: key, template: try Template.load(path: template))
        print(try await minter.token(org: orgClaim, sub: sub, ttl: ttl, scope: scope))
    }
}

func parseInstant(_ text: String?) throws -> Date? {
    guard let text else { return nil }
    guard let d = ISO8601DateFormatter().date(from: text) else { throw ValidationError("--now takes an ISO 8601 instant, got \(text)") }
    return d
}

struct Trigger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Fire one schedule's event into its function now and print the answer.")

    @Argument(help: "The schedule's name (see `emulator schedules`).")
    var rule: String

    @OptionGroup var options: TemplateOptions

    func run() async throws {
        let (template, locator, env) = try options.load()
        let rules = try ScheduleRule.all(in: template)
        guard let r = rules.first(where: { $0.name == rule }) else {
            throw ValidationError("No schedule \(rule) (have: \(rules.map(\.name).joined(separator: ", "))).")
        }
        let log = EmulatorLog()
        let invoker = Invoker(template: template, binaries: locator, environment: env, options: InvokerOptions(), log: log)
        let result = await invoker.invoke(r.function, event: CronEmulator.event(for: r, at: Date(), id: Invoker.newRequestId()))
        await invoker.shutdown()
        try printOutcome(result, log: log)
    }
}

struct Schedules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the template's schedules and their next fire times, or run them (--run).")

    @Option(help: "The SAM template.")
    var template = "infra/template.yaml"

    @Flag(name: .customLong("run"), help: "Fire the schedules into their functions until interrupted (the cron emulator without the HTTP API).")
    var runSchedules = false

    @Option(help: "With --run: folder with the functions' executables.")
    var buildDir: String?

    @Option(help: "How many upcoming fire times to list per rule.")
    var next = 3

    @Option(help: "Compute from this instant (ISO 8601, e.g. 2026-11-21T10:00:00Z) instead of now; also the start of rate() schedules.")
    var now: String?

    func run() async throws {
        if runSchedules {
            var args = ["--template", template]
            if let buildDir { args += ["--build-dir", buildDir] }
            if let now { args += ["--now", now] }
            var api = try StartAPI.parse(args)
            api.serveHTTPAPI = false
            try await api.run()
            return
        }
        let t = try Template.load(path: template)
        let rules = try ScheduleRule.all(in: t)
        var start = Date()
        if let now {
            guard let d = ISO8601DateFormatter().date(from: now) else { throw ValidationError("--now takes an ISO 8601 instant, got \(now)") }
            start = d
        }
        let format = ISO8601DateFormatter()
        if rules.isEmpty { print("no schedules in \(template)") }
        for rule in rules {
            let state = rule.spec.enabled ? "" : " (disabled)"
            print("\(rule.name)  \(rule.spec.expression)  \(rule.spec.timezone ?? "UTC")  -> \(rule.function.logicalId)\(state)")
            for fire in rule.expression.nextFires(next, after: start, timeZone: rule.timeZone, start: start) {
                print("  \(format.string(from: fire))")
            }
        }
    }
}

struct GenerateEvent: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-event", abstract: "Print a sample event.", subcommands: [HTTP.self, Schedule.self])

    struct HTTP: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An API Gateway HTTP API (payload 2.0) request event.")
        @Option var method = "GET"
        @Option var path = "/"
        @Option(help: "Route key; default `METHOD PATH`.") var routeKey: String?
        @Option(help: "Body text.") var body: String?
        @Option(name: .customLong("header"), help: "`name: value`, repeatable.") var headers: [String] = []
        @Option(help: "Raw query string.") var query = ""
        @Option(help: "Claims for requestContext.authorizer.jwt, `key=value`, repeatable.") var claim: [String] = []

        func run() throws {
            var hdrs: [(String, String)] = headers.compactMap { h in
                guard let c = h.firstIndex(of: ":") else { return nil }
                return (String(h[..<c]), h[h.index(after: c)...].trimmingCharacters(in: .whitespaces))
            }
            if body != nil, !hdrs.contains(where: { $0.0.lowercased() == "content-type" }) { hdrs.append(("content-type", "application/json")) }
            let claims = Dictionary(claim.compactMap { c -> (String, String)? in
                guard let eq = c.firstIndex(of: "=") else { return nil }
                return (String(c[..<eq]), String(c[c.index(after: eq)...]))
            }, uniquingKeysWith: { _, b in b })
            let request = HTTPEventMapping.IncomingRequest(
                method: method.uppercased(), rawPath: path, rawQuery: query, headers: hdrs,
                body: Array((body ?? "").utf8), sourceIp: "127.0.0.1")
            let event = HTTPEventMapping.event(
                for: request, routeKey: routeKey ?? "\(method.uppercased()) \(path)", pathParameters: [:],
                requestId: Invoker.newRequestId(),
                authorizer: claims.isEmpty ? nil : .init(jwt: .init(claims: claims, scopes: nil)))
            try printJSON(event)
        }
    }

    struct Schedule: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An EventBridge scheduled event.")
        @Option var rule = "local-schedule"

        func run() throws {
            let now = Timestamps.nowMs()
            try printJSON(ScheduledEvent(id: Invoker.newRequestId(), time: Timestamps.iso8601Seconds(now),
                                         ruleArn: "arn:aws:events:us-east-1:123456789012:rule/\(rule)"))
        }
    }
}

/// Prints an invocation's answer on stdout (the payload, or Lambda's error object) and exits 1
/// unless the function answered.
func printOutcome(_ result: InvocationResult, log: EmulatorLog) throws {
    switch result.outcome {
    case .success(.response(let value)):
        FileHandle.standardOutput.write(try value.encoded() + Data("\n".utf8))
    case .success(.streamed(_, nil)):
        break  // not reached: `invoke` collects a stream into a response
    case .success(.streamed(_, let e?)), .success(.functionError(let e)):
        FileHandle.standardOutput.write(try FrameCodec.encoder().encode(e) + Data("\n".utf8))
        throw ExitCode(1)
    case .failure(let f):
        log.emulator("invocation failed: \(f)")
        throw ExitCode(1)
    }
}

func printJSON<T: Encodable>(_ value: T) throws {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    FileHandle.standardOutput.write(try e.encode(value) + Data("\n".utf8))
}
