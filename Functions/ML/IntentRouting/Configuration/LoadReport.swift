/// What one load of the catalog cost, phase by phase: the first at init, then each reload. For
/// the stats and the handler's log line, and to see where a slow reload went.
package struct LoadReport: Sendable, Hashable, Codable, CustomStringConvertible {
    package var totalMilliseconds: Double = 0
    /// `stat`, read and hash the three files (and read the seed vector file when it changed).
    package var readMilliseconds: Double = 0
    /// YAML and validation.
    package var parseMilliseconds: Double = 0
    /// The seed matrix: planning rows, copying known vectors, embedding the rest (`embedMilliseconds`).
    package var seedsMilliseconds: Double = 0
    package var embedMilliseconds: Double = 0
    /// Rules, lexical index, fusion weights.
    package var indexMilliseconds: Double = 0
    package var embeddedTexts = 0
    package var reusedRows = 0
    package var fileRows = 0
    package var seedRows = 0
    /// What became of the seed vector file at this load (nil when none is configured).
    package var seedVectorFile: String?

    package init() {}

    package var description: String {
        func f(_ x: Double) -> String { Fixed2.format(x) }
        var s = "\(f(totalMilliseconds)) ms (read \(f(readMilliseconds)), parse \(f(parseMilliseconds)), "
            + "seeds \(f(seedsMilliseconds)) of which embedding \(f(embedMilliseconds)), index \(f(indexMilliseconds))); "
            + "\(seedRows) seed rows: \(embeddedTexts) texts embedded, \(reusedRows) rows reused, \(fileRows) from the seed vector file"
        if let seedVectorFile { s += "; seed vector file: \(seedVectorFile)" }
        return s
    }

    enum CodingKeys: String, CodingKey {
        case totalMilliseconds = "total_ms", readMilliseconds = "read_ms", parseMilliseconds = "parse_ms"
        case seedsMilliseconds = "seeds_ms", embedMilliseconds = "embed_ms", indexMilliseconds = "index_ms"
        case embeddedTexts = "embedded_texts", reusedRows = "reused_rows", fileRows = "file_rows", seedRows = "seed_rows"
        case seedVectorFile = "seed_vector_file"
    }
}
