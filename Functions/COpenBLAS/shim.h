#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H
// Debian's libopenblas-dev: cblas.h under the multiarch include folder (pkg-config openblas).
#include <cblas.h>
#endif
