// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Opening and closing the store, its space accounting (space_check,
 * statfs) and the table of databases.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fsutil.h"
#include "stats.h"

#include "store_priv.h"

/*
 * Pages on LMDB's free list (records of dbi 0: counted page lists). LMDB
 * allows this cursor only in read-only transactions.
 */
int free_pages(MDB_txn *t, uint64_t *pages)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_cursor_open(t, 0, &c);

	*pages = 0;
	if (rc)
		return store_errno(rc);
	while (!(rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))) {
		size_t n;

		if (v.mv_size < sizeof(size_t))
			continue;
		memcpy(&n, v.mv_data, sizeof(n));
		*pages += n;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : store_errno(rc);
}


/*
 * ENOSPC when an op that adds data could eat into the reserve that ops
 * freeing space need (see the schema comment). Cheap while the map's
 * high-water mark is far from the limit; near it, the free list is
 * counted, since LMDB reuses freed pages before growing the file.
 */
int space_check(struct modalfs_store *st, struct modalfs_txc *tx)
{
	MDB_envinfo info;
	MDB_txn *rt;
	uint64_t limit, hw, slack, nfree;
	int err;

	mdb_env_info(st->env, &info);
	limit = (st->map_size - st->reserve) / st->psize;
	hw = info.me_last_pgno + 1;
	/* Earlier ops of a group-commit batch are not in the meta page yet. */
	slack = (uint64_t)(1 + (tx ? tx->index : 0)) * (OP_SLACK_BYTES / st->psize);
	if (hw + slack <= limit)
		return 0;
	/* MDB_NOTLS lets this thread read beside its write txn. */
	err = store_errno(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &rt));
	if (err)
		return err;
	err = free_pages(rt, &nfree);
	mdb_txn_abort(rt);
	if (err)
		return err;
	return hw - (nfree < hw ? nfree : hw) + slack > limit ? ENOSPC : 0;
}

/* ---- open/close ---- */

int store_open(struct modalfs_store **out, const char *dir,
	       uint64_t map_size, bool rdonly, unsigned int *missing)
{
	struct modalfs_store *st;
	char lockpath[PATH_MAX];
	MDB_txn *t;
	MDB_stat ms;
	int err, dead;

	st = calloc(1, sizeof(*st));
	if (!st)
		return ENOMEM;
	st->lock_fd = -1;
	st->rdonly = rdonly;
	st->drc_max = DRC_MAX;
	st->stats = modalfs_stats_new();
	if (!st->stats) {
		free(st);
		return ENOMEM;
	}
	st->map_size = map_size ? map_size : MODALFS_STORE_DEFAULT_MAP;
	st->dir = strdup(dir);
	if (!st->dir) {
		err = ENOMEM;
		goto fail;
	}
	if (!rdonly) {
		err = modalfs_mkdir_p(dir, 0700);
		if (err)
			goto fail;
		/* LMDB tolerates several processes; our volume logic does not. */
		snprintf(lockpath, sizeof(lockpath), "%s/modalfsd.lock", dir);
		st->lock_fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC,
				   0600);
		if (st->lock_fd < 0) {
			err = errno;
			goto fail;
		}
		if (flock(st->lock_fd, LOCK_EX | LOCK_NB)) {
			err = errno == EWOULDBLOCK ? EBUSY : errno;
			goto fail;
		}
	}
	err = store_errno(mdb_env_create(&st->env));
	if (err)
		goto fail;
	err = store_errno(mdb_env_set_maxdbs(st->env, 16));
	if (!err)
		err = store_errno(mdb_env_set_maxreaders(st->env, 510));
	/* Read-only: LMDB takes the map size from the file. */
	if (!err && !rdonly)
		err = store_errno(mdb_env_set_mapsize(st->env, st->map_size));
	if (!err)
		err = store_errno(mdb_env_open(st->env, dir,
					       rdonly ? MDB_RDONLY | MDB_NOTLS :
					       MDB_NOMETASYNC | MDB_NOTLS,
					       0600));
	if (err)
		goto fail;
	if (!rdonly)
		mdb_reader_check(st->env, &dead);
	mdb_env_stat(st->env, &ms);
	st->psize = ms.ms_psize;
	{
		MDB_envinfo info;

		/*
		 * Read-only: the file's map size. Writable: LMDB keeps a map
		 * at least as large as the data already stored, even when a
		 * smaller --map-size is asked for.
		 */
		mdb_env_info(st->env, &info);
		if (rdonly || info.me_mapsize > st->map_size)
			st->map_size = info.me_mapsize;
	}
	/*
	 * What deleting the largest file may need: its free-list record
	 * (8 bytes per freed page) plus copied tree pages.
	 */
	st->reserve = st->map_size / 64;
	if (st->reserve < (256u << 10))
		st->reserve = 256u << 10;
	if (st->reserve > (256u << 20))
		st->reserve = 256u << 20;
	if (st->reserve > st->map_size / 4)
		st->reserve = st->map_size / 4;

	if (missing)
		*missing = 0;
	err = txn_begin(st, NULL, !rdonly, &t);
	if (err)
		goto fail;
	for (int i = 0; i < NDBS && !err; i++) {
		err = store_errno(mdb_dbi_open(t, store_dbs[i].name,
					       rdonly ? 0 : MDB_CREATE,
					       &st->db[i]));
		if (rdonly && err == ENOENT && missing) {
			*missing |= 1u << i;
			st->db[i] = (MDB_dbi)-1;
			err = 0;
		}
	}
	if (rdonly) {
		/* Read-only handles stay valid after a read txn ends. */
		if (err)
			mdb_txn_abort(t);
		else
			err = store_errno(mdb_txn_commit(t));
	} else {
		err = txn_end(st, NULL, t, err);
	}
	if (err)
		goto fail;
	*out = st;
	return 0;
fail:
	modalfs_store_close(st);
	return err;
}

int modalfs_store_open(struct modalfs_store **out, const char *dir,
		       uint64_t map_size)
{
	return store_open(out, dir, map_size, false, NULL);
}

void modalfs_store_close(struct modalfs_store *st)
{
	if (!st)
		return;
	if (st->group) {
		pthread_mutex_lock(&st->wlock);
		st->wstop = true;
		pthread_cond_signal(&st->wmore);
		pthread_mutex_unlock(&st->wlock);
		pthread_join(st->writer, NULL);
	}
	if (st->env) {
		if (!st->rdonly)
			mdb_env_sync(st->env, 1);
		mdb_env_close(st->env);
	}
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st->dir);
	modalfs_stats_free(st->stats);
	free(st);
}

struct modalfs_stats *modalfs_store_stats(struct modalfs_store *st)
{
	return st->stats;
}
int modalfs_store_statfs(struct modalfs_store *st, uint64_t vol,
			 struct modalfs_statfs *sf)
{
	char name[MODALFS_VOL_NAME_MAX + 1];
	struct volrec vr;
	struct statvfs sv;
	MDB_envinfo info;
	MDB_txn *t;
	uint64_t limit, hw, nfree, used, grow, fsavail, avail, slack;
	int err;

	err = txn_begin(st, NULL, false, &t);
	if (err)
		return err;
	err = volrec_by_id(st, t, vol, name, &vr);
	if (!err)
		err = free_pages(t, &nfree);
	mdb_txn_abort(t);
	if (err)
		return err;
	mdb_env_info(st->env, &info);
	if (statvfs(st->dir, &sv))
		return errno;
	limit = (st->map_size - st->reserve) / st->psize;
	hw = info.me_last_pgno + 1;
	if (nfree > hw)
		nfree = hw;
	used = hw - nfree;
	grow = hw < limit ? limit - hw : 0;
	fsavail = (uint64_t)sv.f_bavail * sv.f_frsize / st->psize;
	if (grow > fsavail)
		grow = fsavail;
	avail = used < limit ? nfree + grow : 0;
	if (avail > limit - (used < limit ? used : limit))
		avail = limit - (used < limit ? used : limit);
	/* space_check keeps one op's worth back; so does df. */
	slack = OP_SLACK_BYTES / st->psize;
	avail = avail > slack ? avail - slack : 0;
	memset(sf, 0, sizeof(*sf));
	sf->bsize = st->psize;
	sf->blocks = limit;
	sf->bfree = sf->bavail = avail;
	/* No inode table: any free page can hold an inode. */
	sf->files = sf->blocks;
	sf->ffree = sf->bfree;
	sf->namelen = MODALFS_NAME_MAX;
	return 0;
}

