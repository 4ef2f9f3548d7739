import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TestSupport

/// What the fake server answers to one request.
enum Reply: Sendable {
    /// A correct answer, its items in reverse order (so clients must sort by `index`).
    case embeddings(reversed: Bool = true, usage: Bool = true, objectField: Bool = true)
    /// Any status, body and headers.
    case status(Int, body: String = "", headers: [String: String] = [:])
    /// HTTP 200 with this body, built from the inputs and the dimension the request implies.
    case custom(@Sendable (_ inputs: [String], _ dimension: Int) -> String)
    /// A correct answer after a pause.
    case slow(Duration)
}

/// A request as the fake server saw it.
struct SeenRequest: Sendable {
    var path: String
    var authorization: String?
    var contentType: String?
    var keys: Set<String>
    var inputs: [String]
    var model: String?
    var dimensions: Int?
    var task: String?
    var encodingFormat: String?
    var at: ContinuousClock.Instant

    init(path: String, authorization: String?, contentType: String?, body: Data) {
        let json = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
        self.path = path
        self.authorization = authorization
        self.contentType = contentType
        keys = Set(json.keys)
        inputs = json["input"] as? [String] ?? []
        model = json["model"] as? String
        dimensions = json["dimensions"] as? Int
        task = json["task"] as? String
        encodingFormat = json["encoding_format"] as? String
        at = .now
    }
}

/// An OpenAI-compatible `/v1/embeddings` on 127.0.0.1, scripted per test. Vectors are derived
/// from a hash of each input as received, so a test can tell which text (prefix included) a
/// vector belongs to.
actor FakeEmbeddingServer {
    let dimension: Int
    private var script: [Reply]
    private let fallback: Reply
    private(set) var requests: [SeenRequest] = []

    init(dimension: Int, script: [Reply] = [], then fallback: Reply = .embeddings()) {
        self.dimension = dimension
        self.script = script
        self.fallback = fallback
    }

    var requestCount: Int { requests.count }

    /// The raw (unnormalised) vector the server sends for `text`: deterministic, non-zero.
    static func rawVector(_ text: String, dimension: Int) -> [Float] {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        var x = h | 1
        return (0..<dimension).map { _ in
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            return Float(Int64(x % 2001) - 1000) / 250  // [-4, 4], not unit length
        }
    }

    static func expected(_ text: String, dimension: Int) -> [Float] {
        let v = rawVector(text, dimension: dimension)
        let n = Float(v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot())
        return v.map { $0 / n }
    }

    /// A correct `/v1/embeddings` body.
    static func body(_ inputs: [String], dimension: Int, reversed: Bool = true, usage: Bool = true, objectField: Bool = true) -> String {
        var items = inputs.enumerated().map { i, text in
            let floats = rawVector(text, dimension: dimension).map { "\($0)" }.joined(separator: ",")
            return (objectField ? "{\"object\":\"embedding\"," : "{") + "\"index\":\(i),\"embedding\":[\(floats)]}"
        }
        if reversed { items.reverse() }
        let tokens = inputs.reduce(0) { $0 + $1.split(separator: " ").count + 2 }
        return "{\"object\":\"list\",\"data\":[\(items.joined(separator: ","))],\"model\":\"fake\""
            + (usage ? ",\"usage\":{\"prompt_tokens\":\(tokens),\"total_tokens\":\(tokens)}" : "") + "}"
    }

    private func next(_ seen: SeenRequest) -> Reply {
        requests.append(seen)
        return script.isEmpty ? fallback : script.removeFirst()
    }

    private func respond(_ request: Request) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 64 << 20)
        let data = Data(buffer.readableBytesView)
        let seen = SeenRequest(path: request.uri.path, authorization: request.headers[.authorization],
                               contentType: request.headers[.contentType], body: data)
        let reply = next(seen)
        let inputs = seen.inputs
        let dim = seen.dimensions ?? dimension
        switch reply {
        case .embeddings(let reversed, let usage, let objectField):
            return Self.json(200, Self.body(inputs, dimension: dim, reversed: reversed, usage: usage, objectField: objectField))
        case .status(let code, let body, let headers):
            return Self.json(code, body, headers: headers)
        case .custom(let make):
            return Self.json(200, make(inputs, dim))
        case .slow(let pause):
            try? await Task.sleep(for: pause)
            return Self.json(200, Self.body(inputs, dimension: dim))
        }
    }

    private static func json(_ status: Int, _ body: String, headers: [String: String] = [:]) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// Serves on 127.0.0.1 (a free port) while `body` runs; hands it the base URL.
    func serve<T: Sendable>(_ body: @Sendable (_ baseURL: String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/v1/embeddings") { request, _ -> Response in try await self.respond(request) }
        router.post("/custom/v1/embeddings") { request, _ -> Response in try await self.respond(request) }
        return try await serveLocally(router, label: "fake-embeddings") { port in try await body("http://127.0.0.1:\(port)") }
    }

}

/// A port on 127.0.0.1 that nothing listens on: bound, read, closed.
func closedPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
            bind(fd, p, len)
            return getsockname(fd, p, &len)
        }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}
