#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H
// Debian's libopenblas-dev: cblas.h under the multiarch include folder (pkg-config openblas).
#include <cblas.h>
// The embedder's element-wise kernels, header-only (this module is the embedder's only C).
#include "embedding_kernels.h"
#endif
