/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Small helpers for the daemon's own files on the host. */
#ifndef MODALFS_FSUTIL_H
#define MODALFS_FSUTIL_H

#include <stdint.h>
#include <sys/types.h>

/*
 * mkdir -p: parents get 0755, the last component leaf_mode. Returns 0 or a
 * positive errno; an existing directory is not an error.
 */
int modalfs_mkdir_p(const char *dir, mode_t leaf_mode);

/*
 * The "wchar:" count of a /proc io file (/proc/self/io,
 * /proc/thread-self/io): bytes passed to write(2)-like calls so far. 0
 * when the file cannot be read.
 */
uint64_t modalfs_proc_wchar(const char *path);

/*
 * The same from an open /proc io file (one pread, for a caller that reads
 * it often); 0 for fd -1 or when it cannot be read.
 */
uint64_t modalfs_proc_wchar_fd(int fd);

#endif
