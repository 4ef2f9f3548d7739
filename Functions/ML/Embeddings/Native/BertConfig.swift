import JSON

/// The parts of a BERT `config.json` the encoder needs; the weights' shapes are checked
/// against it, so a file from another model size fails at load with the tensor named.
package struct BertConfig: Sendable, Equatable {
    package var vocabSize: Int
    package var hiddenSize: Int
    package var layers: Int
    package var heads: Int
    package var intermediateSize: Int
    package var maxPositions: Int
    package var typeVocabSize: Int
    package var layerNormEps: Float

    package var headSize: Int { hiddenSize / heads }

    /// all-MiniLM-L6-v2's values.
    package static let miniLML6 = BertConfig(
        vocabSize: 30522, hiddenSize: 384, layers: 6, heads: 12, intermediateSize: 1536,
        maxPositions: 512, typeVocabSize: 2, layerNormEps: 1e-12)

    package init(vocabSize: Int, hiddenSize: Int, layers: Int, heads: Int, intermediateSize: Int,
                maxPositions: Int, typeVocabSize: Int, layerNormEps: Float) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.heads = heads
        self.intermediateSize = intermediateSize
        self.maxPositions = maxPositions
        self.typeVocabSize = typeVocabSize
        self.layerNormEps = layerNormEps
    }

    /// Parses `config.json`; the error string says which field is wrong.
    package init(json bytes: [UInt8]) throws(EmbeddingError) {
        let v: JSONValue
        do { v = try JSONValue.parse(bytes) } catch { throw .modelCorrupt(path: "config.json", reason: error.description) }
        func int(_ key: String) throws(EmbeddingError) -> Int {
            guard let n = v[key]?.intValue, n > 0 else {
                throw .modelCorrupt(path: "config.json", reason: "\(key) is missing or not a positive integer")
            }
            return n
        }
        self.init(
            vocabSize: try int("vocab_size"), hiddenSize: try int("hidden_size"), layers: try int("num_hidden_layers"),
            heads: try int("num_attention_heads"), intermediateSize: try int("intermediate_size"),
            maxPositions: try int("max_position_embeddings"), typeVocabSize: try int("type_vocab_size"),
            layerNormEps: Float(v["layer_norm_eps"]?.doubleValue ?? 1e-12))
        guard v["model_type"]?.stringValue ?? "bert" == "bert" else {
            throw .modelCorrupt(path: "config.json", reason: "model_type is \(v["model_type"]?.stringValue ?? ""), expected bert")
        }
        // Only the exact-erf GELU is implemented; the tanh approximation would drift from the reference.
        guard v["hidden_act"]?.stringValue ?? "gelu" == "gelu" else {
            throw .modelCorrupt(path: "config.json", reason: "hidden_act \(v["hidden_act"]?.stringValue ?? "") is not supported (gelu only)")
        }
        guard hiddenSize % heads == 0 else {
            throw .modelCorrupt(path: "config.json", reason: "hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(heads)")
        }
    }
}
