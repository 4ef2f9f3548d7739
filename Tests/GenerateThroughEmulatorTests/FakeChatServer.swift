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
    private(set) var requests: [Seen] = []

    init(answer: String) { self.answer = answer }

    private func respond(_ request: Request) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 16 << 20)
        let seen = Seen(authorization: request.headers[.authorization], raw: Data(buffer.readableBytesView))
        requests.append(seen)
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
