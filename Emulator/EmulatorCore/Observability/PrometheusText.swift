/// `GET /metrics` in Prometheus's text exposition format (version 0.0.4): the emulator's own
/// per-invocation facts as `rag_*`, and every metric the functions wrote as EMF as `rag_fn_*`
/// (time units become histograms in seconds, counts counters, bytes byte counters, anything
/// else a summary of sum and count). Checked by `promtool check metrics` in the test command.
struct PrometheusText {
    private(set) var text = ""

    /// The queue and dead-letter figures, read from the async queue's folders.
    struct Queues {
        var pending = 0
        var queued = 0
        var deadLetters = 0
    }

    static func render(_ s: Telemetry.Snapshot, pools: [Invoker.PoolStats], queues: Queues, alerts: [AlertState]) -> String {
        var p = PrometheusText()
        p.family("rag_invocations_total", "counter", "Invocations the emulator ran, by function, what started them (route) and outcome.")
        for (k, v) in s.invocationCounts.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            p.sample("rag_invocations_total", [("function", k[0]), ("route", k[1]), ("outcome", k[2])], v)
        }
        p.family("rag_invocation_duration_seconds", "histogram", "Invocation time seen by the emulator (queueing, init on a cold start, and the handler).")
        for (k, h) in s.durations.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            p.histogram("rag_invocation_duration_seconds", [("function", k[0]), ("route", k[1])], h)
        }
        p.family("rag_init_duration_seconds", "histogram", "Cold starts: process start to ready.")
        for (f, h) in s.initDurations.sorted(by: { $0.key < $1.key }) { p.histogram("rag_init_duration_seconds", [("function", f)], h) }

        let functions = s.totals.sorted { $0.key < $1.key }
        p.family("rag_cold_starts_total", "counter", "Invocations that started a process.")
        for (f, t) in functions { p.sample("rag_cold_starts_total", [("function", f)], Double(t.coldStarts)) }
        p.family("rag_throttles_total", "counter", "Invocations refused at the function's concurrency limit (429).")
        for (f, t) in functions { p.sample("rag_throttles_total", [("function", f)], Double(t.throttles)) }
        p.family("rag_timeouts_total", "counter", "Invocations ended at the function's timeout.")
        for (f, t) in functions { p.sample("rag_timeouts_total", [("function", f)], Double(t.timeouts)) }
        p.family("rag_crashes_total", "counter", "Invocations whose process died or broke the protocol.")
        for (f, t) in functions { p.sample("rag_crashes_total", [("function", f)], Double(t.crashes)) }
        p.family("rag_max_memory_bytes", "gauge", "The largest peak resident memory of the function's processes.")
        for (f, t) in functions { if let mb = t.maxMemoryMB { p.sample("rag_max_memory_bytes", [("function", f)], Double(mb) * 1_048_576) } }

        p.family("rag_processes", "gauge", "Warm handler processes by state.")
        for pool in pools {
            p.sample("rag_processes", [("function", pool.function), ("state", "busy")], Double(max(0, pool.live - pool.idle)))
            p.sample("rag_processes", [("function", pool.function), ("state", "idle")], Double(pool.idle))
        }
        p.family("rag_queued_requests", "gauge", "Requests waiting for a busy function.")
        for pool in pools { p.sample("rag_queued_requests", [("function", pool.function)], Double(pool.queued)) }
        p.family("rag_async_events", "gauge", "Event invocations in the durable queue (queued) and being run (running).")
        p.sample("rag_async_events", [("state", "queued")], Double(queues.queued))
        p.sample("rag_async_events", [("state", "running")], Double(queues.pending))
        p.family("rag_dead_letters", "gauge", "Event invocations that failed every attempt, in the dead-letter folder.")
        p.sample("rag_dead_letters", [], Double(queues.deadLetters))

        p.family("rag_emf_records_total", "counter", "EMF records read from the functions' output, and lines that looked like EMF but were not valid.")
        p.sample("rag_emf_records_total", [("result", "accepted")], Double(s.emfRecords))
        p.sample("rag_emf_records_total", [("result", "rejected")], Double(s.emfRejected))

        p.family("rag_alert_firing", "gauge", "1 while the alert rule (config/alerts.yaml) is past its threshold, by severity.")
        for a in alerts { p.sample("rag_alert_firing", [("alert", a.name), ("severity", a.severity ?? "none")], a.state == "firing" ? 1 : 0) }
        p.family("rag_alert_value", "gauge", "The figure each alert rule compares with its thresholds (absent with no data).")
        for a in alerts { if let v = a.value, a.state != "no_data" { p.sample("rag_alert_value", [("alert", a.name)], v) } }

        for (key, series) in s.families.sorted(by: { ($0.key.name, $0.key.unit) < ($1.key.name, $1.key.unit) }) {
            let base = "rag_fn_" + snakeCase(key.name)
            let rows = series.values.sorted { $0.labels.map(\.1).lexicographicallyPrecedes($1.labels.map(\.1)) }
            let help = "\(key.name) (\(key.unit)) from the functions' EMF records."
            if Telemetry.seconds(1, unit: key.unit) != nil {
                p.family(base + "_seconds", "histogram", help)
                for r in rows { if let h = r.histogram { p.histogram(base + "_seconds", r.labels, h) } }
            } else if key.unit == "Count" {
                p.family(base + "_total", "counter", help)
                for r in rows { p.sample(base + "_total", r.labels, r.total) }
            } else if key.unit == "Bytes" {
                let name = (base.hasSuffix("_bytes") ? base : base + "_bytes") + "_total"
                p.family(name, "counter", help)
                for r in rows { p.sample(name, r.labels, r.total) }
            } else {
                p.family(base, "summary", help)
                for r in rows {
                    p.sample(base + "_sum", r.labels, r.total)
                    p.sample(base + "_count", r.labels, Double(r.count))
                }
            }
        }
        return p.text
    }

    mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{"
            text += labels.map { "\(Self.labelName($0.0))=\"\(Self.escape($0.1))\"" }.joined(separator: ",")
            text += "}"
        }
        text += " \(Self.number(value))\n"
    }

    mutating func histogram(_ name: String, _ labels: [(String, String)], _ h: Histogram) {
        var cumulative: UInt64 = 0
        for (i, bound) in Histogram.bounds.enumerated() {
            cumulative += h.counts[i]
            sample(name + "_bucket", labels + [("le", Self.number(bound))], Double(cumulative))
        }
        sample(name + "_bucket", labels + [("le", "+Inf")], Double(h.count))
        sample(name + "_sum", labels, h.sum)
        sample(name + "_count", labels, Double(h.count))
    }

    static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    /// Label names are `[a-zA-Z_][a-zA-Z0-9_]*`; EMF dimension names may hold anything.
    static func labelName(_ s: String) -> String {
        let cleaned = String(s.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") ? $0 : "_" })
        return cleaned.first?.isNumber == true || cleaned.isEmpty ? "_" + cleaned : cleaned
    }

    /// `EmbedTime` -> `embed_time`, `CostUSD` -> `cost_usd`.
    static func snakeCase(_ s: String) -> String {
        let chars = Array(s)
        var out = ""
        for (i, c) in chars.enumerated() {
            if c.isUppercase, i > 0 {
                let prev = chars[i - 1]
                let nextLower = i + 1 < chars.count && chars[i + 1].isLowercase
                if prev.isLowercase || prev.isNumber || (prev.isUppercase && nextLower) { out += "_" }
            }
            out += c.isASCII && (c.isLetter || c.isNumber) ? c.lowercased() : "_"
        }
        return out
    }
}
