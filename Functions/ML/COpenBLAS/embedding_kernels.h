#ifndef EMBEDDING_KERNELS_H
#define EMBEDDING_KERNELS_H
// The element-wise steps of the BERT forward pass: softmax, GELU, LayerNorm. With the matrix
// products in OpenBLAS they are what is left, and in scalar code (libm expf/erff per element)
// they took more time than the products. Swift targets baseline x86-64 (SSE2), so they are C
// with AVX-512 and AVX2+FMA versions chosen at run time, and a portable version (arm64, old
// x86). Header-only: static inline, emitted into the Swift module that calls them.
//
// exp: Cody-Waite reduction and a degree-6 polynomial, within 2.1 ulp for the inputs used here
// (x <= 0 in softmax and GELU; inputs are clamped to [-87.3, 88]).
// erf: Abramowitz & Stegun 7.1.26 (|error| < 5e-7 in float), which is exactly what PyTorch's
// CPU GELU computes (Vectorized<float>::erf), so the reference vectors carry the same error.

#include <math.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>

#define EMB_LOG2E 1.44269504088896341f
#define EMB_LN2_HI 0.693359375f
#define EMB_LN2_LO -2.12194440e-4f
#define EMB_EXP_MIN -87.3365448f
#define EMB_EXP_MAX 88.0f
#define EMB_ERF_P 0.3275911f
#define EMB_ERF_A1 0.254829592f
#define EMB_ERF_A2 -0.284496736f
#define EMB_ERF_A3 1.421413741f
#define EMB_ERF_A4 -1.453152027f
#define EMB_ERF_A5 1.061405429f
#define EMB_SQRT1_2 0.70710678118654752f

// MARK: portable

static inline float emb_exp1(float x) {
    x = fminf(fmaxf(x, EMB_EXP_MIN), EMB_EXP_MAX);
    float n = nearbyintf(x * EMB_LOG2E);
    float r = fmaf(-n, EMB_LN2_LO, fmaf(-n, EMB_LN2_HI, x));
    float p = 1.0f / 720;
    p = fmaf(p, r, 1.0f / 120); p = fmaf(p, r, 1.0f / 24); p = fmaf(p, r, 1.0f / 6);
    p = fmaf(p, r, 0.5f); p = fmaf(p, r, 1.0f); p = fmaf(p, r, 1.0f);
    return ldexpf(p, (int)n);
}

static inline float emb_erf1(float x) {
    float a = fabsf(x);
    float t = 1.0f / fmaf(EMB_ERF_P, a, 1.0f);
    float r = fmaf(fmaf(fmaf(fmaf(EMB_ERF_A5, t, EMB_ERF_A4), t, EMB_ERF_A3), t, EMB_ERF_A2), t, EMB_ERF_A1);
    float e = fmaf(-r * t, emb_exp1(-x * x), 1.0f);
    return copysignf(e, x);
}

static inline float emb_gelu1(float x) { return x * 0.5f * (1.0f + emb_erf1(x * EMB_SQRT1_2)); }

static void emb_softmax_rows_c(float *s, long rows, long cols) {
    for (long i = 0; i < rows; i++) {
        float *row = s + i * cols;
        float m = -INFINITY, sum = 0;
        for (long k = 0; k < cols; k++) m = fmaxf(m, row[k]);
        for (long k = 0; k < cols; k++) { row[k] = emb_exp1(row[k] - m); sum += row[k]; }
        float inv = 1.0f / sum;
        for (long k = 0; k < cols; k++) row[k] *= inv;
    }
}

static void emb_bias_gelu_c(float *x, const float *bias, long rows, long dim, long ld) {
    for (long i = 0; i < rows; i++)
        for (long k = 0; k < dim; k++) x[i * ld + k] = emb_gelu1(x[i * ld + k] + bias[k]);
}

static void emb_layernorm_c(float *x, const float *y, const float *bias, long rows, long dim,
                            const float *gamma, const float *beta, float eps) {
    for (long i = 0; i < rows; i++) {
        float *xr = x + i * dim;
        float sum = 0, sq = 0;
        if (y) {
            const float *yr = y + i * dim;
            for (long k = 0; k < dim; k++) xr[k] = xr[k] + (yr[k] + bias[k]);
        }
        for (long k = 0; k < dim; k++) sum += xr[k];
        float mean = sum / dim;
        for (long k = 0; k < dim; k++) { float d = xr[k] - mean; sq += d * d; }
        float inv = 1.0f / sqrtf(sq / dim + eps);
        for (long k = 0; k < dim; k++) xr[k] = (xr[k] - mean) * inv * gamma[k] + beta[k];
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

// MARK: AVX-512

#define EMB_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))

EMB_AVX512 static inline __m512 emb_exp16(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(EMB_EXP_MIN)), _mm512_set1_ps(EMB_EXP_MAX));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(EMB_LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(EMB_LN2_HI), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(EMB_LN2_LO), r);
    __m512 p = _mm512_set1_ps(1.0f / 720);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

EMB_AVX512 static inline __m512 emb_gelu16(__m512 x) {
    __m512 z = _mm512_mul_ps(x, _mm512_set1_ps(EMB_SQRT1_2));
    __m512 a = _mm512_abs_ps(z);
    __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(_mm512_set1_ps(EMB_ERF_P), a, _mm512_set1_ps(1.0f)));
    __m512 r = _mm512_fmadd_ps(_mm512_set1_ps(EMB_ERF_A5), t, _mm512_set1_ps(EMB_ERF_A4));
    r = _mm512_fmadd_ps(r, t, _mm512_set1_ps(EMB_ERF_A3));
    r = _mm512_fmadd_ps(r, t, _mm512_set1_ps(EMB_ERF_A2));
    r = _mm512_fmadd_ps(r, t, _mm512_set1_ps(EMB_ERF_A1));
    __m512 e = emb_exp16(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_mul_ps(z, z)));
    __m512 erf_abs = _mm512_fnmadd_ps(_mm512_mul_ps(r, t), e, _mm512_set1_ps(1.0f));
    // copysign(erf_abs, z)
    __m512 sign = _mm512_and_ps(z, _mm512_set1_ps(-0.0f));
    __m512 erf = _mm512_or_ps(erf_abs, sign);
    return _mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.5f)), _mm512_add_ps(_mm512_set1_ps(1.0f), erf));
}

EMB_AVX512 static inline float emb_sum16(__m512 v) { return _mm512_reduce_add_ps(v); }

// A Linear layer for a few rows (a query's tokens): C[m, cols] (+)= A[m, k] W[k, cols], with W
// packed once at load into panels of 16 columns, each k x 16 contiguous. OpenBLAS re-packs the
// whole weight on every call, which for a 20-token query costs more than the arithmetic; here
// each panel is read straight from memory once per block of rows. A block is up to 12 rows x 32
// columns (two panels): 24 accumulators, two weight loads and R broadcasts per step of k, 27 of
// the 32 registers. The rows are split into the fewest such blocks, of even size (13 rows: 6 and
// 7), because a query's weights come from memory, not cache (the scan and the store's pages
// evict them between requests), and each block reads them again: one pass for up to 12 tokens
// instead of up to four (8 + 4 + 2 + 1 blocks), measured 10-30 % faster. The row loops are
// unrolled by pragma: this header is compiled by Swift's importer, which otherwise keeps the
// accumulators in memory (3x slower).
//
// Panels come in two precisions: float32, or half (IEEE binary16) widened to float32 in the
// register (vcvtph2ps), so every product and sum is still float32. Half panels halve the bytes
// a query streams (21 MB instead of 42 for MiniLM), which is what bounds it.
#define EMB_LOAD_F32(p) _mm512_load_ps(p)
#define EMB_LOAD_F16(p) _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(p)))

#define EMB_PANEL_BLOCK(NAME, T, LOAD, R) \
EMB_AVX512 static inline void NAME##R(const float *a, long lda, const T *p0, const T *p1, long k, \
                                      float *c, long ldc, int accumulate) { \
    __m512 acc0[R], acc1[R]; \
    _Pragma("clang loop unroll(full)") for (int r = 0; r < R; r++) { acc0[r] = _mm512_setzero_ps(); acc1[r] = _mm512_setzero_ps(); } \
    if (p1) { \
        for (long kk = 0; kk < k; kk++) { \
            __m512 w0 = LOAD(p0 + kk * 16), w1 = LOAD(p1 + kk * 16); \
            _Pragma("clang loop unroll(full)") for (int r = 0; r < R; r++) { \
                __m512 x = _mm512_set1_ps(a[r * lda + kk]); \
                acc0[r] = _mm512_fmadd_ps(x, w0, acc0[r]); \
                acc1[r] = _mm512_fmadd_ps(x, w1, acc1[r]); \
            } \
        } \
    } else { \
        for (long kk = 0; kk < k; kk++) { \
            __m512 w0 = LOAD(p0 + kk * 16); \
            _Pragma("clang loop unroll(full)") for (int r = 0; r < R; r++) acc0[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r * lda + kk]), w0, acc0[r]); \
        } \
    } \
    _Pragma("clang loop unroll(full)") for (int r = 0; r < R; r++) { \
        float *o = c + r * ldc; \
        if (accumulate) acc0[r] = _mm512_add_ps(acc0[r], _mm512_loadu_ps(o)); \
        _mm512_storeu_ps(o, acc0[r]); \
        if (p1) { \
            if (accumulate) acc1[r] = _mm512_add_ps(acc1[r], _mm512_loadu_ps(o + 16)); \
            _mm512_storeu_ps(o + 16, acc1[r]); \
        } \
    } \
}

#define EMB_PANEL_KERNEL(NAME, T, LOAD) \
EMB_PANEL_BLOCK(NAME, T, LOAD, 1) EMB_PANEL_BLOCK(NAME, T, LOAD, 2) EMB_PANEL_BLOCK(NAME, T, LOAD, 3) \
EMB_PANEL_BLOCK(NAME, T, LOAD, 4) EMB_PANEL_BLOCK(NAME, T, LOAD, 5) EMB_PANEL_BLOCK(NAME, T, LOAD, 6) \
EMB_PANEL_BLOCK(NAME, T, LOAD, 7) EMB_PANEL_BLOCK(NAME, T, LOAD, 8) EMB_PANEL_BLOCK(NAME, T, LOAD, 9) \
EMB_PANEL_BLOCK(NAME, T, LOAD, 10) EMB_PANEL_BLOCK(NAME, T, LOAD, 11) EMB_PANEL_BLOCK(NAME, T, LOAD, 12) \
EMB_AVX512 static void NAME##linear(const float *a, long lda, long m, const T *panels, long k, \
                                    long col0, long cols, float *c, long ldc, int accumulate) { \
    long blocks = (m + 11) / 12; \
    for (long j = col0; j < col0 + cols; j += 32) { \
        const T *p0 = panels + (j / 16) * k * 16; \
        const T *p1 = j + 16 < col0 + cols ? p0 + k * 16 : 0; \
        for (long b = 0, r0 = 0; b < blocks; b++) { \
            long rows = (m - r0) / (blocks - b); \
            const float *ab = a + r0 * lda; \
            float *cb = c + r0 * ldc + j; \
            switch (rows) { \
            case 1: NAME##1(ab, lda, p0, p1, k, cb, ldc, accumulate); break; \
            case 2: NAME##2(ab, lda, p0, p1, k, cb, ldc, accumulate); break; \
            case 3: NAME##3(ab, lda, p0, p1, k, cb, ldc, accumulate); break; \
            case 4: NAME##4(ab, lda, p0, p1, k, cb, ldc, accumulate); break; \
            case 5: NAME##5(ab, lda, p0, p1, k, cb, ldc, accumulate); break; \
            case 6: NAME##6(ab, lda, p0, p1, k, cb, ldc, accumulate); break; \
            case 7: NAME##7(ab, lda, p0, p1, k, cb, ldc, accumulate); break; \
            case 8: NAME##8(ab, lda, p0, p1, k, cb, ldc, accumulate); break; \
            case 9: NAME##9(ab, lda, p0, p1, k, cb, ldc, accumulate); break; \
            case 10: NAME##10(ab, lda, p0, p1, k, cb, ldc, accumulate); break; \
            case 11: NAME##11(ab, lda, p0, p1, k, cb, ldc, accumulate); break; \
            default: NAME##12(ab, lda, p0, p1, k, cb, ldc, accumulate); break; \
            } \
            r0 += rows; \
        } \
    } \
}

EMB_PANEL_KERNEL(emb_panel_f32_, float, EMB_LOAD_F32)
EMB_PANEL_KERNEL(emb_panel_f16_, unsigned short, EMB_LOAD_F16)

// Half-precision panels: 16 columns of a row at a time, rounded to nearest even.
EMB_AVX512 static void emb_pack_panels_half_avx512(const float *w, long k, long n, long ldw, unsigned short *panels) {
    for (long p = 0; p < n / 16; p++)
        for (long kk = 0; kk < k; kk++)
            _mm256_store_si256((__m256i *)(panels + (p * k + kk) * 16),
                               _mm512_cvtps_ph(_mm512_loadu_ps(w + kk * ldw + p * 16), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

EMB_AVX512 static void emb_softmax_rows_avx512(float *s, long rows, long cols) {
    long body = cols & ~15L;
    __mmask16 tail = (__mmask16)((1u << (cols - body)) - 1);
    for (long i = 0; i < rows; i++) {
        float *row = s + i * cols;
        __m512 m = _mm512_set1_ps(-INFINITY);
        for (long k = 0; k < body; k += 16) m = _mm512_max_ps(m, _mm512_loadu_ps(row + k));
        if (tail) m = _mm512_max_ps(m, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), tail, row + body));
        __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(m));
        __m512 sum = _mm512_setzero_ps();
        for (long k = 0; k < body; k += 16) {
            __m512 e = emb_exp16(_mm512_sub_ps(_mm512_loadu_ps(row + k), mx));
            _mm512_storeu_ps(row + k, e);
            sum = _mm512_add_ps(sum, e);
        }
        if (tail) {
            __m512 e = emb_exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, row + body), mx));
            e = _mm512_maskz_mov_ps(tail, e);
            _mm512_mask_storeu_ps(row + body, tail, e);
            sum = _mm512_add_ps(sum, e);
        }
        __m512 inv = _mm512_set1_ps(1.0f / emb_sum16(sum));
        for (long k = 0; k < body; k += 16) _mm512_storeu_ps(row + k, _mm512_mul_ps(_mm512_loadu_ps(row + k), inv));
        if (tail) _mm512_mask_storeu_ps(row + body, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, row + body), inv));
    }
}

EMB_AVX512 static void emb_bias_gelu_avx512(float *x, const float *bias, long rows, long dim, long ld) {
    long body = dim & ~15L;
    for (long i = 0; i < rows; i++) {
        float *xr = x + i * ld;
        for (long k = 0; k < body; k += 16)
            _mm512_storeu_ps(xr + k, emb_gelu16(_mm512_add_ps(_mm512_loadu_ps(xr + k), _mm512_loadu_ps(bias + k))));
        for (long k = body; k < dim; k++) xr[k] = emb_gelu1(xr[k] + bias[k]);
    }
}

EMB_AVX512 static void emb_layernorm_avx512(float *x, const float *y, const float *bias, long rows, long dim,
                                            const float *gamma, const float *beta, float eps) {
    if (dim & 15) { emb_layernorm_c(x, y, bias, rows, dim, gamma, beta, eps); return; }
    for (long i = 0; i < rows; i++) {
        float *xr = x + i * dim;
        __m512 sum = _mm512_setzero_ps();
        if (y) {
            const float *yr = y + i * dim;
            for (long k = 0; k < dim; k += 16) {
                __m512 v = _mm512_add_ps(_mm512_loadu_ps(xr + k), _mm512_add_ps(_mm512_loadu_ps(yr + k), _mm512_loadu_ps(bias + k)));
                _mm512_storeu_ps(xr + k, v);
                sum = _mm512_add_ps(sum, v);
            }
        } else {
            for (long k = 0; k < dim; k += 16) sum = _mm512_add_ps(sum, _mm512_loadu_ps(xr + k));
        }
        __m512 mean = _mm512_set1_ps(emb_sum16(sum) / dim);
        __m512 sq = _mm512_setzero_ps();
        for (long k = 0; k < dim; k += 16) {
            __m512 d = _mm512_sub_ps(_mm512_loadu_ps(xr + k), mean);
            sq = _mm512_fmadd_ps(d, d, sq);
        }
        __m512 inv = _mm512_set1_ps(1.0f / sqrtf(emb_sum16(sq) / dim + eps));
        for (long k = 0; k < dim; k += 16) {
            __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(xr + k), mean), inv);
            _mm512_storeu_ps(xr + k, _mm512_fmadd_ps(d, _mm512_loadu_ps(gamma + k), _mm512_loadu_ps(beta + k)));
        }
    }
}

// MARK: AVX2 + FMA

#define EMB_AVX2 __attribute__((target("avx2,fma")))

EMB_AVX2 static inline __m256 emb_exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(EMB_EXP_MIN)), _mm256_set1_ps(EMB_EXP_MAX));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(EMB_LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(EMB_LN2_HI), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(EMB_LN2_LO), r);
    __m256 p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

EMB_AVX2 static inline __m256 emb_gelu8(__m256 x) {
    __m256 z = _mm256_mul_ps(x, _mm256_set1_ps(EMB_SQRT1_2));
    __m256 sign = _mm256_and_ps(z, _mm256_set1_ps(-0.0f));
    __m256 a = _mm256_xor_ps(z, sign);
    __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(_mm256_set1_ps(EMB_ERF_P), a, _mm256_set1_ps(1.0f)));
    __m256 r = _mm256_fmadd_ps(_mm256_set1_ps(EMB_ERF_A5), t, _mm256_set1_ps(EMB_ERF_A4));
    r = _mm256_fmadd_ps(r, t, _mm256_set1_ps(EMB_ERF_A3));
    r = _mm256_fmadd_ps(r, t, _mm256_set1_ps(EMB_ERF_A2));
    r = _mm256_fmadd_ps(r, t, _mm256_set1_ps(EMB_ERF_A1));
    __m256 e = emb_exp8(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(z, z)));
    __m256 erf = _mm256_or_ps(_mm256_fnmadd_ps(_mm256_mul_ps(r, t), e, _mm256_set1_ps(1.0f)), sign);
    return _mm256_mul_ps(_mm256_mul_ps(x, _mm256_set1_ps(0.5f)), _mm256_add_ps(_mm256_set1_ps(1.0f), erf));
}

EMB_AVX2 static inline float emb_sum8(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    return _mm_cvtss_f32(h);
}

EMB_AVX2 static inline float emb_max8(__m256 v) {
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
    return _mm_cvtss_f32(h);
}

EMB_AVX2 static void emb_softmax_rows_avx2(float *s, long rows, long cols) {
    long body = cols & ~7L;
    for (long i = 0; i < rows; i++) {
        float *row = s + i * cols;
        __m256 m = _mm256_set1_ps(-INFINITY);
        for (long k = 0; k < body; k += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(row + k));
        float mx = emb_max8(m);
        for (long k = body; k < cols; k++) mx = fmaxf(mx, row[k]);
        __m256 mv = _mm256_set1_ps(mx), sum = _mm256_setzero_ps();
        for (long k = 0; k < body; k += 8) {
            __m256 e = emb_exp8(_mm256_sub_ps(_mm256_loadu_ps(row + k), mv));
            _mm256_storeu_ps(row + k, e);
            sum = _mm256_add_ps(sum, e);
        }
        float total = emb_sum8(sum);
        for (long k = body; k < cols; k++) { row[k] = emb_exp1(row[k] - mx); total += row[k]; }
        float inv = 1.0f / total;
        __m256 iv = _mm256_set1_ps(inv);
        for (long k = 0; k < body; k += 8) _mm256_storeu_ps(row + k, _mm256_mul_ps(_mm256_loadu_ps(row + k), iv));
        for (long k = body; k < cols; k++) row[k] *= inv;
    }
}

EMB_AVX2 static void emb_bias_gelu_avx2(float *x, const float *bias, long rows, long dim, long ld) {
    long body = dim & ~7L;
    for (long i = 0; i < rows; i++) {
        float *xr = x + i * ld;
        for (long k = 0; k < body; k += 8)
            _mm256_storeu_ps(xr + k, emb_gelu8(_mm256_add_ps(_mm256_loadu_ps(xr + k), _mm256_loadu_ps(bias + k))));
        for (long k = body; k < dim; k++) xr[k] = emb_gelu1(xr[k] + bias[k]);
    }
}

EMB_AVX2 static void emb_layernorm_avx2(float *x, const float *y, const float *bias, long rows, long dim,
                                        const float *gamma, const float *beta, float eps) {
    if (dim & 7) { emb_layernorm_c(x, y, bias, rows, dim, gamma, beta, eps); return; }
    for (long i = 0; i < rows; i++) {
        float *xr = x + i * dim;
        __m256 sum = _mm256_setzero_ps();
        if (y) {
            const float *yr = y + i * dim;
            for (long k = 0; k < dim; k += 8) {
                __m256 v = _mm256_add_ps(_mm256_loadu_ps(xr + k), _mm256_add_ps(_mm256_loadu_ps(yr + k), _mm256_loadu_ps(bias + k)));
                _mm256_storeu_ps(xr + k, v);
                sum = _mm256_add_ps(sum, v);
            }
        } else {
            for (long k = 0; k < dim; k += 8) sum = _mm256_add_ps(sum, _mm256_loadu_ps(xr + k));
        }
        __m256 mean = _mm256_set1_ps(emb_sum8(sum) / dim);
        __m256 sq = _mm256_setzero_ps();
        for (long k = 0; k < dim; k += 8) {
            __m256 d = _mm256_sub_ps(_mm256_loadu_ps(xr + k), mean);
            sq = _mm256_fmadd_ps(d, d, sq);
        }
        __m256 inv = _mm256_set1_ps(1.0f / sqrtf(emb_sum8(sq) / dim + eps));
        for (long k = 0; k < dim; k += 8) {
            __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + k), mean), inv);
            _mm256_storeu_ps(xr + k, _mm256_fmadd_ps(d, _mm256_loadu_ps(gamma + k), _mm256_loadu_ps(beta + k)));
        }
    }
}
#endif

// MARK: dispatch

/// A spin-wait hint (x86 PAUSE): cheaper for the sibling hyperthread and the power budget.
static inline void emb_cpu_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// The highest kernel level `VECTOR_KERNELS` allows: `scalar` 0, `avx2` 1, `avx512` (or unset) 2.
/// It is how a user steps around a bad kernel on their CPU, and how the test command runs the
/// embedding, routing and search suites at the level another machine would use. An unknown
/// value caps nothing here; `EmbeddingConfiguration` refuses it with a message. (Twin of
/// `vk_kernel_cap` in CVectorKernels, which is a separate C module.)
static inline int emb_kernel_cap(void) {
    const char *v = getenv("VECTOR_KERNELS");
    if (v == NULL) return 2;
    if (strcmp(v, "scalar") == 0) return 0;
    if (strcmp(v, "avx2") == 0) return 1;
    return 2;
}

/// 2: AVX-512 (F, DQ, BW, VL), 1: AVX2 + FMA, 0: neither (or not x86-64), at most the
/// `VECTOR_KERNELS` cap.
static inline int emb_simd_level(void) {
#if defined(__x86_64__)
    static int level = -1;
    int l = __atomic_load_n(&level, __ATOMIC_RELAXED);
    if (l < 0) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
            __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma"))
            l = 2;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            l = 1;
        else
            l = 0;
        int cap = emb_kernel_cap();
        if (l > cap) l = cap;
        __atomic_store_n(&level, l, __ATOMIC_RELAXED);
    }
    return l;
#else
    return 0;
#endif
}

/// The kernels below take a level: `emb_simd_level()`, or lower to test the other versions
/// (a level above what the CPU has falls back to what it has).
static inline int emb_clamp_level(int level) {
    int have = emb_simd_level();
    return level < 0 || level > have ? have : level;
}

/// Softmax of each row of a row-major [rows, cols] matrix, in place.
static inline void emb_softmax_rows(int level, float *s, long rows, long cols) {
#if defined(__x86_64__)
    switch (emb_clamp_level(level)) {
    case 2: emb_softmax_rows_avx512(s, rows, cols); return;
    case 1: emb_softmax_rows_avx2(s, rows, cols); return;
    }
#endif
    emb_softmax_rows_c(s, rows, cols);
}

/// x = gelu(x + bias) on `dim` columns of `rows` rows `ld` apart, bias broadcast over rows;
/// the exact (erf) GELU.
static inline void emb_bias_gelu(int level, float *x, const float *bias, long rows, long dim, long ld) {
#if defined(__x86_64__)
    switch (emb_clamp_level(level)) {
    case 2: emb_bias_gelu_avx512(x, bias, rows, dim, ld); return;
    case 1: emb_bias_gelu_avx2(x, bias, rows, dim, ld); return;
    }
#endif
    emb_bias_gelu_c(x, bias, rows, dim, ld);
}

/// Packs a row-major [k, n] weight (rows `ldw` apart) into n/16 panels of k x 16 for
/// `emb_packed_linear`; n must be a multiple of 16, `panels` 64-byte aligned, k * n floats.
static inline void emb_pack_panels(const float *w, long k, long n, long ldw, float *panels) {
    for (long p = 0; p < n / 16; p++)
        for (long kk = 0; kk < k; kk++)
            for (long c = 0; c < 16; c++) panels[(p * k + kk) * 16 + c] = w[kk * ldw + p * 16 + c];
}

/// 1 when `emb_packed_linear` runs here (it is AVX-512 only; callers use BLAS otherwise).
static inline int emb_has_packed_linear(int level) { return emb_clamp_level(level) == 2; }

/// C[m, col0 ..< col0 + cols] = A[m, k] W[k, same] (+ C when `accumulate`), W packed by
/// `emb_pack_panels`; col0 and cols multiples of 16. Only call when `emb_has_packed_linear`.
static inline void emb_packed_linear(const float *a, long lda, long m, const float *panels, long k,
                                     long col0, long cols, float *c, long ldc, int accumulate) {
#if defined(__x86_64__)
    emb_panel_f32_linear(a, lda, m, panels, k, col0, cols, c, ldc, accumulate);
#endif
}

/// `emb_pack_panels` in half precision (IEEE binary16, rounded to nearest even); `panels`
/// 64-byte aligned, k * n halves. Only call when `emb_has_packed_linear`.
static inline void emb_pack_panels_half(const float *w, long k, long n, long ldw, unsigned short *panels) {
#if defined(__x86_64__)
    emb_pack_panels_half_avx512(w, k, n, ldw, panels);
#endif
}

/// `emb_packed_linear` over half-precision panels: the weights widened to float32 as they are
/// loaded, every product and sum in float32.
static inline void emb_packed_linear_half(const float *a, long lda, long m, const unsigned short *panels, long k,
                                          long col0, long cols, float *c, long ldc, int accumulate) {
#if defined(__x86_64__)
    emb_panel_f16_linear(a, lda, m, panels, k, col0, cols, c, ldc, accumulate);
#endif
}

/// Rounds each value in place to the nearest IEEE binary16 value (ties to even), kept as a
/// float32: what the half panels hold, so that OpenBLAS (long batches) and the panel kernel
/// (queries) multiply by the same weights and a text embeds the same either way. Portable bit
/// arithmetic, so machines without AVX-512 round identically. Returns 0, changing nothing
/// past that value, if one is outside the half range (|x| >= 65520, or not finite).
static inline int emb_round_to_half(float *x, long n) {
    for (long i = 0; i < n; i++) {
        float v = x[i];
        float a = fabsf(v);
        if (!(a < 65520.0f)) return 0;
        if (a < 6.103515625e-05f) {
            // Below the smallest normal half: a multiple of 2^-24 (exact scaling, nearest even).
            x[i] = nearbyintf(v * 16777216.0f) / 16777216.0f;
        } else {
            unsigned int u;
            memcpy(&u, &v, 4);
            u += 0x0FFFu + ((u >> 13) & 1u);  // 23 mantissa bits to 10, ties to even
            u &= ~0x1FFFu;
            memcpy(&v, &u, 4);
            x[i] = v;
        }
    }
    return 1;
}

/// x = LayerNorm(x + (y + bias)) per row (y may be NULL: x = LayerNorm(x)); biased variance.
static inline void emb_layernorm(int level, float *x, const float *y, const float *bias, long rows, long dim,
                                 const float *gamma, const float *beta, float eps) {
#if defined(__x86_64__)
    switch (emb_clamp_level(level)) {
    case 2: emb_layernorm_avx512(x, y, bias, rows, dim, gamma, beta, eps); return;
    case 1: emb_layernorm_avx2(x, y, bias, rows, dim, gamma, beta, eps); return;
    }
#endif
    emb_layernorm_c(x, y, bias, rows, dim, gamma, beta, eps);
}

#endif
