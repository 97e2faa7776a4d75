/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Mounting a modalfs volume, shared by modalfsctl (mount, run) and the
 * mount helper mount.modalfs: options as mount(8) writes them are split
 * into mount(2) flags and the data string the kernel module parses.
 */
#ifndef MODALFS_MOUNTOPTS_H
#define MODALFS_MOUNTOPTS_H

#include <stdbool.h>
#include <stddef.h>

struct mount_opts {
	unsigned long flags;	/* MS_* */
	char data[4096];	/* the rest, comma-separated */
};

/*
 * Parses a comma-separated option list (NULL or "" is none) into mo,
 * appending to what is there. Options only mount(8) uses (defaults, auto,
 * noauto, user, nofail, _netdev, x-*, comment=...) are dropped. Returns 0,
 * or -1 with a message in err (errlen bytes).
 */
int mount_opts_parse(const char *opts, struct mount_opts *mo, char *err,
		     size_t errlen);

/*
 * Splits SOURCE "NAME[:/path]" into the canonical "NAME:/path" (src,
 * srclen bytes) and checks the volume name. Returns 0, or -1 with a
 * message in err.
 */
int mount_source(const char *spec, char *src, size_t srclen, char *err,
		 size_t errlen);

/* mount(2) of src at dir; returns 0 or an errno, with a hint in err. */
int mount_volume(const char *src, const char *dir,
		 const struct mount_opts *mo, char *err, size_t errlen);

#endif
