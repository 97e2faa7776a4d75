/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Why a mount failed with ENOENT, in words: asks modalfsd whether the
 * volume exists, so mount.modalfs and modalfsctl mount can say "no volume
 * named X" instead of mount(8)'s "special device X does not exist".
 */
#ifndef MODALFS_VOLPROBE_H
#define MODALFS_VOLPROBE_H

#include <stddef.h>

/* 1 if volume name exists, 0 if modalfsd says it does not, -1 if unknown. */
int volprobe_exists(const char *sock_path, const char *name);
/*
 * For a mount of src ("NAME:/path") on dir that failed with ENOENT: a
 * message naming what is missing, written to msg (n bytes).
 */
void volprobe_explain(const char *sock_path, const char *src,
		      const char *dir, char *msg, size_t n);

#endif
