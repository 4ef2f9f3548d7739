/// Changes whenever the chunking rules change, so stored versions built by older rules can be
/// found and re-chunked (`doc_versions.chunker_version`).
package let chunkerVersion = Chunker.version

/// Chunk size and overlap, in tokens of the chunker's counter, validated.
package struct ChunkerConfiguration: Sendable, Equatable, Hashable, Codable {
    package static let chunkSizeRange = 32...1000
    package static let defaultChunkSize = 200
    package static let defaultOverlap = 40
    package static let `default` = ChunkerConfiguration(unchecked: defaultChunkSize, defaultOverlap)

    /// The most tokens a chunk has, overlap included.
    package let chunkSize: Int
    /// How many tokens at the end of a chunk are repeated at the start of the next (at most).
    package let overlap: Int

    /// Throws unless `chunkSize` is in 32...1000 and `0 <= overlap < chunkSize / 2`.
    package init(chunkSize: Int = ChunkerConfiguration.defaultChunkSize, overlap: Int = ChunkerConfiguration.defaultOverlap) throws(ChunkerConfigurationError) {
        guard Self.chunkSizeRange.contains(chunkSize) else { throw .chunkSizeOutOfRange(chunkSize, allowed: Self.chunkSizeRange) }
        guard overlap >= 0, overlap * 2 < chunkSize else { throw .overlapOutOfRange(overlap: overlap, chunkSize: chunkSize) }
        self.init(unchecked: chunkSize, overlap)
    }

    private init(unchecked chunkSize: Int, _ overlap: Int) {
        self.chunkSize = chunkSize
        self.overlap = overlap
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(chunkSize: c.decode(Int.self, forKey: .chunkSize), overlap: c.decode(Int.self, forKey: .overlap))
    }
}

/// An invalid chunk size or overlap (a 400/422 for a re-embed request that asks for it).
package enum ChunkerConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case chunkSizeOutOfRange(Int, allowed: ClosedRange<Int>)
    case overlapOutOfRange(overlap: Int, chunkSize: Int)

    package var description: String {
        switch self {
        case .chunkSizeOutOfRange(let size, let allowed):
            "chunk size \(size) is out of range: it must be between \(allowed.lowerBound) and \(allowed.upperBound) tokens"
        case .overlapOutOfRange(let overlap, let size):
            "chunk overlap \(overlap) is out of range: it must be at least 0 and less than half the chunk size (\(size))"
        }
    }
}

/// Token-aware chunking of extracted text (`ExtractedText.text`).
///
/// Rules (`para-sent-v1`):
/// - the text is cut into paragraphs (blank lines), sentences, and only for a sentence over the
///   limit into lines, `;` clauses, words, and as a last resort characters (`TextSegmenter`);
///   a chunk never starts or ends inside a word unless one word alone is over the limit;
/// - pieces are packed in order while the chunk stays within `chunkSize` tokens. A chunk that
///   is at least half full ends at a paragraph end rather than take only part of the next
///   paragraph, and also ends after an *anchor* paragraph (one whose FNV-1a hash is 0 mod 3),
///   but never right after a heading-like line. Anchors make boundaries depend on local content,
///   so an edit in one paragraph changes only the chunks near it: after the next anchor the
///   chunking is the same as before the edit, and so are the hashes (vectors are reused);
/// - each chunk after the first starts with the previous chunk's trailing whole sentences that
///   fit `overlap` tokens (trailing words if not even one sentence fits);
/// - tokens are counted once per sentence and summed while packing; every finished chunk is
///   then counted whole (the recorded `tokenCount`) and, if that is over `chunkSize` (a
///   tokenizer whose counts do not add up over whitespace), its overlap and then its last
///   pieces are dropped until it fits. Every chunk is within `chunkSize` by the counter;
/// - a chunk is also at most `10 * chunkSize` Unicode scalars long: a piece costs its tokens or
///   a tenth of its length, whichever is more. Prose is never near that (about 4 to 5 scalars a
///   token); it bounds chunks of text a tokenizer reads as few tokens (long `[UNK]` words).
///
/// The cost is one count per sentence plus one per chunk: about two passes of the tokenizer.
package struct Chunker: Sendable {
    /// Stored with each version as `chunker_version`.
    package static let version = "para-sent-v1"

    package let configuration: ChunkerConfiguration
    package let counter: TokenCounter

    package init(configuration: ChunkerConfiguration = .default, tokenCounter: TokenCounter) {
        self.configuration = configuration
        counter = tokenCounter
    }

    package var chunkSize: Int { configuration.chunkSize }
    package var overlap: Int { configuration.overlap }

    private struct Piece {
        var range: Range<String.Index>
        var tokens: Int
        var paragraph: Int
        var endsParagraph: Bool
    }

    /// The chunks of `text`, in order; none for text without content.
    package func chunk(_ text: String) -> [TextChunk] {
        let limit = configuration.chunkSize
        let segmenter = TextSegmenter(text: text, limit: limit, counter: counter)
        let paragraphs = segmenter.paragraphs()
        var pieces: [Piece] = []
        for (p, paragraph) in paragraphs.enumerated() {
            for (k, segment) in paragraph.pieces.enumerated() {
                pieces.append(Piece(range: segment.range, tokens: segment.tokens, paragraph: p, endsParagraph: k == paragraph.pieces.count - 1))
            }
        }
        guard !pieces.isEmpty else { return [] }

        var anchors: [Bool?] = Array(repeating: nil, count: paragraphs.count)
        func isAnchor(_ p: Int) -> Bool {
            if let known = anchors[p] { return known }
            let value = Self.fnv1a(text.unicodeScalars[paragraphs[p].range]) % 3 == 0
            anchors[p] = value
            return value
        }
        func isHeadingLike(_ p: Int) -> Bool {
            let paragraph = paragraphs[p]
            guard paragraph.tokens <= 24 else { return false }
            let scalars = text.unicodeScalars[paragraph.range]
            if scalars.contains("\n") { return false }
            guard let last = scalars.last else { return false }
            return !(TextSegmenter.isTerminator(last) || TextSegmenter.isWideTerminator(last))
        }

        var chunks: [TextChunk] = []
        var offsets = ScalarOffsets(text)
        var i = 0
        var previous: ClosedRange<Int>?
        while i < pieces.count {
            var overlapStart: String.Index?
            var overlapTokens = 0
            if let previous, configuration.overlap > 0 {
                var budget = configuration.overlap
                if pieces[i].tokens + budget > limit { budget = limit - pieces[i].tokens }
                if let tail = overlapTail(segmenter, pieces: pieces, within: previous, budget: budget) {
                    (overlapStart, overlapTokens) = (tail.start, tail.tokens)
                }
            }
            var total = overlapTokens + pieces[i].tokens
            var j = i
            while j + 1 < pieces.count {
                let next = pieces[j + 1]
                if total + next.tokens > limit { break }
                let current = pieces[j]
                if current.endsParagraph, total * 2 >= limit, !isHeadingLike(current.paragraph) {
                    if isAnchor(current.paragraph) { break }
                    if paragraphs[next.paragraph].tokens > limit - total { break }
                }
                j += 1
                total += next.tokens
            }

            // Count the chunk whole; trim it if the sum of its parts was optimistic.
            var start = overlapStart ?? pieces[i].range.lowerBound
            var end = pieces[j].range.upperBound
            var real = counter.count(Substring(text.unicodeScalars[start..<end]))
            func cost() -> Int { TextSegmenter.cost(tokens: real, scalars: text.unicodeScalars.distance(from: start, to: end)) }
            while cost() > limit {
                if overlapStart != nil {
                    overlapStart = nil
                    start = pieces[i].range.lowerBound
                } else if j > i {
                    j -= 1
                    end = pieces[j].range.upperBound
                } else {
                    break  // one piece, counted alone when it was cut: cannot happen
                }
                real = counter.count(Substring(text.unicodeScalars[start..<end]))
            }
            let body = String(Substring(text.unicodeScalars[start..<end]))
            let (charStart, charEnd) = offsets.offsets(of: start..<end)
            chunks.append(TextChunk(index: chunks.count, text: body, charStart: charStart, charEnd: charEnd, tokenCount: real))
            previous = i...j
            i = j + 1
        }
        return chunks
    }

    /// The start of the overlap taken from the pieces of the previous chunk: its trailing whole
    /// pieces within `budget` tokens, else the trailing words of its last piece that fit.
    private func overlapTail(_ segmenter: TextSegmenter, pieces: [Piece], within previous: ClosedRange<Int>, budget: Int) -> (start: String.Index, tokens: Int)? {
        let text = segmenter.text
        guard budget > 0 else { return nil }
        var tokens = 0
        var start: String.Index?
        var k = previous.upperBound
        while k >= previous.lowerBound, tokens + pieces[k].tokens <= budget {
            tokens += pieces[k].tokens
            start = pieces[k].range.lowerBound
            k -= 1
        }
        if let start { return (start, tokens) }
        // Not even the last sentence fits: its trailing words.
        let last = pieces[previous.upperBound].range
        let scalars = text.unicodeScalars
        var wordStarts: [String.Index] = []
        var i = last.lowerBound
        var previousWasSpace = false
        while i < last.upperBound {
            let isSpace = TextSegmenter.isSpace(scalars[i])
            if previousWasSpace, !isSpace { wordStarts.append(i) }
            previousWasSpace = isSpace
            scalars.formIndex(after: &i)
        }
        // The leftmost word start whose suffix fits (suffix counts shrink to the right).
        var lo = 0, hi = wordStarts.count - 1
        var best: (String.Index, Int)?
        while lo <= hi {
            let mid = (lo + hi) / 2
            let t = segmenter.cost(wordStarts[mid]..<last.upperBound)
            if t <= budget {
                best = (wordStarts[mid], t)
                hi = mid - 1
            } else {
                lo = mid + 1
            }
        }
        guard let best, best.1 > 0 else { return nil }
        return (best.0, best.1)
    }

    /// FNV-1a (64-bit) of the scalars' UTF-8: a stable, platform-independent paragraph hash.
    static func fnv1a(_ scalars: Substring.UnicodeScalarView) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in Substring(scalars).utf8 {
            h ^= UInt64(byte)
            h = h &* 0x100_0000_01b3
        }
        return h
    }
}

/// Unicode scalar offsets of increasing string indices, counted incrementally (each call walks
/// only from the previous position), so offsets for all chunks cost one pass over the text.
struct ScalarOffsets {
    let text: String
    private var startCursor: (index: String.Index, offset: Int)
    private var endCursor: (index: String.Index, offset: Int)

    init(_ text: String) {
        self.text = text
        startCursor = (text.startIndex, 0)
        endCursor = (text.startIndex, 0)
    }

    mutating func offsets(of range: Range<String.Index>) -> (Int, Int) {
        (advance(&startCursor, to: range.lowerBound), advance(&endCursor, to: range.upperBound))
    }

    private func advance(_ cursor: inout (index: String.Index, offset: Int), to target: String.Index) -> Int {
        let scalars = text.unicodeScalars
        let distance = scalars.distance(from: cursor.index, to: target)
        cursor = (target, cursor.offset + distance)
        return cursor.offset
    }
}
