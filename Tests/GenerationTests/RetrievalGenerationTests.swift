import DocumentStore
import Embeddings
import Foundation
import Retrieval
import SQLiteStore
import TestSupport
import Testing
@testable import Generation

/// Retrieval and generation together over a real SQLite store holding chunks with vectors from
/// the real model: what the handler does when the caller passes no context.
@Suite struct RetrievalGenerationTests {
    static let model = try! MiniLMEmbedder(modelDirectory: TestPaths.packageRoot + "/.models/all-MiniLM-L6-v2")

    struct Indexed {
        let retriever: SearchRetriever
        var documents: [String: String] = [:]
    }

    static func indexed() async throws -> Indexed {
        let store = try SQLiteStore(path: TestPaths.temporaryDirectory("generate") + "/rag.sqlite",
                                    migrationsDirectory: TestPaths.packageRoot + "/infra/migrations")
        try store.migrate()
        var docs: [String: String] = [:]
        func add(_ org: OrgID, _ title: String, _ paragraphs: [String]) async throws {
            let (doc, _, _) = try store.createDocument(
                NewDocument(orgId: org, title: title, filename: "\(title).txt", mimeType: "text/plain", bytes: 10,
                            sha256: "\(org)-\(title)", blobURI: "file:///x", metadata: [:]), job: nil)
            let v = try store.createVersion(org: org, NewVersion(documentId: doc.id, embedModel: model.modelId, dim: 384, chunkSize: 200,
                                                                 chunkOverlap: 40, chunkerVersion: "t", sourceSha256: "s"))
            let vectors = try await model.embed(paragraphs, role: .passage)
            var offset = 0
            try store.insertChunks(org: org, versionId: v.id, zip(paragraphs, vectors).enumerated().map { i, pv in
                defer { offset += pv.0.count + 2 }
                return NewChunk(index: i, content: pv.0, contentSha256: "\(title)-\(i)", tokenCount: pv.1.tokenCount,
                                charStart: offset, charEnd: offset + pv.0.count, vector: pv.1.vector)
            })
            _ = try store.publishVersion(org: org, id: v.id)
            docs[title] = doc.id
        }
        try await add("acme", "Leave policy", [
            "Employees may take up to twelve days of paid annual leave each year. Requests go through the HR portal.",
            "Nhân viên xin nghỉ phép phải gửi đơn cho quản lý trước ba ngày.",
        ])
        try await add("acme", "Expense claims", [
            "Travel expenses are reimbursed within thirty days of submitting receipts.",
            "Hotel bookings above the limit need approval from finance.",
        ])
        try await add("acme", "IT help", ["To reset your password, open the self-service portal and verify your phone."])
        try await add("globex", "Globex leave", ["Globex employees get unlimited paid annual leave days every year."])
        return Indexed(retriever: SearchRetriever(searcher: HybridSearcher(store: store, embedder: model)), documents: docs)
    }

    @Test func retrievedChunksAreTheContextAndCitationsPointAtThem() async throws {
        let corpus = try await Self.indexed()
        let server = FakeLLMServer([.answer("Up to twelve days of paid annual leave per year [1].")])
        try await server.serve { base in
            let g = try generator([openAI(base)], retriever: corpus.retriever)
            let r = try await g.generate(org: "acme", GenerateRequest(query: "How many days of paid annual leave can I take?"), deadline: later)
            #expect(r.responseMetadata.contextSource == .search)
            #expect(r.responseMetadata.language == .en)
            let cited = try #require(r.citations.first)
            #expect(cited.documentId == corpus.documents["Leave policy"])
            #expect(cited.reference == "[1] Leave policy")
            #expect(cited.usedContent == "Employees may take up to twelve days of paid annual leave each year.")
            let prompt = try #require(await server.requests.first?.lastUserText)
            #expect(prompt.contains("[1] Leave policy\nEmployees may take up to twelve days"))
            #expect(!prompt.contains("Globex"), "another org's documents never reach the prompt")
            #expect(r.confidenceScore > 0.5)
        }
    }

    @Test func offlineTheExtractiveAnswerComesFromTheOrgsDocuments() async throws {
        let corpus = try await Self.indexed()
        let g = try generator([], retriever: corpus.retriever)
        let r = try await g.generate(org: "acme", GenerateRequest(query: "xin nghi phep gui don truoc may ngay"), deadline: later)
        #expect(r.responseMetadata.fallback == .extractive)
        #expect(r.responseMetadata.language == .vi)
        #expect(r.answer.hasPrefix("Hiện không thể tạo câu trả lời đầy đủ."))
        #expect(r.answer.contains("Nhân viên xin nghỉ phép phải gửi đơn cho quản lý trước ba ngày."))
        let leave = try #require(r.citations.first { $0.documentId == corpus.documents["Leave policy"] })
        #expect(r.answer.contains("[\(leave.number)]"))
        #expect(!r.citations.contains { $0.documentId == corpus.documents["Globex leave"] })

        let globex = try await g.generate(org: "globex", GenerateRequest(query: "How many paid annual leave days?"), deadline: later)
        #expect(globex.citations.allSatisfy { $0.documentId == corpus.documents["Globex leave"] })
        let nothing = try await g.generate(org: "initech", GenerateRequest(query: "How many paid annual leave days?"), deadline: later)
        #expect(nothing.responseMetadata.fallback == .noContext)
    }
}
