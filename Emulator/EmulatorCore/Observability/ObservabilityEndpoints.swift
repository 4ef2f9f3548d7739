import Foundation
import JSON
import LambdaEvents
import NIOCore

/// The emulator's observability endpoints: `GET /metrics` (Prometheus), `GET /__emulator/state`
/// (what the dashboard polls), the dashboard page itself, dead-letter replay, and development
/// tokens for the dashboard's per-org view.
extension Gateway {
    var telemetry: Telemetry { invoker.log.telemetry }

    func metricsResponse() -> Response {
        let snapshot = telemetry.snapshot()
        let counts = invoker.asyncQueue?.counts ?? (queued: 0, deadLetters: 0)
        let text = PrometheusText.render(snapshot, pools: invoker.stats,
                                         queues: .init(pending: invoker.asyncQueue?.pending ?? 0, queued: counts.queued, deadLetters: counts.deadLetters),
                                         alerts: telemetry.evaluateAlerts(snapshot))
        return Response(status: 200, headers: [("content-type", "text/plain; version=0.0.4; charset=utf-8")], body: Array(text.utf8))
    }

    /// `GET /__emulator/state`: everything the dashboard shows, in one read.
    struct DashboardState: Encodable {
        struct Function: Encodable {
            var function: String
            var live: Int
            var idle: Int
            var busy: Int
            var queued: Int
            var totals: Telemetry.FunctionTotals

            enum CodingKeys: String, CodingKey { case function, live, idle, busy, queued }

            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(function, forKey: .function)
                try c.encode(live, forKey: .live)
                try c.encode(idle, forKey: .idle)
                try c.encode(busy, forKey: .busy)
                try c.encode(queued, forKey: .queued)
                try totals.encode(to: encoder)
            }
        }

        struct Async: Encodable {
            var pending: Int
            var queued: [Entry]
            var deadLetters: [Entry]
            enum CodingKeys: String, CodingKey { case pending, queued, deadLetters = "dead_letters" }
        }

        struct Entry: Encodable {
            var id: String
            var function: String
            var source: String
            var attempts: Int
            var enqueuedAt: String
            var errors: [AsyncInvocationQueue.Entry.Attempt]
            enum CodingKeys: String, CodingKey { case id, function, source, attempts, enqueuedAt = "enqueued_at", errors }

            init(_ e: AsyncInvocationQueue.Entry) {
                (id, function, source, attempts, enqueuedAt, errors) = (e.id, e.function, e.source, e.attempts, e.enqueuedAt, e.errors)
            }
        }

        var now: String
        var clock: String?
        var startedAt: String
        var windowMinutes: Double
        var functions: [Function]
        var routes: [Telemetry.RouteLatency]
        var recent: [Telemetry.Recent]
        var schedules: [CronEmulator.RuleStatus]
        var async: Async
        var providers: [Telemetry.Provider]
        var alerts: [AlertState]
        var router: Telemetry.Router?
        var spendTodayUSD: Double
        var dailyBudgetUSD: Double

        enum CodingKeys: String, CodingKey {
            case now, clock, startedAt = "started_at", windowMinutes = "window_minutes", functions, routes, recent, schedules, async
            case providers, alerts, router, spendTodayUSD = "spend_today_usd", dailyBudgetUSD = "daily_budget_usd"
        }
    }

    func stateResponse() -> Response {
        let s = telemetry.snapshot()
        let pools = Dictionary(uniqueKeysWithValues: invoker.stats.map { ($0.function, $0) })
        // Every function of the template, warm or not, so the table does not jump as pools appear.
        let functions = invoker.template.functions.map(\.logicalId).sorted().map { name in
            let p = pools[name]
            return DashboardState.Function(function: name, live: p?.live ?? 0, idle: p?.idle ?? 0, busy: max(0, (p?.live ?? 0) - (p?.idle ?? 0)),
                                           queued: p?.queued ?? 0, totals: s.totals[name] ?? Telemetry.FunctionTotals())
        }
        let queue = invoker.asyncQueue
        let state = DashboardState(
            now: Timestamps.iso8601Millis(Timestamps.nowMs()), clock: schedules.map { CronEmulator.format($0.clock.now()) },
            startedAt: Timestamps.iso8601Millis(telemetry.startedAtMs), windowMinutes: telemetry.options.windowSeconds / 60,
            functions: functions, routes: Telemetry.routeLatencies(s.samples), recent: s.recent, schedules: schedules?.status ?? [],
            async: .init(pending: queue?.pending ?? 0, queued: (queue?.queuedEntries ?? []).map(DashboardState.Entry.init),
                         deadLetters: (queue?.deadLetters ?? []).map(DashboardState.Entry.init)),
            providers: s.providers, alerts: telemetry.evaluateAlerts(s), router: s.router, spendTodayUSD: s.spendToday,
            dailyBudgetUSD: telemetry.alerts.dailyBudgetUSD)
        return Self.json(state)
    }

    func dashboardResponse() -> Response {
        Response(status: 200, headers: [("content-type", "text/html; charset=utf-8"), ("cache-control", "no-cache")], body: Array(DashboardPage.html.utf8))
    }

    func replayResponse(_ id: String, requestId: String) -> Response {
        guard let queue = invoker.asyncQueue else {
            return Self.error(.notFound("No durable async queue (start the emulator with --async-dir)."), requestId: requestId)
        }
        do {
            guard let fresh = try queue.replay(id) else { return Self.error(.notFound("No dead letter \(id)."), requestId: requestId) }
            return Self.json(["id": fresh, "replayed": id], status: 202)
        } catch {
            return Self.error(.internalError("Cannot requeue \(id): \(error)"), requestId: requestId)
        }
    }

    func tokenResponse(_ request: HTTPEventMapping.IncomingRequest, requestId: String, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        guard let devTokens else {
            return eventLoop.makeSucceededFuture(Self.error(APIError(status: 403, code: "forbidden",
                message: "Development tokens are served only when the emulator listens on a loopback address."), requestId: requestId))
        }
        let org = URLComponents(string: "http://x" + request.rawPath + "?" + request.rawQuery)?.queryItems?.first { $0.name == "org" }?.value ?? ""
        guard !org.isEmpty, org.utf8.count <= 128 else {
            return eventLoop.makeSucceededFuture(Self.error(.unprocessable("`org` (1-128 characters) is required: /__emulator/token?org=acme."), requestId: requestId))
        }
        return eventLoop.makeFutureWithTask {
            do { return Self.json(["token": try await devTokens.token(org: .string(org), sub: "dashboard")]) } catch {
                return Self.error(.internalError("Cannot mint a token: \(error)"), requestId: requestId)
            }
        }
    }
}
