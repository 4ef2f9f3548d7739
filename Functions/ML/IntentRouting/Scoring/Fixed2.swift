/// Two-decimal formatting for reasoning strings. `String(format:)` goes through Foundation's
/// printf on Linux, tens of microseconds for the dozens of numbers a result explains.
enum Fixed2 {
    static func format(_ x: Double) -> String {
        guard x.isFinite else { return "\(x)" }
        let hundredths = Int((abs(x) * 100).rounded())
        let sign = x < 0 && hundredths != 0 ? "-" : ""
        let fraction = hundredths % 100
        return "\(sign)\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
