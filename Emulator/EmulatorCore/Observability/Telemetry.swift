import DequeModule
import Foundation
import JSON
import NIOConcurrencyHelpers

/// What the emulator knows about the invocations it ran: its own facts per invocation (duration,
/// init, cold or warm, memory, outcome), the EMF records the functions wrote, and each
/// invocation's log lines. `GET /metrics` renders it for Prometheus, `GET /__emulator/state` for
/// the dashboard, and the alert rules are evaluated over it (docs/ARCHITECTURE.md, section 6a).
///
/// Everything is bounded: the recent list, the window's samples, log lines per invocation and
/// the label sets (dimensions are bounded by the functions' own rules).
package final class Telemetry: Sendable {
    package struct Options: Sendable {
        /// The window of the dashboard's percentiles and of the alerts.
        package var windowSeconds: Double = 300
        package var recentLimit = 50
        package var logLinesPerInvocation = 200
        package var sampleLimit = 20_000
        package init() {}
    }

    package let options: Options
    package let startedAtMs = Timestamps.nowMs()
    package let alerts: AlertRules
    private let state = NIOLockedValueBox(State())

    package init(options: Options = Options(), alerts: AlertRules = .defaults) {
        self.options = options
        self.alerts = alerts
    }

    // MARK: State

    /// One finished invocation as the dashboard lists it.
    package struct Recent: Sendable, Encodable {
        package var requestId: String
        package var function: String
        package var route: String
        package var status: Int?
        package var outcome: String
        package var durationMs: Double
        package var initMs: Double?
        package var cold: Bool
        package var at: String
        package var logs: [String]

        enum CodingKeys: String, CodingKey {
            case requestId = "request_id", function, route, status, outcome, durationMs = "duration_ms", initMs = "init_ms", cold, at, logs
        }
    }

    struct Sample: Sendable {
        var atMs: Int64
        var requestId: String
        var function: String
        var route: String
        var durationMs: Double
        var failed: Bool
    }

    package struct FunctionTotals: Sendable, Encodable {
        package var invocations = 0
        package var errors = 0
        package var coldStarts = 0
        package var throttles = 0
        package var timeouts = 0
        package var crashes = 0
        package var maxMemoryMB: Int?

        enum CodingKeys: String, CodingKey {
            case invocations, errors, coldStarts = "cold_starts", throttles, timeouts, crashes, maxMemoryMB = "max_memory_mb"
        }
    }

    package struct Provider: Sendable, Encodable {
        package var kind: String
        package var name: String
        package var model: String
        package var calls = 0
        package var failures = 0
        package var lastOutcome: String?
        package var lastAt: String?
        package var breaker = "closed"

        enum CodingKeys: String, CodingKey {
            case kind, name, model, calls, failures, lastOutcome = "last_outcome", lastAt = "last_at", breaker
        }
    }

    package struct Router: Sendable, Encodable {
        package var function: String
        package var catalogVersion: String
        package var actions: Int
        package var seeds: Int
        package var requests: Int
        package var cacheHits: Int
        package var reloads: Int
        package var reloadErrors: Int
        /// When the serving catalog was loaded.
        package var lastReload: String?
        package var at: String

        package var cacheHitRate: Double { requests == 0 ? 0 : Double(cacheHits) / Double(requests) }

        enum CodingKeys: String, CodingKey {
            case function, catalogVersion = "catalog_version", actions, seeds, requests, cacheHits = "cache_hits"
            case cacheHitRate = "cache_hit_rate", reloads, reloadErrors = "reload_errors", lastReload = "last_reload", lastReport = "last_report"
        }

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(function, forKey: .function)
            try c.encode(catalogVersion, forKey: .catalogVersion)
            try c.encode(actions, forKey: .actions)
            try c.encode(seeds, forKey: .seeds)
            try c.encode(requests, forKey: .requests)
            try c.encode(cacheHits, forKey: .cacheHits)
            try c.encode(cacheHitRate, forKey: .cacheHitRate)
            try c.encode(reloads, forKey: .reloads)
            try c.encode(reloadErrors, forKey: .reloadErrors)
            try c.encode(lastReload, forKey: .lastReload)
            try c.encode(at, forKey: .lastReport)
        }
    }

    /// A metric family from the functions' EMF records, by name and unit.
    struct FamilyKey: Hashable, Sendable {
        var name: String
        var unit: String
    }

    struct Series: Sendable {
        var labels: [(String, String)]
        var total = 0.0
        var count: UInt64 = 0
        var histogram: Histogram?

        mutating func add(_ value: Double, seconds: Double?) {
            total += value
            count += 1
            if let seconds {
                if histogram == nil { histogram = Histogram() }
                histogram!.observe(seconds: seconds)
            }
        }
    }

    /// One series: a metric (name and unit) with one set of dimension values. One flat
    /// dictionary, so recording a value is one hash lookup; `snapshot` groups them by family.
    struct SeriesID: Hashable, Sendable {
        var name: String
        var unit: String
        var labels: String
    }

    /// Values of the EMF metrics the alerts read, over the window.
    struct MetricSample: Sendable {
        var atMs: Int64
        var name: String
        var value: Double
        var key: String
    }

    struct State {
        var labels: [String: String] = [:]
        var logs: [String: [String]] = [:]
        var statuses: [String: Int] = [:]
        var recent: Deque<Recent> = []
        var samples: Deque<Sample> = []
        var metricSamples: Deque<MetricSample> = []
        var totals: [String: FunctionTotals] = [:]
        var invocationCounts: [[String]: Double] = [:]
        var durations: [[String]: Histogram] = [:]
        var initDurations: [String: Histogram] = [:]
        var series: [SeriesID: Series] = [:]
        var providers: [String: Provider] = [:]
        var router: Router?
        var spendByDay: [String: Double] = [:]
        var emfRecords = 0
        var emfRejected = 0
    }

    // MARK: Recording

    /// What the request path hands over: appended under a lock (a fraction of a microsecond),
    /// taken apart later by `process()`, on the telemetry thread or before a read. Parsing an
    /// EMF record and updating the figures on the request's own thread cost the one-core A/B
    /// benchmark 40 us per request (infra/bench/ab.sh); appending costs it nothing measurable.
    enum Event: Sendable {
        case label(requestId: String, route: String)
        case line(function: String, requestId: String?, text: String, atMs: Int64)
        case finish(function: String, requestId: String, outcome: String, durationMs: Double, initMs: Double?, maxMemoryMB: Int?,
                    memorySizeMB: Int, atMs: Int64)
    }

    private let inbox = NIOLockedValueBox<[Event]>([])
    private let worker = NIOLockedValueBox(false)

    private func post(_ e: Event) {
        let count = inbox.withLockedValue { i -> Int in
            i.append(e)
            return i.count
        }
        if count == 1 { startWorkerIfNeeded() }
    }

    /// A thread that applies the inbox every 10 ms while events come (small batches: a long one
    /// would hold a core for milliseconds), and ends after a second without any (the next event
    /// starts another) or with the telemetry (held weakly).
    private func startWorkerIfNeeded() {
        let start = worker.withLockedValue { running -> Bool in
            defer { running = true }
            return !running
        }
        guard start else { return }
        let thread = Thread { [weak self] in
            var idle = 0
            while let telemetry = self {
                idle = telemetry.process() ? 0 : idle + 1
                if idle >= 100 {
                    // Stops only with an empty inbox, decided under the lock `post` starts under.
                    let stop = telemetry.worker.withLockedValue { running -> Bool in
                        guard telemetry.inbox.withLockedValue({ $0.isEmpty }) else { return false }
                        running = false
                        return true
                    }
                    if stop { return }
                }
                usleep(10_000)
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Applies what the request path handed over, in order; false when there was nothing.
    @discardableResult
    func process() -> Bool {
        let events = inbox.withLockedValue { i -> [Event] in
            defer { i.removeAll(keepingCapacity: true) }
            return i
        }
        guard !events.isEmpty else { return false }
        state.withLockedValue { s in
            for e in events {
                switch e {
                case .label(let id, let route):
                    if s.labels.count > 10_000 { s.labels.removeAll(keepingCapacity: true) }
                    s.labels[id] = route
                case .line(let function, let requestId, let text, let atMs):
                    apply(line: text, function: function, requestId: requestId, atMs: atMs, into: &s)
                case .finish(let function, let requestId, let outcome, let durationMs, let initMs, let maxMemoryMB, let memorySizeMB, let atMs):
                    apply(finish: function, requestId: requestId, outcome: outcome, durationMs: durationMs, initMs: initMs,
                          maxMemoryMB: maxMemoryMB, memorySizeMB: memorySizeMB, atMs: atMs, into: &s)
                }
            }
        }
        return true
    }

    /// What started an invocation, for the per-route figures: an HTTP route key
    /// (`POST /v1/search`), `schedule:<rule>`, `async`; unlabelled ones are `invoke`.
    package func label(_ requestId: String, _ route: String) {
        post(.label(requestId: requestId, route: route))
    }

    /// A line the function wrote during an invocation. EMF records are taken apart; every line is
    /// kept with its invocation for the dashboard (between the START, END and REPORT lines that
    /// `finish` writes as Lambda's log shows them).
    func line(function: String, requestId: String?, _ text: String) {
        post(.line(function: function, requestId: requestId, text: text, atMs: Timestamps.nowMs()))
    }

    /// One invocation's end as the emulator saw it.
    func finish(function: String, requestId: String, outcome: String, durationMs: Double, initMs: Double?, maxMemoryMB: Int?,
                memorySizeMB: Int = 0) {
        post(.finish(function: function, requestId: requestId, outcome: outcome, durationMs: durationMs, initMs: initMs,
                     maxMemoryMB: maxMemoryMB, memorySizeMB: memorySizeMB, atMs: Timestamps.nowMs()))
    }

    private func apply(line text: String, function: String, requestId: String?, atMs: Int64, into s: inout State) {
        var record: EMFRecord?
        if EMFRecord.looksLikeEMF(text) {
            do { record = try EMFRecord.parse(text) } catch { s.emfRejected += 1 }
        }
        // The runtime writes its record after the answer, when the emulator may already have
        // ended the invocation: the record's own request id says whose it is.
        if let owner = requestId ?? record?.property("requestId")?.stringValue {
            let kept = text.utf8.count > 4_000 ? String(text.prefix(4_000)) + "…" : text
            if let i = s.recent.lastIndex(where: { $0.requestId == owner }) {
                if s.recent[i].logs.count < options.logLinesPerInvocation { s.recent[i].logs.append(kept) }
            } else {
                if s.logs.count > 2_000 { s.logs.removeAll(keepingCapacity: true) }
                if s.logs[owner, default: []].count < options.logLinesPerInvocation { s.logs[owner, default: []].append(kept) }
            }
        }
        if let record { absorb(record, function: function, requestId: requestId, nowMs: atMs, into: &s) }
    }

    private func apply(finish function: String, requestId: String, outcome: String, durationMs: Double, initMs: Double?,
                       maxMemoryMB: Int?, memorySizeMB: Int, atMs nowMs: Int64, into s: inout State) {
        let route = s.labels.removeValue(forKey: requestId) ?? "invoke"
        let status = s.statuses.removeValue(forKey: requestId)
        let failed = outcome != "ok" || (status ?? 0) >= 500
        var t = s.totals[function, default: FunctionTotals()]
        t.invocations += 1
        if failed { t.errors += 1 }
        if initMs != nil { t.coldStarts += 1 }
        if outcome == "throttled" { t.throttles += 1 }
        if outcome == "timeout" { t.timeouts += 1 }
        if outcome == "crash" { t.crashes += 1 }
        if let maxMemoryMB { t.maxMemoryMB = max(t.maxMemoryMB ?? 0, maxMemoryMB) }
        s.totals[function] = t
        s.invocationCounts[[function, route, outcome], default: 0] += 1
        s.durations[[function, route], default: Histogram()].observe(seconds: durationMs / 1000)
        if let initMs { s.initDurations[function, default: Histogram()].observe(seconds: initMs / 1000) }
        s.samples.append(Sample(atMs: nowMs, requestId: requestId, function: function, route: route, durationMs: durationMs, failed: failed))
        if s.samples.count > options.sampleLimit { s.samples.removeFirst() }
        // Lambda's own lines around the function's, built here (off the request path).
        var report = "REPORT RequestId: \(requestId)\tDuration: \(EmulatorLog.fmt(durationMs)) ms\tBilled Duration: \(Int(durationMs.rounded(.up))) ms"
        if memorySizeMB > 0 { report += "\tMemory Size: \(memorySizeMB) MB" }
        if let maxMemoryMB { report += "\tMax Memory Used: \(maxMemoryMB) MB" }
        if let initMs { report += "\tInit Duration: \(EmulatorLog.fmt(initMs)) ms" }
        let logs = ["START RequestId: \(requestId) Version: $LATEST"] + (s.logs.removeValue(forKey: requestId) ?? [])
            + ["END RequestId: \(requestId)", report]
        s.recent.append(Recent(requestId: requestId, function: function, route: route, status: status, outcome: outcome,
                               durationMs: durationMs, initMs: initMs, cold: initMs != nil, at: Timestamps.iso8601Millis(nowMs),
                               logs: logs))
        if s.recent.count > options.recentLimit { s.recent.removeFirst() }
    }

    private func absorb(_ r: EMFRecord, function: String, requestId: String?, nowMs: Int64, into s: inout State) {
        s.emfRecords += 1
        let labels = r.dimensions.map { ($0.name, $0.value) }
        let seriesKey = labels.map { "\($0.0)=\($0.1)" }.joined(separator: "\u{1}")
        for m in r.metrics {
            s.series[SeriesID(name: m.name, unit: m.unit, labels: seriesKey), default: Series(labels: labels)]
                .add(m.value, seconds: Self.seconds(m.value, unit: m.unit))
        }
        // The HTTP status joins the emulator's record of the same invocation, whichever comes first.
        if let id = r.property("requestId")?.stringValue ?? requestId, let status = r.property("status")?.intValue {
            if let i = s.recent.lastIndex(where: { $0.requestId == id }) {
                s.recent[i].status = status
                if status >= 500, let j = s.samples.lastIndex(where: { $0.requestId == id }), !s.samples[j].failed {
                    s.samples[j].failed = true
                    s.totals[s.samples[j].function]?.errors += 1
                }
            } else {
                if s.statuses.count > 10_000 { s.statuses.removeAll(keepingCapacity: true) }
                s.statuses[id] = status
            }
        }
        for name in ["QueryCacheHits", "QueryCacheMisses", "CostUSD", "ProviderCalls", "ProviderFailures", "EmbeddingCalls", "EmbeddingFailures"] {
            if let v = r.metric(name), v != 0 {
                let key = name.hasPrefix("Provider") ? "generation/\(r.dimension("provider") ?? "-")" : name.hasPrefix("Embedding") ? "embedding/\(function)" : ""
                s.metricSamples.append(MetricSample(atMs: nowMs, name: name, value: v, key: key))
            }
        }
        while s.metricSamples.count > options.sampleLimit { s.metricSamples.removeFirst() }
        if let cost = r.metric("CostUSD"), cost > 0 { s.spendByDay[Self.day(nowMs), default: 0] += cost }
        var at: String { Timestamps.iso8601Millis(nowMs) }
        if r.metric("ProviderCalls") != nil {
            let name = r.dimension("provider") ?? "-", model = r.dimension("model") ?? "-"
            var p = s.providers["generation/\(name)/\(model)"] ?? Provider(kind: "generation", name: name, model: model)
            p.calls += 1
            p.failures += Int(r.metric("ProviderFailures") ?? 0)
            p.lastOutcome = r.dimension("outcome")
            p.lastAt = at
            s.providers["generation/\(name)/\(model)"] = p
        }
        if let calls = r.metric("EmbeddingCalls") {
            let model = r.property("model")?.stringValue ?? "-"
            let id = "embedding/\(function)"
            var p = s.providers[id] ?? Provider(kind: "embedding", name: function, model: model)
            if model != "-" { p.model = model }
            let failures = Int(r.metric("EmbeddingFailures") ?? 0)
            p.calls += Int(calls)
            p.failures += failures
            if calls > 0 || failures > 0 {
                p.lastOutcome = failures > 0 ? "failed" : "ok"
                p.lastAt = at
            }
            p.breaker = (r.metric("EmbeddingBreakerOpen") ?? 0) > 0 ? "open" : "closed"
            s.providers[id] = p
        }
        if let version = r.property("catalog_version")?.stringValue {
            let int = { (k: String) in r.property(k)?.intValue ?? 0 }
            s.router = Router(function: function, catalogVersion: version, actions: int("actions"), seeds: int("seeds"), requests: int("requests"),
                              cacheHits: int("cache_hits"), reloads: int("reloads"), reloadErrors: int("reload_errors"),
                              lastReload: r.property("last_reload")?.stringValue, at: at)
        }
    }

    static func seconds(_ v: Double, unit: String) -> Double? {
        switch unit {
        case "Milliseconds": v / 1000
        case "Microseconds": v / 1_000_000
        case "Seconds": v
        default: nil
        }
    }

    static func day(_ ms: Int64) -> String { String(Timestamps.iso8601Millis(ms).prefix(10)) }

    // MARK: Reading

    /// The outcome names the emulator uses, from an invocation's result.
    static func outcome(_ result: InvocationResult) -> String {
        switch result.outcome {
        case .success(.response), .success(.streamed(_, nil)): "ok"
        case .success(.streamed(_, _?)), .success(.functionError): "error"
        case .failure(.crashed), .failure(.protocolViolation): "crash"
        case .failure(.timedOut): "timeout"
        case .failure(.initFailed), .failure(.spawnFailed): "init_failed"
        case .failure(.throttled): "throttled"
        case .failure: "error"
        }
    }

    struct Snapshot: Sendable {
        var totals: [String: FunctionTotals]
        var invocationCounts: [[String]: Double]
        var durations: [[String]: Histogram]
        var initDurations: [String: Histogram]
        var families: [FamilyKey: [String: Series]]
        var samples: [Sample]
        var metricSamples: [MetricSample]
        var recent: [Recent]
        var providers: [Provider]
        var router: Router?
        var spendToday: Double
        var emfRecords: Int
        var emfRejected: Int
    }

    func snapshot(nowMs: Int64 = Timestamps.nowMs()) -> Snapshot {
        process()
        let windowStart = nowMs - Int64(options.windowSeconds * 1000)
        return state.withLockedValue { s in
            Snapshot(totals: s.totals, invocationCounts: s.invocationCounts, durations: s.durations, initDurations: s.initDurations,
                     families: Self.families(s.series), samples: s.samples.filter { $0.atMs >= windowStart },
                     metricSamples: s.metricSamples.filter { $0.atMs >= windowStart }, recent: s.recent.reversed(),
                     providers: s.providers.values.sorted { ($0.kind, $0.name, $0.model) < ($1.kind, $1.name, $1.model) },
                     router: s.router, spendToday: s.spendByDay[Self.day(nowMs)] ?? 0, emfRecords: s.emfRecords, emfRejected: s.emfRejected)
        }
    }

    static func families(_ series: [SeriesID: Series]) -> [FamilyKey: [String: Series]] {
        var out: [FamilyKey: [String: Series]] = [:]
        for (id, s) in series { out[FamilyKey(name: id.name, unit: id.unit), default: [:]][id.labels] = s }
        return out
    }

    /// p50/p95/p99 per route over the window.
    package struct RouteLatency: Sendable, Encodable {
        package var route: String
        package var function: String
        package var count: Int
        package var errors: Int
        package var p50Ms: Double?
        package var p95Ms: Double?
        package var p99Ms: Double?

        enum CodingKeys: String, CodingKey {
            case route, function, count, errors, p50Ms = "p50_ms", p95Ms = "p95_ms", p99Ms = "p99_ms"
        }
    }

    static func routeLatencies(_ samples: [Sample]) -> [RouteLatency] {
        Dictionary(grouping: samples) { [$0.function, $0.route] }.map { key, group in
            let q = Quantiles.of(group.map(\.durationMs), [0.5, 0.95, 0.99])
            return RouteLatency(route: key[1], function: key[0], count: group.count, errors: group.filter(\.failed).count,
                                p50Ms: q[0], p95Ms: q[1], p99Ms: q[2])
        }.sorted { ($0.route, $0.function) < ($1.route, $1.function) }
    }
}
