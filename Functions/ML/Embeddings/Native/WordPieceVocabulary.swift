/// The WordPiece vocabulary, keyed by UTF-8 bytes. Not by `String`: Swift compares strings by
/// canonical equivalence, and Hugging Face by bytes, so a precomposed Hangul syllable and its
/// jamo would look the same here and different there.
struct WordPieceVocabulary: Sendable {
    /// A byte string used as a key without copying it out of the word being split.
    struct Key: Hashable, Sendable {
        let bytes: ArraySlice<UInt8>
        static func == (a: Key, b: Key) -> Bool { a.bytes.elementsEqual(b.bytes) }
        func hash(into h: inout Hasher) { bytes.withUnsafeBytes { h.combine(bytes: $0) } }
    }

    /// Word-initial pieces, by their full text.
    private let initial: [Key: Int32]
    /// Continuation pieces (`##xyz`), by their text without the prefix.
    private let continuation: [Key: Int32]
    /// Token text by id, for showing a tokenization.
    let tokens: [String]
    var count: Int { tokens.count }

    static let continuationPrefix: [UInt8] = Array("##".utf8)

    /// One token per line, the line number being its id (`vocab.txt`).
    init(vocabTxt: [UInt8]) {
        var initial: [Key: Int32] = [:]
        var continuation: [Key: Int32] = [:]
        var tokens: [String] = []
        initial.reserveCapacity(32_768)
        var id: Int32 = 0
        var lines = vocabTxt.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        for var line in lines {
            if line.last == 0x0D { line = line.dropLast() }
            let token = Array(line)
            initial[Key(bytes: token[...])] = id
            if token.count > 2, token.starts(with: Self.continuationPrefix) {
                continuation[Key(bytes: token[2...])] = id
            }
            tokens.append(String(decoding: token, as: UTF8.self))
            id += 1
        }
        self.initial = initial
        self.continuation = continuation
        self.tokens = tokens
    }

    @inline(__always)
    func piece(_ bytes: ArraySlice<UInt8>, continuing: Bool) -> Int32? {
        continuing ? continuation[Key(bytes: bytes)] : initial[Key(bytes: bytes)]
    }

    /// The id of a whole token (`[CLS]`, `##ing`), by its exact bytes.
    func id(of token: String) -> Int32? { initial[Key(bytes: Array(token.utf8)[...])] }
}
