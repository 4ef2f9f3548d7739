import Testing
@testable import IntentRouting

@Suite struct PreprocessingTests {
    @Test func normalisesUnicodeCaseAndWhitespace() {
        // "nghỉ" written decomposed (i + combining hook above) and with odd spacing and case.
        let decomposed = "Xin  NGHI\u{0309}   phép\n mai "
        let t = NormalizedText(decomposed)
        #expect(t.normalized == "xin nghỉ phép mai")
        #expect(t.normalized.unicodeScalars.count == "xin nghỉ phép mai".unicodeScalars.count)  // NFC
        #expect(t.folded == "xin nghi phep mai")
        #expect(t.terms == ["xin", "nghi", "phep", "mai"])
    }

    @Test func foldsVietnameseDiacriticsAndD() {
        #expect(NormalizedText("Đặt phòng họp").folded == "dat phong hop")
        #expect(NormalizedText("xin nghi phep").terms == NormalizedText("xin nghỉ phép").terms)
    }

    @Test func emptyAfterNormalising() {
        #expect(NormalizedText("  \n ").isEmpty)
        #expect(NormalizedText("?!").isEmpty)
    }

    @Test(arguments: [
        ("xin nghỉ phép ngày mai", RequestLanguage.vi),
        ("xin nghi phep ngay mai", .vi),        // no accents: common Vietnamese syllables
        ("toi muon dat phong hop", .vi),
        ("I want to book a meeting room", .en),
        ("reset my password please", .en),
        ("Đà Nẵng", .vi),
    ])
    func detectsLanguage(text: String, expected: RequestLanguage) {
        #expect(RequestLanguage.detect(NormalizedText(text)) == expected)
    }

    @Test func fallsBackWhenNothingTells() {
        #expect(RequestLanguage.detect(NormalizedText("VPN 2024"), fallback: .en) == .en)
        #expect(RequestLanguage.detect(NormalizedText("VPN 2024"), fallback: .vi) == .vi)
    }
}
