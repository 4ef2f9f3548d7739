import JSON

// The hand-written halves of `JSONRepresentable` (the other halves, from a parsed tree, are in
// APIGatewayV2+JSONValue.swift). Both sides of the stdio protocol use them once per request.

extension APIGatewayV2Request {
    public func writeJSON(to w: inout JSONWriter) {
        w.raw("{\"version\":"); w.string(version)
        w.raw(",\"routeKey\":"); w.string(routeKey)
        w.raw(",\"rawPath\":"); w.string(rawPath)
        w.raw(",\"rawQueryString\":"); w.string(rawQueryString)
        if let cookies { w.raw(",\"cookies\":"); w.strings(cookies) }
        w.raw(",\"headers\":"); w.map(headers)
        if let q = queryStringParameters { w.raw(",\"queryStringParameters\":"); w.map(q) }
        if let p = pathParameters { w.raw(",\"pathParameters\":"); w.map(p) }
        if let s = stageVariables { w.raw(",\"stageVariables\":"); w.map(s) }
        if let body { w.raw(",\"body\":"); w.string(body) }
        w.raw(",\"isBase64Encoded\":"); w.raw(isBase64Encoded ? "true" : "false")
        let c = requestContext
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
        if let authorizer = c.authorizer {
            w.raw(",\"authorizer\":{")
            if let jwt = authorizer.jwt {
                w.raw("\"jwt\":{\"claims\":"); w.map(jwt.claims)
                if let scopes = jwt.scopes { w.raw(",\"scopes\":"); w.strings(scopes) }
                w.raw("}")
            }
            if let lambda = authorizer.lambda {
                if authorizer.jwt != nil { w.raw(",") }
                w.raw("\"lambda\":"); w.value(lambda)
            }
            w.raw("}")
        }
        w.raw("}}")
    }
}

extension APIGatewayV2Response {
    /// `{"statusCode":...,"headers":{...},"cookies":[...],"body":"...","isBase64Encoded":...}`
    public func writeJSON(to w: inout JSONWriter) {
        w.raw("{\"statusCode\":"); w.int(Int64(statusCode))
        if let headers { w.raw(",\"headers\":"); w.map(headers) }
        if let cookies { w.raw(",\"cookies\":"); w.strings(cookies) }
        if let body { w.raw(",\"body\":"); w.string(body) }
        if let isBase64Encoded { w.raw(",\"isBase64Encoded\":"); w.raw(isBase64Encoded ? "true" : "false") }
        w.raw("}")
    }
}

extension APIGatewayV2Request {
    public var jsonCapacityHint: Int { 512 + (body?.utf8.count ?? 0) }
}

extension APIGatewayV2Response {
    public var jsonCapacityHint: Int { 64 + (body?.utf8.count ?? 0) }
}
