import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import TestSupport

/// A local server speaking the four rerank wire formats at their own paths. It scores a
/// document by how many of the query's words it holds (so a test knows the order to expect),
/// answers best first (so clients must place scores by `index`), and can be told to fail.
final class FakeRerankServer: Sendable {
    struct Seen: Sendable {
        var path: String
        var json: [String: any Sendable]
        var authorization: String?
    }
    let requests = Mutex<[Seen]>([])
    /// The status to answer instead, while set.
    let failing = Mutex<Int?>(nil)
    /// A body to answer with instead of scores (a malformed response), while set.
    let garbage = Mutex<String?>(nil)

    static func score(_ query: String, _ document: String) -> Double {
        let words = Set(query.lowercased().split(separator: " ").map(String.init))
        let doc = document.lowercased()
        return Double(words.filter { doc.contains($0) }.count) + 1 / Double(doc.count + 1)
    }

    func respond(_ request: Request, format: String) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 1 << 24)
        let json = (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] ?? [:]
        requests.withLock { $0.append(Seen(path: request.uri.path, json: json.mapValues { "\($0)" }, authorization: request.headers[.authorization])) }
        if let status = failing.withLock({ $0 }) { return Self.reply(status, #"{"message":"scripted failure"}"#) }
        if let body = garbage.withLock({ $0 }) { return Self.reply(200, body) }
        // Jina and Voyage share `/v1/rerank`; Voyage asks with `top_k`.
        let format = format == "v1" ? (json["top_k"] != nil ? "voyage" : "jina") : format
        let query = json["query"] as? String ?? ""
        let docs = (json[format == "tei" ? "texts" : "documents"] as? [String]) ?? []
        let ranked = docs.enumerated().map { ($0.offset, Self.score(query, $0.element)) }.sorted { $0.1 > $1.1 }
        let items = ranked.map { i, s in format == "tei" ? "{\"index\":\(i),\"score\":\(s)}" : "{\"index\":\(i),\"relevance_score\":\(s)}" }
        let list = "[" + items.joined(separator: ",") + "]"
        let body = switch format {
        case "tei": list
        case "voyage": "{\"object\":\"list\",\"data\":\(list),\"model\":\"rerank-2\",\"usage\":{\"total_tokens\":10}}"
        default: "{\"id\":\"x\",\"results\":\(list),\"meta\":{}}"
        }
        return Self.reply(200, body)
    }

    static func reply(_ status: Int, _ body: String) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    func serve<T: Sendable>(_ body: @Sendable (_ baseURL: String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/v2/rerank") { r, _ -> Response in try await self.respond(r, format: "cohere") }
        router.post("/v1/rerank") { r, _ -> Response in try await self.respond(r, format: "v1") }
        router.post("/rerank") { r, _ -> Response in try await self.respond(r, format: "tei") }
        return try await serveLocally(router, label: "fake-rerank") { port in try await body("http://127.0.0.1:\(port)") }
    }
}
