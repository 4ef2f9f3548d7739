import Dispatch
import Foundation
import Synchronization

/// PDF to text with poppler's `pdftotext` (Debian package `poppler-utils`), run as a separate
/// process on a private temporary copy of the bytes:
/// `pdftotext -enc UTF-8 -nopgbrk <in.pdf> <out.txt>`, reading order (no `-layout`, whose
/// column padding hurts chunking), pages joined without form feeds. Output and stderr go to
/// files, so a chatty or huge extraction cannot block on a pipe.
///
/// Failures: a missing binary is `.extractorUnavailable` naming the package (a deployment
/// problem, 503); an encrypted PDF, an unreadable one, or one without a text layer is
/// `.invalidContent` (422); a run longer than `timeoutSeconds` is killed (SIGTERM, SIGKILL a
/// second later) and reported as `.extractionTimedOut`.
package struct PDFTextExtractor: Sendable {
    /// Overrides where `pdftotext` is looked for.
    package static let environmentVariable = "PDFTOTEXT"
    package static let defaultTimeoutSeconds = 20.0

    /// The binary that will run (it may not exist: `checkAvailable()` tells).
    package let executablePath: String
    package let timeoutSeconds: Double

    /// `executablePath` if given, else `$PDFTOTEXT`, else `pdftotext` on `$PATH`, else
    /// `/usr/bin/pdftotext`.
    package init(executablePath: String? = nil, timeoutSeconds: Double = PDFTextExtractor.defaultTimeoutSeconds,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.executablePath = Self.resolve(executablePath, environment: environment)
        self.timeoutSeconds = max(0.1, timeoutSeconds)
    }

    static func resolve(_ explicit: String?, environment: [String: String]) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = environment[environmentVariable], !fromEnvironment.isEmpty { return fromEnvironment }
        for dir in (environment["PATH"] ?? "").split(separator: ":") where !dir.isEmpty {
            let candidate = (String(dir) as NSString).appendingPathComponent("pdftotext")
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "/usr/bin/pdftotext"
    }

    /// Throws `.extractorUnavailable` when the binary is missing; for readiness checks.
    package func checkAvailable() throws(IngestionError) {
        guard FileManager.default.isExecutableFile(atPath: executablePath) else {
            throw .extractorUnavailable(
                "pdftotext was not found at \(executablePath): install the Debian package poppler-utils (apt-get install poppler-utils), or set \(Self.environmentVariable) to its path")
        }
    }

    /// The text of the PDF in `bytes`, as pdftotext writes it (not yet normalised).
    package func extract(_ bytes: [UInt8]) async throws(IngestionError) -> String {
        try checkAvailable()
        let fm = FileManager.default
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("ingest-pdf-\(UUID().uuidString)")
        do {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .extractorUnavailable("cannot create a temporary folder for pdftotext: \(error.localizedDescription)")
        }
        defer { try? fm.removeItem(atPath: dir) }
        let input = (dir as NSString).appendingPathComponent("in.pdf")
        let output = (dir as NSString).appendingPathComponent("out.txt")
        let errors = (dir as NSString).appendingPathComponent("stderr.txt")
        guard fm.createFile(atPath: input, contents: Data(bytes), attributes: [.posixPermissions: 0o600]),
              fm.createFile(atPath: errors, contents: nil, attributes: [.posixPermissions: 0o600]),
              let stderrHandle = FileHandle(forWritingAtPath: errors)
        else {
            throw .extractorUnavailable("cannot write the PDF to a temporary file for pdftotext")
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executablePath)
        process.arguments = ["-enc", "UTF-8", "-nopgbrk", input, output]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderrHandle
        let outcome = await Self.run(process, timeoutSeconds: timeoutSeconds)
        try? stderrHandle.close()

        let stderrText = Self.summarize(fm.contents(atPath: errors) ?? Data(), hiding: dir)
        switch outcome {
        case .launchFailed(let reason):
            throw .extractorUnavailable("pdftotext at \(executablePath) could not be started: \(reason); install poppler-utils")
        case .timedOut:
            throw .extractionTimedOut(seconds: timeoutSeconds)
        case .signalled(let signal):
            throw .invalidContent("pdftotext could not read it: it stopped on signal \(signal)\(stderrText.isEmpty ? "" : " (\(stderrText))")")
        case .exited(let status) where status != 0:
            if status == 3 || stderrText.localizedCaseInsensitiveContains("password") {
                throw .invalidContent("the PDF is encrypted (it needs a password to open); upload an unprotected copy")
            }
            if Self.mentionsEncryption(bytes) {
                throw .invalidContent("the PDF is encrypted and pdftotext could not read it\(stderrText.isEmpty ? "" : ": \(stderrText)")")
            }
            throw .invalidContent("pdftotext could not read it: \(stderrText.isEmpty ? "exit status \(status)" : stderrText)")
        case .exited:
            break
        }
        guard let data = fm.contents(atPath: output) else {
            throw .invalidContent("pdftotext could not read it: it wrote no output")
        }
        let text = String(decoding: data, as: UTF8.self)
        guard text.unicodeScalars.contains(where: { !$0.properties.isWhitespace && $0.value != 0x0C }) else {
            throw .invalidContent("the PDF has no text layer (scanned images?): run OCR on it and upload the result")
        }
        return text
    }

    enum Outcome: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)
        case timedOut
        case launchFailed(String)
    }

    /// Runs `process` to its end or its deadline without holding a thread while it runs.
    static func run(_ process: Process, timeoutSeconds: Double) async -> Outcome {
        let done = Mutex(false)
        return await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
            @Sendable func finish(_ outcome: Outcome) -> Bool {
                let first = done.withLock { finished in
                    defer { finished = true }
                    return !finished
                }
                if first { continuation.resume(returning: outcome) }
                return first
            }
            process.terminationHandler = { p in
                _ = finish(p.terminationReason == .uncaughtSignal ? .signalled(p.terminationStatus) : .exited(p.terminationStatus))
            }
            do {
                try process.run()
            } catch {
                _ = finish(.launchFailed(error.localizedDescription))
                return
            }
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds) {
                guard finish(.timedOut) else { return }
                kill(pid, SIGTERM)
                DispatchQueue.global().asyncAfter(deadline: .now() + 1) {
                    if process.isRunning { kill(pid, SIGKILL) }
                }
            }
        }
    }

    /// Whether the file has an encryption dictionary (its trailer names `/Encrypt`).
    static func mentionsEncryption(_ bytes: [UInt8]) -> Bool {
        let needle = Array("/Encrypt".utf8)
        return bytes.suffix(64 * 1024).firstRange(of: needle) != nil || bytes.prefix(64 * 1024).firstRange(of: needle) != nil
    }

    /// pdftotext's complaints, one line each, without our temporary paths, at most 300 characters.
    static func summarize(_ stderr: Data, hiding dir: String) -> String {
        var seen = Set<String>()
        var lines: [String] = []
        for line in String(decoding: stderr, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let l = line.replacingOccurrences(of: dir + "/in.pdf", with: "the file").replacingOccurrences(of: dir, with: "")
                .trimmingCharacters(in: .whitespaces)
            if !l.isEmpty, seen.insert(l).inserted { lines.append(l) }
        }
        let joined = lines.joined(separator: "; ")
        return joined.count > 300 ? String(joined.prefix(297)) + "..." : joined
    }
}
