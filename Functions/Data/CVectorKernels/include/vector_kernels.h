#ifndef VECTOR_KERNELS_H
#define VECTOR_KERNELS_H
#include <stdint.h>

/// Dot products of one query with `rows` consecutive rows of `dim` floats: out[r] = q . m[r].
/// AVX2+FMA when the CPU has them (checked once at run time), portable C otherwise.
void vk_dot_f32_rows(const float *q, const float *m, long rows, int dim, float *out);

/// The same over int8 rows with an int8 query (values in -127...127): out[r] = sum(q8[i] * m8[r][i]).
/// `row_sums[r]` is sum(m8[r][i]) (the VNNI kernel needs it). AVX-512 VNNI, else AVX2, else C.
void vk_dot_i8_rows(const int8_t *q8, const int8_t *m8, const int32_t *row_sums, long rows, int dim, int32_t *out);

/// The same, no faster than `level` (2 VNNI, 1 AVX2, 0 C): tests compare the versions.
void vk_dot_i8_rows_level(int level, const int8_t *q8, const int8_t *m8, const int32_t *row_sums, long rows, int dim, int32_t *out);

/// 1 when the AVX2 kernels are in use.
int vk_has_avx2(void);
#endif
