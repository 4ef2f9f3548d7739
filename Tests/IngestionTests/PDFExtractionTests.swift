import TestSupport
import Foundation
import Ingestion
import Testing

/// Real pdftotext (poppler-utils) on PDFs written by hand in `PDFFixture`.
@Suite("PDF extraction")
struct PDFExtractionTests {
    let extractor = TextExtractor()

    func failure(_ bytes: [UInt8], _ pdf: PDFTextExtractor = PDFTextExtractor()) async -> IngestionError? {
        do {
            _ = try await TextExtractor(pdf: pdf).extract(bytes, format: DocumentFormat(type: .pdf))
            return nil
        } catch {
            return error
        }
    }

    @Test func textPDF() async throws {
        let bytes = PDFFixture.text([
            ["Leave policy", "Employees get twenty days of paid leave.", "Unused days expire in March."],
            ["Second page (with parentheses) and a backslash \\ here."],
        ])
        let format = try ContentSniffer.sniff(bytes, declaredContentType: "application/pdf", filename: "policy.pdf")
        #expect(format.type == .pdf)
        let out = try await extractor.extract(bytes, format: format)
        #expect(out.text.contains("Leave policy\nEmployees get twenty days of paid leave.\nUnused days expire in March."))
        #expect(out.text.contains("Second page (with parentheses) and a backslash \\ here."))
        #expect(!out.text.contains("\u{C}"))
        #expect(out.text == TextNormalizer.normalize(out.text))
    }

    @Test func imageOnlyPDFHasNoTextLayer() async {
        let error = await failure(PDFFixture.imageOnly())
        #expect(error == .invalidContent("the PDF has no text layer (scanned images?): run OCR on it and upload the result"))
        #expect(error?.httpStatus == 422)
    }

    @Test func encryptedPDF() async {
        let error = await failure(PDFFixture.encrypted)
        guard case .invalidContent(let reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.hasPrefix("the PDF is encrypted"))
    }

    @Test func corruptPDF() async {
        let error = await failure(Array("%PDF-1.4\n1 0 obj garbage\n%%EOF\n".utf8))
        guard case .invalidContent(let reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.hasPrefix("pdftotext could not read it: "))
        #expect(reason.contains("xref") || reason.contains("trailer"))
        #expect(!reason.contains(NSTemporaryDirectory()), "temporary paths are not shown")
        // A truncated real PDF.
        let truncated = Array(PDFFixture.text([["Hello"]]).prefix(150))
        #expect(await failure(truncated)?.httpStatus == 422)
    }

    @Test func missingBinaryIsADeploymentError() async {
        let pdf = PDFTextExtractor(executablePath: "/nonexistent/bin/pdftotext")
        let error = await failure(PDFFixture.text([["x"]]), pdf)
        guard case .extractorUnavailable(let reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.contains("poppler-utils"))
        #expect(reason.contains("/nonexistent/bin/pdftotext"))
        #expect(error?.httpStatus == 503)
        #expect(error?.isRetryable == true)
        #expect(throws: IngestionError.self) { try pdf.checkAvailable() }
        #expect(throws: Never.self) { try PDFTextExtractor().checkAvailable() }
    }

    @Test func binaryLocation() {
        #expect(PDFTextExtractor(executablePath: "/opt/x/pdftotext").executablePath == "/opt/x/pdftotext")
        #expect(PDFTextExtractor(environment: ["PDFTOTEXT": "/custom/pdftotext", "PATH": "/usr/bin"]).executablePath == "/custom/pdftotext")
        #expect(PDFTextExtractor(environment: ["PATH": "/nowhere:/usr/bin"]).executablePath == "/usr/bin/pdftotext")
        #expect(PDFTextExtractor(environment: [:]).executablePath == "/usr/bin/pdftotext")
        #expect(PDFTextExtractor().timeoutSeconds == 20)
    }

    @Test func slowExtractionIsKilledAtTheTimeout() async throws {
        let dir = NSTemporaryDirectory() + "ingest-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = dir + "/slow-pdftotext"
        let pidFile = dir + "/pid"
        try "#!/bin/sh\necho $$ > \(pidFile)\nexec sleep 30\n".write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)

        let error = await failure(PDFFixture.text([["x"]]), PDFTextExtractor(executablePath: script, timeoutSeconds: 0.5))
        #expect(error == .extractionTimedOut(seconds: 0.5))
        #expect(error?.httpStatus == 504)

        // The process is gone (SIGTERM; SIGKILL a second later if it lingered).
        let pid = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        var alive = true
        for _ in 0..<40 where alive {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            alive = !status.isEmpty && !status.contains("State:\tZ")
            if alive { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(!alive, "pid \(pid) still running")
    }

    @Test func pdfPipelineToChunks() async throws {
        let sentences = Prose.sentences
        let bytes = PDFFixture.text([Array(sentences[0..<12]), Array(sentences[12..<24])])
        let format = try ContentSniffer.sniff(bytes, declaredContentType: nil, filename: "doc.pdf")
        let out = try await extractor.extract(bytes, format: format)
        let chunks = Chunker(tokenCounter: Tokenizer.counter).chunk(out.text)
        #expect(chunks.count >= 2)
        for chunk in chunks {
            #expect(chunk.tokenCount <= 200)
            #expect(chunk.source(in: out.text).map { chunk.text.sameScalars($0) } == true)
        }
    }
}
