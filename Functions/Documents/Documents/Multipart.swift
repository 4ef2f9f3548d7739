import Foundation

/// A `multipart/form-data` body (RFC 7578 over RFC 2046) split into its parts.
///
/// Lenient where clients differ, strict where a wrong guess would store the wrong bytes:
/// - the boundary comes from the `Content-Type` parameter, quoted or not (1-200 characters);
/// - a preamble before the first delimiter and an epilogue after the closing one are ignored;
/// - lines end in CRLF, or in a bare LF (some hand-written clients); the line break before a
///   delimiter belongs to the delimiter, not to the part's content;
/// - whitespace after a delimiter (transport padding) is allowed; a line that starts with the
///   delimiter but goes on (`--boundaryX`) is content, not a delimiter;
/// - header lines may be folded (continuation lines start with a space or tab); header values
///   are UTF-8, or Latin-1 when they are not valid UTF-8;
/// - a body without any delimiter, or without the closing `--boundary--`, is malformed (400):
///   a truncated upload must not be stored as if it were whole.
package struct MultipartForm: Sendable {
    package struct Part: Sendable {
        /// Header names lower-cased, in order.
        package var headers: [(name: String, value: String)]
        /// From `Content-Disposition: form-data; name="..."`.
        package var name: String?
        /// `filename*` (RFC 5987) when given, else `filename`; as sent, not yet sanitised.
        package var filename: String?
        package var contentType: String?
        package var body: ArraySlice<UInt8>

        package func header(_ name: String) -> String? {
            let lower = name.lowercased()
            return headers.first { $0.name == lower }?.value
        }
    }

    package var parts: [Part]

    /// At most this many parts; a form with more is malformed.
    package static let maxParts = 64
    /// At most this many bytes of headers per part.
    package static let maxHeaderBytes = 16 * 1024

    package enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case missingBoundary
        case invalidBoundary
        case noDelimiter
        case missingClosingDelimiter
        case malformedHeaders(String)
        case tooManyParts

        package var description: String {
            switch self {
            case .missingBoundary: "the multipart Content-Type has no boundary parameter"
            case .invalidBoundary: "the multipart boundary must be 1-200 characters without line breaks"
            case .noDelimiter: "the body does not contain the boundary given in Content-Type"
            case .missingClosingDelimiter: "the multipart body ends without its closing boundary (truncated upload?)"
            case .malformedHeaders(let why): "malformed part headers: \(why)"
            case .tooManyParts: "more than \(MultipartForm.maxParts) parts"
            }
        }
    }

    /// The `boundary` parameter of a `multipart/...` Content-Type.
    package static func boundary(contentType: String) throws(ParseError) -> String {
        let params = HeaderParameters.parse(contentType)
        guard let raw = params.parameters["boundary"] else { throw .missingBoundary }
        guard (1...200).contains(raw.utf8.count), !raw.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) else {
            throw .invalidBoundary
        }
        return raw
    }

    package static func parse(_ body: [UInt8], boundary: String) throws(ParseError) -> MultipartForm {
        let dash = Array(("--" + boundary).utf8)
        var parts: [Part] = []

        // The first delimiter: at the very start or at the start of a line.
        guard var delimiter = findDelimiter(body, dash, from: 0, atBodyStart: true) else { throw .noDelimiter }
        while true {
            var i = delimiter + dash.count
            if i + 1 < body.count, body[i] == 0x2D, body[i + 1] == 0x2D { break }  // `--boundary--`
            // Transport padding, then the line break that ends the delimiter line.
            while i < body.count, body[i] == 0x20 || body[i] == 0x09 { i += 1 }
            if i < body.count, body[i] == 0x0D { i += 1 }
            guard i < body.count, body[i] == 0x0A else { throw .missingClosingDelimiter }
            i += 1

            // Headers, up to the empty line.
            var lines: [ArraySlice<UInt8>] = []
            let headerStart = i
            while true {
                guard let lf = body[i...].firstIndex(of: 0x0A) else { throw .missingClosingDelimiter }
                var end = lf
                if end > i, body[end - 1] == 0x0D { end -= 1 }
                let line = body[i..<end]
                i = lf + 1
                if line.isEmpty { break }
                lines.append(line)
                if i - headerStart > maxHeaderBytes { throw .malformedHeaders("more than \(maxHeaderBytes) bytes of headers") }
            }
            let contentStart = i

            // The content runs to the line break before the next delimiter.
            guard let next = findDelimiter(body, dash, from: contentStart, atBodyStart: false) else {
                throw .missingClosingDelimiter
            }
            var contentEnd = next - 1  // the LF
            if contentEnd > contentStart, body[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            contentEnd = max(contentEnd, contentStart)

            var part = Part(headers: try parseHeaders(lines), name: nil, filename: nil, contentType: nil,
                            body: body[contentStart..<contentEnd])
            if let disposition = part.header("content-disposition") {
                let p = HeaderParameters.parse(disposition)
                part.name = p.parameters["name"]
                part.filename = p.parameters["filename*"].flatMap(HeaderParameters.decodeExtendedValue) ?? p.parameters["filename"]
            }
            part.contentType = part.header("content-type")
            parts.append(part)
            guard parts.count <= maxParts else { throw .tooManyParts }
            delimiter = next
        }
        return MultipartForm(parts: parts)
    }

    /// The next `--boundary` that starts a line (or the body, for the first one) and is a whole
    /// delimiter: followed by `--`, padding, a line break, or nothing more of the boundary.
    static func findDelimiter(_ body: [UInt8], _ dash: [UInt8], from start: Int, atBodyStart: Bool) -> Int? {
        guard let first = dash.first, body.count >= dash.count else { return nil }
        var i = start
        let last = body.count - dash.count
        while i <= last {
            guard let hit = body[i...last].firstIndex(of: first) else { return nil }
            i = hit
            // Search starts at the part's content, so a line break before `hit` lies within it
            // (or is the empty line ending the headers: an empty part from a sloppy client).
            let startsLine = (hit == 0 && atBodyStart) || (hit > 0 && body[hit - 1] == 0x0A)
            if startsLine, body[hit..<(hit + dash.count)].elementsEqual(dash) {
                let after = hit + dash.count
                if after == body.count { return hit }  // truncated right after: the caller decides
                let b = body[after]
                let closing = b == 0x2D && after + 1 < body.count && body[after + 1] == 0x2D
                if closing || b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A { return hit }
            }
            i += 1
        }
        return nil
    }

    static func parseHeaders(_ lines: [ArraySlice<UInt8>]) throws(ParseError) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        for line in lines {
            let text = HeaderParameters.decodeHeaderBytes(line)
            if let first = line.first, first == 0x20 || first == 0x09 {
                // A folded continuation of the previous header.
                guard !out.isEmpty else { throw .malformedHeaders("a continuation line before any header") }
                out[out.count - 1].value += " " + text.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = text.firstIndex(of: ":") else { throw .malformedHeaders("a header line without a colon") }
            let name = text[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            guard !name.isEmpty, !name.contains(" ") else { throw .malformedHeaders("an empty or spaced header name") }
            out.append((name, text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return out
    }
}

/// `value; key=token; key="quoted \" string"; key*=UTF-8''percent%20encoded`: the first item and
/// the parameters (names lower-cased). In quoted strings only `\"` and `\\` are escapes, so a
/// Windows path (`C:\Users\a.txt`) keeps its backslashes, as browsers send it.
package enum HeaderParameters {
    package static func parse(_ header: String) -> (value: String, parameters: [String: String]) {
        let scalars = Array(header.unicodeScalars)
        var i = 0
        func skipSpaces() { while i < scalars.count, scalars[i] == " " || scalars[i] == "\t" { i += 1 } }
        var value = ""
        while i < scalars.count, scalars[i] != ";" { value.unicodeScalars.append(scalars[i]); i += 1 }
        var params: [String: String] = [:]
        while i < scalars.count {
            i += 1  // the `;`
            skipSpaces()
            var name = ""
            while i < scalars.count, scalars[i] != "=", scalars[i] != ";" { name.unicodeScalars.append(scalars[i]); i += 1 }
            name = name.trimmingCharacters(in: .whitespaces).lowercased()
            guard i < scalars.count, scalars[i] == "=" else { continue }
            i += 1
            skipSpaces()
            var v = ""
            if i < scalars.count, scalars[i] == "\"" {
                i += 1
                while i < scalars.count, scalars[i] != "\"" {
                    if scalars[i] == "\\", i + 1 < scalars.count, scalars[i + 1] == "\"" || scalars[i + 1] == "\\" { i += 1 }
                    v.unicodeScalars.append(scalars[i])
                    i += 1
                }
                if i < scalars.count { i += 1 }  // closing quote
                while i < scalars.count, scalars[i] != ";" { i += 1 }
            } else {
                while i < scalars.count, scalars[i] != ";" { v.unicodeScalars.append(scalars[i]); i += 1 }
                v = v.trimmingCharacters(in: .whitespaces)
            }
            // The first occurrence wins: a repeated parameter cannot override what came first.
            if !name.isEmpty, params[name] == nil { params[name] = v }
        }
        return (value.trimmingCharacters(in: .whitespaces), params)
    }

    /// RFC 5987 `charset'language'value` with percent-encoding; UTF-8 and ISO-8859-1 charsets.
    package static func decodeExtendedValue(_ text: String) -> String? {
        let pieces = text.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count == 3 else { return nil }
        let charset = pieces[0].lowercased()
        var bytes: [UInt8] = []
        var utf8 = Array(pieces[2].utf8)[...]
        while let b = utf8.popFirst() {
            if b == 0x25 {
                guard utf8.count >= 2, let hi = hexValue(utf8[utf8.startIndex]), let lo = hexValue(utf8[utf8.startIndex + 1]) else { return nil }
                bytes.append(hi << 4 | lo)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        switch charset {
        case "utf-8", "utf8": return String(validating: bytes, as: UTF8.self)
        case "iso-8859-1", "latin1", "": return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        default: return nil
        }
    }

    /// Header bytes as text: UTF-8 (what browsers send for non-ASCII file names), else Latin-1.
    static func decodeHeaderBytes(_ bytes: ArraySlice<UInt8>) -> String {
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: nil
        }
    }
}
