/* sandbox_filter.h: the seccomp policy of sandboxed runs (sandbox.c installs it through bubblewrap's --seccomp).
 *
 * Two filters, stacked: the allow-list, whose default answers ENOSYS (a library then falls back as on an older
 * kernel), with socket's families and clone's flags checked; and the deny-list, whose default allows, for the calls
 * that kill the process (ptrace, mount, bpf, unshare, io_uring, ..., clone with a namespace flag, TIOCSTI and
 * TIOCLINUX). The kernel applies the stricter answer of the two. Only the native ABI is allowed: 32-bit (int 0x80) and
 * x32 system calls hit the bad-architecture action, which kills the process. */
#ifndef CONCOURS_SANDBOX_FILTER_H
#define CONCOURS_SANDBOX_FILTER_H

#include <stddef.h>

/* Compiles filter WHICH (0 the allow-list, 1 the deny-list) into *BPF (malloc'd, the caller frees it) of *LEN bytes,
 * at most 32 KiB. Returns 0, or -1 with ERR set (*BPF NULL, *LEN 0). */
int sandbox_filter_build(int which, unsigned char **bpf, size_t *len, char *err, size_t errlen);

#endif
