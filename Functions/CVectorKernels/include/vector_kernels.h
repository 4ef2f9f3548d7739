#ifndef VECTOR_KERNELS_H
#define VECTOR_KERNELS_H
#include <stdint.h>

/// Dot products of one query with `rows` consecutive rows of `dim` floats: out[r] = q . m[r].
/// AVX2+FMA when the CPU has them (checked once at run time), portable C otherwise.
void vk_dot_f32_rows(const float *q, const float *m, long rows, int dim, float *out);

/// The same over int8 rows with an int16 query: out[r] = sum(q16[i] * m8[r][i]).
void vk_dot_i8_rows(const int16_t *q16, const int8_t *m8, long rows, int dim, int32_t *out);

/// 1 when the AVX2 kernels are in use.
int vk_has_avx2(void);
#endif
