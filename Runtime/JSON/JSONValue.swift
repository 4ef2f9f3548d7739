#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Any JSON value. Used where a payload's shape is not known to the code carrying it:
/// the emulator forwarding a handler's answer, a schedule's constant `Input`, metadata, test
/// fixtures. Lives in its own module, apart from Lambda's event types, so that the stores and the
/// ML code can carry JSON without importing anything Lambda- or HTTP-shaped.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var doubleValue: Double? {
        if case .number(let n) = self { return n }
        return nil
    }

    public var intValue: Int? {
        if case .number(let n) = self, n.rounded() == n, abs(n) < 9.0e15 { return Int(n) }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The value as text: strings as they are, everything else as compact JSON.
    public var textValue: String {
        switch self {
        case .string(let s): return s
        default: return String(decoding: jsonBytes(), as: UTF8.self)
        }
    }

    /// Parses JSON text, keeping object members in document order.
    public static func decode(_ data: Data) throws -> JSONValue { try parse(data) }

    /// Compact JSON text, object members in their order.
    public func encoded() throws -> Data { Data(jsonBytes()) }

    /// Compact JSON text, object members in their order (JSON has no NaN or infinity: `null`).
    public func jsonBytes() -> [UInt8] {
        var w = JSONWriter(capacity: 64)
        w.value(self)
        return w.bytes
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        // Most common shapes first: every failed attempt costs a thrown DecodingError.
        if c.decodeNil() { self = .null }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let o = try? c.decode(JSONObject.self) { self = .object(o) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else { self = .array(try c.decode([JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n):
            if n.rounded() == n, abs(n) < 9.0e15 { try c.encode(Int64(n)) } else { try c.encode(n) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var o = JSONObject()
        for (k, v) in elements { o[k] = v }
        self = .object(o)
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
    /// The path (`filter.metadata.team`, `document_ids[2]`, relative to `path`) of the first key or
    /// string that holds U+0000, or nil. SQLite and libpq read strings as C strings, so a NUL
    /// would cut an id or a filter value short and match another row: the API and the stores
    /// refuse such values, and name where they were.
    public func pathHoldingNUL(path: String = "") -> String? {
        switch self {
        case .string(let s): return s.utf8.contains(0) ? path : nil
        case .array(let a):
            for (i, v) in a.enumerated() { if let f = v.pathHoldingNUL(path: "\(path)[\(i)]") { return f } }
            return nil
        case .object(let o):
            for key in o.keys.sorted() {
                if key.utf8.contains(0) { return path }
                if let f = o[key]!.pathHoldingNUL(path: path.isEmpty ? key : "\(path).\(key)") { return f }
            }
            return nil
        default: return nil
        }
    }
}

