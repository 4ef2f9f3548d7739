/// What a router derives from one action's texts: its seed rows (the normalised text that is
/// embedded, and its key) and its BM25 document (folded term counts). Deriving it means Unicode
/// normalisation and folding of every seed, the largest cost of a rebuild after the embedding
/// itself, so a rebuild takes it from the previous router for every action whose texts and the
/// settings that shape them are unchanged: a one-action edit of a 100-action catalog prepares
/// one action, not 100.
struct PreparedAction: Sendable {
    /// Everything the preparation depends on; equal inputs give an equal result.
    struct Inputs: Sendable, Hashable {
        let id: String
        let seeds: [String]
        let description: String
        let embedDescription: Bool
        let lexicalDescription: Bool
        let bigrams: Bool

        init(_ action: ActionDefinition, settings: RouterSettings) {
            id = action.id
            seeds = action.seeds
            description = action.description
            embedDescription = settings.embedding.includeDescription
            lexicalDescription = settings.lexical.includeDescription
            bigrams = settings.lexical.bigrams
        }
    }

    struct Row: Sendable {
        let key: SeedKey
        let text: String
    }

    let inputs: Inputs
    /// The embedded rows, description first, in seed order; empty seeds have none.
    let rows: [Row]
    /// BM25 document: term (and bigram) counts over the seeds (and the description if the
    /// lexical settings say so), and its length in terms.
    let termCounts: [String: Int]
    let length: Int

    init(_ inputs: Inputs) {
        self.inputs = inputs
        var rows: [Row] = []
        var counts: [String: Int] = [:]
        var length = 0
        func count(_ text: NormalizedText) {
            let terms = LexicalIndex.indexTerms(text.terms, bigrams: inputs.bigrams)
            length += terms.count
            for t in terms { counts[t, default: 0] += 1 }
        }
        if !inputs.description.isEmpty, inputs.embedDescription || inputs.lexicalDescription {
            let text = NormalizedText(inputs.description)
            if inputs.embedDescription {
                rows.append(Row(key: SeedKey(actionId: inputs.id, slot: SeedKey.descriptionSlot,
                                             textHash: ContentHash.of(text.normalized)), text: text.normalized))
            }
            if inputs.lexicalDescription { count(text) }
        }
        for (i, seed) in inputs.seeds.enumerated() {
            let text = NormalizedText(seed)
            count(text)
            guard !text.normalized.isEmpty else { continue }
            rows.append(Row(key: SeedKey(actionId: inputs.id, slot: i, textHash: ContentHash.of(text.normalized)), text: text.normalized))
        }
        self.rows = rows
        termCounts = counts
        self.length = length
    }

    /// One per catalog action, in order; those whose inputs `previous` already prepared are reused.
    static func prepare(_ configuration: RouterConfiguration, reusing previous: [PreparedAction]?) -> [PreparedAction] {
        var known: [String: PreparedAction] = [:]
        for p in previous ?? [] { known[p.inputs.id] = p }
        return configuration.catalog.actions.map { action in
            let inputs = Inputs(action, settings: configuration.settings)
            if let p = known[action.id], p.inputs == inputs { return p }
            return PreparedAction(inputs)
        }
    }
}
