import ArgumentParser
import DocumentStore
import Foundation
import SQLiteStore

/// Seeds a SQLite store for infra/bench/generate.sh: one org of `--chunks` chunks (100 per
/// document) under the model the generate function embeds queries with, so its search has a
/// full-size org to scan. Vectors are clustered random unit vectors (the scan's cost does not
/// depend on their values; embedding 100k passages with the real model would take an hour on
/// this machine). The text is Zipf-distributed words from a 20,000-word vocabulary (as the store
/// benchmark's), with one policy-like sentence in eight, so keyword search and the extractive
/// answer have real but selective matches, as in a real org's documents.
@main
struct GenerateBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate-bench", abstract: "Seed a large org for the generation benchmark.")

    @Option(help: "The SQLite file to create.")
    var path: String
    @Option(help: "The org to fill.")
    var org = "big"
    @Option(help: "Chunks in all.")
    var chunks = 100_000
    @Option(help: "Model id of the vectors.")
    var model = "sentence-transformers/all-MiniLM-L6-v2"
    @Option(help: "Vector dimension.")
    var dim = 384
    @Option(help: "Migrations folder.")
    var migrations = "infra/migrations"

    static let subjects = ["Employees", "Managers", "Contractors", "New staff", "Team leads", "Nhân viên", "Quản lý", "Trưởng phòng"]
    static let verbs = ["must submit", "may request", "should approve", "can claim", "need to file", "phải gửi", "được hưởng", "cần nộp"]
    static let objects = ["annual leave", "travel expenses", "hotel bookings", "overtime hours", "laptop replacements", "training budgets",
                          "remote work days", "parking permits", "nghỉ phép năm", "chi phí công tác", "đơn mua hàng", "lịch họp"]
    static let tails = ["through the HR portal", "within thirty days", "before the end of the quarter", "with receipts attached",
                        "after manager approval", "trước ba ngày", "qua cổng nhân sự", "kèm hóa đơn"]

    func run() throws {
        guard let org = OrgID(self.org) else { throw ValidationError("--org: not a valid org id (\(OrgID.rule))") }
        try? FileManager.default.removeItem(atPath: path)
        let store = try SQLiteStore(path: path, migrationsDirectory: migrations)
        try store.migrate()
        var rng = SplitMix(state: 42)
        let centers = (0..<200).map { _ in normalized((0..<dim).map { _ in Float.random(in: -1...1, using: &rng) }) }
        let syllables: [String] = ["an", "ba", "co", "du", "em", "fa", "gi", "ho", "in", "ky", "la", "mo", "nu", "ok", "pa", "qui", "ra", "so",
                         "tu", "vy", "xe", "lo", "mi", "ne", "tri", "thu", "ngo", "phu", "kha", "dri"]
        var vocabulary: [String] = []
        for i in 0..<20_000 {
            let third: String = i >= 900 ? syllables[(i / 900) % 30] : ""
            vocabulary.append(syllables[i % 30] + syllables[(i / 30) % 30] + third)
        }
        func sentence() -> String {
            func pick(_ a: [String]) -> String { a[Int(rng.next() % UInt64(a.count))] }
            if rng.next() % 8 == 0 {
                return "\(pick(Self.subjects)) \(pick(Self.verbs)) \(pick(Self.objects)) \(pick(Self.tails))."
            }
            var words: [String] = []
            let count = 8 + Int(rng.next() % 6)
            for _ in 0..<count {
                let u = Double(rng.next() % 1_000_000) / 1_000_000
                let index = min(vocabulary.count - 1, Int(pow(u, 3) * Double(vocabulary.count)))
                words.append(vocabulary[index])
            }
            let text = words.joined(separator: " ")
            return text.prefix(1).uppercased() + text.dropFirst() + "."
        }
        let started = Date()
        let perDoc = 100
        for d in 0..<max(1, chunks / perDoc) {
            let name = "policy-\(d)"
            let doc = try store.createDocument(NewDocument(orgId: org, title: "Policy \(d)", filename: name + ".txt", mimeType: "text/plain",
                                                           bytes: 1000, sha256: name, blobURI: "file:///" + name, metadata: [:]), job: nil).document
            let v = try store.createVersion(org: org, NewVersion(documentId: doc.id, embedModel: model, dim: dim, chunkSize: 256,
                                                                chunkOverlap: 32, chunkerVersion: "bench", sourceSha256: name))
            var new: [NewChunk] = []
            for i in 0..<perDoc {
                let text = (0..<4).map { _ in sentence() }.joined(separator: " ")
                let c = centers[Int(rng.next() % UInt64(centers.count))]
                let vector = normalized(c.map { $0 + Float.random(in: -0.35...0.35, using: &rng) / Float(dim).squareRoot() * 4 })
                new.append(NewChunk(index: i, content: text, contentSha256: "\(name)-\(i)", tokenCount: 60, charStart: i * 300,
                                    charEnd: i * 300 + text.count, vector: vector))
            }
            try store.insertChunks(org: org, versionId: v.id, new)
            _ = try store.publishVersion(org: org, id: v.id)
        }
        print(String(format: "seeded %d chunks for org %@ in %.1f s", chunks, org.rawValue, Date().timeIntervalSince(started)))
    }

    func normalized(_ v: [Float]) -> [Float] {
        let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / n }
    }
}

struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}
