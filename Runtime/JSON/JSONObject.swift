import OrderedCollections

/// A JSON object's members, in the order they were written or inserted.
///
/// Order is kept so that what goes through the bundle comes out as it came in: a function's
/// payload returned by the emulator's Invoke API, a document's metadata read back, a schedule's
/// constant input. Equality and hashing ignore order, as JSON's object semantics do. Its
/// Codable form is a JSON object (swift-collections' own `OrderedDictionary` encodes as a flat
/// array of alternating keys and values, which is why this type wraps it). Duplicate keys:
/// the first one parsed wins, as with JSONDecoder.
public struct JSONObject: Sendable {
    package var members: OrderedDictionary<String, JSONValue>

    public init() { members = [:] }

    package init(members: OrderedDictionary<String, JSONValue>) { self.members = members }

    /// From a Swift dictionary, which has no order of its own: keys are sorted, so the same
    /// dictionary always gives the same object text.
    public init(_ dictionary: [String: JSONValue]) {
        members = OrderedDictionary(uniqueKeysWithValues: dictionary.sorted { $0.key < $1.key })
    }

    public subscript(key: String) -> JSONValue? {
        get { members[key] }
        set { members[key] = newValue }
    }

    public subscript(key: String, default defaultValue: @autoclosure () -> JSONValue) -> JSONValue {
        get { members[key] ?? defaultValue() }
        set { members[key] = newValue }
    }

    /// The keys, in order.
    public var keys: [String] { members.keys.elements }
    /// The values, in the keys' order.
    public var values: [JSONValue] { members.values.elements }
    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }

    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? { members.removeValue(forKey: key) }

    /// The members as a Swift dictionary (order dropped), with each value transformed.
    public func mapValues<T>(_ transform: (JSONValue) throws -> T) rethrows -> [String: T] {
        var out: [String: T] = [:]
        out.reserveCapacity(members.count)
        for (k, v) in members { out[k] = try transform(v) }
        return out
    }

    public func compactMapValues<T>(_ transform: (JSONValue) throws -> T?) rethrows -> [String: T] {
        var out: [String: T] = [:]
        for (k, v) in members { if let t = try transform(v) { out[k] = t } }
        return out
    }

    /// The members that pass `isIncluded`, in order.
    public func filter(_ isIncluded: ((key: String, value: JSONValue)) throws -> Bool) rethrows -> JSONObject {
        JSONObject(members: try members.filter(isIncluded))
    }

    /// This object with `other`'s members added; `combine` picks the value of a key in both.
    public func merging(_ other: JSONObject, uniquingKeysWith combine: (JSONValue, JSONValue) throws -> JSONValue) rethrows -> JSONObject {
        var out = self
        for (k, v) in other.members { out.members[k] = try out.members[k].map { try combine($0, v) } ?? v }
        return out
    }

    /// The members as a Swift dictionary (order dropped).
    public var dictionary: [String: JSONValue] { mapValues { $0 } }
}

extension JSONObject: Sequence {
    public typealias Element = (key: String, value: JSONValue)
    public func makeIterator() -> OrderedDictionary<String, JSONValue>.Iterator { members.makeIterator() }
    public var underestimatedCount: Int { members.count }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public typealias Key = String
    public typealias Value = JSONValue

    /// A literal keeps its order; a repeated key keeps its last value, as a dictionary literal would.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        members = [:]
        for (k, v) in elements { members[k] = v }
    }
}

extension JSONObject: Hashable {
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.members.count == b.members.count else { return false }
        for (k, v) in a.members where b.members[k] != v { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Order-independent: the sum of each member's own hash.
        var sum = 0
        for (k, v) in members {
            var h = Hasher()
            h.combine(k)
            h.combine(v)
            sum = sum &+ h.finalize()
        }
        hasher.combine(members.count)
        hasher.combine(sum)
    }
}

extension JSONObject: Codable {
    private struct MemberKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Members in the order the decoder lists them (JSONDecoder does not promise document
    /// order; `JSONValue.parse` does).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: MemberKey.self)
        members = [:]
        for key in c.allKeys where members[key.stringValue] == nil {
            members[key.stringValue] = try c.decode(JSONValue.self, forKey: key)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: MemberKey.self)
        for (k, v) in members { try c.encode(v, forKey: MemberKey(stringValue: k)) }
    }
}

extension JSONObject: CustomStringConvertible {
    public var description: String { "[" + members.map { "\($0.key.debugDescription): \($0.value)" }.joined(separator: ", ") + "]" }
}
