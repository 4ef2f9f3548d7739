#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import CStdio
import EmbeddedMetrics
import Logging
import FunctionProtocol
import JSON

/// Runs a handler: picks the transport, performs the cold start, then serves invocations one at
/// a time until the transport ends (stdin EOF) or SIGTERM arrives between invocations.
public enum FunctionRuntime {
    public static func run<H: FunctionHandler>(_ type: H.Type) async {
        let started = ContinuousClock.now
        Termination.install()
        let environment = ProcessInfo.processInfo.environment
        let functionName = environment["AWS_LAMBDA_FUNCTION_NAME"]
            ?? CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? "function") } ?? "function"

        let transport: any Transport
        if let endpoint = environment["AWS_LAMBDA_RUNTIME_API"], !endpoint.isEmpty {
            // stdout is a log stream here: line by line, so a crash loses no buffered line.
            cstdio_line_buffer_stdout()
            do {
                transport = try LambdaRuntimeAPITransport(endpoint: endpoint, functionName: functionName)
            } catch {
                StandardError.write("cannot start the Lambda Runtime API transport: \(error)\n")
                exit(1)
            }
        } else {
            // Must come first: it takes stdout away before anything can print to it.
            transport = StdioTransport()
        }

        let level = JSONLogHandler.level(from: environment["LOG_LEVEL"])
        LoggingSystem.bootstrap { _ in JSONLogHandler(function: functionName, level: level) }
        let logger = Logger(label: functionName)

        let handler: H
        do {
            handler = try await H(context: InitializationContext(functionName: functionName, logger: logger, environment: environment))
        } catch {
            logger.error("init failed", metadata: ["error": "\(error)"])
            await transport.initError(errorPayload(error))
            exit(1)
        }
        await transport.ready(initMs: (ContinuousClock.now - started).milliseconds)

        let metricsOn = environment["RAG_METRICS"] != "off"
        do {
            var cold = true
            while let invocation = try await transport.next(H.Event.self) {
                await serve(invocation, handler: handler, transport: transport, logger: logger, cold: cold, metrics: metricsOn)
                cold = false
                Termination.endInvocation()
            }
        } catch {
            logger.critical("transport failed", metadata: ["error": "\(error)"])
            exit(1)
        }
        exit(0)
    }

    private static func serve<H: FunctionHandler>(
        _ invocation: Invocation<H.Event>, handler: H, transport: any Transport, logger base: Logger,
        cold: Bool = false, metrics metricsOn: Bool = false
    ) async {
        let meta = invocation.meta
        let started = ContinuousClock.now
        let metrics = InvocationMetrics(function: meta.functionName, requestId: meta.requestId)
        var failed = false
        var emitted = false
        // One record per invocation, written just before the answer: a reader of both pipes (the
        // emulator) then finds it with the answer in one wakeup instead of a second one after
        // (that second wakeup cost the emulator's 32-connection benchmark a third of its
        // throughput). The defer covers a path that never answers.
        func emitMetrics() {
            guard metricsOn, !emitted else { return }
            emitted = true
            var record = metrics.snapshot
            record.metric("Invocations", 1)
            record.metric("Duration", (ContinuousClock.now - started).milliseconds, unit: .milliseconds)
            record.metric("ColdStart", cold ? 1 : 0)
            record.metric("Errors", failed ? 1 : 0)
            MetricOutput.writeStandardError(record.bytes(timestampMs: Timestamps.nowMs()))
        }
        defer { emitMetrics() }
        var logger = base
        logger[metadataKey: "requestId"] = .string(meta.requestId)
        let starter = StreamStarter { prelude, box in try await transport.startStream(meta, prelude: prelude, cancel: box) }
        let context = InvocationContext(
            requestId: meta.requestId, deadlineMs: meta.deadlineMs, functionName: meta.functionName,
            invokedFunctionArn: meta.invokedFunctionArn, traceId: meta.traceId, logger: logger, asyncInvoker: transport,
            streamStarter: starter, metrics: metrics)
        do {
            switch invocation.event {
            case .success(let event):
                let output: H.Output
                do {
                    output = try await handler.handle(event, context: context)
                } catch {
                    failed = true
                    // Once a stream has started, the answer can only end early.
                    if let stream = starter.stream {
                        if case ResponseStreamError.clientDisconnected = error {
                            logger.info("the client disconnected; stream ended")
                        } else {
                            logger.error("invocation failed mid-stream", metadata: ["error": "\(error)"])
                        }
                        emitMetrics()
                        try await stream.fail(errorPayload(error))
                        return
                    }
                    logger.error("invocation failed", metadata: ["error": "\(error)"])
                    emitMetrics()
                    try await transport.fail(meta, error: errorPayload(error))
                    return
                }
                // A started stream is the answer; the returned value is not sent.
                if let stream = starter.stream {
                    emitMetrics()
                    try await stream.finish()
                    return
                }
                emitMetrics()
                try await transport.respond(meta, payload: output)
            case .failure(let payload):
                failed = true
                logger.warning("undecodable event", metadata: ["error": "\(payload.errorMessage)"])
                emitMetrics()
                try await transport.fail(meta, error: payload)
            }
        } catch {
            logger.error("could not answer the invocation", metadata: ["error": "\(error)"])
        }
    }

    static func errorPayload(_ error: any Error) -> ErrorPayload {
        if let payload = error as? ErrorPayload { return payload }
        return ErrorPayload(errorType: String(describing: type(of: error)), errorMessage: String(describing: error))
    }
}

