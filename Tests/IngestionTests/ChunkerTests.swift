import TestSupport
import Synchronization
import Foundation
import Ingestion
import Testing

@Suite("Chunking")
struct ChunkerTests {
    let chunker = Chunker(tokenCounter: Tokenizer.counter)

    /// The invariants every chunking must satisfy, checked with the real tokenizer.
    func checkInvariants(_ chunks: [TextChunk], of text: String, size: Int = 200, wholeWords: Bool = true,
                         sourceLocation: SourceLocation = #_sourceLocation) {
        let scalars = Array(text.unicodeScalars)
        var previousStart = -1, previousEnd = -1
        for (k, chunk) in chunks.enumerated() {
            #expect(chunk.index == k, sourceLocation: sourceLocation)
            // Within the limit by a fresh count of the whole chunk, and the count recorded.
            let real = Tokenizer.count(chunk.text)
            #expect(real <= size, "chunk \(k) has \(real) tokens", sourceLocation: sourceLocation)
            #expect(chunk.tokenCount == real, sourceLocation: sourceLocation)
            #expect(chunk.charEnd - chunk.charStart <= size * 10, "chunk \(k) is too long", sourceLocation: sourceLocation)
            // Offsets map back to exactly the chunk text (scalar offsets).
            #expect(scalars[chunk.charStart..<chunk.charEnd].elementsEqual(chunk.text.unicodeScalars), "chunk \(k) offsets", sourceLocation: sourceLocation)
            #expect(chunk.source(in: text).map { $0.unicodeScalars.elementsEqual(chunk.text.unicodeScalars) } == true, sourceLocation: sourceLocation)
            #expect(chunk.contentSha256 == SHA256.hex(chunk.text), sourceLocation: sourceLocation)
            // Moving forward, every chunk adding new text.
            #expect(chunk.charStart > previousStart && chunk.charEnd > previousEnd, sourceLocation: sourceLocation)
            (previousStart, previousEnd) = (chunk.charStart, chunk.charEnd)
            // No cut inside a word, and no whitespace at either end.
            #expect(!(chunk.text.first?.isWhitespace ?? true) && !(chunk.text.last?.isWhitespace ?? true), sourceLocation: sourceLocation)
            if wholeWords {
                if chunk.charStart > 0 { #expect(scalars[chunk.charStart - 1].properties.isWhitespace, "chunk \(k) starts mid-word", sourceLocation: sourceLocation) }
                if chunk.charEnd < scalars.count { #expect(scalars[chunk.charEnd].properties.isWhitespace, "chunk \(k) ends mid-word", sourceLocation: sourceLocation) }
            }
        }
        // Together the chunks cover all the text but whitespace.
        if let first = chunks.first, let last = chunks.last {
            #expect(scalars[..<first.charStart].allSatisfy { $0.properties.isWhitespace }, sourceLocation: sourceLocation)
            #expect(scalars[last.charEnd...].allSatisfy { $0.properties.isWhitespace }, sourceLocation: sourceLocation)
            for (a, b) in zip(chunks, chunks.dropFirst()) {
                #expect(b.charStart <= a.charEnd || scalars[a.charEnd..<b.charStart].allSatisfy { $0.properties.isWhitespace }, sourceLocation: sourceLocation)
            }
        }
    }

    // MARK: Configuration

    @Test func configurationBounds() throws {
        #expect(ChunkerConfiguration.default.chunkSize == 200)
        #expect(ChunkerConfiguration.default.overlap == 40)
        #expect(try ChunkerConfiguration(chunkSize: 32, overlap: 15).chunkSize == 32)
        #expect(try ChunkerConfiguration(chunkSize: 1000, overlap: 499).overlap == 499)
        #expect(try ChunkerConfiguration(chunkSize: 200, overlap: 0).overlap == 0)
        #expect(throws: ChunkerConfigurationError.chunkSizeOutOfRange(31, allowed: 32...1000)) { try ChunkerConfiguration(chunkSize: 31, overlap: 0) }
        #expect(throws: ChunkerConfigurationError.chunkSizeOutOfRange(1001, allowed: 32...1000)) { try ChunkerConfiguration(chunkSize: 1001, overlap: 0) }
        #expect(throws: ChunkerConfigurationError.overlapOutOfRange(overlap: 100, chunkSize: 200)) { try ChunkerConfiguration(chunkSize: 200, overlap: 100) }
        #expect(throws: ChunkerConfigurationError.overlapOutOfRange(overlap: -1, chunkSize: 200)) { try ChunkerConfiguration(chunkSize: 200, overlap: -1) }
        #expect(ChunkerConfigurationError.overlapOutOfRange(overlap: 100, chunkSize: 200).description.contains("less than half"))
        let decoded = try JSONDecoder().decode(ChunkerConfiguration.self, from: Data(#"{"chunkSize":300,"overlap":50}"#.utf8))
        #expect(decoded.chunkSize == 300 && decoded.overlap == 50)
        #expect(throws: (any Error).self) { try JSONDecoder().decode(ChunkerConfiguration.self, from: Data(#"{"chunkSize":5,"overlap":1}"#.utf8)) }
        #expect(Chunker.version == "para-sent-v1")
        #expect(chunkerVersion == Chunker.version)
    }

    // MARK: Bounds, offsets, overlap

    @Test func thousandWordDocument() {
        let text = Prose.thousandWords
        let words = text.split(whereSeparator: \.isWhitespace).count
        #expect((1000...1150).contains(words))
        let chunks = chunker.chunk(text)
        checkInvariants(chunks, of: text)
        #expect(chunks.count >= 7)
        // Chunks are reasonably full: the anchors and paragraph ends cost little.
        let mean = Double(chunks.dropLast().map(\.tokenCount).reduce(0, +)) / Double(chunks.count - 1)
        #expect(mean >= 120, "mean \(mean)")
    }

    @Test func overlapIsTrailingWholeSentencesWithinBudget() {
        let text = Prose.document(24)
        let chunks = chunker.chunk(text)
        for (a, b) in zip(chunks, chunks.dropFirst()) {
            #expect(b.charStart < a.charEnd, "chunk \(b.index) does not overlap chunk \(a.index)")
            let shared = text.scalars(b.charStart, a.charEnd)
            #expect(Tokenizer.count(shared) <= 40)
            #expect(Tokenizer.count(shared) > 0)
            // The repeated part starts a sentence (after a terminator) and ends the previous chunk.
            #expect(a.text.hasSuffix(shared))
            #expect(b.text.hasPrefix(shared))
            let before = text.scalars(0, b.charStart).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(before.last.map { ".!?".contains($0) } == true, "overlap of chunk \(b.index) starts mid-sentence")
        }
    }

    @Test func noOverlapWhenConfiguredOff() throws {
        let text = Prose.document(12)
        let chunks = Chunker(configuration: try ChunkerConfiguration(chunkSize: 100, overlap: 0), tokenCounter: Tokenizer.counter).chunk(text)
        checkInvariants(chunks, of: text, size: 100)
        for (a, b) in zip(chunks, chunks.dropFirst()) { #expect(b.charStart > a.charEnd) }
    }

    @Test func everySizeInRange() throws {
        let text = Prose.document(10)
        for (size, overlap) in [(32, 0), (32, 15), (64, 20), (128, 40), (500, 100), (1000, 499)] {
            let c = Chunker(configuration: try ChunkerConfiguration(chunkSize: size, overlap: overlap), tokenCounter: Tokenizer.counter)
            checkInvariants(c.chunk(text), of: text, size: size)
        }
    }

    // MARK: Splitting rules

    @Test func paragraphsFirst() {
        // Paragraphs of 110-150 tokens: each chunk is (overlap +) exactly one paragraph.
        var paragraphs: [String] = []
        var k = 5
        while paragraphs.count < 12 {
            var p = ""
            while Tokenizer.count(p) < 110 {
                p += (p.isEmpty ? "" : " ") + Prose.sentences[k % Prose.sentences.count]
                k += 7
            }
            if Tokenizer.count(p) <= 150 { paragraphs.append(p) }
        }
        #expect(paragraphs.allSatisfy { (110...150).contains(Tokenizer.count($0)) })
        let text = paragraphs.joined(separator: "\n\n")
        let chunks = chunker.chunk(text)
        checkInvariants(chunks, of: text)
        #expect(chunks.count == paragraphs.count)
        for (chunk, paragraph) in zip(chunks, paragraphs) {
            #expect(chunk.text.hasSuffix(paragraph))
        }
    }

    @Test func longParagraphSplitsBetweenSentences() {
        let text = Prose.paragraphs(1, sentences: 40...40, seed: 3)[0]
        #expect(Tokenizer.count(text) > 600)
        let chunks = chunker.chunk(text)
        checkInvariants(chunks, of: text)
        for chunk in chunks { #expect(chunk.text.last.map { ".!?".contains($0) } == true, "\(chunk.text.suffix(30))") }
    }

    @Test func sentenceRulesKeepAbbreviationsAndNumbers() {
        // Tiny chunks so that every sentence boundary is a chunk boundary candidate.
        let c = Chunker(configuration: try! ChunkerConfiguration(chunkSize: 32, overlap: 0), tokenCounter: Tokenizer.counter)
        let text = "Dr. Smith met Mr. Nguyen at 10 a.m. on Monday with the team. 1. Scope of the review is wide. The U.S. office agreed, e.g. on budgets and dates. Version 3.14 ships soon! Is it ready? Yes… mostly. Then the end."
        let chunks = c.chunk(text)
        checkInvariants(chunks, of: text, size: 32)
        for chunk in chunks {
            #expect(!chunk.text.hasSuffix("Dr.") && !chunk.text.hasSuffix("Mr.") && !chunk.text.hasSuffix("U.S.") && !chunk.text.hasSuffix("e.g."))
            #expect(!chunk.text.hasSuffix(" 1."))
            #expect(!chunk.text.hasSuffix("3.") && !chunk.text.hasPrefix("14"))
        }
    }

    @Test func oversizedSentenceSplitsAtWordsNeverMidWord() throws {
        let words = (0..<600).map { "word\($0 % 37)alpha" }
        let text = words.joined(separator: " ")  // one "sentence" of ~1800 tokens, no punctuation
        let chunks = chunker.chunk(text)
        checkInvariants(chunks, of: text)
        let rebuilt = Set(chunks.flatMap { $0.text.split(separator: " ").map(String.init) })
        #expect(rebuilt.isSubset(of: Set(words)))
    }

    @Test func semicolonsBeforeWords() throws {
        let clause = "the lease expires and the worker retries with backoff while the queue keeps the order of jobs"
        let text = Array(repeating: clause, count: 12).joined(separator: "; ") + "."
        let c = Chunker(configuration: try ChunkerConfiguration(chunkSize: 64, overlap: 0), tokenCounter: Tokenizer.counter)
        let chunks = c.chunk(text)
        checkInvariants(chunks, of: text, size: 64)
        for chunk in chunks.dropLast() { #expect(chunk.text.hasSuffix(";"), "\(chunk.text.suffix(20))") }
    }

    @Test func overlongWordSplitsByCharactersAsALastResort() {
        let url = "https://example.com/" + (0..<400).map { "seg\($0)" }.joined(separator: "/")
        #expect(Tokenizer.count(url) > 200)
        let text = "See the link: \(url) for details."
        let chunks = chunker.chunk(text)
        checkInvariants(chunks, of: text, wholeWords: false)
        #expect(chunks.count >= 5)
    }

    @Test func textOfFewLongTokensIsBoundedInLength() {
        // Hex without separators: BERT reads each 100+ character run as a single [UNK].
        let hex = (0..<6000).map { String(format: "%02x", ($0 &* 37) & 0xFF) }.joined()
        let text = "Dump follows: \(hex) end of dump."
        #expect(Tokenizer.count(text) < 20)
        let chunks = chunker.chunk(text)
        checkInvariants(chunks, of: text, wholeWords: false)
        #expect(chunks.count >= 6)
        #expect(chunks.allSatisfy { $0.text.unicodeScalars.count <= 2000 })
    }

    @Test func cjkAndVietnameseSentences() {
        let cjk = String(repeating: "这是一个测试句子。我们需要把它分成几块！真的吗？", count: 20)
        let c = Chunker(configuration: try! ChunkerConfiguration(chunkSize: 64, overlap: 10), tokenCounter: Tokenizer.counter)
        let chunks = c.chunk(cjk)
        checkInvariants(chunks, of: cjk, size: 64, wholeWords: false)
        for chunk in chunks { #expect(chunk.text.last.map { "。！？".contains($0) } == true) }
    }

    // MARK: Vietnamese and normal forms

    static let vietnamese = """
        Chính sách nghỉ phép năm 2024 áp dụng cho toàn bộ nhân viên chính thức của công ty. Mỗi nhân viên được hưởng mười hai ngày nghỉ phép có lương mỗi năm. Số ngày nghỉ chưa dùng hết sẽ được chuyển sang quý một của năm sau.

        Để đăng ký nghỉ phép, nhân viên cần gửi đơn qua cổng thông tin nội bộ ít nhất ba ngày làm việc trước ngày nghỉ. Trưởng bộ phận sẽ xem xét và phê duyệt trong vòng hai ngày! Nếu đơn bị từ chối, nhân viên sẽ nhận được thông báo kèm lý do cụ thể.

        Trường hợp nghỉ ốm, nhân viên cần nộp giấy xác nhận của cơ sở y tế… Giấy tờ phải được nộp cho phòng nhân sự trong vòng năm ngày kể từ ngày đi làm lại. Bạn có câu hỏi không? Hãy liên hệ phòng nhân sự qua email hoặc điện thoại.

        Ngoài ra, công ty hỗ trợ nghỉ thai sản theo quy định của Bộ luật Lao động. Nhân viên nữ được nghỉ sáu tháng, nhân viên nam được nghỉ năm ngày khi vợ sinh con. Mọi thắc mắc xin gửi về TP. Hồ Chí Minh, Q. 1, đường Lê Lợi số 12.
        """

    @Test func vietnameseNFCAndNFDGiveTheSameChunks() throws {
        let nfc = Self.vietnamese.precomposedStringWithCanonicalMapping
        let nfd = Self.vietnamese.decomposedStringWithCanonicalMapping
        #expect(!nfc.unicodeScalars.elementsEqual(nfd.unicodeScalars))
        let format = DocumentFormat(type: .plainText)
        let a = try TextExtractor.extractText(Array(nfc.utf8), format: format)
        let b = try TextExtractor.extractText(Array(nfd.utf8), format: format)
        #expect(a.text.unicodeScalars.elementsEqual(b.text.unicodeScalars))
        let c = Chunker(configuration: try ChunkerConfiguration(chunkSize: 64, overlap: 16), tokenCounter: Tokenizer.counter)
        let chunksA = c.chunk(a.text), chunksB = c.chunk(b.text)
        checkInvariants(chunksA, of: a.text, size: 64)
        #expect(chunksA.count >= 4)
        #expect(chunksA.map(\.contentSha256) == chunksB.map(\.contentSha256))
        #expect(chunksA.map(\.charStart) == chunksB.map(\.charStart))
        // "TP." and "Q." are abbreviations, not sentence ends.
        #expect(!chunksA.contains { $0.text.hasSuffix("TP.") || $0.text.hasSuffix("Q.") })
    }

    @Test func crlfAndBOMInputGiveTheSameChunksAsClean() throws {
        let clean = Prose.document(6)
        let messy: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(clean.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        let format = DocumentFormat(type: .plainText)
        let a = try TextExtractor.extractText(Array(clean.utf8), format: format)
        let b = try TextExtractor.extractText(messy, format: format)
        #expect(chunker.chunk(a.text) == chunker.chunk(b.text))
    }

    // MARK: Stability

    @Test func deterministic() {
        let text = Prose.document(24)
        let first = chunker.chunk(text)
        let second = Chunker(tokenCounter: Tokenizer.counter).chunk(text)
        #expect(first == second)
        #expect(Set(first.map(\.contentSha256)).count == first.count)
    }

    @Test func oneChangedParagraphChangesOnlyTheChunksAroundIt() {
        var worst = 0
        for seed in [1, 2, 3, 4, 5] as [UInt64] {
            let paragraphs = Prose.paragraphs(40, sentences: 1...6, seed: seed)
            let before = Set(chunker.chunk(paragraphs.joined(separator: "\n\n")).map(\.contentSha256))
            for position in [3, 13, 20, 31] {
                // A word changed.
                var reworded = paragraphs
                reworded[position] = reworded[position].replacingOccurrences(of: "the", with: "a")
                // A sentence added (the paragraph grows by ~12 tokens).
                var grown = paragraphs
                grown[position] += " This sentence was added in the second revision of the document."
                // A paragraph inserted, and one removed.
                var inserted = paragraphs
                inserted.insert("A brand new paragraph. It says something nobody said before, at some length.", at: position)
                var removed = paragraphs
                removed.remove(at: position)
                for (name, edited) in [("reworded", reworded), ("grown", grown), ("inserted", inserted), ("removed", removed)] {
                    let after = chunker.chunk(edited.joined(separator: "\n\n")).map(\.contentSha256)
                    let changed = after.filter { !before.contains($0) }.count
                    #expect(after.count > 15)
                    #expect(changed <= 4, "seed \(seed), paragraph \(position) \(name): \(changed) of \(after.count) chunks changed")
                    worst = max(worst, changed)
                }
            }
        }
        print("locality: at most \(worst) chunks changed per edit")
    }

    @Test func randomTextsKeepTheInvariants() throws {
        // Words, scripts, marks, emoji, punctuation, line and paragraph breaks, long runs.
        let units = [
            "a", "the", "worker", "chào", "Việt", "nghỉ", "e\u{301}", "👍🏽", "日本語", "테스트", "Dr.", "1.", "3.14", "U.S.",
            " ", " ", " ", " ", " ", " ", "  ", "\n", "\n\n", "\n \n", ".", ". ", "! ", "? ", "… ", "; ", "。", "！", ",", "\"", ")",
            "https://example.com/a/b?c=d", String(repeating: "x", count: 150), String(repeating: "ab/", count: 120),
        ]
        var state: UInt64 = 2024
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % n
        }
        let configurations = [(32, 0), (32, 15), (50, 10), (200, 40), (120, 59)]
        for round in 0..<12 {
            let length = 20 + next(800)
            let raw = (0..<length).map { _ in units[next(units.count)] }.joined()
            let text = TextNormalizer.normalize(raw)
            let (size, overlap) = configurations[round % configurations.count]
            let c = Chunker(configuration: try ChunkerConfiguration(chunkSize: size, overlap: overlap), tokenCounter: Tokenizer.counter)
            let chunks = c.chunk(text)
            checkInvariants(chunks, of: text, size: size, wholeWords: false)
            #expect(chunks.isEmpty == text.isEmpty)
            #expect(c.chunk(text) == chunks)
        }
    }

    // MARK: Helpers and edge cases

    @Test func emptyAndTinyTexts() {
        #expect(chunker.chunk("").isEmpty)
        #expect(chunker.chunk(" \n\n \n").isEmpty)
        let one = chunker.chunk("Hello.")
        #expect(one.count == 1)
        #expect(one[0] == TextChunk(index: 0, text: "Hello.", charStart: 0, charEnd: 6, tokenCount: 2))
        #expect(one[0].contentSha256 == SHA256.hex("Hello."))
        let padded = chunker.chunk("\n\n   Hello world.   \n")
        #expect(padded.map(\.text) == ["Hello world."])
        #expect(padded[0].charStart == 5)
    }

    @Test func offsetsAreUnicodeScalarOffsets() {
        // "é" as e + combining acute (2 scalars, 1 Character), an emoji with a modifier, CJK.
        let text = "Cafe\u{301} 👍🏽 ok. 日本語のテキスト。\n\nSecond paragraph here."
        let chunks = Chunker(configuration: try! ChunkerConfiguration(chunkSize: 32, overlap: 0), tokenCounter: Tokenizer.counter).chunk(text)
        checkInvariants(chunks, of: text, size: 32, wholeWords: false)
        #expect(chunks.last?.charEnd == text.unicodeScalars.count)
        #expect(text.unicodeScalars.count != text.count)
    }

    @Test func embeddingTextPrefixesTheTitle() {
        let chunk = TextChunk(index: 0, text: "Employees get 20 days.", charStart: 0, charEnd: 22, tokenCount: 5)
        #expect(chunk.embeddingText(title: "Leave policy") == "Leave policy\n\nEmployees get 20 days.")
        #expect(chunk.embeddingText(title: "  Leave \n policy ") == "Leave policy\n\nEmployees get 20 days.")
        #expect(chunk.embeddingText(title: nil) == chunk.text)
        #expect(chunk.embeddingText(title: "  ") == chunk.text)
        let titled = TextChunk(index: 0, text: "Leave policy\n\n# Rules", charStart: 0, charEnd: 21, tokenCount: 4)
        #expect(titled.embeddingText(title: "Leave policy") == titled.text)
        #expect(chunk.contentSha256 == SHA256.hex("Employees get 20 days."), "the title is not part of the stored hash")
    }

    @Test func estimateCounterForRemoteModels() {
        let text = Prose.document(10)
        let estimate = TokenCounter.estimate
        #expect(estimate.count(text) >= Tokenizer.count(text))
        #expect(estimate.count("") == 0)
        #expect(estimate.count("Tiếng Việt có dấu") >= 4)
        let chunks = Chunker(tokenCounter: estimate).chunk(text)
        for chunk in chunks { #expect(chunk.tokenCount <= 200 && chunk.tokenCount == estimate.count(chunk.text)) }
    }

    /// Cost without a clock: the chunker tokenizes each sentence once and each finished chunk
    /// once, so the text it hands the tokenizer stays a small multiple of the document, never
    /// the whole document per chunk (quadratic). Speed itself is for benchmarks, not unit tests.
    @Test func tokenizesAboutLinearly() {
        let text = Prose.thousandWords
        let counted = Mutex(0)
        let counting = TokenCounter { piece in
            counted.withLock { $0 += piece.unicodeScalars.count }
            return Tokenizer.counter.count(piece)
        }
        let chunks = Chunker(tokenCounter: counting).chunk(text)
        let total = counted.withLock { $0 }
        #expect(chunks.count > 3)
        #expect(total <= text.unicodeScalars.count * 4, "\(total) scalars tokenized for a \(text.unicodeScalars.count)-scalar text")
    }
}
