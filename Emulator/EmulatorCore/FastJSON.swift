import FunctionProtocol
import JSON
import LambdaEvents
import NIOCore

/// Writes the invoke frame of an HTTP event by hand. JSONEncoder's generic Codable path costs
/// about 30 µs for this frame; the emulator sends one per request, so it is written directly
/// (tests check the output decodes to exactly the same frame).
enum InvokeFrameWriter {
    static func line(requestId: String, deadlineMs: Int64, functionName: String, invokedFunctionArn: String,
                     traceId: String?, event e: APIGatewayV2Request) -> ByteBuffer {
        var w = JSONWriter(capacity: 768 + (e.body?.utf8.count ?? 0))
        w.raw("{\"type\":\"invoke\",\"requestId\":"); w.string(requestId)
        w.raw(",\"deadlineMs\":"); w.int(deadlineMs)
        w.raw(",\"functionName\":"); w.string(functionName)
        w.raw(",\"invokedFunctionArn\":"); w.string(invokedFunctionArn)
        if let traceId { w.raw(",\"traceId\":"); w.string(traceId) }
        w.raw(",\"event\":{\"version\":"); w.string(e.version)
        w.raw(",\"routeKey\":"); w.string(e.routeKey)
        w.raw(",\"rawPath\":"); w.string(e.rawPath)
        w.raw(",\"rawQueryString\":"); w.string(e.rawQueryString)
        if let cookies = e.cookies { w.raw(",\"cookies\":"); w.strings(cookies) }
        w.raw(",\"headers\":"); w.map(e.headers)
        if let q = e.queryStringParameters { w.raw(",\"queryStringParameters\":"); w.map(q) }
        if let p = e.pathParameters { w.raw(",\"pathParameters\":"); w.map(p) }
        if let s = e.stageVariables { w.raw(",\"stageVariables\":"); w.map(s) }
        if let body = e.body { w.raw(",\"body\":"); w.string(body) }
        w.raw(",\"isBase64Encoded\":"); w.raw(e.isBase64Encoded ? "true" : "false")
        let c = e.requestContext
        w.raw(",\"requestContext\":{\"accountId\":"); w.string(c.accountId)
        w.raw(",\"apiId\":"); w.string(c.apiId)
        if let d = c.domainName { w.raw(",\"domainName\":"); w.string(d) }
        if let d = c.domainPrefix { w.raw(",\"domainPrefix\":"); w.string(d) }
        w.raw(",\"http\":{\"method\":"); w.string(c.http.method)
        w.raw(",\"path\":"); w.string(c.http.path)
        w.raw(",\"protocol\":"); w.string(c.http.protocol)
        w.raw(",\"sourceIp\":"); w.string(c.http.sourceIp)
        w.raw(",\"userAgent\":"); w.string(c.http.userAgent)
        w.raw("},\"requestId\":"); w.string(c.requestId)
        w.raw(",\"routeKey\":"); w.string(c.routeKey)
        w.raw(",\"stage\":"); w.string(c.stage)
        w.raw(",\"time\":"); w.string(c.time)
        w.raw(",\"timeEpoch\":"); w.int(c.timeEpoch)
        if let jwt = c.authorizer?.jwt {
            w.raw(",\"authorizer\":{\"jwt\":{\"claims\":"); w.map(jwt.claims)
            if let scopes = jwt.scopes { w.raw(",\"scopes\":"); w.strings(scopes) }
            w.raw("}}")
        }
        w.raw("}}}\n")
        return ByteBuffer(bytes: w.bytes)
    }
}
