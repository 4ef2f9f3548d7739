import ArgumentParser
import EmulatorCore
import Foundation
import Stores

/// `migrate`: applies the store's pending migrations (functions also do at start) and prints
/// where the schema stands. A tool of its own, so that the emulator links no store: it knows
/// functions only through the template.
@main
struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the store's pending migrations (functions also do at start) and print where the schema stands.")

    @Option(help: "The database (default: DATABASE_URL as the template's functions see it: template < .env < shell).")
    var databaseURL: String?

    @Option(help: "The SAM template.")
    var template = "infra/template.yaml"

    @Option(help: "A .env file layered over the template's Environment (default: ./.env when there is one).")
    var envFile: String?

    @Flag(help: "Only print the status; apply nothing.")
    var status = false

    func run() throws {
        var url = databaseURL
        if url == nil {
            let t = try Template.load(path: template)
            let layers = EnvironmentLayers(envFile: try readEnvFile())
            url = t.functions.lazy.compactMap { layers.resolved(for: $0, taskRoot: ".")["DATABASE_URL"] }.first
        }
        guard let url, !url.isEmpty else { throw ValidationError("No DATABASE_URL: pass --database-url or set it in the template or .env.") }
        let store = try Stores.open(url: url, migrate: !status)
        let s = try store.migrationStatus()
        print("\(Stores.redacted(url)) (\(store.kind)): applied \(s.applied.joined(separator: ", ")); pending \(s.pending.isEmpty ? "none" : s.pending.joined(separator: ", "))")
        if !s.isCurrent { throw ExitCode(1) }
    }

    func readEnvFile() throws -> [String: String] {
        let path = envFile ?? ".env"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            if envFile != nil { throw ValidationError("Cannot read --env-file \(path).") }
            return [:]
        }
        return try EnvironmentLayers.parseEnvFile(text)
    }
}
