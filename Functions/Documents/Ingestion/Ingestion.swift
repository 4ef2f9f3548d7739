// Ingestion: uploaded bytes to chunks ready for embedding.
//
// At upload (the `upload` handler, before answering 202):
// ```swift
// let format = try ContentSniffer.sniff(bytes, declaredContentType: contentType, filename: name)  // 415 / 422
// let filename = FilenameSanitizer.sanitize(name, type: format.type)
// // store format.mimeType as documents.mime_type, SHA256.hex(bytes) as documents.sha256
// ```
// In the worker (`reembed`):
// ```swift
// let format = DocumentFormat(mimeType: document.mimeType)!            // or sniff again
// let extracted = try await TextExtractor().extract(bytes, format: format)
// let chunker = Chunker(configuration: try ChunkerConfiguration(chunkSize: 200, overlap: 40),
//                       tokenCounter: TokenCounter { tokenizer.wordPieces(String($0)).count })
// for chunk in chunker.chunk(extracted.text) { embed(chunk.embeddingText(title: document.title)) ... }
// // store Chunker.version as doc_versions.chunker_version
// ```
// Errors are `IngestionError` (with `httpStatus`, `isRetryable` and `apiError`) and
// `ChunkerConfigurationError`. (No type here is named `Ingestion`, so `Ingestion.TextChunk`
// keeps working as a module-qualified name next to `DocumentStore.Chunk`.)
