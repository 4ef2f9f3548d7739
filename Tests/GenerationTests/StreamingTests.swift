import Foundation
import HTTPClient
import JSON
import Synchronization
import Testing
@testable import Generation

/// What a streamed answer's client saw, in order, with when each event came.
final class EventLog: Sendable {
    private let events = Mutex<[(GenerationEvent, ContinuousClock.Instant)]>([])
    /// Throws from the n-th delta on: a client that went away.
    let goneAfterDeltas: Int?

    init(goneAfterDeltas: Int? = nil) { self.goneAfterDeltas = goneAfterDeltas }

    func emit(_ e: GenerationEvent) async throws {
        let deltas = events.withLock { list -> Int in
            list.append((e, .now))
            return list.filter { if case .delta = $0.0 { true } else { false } }.count
        }
        if let goneAfterDeltas, case .delta = e, deltas >= goneAfterDeltas { throw CancellationError() }
    }

    var names: [String] { events.withLock { $0.map(\.0.name) } }
    var text: String { events.withLock { $0.compactMap { if case .delta(let t) = $0.0 { t } else { nil } }.joined() } }
    var deltaCount: Int { events.withLock { $0.filter { if case .delta = $0.0 { true } else { false } }.count } }
    var firstDeltaAt: ContinuousClock.Instant? { events.withLock { $0.first { if case .delta = $0.0 { true } else { false } }?.1 } }
    var metadata: ResponseMetadata? {
        events.withLock { $0.compactMap { if case .metadata(_, let m) = $0.0 { m } else { nil } }.last }
    }
    var citations: (citations: [Citation], dropped: [Int])? {
        events.withLock { list -> (citations: [Citation], dropped: [Int])? in
            for (e, _) in list.reversed() { if case .citations(let c, let d) = e { return (c, d) } }
            return nil
        }
    }
    var error: (code: String, message: String)? {
        events.withLock { list -> (code: String, message: String)? in
            for (e, _) in list.reversed() { if case .error(let c, let m) = e { return (c, m) } }
            return nil
        }
    }
}

extension AgainstFakeProviders {
    /// `"stream": true`: the answer as events while the provider writes it, for each wire format.
    @Suite struct StreamingTests {
        static let pieces = ["Employees get ", "twelve days ", "of paid leave ", "a year [1]."]

        @Test(arguments: ["openai", "claude", "gemini"])
        func theFirstDeltaArrivesBeforeTheProviderHasFinished(api: String) async throws {
            // The provider stops after two pieces until the client has its first delta (the
            // first word can leave once the second shows it has ended).
            let gate = StreamGate(after: 2)
            let server = FakeLLMServer([.stream(Self.pieces, gate: gate)])
            try await server.serve { base in
                let provider = api == "openai" ? openAI(base) : api == "claude" ? anthropic(base) : gemini(base)
                let log = EventLog()
                let g = try generator([provider])
                let writtenAtFirstDelta = Mutex<Int?>(nil)
                try await g.generateStream(org: "acme", ask(), deadline: later) { e in
                    if case .delta = e, writtenAtFirstDelta.withLock({ $0 }) == nil {
                        let n = await server.piecesWritten
                        writtenAtFirstDelta.withLock { $0 = n }
                        gate.open()
                    }
                    try await log.emit(e)
                }
                // The client had text while most of the answer was still to be written.
                let written = try #require(writtenAtFirstDelta.withLock { $0 })
                #expect(written < Self.pieces.count, "first delta after \(written) of \(Self.pieces.count) pieces")
                #expect(log.deltaCount >= 2, "the answer came in pieces")
                #expect(log.text == Self.pieces.joined())
                #expect(Array(log.names.suffix(3)) == ["citations", "metadata", "done"])
                #expect(log.citations?.citations.map(\.number) == [1])
                let m = try #require(log.metadata)
                #expect(m.provider == api && m.tokensIn == 120 && m.tokensOut == 30 && !m.tokensEstimated)
                #expect(await server.requests.first?.json["stream"] as? Bool == (api == "gemini" ? nil : true))
                if api == "gemini" { #expect(await server.requests.first?.path.hasSuffix(":streamGenerateContent") == true) }
            }
        }

        @Test func aClientThatGoesAwayEndsTheProviderCall() async throws {
            let pieces = (0..<40).map { "word\($0) " }
            let server = FakeLLMServer([.stream(pieces, pause: .milliseconds(50))])
            try await server.serve { base in
                let log = EventLog(goneAfterDeltas: 1)
                let g = try generator([openAI(base)], settings: settings { $0.cacheEnabled = false })
                await #expect(throws: (any Error).self) {
                    try await g.generateStream(org: "acme", ask(), deadline: later) { try await log.emit($0) }
                }
                // The fake stops being read: it never gets to write the whole answer.
                try await Task.sleep(for: .milliseconds(600))
                #expect(await server.streamsFinished == 0)
                #expect(await server.piecesWritten < pieces.count)
                #expect(await server.count == 1, "no other provider or retry after the client left")
            }
        }

        @Test func aProviderFailingBeforeItsFirstTokenFallsBackToTheNext() async throws {
            let broken = FakeLLMServer(then: .status(503, body: #"{"error":{"message":"overloaded"}}"#))
            let backup = FakeLLMServer([.stream(Self.pieces)])
            try await serving([broken, backup]) { bases in
                let log = EventLog()
                let g = try generator([openAI(bases[0]), anthropic(bases[1])])
                try await g.generateStream(org: "acme", ask(), deadline: later) { try await log.emit($0) }
                #expect(log.text == Self.pieces.joined())
                #expect(log.metadata?.provider == "claude")
                #expect(log.metadata?.fallback == .nextProvider)
                #expect(log.error == nil)
            }
        }

        @Test func aProviderFailingAfterItsFirstTokenEndsWithAnErrorAndIsNotCached() async throws {
            let server = FakeLLMServer([.stream(Self.pieces, breakAfter: 2)], then: .stream(Self.pieces))
            let backup = FakeLLMServer([.stream(["never "])])
            try await serving([server, backup]) { bases in
                let g = try generator([openAI(bases[0]), anthropic(bases[1])])
                let log = EventLog()
                try await g.generateStream(org: "acme", ask(), deadline: later) { try await log.emit($0) }
                #expect(log.text == "Employees get twelve days ")
                #expect(log.names.last == "error")
                #expect(log.error?.code == "provider_failed")
                #expect(!log.names.contains("done"))
                #expect(await backup.count == 0, "no fallback once text has gone out")
                // The same question again is asked of the provider, not answered from a cache of half an answer.
                let again = EventLog()
                try await g.generateStream(org: "acme", ask(), deadline: later) { try await again.emit($0) }
                #expect(again.metadata?.cacheHit == false)
                #expect(again.text == Self.pieces.joined())
                // A whole answer is cached, and a cached answer streams the same events.
                let third = EventLog()
                try await g.generateStream(org: "acme", ask(), deadline: later) { try await third.emit($0) }
                #expect(third.metadata?.cacheHit == true)
                #expect(Array(third.names.suffix(3)) == ["citations", "metadata", "done"])
            }
        }

        @Test func aSecretSplitAcrossTwoChunksIsRedacted() async throws {
            let key = "sk-proj-" + String(repeating: "A1b2", count: 6)
            let split = key.index(key.startIndex, offsetBy: 9)
            let pieces = ["The key is ", String(key[..<split]), String(key[split...]) + " and mail jo", "hn@example.com [1]."]
            let server = FakeLLMServer([.stream(pieces)])
            try await server.serve { base in
                let log = EventLog()
                try await generator([openAI(base)]).generateStream(org: "acme", ask(), deadline: later) { try await log.emit($0) }
                #expect(!log.text.contains("sk-proj"), "\(log.text)")
                #expect(!log.text.contains("A1b2"))
                #expect(!log.text.contains("example.com"))
                #expect(log.text == "The key is [REDACTED] and mail [REDACTED] [1].")
                #expect((log.metadata?.redactions ?? 0) >= 2)
            }
        }

        @Test func aMarkerNamingNoChunkIsFlaggedNotRewritten() async throws {
            let server = FakeLLMServer([.stream(["Twelve days [1], ", "see also [7]."])])
            try await server.serve { base in
                let log = EventLog()
                try await generator([openAI(base)]).generateStream(org: "acme", ask(), deadline: later) { try await log.emit($0) }
                #expect(log.text == "Twelve days [1], see also [7].", "streamed text is never rewritten")
                #expect(log.citations?.dropped == [7])
                #expect(log.citations?.citations.map(\.number) == [1])
                #expect(log.metadata?.citationsDropped == 1)
            }
        }

        @Test func theExtractiveFallbackStreamsTheSameEvents() async throws {
            let down = FakeLLMServer(then: .status(401, body: #"{"error":{"message":"bad key"}}"#))
            try await down.serve { base in
                let log = EventLog()
                try await generator([openAI(base)]).generateStream(org: "acme", ask(), deadline: later) { try await log.emit($0) }
                #expect(log.deltaCount >= 1)
                #expect(Array(log.names.suffix(3)) == ["citations", "metadata", "done"])
                #expect(log.metadata?.fallback == .extractive)
                // The same text a whole answer would have.
                let whole = try await generator([openAI(base)]).generate(org: "acme", ask(), deadline: later)
                #expect(log.text == whole.answer)
            }
        }

        @Test func nonStreamingAnswersAreUnchanged() async throws {
            let server = FakeLLMServer()
            try await server.serve { base in
                let r = try await generator([openAI(base)]).generate(org: "acme", ask(), deadline: later)
                #expect(r.answer == "Employees get twelve days of paid leave [1].")
                #expect(await server.requests.first?.json["stream"] as? Bool == false)
            }
        }

        @Test func eventsAreServerSentEvents() throws {
            let delta = String(decoding: GenerationEvent.delta("a \"b\"\nc").sse, as: UTF8.self)
            #expect(delta == "event: delta\ndata: {\"text\":\"a \\\"b\\\"\\nc\"}\n\n")
            #expect(String(decoding: GenerationEvent.done.sse, as: UTF8.self) == "event: done\ndata: {}\n\n")
            let error = try JSONValue.parse(Array(String(decoding: GenerationEvent.error(code: "x", message: "y").sse, as: UTF8.self)
                .split(separator: "\n")[1].dropFirst(6).utf8))
            #expect(error["error"]?["code"]?.stringValue == "x")
        }
    }
}

@Suite struct ServerSentEventsTests {
    @Test func eventsSplitAnywhereAreReadWhole() {
        let text = "event: a\r\ndata: one\r\ndata: two\r\n\r\n: comment\n\ndata: [DONE]\n\n"
        for cut in 0...text.utf8.count {
            var p = ServerSentEvents()
            let bytes = Array(text.utf8)
            let events = p.feed(bytes[..<cut]) + p.feed(bytes[cut...])
            #expect(events == [.init(name: "a", data: "one\ntwo"), .init(name: nil, data: "[DONE]")], "cut at \(cut)")
        }
    }
}

@Suite struct StreamingRedactorTests {
    @Test func anyCutOfASecretNeverLetsItThrough() {
        let text = "Use password: hunter2xyz or card 4111 1111 1111 1111 and key sk-ant-abcdefghijklmnopqrstu, mail a.b@example.org done."
        let whole = Redactor().redact(text).text
        for cut in 1..<text.count {
            var r = StreamingRedactor(Redactor())
            let i = text.index(text.startIndex, offsetBy: cut)
            let out = r.push(String(text[..<i])) + r.push(String(text[i...])) + r.finish()
            #expect(out == whole, "cut at \(cut)")
        }
    }

    @Test func plainWordsGoOutAsSoonAsTheirSpaceIsWritten() {
        var r = StreamingRedactor(Redactor())
        #expect(r.push("Employees get") == "Employees ")
        #expect(r.push(" twelve days ") == "get twelve days ")
        // A label, a digit run or a half-written address is held until it is decided.
        #expect(r.push("and the password: ") == "and the ")
        #expect(r.push("hunter2 ok ") == "password: [REDACTED] ok ")
        #expect(r.push("card 4111 1111 ") == "card ")
        #expect(r.push("1111 1111 done ") == "[REDACTED] done ")
        #expect(r.finish() == "")
    }
}
