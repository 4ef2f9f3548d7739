import Foundation

/// The Redis the tests use: Debian's redis-server at `TEST_REDIS_URL` (set by scripts/test.sh),
/// else the one `infra/redis.sh start` runs. Tests keep apart by their keys (random texts).
package enum RedisTestServer {
    package struct Unavailable: Error, CustomStringConvertible { public let description: String }

    static let started: Result<String, Unavailable> = {
        let url = ProcessInfo.processInfo.environment["TEST_REDIS_URL"] ?? ""
        if !url.isEmpty { return .success(url) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [TestPaths.packageRoot + "/infra/redis.sh", "start"]
        p.currentDirectoryURL = URL(fileURLWithPath: TestPaths.packageRoot)
        let out = Pipe()
        p.standardOutput = out
        do { try p.run() } catch { return .failure(Unavailable(description: "cannot run infra/redis.sh: \(error)")) }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let started = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard p.terminationStatus == 0, !started.isEmpty else {
            return .failure(Unavailable(description: "infra/redis.sh start failed (\(p.terminationStatus)); is redis-server installed?"))
        }
        return .success(started)
    }()

    package static func url() throws -> String { try started.get() }
}
