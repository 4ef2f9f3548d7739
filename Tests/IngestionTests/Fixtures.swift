import Embeddings
import Foundation
import Ingestion
import TestSupport

/// The real all-MiniLM-L6-v2 tokenizer (the model folder `scripts/model.sh` fills).
enum Tokenizer {
    static let bert: BertTokenizer = {
        var dir = EmbeddingModelDirectory.resolve()
        if !dir.hasPrefix("/") { dir = (TestPaths.packageRoot as NSString).appendingPathComponent(dir) }
        let path = (dir as NSString).appendingPathComponent("vocab.txt")
        guard let data = FileManager.default.contents(atPath: path), let tokenizer = try? BertTokenizer(vocabTxt: [UInt8](data)) else {
            fatalError("IngestionTests need the MiniLM vocabulary at \(path): run scripts/model.sh")
        }
        return tokenizer
    }()

    /// Tokens of a text without [CLS]/[SEP], as the worker will count them.
    static let counter = TokenCounter { bert.encode(String($0)).untruncatedCount - 2 }

    static func count(_ text: some StringProtocol) -> Int { bert.encode(String(text)).untruncatedCount - 2 }
}

/// Small real PDFs written by hand with a correct cross-reference table.
enum PDFFixture {
    /// One page per element of `pages`, each line drawn with Helvetica (ASCII text).
    static func text(_ pages: [[String]]) -> [UInt8] {
        var objects: [String] = []
        let pageIds = pages.indices.map { 4 + 2 * $0 }
        objects.append("<< /Type /Catalog /Pages 2 0 R >>")
        objects.append("<< /Type /Pages /Kids [\(pageIds.map { "\($0) 0 R" }.joined(separator: " "))] /Count \(pages.count) >>")
        objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        for (k, lines) in pages.enumerated() {
            var stream = "BT /F1 12 Tf 72 720 Td 16 TL\n"
            for line in lines { stream += "(\(escape(line))) Tj T*\n" }
            stream += "ET"
            objects.append("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents \(pageIds[k] + 1) 0 R /Resources << /Font << /F1 3 0 R >> >> >>")
            objects.append("<< /Length \(stream.utf8.count) >>\nstream\n\(stream)\nendstream")
        }
        return assemble(objects)
    }

    /// A page with a 1x1 grey image and a filled rectangle: nothing to extract.
    static func imageOnly() -> [UInt8] {
        let content = "q 100 0 0 100 72 600 cm /Im1 Do Q 0 0 1 rg 72 400 100 100 re f"
        return assemble([
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /XObject << /Im1 5 0 R >> >> >>",
            "<< /Length \(content.utf8.count) >>\nstream\n\(content)\nendstream",
            "<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length 1 >>\nstream\n\u{7F}\nendstream",
        ])
    }

    /// A PDF encrypted with the standard security handler (RC4 40-bit, revision 2) and the
    /// user password `secret`; its page says "Hello PDF world. Second sentence here.".
    /// Made with a 60-line Python script (MD5 + RC4 per PDF 1.4 §3.5); no tool here writes one.
    static let encrypted: [UInt8] = [UInt8](Data(base64Encoded: """
        JVBERi0xLjQKMSAwIG9iago8PCAvVHlwZSAvQ2F0YWxvZyAvUGFnZXMgMiAwIFIgPj4KZW5kb2JqCjIgMCBvYmoKPDwgL1R5cGUg\
        L1BhZ2VzIC9LaWRzIFszIDAgUl0gL0NvdW50IDEgPj4KZW5kb2JqCjMgMCBvYmoKPDwgL1R5cGUgL1BhZ2UgL1BhcmVudCAyIDAg\
        UiAvTWVkaWFCb3ggWzAgMCA2MTIgNzkyXSAvQ29udGVudHMgNCAwIFIgL1Jlc291cmNlcyA8PCAvRm9udCA8PCAvRjEgNSAwIFIg\
        Pj4gPj4gPj4KZW5kb2JqCjQgMCBvYmoKPDwgL0xlbmd0aCA2OSA+PgpzdHJlYW0KgLog49OIEkW89M/ChPLSOe67qOMSvxNTcrVp\
        Qyze+ppjbO7xVmcHwiFyBLn/3BXuSu88KT3Swxfj0dGUo/Nio20lKrmsCmVuZHN0cmVhbQplbmRvYmoKNSAwIG9iago8PCAvVHlw\
        ZSAvRm9udCAvU3VidHlwZSAvVHlwZTEgL0Jhc2VGb250IC9IZWx2ZXRpY2EgPj4KZW5kb2JqCjYgMCBvYmoKPDwgL0ZpbHRlciAv\
        U3RhbmRhcmQgL1YgMSAvUiAyIC9PIDw5MmZlMGY0NDU0YWQ0Yzk2NDQ2OTNmMzNjMDdjYjU0ZjU4N2RjZTFlMjY4MmZlOWVjZWE2\
        MTA3YTFlZjYzMGRkPiAvVSA8ODEyZTcxMjQxZTNjNjRjODUwYzQwOWUzNDZmNWZjYjUyYzg4NDUzYTY5YTBhYWU3MWQ5NWFmZWIy\
        OGI3ZDQ1Yz4gL1AgLTQ0ID4+CmVuZG9iagp4cmVmCjAgNwowMDAwMDAwMDAwIDY1NTM1IGYgCjAwMDAwMDAwMDkgMDAwMDAgbiAK\
        MDAwMDAwMDA1OCAwMDAwMCBuIAowMDAwMDAwMTE1IDAwMDAwIG4gCjAwMDAwMDAyNDEgMDAwMDAgbiAKMDAwMDAwMDM2MCAwMDAw\
        MCBuIAowMDAwMDAwNDMwIDAwMDAwIG4gCnRyYWlsZXIKPDwgL1NpemUgNyAvUm9vdCAxIDAgUiAvRW5jcnlwdCA2IDAgUiAvSUQg\
        WzwzMDMxMzIzMzM0MzUzNjM3MzgzOTYxNjI2MzY0NjU2Nj48MzAzMTMyMzMzNDM1MzYzNzM4Mzk2MTYyNjM2NDY1NjY+XSA+Pgpz\
        dGFydHhyZWYKNjI2CiUlRU9GCg==
        """)!)

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "(", with: "\\(").replacingOccurrences(of: ")", with: "\\)")
    }

    /// Header, numbered objects, xref with the byte offset of each, trailer.
    private static func assemble(_ objects: [String]) -> [UInt8] {
        var out: [UInt8] = Array("%PDF-1.4\n%\u{E2}\u{E3}\u{CF}\u{D3}\n".utf8)
        var offsets: [Int] = []
        for (k, body) in objects.enumerated() {
            offsets.append(out.count)
            out += Array("\(k + 1) 0 obj\n".utf8) + Array(body.utf8) + Array("\nendobj\n".utf8)
        }
        let xref = out.count
        var table = "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        for o in offsets { table += String(repeating: "0", count: 10 - String(o).count) + "\(o) 00000 n \n" }
        table += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        return out + Array(table.utf8)
    }
}

/// Deterministic prose for chunking tests: paragraphs of varied length from a fixed pool of
/// sentences, chosen by a linear congruential generator.
enum Prose {
    static let sentences = [
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
    static func paragraphs(_ count: Int, sentences range: ClosedRange<Int> = 2...7, seed: UInt64 = 42) -> [String] {
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
    static let thousandWords: String = {
        var words = 0
        var out: [String] = []
        for p in paragraphs(60) where words < 1000 {
            out.append(p)
            words += p.split(separator: " ").count
        }
        return out.joined(separator: "\n\n")
    }()

    static func document(_ count: Int, sentences range: ClosedRange<Int> = 2...7, seed: UInt64 = 42) -> String {
        paragraphs(count, sentences: range, seed: seed).joined(separator: "\n\n")
    }
}

extension String {
    /// Unicode scalars `start..<end` by plain array indexing: an independent check of offsets.
    func scalars(_ start: Int, _ end: Int) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: Array(unicodeScalars)[start..<end])
        return String(view)
    }

    /// Exact equality of scalars (Swift's `==` treats NFC and NFD as equal).
    func sameScalars(_ other: some StringProtocol) -> Bool { unicodeScalars.elementsEqual(other.unicodeScalars) }
}
