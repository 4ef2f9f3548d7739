import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TestSupport

/// An OpenAI-compatible `POST /v1/chat/completions` on 127.0.0.1 that answers every request with
/// `answer` in the exact wire shape, recording what it was sent.
actor FakeChatServer {
    struct Seen: Sendable {
        var authorization: String?
        var body: [String: Any] { (try? JSONSerialization.jsonObject(with: raw)) as? [String: Any] ?? [:] }
        var raw: Data
        var userText: String { ((body["messages"] as? [[String: Any]])?.last?["content"] as? String) ?? "" }
    }

    let answer: String
    /// Between two streamed pieces (a word each), when a request asks for `"stream": true`.
    let pause: Duration
    private(set) var requests: [Seen] = []
    /// Streamed pieces written so far, and streams written to their end.
    private(set) var piecesWritten = 0
    private(set) var streamsFinished = 0
    private func wrote() { piecesWritten += 1 }
    private func finished() { streamsFinished += 1 }

    /// With `holdAfter`, a streamed answer stops after that many words until `release()`.
    let holdAfter: Int?
    private let released: AsyncStream<Void>
    private let releaser: AsyncStream<Void>.Continuation

    init(answer: String, pause: Duration = .zero, holdAfter: Int? = nil) {
        self.answer = answer
        self.pause = pause
        self.holdAfter = holdAfter
        (released, releaser) = AsyncStream<Void>.makeStream()
    }

    nonisolated func release() { releaser.finish() }
    private func waitForRelease() async { for await _ in released {} }

    /// The answer a word at a time in OpenAI's streaming form, usage in the last event.
    private func streamed(model: String) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "text/event-stream"
        let words = answer.split(separator: " ", omittingEmptySubsequences: false).enumerated().map { $0.offset == 0 ? String($0.element) : " " + $0.element }
        let pause = self.pause
        let holdAfter = self.holdAfter
        return Response(status: .ok, headers: fields, body: ResponseBody { writer in
            for (i, word) in words.enumerated() {
                if i == holdAfter { await self.waitForRelease() }
                if pause > .zero { try await Task.sleep(for: pause) }
                let text = String(decoding: try JSONSerialization.data(withJSONObject: [word]), as: UTF8.self).dropFirst().dropLast()
                try await writer.write(ByteBuffer(string: #"data: {"id":"c","object":"chat.completion.chunk","model":"\#(model)","choices":[{"index":0,"delta":{"content":\#(text)},"finish_reason":null}]}"# + "\n\n"))
                await self.wrote()
            }
            try await writer.write(ByteBuffer(string: #"data: {"id":"c","object":"chat.completion.chunk","model":"\#(model)","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\n"
                + #"data: {"id":"c","object":"chat.completion.chunk","model":"\#(model)","choices":[],"usage":{"prompt_tokens":321,"completion_tokens":17,"total_tokens":338}}"# + "\n\ndata: [DONE]\n\n"))
            await self.finished()
            try await writer.finish(nil)
        })
    }

    private func respond(_ request: Request) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 16 << 20)
        let seen = Seen(authorization: request.headers[.authorization], raw: Data(buffer.readableBytesView))
        requests.append(seen)
        if seen.body["stream"] as? Bool == true { return streamed(model: seen.body["model"] as? String ?? "?") }
        let text = String(decoding: try JSONSerialization.data(withJSONObject: [answer]), as: UTF8.self).dropFirst().dropLast()
        let model = seen.body["model"] as? String ?? "?"
        let body = #"{"id":"chatcmpl-e2e","object":"chat.completion","model":"\#(model)","choices":[{"index":0,"message":{"role":"assistant","content":\#(text)},"finish_reason":"stop"}],"usage":{"prompt_tokens":321,"completion_tokens":17,"total_tokens":338}}"#
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    func serve<T: Sendable>(_ body: @Sendable (_ baseURL: String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/v1/chat/completions") { request, _ -> Response in try await self.respond(request) }
        return try await serveLocally(router, label: "fake-chat") { port in try await body("http://127.0.0.1:\(port)") }
    }
}
