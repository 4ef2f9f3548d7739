import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// `emulator start-api`: the HTTP front over warm pools, with graceful shutdown on SIGINT/SIGTERM
/// (stop accepting, drain in-flight invocations, end the handler processes).
public struct EmulatorServer: Sendable {
    public var host: String
    public var port: Int
    public var gatewayTimeout: Duration
    public let invoker: Invoker

    public init(host: String = "127.0.0.1", port: Int = 3000, gatewayTimeout: Duration = .seconds(30), invoker: Invoker) {
        self.host = host
        self.port = port
        self.gatewayTimeout = gatewayTimeout
        self.invoker = invoker
    }

    public func run() async throws {
        let routes = try RouteTable(functions: invoker.template.functions)
        let log = invoker.log
        var logger = Logger(label: "emulator")
        logger.logLevel = log.verbosity >= .debug ? .debug : .warning
        let app = Application(
            responder: Gateway(routes: routes, invoker: invoker, gatewayTimeout: gatewayTimeout),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                log.emulator("listening on http://\(host):\(bound)")
                for r in routes.routes {
                    log.emulator("  \(r.event.routeKey.padding(toLength: 40, withPad: " ", startingAt: 0)) -> \(r.function.logicalId)")
                }
            },
            logger: logger)
        let reaper = Task { await invoker.runReaper() }
        defer { reaper.cancel() }
        let group = ServiceGroup(configuration: .init(
            services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        log.emulator("draining done; stopping handler processes")
        await invoker.shutdown()
        log.emulator("stopped")
    }
}
