#ifndef GLIBC_COMPAT_H
#define GLIBC_COMPAT_H
/// Nothing to call: the executables link this module for its `__wrap_` symbols (see compat.c).
int glibc_compat_linked(void);
#endif
