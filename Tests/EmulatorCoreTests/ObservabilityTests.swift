import EmbeddedMetrics
import Foundation
import JSON
import TestSupport
import Testing
import Yams
@testable import EmulatorCore

/// EMF records, the emulator's Prometheus text, and the alert rules, without processes.
@Suite struct ObservabilityUnitTests {
    @Test func aMetricRecordIsEMFThatReadsBack() throws {
        var r = MetricRecord(function: "local-search")
        r.dimension("route", "POST /v1/search")
        r.metric("Duration", 12.5, unit: .milliseconds)
        r.metric("Results", 3)
        r.add("Results", 2)
        r.property("requestId", .string("req-1"))
        r.property("org", .string("acme"))
        let line = r.line(timestampMs: 1_765_000_000_000)
        #expect(line.hasSuffix("}\n") && !line.dropLast().contains("\n"))

        // CloudWatch's own reading: the directive names members of the record.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let directive = try #require(((object["_aws"] as? [String: Any])?["CloudWatchMetrics"] as? [[String: Any]])?.first)
        #expect(directive["Namespace"] as? String == "RagFunctions")
        #expect(directive["Dimensions"] as? [[String]] == [["function"], ["function", "route"]])
        #expect(object["Results"] as? Int == 5)

        let back = try EMFRecord.parse(String(line.dropLast()))
        #expect(back.namespace == "RagFunctions" && back.timestampMs == 1_765_000_000_000)
        #expect(back.dimensions.map(\.name) == ["function", "route"] && back.dimension("route") == "POST /v1/search")
        #expect(back.metrics == [.init(name: "Duration", unit: "Milliseconds", value: 12.5), .init(name: "Results", unit: "Count", value: 5)])
        #expect(back.properties["requestId"]?.stringValue == "req-1")
        // The org is a property, never a dimension (one CloudWatch metric per org would not scale).
        #expect(back.dimension("org") == nil && back.properties["org"]?.stringValue == "acme")
    }

    @Test(arguments: [
        (#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["function"]],"Metrics":[{"Name":"X"}]}]},"function":"f","X":"many"}"#, "metric `X` is not a number"),
        (#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["route"]],"Metrics":[]}]},"function":"f"}"#, "dimension `route`"),
        (#"{"_aws":{"CloudWatchMetrics":[]},"X":1}"#, "Timestamp"),
        (#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Dimensions":[],"Metrics":[]}]}}"#, "Namespace"),
        (#"{"_aws": nope"#, "not a JSON object"),
    ])
    func malformedRecordsAreRefusedWithTheReason(_ line: String, _ reason: String) {
        #expect(throws: EMFRecord.ParseError.self) { try EMFRecord.parse(line) }
        do { _ = try EMFRecord.parse(line) } catch { #expect(error.description.contains(reason), "\(error.description)") }
    }

    /// Feeds the telemetry what a run would: labels, handler lines with EMF records, ends.
    func telemetry(rules: AlertRules = .defaults) -> Telemetry {
        let t = Telemetry(alerts: rules)
        for (i, ms) in [3.0, 4.0, 250.0].enumerated() {
            let id = "req-\(i)"
            t.label(id, "POST /v1/search")
            var r = MetricRecord(function: "local-search")
            r.dimension("route", "POST /v1/search")
            r.dimension("mode", #"hy"brid\"#)
            r.metric("EmbedTime", ms / 2, unit: .milliseconds)
            r.metric("UploadBytes", 100, unit: .bytes)
            r.metric("CostUSD", 0.001, unit: .none)
            r.metric("QueryCacheHits", i == 0 ? 0 : 1)
            r.metric("QueryCacheMisses", i == 0 ? 1 : 0)
            r.property("requestId", .string(id))
            r.property("status", .number(200))
            t.line(function: "SearchFunction", requestId: id, String(r.line(timestampMs: Timestamps.nowMs()).dropLast()))
            t.line(function: "SearchFunction", requestId: id, #"{"level":"info","message":"not EMF"}"#)
            t.finish(function: "SearchFunction", requestId: id, outcome: "ok", durationMs: ms, initMs: i == 0 ? 120 : nil, maxMemoryMB: 80)
        }
        t.finish(function: "Broken", requestId: "req-x", outcome: "init_failed", durationMs: 5, initMs: nil, maxMemoryMB: nil)
        return t
    }

    @Test func prometheusTextIsWellFormed() throws {
        let t = telemetry()
        let snap = t.snapshot()
        let text = PrometheusText.render(snap, pools: [Invoker.PoolStats(function: "SearchFunction", live: 2, idle: 1, queued: 0)],
                                         queues: .init(pending: 1, queued: 2, deadLetters: 3), alerts: t.evaluateAlerts(snap))
        let lines = text.split(separator: "\n").map(String.init)
        // Every family is declared once, with help, before its samples.
        let types = lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        #expect(Set(types).count == types.count)
        #expect(lines.filter { $0.hasPrefix("# HELP ") }.count == types.count)
        #expect(lines.contains(#"rag_invocations_total{function="SearchFunction",route="POST /v1/search",outcome="ok"} 3"#))
        #expect(lines.contains(#"rag_invocations_total{function="Broken",route="invoke",outcome="init_failed"} 1"#))
        #expect(lines.contains(#"rag_cold_starts_total{function="SearchFunction"} 1"#))
        #expect(lines.contains(#"rag_processes{function="SearchFunction",state="busy"} 1"#))
        #expect(lines.contains("rag_dead_letters 3"))
        #expect(lines.contains(#"rag_max_memory_bytes{function="SearchFunction"} 83886080"#))
        // Label values are escaped; units become base units and suffixes.
        #expect(text.contains(#"mode="hy\"brid\\""#))
        #expect(lines.contains { $0.hasPrefix("rag_fn_embed_time_seconds_bucket{") })
        #expect(lines.contains { $0.hasPrefix("rag_fn_upload_bytes_total{") && $0.hasSuffix(" 300") })
        #expect(lines.contains { $0.hasPrefix("rag_fn_cost_usd_count{") && $0.hasSuffix(" 3") })
        #expect(lines.contains { $0.hasPrefix("rag_fn_query_cache_hits_total{") && $0.hasSuffix(" 2") })

        // Histograms: cumulative buckets ending at +Inf == _count.
        let buckets = lines.filter { $0.hasPrefix(#"rag_invocation_duration_seconds_bucket{function="SearchFunction""#) }
        let counts = buckets.compactMap { Double($0.split(separator: " ").last!) }
        #expect(counts.count == Histogram.bounds.count + 1 && counts == counts.sorted())
        #expect(buckets.last?.contains(#"le="+Inf""#) == true && counts.last == 3)
        #expect(buckets.contains { $0.contains(#"le="0.005""#) && $0.hasSuffix(" 2") })
        #expect(lines.contains(#"rag_invocation_duration_seconds_count{function="SearchFunction",route="POST /v1/search"} 3"#))
    }

    @Test func theDashboardStateHasTheWindowsPercentilesAndEachInvocationsLines() throws {
        let t = telemetry()
        let snap = t.snapshot()
        let route = try #require(Telemetry.routeLatencies(snap.samples).first { $0.route == "POST /v1/search" })
        #expect(route.count == 3 && route.p50Ms == 4 && route.p99Ms == 250)
        let newest = try #require(snap.recent.first)
        #expect(newest.requestId == "req-x" && newest.outcome == "init_failed")
        let search = try #require(snap.recent.first { $0.requestId == "req-2" })
        #expect(search.status == 200 && !search.cold)
        // Lambda's START, the function's lines, END and REPORT.
        #expect(search.logs.count == 5 && search.logs[0] == "START RequestId: req-2 Version: $LATEST", "\(search.logs)")
        #expect(search.logs[1].hasPrefix(#"{"_aws":"#) && search.logs[3] == "END RequestId: req-2")
        #expect(search.logs[4].hasPrefix("REPORT RequestId: req-2\tDuration: 250.00 ms\tBilled Duration: 250 ms\tMax Memory Used: 80 MB"))
        #expect(snap.recent.first { $0.requestId == "req-0" }?.cold == true)
    }

    @Test func alertsFireAtTheirThresholdsAndWaitForEnoughSamples() throws {
        let rules = try AlertRules.load(path: TestPaths.packageRoot + "/config/alerts.yaml")
        var strict = rules
        strict.rules = strict.rules.map { r in
            var r = r
            if r.kind == .latencyP95 { (r.warning, r.critical, r.minSamples) = (100, 200, 3) }
            if r.kind == .cacheHitRate { r.minSamples = 3 }
            return r
        }
        let states = Dictionary(uniqueKeysWithValues: telemetry(rules: strict).evaluateAlerts(telemetry(rules: strict).snapshot()).map { ($0.name, $0) })
        // p95 of 3, 4 and 250 ms is 250: past the critical 200.
        #expect(states["search_p95_latency"]?.state == "firing" && states["search_p95_latency"]?.severity == "critical")
        #expect(states["search_p95_latency"]?.value == 250)
        // Two hits in three lookups is 0.67: under the warning 0.7, over the critical 0.5.
        #expect(states["query_cache_hit_rate"]?.state == "firing" && states["query_cache_hit_rate"]?.severity == "warning")
        // Four invocations are fewer than the 20 an error rate needs.
        #expect(states["error_rate"]?.state == "no_data")
        // 0.003 USD of a 10 USD budget.
        #expect(states["api_spend"]?.state == "ok")
        #expect(states["provider_unhealthy"]?.state == "no_data")

        let shipped = Dictionary(uniqueKeysWithValues: telemetry(rules: rules).evaluateAlerts(telemetry(rules: rules).snapshot()).map { ($0.name, $0) })
        #expect(shipped["search_p95_latency"]?.state == "no_data", "5 samples are needed")
    }

    @Test func theShippedAlertFileIsTheBuiltInDefault() throws {
        #expect(try AlertRules.load(path: TestPaths.packageRoot + "/config/alerts.yaml") == AlertRules.defaults)
    }

    @Test func alertFileMistakesAreRefused() throws {
        let dir = TestPaths.temporaryDirectory("alerts")
        func load(_ yaml: String) -> String? {
            try? yaml.write(toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
            do { _ = try AlertRules.load(path: dir + "/a.yaml"); return nil } catch { return error.description }
        }
        #expect(load("alerts:\n  - {name: a, kind: error_rate, warning: 0.1}\n  - {name: a, kind: spend, warning: 0.5}\n")?.contains("defined twice") == true)
        #expect(load("alerts:\n  - {name: slow, kind: latency_p95, warning: 5}\n")?.contains("needs a `route`") == true)
        #expect(load("alerts:\n  - {name: c, kind: cache_hit_rate, warning: 0.5, critical: 0.7}\n")?.contains("past `warning`") == true)
        #expect(load("alerts:\n  - {name: x, kind: sometimes, warning: 1}\n") != nil)
        #expect(load("window_minutes: 0\nalerts: []\n")?.contains("window_minutes") == true)
    }

    /// The template's CloudWatch alarms and config/alerts.yaml must say the same thing: every
    /// alarm names its rule and severity, and its threshold is that rule's (spend as a share of
    /// the daily budget); every rule has an alarm at each of its severities.
    @Test func theTemplatesAlarmsUseTheAlertFilesThresholds() throws {
        let rules = try AlertRules.load(path: TestPaths.packageRoot + "/config/alerts.yaml")
        let text = try String(contentsOfFile: TestPaths.packageRoot + "/infra/template.yaml", encoding: .utf8)
        let root = try #require(try Yams.compose(yaml: text))
        let resources = try #require(root["Resources"]?.mapping)
        var covered = Set<String>()
        var alarms = 0
        for (_, resource) in resources where resource["Type"]?.string == "AWS::CloudWatch::Alarm" {
            alarms += 1
            let name = try #require(resource["Metadata"]?["AlertRule"]?.string)
            let severity = try #require(resource["Metadata"]?["Severity"]?.string)
            let rule = try #require(rules.rules.first { $0.name == name }, "alarm for unknown rule \(name)")
            var expected = try #require(severity == "critical" ? rule.critical : rule.warning)
            if rule.kind == .spend { expected *= rules.dailyBudgetUSD }
            let threshold = try #require(resource["Properties"]?["Threshold"]?.float)
            #expect(abs(threshold - expected) < 1e-9, "\(name) \(severity): template \(threshold), alerts.yaml \(expected)")
            let comparison = resource["Properties"]?["ComparisonOperator"]?.string
            #expect(comparison == (rule.kind.below ? "LessThanThreshold" : "GreaterThanThreshold"))
            covered.insert("\(name)/\(severity)")
        }
        #expect(alarms >= rules.rules.count)
        for rule in rules.rules {
            #expect(covered.contains("\(rule.name)/warning"), "no warning alarm for \(rule.name)")
            if rule.critical != nil { #expect(covered.contains("\(rule.name)/critical"), "no critical alarm for \(rule.name)") }
        }
    }
}

/// The observability endpoints of a running emulator, over the fixture functions.
@Suite(.serialized) struct ObservabilityEndpointTests {
    func waitFor<T>(_ timeout: Double = 30, _ value: () async throws -> T?) async rethrows -> T? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let v = try await value() { return v }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try await value()
    }

    @Test func theDashboardMetricsAndStateAreServed() async throws {
        let emu = try await EmulatorHarness.start()
        defer { Task { await emu.stop() } }
        #expect(try await emu.get("/items/abc").status == 200)

        let page = try await emu.get("/__emulator/")
        #expect(page.status == 200 && page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(page.text.contains("<html") && page.text.contains("/__emulator/state"))
        #expect(try await emu.get("/__emulator").text == page.text)

        let metrics = try await emu.get("/metrics")
        #expect(metrics.status == 200 && metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(metrics.text.contains(#"rag_invocations_total{function="Fixture",route="GET /items/{id}",outcome="ok"} 1"#), "\(metrics.text)")
        // The fixture is built on FunctionRuntime, so it writes the runtime's record.
        let record = try await waitFor { () -> String? in
            let t = try await emu.get("/metrics").text
            return t.contains("rag_fn_invocations_total{") ? t : nil
        }
        #expect(record?.contains(#"route="GET /items/{id}""#) == true)

        let state = try await emu.get("/__emulator/state")
        #expect(state.status == 200)
        let functions = try #require(state.json["functions"] as? [[String: Any]])
        #expect(functions.map { $0["function"] as? String } == ["Broken", "Fixture", "Missing", "Single"])
        let fixture = try #require(functions.first { $0["function"] as? String == "Fixture" })
        #expect(fixture["invocations"] as? Int == 1 && fixture["cold_starts"] as? Int == 1)
        let recent = try #require((state.json["recent"] as? [[String: Any]])?.first)
        #expect(recent["route"] as? String == "GET /items/{id}" && recent["outcome"] as? String == "ok" && recent["cold"] as? Bool == true)
        #expect((recent["logs"] as? [String])?.contains { $0.hasPrefix("REPORT RequestId:") } == true)
        #expect((state.json["alerts"] as? [[String: Any]])?.count == AlertRules.defaults.rules.count)
    }

    @Test func developmentTokensForTheDashboardWorkOnTheAPI() async throws {
        let emu = try await EmulatorHarness.start()
        defer { Task { await emu.stop() } }
        let r = try await emu.get("/__emulator/token?org=acme")
        #expect(r.status == 200)
        let token = try #require(r.json["token"] as? String)
        #expect(token.split(separator: ".").count == 3)
        #expect(try await emu.get("/__emulator/token").status == 422)
    }

    @Test func deadLettersAreListedAndReplayedAsNewEvents() async throws {
        let emu = try await EmulatorHarness.start(arguments: ["--async-retry-scale", "0.005"])
        defer { Task { await emu.stop() } }
        #expect(try await emu.get("/fx/async?function=Broken").status == 202)
        func deadLetters() async throws -> [[String: Any]] {
            ((try await emu.get("/__emulator/state").json["async"] as? [String: Any])?["dead_letters"] as? [[String: Any]]) ?? []
        }
        let dead = try #require(try await waitFor { try await deadLetters().first })
        let id = try #require(dead["id"] as? String)
        #expect(dead["function"] as? String == "Broken" && dead["attempts"] as? Int == 3)
        #expect(((dead["errors"] as? [[String: Any]])?.first?["error"] as? String)?.contains("FIXTURE_INIT_FAIL") == true)

        #expect(try await emu.request("POST", "/__emulator/dead-letters/00000000-0000-4000-8000-000000000000/replay").status == 404)
        #expect(try await emu.request("POST", "/__emulator/dead-letters/..%2F..%2Fetc/replay").status == 404)
        let replay = try await emu.request("POST", "/__emulator/dead-letters/\(id)/replay")
        #expect(replay.status == 202)
        let fresh = try #require(replay.json["id"] as? String)
        #expect(fresh != id)
        // Broken still fails: the replayed event runs its three attempts and is dead again, as itself.
        let again = try await waitFor { try await deadLetters().first { $0["id"] as? String == fresh } }
        #expect((again?["source"] as? String)?.hasPrefix("replay of \(id)") == true)
        #expect(try await deadLetters().contains { $0["id"] as? String == id } == false)
    }
}
