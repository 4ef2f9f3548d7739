import Foundation

/// `created_at` in ms and the id of the last item of a page, opaque to clients.
package enum PageCursor {
    package static func encode(ms: Int64, id: String) -> String {
        Data("\(ms):\(id)".utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    package static func decode(_ cursor: String) throws(StoreError) -> (Int64, String) {
        var b64 = cursor
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64), let text = String(data: data, encoding: .utf8),
              let colon = text.firstIndex(of: ":"), let ms = Int64(text[..<colon]) else {
            throw .invalidInput(field: "cursor", reason: "not a cursor this API returned")
        }
        return (ms, String(text[text.index(after: colon)...]))
    }
}

