import TextFolding

/// The language the UI message is written in. Only the two the assistant speaks.
public enum RequestLanguage: String, Sendable, Codable, CaseIterable {
    case vi
    case en

    /// Vietnamese if the text has a letter only Vietnamese uses (ă â đ ê ô ơ ư or a tone mark on a
    /// vowel), else if more of its words are common Vietnamese syllables than common English words
    /// (people type Vietnamese without accents on phones and old keyboards), else `fallback`.
    /// Words that are both (`a`, `can`, `the`) are in neither list.
    public static func detect(_ text: NormalizedText, fallback: RequestLanguage = .vi) -> RequestLanguage {
        if text.normalized.unicodeScalars.contains(where: { vietnameseLetters.contains($0) }) { return .vi }
        var vi = 0, en = 0
        for term in text.terms {
            if vietnameseWords.contains(term) { vi += 1 }
            if englishWords.contains(term) { en += 1 }
        }
        if vi > en { return .vi }
        if en > vi { return .en }
        return fallback
    }

    /// Lower-case letters that (in NFC) occur in Vietnamese and not in English.
    static let vietnameseLetters: Set<Unicode.Scalar> = Set(
        "ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ".unicodeScalars)

    /// Frequent folded Vietnamese syllables that are not English words ("an", "to", "me" are left
    /// out: they would count for both).
    static let vietnameseWords = Set<String>([
        "toi", "minh", "em", "anh", "chi", "ban", "xin", "muon", "cho", "cua", "khong", "duoc", "voi",
        "nghi", "phep", "ngay", "mai", "hom", "nay", "tuan", "thang", "nam", "gio", "lam", "viec", "giup",
        "dang", "ky", "phong", "hop", "luong", "tien", "mua", "hang", "sao", "bao", "nhieu", "nao",
        "gi", "la", "va", "co", "mot", "cac", "nhung", "de", "di", "ve", "khach", "may", "tinh", "mat", "khau",
        "cong", "tac", "phi", "thanh", "toan", "dao", "tao", "khoa", "hoc", "xem", "kiem", "tra", "huy",
        "dat", "yeu", "cau", "don", "giay", "xac", "nhan", "quen", "bi", "loi", "roi", "nhe", "oi",
        "vay", "thi", "sang", "chieu", "dau", "o", "hay", "nua", "them", "con", "lai", "het",
    ])

    static let englishWords = Set<String>([
        "i", "want", "to", "the", "a", "my", "please", "how", "can", "need", "for", "is", "what", "of", "in",
        "on", "book", "request", "and", "do", "does", "would", "like", "with", "from", "next", "this", "it",
        "me", "you", "your", "where", "when", "which", "check", "submit", "get", "an", "are", "much", "many",
        "have", "has", "help", "tomorrow", "today", "week", "day", "days", "leave", "room", "meeting",
        "password", "reset", "expense", "trip", "laptop", "order", "status", "cancel", "show", "view",
    ])
}
