/// Cuts text into the units the chunker packs, each a range of the original string that starts
/// and ends on a non-space character:
///
/// 1. paragraphs: runs of lines between blank lines;
/// 2. sentences: after `.` `!` `?` `…` (and `。` `！` `？` `‼` `⁉`, which need no space after them),
///    with closing quotes and brackets, followed by whitespace. Not after a known abbreviation
///    (`e.g.`, `Dr.`, `TP.`, `ThS.`), a single letter (initials), a number of up to three digits
///    (`1. Introduction`, `Điều 3.`), or before a lower-case letter;
/// 3. only for a sentence over the token limit: its lines, then clauses after `;`, then words,
///    and, for a single word over the limit (a URL, a base64 blob), runs of characters (whole
///    grapheme clusters, so never inside a Vietnamese letter or an emoji).
///
/// Sizes are *costs*: the token count, or a tenth of the length in Unicode scalars if that is
/// more (`cost(tokens:scalars:)`), so that text whose tokens are unusually long (a hex dump the
/// tokenizer reads as one `[UNK]`) still makes chunks of bounded length.
struct TextSegmenter {
    struct Segment {
        var range: Range<String.Index>
        /// The cost: at least the token count (see `cost(tokens:scalars:)`).
        var tokens: Int
    }

    /// A chunk of `chunkSize` tokens holds at most this many scalars per token.
    static let maxScalarsPerToken = 10

    static func cost(tokens: Int, scalars: Int) -> Int {
        max(tokens, (scalars + maxScalarsPerToken - 1) / maxScalarsPerToken)
    }

    /// The cost of a range of the text: one count of its tokens, one pass over its scalars.
    func cost(_ range: Range<String.Index>) -> Int {
        let s = slice(range)
        return Self.cost(tokens: counter.count(s), scalars: s.unicodeScalars.count)
    }

    struct Paragraph {
        var range: Range<String.Index>
        var pieces: [Segment]
        var tokens: Int
    }

    let text: String
    let limit: Int
    let counter: TokenCounter

    func paragraphs() -> [Paragraph] {
        paragraphRanges().map { range in
            var pieces: [Segment] = []
            for sentence in sentenceRanges(in: range) {
                appendFitting(sentence, level: .lines, into: &pieces)
            }
            return Paragraph(range: range, pieces: pieces, tokens: pieces.reduce(0) { $0 + $1.tokens })
        }
    }

    // MARK: Paragraphs

    /// Ranges of non-blank line runs, trimmed of surrounding whitespace.
    func paragraphRanges() -> [Range<String.Index>] {
        let scalars = text.unicodeScalars
        var result: [Range<String.Index>] = []
        var paragraphStart: String.Index?
        var lastNonSpaceEnd = scalars.startIndex
        var lineHasContent = false
        var i = scalars.startIndex
        while i < scalars.endIndex {
            let s = scalars[i]
            let next = scalars.index(after: i)
            if s == "\n" {
                if !lineHasContent, let start = paragraphStart {
                    result.append(start..<lastNonSpaceEnd)
                    paragraphStart = nil
                }
                lineHasContent = false
            } else if !Self.isSpace(s) {
                if paragraphStart == nil { paragraphStart = i }
                lineHasContent = true
                lastNonSpaceEnd = next
            }
            i = next
        }
        if let start = paragraphStart { result.append(start..<lastNonSpaceEnd) }
        return result
    }

    // MARK: Sentences

    /// `.` `!` `?` `…` `‼` `⁉` `⁇` `⁈`: end a sentence when whitespace follows.
    @inline(__always) static func isTerminator(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x2E, 0x21, 0x3F, 0x2026, 0x203C, 0x2047, 0x2048, 0x2049: true
        default: false
        }
    }

    /// `。` `！` `？` `．` (full width): end a sentence even without a following space.
    @inline(__always) static func isWideTerminator(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x3002, 0xFF01, 0xFF1F, 0xFF0E: true
        default: false
        }
    }

    /// Closing quotes and brackets (and markdown emphasis) that stay with the sentence before.
    @inline(__always) static func isCloser(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x22, 0x27, 0x29, 0x5D, 0x7D, 0x2A, 0x5F, 0x201D, 0x2019, 0xBB, 0x300D, 0x300F, 0xFF09, 0x3011: true
        default: false
        }
    }

    /// Lower-cased words that end with a dot without ending a sentence (English and Vietnamese).
    static let abbreviations: Set<String> = [
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "eg", "ie", "no", "fig", "figs",
        "inc", "ltd", "co", "corp", "dept", "approx", "est", "al", "cf", "vol", "pp", "p", "ch", "sec", "art", "ref",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "a.m", "p.m",
        "tp", "q", "ths", "ts", "gs", "pgs", "bs", "ks", "cn", "tt", "nxb", "tr", "đ", "ng", "hn", "hcm", "tp.hcm",
    ]

    /// Sentence ranges in a paragraph, trimmed.
    func sentenceRanges(in paragraph: Range<String.Index>) -> [Range<String.Index>] {
        let scalars = text.unicodeScalars
        var result: [Range<String.Index>] = []
        var start = paragraph.lowerBound
        var i = paragraph.lowerBound
        while i < paragraph.upperBound {
            let s = scalars[i]
            let wide = Self.isWideTerminator(s)
            guard wide || Self.isTerminator(s) else {
                scalars.formIndex(after: &i)
                continue
            }
            // The whole run of terminators and closing marks: "?!", "...", ".)", "。」".
            let terminatorStart = i
            var end = scalars.index(after: i)
            while end < paragraph.upperBound, Self.isTerminator(scalars[end]) || Self.isWideTerminator(scalars[end]) {
                scalars.formIndex(after: &end)
            }
            while end < paragraph.upperBound, Self.isCloser(scalars[end]) { scalars.formIndex(after: &end) }
            i = end
            if end == paragraph.upperBound { break }
            let followedBySpace = Self.isSpace(scalars[end])
            guard wide || followedBySpace else { continue }
            if !wide, !isSentenceEnd(terminator: terminatorStart, after: end, paragraphEnd: paragraph.upperBound, in: paragraph) { continue }
            result.append(start..<end)
            var next = end
            while next < paragraph.upperBound, Self.isSpace(scalars[next]) { scalars.formIndex(after: &next) }
            start = next
            i = next
        }
        if start < paragraph.upperBound { result.append(start..<paragraph.upperBound) }
        return result
    }

    /// Whether the terminator at `terminator` (followed by whitespace from `after`) ends a
    /// sentence: not after an abbreviation, an initial or a short number, not before lower case.
    private func isSentenceEnd(terminator: String.Index, after: String.Index, paragraphEnd: String.Index, in paragraph: Range<String.Index>) -> Bool {
        let scalars = text.unicodeScalars
        var next = after
        while next < paragraphEnd, Self.isSpace(scalars[next]) { scalars.formIndex(after: &next) }
        if next < paragraphEnd, scalars[next].properties.isLowercase { return false }
        guard scalars[terminator] == "." else { return true }
        // The word before the dot.
        var wordStart = terminator
        while wordStart > paragraph.lowerBound {
            let prev = scalars.index(before: wordStart)
            if Self.isSpace(scalars[prev]) || scalars[prev] == "(" || scalars[prev] == "\"" { break }
            wordStart = prev
        }
        let word = slice(wordStart..<terminator)
        if word.isEmpty { return true }
        let letters = word.unicodeScalars.filter { $0.properties.isAlphabetic }
        let digits = word.unicodeScalars.filter { $0.value &- 0x30 < 10 }
        if letters.count == 1 && digits.isEmpty && word.unicodeScalars.count == 1 { return false }  // "J. Smith"
        if letters.isEmpty, digits.count <= 3, digits.count == word.unicodeScalars.count { return false }  // "3. Scope"
        return !Self.abbreviations.contains(word.lowercased())
    }

    // MARK: Over-long sentences

    enum Level: Int, Comparable {
        case lines, clauses, words, characters
        static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    /// Appends `range` as one segment if it fits the limit, else its parts at `level` (and
    /// finer levels for parts that still do not fit).
    func appendFitting(_ range: Range<String.Index>, level: Level, into out: inout [Segment]) {
        let tokens = cost(range)
        if tokens <= limit {
            out.append(Segment(range: range, tokens: tokens))
            return
        }
        switch level {
        case .lines:
            let parts = split(range, after: { $0 == "\n" }, dropSeparator: true)
            if parts.count > 1 { return parts.forEach { appendFitting($0, level: .clauses, into: &out) } }
            appendFitting(range, level: .clauses, into: &out)
        case .clauses:
            let parts = split(range, after: { $0 == ";" || $0 == "\u{FF1B}" }, dropSeparator: false)
            if parts.count > 1 { return parts.forEach { appendFitting($0, level: .words, into: &out) } }
            appendFitting(range, level: .words, into: &out)
        case .words:
            let parts = split(range, after: { Self.isSpace($0) }, dropSeparator: true)
            if parts.count > 1 { return parts.forEach { appendFitting($0, level: .characters, into: &out) } }
            appendFitting(range, level: .characters, into: &out)
        case .characters:
            splitCharacters(range, into: &out)
        }
    }

    /// Parts of `range` ending where `isBoundary` holds (the boundary scalar dropped or kept
    /// with the part before it), each trimmed; only boundaries followed by whitespace count for
    /// kept separators (`;`), so `a;b` stays whole.
    private func split(_ range: Range<String.Index>, after isBoundary: (Unicode.Scalar) -> Bool, dropSeparator: Bool) -> [Range<String.Index>] {
        let scalars = text.unicodeScalars
        var parts: [Range<String.Index>] = []
        var start = range.lowerBound
        var i = range.lowerBound
        while i < range.upperBound {
            let s = scalars[i]
            let next = scalars.index(after: i)
            if isBoundary(s), dropSeparator || next == range.upperBound || Self.isSpace(scalars[next]) {
                let end = dropSeparator ? i : next
                if let trimmed = trim(start..<end) { parts.append(trimmed) }
                start = next
            }
            i = next
        }
        if let trimmed = trim(start..<range.upperBound) { parts.append(trimmed) }
        return parts
    }

    /// A word longer than the limit: the longest prefixes (in whole characters) that fit, found
    /// by probing `limit`, `2 * limit`, `4 * limit`... characters until one is over, then
    /// bisecting; so a piece costs a few counts of about its own length.
    private func splitCharacters(_ range: Range<String.Index>, into out: inout [Segment]) {
        var start = range.lowerBound
        while start < range.upperBound {
            let rest = slice(start..<range.upperBound)
            var boundaries: [String.Index] = []  // boundaries[n - 1]: the end of the first n characters
            var cursor = rest.startIndex
            func end(after n: Int) -> String.Index? {
                while boundaries.count < n {
                    guard cursor < rest.endIndex else { return nil }
                    rest.formIndex(after: &cursor)
                    boundaries.append(cursor)
                }
                return boundaries[n - 1]
            }
            func tokens(_ n: Int) -> Int { cost(start..<boundaries[n - 1]) }

            // Invariant: `good` characters fit (one always does), `bad` characters do not.
            var good = 1
            _ = end(after: 1)
            var goodTokens = tokens(1)
            var bad: Int?
            var probe = max(2, limit)
            while bad == nil {
                if end(after: probe) == nil {
                    let all = boundaries.count
                    if all > good {
                        let t = tokens(all)
                        if t <= limit { (good, goodTokens) = (all, t) } else { bad = all }
                    }
                    break
                }
                let t = tokens(probe)
                if t <= limit {
                    (good, goodTokens) = (probe, t)
                    probe *= 2
                } else {
                    bad = probe
                }
            }
            if var hi = bad {
                while hi - good > 1 {
                    let mid = (good + hi) / 2
                    let t = tokens(mid)
                    if t <= limit { (good, goodTokens) = (mid, t) } else { hi = mid }
                }
            }
            out.append(Segment(range: start..<boundaries[good - 1], tokens: goodTokens))
            start = boundaries[good - 1]
        }
    }

    /// Exactly the scalars of `range` (String's own subscript would round to characters).
    func slice(_ range: Range<String.Index>) -> Substring { Substring(text.unicodeScalars[range]) }

    private func trim(_ range: Range<String.Index>) -> Range<String.Index>? {
        let scalars = text.unicodeScalars
        var lo = range.lowerBound, hi = range.upperBound
        while lo < hi, Self.isSpace(scalars[lo]) { scalars.formIndex(after: &lo) }
        while hi > lo, Self.isSpace(scalars[scalars.index(before: hi)]) { scalars.formIndex(before: &hi) }
        return lo < hi ? lo..<hi : nil
    }

    @inline(__always) static func isSpace(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x80 ? (s == " " || s == "\n" || s == "\t" || s == "\r") : s.properties.isWhitespace
    }
}
