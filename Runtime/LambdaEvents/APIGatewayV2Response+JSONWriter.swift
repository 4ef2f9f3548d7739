#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

import JSON

extension APIGatewayV2Response {
    /// `{"statusCode":...,"headers":{...},"cookies":[...],"body":"...","isBase64Encoded":...}`
    public func write(to w: inout JSONWriter) {
        w.raw("{\"statusCode\":"); w.int(Int64(statusCode))
        if let headers { w.raw(",\"headers\":"); w.map(headers) }
        if let cookies { w.raw(",\"cookies\":"); w.strings(cookies) }
        if let body { w.raw(",\"body\":"); w.string(body) }
        if let isBase64Encoded { w.raw(",\"isBase64Encoded\":"); w.raw(isBase64Encoded ? "true" : "false") }
        w.raw("}")
    }
}
