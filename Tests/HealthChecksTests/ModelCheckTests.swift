import DocumentStore
import Foundation
import HealthChecks
import Stores
import TestSupport
import Testing

/// `health`'s `embedding_model` readiness check: the configured model loads, returns vectors of
/// its size, and fits what the store already holds.
@Suite struct ModelCheckTests {
    let modelDirectory = TestPaths.packageRoot + "/.models/all-MiniLM-L6-v2"

    func freshStoreURL() -> String {
        "sqlite://" + FileManager.default.temporaryDirectory.appendingPathComponent("modelcheck-\(UUID().uuidString)").path + "/rag.sqlite"
    }

    @Test func theNativeModelIsReady() async throws {
        let url = freshStoreURL()
        _ = try Stores.open(url: url)
        let results = await Readiness.run([.embeddingModel(environment: ["EMBEDDING_MODEL_DIR": modelDirectory], storeURL: url, timeout: .seconds(120))])
        #expect(results[0].name == "embedding_model")
        #expect(results[0].ok, "\(results[0].reason ?? "")")
    }

    @Test func aStoreHoldingAnotherSizeForTheModelIsNotReadyAndSaysHowToFix() async throws {
        let url = freshStoreURL()
        let store = try Stores.open(url: url)
        let (doc, _, _) = try store.createDocument(
            NewDocument(orgId: "acme", title: "t", filename: "t.txt", mimeType: "text/plain", bytes: 1, sha256: "s", blobURI: "file:///t"), job: nil)
        _ = try store.createVersion(org: "acme", NewVersion(
            documentId: doc.id, embedModel: "sentence-transformers/all-MiniLM-L6-v2", dim: 768, chunkSize: 200, chunkOverlap: 40,
            chunkerVersion: "c", sourceSha256: "s"))
        let results = await Readiness.run([.embeddingModel(environment: ["EMBEDDING_MODEL_DIR": modelDirectory], storeURL: url, timeout: .seconds(120))])
        #expect(!results[0].ok)
        let reason = results[0].reason ?? ""
        #expect(reason.contains("the store holds 768-dimensional vectors for sentence-transformers/all-MiniLM-L6-v2"), "\(reason)")
        #expect(reason.contains("re-embed"), "\(reason)")
    }

    @Test func aMissingModelNamesTheFix() async throws {
        let results = await Readiness.run([.embeddingModel(environment: ["EMBEDDING_MODEL_DIR": "/nonexistent"], storeURL: nil, timeout: .seconds(120))])
        #expect(!results[0].ok)
        #expect(results[0].reason?.contains("scripts/model.sh") == true, "\(results[0].reason ?? "")")
    }

    @Test func aBadConfigurationNamesTheVariable() async throws {
        let results = await Readiness.run([.embeddingModel(environment: ["EMBEDDING_PROVIDER": "tei"], storeURL: nil, timeout: .seconds(120))])
        #expect(results[0].reason?.contains("needs EMBEDDING_MODEL") == true, "\(results[0].reason ?? "")")
    }
}
