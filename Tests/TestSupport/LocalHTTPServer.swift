import Hummingbird
import Logging

/// The one launcher for the tests' fake servers (LLM providers, embedding servers, the Lambda
/// Runtime API): serves `router` with Hummingbird on 127.0.0.1 at a free port while `body` runs,
/// hands `body` the port, and stops the server when `body` returns or throws.
package func serveLocally<T: Sendable>(_ router: Router<BasicRequestContext>, label: String,
                                      _ body: @Sendable (_ port: Int) async throws -> T) async throws -> T {
    let (ports, portContinuation) = AsyncStream<Int>.makeStream()
    var logger = Logger(label: label)
    logger.logLevel = .critical
    let app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
        onServerRunning: { channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
            portContinuation.finish()
        },
        logger: logger)
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await app.run()
            return nil
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            group.cancelAll()
            throw LocalHTTPServerError(label: label)
        }
        defer { group.cancelAll() }
        return try await body(port)
    }
}

package struct LocalHTTPServerError: Error, CustomStringConvertible {
    package var label: String
    package var description: String { "the fake server \(label) did not start" }
}
