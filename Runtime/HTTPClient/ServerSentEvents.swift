/// Server-sent events (the WHATWG `text/event-stream` format) read incrementally, as the three
/// LLM APIs (and `POST /v1/generate`) stream them: lines ending in LF, CRLF or CR; `event:` and `data:` fields (several
/// `data:` lines joined with LF); comments (`:`) and other fields ignored; a blank line ends an
/// event. Written here because it is forty lines and no package in the mirror parses SSE
/// without bringing its own HTTP stack.
package struct ServerSentEvents: Sendable {
    package struct Event: Sendable, Equatable {
        package var name: String?
        package var data: String

        package init(name: String?, data: String) {
            self.name = name
            self.data = data
        }
    }

    private var line: [UInt8] = []
    private var lastWasCR = false
    private var name: String?
    private var data: [String] = []

    package init() {}

    /// The events completed by `bytes`.
    package mutating func feed(_ bytes: some Sequence<UInt8>) -> [Event] {
        var out: [Event] = []
        for b in bytes {
            if b == 0x0A && lastWasCR {  // the LF of a CRLF
                lastWasCR = false
                continue
            }
            lastWasCR = b == 0x0D
            if b == 0x0A || b == 0x0D {
                if let e = endLine() { out.append(e) }
            } else {
                line.append(b)
            }
        }
        return out
    }

    /// An event the stream ended without its blank line (some servers omit the last one).
    package mutating func finish() -> Event? {
        if !line.isEmpty { _ = endLine() }
        return data.isEmpty ? nil : endLine()
    }

    private mutating func endLine() -> Event? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            guard !data.isEmpty || name != nil else { return nil }
            defer { name = nil; data = [] }
            return Event(name: name, data: data.joined(separator: "\n"))
        }
        if line.first == 0x3A { return nil }  // a comment
        let text = String(decoding: line, as: UTF8.self)
        let field: Substring
        var value: Substring
        if let colon = text.firstIndex(of: ":") {
            field = text[..<colon]
            value = text[text.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
        } else {
            field = Substring(text)
            value = ""
        }
        switch field {
        case "event": name = String(value)
        case "data": data.append(String(value))
        default: break
        }
        return nil
    }
}
