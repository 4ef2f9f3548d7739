#ifndef CSTDIO_SHIM_H
#define CSTDIO_SHIM_H
#include <stdio.h>

// Swift 6 cannot name C's `stdout` (a mutable global). The runtime points fd 1 at stderr and
// wants stray `print` output to reach the logs line by line, not when a 4 KB buffer fills.
static inline void cstdio_line_buffer_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }
#endif
