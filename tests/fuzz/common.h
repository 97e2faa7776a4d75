/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Shared by the libFuzzer targets: a scratch store (on /dev/shm when it
 * exists, so commits cost no disk syncs) with one volume holding a file
 * with data and an xattr, a directory and a symlink. Its files are
 * unlinked once open; the empty directory is removed at exit.
 */
#ifndef MODALFS_FUZZ_COMMON_H
#define MODALFS_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../userd/log.h"
#include "../../userd/store.h"

#define FUZZ_FAMILY 0x42

static char fuzz_dir[64];
static struct modalfs_store *fuzz_st;

static void fuzz_cleanup(void)
{
	char cmd[128];

	modalfs_store_close(fuzz_st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz_dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", fuzz_dir);
}

static void fuzz_die(const char *what, int err)
{
	fprintf(stderr, "fuzz setup: %s: %s\n", what, strerror(err));
	abort();
}

/* Inode 1 root, 2 file "f" (data, user.x), 3 dir "d", 4 symlink "d/l". */
static void fuzz_store_init(void)
{
	struct modalfs_volinfo vi;
	struct modalfs_iattr a;
	static char buf[100000];
	int err;

	modalfs_log_level = -1;
	strcpy(fuzz_dir, access("/dev/shm", W_OK) ? "/tmp/modalfs-fuzz-XXXXXX"
		       : "/dev/shm/modalfs-fuzz-XXXXXX");
	if (!mkdtemp(fuzz_dir))
		fuzz_die("mkdtemp", 5);
	/* Small, so that ENOSPC paths are reached too. */
	err = modalfs_store_open(&fuzz_st, fuzz_dir, 32 << 20);
	if (err)
		fuzz_die("open", err);
	atexit(fuzz_cleanup);
	if ((err = modalfs_store_vol_persisted(fuzz_st, "vol", &vi)))
		fuzz_die("volume", err);
	memset(buf, 'a', sizeof(buf));
	if ((err = modalfs_store_create(fuzz_st, NULL, vi.vol_id, 1, "f",
					S_IFREG | 0644, 0, 0, 0, &a)) ||
	    (err = modalfs_store_write(fuzz_st, NULL, vi.vol_id, a.ino, 0, buf,
				       sizeof(buf), NULL)) ||
	    (err = modalfs_store_setxattr(fuzz_st, NULL, vi.vol_id, a.ino, "user.x",
					  "v", 1, 0, NULL)) ||
	    (err = modalfs_store_mkdir(fuzz_st, NULL, vi.vol_id, 1, "d", 0755, 0, 0,
				       &a)) ||
	    (err = modalfs_store_symlink(fuzz_st, NULL, vi.vol_id, a.ino, "l",
					 "../f", 0, 0, &a)))
		fuzz_die("populate", err);
	/*
	 * LMDB keeps using the open files; unlinked, a crashing run leaves
	 * no RAM behind in /dev/shm, only an empty directory.
	 */
	{
		static const char *const files[] = {
			"data.mdb", "lock.mdb", "modalfsd.lock",
		};
		char path[128];

		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", fuzz_dir,
				 files[i]);
			unlink(path);
		}
	}
}

#endif
