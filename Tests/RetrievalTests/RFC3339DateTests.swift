import Foundation
@testable import Retrieval
import Testing

/// The search filters' dates: RFC 3339 exactly, every field in range, or nil (a 422).
@Suite struct RFC3339DateTests {
    @Test func validDatesParseToTheRightInstant() {
        #expect(RFC3339Date.parse("1970-01-01")?.timeIntervalSince1970 == 0)
        #expect(RFC3339Date.parse("2026-01-01T00:00:00Z")?.timeIntervalSince1970 == 1_767_225_600)
        #expect(RFC3339Date.parse("2026-01-01T07:00:00+07:00")?.timeIntervalSince1970 == 1_767_225_600)
        #expect(RFC3339Date.parse("2025-12-31T22:30:00-01:30")?.timeIntervalSince1970 == 1_767_225_600)
        #expect(RFC3339Date.parse("2026-01-01T00:00:00.250Z")?.timeIntervalSince1970 == 1_767_225_600.25)
        #expect(RFC3339Date.parse("2024-02-29") != nil && RFC3339Date.parse("2000-02-29") != nil)
        #expect(RFC3339Date.parse("0001-01-01") != nil && RFC3339Date.parse("9999-12-31T23:59:59Z") != nil)
    }

    @Test(arguments: ["9999999-01-01", "2026-01-01T00:00:00+99:99", "2026-01-01\u{0}", "2026-01-01T00:00:00Z\u{0}", "2026-13-01",
                      "2026-02-29", "1900-02-29", "2026-04-31", "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z", "2026-1-1",
                      "2026-01-01T00:00:00", "2026-01-01T00:00Z", "2026-01-01 00:00:00Z", "0000-01-01", "+2026-01-01", "yesterday", "",
                      "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00+0700", " 2026-01-01"])
    func invalidDatesAreRefused(_ text: String) {
        #expect(RFC3339Date.parse(text) == nil, "\(text.debugDescription)")
    }
}
