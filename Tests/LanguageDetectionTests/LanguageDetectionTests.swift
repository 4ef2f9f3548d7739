import LanguageDetection
import Testing

/// The one detector routing and generation share, one table.
@Suite struct LanguageDetectionTests {
    /// (text, fallback, expected)
    static let table: [(String, Language, Language)] = [
        // A letter only Vietnamese has decides, whatever the default.
        ("xin nghỉ phép ngày mai", .en, .vi),
        ("Quy trình mua hàng như thế nào?", .en, .vi),
        ("Đà Nẵng", .en, .vi),
        ("ĐĂNG KÝ PHÒNG HỌP", .en, .vi),
        // Vietnamese typed without accents: its common syllables.
        ("xin nghi phep ngay mai", .en, .vi),
        ("toi muon dat phong hop", .en, .vi),
        ("xin nghi phep bao nhieu ngay", .en, .vi),
        // English by its common words.
        ("I want to book a meeting room", .vi, .en),
        ("How do I request leave?", .vi, .en),
        ("reset my password please", .vi, .en),
        // Plain ASCII with no Vietnamese word is English even with a Vietnamese default.
        ("define antebellum", .vi, .en),
        ("undecided", .vi, .en),
        ("VPN 2024", .vi, .en),
        ("VPN", .en, .en),
        // Nothing tells: the default.
        ("请假", .vi, .vi),
        ("请假", .en, .en),
        ("xin please", .vi, .vi),  // one common word each
        ("xin please", .en, .en),
    ]

    @Test func theTable() {
        for (text, fallback, expected) in Self.table {
            #expect(Language.detect(text, fallback: fallback) == expected, "\(text) (default \(fallback))")
        }
    }
}
