// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "mountopts.h"
#include "../userd/names.h"
#include "../netlink/modalfs.h"

static const struct {
	const char *name;
	unsigned long set, clear;
} flag_opts[] = {
	{ "ro", MS_RDONLY, 0 },
	{ "rw", 0, MS_RDONLY },
	{ "nosuid", MS_NOSUID, 0 },
	{ "suid", 0, MS_NOSUID },
	{ "nodev", MS_NODEV, 0 },
	{ "dev", 0, MS_NODEV },
	{ "noexec", MS_NOEXEC, 0 },
	{ "exec", 0, MS_NOEXEC },
	{ "sync", MS_SYNCHRONOUS, 0 },
	{ "async", 0, MS_SYNCHRONOUS },
	{ "dirsync", MS_DIRSYNC, 0 },
	{ "noatime", MS_NOATIME, MS_RELATIME | MS_STRICTATIME },
	{ "atime", 0, MS_NOATIME },
	{ "nodiratime", MS_NODIRATIME, 0 },
	{ "diratime", 0, MS_NODIRATIME },
	{ "relatime", MS_RELATIME, MS_NOATIME | MS_STRICTATIME },
	{ "norelatime", 0, MS_RELATIME },
	{ "strictatime", MS_STRICTATIME, MS_NOATIME | MS_RELATIME },
	{ "nostrictatime", 0, MS_STRICTATIME },
	{ "lazytime", MS_LAZYTIME, 0 },
	{ "nolazytime", 0, MS_LAZYTIME },
	{ "silent", MS_SILENT, 0 },
	{ "loud", 0, MS_SILENT },
	{ "remount", MS_REMOUNT, 0 },
};

/* Understood by mount(8) or fstab only; never passed to the kernel. */
static bool userspace_only(const char *o, size_t n)
{
	static const char *const names[] = {
		"defaults", "auto", "noauto", "user", "nouser", "users",
		"owner", "group", "nofail", "_netdev", "loop",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && !strncmp(o, names[i], n))
			return true;
	return (n > 2 && (!strncmp(o, "x-", 2) || !strncmp(o, "X-", 2))) ||
	       (n >= 8 && !strncmp(o, "comment=", 8));
}

int mount_opts_parse(const char *opts, struct mount_opts *mo, char *err,
		     size_t errlen)
{
	const char *o = opts ? opts : "";

	while (*o) {
		size_t n = strcspn(o, ",");
		size_t used = strlen(mo->data);
		bool flag = false;

		for (size_t i = 0; n && i < sizeof(flag_opts) /
						sizeof(flag_opts[0]); i++) {
			if (strlen(flag_opts[i].name) == n &&
			    !strncmp(o, flag_opts[i].name, n)) {
				mo->flags &= ~flag_opts[i].clear;
				mo->flags |= flag_opts[i].set;
				flag = true;
				break;
			}
		}
		if (n && !flag && !userspace_only(o, n)) {
			if (used + n + 2 > sizeof(mo->data)) {
				snprintf(err, errlen, "mount options too long");
				return -1;
			}
			if (used)
				mo->data[used++] = ',';
			memcpy(mo->data + used, o, n);
			mo->data[used + n] = '\0';
		}
		o += n;
		if (*o == ',')
			o++;
	}
	return 0;
}

int mount_source(const char *spec, char *src, size_t srclen, char *err,
		 size_t errlen)
{
	char name[MODALFS_VOL_NAME_MAX + 1];
	const char *colon = strchr(spec, ':');
	const char *path = colon ? colon + 1 : "/";
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);

	if (n <= MODALFS_VOL_NAME_MAX) {
		memcpy(name, spec, n);
		name[n] = '\0';
	}
	if (n > MODALFS_VOL_NAME_MAX || !modalfs_vol_name_valid(name)) {
		snprintf(err, errlen, "invalid volume name '%.*s' in '%s': %s",
			 (int)n, spec, spec, MODALFS_VOL_NAME_RULE);
		return -1;
	}
	if (!*path)
		path = "/";
	if (path[0] != '/') {
		snprintf(err, errlen,
			 "the path in '%s' must be absolute: NAME:/path", spec);
		return -1;
	}
	if (strlen(path) > MODALFS_PATH_MAX) {
		snprintf(err, errlen, "the path in '%s' is too long", spec);
		return -1;
	}
	if ((size_t)snprintf(src, srclen, "%s:%s", name, path) >= srclen) {
		snprintf(err, errlen, "'%s' is too long", spec);
		return -1;
	}
	return 0;
}

int mount_volume(const char *src, const char *dir,
		 const struct mount_opts *mo, char *err, size_t errlen)
{
	int e;

	if (!mount(src, dir, "modalfs", mo->flags,
		   mo->data[0] ? mo->data : NULL))
		return 0;
	e = errno;
	switch (e) {
	case ENODEV:
		snprintf(err, errlen, "the modalfs kernel module is not loaded (modprobe modalfs)");
		break;
	case ECONNREFUSED:
		snprintf(err, errlen, "modalfsd is not running");
		break;
	case ENOENT:
		snprintf(err, errlen, "the volume or the path in it does not exist, or %s is missing", dir);
		break;
	case ENOTDIR:
		snprintf(err, errlen, "the path in the volume, or %s, is not a directory", dir);
		break;
	case EINVAL:
		snprintf(err, errlen, "invalid source or option (see dmesg)");
		break;
	case EPERM:
		snprintf(err, errlen, "permission denied (mounting needs root)");
		break;
	default:
		snprintf(err, errlen, "%s", strerror(e));
	}
	return e;
}
