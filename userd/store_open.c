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

#include "blocks.h"
#include "fsutil.h"
#include "stats.h"

#include "store_priv.h"

static int cmp_pgno(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Pages on LMDB's free list (records of dbi 0: counted page lists), and
 * with run the longest run of consecutive ones, which is what a value of
 * several pages (an overflow page run) can reuse. LMDB allows this cursor
 * only in read-only transactions.
 */
int free_pages(MDB_txn *t, uint64_t *pages, uint64_t *run)
{
	size_t *pg = NULL, npg = 0;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_cursor_open(t, 0, &c), err = 0;

	*pages = 0;
	if (run)
		*run = 0;
	if (rc)
		return store_errno(rc);
	while (!err && !(rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))) {
		size_t n;

		if (v.mv_size < sizeof(size_t))
			continue;
		memcpy(&n, v.mv_data, sizeof(n));
		*pages += n;
		if (!run || (n + 1) * sizeof(size_t) > v.mv_size)
			continue;
		{
			size_t *p = realloc(pg, (npg + n + 1) * sizeof(*pg));

			if (!p) {
				err = ENOMEM;
				break;
			}
			pg = p;
		}
		memcpy(pg + npg, (size_t *)v.mv_data + 1, n * sizeof(*pg));
		npg += n;
	}
	mdb_cursor_close(c);
	if (!err && run && npg) {
		uint64_t cur = 1;

		qsort(pg, npg, sizeof(*pg), cmp_pgno);
		*run = 1;
		for (size_t i = 1; i < npg; i++) {
			cur = pg[i] == pg[i - 1] + 1 ? cur + 1 : 1;
			if (cur > *run)
				*run = cur;
		}
	}
	free(pg);
	if (err)
		return err;
	return rc == MDB_NOTFOUND ? 0 : store_errno(rc);
}

/*
 * ENOSPC when an op that adds data could eat into the reserve that ops
 * freeing space need (see the schema comment). The store's size limit
 * (map_size) holds both the metadata map and the file data in the block
 * store (meta "data_blocks"), so that --map-size bounds the whole store.
 * add is the bytes of file data the op is about to add, value its largest
 * LMDB value (an xattr, a symlink target): a value of several pages needs
 * that many consecutive pages, which free pages scattered over the free
 * list do not give (issue 12: the reserve must count contiguous space).
 * Cheap while far from the limit; near it, LMDB's free list is read,
 * since LMDB reuses freed pages before growing the file.
 */
int space_check(struct modalfs_store *st, struct modalfs_txc *tx, MDB_txn *t,
		uint64_t add, size_t value)
{
	MDB_envinfo info;
	MDB_txn *rt;
	uint64_t limit, hw, slack, nfree, run, data, need;
	int err = data_blocks_get(st, t, &data);

	if (err)
		return err;
	/* Logged writes' growth is not in LMDB yet (store_ilog.c). */
	data += ilog_pending_blocks(st);
	mdb_env_info(st->env, &info);
	limit = (st->map_size - st->reserve) / st->psize;
	hw = info.me_last_pgno + 1;
	data = (data * 512 + add + st->psize - 1) / st->psize;
	/* An overflow value: its pages plus the leaf's header page. */
	need = value > st->psize / 2 ? (value + st->psize - 1) / st->psize + 1
				      : 0;
	/* Earlier ops of a group-commit batch are not in the meta page yet. */
	slack = (uint64_t)(1 + (tx ? tx->index : 0)) *
		(OP_SLACK_BYTES / st->psize);
	if (hw + data + slack <= limit && hw + need + slack <= limit)
		return 0;
	/* MDB_NOTLS lets this thread read beside its write txn. */
	err = store_errno(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &rt));
	if (err)
		return err;
	err = free_pages(rt, &nfree, need ? &run : NULL);
	mdb_txn_abort(rt);
	if (err)
		return err;
	if (hw - (nfree < hw ? nfree : hw) + data + slack > limit)
		return ENOSPC;
	/* Room for the value: a free run, or the file's growth. */
	return need && run < need && hw + need + slack > limit ? ENOSPC : 0;
}

/* ---- open/close ---- */

#define CLEAN_MARK "clean"

/*
 * The block store under DIR/blocks, and whether the last daemon stopped
 * cleanly: close leaves the file "clean", which open removes (durably),
 * so a store found without it was left by a crash and gets reconciled.
 */
static int open_blocks(struct modalfs_store *st)
{
	char path[PATH_MAX];
	int err, dfd;

	snprintf(path, sizeof(path), "%s/blocks", st->dir);
	err = modalfs_blocks_local_open(path, st->rdonly, &st->blocks);
	if (st->rdonly) {
		snprintf(path, sizeof(path), "%s/" CLEAN_MARK, st->dir);
		st->was_clean = !access(path, F_OK);
		/* A format-1 store or a new one: no objects to check. */
		return err == ENOENT ? 0 : err;
	}
	if (err)
		return err;
	dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno;
	st->was_clean = !unlinkat(dfd, CLEAN_MARK, 0);
	err = st->was_clean && fsync(dfd) ? errno : 0;
	close(dfd);
	return err;
}

static void mark_clean(struct modalfs_store *st)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/" CLEAN_MARK, st->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

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
	pthread_mutex_init(&st->rlock, NULL);
	st->ilog.fd = -1;
	pthread_mutex_init(&st->ilog.lock, NULL);
	pthread_mutex_init(&st->ilog.fold_lock, NULL);
	st->drc_max = DRC_MAX;
	st->commit_gen = 1;
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
	/*
	 * MDB_NOMEMINIT: LMDB would zero every page it mallocs for a write
	 * txn (each page a commit or a nested txn touches), about 9 pages
	 * per op; under TCG that memset was a fifth of the daemon's time in
	 * an unlink run. What it leaves in a page's unused bytes is this
	 * daemon's own heap, written to a file only this daemon's user
	 * reads (mode 0600 in a 0700 state directory), which holds every
	 * volume's metadata already.
	 */
	if (!err)
		err = store_errno(mdb_env_open(st->env, dir,
					       rdonly ? MDB_RDONLY | MDB_NOTLS :
					       MDB_NOMETASYNC | MDB_NOTLS |
					       MDB_NOMEMINIT,
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
	if (!err)
		err = open_blocks(st);
	if (!err && !rdonly)
		err = store_migrate(st);
	if (!err && !rdonly)
		err = ilog_open(st);
	if (!err && !rdonly && !st->was_clean)
		err = store_reconcile(st);
	if (!err && !rdonly)
		err = writer_start(st);
	if (err)
		goto fail;
	st->ready = true;
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
	writer_stop(st);
	if (st->ready)
		ilog_close(st);
	txn_read_pool_free(st);
	if (st->env) {
		/* Data, then the metadata pointing at it, then the mark. */
		if (!st->rdonly && st->ready &&
		    !st->blocks->ops->sync(st->blocks) &&
		    !mdb_env_sync(st->env, 1))
			mark_clean(st);
		mdb_env_close(st->env);
	}
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	if (st->blocks)
		st->blocks->ops->close(st->blocks);
	free(st->dir);
	modalfs_stats_free(st->stats);
	free(st);
}

struct modalfs_stats *modalfs_store_stats(struct modalfs_store *st)
{
	return st->stats;
}
/*
 * Store-wide numbers (all volumes share one store): blocks is what ops
 * that add data may fill (the size limit minus the reserve, see
 * space_check); used is the map's pages in use (high-water mark minus
 * LMDB's free list) plus the file data; what is still free is capped by
 * the host file system's space.
 */
int modalfs_store_statfs(struct modalfs_store *st, uint64_t vol,
			 struct modalfs_statfs *sf)
{
	char name[MODALFS_VOL_NAME_MAX + 1];
	struct volrec vr;
	struct statvfs sv;
	MDB_envinfo info;
	MDB_txn *t;
	uint64_t limit, hw, nfree, used, fsavail, avail, slack, data;
	int err;

	err = txn_begin(st, NULL, false, &t);
	if (err)
		return err;
	err = volrec_by_id(st, t, vol, name, &vr);
	if (!err)
		err = free_pages(t, &nfree, NULL);
	if (!err)
		err = data_blocks_get(st, t, &data);
	txn_read_end(st, t);
	if (err)
		return err;
	data += ilog_pending_blocks(st);
	mdb_env_info(st->env, &info);
	if (statvfs(st->dir, &sv))
		return errno;
	limit = (st->map_size - st->reserve) / st->psize;
	hw = info.me_last_pgno + 1;
	if (nfree > hw)
		nfree = hw;
	used = hw - nfree + (data * 512 + st->psize - 1) / st->psize;
	avail = used < limit ? limit - used : 0;
	/* Free map pages are in the file already; the rest needs the host. */
	fsavail = (uint64_t)sv.f_bavail * sv.f_frsize / st->psize + nfree;
	if (avail > fsavail)
		avail = fsavail;
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

