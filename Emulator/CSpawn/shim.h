#ifndef CSPAWN_SHIM_H
#define CSPAWN_SHIM_H
#include <spawn.h>

// glibc (2.29+) declares this only under _GNU_SOURCE, which Swift's Glibc module is built
// without. It lets a child start in its own working directory (a Python function's CodeUri)
// without a chdir in the multi-threaded emulator.
extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *__restrict actions,
                                                const char *__restrict path);

static inline int cspawn_add_chdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}
#endif
