import Foundation
import TextFolding

/// The two languages the assistant speaks. The router writes its UI message in one, and
/// generation answers in one; both ask `detect`, so a request is never routed as Vietnamese and
/// answered in English.
package enum Language: String, Sendable, Codable, CaseIterable {
    case vi
    case en

    /// The language of `text`, in this order:
    /// 1. Vietnamese if it has a letter only Vietnamese uses (ă â đ ê ô ơ ư, or a tone mark on a vowel);
    /// 2. else whichever language has more of its common words in it (people type Vietnamese without
    ///    accents on phones and old keyboards: `xin nghi phep` is Vietnamese); words that are both
    ///    (`a`, `an`, `to`) are in neither list;
    /// 3. else English if the text is plain ASCII with no common Vietnamese word: without this,
    ///    with `default_language: vi`, about 3 percent of plain English requests ("define
    ///    antebellum", "undecided") were taken for Vietnamese; `VPN 2024` is English too;
    /// 4. else `fallback` (a tie of common words, or text in another script).
    package static func detect(_ text: String, fallback: Language) -> Language {
        detect(lowercased: text.lowercased(), terms: TextFolding.terms(text), fallback: fallback)
    }

    /// The same over text the caller has already lower-cased and split into folded terms (the
    /// router has both at hand).
    package static func detect(lowercased: String, terms: [String], fallback: Language) -> Language {
        let scalars = lowercased.precomposedStringWithCanonicalMapping.unicodeScalars
        if scalars.contains(where: { vietnameseLetters.contains($0) }) { return .vi }
        var vi = 0, en = 0
        for term in terms {
            if vietnameseWords.contains(term) { vi += 1 }
            if englishWords.contains(term) { en += 1 }
        }
        if vi > en { return .vi }
        if en > vi { return .en }
        if vi == 0, scalars.allSatisfy(\.isASCII) { return .en }
        return fallback
    }

    /// Lower-case letters that (in NFC) occur in Vietnamese and not in English.
    static let vietnameseLetters: Set<Unicode.Scalar> = Set(
        "ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ".precomposedStringWithCanonicalMapping.unicodeScalars)

    /// Frequent folded Vietnamese syllables that are not English words.
    static let vietnameseWords: Set<String> = [
        "anh", "ban", "bao", "bi", "cac", "cau", "chi", "chieu", "cho", "co", "con", "cong", "cua", "dang", "dao",
        "dat", "dau", "de", "di", "doc", "don", "duoc", "em", "gi", "giam", "giay", "gio", "giup", "gui", "hang",
        "hay", "het", "hoc", "hoi", "hom", "hop", "huy", "khach", "khau", "khi", "khoa", "khong", "kiem", "ky", "la",
        "lai", "lam", "lieu", "loi", "luong", "mai", "mat", "may", "minh", "mot", "mua", "muon", "nam", "nao", "nay",
        "neu", "ngay", "nghi", "nhan", "nhe", "nhieu", "nhu", "nhung", "nua", "o", "oi", "phai", "phep", "phi",
        "phong", "quen", "quy", "roi", "sang", "sao", "tac", "tai", "tao", "thang", "thanh", "them", "thi", "tien",
        "tinh", "toan", "toi", "tra", "trinh", "trong", "tuan", "ty", "va", "vay", "ve", "viec", "vien", "voi",
        "xac", "xem", "xin", "yeu",
    ]

    /// Frequent English words that are not folded Vietnamese syllables.
    static let englishWords: Set<String> = [
        "a", "about", "an", "and", "are", "book", "can", "cancel", "check", "day", "days", "do", "does", "expense",
        "for", "from", "get", "has", "have", "help", "how", "i", "in", "is", "it", "laptop", "leave", "like", "many",
        "me", "meeting", "much", "my", "need", "next", "of", "on", "order", "password", "please", "policy",
        "process", "request", "reset", "room", "should", "show", "status", "submit", "the", "there", "this", "to",
        "today", "tomorrow", "trip", "view", "want", "week", "what", "when", "where", "which", "who", "why", "will",
        "with", "would", "you", "your",
    ]
}
