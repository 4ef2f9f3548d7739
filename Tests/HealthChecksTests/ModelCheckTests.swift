import DocumentStore
import Foundation
import HealthChecks
import Stores
import TestSupport
import Testing

/// `health`'s `embedding_model` readiness check: the configured model's files are whole and agree
/// (checked without loading it), and its size fits what the store already holds.
@Suite struct ModelCheckTests {
    let modelDirectory = TestPaths.packageRoot + "/.models/all-MiniLM-L6-v2"

    func freshStoreURL() -> String {
        "sqlite://" + FileManager.default.temporaryDirectory.appendingPathComponent("modelcheck-\(UUID().uuidString)").path + "/rag.sqlite"
    }

    @Test func theNativeModelIsReady() async throws {
        let url = freshStoreURL()
        _ = try Stores.open(url: url)
        let results = await Readiness.run([.embeddingModel(environment: ["EMBEDDING_MODEL": "sentence-transformers/all-MiniLM-L6-v2", "EMBEDDING_MODEL_DIR": modelDirectory], storeURL: url, timeout: .seconds(120))])
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
        let results = await Readiness.run([.embeddingModel(environment: ["EMBEDDING_MODEL": "sentence-transformers/all-MiniLM-L6-v2", "EMBEDDING_MODEL_DIR": modelDirectory], storeURL: url, timeout: .seconds(120))])
        #expect(!results[0].ok)
        let reason = results[0].reason ?? ""
        #expect(reason.contains("the store holds 768-dimensional vectors for sentence-transformers/all-MiniLM-L6-v2"), "\(reason)")
        #expect(reason.contains("re-embed"), "\(reason)")
    }

    @Test func multilingualE5IsCheckedFromItsOwnFileWithoutLoadingIt() async throws {
        let e5 = ["EMBEDDING_MODEL": "intfloat/multilingual-e5-small",
                  "EMBEDDING_MODEL_DIR": TestPaths.packageRoot + "/.models/multilingual-e5-small"]
        let url = freshStoreURL()
        _ = try Stores.open(url: url)
        let ready = await Readiness.run([.embeddingModel(environment: e5, storeURL: url, timeout: .seconds(120))])
        #expect(ready[0].ok, "\(ready[0].reason ?? "")")

        // A cut-short file is not ready, and the reason names the fix for this model.
        let dir = TestPaths.temporaryDirectory("damaged-e5")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: e5["EMBEDDING_MODEL_DIR"]! + "/e5-small-q4.bin"))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: dir + "/e5-small-q4.bin"))
        var damaged = e5
        damaged["EMBEDDING_MODEL_DIR"] = dir
        let results = await Readiness.run([.embeddingModel(environment: damaged, storeURL: nil, timeout: .seconds(120))])
        #expect(!results[0].ok)
        #expect(results[0].reason?.contains("truncated") == true, "\(results[0].reason ?? "")")
        #expect(results[0].reason?.contains("scripts/model-e5.sh") == true, "\(results[0].reason ?? "")")
    }

    @Test func aMissingModelNamesTheFix() async throws {
        let results = await Readiness.run([.embeddingModel(environment: ["EMBEDDING_MODEL_DIR": "/nonexistent"], storeURL: nil, timeout: .seconds(120))])
        #expect(!results[0].ok)
        #expect(results[0].reason?.contains("scripts/model-e5.sh") == true, "\(results[0].reason ?? "")")
    }

    @Test func aBadConfigurationNamesTheVariable() async throws {
        let results = await Readiness.run([.embeddingModel(environment: ["EMBEDDING_PROVIDER": "tei"], storeURL: nil, timeout: .seconds(120))])
        #expect(results[0].reason?.contains("needs EMBEDDING_MODEL") == true, "\(results[0].reason ?? "")")
    }

    /// A copy of the model folder with `model.safetensors` cut short, or `vocab.txt` missing lines.
    func damagedModel(_ damage: (String) throws -> Void) throws -> String {
        let dir = TestPaths.temporaryDirectory("damaged-model")
        for name in ["config.json", "vocab.txt", "model.safetensors"] {
            try FileManager.default.copyItem(atPath: modelDirectory + "/" + name, toPath: dir + "/" + name)
        }
        try damage(dir)
        return dir
    }

    @Test func aTruncatedWeightsFileIsNotReady() async throws {
        let dir = try damagedModel { dir in
            let h = try #require(FileHandle(forUpdatingAtPath: dir + "/model.safetensors"))
            try h.truncate(atOffset: 4_000_000)
            try h.close()
        }
        // Also on Lambda: a folder that is there is checked.
        for env in [["EMBEDDING_MODEL": "sentence-transformers/all-MiniLM-L6-v2", "EMBEDDING_MODEL_DIR": dir], ["EMBEDDING_MODEL": "sentence-transformers/all-MiniLM-L6-v2", "EMBEDDING_MODEL_DIR": dir, "AWS_LAMBDA_FUNCTION_NAME": "rag-health"]] {
            let results = await Readiness.run([.embeddingModel(environment: env, storeURL: nil, timeout: .seconds(120))])
            #expect(!results[0].ok)
            #expect(results[0].reason?.contains("model.safetensors") == true, "\(results[0].reason ?? "")")
        }
    }

    @Test func aVocabularyThatDisagreesWithTheConfigIsNotReady() async throws {
        let dir = try damagedModel { dir in
            let vocab = try String(contentsOfFile: dir + "/vocab.txt", encoding: .utf8).split(separator: "\n").dropLast(10)
            try (vocab.joined(separator: "\n") + "\n").write(toFile: dir + "/vocab.txt", atomically: true, encoding: .utf8)
        }
        let results = await Readiness.run([.embeddingModel(environment: ["EMBEDDING_MODEL": "sentence-transformers/all-MiniLM-L6-v2", "EMBEDDING_MODEL_DIR": dir], storeURL: nil, timeout: .seconds(120))])
        #expect(!results[0].ok)
        #expect(results[0].reason?.contains("vocab.txt has 30512 tokens") == true, "\(results[0].reason ?? "")")
    }

    /// health's Lambda package leaves the model out (the functions that embed carry it): there
    /// the check holds the configuration against the store, and still catches a size mismatch.
    @Test func onLambdaWithoutTheModelFolderTheStoreIsStillChecked() async throws {
        let lambda = ["EMBEDDING_MODEL": "sentence-transformers/all-MiniLM-L6-v2", "EMBEDDING_MODEL_DIR": "/var/task/.models/all-MiniLM-L6-v2", "AWS_LAMBDA_FUNCTION_NAME": "rag-health"]
        let url = freshStoreURL()
        let store = try Stores.open(url: url)
        let ok = await Readiness.run([.embeddingModel(environment: lambda, storeURL: url, timeout: .seconds(120))])
        #expect(ok[0].ok, "\(ok[0].reason ?? "")")
        let (doc, _, _) = try store.createDocument(
            NewDocument(orgId: "acme", title: "t", filename: "t.txt", mimeType: "text/plain", bytes: 1, sha256: "s", blobURI: "file:///t"), job: nil)
        _ = try store.createVersion(org: "acme", NewVersion(
            documentId: doc.id, embedModel: "sentence-transformers/all-MiniLM-L6-v2", dim: 768, chunkSize: 200, chunkOverlap: 40,
            chunkerVersion: "c", sourceSha256: "s"))
        let bad = await Readiness.run([.embeddingModel(environment: lambda, storeURL: url, timeout: .seconds(120))])
        #expect(!bad[0].ok)
        #expect(bad[0].reason?.contains("768-dimensional") == true, "\(bad[0].reason ?? "")")
        // The same from a package run locally (`emulator start-api --packages`): its task root holds bootstrap.
        let package = TestPaths.temporaryDirectory("health-package")
        FileManager.default.createFile(atPath: package + "/bootstrap", contents: Data())
        let packaged = await Readiness.run([.embeddingModel(
            environment: ["EMBEDDING_MODEL": "sentence-transformers/all-MiniLM-L6-v2", "EMBEDDING_MODEL_DIR": package + "/.models/x",
                          "LAMBDA_TASK_ROOT": package, "AWS_SAM_LOCAL": "true",
                          "AWS_LAMBDA_FUNCTION_NAME": "local-health"], storeURL: url, timeout: .seconds(120))])
        #expect(!packaged[0].ok && packaged[0].reason?.contains("768-dimensional") == true, "\(packaged[0].reason ?? "")")
        // Off Lambda and outside a package the same missing folder is a failure that names the fix.
        let local = await Readiness.run([.embeddingModel(environment: ["EMBEDDING_MODEL_DIR": "/var/task/.models/x"], storeURL: nil, timeout: .seconds(120))])
        #expect(!local[0].ok)
    }
}
