#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H
// Debian's libopenblas-dev: cblas.h under the multiarch include folder (pkg-config openblas).
#include <cblas.h>
// LAPACK's Cholesky factor and solve, also in libopenblas (the router's seed classifier solves
// one shrunk covariance system per catalog build).
void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);
void spotrs_(const char *uplo, const int *n, const int *nrhs, const float *a, const int *lda, float *b, const int *ldb, int *info);
// The embedder's element-wise kernels, header-only (this module is the embedder's only C).
#include "embedding_kernels.h"
#endif
