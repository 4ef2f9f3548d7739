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
// glibc 2.34+: closes every descriptor from `from` up in the child. The emulator's sockets
// (the listeners, clients' connections) are not all close-on-exec; a handler that inherited a
// client's connection kept it open after the emulator closed it, so a stream cut short by an
// error never ended for that client, and a listener outlived the emulator in its children.
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

static inline int cspawn_add_closefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
#endif
