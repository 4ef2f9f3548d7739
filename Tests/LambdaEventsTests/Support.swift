import Foundation
import LambdaEvents
import Testing

/// Loads one of the AWS documented example events copied into the test bundle.
func example(_ name: String) throws -> Data {
    let url = try #require(
        Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Examples"),
        "missing example \(name).json in the test bundle")
    return try Data(contentsOf: url)
}

func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(json.utf8))
}

func jsonObject(_ data: Data) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

/// A request as a handler would see it, with only what a test cares about.
func request(
    method: String = "GET", path: String = "/", routeKey: String = "$default", headers: [String: String] = [:],
    query: [String: String]? = nil, pathParameters: [String: String]? = nil, body: String? = nil,
    isBase64Encoded: Bool = false, claims: [String: String]? = nil
) -> APIGatewayV2Request {
    APIGatewayV2Request(
        routeKey: routeKey, rawPath: path, headers: headers, queryStringParameters: query,
        pathParameters: pathParameters, body: body, isBase64Encoded: isBase64Encoded,
        requestContext: .init(
            http: .init(method: method, path: path), requestId: "req-1", routeKey: routeKey,
            time: "04/Mar/2020:19:03:58 +0000", timeEpoch: 1_583_348_638_390,
            authorizer: claims.map { .init(jwt: .init(claims: $0, scopes: nil)) }))
}
