// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A planted fault for the power-cut test, never used otherwise:
 *   LD_PRELOAD=nosync.so modalfsd ...
 * opens the daemon's LMDB environment with MDB_NOSYNC added, so commits
 * are not synced and their meta page can reach the disk before their data
 * pages. tests/fault/powercut.sh must catch it (FAULT_POWERCUT_PLANT=nosync).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <lmdb.h>
#include <stdio.h>

int mdb_env_open(MDB_env *env, const char *path, unsigned int flags,
		 mdb_mode_t mode)
{
	int (*real)(MDB_env *, const char *, unsigned int, mdb_mode_t) =
		(int (*)(MDB_env *, const char *, unsigned int, mdb_mode_t))
		dlsym(RTLD_NEXT, "mdb_env_open");

	fprintf(stderr, "nosync.so: opening %s with MDB_NOSYNC (planted fault)\n", path);
	return real(env, path, flags | MDB_NOSYNC, mode);
}
