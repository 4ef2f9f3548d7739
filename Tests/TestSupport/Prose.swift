import Foundation

/// Deterministic prose for chunking tests: paragraphs of varied length from a fixed pool of
/// sentences, chosen by a linear congruential generator.
package enum Prose {
    package static let sentences = [
        "The ingestion service accepts documents over HTTP and queues them for processing.",
        "Every upload is stored durably before the API answers, so nothing accepted is ever lost.",
        "A worker claims jobs with a lease and retries failures with exponential backoff.",
        "Re-embedding builds a new version beside the old one and switches atomically when it is ready.",
        "Search reads only ready versions, which means it never sees half a document.",
        "Chunks whose content hash is unchanged keep their vectors, saving most of the embedding cost.",
        "Vietnamese and English users share the same index, with diacritic folding for keyword search.",
        "Operators can watch job durations, queue depth and embedding throughput on one dashboard.",
        "The nightly scan finds documents built with an older model or chunker and queues them again.",
        "Quotas limit how many documents and characters each organisation may ingest per day.",
        "Large files are refused early, and unknown binary formats are rejected with a clear message.",
        "Why does this matter? Because users expect search results to reflect the latest upload!",
        "Dr. Nguyen reviewed the design on Monday, e.g. the retry policy and the lease timeout.",
        "Each chunk records its token count, its character offsets and a SHA-256 of its text.",
        "The title of the document is prepended to the text that is embedded, not to the stored chunk.",
        "Tables, lists and headings in HTML become lines of text that still read naturally.",
        "PDF files are converted with pdftotext, which must be installed on the machine running the worker.",
        "Encrypted or scanned PDFs fail with an explanation instead of producing empty chunks.",
        "A paragraph that is too long is split between sentences, and never in the middle of a word.",
        "Overlap repeats the last sentences of a chunk at the start of the next one, so context carries over.",
        "Latency budgets are tight: chunking must cost far less than embedding the same text.",
        "The emulator runs every handler locally, so the whole pipeline can be tested on a laptop.",
        "Postgres with pgvector serves larger deployments, while SQLite covers the embedded case.",
        "Idempotency keys stop the same upload from creating two jobs when a client retries.",
    ]

    /// `count` paragraphs of `minSentences...maxSentences` sentences each.
    package static func paragraphs(_ count: Int, sentences range: ClosedRange<Int> = 2...7, seed: UInt64 = 42) -> [String] {
        var state = seed
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        return (0..<count).map { _ in
            let n = range.lowerBound + next() % (range.count)
            return (0..<n).map { _ in sentences[next() % sentences.count] }.joined(separator: " ")
        }
    }

    /// Whole paragraphs up to just over 1,000 words.
    package static let thousandWords: String = {
        var words = 0
        var out: [String] = []
        for p in paragraphs(60) where words < 1000 {
            out.append(p)
            words += p.split(separator: " ").count
        }
        return out.joined(separator: "\n\n")
    }()

    package static func document(_ count: Int, sentences range: ClosedRange<Int> = 2...7, seed: UInt64 = 42) -> String {
        paragraphs(count, sentences: range, seed: seed).joined(separator: "\n\n")
    }
}
