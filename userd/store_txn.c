// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * modalfsd storage backend on LMDB: errors, keys, records and
 * transactions, shared by the other store_*.c units through store_priv.h.
 *
 * Schema (one LMDB environment in the state directory, named DBIs).
 * Keys are big-endian fixed-width integers so that LMDB's memcmp order is
 * numeric order and all records of one volume / inode / directory are
 * contiguous. Values are native-endian structs (host-local file; a version
 * field leaves room for migration).
 *
 *   meta      "next_vol_id"                 -> u64 (vol ids are never reused,
 *                                              so stale mounts get ESTALE)
 *             "format"                      -> u32 STORE_FORMAT; absent in a
 *                                              format-1 store, which kept
 *                                              file data in a DBI "data"
 *                                              (converted at open, see
 *                                              store_migrate.c)
 *             "data_blocks"                 -> u64 512-byte units of file
 *                                              data in the block store
 *             "ilog"                        -> {u64 gen, u64 lsn}: the last
 *                                              intent-log record folded in
 *                                              (store_ilog.c)
 *   volumes   name                          -> struct volrec
 *   volids    be64 vol_id                   -> name
 *   inodes    be64 vol, be64 ino            -> struct inorec
 *   dirents   be64 vol, be64 dir, name      -> struct dentrec {cookie, ino, type}
 *   dcookies  be64 vol, be64 dir, be64 cookie -> name
 *             cookies start at MODALFS_DIR_COOKIE_FIRST and only grow per
 *             directory (inorec.next_cookie), so a READDIR position stays
 *             valid while other entries come and go; a rename that replaces
 *             an entry keeps the replaced entry's cookie.
 *   blockmap  be64 vol, be64 ino, be64 index -> struct maprec {len}: the
 *             file's object INDEX in the block store (blocks.h) holds
 *             valid bytes [0, len) of file bytes [INDEX * MODALFS_OBJ_SIZE,
 *             + MODALFS_OBJ_SIZE); an absent entry is a hole, bytes past
 *             len read as zeros, no entry reaches past the file size, and
 *             inorec.blocks is the sum of blocks512(len).
 *   symlinks  be64 vol, be64 ino            -> target (no NUL)
 *   orphans   be64 vol, be64 ino            -> empty; inodes with nlink 0
 *             that the kernel may still use; freed by EVICT or UMOUNT.
 *   xattrs    be64 vol, be64 ino, name      -> value (freed with the inode)
 *   drc       be64 req_id                   -> struct modalfs_drc_reply
 *             the duplicate-request cache, see struct modalfs_txc in store.h;
 *   volstats  be64 vol                      -> struct volstat {bytes, files}:
 *             what `modalfsctl list` shows, kept by every op that changes
 *             it (the sum of regular file sizes, the number of inodes)
 *   drcseq    be64 seq                      -> be64 req_id: the cache's
 *             entries in the order they were recorded (rep.seq), so that
 *             the bound DRC_MAX prunes the oldest, whatever their ids.
 *
 * Invariants after every transaction: a directory's nlink is 2 plus its
 * number of subdirectories; a non-directory's nlink is its number of
 * dirents; inorec.parent of a directory names the directory holding its
 * entry (root: itself); dirents and dcookies mirror each other.
 *
 * Space: LMDB needs free pages even to delete (copy-on-write of the tree
 * path and the free list record). Ops that add data (create, write,
 * setxattr, ...) are refused with ENOSPC once the store would pass
 * map_size - reserve (see space_check); the reserve is left for ops that
 * free space (unlink, rmdir, evict, truncate, removexattr), so a full
 * volume can always be emptied again.
 *
 * Durability: MDB_NOMETASYNC keeps every commit crash-consistent (data
 * pages are synced before the meta page is written; at worst the last
 * commits are lost on power failure) and FSYNC forces the meta page out
 * with mdb_env_sync(env, 1), so an acknowledged FSYNC covers everything
 * committed before it, and then syncs the intent log (store_ilog.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "store_priv.h"
#include "stats.h"

/*
 * The one table of databases: open creates or opens each, check walks
 * them and counts their pages, purge deletes a volume's records from every
 * DBF_PER_VOL one (inodes first, see store_vol.c).
 */
const struct store_db_desc store_dbs[NDBS] = {
	[DB_META] = { "meta", 0, NULL },
	[DB_VOLUMES] = { "volumes", 0, NULL },
	[DB_VOLIDS] = { "volids", 0, NULL },
	[DB_INODES] = { "inodes", DBF_PER_VOL, "inode" },
	[DB_DIRENTS] = { "dirents", DBF_PER_VOL, "directory entry" },
	[DB_DCOOKIES] = { "dcookies", DBF_PER_VOL, "directory cookie" },
	[DB_BLOCKMAP] = { "blockmap", DBF_PER_VOL | DBF_LATER, "block map" },
	[DB_SYMLINKS] = { "symlinks", DBF_PER_VOL, "symlink" },
	[DB_ORPHANS] = { "orphans", DBF_PER_VOL, "orphan" },
	[DB_XATTRS] = { "xattrs", DBF_PER_VOL | DBF_LATER, "xattr" },
	[DB_DRC] = { "drc", DBF_LATER, NULL },
	[DB_DRCSEQ] = { "drcseq", DBF_LATER, NULL },
	[DB_VOLSTATS] = { "volstats", DBF_PER_VOL | DBF_LATER, "counter" },
};

/* Map an LMDB or system error to the errno reported to the kernel. */
int store_errno(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return ENOENT;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		return ENOSPC;
	case MDB_KEYEXIST:
		return EEXIST;
	default:
		return rc > 0 ? rc : EIO;
	}
}

/*
 * Bytes this thread has passed to write(2)-like calls so far: LMDB's page
 * writes of a commit are the difference around it (LMDB does not count
 * them itself). iofd: this thread's /proc/thread-self/io kept open, or -1
 * to open it for the call. 0 when /proc is not there.
 */
static uint64_t thread_wchar(int iofd)
{
	return iofd >= 0 ? modalfs_proc_wchar_fd(iofd) :
			   modalfs_proc_wchar("/proc/thread-self/io");
}

/*
 * Commits t and counts it (ops: how many ops it holds, 0 for none; iofd:
 * see thread_wchar).
 */
int commit_counted(struct modalfs_store *st, MDB_txn *t, uint32_t ops,
		   int iofd)
{
	uint64_t w0 = thread_wchar(iofd);
	int rc = mdb_txn_commit(t);

	if (!rc) {
		/* After the commit wrote its meta page: see modalfs_store_fsync. */
		__atomic_add_fetch(&st->commit_gen, 1, __ATOMIC_RELEASE);
		modalfs_stats_commit(st->stats, ops);
		modalfs_stats_meta_bytes(st->stats, thread_wchar(iofd) - w0);
	}
	return rc;
}

/* ---- keys ---- */

void be64(unsigned char *p, uint64_t x)
{
	for (int i = 7; i >= 0; i--, x >>= 8)
		p[i] = x & 0xff;
}

uint64_t get_be64(const unsigned char *p)
{
	uint64_t x = 0;

	for (int i = 0; i < 8; i++)
		x = x << 8 | p[i];
	return x;
}

uint64_t kget(const MDB_val *k, size_t off)
{
	return k->mv_size >= off + 8 ?
		get_be64((const unsigned char *)k->mv_data + off) : 0;
}

MDB_val *key1(struct key *k, uint64_t a)
{
	be64(k->b, a);
	k->v.mv_data = k->b;
	k->v.mv_size = 8;
	return &k->v;
}

MDB_val *key2(struct key *k, uint64_t a, uint64_t b)
{
	be64(k->b, a);
	be64(k->b + 8, b);
	k->v.mv_data = k->b;
	k->v.mv_size = 16;
	return &k->v;
}

MDB_val *key3(struct key *k, uint64_t a, uint64_t b, uint64_t c)
{
	key2(k, a, b);
	be64(k->b + 16, c);
	k->v.mv_size = 24;
	return &k->v;
}

MDB_val *keyname(struct key *k, uint64_t a, uint64_t b,
		 const char *name)
{
	size_t n = strlen(name);

	key2(k, a, b);
	memcpy(k->b + 16, name, n);
	k->v.mv_size = 16 + n;
	return &k->v;
}

/* ---- helpers ---- */

void now(int64_t *sec, uint32_t *nsec)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	*sec = ts.tv_sec;
	*nsec = ts.tv_nsec;
}

void touch_mc(struct inorec *r)
{
	now(&r->mtime_sec, &r->mtime_nsec);
	r->ctime_sec = r->mtime_sec;
	r->ctime_nsec = r->mtime_nsec;
}

void touch_c(struct inorec *r)
{
	now(&r->ctime_sec, &r->ctime_nsec);
}

void inorec_setattr(struct inorec *r, const struct modalfs_setattr *sa)
{
	if (sa->valid & MODALFS_SET_MODE)
		r->mode = (r->mode & S_IFMT) | (sa->mode & 07777);
	if (sa->valid & MODALFS_SET_UID)
		r->uid = sa->uid;
	if (sa->valid & MODALFS_SET_GID)
		r->gid = sa->gid;
	if (sa->valid & MODALFS_SET_ATIME) {
		r->atime_sec = sa->atime_sec;
		r->atime_nsec = sa->atime_nsec;
	}
	if (sa->valid & MODALFS_SET_MTIME) {
		r->mtime_sec = sa->mtime_sec;
		r->mtime_nsec = sa->mtime_nsec;
	}
	if (sa->valid & MODALFS_SET_CTIME) {
		r->ctime_sec = sa->ctime_sec;
		r->ctime_nsec = sa->ctime_nsec;
	} else if (sa->valid) {
		touch_c(r);
	}
}

uint64_t blocks512(size_t len)
{
	return (len + 511) / 512;
}

/* Exact-size record; ENOENT if missing, EIO if the size is wrong. */
int rec_get_raw(MDB_txn *t, MDB_dbi dbi, MDB_val *key, void *out,
		size_t size)
{
	MDB_val v;
	int rc = mdb_get(t, dbi, key, &v);

	if (rc)
		return store_errno(rc);
	if (v.mv_size != size)
		return EIO;
	memcpy(out, v.mv_data, size);
	return 0;
}

/*
 * The duplicate-request cache keeps the DRC_MAX entries recorded last and
 * prunes older ones in the recording op's txn, oldest first
 * by the order they were recorded in (drcseq), not by id: request ids are
 * (random epoch << 32 | counter) per module load, so a new load's ids may
 * well be lower than an old one's, and must neither be pruned first nor
 * collide with them (the fingerprint guards against the rare collision).
 */
static int drc_lookup(struct modalfs_store *st, MDB_txn *t,
		      struct modalfs_drc *d)
{
	struct key k;
	int err = rec_get_raw(t, st->db[DB_DRC], key1(&k, d->req_id), &d->rep,
			      sizeof(d->rep));

	/* A damaged record must not block the op: run it, overwrite it. */
	if (err)
		return err == ENOENT || err == EIO ? 0 : err;
	if (d->rep.version != DRC_VERSION || d->rep.fp != d->fp)
		return 0;	/* not this request: run it, overwrite it */
	d->hit = true;
	return MODALFS_DRC_HIT;
}

/* The next insertion number: one past the last in drcseq. */
static int drc_next_seq(struct modalfs_store *st, MDB_txn *t, uint64_t *seq)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_cursor_open(t, st->db[DB_DRCSEQ], &c);

	if (rc)
		return store_errno(rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND) {
		*seq = 1;
		return 0;
	}
	if (rc)
		return store_errno(rc);
	*seq = kget(&k, 0) + 1;
	return 0;
}

/* Removes the entry recorded first (its drcseq and its drc record). */
static int drc_prune_oldest(struct modalfs_store *st, MDB_txn *t)
{
	MDB_cursor *c;
	MDB_val k, v;
	struct key id;
	uint64_t req_id;
	int err = store_errno(mdb_cursor_open(t, st->db[DB_DRCSEQ], &c));

	if (err)
		return err;
	err = store_errno(mdb_cursor_get(c, &k, &v, MDB_FIRST));
	if (!err) {
		req_id = v.mv_size == 8 ? get_be64(v.mv_data) : 0;
		err = store_errno(mdb_cursor_del(c, 0));
	}
	mdb_cursor_close(c);
	if (!err && req_id)
		err = del_ignore_missing(t, st->db[DB_DRC], key1(&id, req_id));
	return err;
}

/*
 * A WRITE logged in the intent log (store_ilog.c) has its cache entry
 * there until the next fold, so both are looked in.
 */
int drc_check(struct modalfs_store *st, MDB_txn *t, struct modalfs_txc *tx)
{
	int err;

	if (!tx || !tx->drc || tx->drc_done)
		return 0;
	err = drc_lookup(st, t, tx->drc);
	if (!err && ilog_drc_find(st, tx->drc)) {
		tx->drc->hit = true;
		err = MODALFS_DRC_HIT;
	}
	if (err)
		tx->drc_done = true;
	return err;
}

int drc_record(struct modalfs_store *st, MDB_txn *t, struct modalfs_drc *d)
{
	struct modalfs_drc_reply rep, old;
	struct key k, sk;
	MDB_val v = { .mv_size = sizeof(rep), .mv_data = &rep };
	unsigned char idb[8];
	MDB_val iv = { .mv_size = 8, .mv_data = idb };
	MDB_stat ms;
	int err;

	memset(&rep, 0, sizeof(rep));
	rep.version = DRC_VERSION;
	rep.fp = d->fp;
	if (d->attr) {
		rep.flags |= MODALFS_DRC_ATTR;
		rep.attr = *d->attr;
	}
	if (d->size) {
		rep.flags |= MODALFS_DRC_SIZE;
		rep.size = *d->size;
	}
	/* An id recorded before (another request): its old place goes. */
	err = 0;
	if (!rec_get_raw(t, st->db[DB_DRC], key1(&k, d->req_id), &old,
			 sizeof(old)) && old.seq)
		err = del_ignore_missing(t, st->db[DB_DRCSEQ],
					 key1(&sk, old.seq));
	if (!err)
		err = drc_next_seq(st, t, &rep.seq);
	if (err)
		return err;
	be64(idb, d->req_id);
	err = store_errno(mdb_put(t, st->db[DB_DRCSEQ], key1(&sk, rep.seq),
				  &iv, 0));
	if (!err)
		err = store_errno(mdb_put(t, st->db[DB_DRC],
					  key1(&k, d->req_id), &v, 0));
	if (!err)
		err = store_errno(mdb_stat(t, st->db[DB_DRC], &ms));
	if (err)
		return err;
	/*
	 * Not one entry per op: a full cache would then rewrite the oldest
	 * leaves of both trees (and their branch pages) in every commit.
	 * It may grow DRC_SLACK past its bound and is then cut back to it
	 * in one go, those leaves rewritten once per DRC_SLACK ops; at most
	 * DRC_SLACK + 2 per op, so a lowered bound is reached in steps.
	 */
	if (ms.ms_entries > st->drc_max + DRC_SLACK(st->drc_max))
		for (size_t n = ms.ms_entries, cut = 0; !err &&
		     n > st->drc_max && cut < DRC_SLACK(st->drc_max) + 2;
		     n--, cut++)
			err = drc_prune_oldest(st, t);
	return err;
}

/*
 * Readers reuse reset read transactions (mdb_txn_renew): no reader slot
 * to find, no allocation per op. MDB_NOTLS lets one move between threads.
 */
static MDB_txn *txn_read_reuse(struct modalfs_store *st)
{
	MDB_txn *t = NULL;

	/* Counted in before the snapshot: see struct modalfs_store. */
	pthread_mutex_lock(&st->rlock);
	st->ractive++;
	if (st->rn && !st->rdonly)
		t = st->rpool[--st->rn];
	pthread_mutex_unlock(&st->rlock);
	if (t && mdb_txn_renew(t)) {
		mdb_txn_abort(t);
		t = NULL;
	}
	return t;
}

/* Under rlock: a reader leaves (struct modalfs_store's epoch). */
static void reader_out(struct modalfs_store *st)
{
	if (!--st->ractive)
		st->quiet = st->epoch;
}

void txn_read_end(struct modalfs_store *st, MDB_txn *t)
{
	mdb_txn_reset(t);
	pthread_mutex_lock(&st->rlock);
	reader_out(st);
	if (st->rn < RPOOL) {
		st->rpool[st->rn++] = t;
		t = NULL;
	}
	pthread_mutex_unlock(&st->rlock);
	if (t)
		mdb_txn_abort(t);
}

void txn_read_pool_free(struct modalfs_store *st)
{
	while (st->rn)
		mdb_txn_abort(st->rpool[--st->rn]);
}

int txn_begin(struct modalfs_store *st, struct modalfs_txc *tx, bool write,
	      MDB_txn **t)
{
	MDB_txn *parent = write && tx ? tx->batch : NULL;
	int err;

	if (!write && (*t = txn_read_reuse(st)))
		return 0;
	/*
	 * Every write transaction first folds what the intent log holds: a
	 * batch's into the batch (kept if this op fails), any other into
	 * itself, ended by txn_end.
	 */
	err = write && parent ? ilog_fold(st, parent) : 0;
	if (!err)
		err = store_errno(mdb_txn_begin(st->env, parent,
						write ? 0 : MDB_RDONLY, t));
	if (err) {
		if (!write) {
			pthread_mutex_lock(&st->rlock);
			reader_out(st);
			pthread_mutex_unlock(&st->rlock);
		}
		return err;
	}
	if (write && !parent) {
		ilog_begun(st);
		err = ilog_fold(st, *t);
	}
	if (!err && write)
		err = drc_check(st, *t, tx);
	if (err && write) {
		mdb_txn_abort(*t);
		if (!parent)
			ilog_fold_done(st, false);
	}
	return err;
}

/* Commits on success, aborts otherwise; returns the final errno. */
int txn_end(struct modalfs_store *st, struct modalfs_txc *tx, MDB_txn *t,
	    int err)
{
	if (!err && tx && tx->drc && !tx->drc_done) {
		tx->drc_done = true;
		err = drc_record(st, t, tx->drc);
	}
	if (tx && tx->batch) {
		/* A nested txn of a group-commit batch is counted with it. */
		if (err) {
			mdb_txn_abort(t);
			return err;
		}
		err = store_errno(mdb_txn_commit(t));
		if (!err)
			st->wchanged = true;
		return err;
	}
	if (err)
		mdb_txn_abort(t);
	else
		err = store_errno(commit_counted(st, t, 1, -1));
	ilog_fold_done(st, !err);
	return err;
}

void modalfs_store_drc_bound(struct modalfs_store *st, size_t max)
{
	st->drc_max = max ? max : DRC_MAX;
}

/*
 * A fixed-size record: missing is what a missing key means to the caller;
 * a record of the wrong size is corruption (EIO).
 */
int rec_get(MDB_txn *t, MDB_dbi dbi, MDB_val *key, void *out,
	    size_t size, int missing)
{
	MDB_val v;
	int rc = mdb_get(t, dbi, key, &v);

	if (rc == MDB_NOTFOUND)
		return missing;
	if (rc)
		return store_errno(rc);
	if (v.mv_size != size)
		return EIO;
	memcpy(out, v.mv_data, size);
	return 0;
}

bool has_prefix(const MDB_val *k, const void *prefix, size_t plen)
{
	return k->mv_size >= plen && !memcmp(k->mv_data, prefix, plen);
}

/*
 * Finds the first key >= start that shares start's first plen bytes.
 * Returns 0 (found), ENOENT (none) or an errno.
 */
int first_with_prefix(MDB_cursor *c, const MDB_val *start, size_t plen,
		      MDB_val *k, MDB_val *v)
{
	int rc;

	*k = *start;
	rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
	if (rc)
		return store_errno(rc);
	return has_prefix(k, start->mv_data, plen) ? 0 : ENOENT;
}

/* The entry after the cursor's, or ENOENT once keys leave the prefix. */
int next_with_prefix(MDB_cursor *c, const void *prefix, size_t plen,
		     MDB_val *k, MDB_val *v)
{
	int rc = mdb_cursor_get(c, k, v, MDB_NEXT);

	if (rc)
		return store_errno(rc);
	return has_prefix(k, prefix, plen) ? 0 : ENOENT;
}

/* Deletes every key in dbi from start on that shares start's prefix. */
int del_range(MDB_txn *t, MDB_dbi dbi, const MDB_val *start,
	      size_t plen, uint64_t *blocks)
{
	MDB_cursor *c;
	MDB_val k, v;
	int err = store_errno(mdb_cursor_open(t, dbi, &c));

	if (err)
		return err;
	/* Re-seek after each delete: simple and immune to cursor quirks. */
	while (!(err = first_with_prefix(c, start, plen, &k, &v))) {
		if (blocks)
			*blocks -= blocks512(v.mv_size);
		err = store_errno(mdb_cursor_del(c, 0));
		if (err)
			break;
	}
	mdb_cursor_close(c);
	return err == ENOENT ? 0 : err;
}

int del_ignore_missing(MDB_txn *t, MDB_dbi dbi, MDB_val *k)
{
	int rc = mdb_del(t, dbi, k, NULL);

	return rc == MDB_NOTFOUND ? 0 : store_errno(rc);
}

int modalfs_store_name_check(const char *name)
{
	size_t n = strnlen(name, MODALFS_NAME_MAX + 1);

	if (n > MODALFS_NAME_MAX)
		return ENAMETOOLONG;
	if (n == 0 || memchr(name, '/', n) || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return EINVAL;
	return 0;
}
