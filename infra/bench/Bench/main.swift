import ArgumentParser
import Foundation
import FunctionProtocol
import JSON
import LambdaEvents

/// Benchmarks of the function protocol itself, run by infra/bench/run.sh on a release build:
/// the floor (an NDJSON round trip straight through a warm handler's pipes) and cold start.
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Protocol-level benchmarks of a handler executable.", subcommands: [Pipe.self, Cold.self])

    struct Pipe: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Round trips through a warm handler's stdin/stdout (the floor).")
        @Option var binary: String
        @Option var path = "/healthz"
        @Option var requests = 20000
        @Option var warmup = 2000

        func run() throws {
            let h = try Handler(binary: binary)
            _ = try h.readLine()  // ready
            let frame = try invokeFrame(path: path)
            var samples: [Double] = []
            samples.reserveCapacity(requests)
            for i in 0..<(warmup + requests) {
                let t0 = now()
                try h.write(frame)
                let line = try h.readLine()
                let t1 = now()
                if i == 0, !line.contains("\"type\":\"response\"") { throw ValidationError("unexpected answer: \(line.prefix(200))") }
                if i >= warmup { samples.append(t1 - t0) }
            }
            h.close()
            samples.sort()
            print(String(format: "floor_p50_us=%.1f floor_p99_us=%.1f floor_mean_us=%.1f n=%d",
                         pct(samples, 0.50), pct(samples, 0.99), samples.reduce(0, +) / Double(samples.count), samples.count))
        }
    }

    struct Cold: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Spawn to ready, and spawn to first response.")
        @Option var binary: String
        @Option var path = "/healthz"
        @Option var runs = 50

        func run() throws {
            let frame = try invokeFrame(path: path)
            var ready: [Double] = [], first: [Double] = []
            for _ in 0..<runs {
                let t0 = now()
                let h = try Handler(binary: binary)
                let r = try h.readLine()
                let t1 = now()
                guard r.contains("\"type\":\"ready\"") else { throw ValidationError("no ready frame: \(r)") }
                try h.write(frame)
                _ = try h.readLine()
                let t2 = now()
                h.close()
                ready.append(t1 - t0)
                first.append(t2 - t0)
            }
            ready.sort()
            first.sort()
            print(String(format: "cold_ready_p50_ms=%.2f cold_first_response_p50_ms=%.2f cold_first_response_p90_ms=%.2f runs=%d",
                         pct(ready, 0.5) / 1000, pct(first, 0.5) / 1000, pct(first, 0.9) / 1000, runs))
        }
    }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1e6 + Double(ts.tv_nsec) / 1e3
}

func pct(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

/// The same invoke frame the emulator sends for `GET path`.
func invokeFrame(path: String) throws -> Data {
    let now = Timestamps.nowMs()
    let event = APIGatewayV2Request(
        routeKey: "GET \(path)", rawPath: path,
        headers: ["host": "127.0.0.1:3000", "user-agent": "bench", "accept": "*/*"],
        requestContext: .init(http: .init(method: "GET", path: path, userAgent: "bench"), requestId: "bench",
                              routeKey: "GET \(path)", time: Timestamps.clf(now), timeEpoch: now))
    return try FrameCodec.line(
        InvokeFrame(requestId: "bench-request", deadlineMs: now + 3_600_000, functionName: "health",
                    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:health", traceId: nil, event: event),
        encoder: FrameCodec.encoder())
}

/// A handler process with raw blocking pipe I/O (no buffering layers between us and the pipe).
final class Handler {
    let process = Process()
    let stdinHandle: FileHandle
    let stdoutHandle: FileHandle
    var stdinFD: Int32 { stdinHandle.fileDescriptor }
    var stdoutFD: Int32 { stdoutHandle.fileDescriptor }
    var buffer = [UInt8]()

    init(binary: String) throws {
        let inPipe = Foundation.Pipe(), outPipe = Foundation.Pipe()
        process.executableURL = URL(fileURLWithPath: binary)
        process.standardInput = inPipe
        process.standardOutput = outPipe
        process.standardError = FileHandle.nullDevice
        var env = ProcessInfo.processInfo.environment
        env["AWS_LAMBDA_RUNTIME_API"] = nil
        process.environment = env
        try process.run()
        // The handles own the descriptors; closing through them avoids double closes.
        stdinHandle = inPipe.fileHandleForWriting
        stdoutHandle = outPipe.fileHandleForReading
    }

    func write(_ data: Data) throws {
        try data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Foundation.write(stdinFD, raw.baseAddress! + off, raw.count - off)
                if n <= 0 { throw ValidationError("write failed") }
                off += n
            }
        }
    }

    func readLine() throws -> String {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            let n = Foundation.read(stdoutFD, &chunk, chunk.count)
            if n <= 0 { throw ValidationError("handler closed its stdout") }
            buffer.append(contentsOf: chunk[..<n])
        }
    }

    func close() {
        try? stdinHandle.close()
        process.waitUntilExit()
        try? stdoutHandle.close()
    }
}
