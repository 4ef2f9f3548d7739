#!/usr/bin/env python3
"""An executable reading of scripts/e5/FORMAT.md: parses e5-small-q4.bin, tokenizes and embeds
written only from the spec (not from e5.c), then checks itself against the fixture.

  python3 scripts/e5/spec_check.py MODEL.bin Tests/Fixtures/e5/e5_reference.json \
      [--embed N] [--strict Tests/Fixtures/e5/e5_reference_strict.json]

* token ids: every fixture case, all content ids (input_ids, and content_ids when present).
* embeddings (numpy, float32, same operation order as e5.c's scalar path): cosine vs the
  fixture for the first N one-window cases (default 6), and with --strict every vector of the
  strict subset fixture compared bit for bit. erff/expf come from the C library via ctypes, as
  in e5.c. Exit status 1 on any id mismatch or strict difference.
Needs numpy. Slow (pure Python loops); meant as a readable companion to FORMAT.md.
"""
import argparse
import ctypes
import ctypes.util
import json
import struct
import sys

import numpy as np

F32 = np.float32


# ------------------------------------------------------------------------------ file (§1, §2)
class Model:
    def __init__(self, path):
        b = open(path, "rb").read()
        assert b[:4] == b"E5S1"
        (self.version, self.H, self.NL, self.NH, self.FF, self.VOC, self.MAXP, self.TVS) = struct.unpack_from("<I7i", b, 4)
        self.eps = F32(struct.unpack_from("<f", b, 36)[0])
        o = 44
        n, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", b, o); o += 20
        bloblen, = struct.unpack_from("<Q", b, o); o += 8
        offs = np.frombuffer(b, "<u4", n + 1, o); o += 4 * (n + 1)
        self.scores = np.frombuffer(b, "<f4", n, o).copy(); o += 4 * n
        blob = b[o:o + bloblen]; o += bloblen
        self.piece = {blob[offs[i]:offs[i + 1]]: i for i in range(n)}
        self.max_piece_bytes = int(max(offs[1:] - offs[:-1]))
        self.unk_score = F32(self.scores.min()) - F32(10)
        n_norm, nm_bytes = struct.unpack_from("<iI", b, o); o += 8
        self.norm, p = {}, o
        for _ in range(n_norm):
            cp, no = struct.unpack_from("<IB", b, p); p += 5
            self.norm[cp] = struct.unpack_from("<%dI" % no, b, p); p += 4 * no
        o += nm_bytes
        ndir, = struct.unpack_from("<i", b, o); o += 4
        self.t = {}
        for _ in range(ndir):
            nl, = struct.unpack_from("<H", b, o); o += 2
            name = b[o:o + nl].decode(); o += nl
            dt = b[o]; o += 1
            cnt, off, nbytes = struct.unpack_from("<IQQ", b, o); o += 20
            self.t[name] = (dt, cnt, off, nbytes)
        self.b = b

    def f32(self, name, shape):
        dt, cnt, off, _ = self.t[name]
        assert dt == 0
        return np.frombuffer(self.b, "<f4", cnt, off).reshape(shape)

    def q4(self, name, rows, nin):
        """-> (nibbles uint8 [rows, nin] (0..15), scales float32 [rows, nin/32])"""
        dt, cnt, off, nbytes = self.t[name]
        assert dt == 1 and cnt == rows * nin
        blk = np.frombuffer(self.b, np.dtype([("d", "<f2"), ("qs", "u1", 16)]), rows * nin // 32, off)
        qs = blk["qs"].reshape(rows, nin // 32, 16)
        nib = np.concatenate([qs & 15, qs >> 4], axis=2).reshape(rows, nin)   # byte j: w j (lo), w j+16 (hi)
        return nib, blk["d"].astype(np.float32).reshape(rows, nin // 32)


# ------------------------------------------------------------------------- tokenizer (§3, §4)
def tokenize(m, text):
    cps = []
    for ch in text:                                  # valid Unicode only (no lenient UTF-8 here)
        cps.extend(m.norm.get(ord(ch), (ord(ch),)))
    col = []
    for c in cps:                                    # collapse runs of U+0020
        if c == 0x20 and col and col[-1] == 0x20:
            continue
        col.append(c)
    chars = ([] if col and col[0] == 0x20 else ["\u2581"]) + ["\u2581" if c == 0x20 else chr(c) for c in col]
    enc = [c.encode("utf-8") for c in chars]
    n = len(enc)
    best = [F32(-1e30)] * (n + 1); best[0] = F32(0)
    bp = [0] * (n + 1); bf = [0] * (n + 1)
    for i in range(n):
        s = b""
        for e in range(i + 1, n + 1):
            s += enc[e - 1]
            if len(s) > m.max_piece_bytes:
                break
            idx = m.piece.get(s)
            if idx is not None and idx != m.unk:
                sc = F32(best[i] + m.scores[idx])
                if sc > best[e]:
                    best[e], bp[e], bf[e] = sc, idx, i
        us = F32(best[i] + m.unk_score)
        if us > best[i + 1]:
            best[i + 1], bp[i + 1], bf[i + 1] = us, m.unk, i
    ids, i = [], n
    while i > 0:
        ids.append(bp[i]); i = bf[i]
    return ids[::-1]


# ---------------------------------------------------------------------------- encoder (§6, §7)
libm = ctypes.CDLL(ctypes.util.find_library("m"))
libm.erff.restype = libm.expf.restype = ctypes.c_float
libm.erff.argtypes = libm.expf.argtypes = [ctypes.c_float]
vf = lambda f: np.vectorize(lambda x: F32(f(float(x))), otypes=[np.float32])
erff, expf = vf(libm.erff), vf(libm.expf)


def seqsum(a, axis):
    """float32 sum in index order along axis (no pairwise summation)."""
    a = np.moveaxis(a, axis, 0)
    acc = np.zeros(a.shape[1:], F32)
    for k in range(a.shape[0]):
        acc = (acc + a[k]).astype(F32)
    return acc


def quantize(x):                                    # [L, nin] -> q int32 [L, nin], d [L, nb], s [L, nb]
    L, nin = x.shape
    xb = x.reshape(L, nin // 32, 32)
    amax = np.abs(xb).max(axis=2)
    d = (amax / F32(127)).astype(F32)
    idv = np.where(d > 0, F32(1) / np.where(d > 0, d, F32(1)), F32(0)).astype(F32)
    q = np.clip(np.rint((xb * idv[:, :, None]).astype(F32)), -128, 127).astype(np.int32)
    return q.reshape(L, nin), d, q.sum(axis=2)


def linear(x, W, bias):
    nib, dw = W                                        # [nout, nin], [nout, nb]
    q, da, s = quantize(x)
    L, nin = x.shape; nb = nin // 32
    isum = np.einsum("onj,lnj->lon", nib.reshape(-1, nb, 32).astype(np.int32), q.reshape(L, nb, 32))
    acc = np.zeros((L, nib.shape[0]), F32)
    for b in range(nb):                                # acc += dw*da*(float)(isum - 8*s), block order
        sc = (dw[None, :, b] * da[:, None, b]).astype(F32)
        acc = (acc + (sc * (isum[:, :, b] - 8 * s[:, None, b]).astype(F32)).astype(F32)).astype(F32)
    return (bias[None, :] + acc).astype(F32)


def layernorm(x, w, b, eps):
    H = x.shape[1]
    mean = (seqsum(x, 1) / F32(H)).astype(F32)
    dlt = (x - mean[:, None]).astype(F32)
    var = (seqsum((dlt * dlt).astype(F32), 1) / F32(H)).astype(F32)
    inv = (F32(1) / np.sqrt((var + eps).astype(F32))).astype(F32)
    return ((((dlt * inv[:, None]).astype(F32)) * w).astype(F32) + b).astype(F32)


def embed_window(m, W, ids):
    H, hd = m.H, m.H // m.NH
    L = len(ids)
    nib, d = W["word"]
    x = ((nib[ids].astype(np.int32) - 8).astype(F32).reshape(L, -1, 32) * d[ids][:, :, None]).astype(F32).reshape(L, H)
    x = (x + (W["pos"][:L] + W["type"][0]).astype(F32)).astype(F32)
    x = layernorm(x, W["eln_w"], W["eln_b"], m.eps)
    scale = F32(1) / np.sqrt(F32(hd))
    for l in range(m.NL):
        Ly = W["layers"][l]
        q, k, v = (linear(x, Ly[n + ".w"], Ly[n + ".b"]) for n in ("q", "k", "v"))   # same quantised x
        ctx = np.zeros((L, H), F32)
        for h in range(m.NH):
            qh, kh, vh = (a[:, h * hd:(h + 1) * hd] for a in (q, k, v))
            sc = seqsum((qh[:, None, :] * kh[None, :, :]).astype(F32), 2)          # [t, u]
            sc = (sc * scale).astype(F32)
            e = expf((sc - sc.max(axis=1, keepdims=True)).astype(F32))
            p = (e * (F32(1) / seqsum(e, 1))[:, None]).astype(F32)
            ctx[:, h * hd:(h + 1) * hd] = seqsum((p[:, :, None] * vh[None, :, :]).astype(F32), 1)
        x = layernorm((x + linear(ctx, Ly["ao.w"], Ly["ao.b"])).astype(F32), Ly["aln.w"], Ly["aln.b"], m.eps)
        mid = linear(x, Ly["fi.w"], Ly["fi.b"])
        mid = ((F32(0.5) * mid).astype(F32) * (F32(1) + erff((mid * F32(0.70710678118654752440)).astype(F32))).astype(F32)).astype(F32)
        x = layernorm((x + linear(mid, Ly["fo.w"], Ly["fo.b"])).astype(F32), Ly["oln.w"], Ly["oln.b"], m.eps)
    return (seqsum(x, 0) * (F32(1) / F32(L))).astype(F32)


def embed(m, W, content):
    WMAX = m.MAXP - 2
    nw = max(1, -(-len(content) // WMAX))
    out = np.zeros(m.H, F32); wsum = 0.0
    for w in range(nw):
        a, b = w * WMAX, min((w + 1) * WMAX, len(content))
        wgt = F32(max(b - a, 1))
        out = (out + (wgt * embed_window(m, W, [m.bos] + content[a:b] + [m.eos])).astype(F32)).astype(F32)
        wsum += float(wgt)
    out = (out * F32(1.0 / wsum)).astype(F32)
    nrm = seqsum((out * out).astype(F32)[:, None], 0)[0]
    return (out * (F32(1) / np.sqrt(max(nrm, F32(1e-12))))).astype(F32)


def load_weights(m):
    H, FF = m.H, m.FF
    W = {"word": m.q4("emb.word", m.VOC, H), "pos": m.f32("emb.pos", (m.MAXP, H)),
         "type": m.f32("emb.type", (m.TVS, H)), "eln_w": m.f32("emb.ln.w", (H,)), "eln_b": m.f32("emb.ln.b", (H,)),
         "layers": []}
    for l in range(m.NL):
        Ly = {}
        for n, rows, nin in (("q", H, H), ("k", H, H), ("v", H, H), ("ao", H, H), ("fi", FF, H), ("fo", H, FF)):
            Ly[n + ".w"] = m.q4("l%d.%s.w" % (l, n), rows, nin)
            Ly[n + ".b"] = m.f32("l%d.%s.b" % (l, n), (rows,))
        for n in ("aln", "oln"):
            Ly[n + ".w"] = m.f32("l%d.%s.w" % (l, n), (H,)); Ly[n + ".b"] = m.f32("l%d.%s.b" % (l, n), (H,))
        W["layers"].append(Ly)
    return W


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model"); ap.add_argument("fixture")
    ap.add_argument("--embed", type=int, default=6, help="cosine-check the first N one-window cases")
    ap.add_argument("--strict", help="e5_reference_strict.json: check those vectors bit for bit")
    a = ap.parse_args()
    m = Model(a.model)
    cases = json.load(open(a.fixture, encoding="utf-8"))["cases"]
    bad = 0
    for c in cases:
        ids = tokenize(m, c["text"])
        want = c.get("content_ids") or c["input_ids"][1:-1]
        if ids != want or len(ids) + 2 != c["untruncated_num_tokens"]:
            bad += 1
            print("ids MISMATCH", c["name"], ids[:20], want[:20])
    print("spec tokenizer: %d/%d cases identical" % (len(cases) - bad, len(cases)))
    if a.embed <= 0 and not a.strict:
        return 1 if bad else 0
    W = load_weights(m)
    done = 0
    for c in cases:
        if done >= a.embed:
            break
        if c["num_windows"] != 1:
            continue
        v = embed(m, W, c["input_ids"][1:-1])
        print("embed %-24s cos vs fixture %.7f (noise floor %.6f)" % (c["name"], float(np.dot(v, np.array(c["embedding"], F32))), c["noise_floor_cos"] or 0))
        done += 1
    if a.strict:
        sc = json.load(open(a.strict, encoding="utf-8"))["cases"]
        exact = 0
        for c in sc:
            want = np.array([int(c["embedding_f32_bits"][k:k + 8], 16) for k in range(0, 384 * 8, 8)], np.uint32).view(np.float32)
            v = embed(m, W, c["content_ids"] or c["input_ids"][1:-1])
            same = bool(np.array_equal(v.view(np.uint32), want.view(np.uint32)))
            exact += same
            print("strict %-24s %s (max |diff| %.2g)" % (c["name"], "bit-identical" if same else "DIFFERS", float(np.abs(v - want).max())))
        print("bit-identical to the strict build: %d/%d" % (exact, len(sc)))
        bad += len(sc) - exact
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
