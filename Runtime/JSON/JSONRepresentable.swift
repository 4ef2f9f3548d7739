/// A type that reads and writes its own JSON, without Codable.
///
/// Types that cross the stdio protocol once per request conform (API Gateway's request and
/// response, `JSONValue`). JSONEncoder's generic path costs about 30 µs for an API Gateway event
/// on this machine, and the emulator and the handler each pay it once per request; the
/// hand-written form costs a few. `FrameCodec` picks this form on both sides of the protocol
/// whenever the type has it, and Codable otherwise. The two forms must agree: tests decode each
/// type's written JSON with Codable and compare.
public protocol JSONRepresentable: Codable, Sendable {
    /// The value of a parsed JSON tree, with the same leniency as `init(from:)`. Nil where
    /// `init(from:)` would throw: the caller then decodes with Codable, for its error message.
    init?(json: JSONValue)
    /// Appends the value's JSON text.
    func writeJSON(to w: inout JSONWriter)
    /// About how many bytes `writeJSON` appends, so the writer allocates once.
    var jsonCapacityHint: Int { get }
}

extension JSONRepresentable {
    public var jsonCapacityHint: Int { 256 }
}

extension JSONValue: JSONRepresentable {
    public init?(json: JSONValue) { self = json }

    public func writeJSON(to w: inout JSONWriter) { w.value(self) }
}
