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

    /// The router's normalised text gives what the shared detector gives the raw text (the table
    /// is in LanguageDetectionTests).
    @Test(arguments: ["xin nghỉ phép ngày mai", "XIN NGHI PHEP", "I want to book a meeting room", "define antebellum", "Đà Nẵng", "VPN 2024"])
    func routerAgreesWithTheSharedDetector(text: String) {
        for fallback in Language.allCases {
            #expect(RequestLanguage.detect(NormalizedText(text), fallback: fallback) == Language.detect(text, fallback: fallback))
        }
    }
}
