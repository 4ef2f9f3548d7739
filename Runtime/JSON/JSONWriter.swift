#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Appends JSON text to a byte array by hand, for the frames written once per invocation where
/// `JSONEncoder`'s generic path costs tens of microseconds. Callers write keys and punctuation
/// with `raw`; `string` escapes as RFC 8259 requires.
public struct JSONWriter {
    public var bytes: [UInt8] = []

    public init(capacity: Int) { bytes.reserveCapacity(capacity) }

    public mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    public mutating func int(_ v: Int64) { bytes.append(contentsOf: String(v).utf8) }

    public mutating func string(_ s: String) {
        bytes.append(0x22)
        for b in s.utf8 {
            switch b {
            case 0x22: bytes.append(0x5C); bytes.append(0x22)
            case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
            case 0x0A: bytes.append(0x5C); bytes.append(0x6E)
            case 0x0D: bytes.append(0x5C); bytes.append(0x72)
            case 0x09: bytes.append(0x5C); bytes.append(0x74)
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: bytes.append(b)
            }
        }
        bytes.append(0x22)
    }

    public mutating func map(_ m: [String: String]) {
        bytes.append(0x7B)
        var first = true
        for (k, v) in m {
            if !first { bytes.append(0x2C) }
            first = false
            string(k)
            bytes.append(0x3A)
            string(v)
        }
        bytes.append(0x7D)
    }

    /// A number as JSONEncoder writes it: integral values without a fraction. JSON has no NaN or
    /// infinity; where JSONEncoder would throw, this writes `null`.
    public mutating func number(_ n: Double) {
        if !n.isFinite { raw("null") } else if n.rounded() == n, abs(n) < 9.0e15 { int(Int64(n)) } else { bytes.append(contentsOf: "\(n)".utf8) }
    }

    /// Any JSON value, object members in their order.
    public mutating func value(_ v: JSONValue) {
        switch v {
        case .null: raw("null")
        case .bool(let b): b ? raw("true") : raw("false")
        case .number(let n): number(n)
        case .string(let s): string(s)
        case .array(let a):
            bytes.append(0x5B)
            for (i, e) in a.enumerated() {
                if i > 0 { bytes.append(0x2C) }
                value(e)
            }
            bytes.append(0x5D)
        case .object(let o):
            bytes.append(0x7B)
            var first = true
            for (k, member) in o {
                if !first { bytes.append(0x2C) }
                first = false
                string(k)
                bytes.append(0x3A)
                value(member)
            }
            bytes.append(0x7D)
        }
    }

    public mutating func strings(_ a: [String]) {
        bytes.append(0x5B)
        for (i, s) in a.enumerated() {
            if i > 0 { bytes.append(0x2C) }
            string(s)
        }
        bytes.append(0x5D)
    }
}
