// Lets the function executables, built on Debian 12 (glibc 2.36, GCC 12's libstdc++), start on
// Lambda's provided.al2023 (glibc 2.34, GCC 11's libstdc++).
//
// The static Swift runtime references three symbols whose default version on the build machine
// is newer than AL2023 has: `hypot` and `hypotf` (GLIBC_2.35, from libFoundation.a and
// libswiftGlibc.a) and `std::condition_variable::wait(unique_lock<mutex>&)` (GLIBCXX_3.4.30,
// from lib_FoundationICU.a). Each is linked with `--wrap=<symbol>` (Package.swift), which sends
// every reference to the `__wrap_` function below; that function calls the same routine under
// its older version, which both libraries still export, looked up once with `dlvsym`. So the
// binary needs at most GLIBC_2.34 (`dlvsym` itself) and GLIBCXX_3.4.29, which
// infra/symbol-check.sh verifies on every package. (An `.symver` alias alone does not do it:
// the wrapper would resolve to itself and recurse.) The older `hypot` differs from 2.35's only
// in how it sets errno on overflow.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include "glibc_compat.h"

int glibc_compat_linked(void) { return 1; }

static void *resolve(void **slot, const char *name, const char *version) {
    void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (f == NULL) {
        f = dlvsym(RTLD_DEFAULT, name, version);
        if (f == NULL) {
            fprintf(stderr, "glibc_compat: %s@%s not found: %s\n", name, version, dlerror());
            abort();
        }
        __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    }
    return f;
}

double __wrap_hypot(double x, double y) {
    static void *slot;
    return ((double (*)(double, double))resolve(&slot, "hypot", "GLIBC_2.2.5"))(x, y);
}

float __wrap_hypotf(float x, float y) {
    static void *slot;
    return ((float (*)(float, float))resolve(&slot, "hypotf", "GLIBC_2.2.5"))(x, y);
}

// std::condition_variable::wait(std::unique_lock<std::mutex>&): a member function, so `this`
// and the lock arrive as two pointers.
void __wrap__ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE(void *self, void *lock) {
    static void *slot;
    ((void (*)(void *, void *))resolve(&slot, "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE", "GLIBCXX_3.4.11"))(self, lock);
}
