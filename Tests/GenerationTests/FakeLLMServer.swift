import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TestSupport

/// A request as the fake provider saw it: method, path, query, headers (lower-cased names), JSON body.
struct SeenRequest: Sendable {
    var method: String
    var path: String
    var query: String
    var headers: [String: String]
    var body: Data
    var at: ContinuousClock.Instant

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    var text: String { String(decoding: body, as: UTF8.self) }

    /// The text of the last user turn, whatever the wire format.
    var lastUserText: String {
        let j = json
        if let messages = j["messages"] as? [[String: Any]], let last = messages.last { return last["content"] as? String ?? "" }
        if let contents = j["contents"] as? [[String: Any]], let last = contents.last,
           let parts = last["parts"] as? [[String: Any]] { return parts.compactMap { $0["text"] as? String }.joined() }
        return ""
    }

    /// How many numbered passages the prompt holds ("[n] " at a line start).
    var passages: Int {
        lastUserText.split(separator: "\n").filter { $0.range(of: #"^\[\d+\] "#, options: .regularExpression) != nil }.count
    }
}

/// What the fake provider answers to one request.
enum Reply: Sendable {
    /// A correct answer in the wire format the path implies, with usage unless told not to.
    case answer(String, tokensIn: Int = 120, tokensOut: Int = 30, usage: Bool = true)
    /// Any status, body and headers.
    case status(Int, body: String = "", headers: [String: String] = [:])
    /// Nothing for `pause`, then `then`.
    indirect case hang(Duration, then: Reply)
    /// Decided from the request.
    case custom(@Sendable (SeenRequest) -> Reply)
    /// The streaming form of the path's wire format: `pieces` one at a time, `pause` apart;
    /// then the end, or with `breakAfter` a dropped connection after that many pieces.
    case stream([String], pause: Duration = .zero, breakAfter: Int? = nil, gate: StreamGate? = nil)
}

/// Holds a streamed reply after `after` pieces until the test opens it, so a test can look at
/// what the client has while the provider is provably still writing (no timing).
final class StreamGate: Sendable {
    let after: Int
    private let opened: AsyncStream<Void>
    private let opener: AsyncStream<Void>.Continuation

    init(after: Int) {
        self.after = after
        (opened, opener) = AsyncStream<Void>.makeStream()
    }

    func open() { opener.finish() }
    func wait() async { for await _ in opened {} }
}

/// One fake LLM provider on 127.0.0.1 speaking all three wire formats at their real paths:
/// `POST /v1/chat/completions` (OpenAI-compatible), `POST /v1/messages` (Anthropic) and
/// `POST /v1beta/models/{model}:generateContent` (Gemini). Scripted per test.
actor FakeLLMServer {
    private var script: [Reply]
    private let fallback: Reply
    private(set) var requests: [SeenRequest] = []
    /// Pieces of streamed replies written so far, and whether a streamed reply ran to its end.
    private(set) var piecesWritten = 0
    private(set) var streamsFinished = 0
    fileprivate func wrote() { piecesWritten += 1 }
    fileprivate func finishedStream() { streamsFinished += 1 }

    init(_ script: [Reply] = [], then fallback: Reply = .answer("Employees get twelve days of paid leave [1].")) {
        self.script = script
        self.fallback = fallback
    }

    var count: Int { requests.count }

    private func next(_ seen: SeenRequest) -> Reply {
        requests.append(seen)
        return script.isEmpty ? fallback : script.removeFirst()
    }

    private func respond(_ request: Request) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 16 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
        let seen = SeenRequest(method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "", headers: headers,
                               body: Data(buffer.readableBytesView), at: .now)
        return try await render(next(seen), for: seen)
    }

    private func render(_ reply: Reply, for seen: SeenRequest) async throws -> Response {
        switch reply {
        case .answer(let text, let tin, let tout, let usage):
            return Self.json(200, Self.answerBody(text, path: seen.path, model: seen.json["model"] as? String ?? Self.geminiModel(seen.path),
                                                  tokensIn: tin, tokensOut: tout, usage: usage))
        case .status(let code, let body, let headers):
            return Self.json(code, body, headers: headers)
        case .hang(let pause, let then):
            try? await Task.sleep(for: pause)
            return try await render(then, for: seen)
        case .custom(let decide):
            return try await render(decide(seen), for: seen)
        case .stream(let pieces, let pause, let breakAfter, let gate):
            let events = Self.streamEvents(pieces, path: seen.path, model: seen.json["model"] as? String ?? Self.geminiModel(seen.path))
            var fields = HTTPFields()
            fields[.contentType] = "text/event-stream"
            return Response(status: .ok, headers: fields, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: events.head))
                for (i, piece) in events.pieces.enumerated() {
                    if let breakAfter, i == breakAfter { throw CancellationError() }  // the connection drops mid-answer
                    if let gate, i == gate.after { await gate.wait() }
                    if pause > .zero { try await Task.sleep(for: pause) }
                    try await writer.write(ByteBuffer(string: piece))
                    await self.wrote()
                }
                try await writer.write(ByteBuffer(string: events.tail))
                await self.finishedStream()
                try await writer.finish(nil)
            })
        }
    }

    /// A streamed answer in each API's own events.
    static func streamEvents(_ pieces: [String], path: String, model: String) -> (head: String, pieces: [String], tail: String) {
        func sse(_ json: String, event: String? = nil) -> String { (event.map { "event: \($0)\n" } ?? "") + "data: \(json)\n\n" }
        if path.hasSuffix("/chat/completions") {
            let chunks = pieces.map {
                sse(#"{"id":"c1","object":"chat.completion.chunk","model":"\#(model)","choices":[{"index":0,"delta":{"content":\#(escaped($0))},"finish_reason":null}]}"#)
            }
            let tail = sse(#"{"id":"c1","object":"chat.completion.chunk","model":"\#(model)","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#)
                + sse(#"{"id":"c1","object":"chat.completion.chunk","model":"\#(model)","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":30,"total_tokens":150}}"#)
                + "data: [DONE]\n\n"
            return (sse(#"{"id":"c1","object":"chat.completion.chunk","model":"\#(model)","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#),
                    chunks, tail)
        }
        if path.hasSuffix("/messages") {
            let head = sse(#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"\#(model)","content":[],"usage":{"input_tokens":120,"output_tokens":1}}}"#, event: "message_start")
                + sse(#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#, event: "content_block_start")
                + "event: ping\ndata: {\"type\": \"ping\"}\n\n"
            let chunks = pieces.map { sse(#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":\#(escaped($0))}}"#, event: "content_block_delta") }
            let tail = sse(#"{"type":"content_block_stop","index":0}"#, event: "content_block_stop")
                + sse(#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":30}}"#, event: "message_delta")
                + sse(#"{"type":"message_stop"}"#, event: "message_stop")
            return (head, chunks, tail)
        }
        let chunks = pieces.map { sse(#"{"candidates":[{"content":{"parts":[{"text":\#(escaped($0))}],"role":"model"},"index":0}],"modelVersion":"\#(model)"}"#) }
        let tail = sse(#"{"candidates":[{"content":{"parts":[{"text":""}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":120,"candidatesTokenCount":30,"totalTokenCount":150},"modelVersion":"\#(model)"}"#)
        return ("", chunks, tail)
    }

    static func geminiModel(_ path: String) -> String {
        (path.split(separator: "/").last.map(String.init) ?? "").replacingOccurrences(of: ":generateContent", with: "")
            .replacingOccurrences(of: ":streamGenerateContent", with: "")
    }

    static func escaped(_ s: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [s]), as: UTF8.self).dropFirst().dropLast().description
    }

    /// The provider's exact success shape.
    static func answerBody(_ text: String, path: String, model: String, tokensIn: Int, tokensOut: Int, usage: Bool) -> String {
        let t = escaped(text)
        if path.hasSuffix("/chat/completions") {
            return #"{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"\#(model)","choices":[{"index":0,"#
                + #""message":{"role":"assistant","content":\#(t)},"finish_reason":"stop"}]"#
                + (usage ? #","usage":{"prompt_tokens":\#(tokensIn),"completion_tokens":\#(tokensOut),"total_tokens":\#(tokensIn + tokensOut)}"# : "")
                + "}"
        }
        if path.hasSuffix("/messages") {
            return #"{"id":"msg_1","type":"message","role":"assistant","model":"\#(model)","content":[{"type":"text","text":\#(t)}],"#
                + #""stop_reason":"end_turn","stop_sequence":null"#
                + (usage ? #","usage":{"input_tokens":\#(tokensIn),"output_tokens":\#(tokensOut)}"# : "") + "}"
        }
        return #"{"candidates":[{"content":{"parts":[{"text":\#(t)}],"role":"model"},"finishReason":"STOP","index":0}],"#
            + (usage ? #""usageMetadata":{"promptTokenCount":\#(tokensIn),"candidatesTokenCount":\#(tokensOut),"totalTokenCount":\#(tokensIn + tokensOut)},"# : "")
            + #""modelVersion":"\#(model)"}"#
    }

    private static func json(_ status: Int, _ body: String, headers: [String: String] = [:]) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// Serves on 127.0.0.1 (a free port) while `body` runs; hands it the base URL (no path).
    func serve<T: Sendable>(_ body: @Sendable (_ baseURL: String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/v1/chat/completions") { request, _ -> Response in try await self.respond(request) }
        router.post("/v1/messages") { request, _ -> Response in try await self.respond(request) }
        router.post("/v1beta/models/{model}") { request, _ -> Response in try await self.respond(request) }
        return try await serveLocally(router, label: "fake-llm") { port in try await body("http://127.0.0.1:\(port)") }
    }

}

/// Runs `body` with several fake servers up at once.
func serving<T: Sendable>(_ servers: [FakeLLMServer], _ body: @Sendable @escaping ([String]) async throws -> T) async throws -> T {
    guard let first = servers.first else { return try await body([]) }
    return try await first.serve { base in
        try await serving(Array(servers.dropFirst())) { rest in try await body([base] + rest) }
    }
}
