#!/usr/bin/env python3
"""Checks the shipped search-evaluation set in this folder and prints its counts.

    python3 config/search-eval/check.py [FOLDER]

FOLDER defaults to the folder this file is in. It reads corpus.jsonl, queries.jsonl,
qrels/test.tsv and query-categories.tsv and fails (exit 1, one line per problem) unless:

- every line is valid UTF-8 JSON with string `_id` and `text` (and `title` in the corpus),
  in Unicode NFC (precomposed Vietnamese, as people type it), and ids are unique;
- the qrels have the BEIR header, three tab-separated fields, grades 1 or 2, no pair twice,
  and name only existing queries and documents; every query has a grade-2 judgement;
- query-categories.tsv has the header `query-id<TAB>category` and one line per query with
  one of the categories below, and each category agrees with the query's text and with the
  languages of its judged documents (a document is Vietnamese when its text has Vietnamese
  letters):
    en              English question, an English document answers (grade 2)
    vi              Vietnamese with diacritics, a Vietnamese document answers
    vi_plain        Vietnamese typed without diacritics, a Vietnamese document answers
    en_to_vi        English question, only Vietnamese documents judged
    vi_to_en        Vietnamese with diacritics, only English documents judged
    vi_plain_to_en  without diacritics, only English documents judged
- `*plain*` queries are pure ASCII (no combining marks, no đ/ơ/ư/...), the others in `vi*`
  have Vietnamese letters, and the set is paired: every `vi` / `vi_to_en` query has a
  `vi_plain` / `vi_plain_to_en` query whose text is its own with tones stripped and đ→d,
  with the same judgements, and the other way round.

Standard library only; nothing is changed.
"""
import collections
import json
import sys
import unicodedata
from pathlib import Path

CATEGORIES = ["en", "vi", "vi_plain", "en_to_vi", "vi_to_en", "vi_plain_to_en"]
PLAIN_OF = {"vi": "vi_plain", "vi_to_en": "vi_plain_to_en"}
problems = []


def strip_diacritics(s):
    s = s.replace("đ", "d").replace("Đ", "D")
    s = "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", s)


def is_vietnamese(text, at_least=1):
    """Has letters outside ASCII (as Vietnamese does: tones, đ, ơ, ư, ă, â, ê, ô)."""
    return sum(1 for c in text if c.isalpha() and not c.isascii()) >= at_least


def read_jsonl(path, fields):
    rows, seen = [], set()
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        problems.append(f"{path.name}: not UTF-8 ({e})")
        return rows
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"{path.name}:{n}: invalid JSON ({e})")
            continue
        for f in fields:
            if not isinstance(obj.get(f), str):
                problems.append(f"{path.name}:{n}: `{f}` missing or not a string")
        for f, v in obj.items():
            if isinstance(v, str) and not unicodedata.is_normalized("NFC", v):
                problems.append(f"{path.name}:{n}: `{f}` is not NFC")
        if obj.get("_id") in seen:
            problems.append(f"{path.name}:{n}: duplicate id {obj.get('_id')}")
        seen.add(obj.get("_id"))
        rows.append(obj)
    return rows


def main():
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    corpus = read_jsonl(folder / "corpus.jsonl", ["_id", "title", "text"])
    queries = read_jsonl(folder / "queries.jsonl", ["_id", "text"])
    docs = {d["_id"]: d for d in corpus}
    qtext = {q["_id"]: q["text"] for q in queries}
    doc_lang = {i: "vi" if is_vietnamese(d["title"] + " " + d["text"], 3) else "en" for i, d in docs.items()}

    judgements = collections.defaultdict(dict)
    lines = (folder / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].split("\t") != ["query-id", "corpus-id", "score"]:
        problems.append("qrels/test.tsv: header is not query-id<TAB>corpus-id<TAB>score")
    for n, line in enumerate(lines[1:], 2):
        parts = line.split("\t")
        if len(parts) != 3 or parts[2] not in ("1", "2"):
            problems.append(f"qrels/test.tsv:{n}: expected query, document, grade 1 or 2: {line!r}")
            continue
        q, d, s = parts
        if q not in qtext:
            problems.append(f"qrels/test.tsv:{n}: unknown query {q}")
        if d not in docs:
            problems.append(f"qrels/test.tsv:{n}: unknown document {d}")
        if d in judgements[q]:
            problems.append(f"qrels/test.tsv:{n}: {q} {d} judged twice")
        judgements[q][d] = int(s)
    for q in qtext:
        if 2 not in judgements[q].values():
            problems.append(f"{q}: no grade-2 judgement")

    category = {}
    lines = (folder / "query-categories.tsv").read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].split("\t") != ["query-id", "category"]:
        problems.append("query-categories.tsv: header is not query-id<TAB>category")
    for n, line in enumerate(lines[1:], 2):
        parts = line.split("\t")
        if len(parts) != 2 or parts[1] not in CATEGORIES:
            problems.append(f"query-categories.tsv:{n}: expected a query id and one of {CATEGORIES}: {line!r}")
            continue
        if parts[0] in category:
            problems.append(f"query-categories.tsv:{n}: {parts[0]} listed twice")
        if parts[0] not in qtext:
            problems.append(f"query-categories.tsv:{n}: unknown query {parts[0]}")
        category[parts[0]] = parts[1]
    for q in qtext:
        if q not in category:
            problems.append(f"{q}: no category in query-categories.tsv")

    for q, c in category.items():
        if q not in qtext:
            continue
        text, j = qtext[q], judgements[q]
        answer_langs = {doc_lang[d] for d, s in j.items() if s == 2 and d in docs}
        judged_langs = {doc_lang[d] for d in j if d in docs}
        if "plain" in c and not text.isascii():
            problems.append(f"{q} ({c}): has non-ASCII characters: {text!r}")
        if c in ("vi", "vi_to_en") and not is_vietnamese(text):
            problems.append(f"{q} ({c}): no Vietnamese letters: {text!r}")
        if c == "en" and not text.isascii():
            problems.append(f"{q} ({c}): has non-ASCII characters: {text!r}")
        wanted = {"en": "en", "vi": "vi", "vi_plain": "vi"}.get(c)
        if wanted and wanted not in answer_langs:
            problems.append(f"{q} ({c}): no grade-2 document in {wanted}")
        only = {"en_to_vi": "vi", "vi_to_en": "en", "vi_plain_to_en": "en"}.get(c)
        if only and judged_langs != {only}:
            problems.append(f"{q} ({c}): judged documents are not all in {only}: {sorted(j)}")

    by_text = {(category.get(q), t): q for q, t in qtext.items()}
    for q, c in category.items():
        if c in PLAIN_OF and q in qtext:
            twin = by_text.get((PLAIN_OF[c], strip_diacritics(qtext[q])))
            if twin is None:
                problems.append(f"{q} ({c}): no {PLAIN_OF[c]} query {strip_diacritics(qtext[q])!r}")
            elif judgements[twin] != judgements[q]:
                problems.append(f"{q} and {twin}: judgements differ")
    accented = {(PLAIN_OF[category[q]], strip_diacritics(t)) for q, t in qtext.items() if category.get(q) in PLAIN_OF}
    for q, c in category.items():
        if c in PLAIN_OF.values() and q in qtext and (c, qtext[q]) not in accented:
            problems.append(f"{q} ({c}): no query with diacritics that strips to {qtext[q]!r}")

    langs = collections.Counter(doc_lang.values())
    twins = sum(1 for q in qtext if {doc_lang[d] for d in judgements[q] if d in docs} == {"en", "vi"})
    print(f"documents: {len(docs)} ({langs['en']} English, {langs['vi']} Vietnamese)")
    print(f"queries: {len(qtext)}; qrels lines: {sum(len(j) for j in judgements.values())}; "
          f"queries judged in both languages: {twins}")
    counts = collections.Counter(category.values())
    for c in CATEGORIES:
        print(f"  {c:15} {counts[c]}")
    for p in problems:
        print("PROBLEM:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
