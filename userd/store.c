// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * modalfsd storage backend on LMDB. This is the only file that includes
 * lmdb.h; the rest of the daemon sees store.h.
 *
 * Schema (one LMDB environment in the state directory, named DBIs).
 * Keys are big-endian fixed-width integers so that LMDB's memcmp order is
 * numeric order and all records of one volume / inode / directory are
 * contiguous. Values are native-endian structs (host-local file; a version
 * field leaves room for migration).
 *
 *   meta      "next_vol_id"                 -> u64 (vol ids are never reused,
 *                                              so stale mounts get ESTALE)
 *   volumes   name                          -> struct volrec
 *   volids    be64 vol_id                   -> name
 *   inodes    be64 vol, be64 ino            -> struct inorec
 *   dirents   be64 vol, be64 dir, name      -> struct dentrec {cookie, ino, type}
 *   dcookies  be64 vol, be64 dir, be64 cookie -> name
 *             cookies start at MODALFS_DIR_COOKIE_FIRST and only grow per
 *             directory (inorec.next_cookie), so a READDIR position stays
 *             valid while other entries come and go; a rename that replaces
 *             an entry keeps the replaced entry's cookie.
 *   data      be64 vol, be64 ino, be64 block -> bytes (MODALFS_STORE_BLOCK
 *             per block; an absent block is a hole; a block may be short
 *             and reads as zeros past its end; no block holds bytes past
 *             the file size)
 *   symlinks  be64 vol, be64 ino            -> target (no NUL)
 *   orphans   be64 vol, be64 ino            -> empty; inodes with nlink 0
 *             that the kernel may still use; freed by EVICT or UMOUNT.
 *   xattrs    be64 vol, be64 ino, name      -> value (freed with the inode)
 *   drc       be64 req_id                   -> struct modalfs_drc_reply
 *             the duplicate-request cache, see modalfs_store_drc_set();
 *             bounded to the DRC_MAX highest (newest) ids.
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
 * committed before it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "fsutil.h"
#include "stats.h"

#define BS MODALFS_STORE_BLOCK
#define REC_VERSION 1
#define MAX_DEPTH 65536

struct modalfs_store {
	MDB_env *env;
	MDB_dbi meta, volumes, volids, inodes, dirents, dcookies, data,
		symlinks, orphans, xattrs, drc;
	uint64_t map_size;
	uint64_t reserve;	/* bytes only space-freeing ops may use */
	size_t drc_max;		/* DRC_MAX; smaller in tests */
	unsigned int psize;
	bool rdonly;		/* opened by modalfs_store_check */
	int lock_fd;

	/* Group commit (modalfs_store_group_commit), see modalfs_store_batch. */
	bool group;
	pthread_t writer;
	pthread_mutex_t wlock;
	pthread_cond_t wmore, wdone;
	struct batch_req *whead, *wtail;
	bool wstop;
	char *dir;
	struct modalfs_stats *stats;
};

struct volrec {
	uint32_t version;
	uint32_t kind;
	uint64_t vol_id;
	int64_t created;
	uint64_t next_ino;
	char app_id[MODALFS_APP_ID_MAX + 1];
	char pad[7];
};

struct inorec {
	uint32_t version;
	uint32_t mode, uid, gid, nlink, rdev;
	uint64_t size, blocks;
	int64_t atime_sec, mtime_sec, ctime_sec;
	uint32_t atime_nsec, mtime_nsec, ctime_nsec, pad;
	uint64_t next_cookie;	/* directories */
	uint64_t parent;	/* directories */
};

struct dentrec {
	uint64_t cookie;
	uint64_t ino;
	uint32_t type;
	uint32_t pad;
};

/* Map an LMDB or system error to the errno reported to the kernel. */
static int store_errno(int rc)
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
 * them itself). 0 when /proc is not there.
 */
static uint64_t thread_wchar(void)
{
	char buf[512], *p;
	int fd = open("/proc/thread-self/io", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, "wchar:");
	return p ? strtoull(p + 6, NULL, 10) : 0;
}

/* Commits t and counts it (ops: how many ops it holds, 0 for none). */
static int commit_counted(struct modalfs_store *st, MDB_txn *t, uint32_t ops)
{
	uint64_t w0 = thread_wchar();
	int rc = mdb_txn_commit(t);

	if (!rc) {
		modalfs_stats_commit(st->stats, ops);
		modalfs_stats_meta_bytes(st->stats, thread_wchar() - w0);
	}
	return rc;
}

/* ---- keys ---- */

struct key {
	unsigned char b[24 + MODALFS_NAME_MAX + 1];
	MDB_val v;
};

static void be64(unsigned char *p, uint64_t x)
{
	for (int i = 7; i >= 0; i--, x >>= 8)
		p[i] = x & 0xff;
}

static uint64_t get_be64(const unsigned char *p)
{
	uint64_t x = 0;

	for (int i = 0; i < 8; i++)
		x = x << 8 | p[i];
	return x;
}

static MDB_val *key1(struct key *k, uint64_t a)
{
	be64(k->b, a);
	k->v.mv_data = k->b;
	k->v.mv_size = 8;
	return &k->v;
}

static MDB_val *key2(struct key *k, uint64_t a, uint64_t b)
{
	be64(k->b, a);
	be64(k->b + 8, b);
	k->v.mv_data = k->b;
	k->v.mv_size = 16;
	return &k->v;
}

static MDB_val *key3(struct key *k, uint64_t a, uint64_t b, uint64_t c)
{
	key2(k, a, b);
	be64(k->b + 16, c);
	k->v.mv_size = 24;
	return &k->v;
}

static MDB_val *keyname(struct key *k, uint64_t a, uint64_t b,
			const char *name)
{
	size_t n = strlen(name);

	key2(k, a, b);
	memcpy(k->b + 16, name, n);
	k->v.mv_size = 16 + n;
	return &k->v;
}

/* ---- helpers ---- */

static void now(int64_t *sec, uint32_t *nsec)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	*sec = ts.tv_sec;
	*nsec = ts.tv_nsec;
}

static void touch_mc(struct inorec *r)
{
	now(&r->mtime_sec, &r->mtime_nsec);
	r->ctime_sec = r->mtime_sec;
	r->ctime_nsec = r->mtime_nsec;
}

static void touch_c(struct inorec *r)
{
	now(&r->ctime_sec, &r->ctime_nsec);
}

static uint64_t blocks512(size_t len)
{
	return (len + 511) / 512;
}

/* Exact-size record; ENOENT if missing, EIO if the size is wrong. */
static int rec_get_raw(MDB_txn *t, MDB_dbi dbi, MDB_val *key, void *out,
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

/* Set on the writer thread while it runs a batch; see group commit. */
static __thread MDB_txn *batch_parent;
/* Ops of the current batch before this one: their pages are uncommitted. */
static __thread unsigned int batch_index;

/*
 * The duplicate-request cache entry of the op this thread is running
 * (modalfs_store_drc_set); it applies to the op's one write transaction.
 */
static __thread struct modalfs_drc *cur_drc;
static __thread struct modalfs_store *cur_drc_st;
static __thread bool cur_drc_used;

/*
 * Bound of the duplicate-request cache: the DRC_MAX highest request ids
 * are kept, older ones are pruned (two per recorded op, in the same txn).
 * The kernel resends only requests that were pending when a daemon died,
 * at most a few thousand, and ids grow monotonically (also across module
 * loads), so the lowest ids are always the oldest.
 */
#define DRC_MAX 65536
#define DRC_VERSION 2

static int drc_lookup(struct modalfs_store *st, MDB_txn *t,
		      struct modalfs_drc *d)
{
	struct key k;
	int err = rec_get_raw(t, st->drc, key1(&k, d->req_id), &d->rep,
			      sizeof(d->rep));

	/* A damaged record must not block the op: run it, overwrite it. */
	if (err)
		return err == ENOENT || err == EIO ? 0 : err;
	if (d->rep.version != DRC_VERSION || d->rep.fp != d->fp)
		return 0;	/* not this request: run it, overwrite it */
	d->hit = true;
	return MODALFS_DRC_HIT;
}

static int drc_record(struct modalfs_store *st, MDB_txn *t,
		      struct modalfs_drc *d)
{
	struct modalfs_drc_reply rep;
	struct key k;
	MDB_val v = { .mv_size = sizeof(rep), .mv_data = &rep };
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
	err = store_errno(mdb_put(t, st->drc, key1(&k, d->req_id), &v, 0));
	if (err)
		return err;
	err = store_errno(mdb_stat(t, st->drc, &ms));
	if (!err && ms.ms_entries > st->drc_max) {
		MDB_cursor *c;
		MDB_val kk, vv;

		err = store_errno(mdb_cursor_open(t, st->drc, &c));
		if (err)
			return err;
		for (size_t n = ms.ms_entries; !err && n > st->drc_max &&
		     n + 2 > ms.ms_entries; n--) {
			err = store_errno(mdb_cursor_get(c, &kk, &vv,
							 MDB_FIRST));
			if (!err)
				err = store_errno(mdb_cursor_del(c, 0));
		}
		mdb_cursor_close(c);
	}
	return err;
}

static int txn_begin(struct modalfs_store *st, bool write, MDB_txn **t)
{
	/* Inside a batch a write op is a nested txn of the batch's txn. */
	int err = store_errno(mdb_txn_begin(st->env,
					    write ? batch_parent : NULL,
					    write ? 0 : MDB_RDONLY, t));

	if (!err && write && cur_drc && cur_drc_st == st && !cur_drc_used) {
		err = drc_lookup(st, *t, cur_drc);
		if (err) {
			mdb_txn_abort(*t);
			cur_drc_used = true;
		}
	}
	return err;
}

/* Commits on success, aborts otherwise; returns the final errno. */
static int txn_end(struct modalfs_store *st, MDB_txn *t, int err)
{
	if (!err && cur_drc && cur_drc_st == st && !cur_drc_used) {
		cur_drc_used = true;
		err = drc_record(st, t, cur_drc);
	}
	if (err) {
		mdb_txn_abort(t);
		return err;
	}
	/* A nested txn of a group-commit batch is counted with the batch. */
	if (batch_parent)
		return store_errno(mdb_txn_commit(t));
	return store_errno(commit_counted(st, t, 1));
}

void modalfs_store_drc_bound(struct modalfs_store *st, size_t max)
{
	st->drc_max = max ? max : DRC_MAX;
}

void modalfs_store_drc_set(struct modalfs_store *st, struct modalfs_drc *d)
{
	cur_drc = d;
	cur_drc_st = st;
	cur_drc_used = false;
	if (d)
		d->hit = false;
}

/*
 * A fixed-size record: missing is what a missing key means to the caller;
 * a record of the wrong size is corruption (EIO).
 */
static int rec_get(MDB_txn *t, MDB_dbi dbi, MDB_val *key, void *out,
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

static int ino_get(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		   uint64_t ino, struct inorec *r)
{
	struct key k;

	return rec_get(t, st->inodes, key2(&k, vol, ino), r, sizeof(*r),
		       ESTALE);
}

static int ino_put(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		   uint64_t ino, const struct inorec *r)
{
	struct key k;
	MDB_val v = { .mv_size = sizeof(*r), .mv_data = (void *)r };

	return store_errno(mdb_put(t, st->inodes, key2(&k, vol, ino), &v, 0));
}

static int dir_get(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		   uint64_t ino, struct inorec *r)
{
	int err = ino_get(st, t, vol, ino, r);

	if (err)
		return err;
	return S_ISDIR(r->mode) ? 0 : ENOTDIR;
}

/* ino, which READ and WRITE need to be a regular file. */
static int reg_get(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		   uint64_t ino, struct inorec *r)
{
	int err = ino_get(st, t, vol, ino, r);

	if (err)
		return err;
	if (S_ISDIR(r->mode))
		return EISDIR;
	return S_ISREG(r->mode) ? 0 : EINVAL;
}

static void to_attr(uint64_t ino, const struct inorec *r,
		    struct modalfs_iattr *a)
{
	if (!a)
		return;
	a->ino = ino;
	a->mode = r->mode;
	a->nlink = r->nlink;
	a->uid = r->uid;
	a->gid = r->gid;
	a->rdev = r->rdev;
	a->size = r->size;
	a->blocks = r->blocks;
	a->atime_sec = r->atime_sec;
	a->atime_nsec = r->atime_nsec;
	a->mtime_sec = r->mtime_sec;
	a->mtime_nsec = r->mtime_nsec;
	a->ctime_sec = r->ctime_sec;
	a->ctime_nsec = r->ctime_nsec;
}

static int dent_get(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		    uint64_t dir, const char *name, struct dentrec *d)
{
	struct key k;

	return rec_get(t, st->dirents, keyname(&k, vol, dir, name), d,
		       sizeof(*d), ENOENT);
}

/*
 * The entry name in directory dir and the inode it names. An entry whose
 * inode is missing is store corruption, not a stale handle: EIO.
 */
static int entry_get(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		     uint64_t dir, const char *name, struct inorec *dr,
		     struct dentrec *d, struct inorec *r)
{
	int err = dir_get(st, t, vol, dir, dr);

	if (!err)
		err = dent_get(st, t, vol, dir, name, d);
	if (!err) {
		err = ino_get(st, t, vol, d->ino, r);
		if (err == ESTALE)
			err = EIO;
	}
	return err;
}

static int dent_put(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		    uint64_t dir, const char *name, const struct dentrec *d)
{
	struct key k;
	MDB_val v = { .mv_size = sizeof(*d), .mv_data = (void *)d };

	return store_errno(mdb_put(t, st->dirents,
				   keyname(&k, vol, dir, name), &v, 0));
}

/* Adds a new entry with the directory's next cookie; caller stores dr. */
static int dent_add(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		    uint64_t dir, struct inorec *dr, const char *name,
		    uint64_t ino, uint32_t mode)
{
	struct dentrec d = {
		.cookie = dr->next_cookie++,
		.ino = ino,
		.type = (mode & S_IFMT) >> 12,
	};
	struct key k;
	MDB_val v = { .mv_size = strlen(name), .mv_data = (void *)name };
	int err = dent_put(st, t, vol, dir, name, &d);

	if (err)
		return err;
	return store_errno(mdb_put(t, st->dcookies,
				   key3(&k, vol, dir, d.cookie), &v, 0));
}

static int dent_del(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		    uint64_t dir, const char *name, uint64_t cookie)
{
	struct key k;
	int rc = mdb_del(t, st->dirents, keyname(&k, vol, dir, name), NULL);

	if (!rc)
		rc = mdb_del(t, st->dcookies, key3(&k, vol, dir, cookie),
			     NULL);
	return store_errno(rc);
}

static bool has_prefix(const MDB_val *k, const void *prefix, size_t plen)
{
	return k->mv_size >= plen && !memcmp(k->mv_data, prefix, plen);
}

/*
 * Finds the first key >= start that shares start's first plen bytes.
 * Returns 0 (found), ENOENT (none) or an errno.
 */
static int first_with_prefix(MDB_cursor *c, const MDB_val *start, size_t plen,
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
static int next_with_prefix(MDB_cursor *c, const void *prefix, size_t plen,
			    MDB_val *k, MDB_val *v)
{
	int rc = mdb_cursor_get(c, k, v, MDB_NEXT);

	if (rc)
		return store_errno(rc);
	return has_prefix(k, prefix, plen) ? 0 : ENOENT;
}

static int dir_empty(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		     uint64_t dir, bool *empty)
{
	MDB_cursor *c;
	struct key k;
	MDB_val kk, vv;
	int err = store_errno(mdb_cursor_open(t, st->dcookies, &c));

	if (err)
		return err;
	err = first_with_prefix(c, key3(&k, vol, dir, 0), 16, &kk, &vv);
	mdb_cursor_close(c);
	if (err == ENOENT) {
		*empty = true;
		return 0;
	}
	*empty = false;
	return err;
}

/* Deletes every key in dbi from start on that shares start's prefix. */
static int del_range(MDB_txn *t, MDB_dbi dbi, const MDB_val *start,
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

static int del_ignore_missing(MDB_txn *t, MDB_dbi dbi, MDB_val *k)
{
	int rc = mdb_del(t, dbi, k, NULL);

	return rc == MDB_NOTFOUND ? 0 : store_errno(rc);
}

static int free_inode(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		      uint64_t ino)
{
	struct key k;
	int err;

	err = del_ignore_missing(t, st->inodes, key2(&k, vol, ino));
	if (!err)
		err = del_ignore_missing(t, st->symlinks, key2(&k, vol, ino));
	if (!err)
		err = del_ignore_missing(t, st->orphans, key2(&k, vol, ino));
	if (!err)
		err = del_range(t, st->data, key3(&k, vol, ino, 0), 16, NULL);
	if (!err)
		err = del_range(t, st->xattrs, key2(&k, vol, ino), 16, NULL);
	return err;
}

/* Drops one link of ino (whose record is r); orphans it at nlink 0. */
static int drop_link(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		     uint64_t ino, struct inorec *r)
{
	struct key k;
	MDB_val empty = { 0, NULL };

	if (S_ISDIR(r->mode) || r->nlink <= 1)
		r->nlink = 0;
	else
		r->nlink--;
	touch_c(r);
	if (r->nlink == 0) {
		int err = store_errno(mdb_put(t, st->orphans,
					      key2(&k, vol, ino), &empty, 0));
		if (err)
			return err;
	}
	return ino_put(st, t, vol, ino, r);
}

static int volrec_by_id(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
			char *name, struct volrec *vr)
{
	struct key k;
	MDB_val kv;
	int rc = mdb_get(t, st->volids, key1(&k, vol), &kv);

	if (rc == MDB_NOTFOUND)
		return ESTALE;
	if (rc)
		return store_errno(rc);
	if (kv.mv_size == 0 || kv.mv_size > MODALFS_VOL_NAME_MAX)
		return EIO;
	memcpy(name, kv.mv_data, kv.mv_size);
	name[kv.mv_size] = '\0';
	return rec_get(t, st->volumes, &kv, vr, sizeof(*vr), ESTALE);
}

static int volrec_put(struct modalfs_store *st, MDB_txn *t, const char *name,
		      const struct volrec *vr)
{
	MDB_val k = { .mv_size = strlen(name), .mv_data = (void *)name };
	MDB_val v = { .mv_size = sizeof(*vr), .mv_data = (void *)vr };

	return store_errno(mdb_put(t, st->volumes, &k, &v, 0));
}

static int alloc_ino(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		     uint64_t *ino)
{
	char name[MODALFS_VOL_NAME_MAX + 1];
	struct volrec vr;
	int err = volrec_by_id(st, t, vol, name, &vr);

	if (err)
		return err;
	*ino = vr.next_ino++;
	return volrec_put(st, t, name, &vr);
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

/*
 * Pages on LMDB's free list (records of dbi 0: counted page lists). LMDB
 * allows this cursor only in read-only transactions.
 */
static int free_pages(MDB_txn *t, uint64_t *pages)
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
 * Pages one op may add beyond what it frees: a full MODALFS_IO_MAX write
 * or xattr (overflow pages) plus the copied tree paths of a few DBIs.
 */
#define OP_SLACK_BYTES (2 * MODALFS_IO_MAX + 64 * 4096)

/*
 * ENOSPC when an op that adds data could eat into the reserve that ops
 * freeing space need (see the schema comment). Cheap while the map's
 * high-water mark is far from the limit; near it, the free list is
 * counted, since LMDB reuses freed pages before growing the file.
 */
static int space_check(struct modalfs_store *st, MDB_txn *t)
{
	MDB_envinfo info;
	MDB_txn *rt;
	uint64_t limit, hw, slack, nfree;
	int err;

	(void)t;
	mdb_env_info(st->env, &info);
	limit = (st->map_size - st->reserve) / st->psize;
	hw = info.me_last_pgno + 1;
	/* Earlier ops of a group-commit batch are not in the meta page yet. */
	slack = (uint64_t)(1 + batch_index) * (OP_SLACK_BYTES / st->psize);
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

#define NDBIS 11

static int store_open(struct modalfs_store **out, const char *dir,
		      uint64_t map_size, bool rdonly, unsigned int *missing)
{
	struct modalfs_store *st;
	char lockpath[PATH_MAX];
	MDB_txn *t;
	MDB_stat ms;
	int err, dead;
	struct {
		const char *name;
		MDB_dbi *dbi;
	} dbis[NDBIS];

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

	dbis[0].name = "meta";     dbis[0].dbi = &st->meta;
	dbis[1].name = "volumes";  dbis[1].dbi = &st->volumes;
	dbis[2].name = "volids";   dbis[2].dbi = &st->volids;
	dbis[3].name = "inodes";   dbis[3].dbi = &st->inodes;
	dbis[4].name = "dirents";  dbis[4].dbi = &st->dirents;
	dbis[5].name = "dcookies"; dbis[5].dbi = &st->dcookies;
	dbis[6].name = "data";     dbis[6].dbi = &st->data;
	dbis[7].name = "symlinks"; dbis[7].dbi = &st->symlinks;
	dbis[8].name = "orphans";  dbis[8].dbi = &st->orphans;
	dbis[9].name = "xattrs";   dbis[9].dbi = &st->xattrs;
	dbis[10].name = "drc";     dbis[10].dbi = &st->drc;
	if (missing)
		*missing = 0;
	err = txn_begin(st, !rdonly, &t);
	if (err)
		goto fail;
	for (int i = 0; i < NDBIS && !err; i++) {
		err = store_errno(mdb_dbi_open(t, dbis[i].name,
					       rdonly ? 0 : MDB_CREATE,
					       dbis[i].dbi));
		if (rdonly && err == ENOENT && missing) {
			*missing |= 1u << i;
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
		err = txn_end(st, t, err);
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

/* ---- volumes ---- */

static void make_app_id(char *out)
{
	static const char al[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[22];
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		srandom(ts.tv_nsec ^ getpid());
		for (i = 0; i < sizeof(rnd); i++)
			rnd[i] = random();
	}
	memcpy(out, "ap-", 3);
	for (i = 0; i < sizeof(rnd); i++)
		out[3 + i] = al[rnd[i] % (sizeof(al) - 1)];
	out[3 + i] = '\0';
}

/* Sums regular-file bytes and counts inodes of one volume. */
static int vol_usage(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		     uint64_t *bytes, uint64_t *files)
{
	MDB_cursor *c;
	struct key k;
	MDB_val kk, vv;
	int err = store_errno(mdb_cursor_open(t, st->inodes, &c));

	*bytes = *files = 0;
	if (err)
		return err;
	err = first_with_prefix(c, key2(&k, vol, 0), 8, &kk, &vv);
	while (!err) {
		struct inorec r;

		if (vv.mv_size == sizeof(r)) {
			memcpy(&r, vv.mv_data, sizeof(r));
			if (S_ISREG(r.mode))
				*bytes += r.size;
		}
		(*files)++;
		err = next_with_prefix(c, k.b, 8, &kk, &vv);
	}
	mdb_cursor_close(c);
	return err == ENOENT ? 0 : err;
}

static int fill_volinfo(struct modalfs_store *st, MDB_txn *t,
			const char *name, size_t nlen, const struct volrec *vr,
			struct modalfs_volinfo *vi)
{
	memset(vi, 0, sizeof(*vi));
	memcpy(vi->name, name, nlen);
	vi->name[nlen] = '\0';
	memcpy(vi->app_id, vr->app_id, sizeof(vi->app_id));
	vi->app_id[MODALFS_APP_ID_MAX] = '\0';
	vi->vol_id = vr->vol_id;
	vi->kind = vr->kind;
	vi->created = vr->created;
	return vol_usage(st, t, vr->vol_id, &vi->bytes, &vi->files);
}

static int vol_make(struct modalfs_store *st, const char *name, uint32_t kind,
		    bool excl, struct modalfs_volinfo *out)
{
	static const char nvk[] = "next_vol_id";
	size_t nlen = strlen(name);
	MDB_val k = { .mv_size = nlen, .mv_data = (void *)name };
	MDB_val mk = { .mv_size = sizeof(nvk) - 1, .mv_data = (void *)nvk };
	MDB_val v, nv;
	struct volrec vr;
	struct inorec root;
	struct key ik;
	uint64_t next = 1;
	uint32_t ns;
	MDB_txn *t;
	int err, rc;

	if (nlen == 0 || nlen > MODALFS_VOL_NAME_MAX)
		return EINVAL;
	err = txn_begin(st, true, &t);
	if (err)
		return err;
	rc = mdb_get(t, st->volumes, &k, &v);
	if (rc == MDB_NOTFOUND) {
		err = space_check(st, t);
		if (err)
			goto out;
	}
	if (rc == 0) {
		if (excl || v.mv_size != sizeof(vr)) {
			err = excl ? EEXIST : EIO;
			goto out;
		}
		memcpy(&vr, v.mv_data, sizeof(vr));
		err = fill_volinfo(st, t, name, nlen, &vr, out);
		goto out;
	}
	if (rc != MDB_NOTFOUND) {
		err = store_errno(rc);
		goto out;
	}
	rc = mdb_get(t, st->meta, &mk, &v);
	if (rc == 0 && v.mv_size == sizeof(next))
		memcpy(&next, v.mv_data, sizeof(next));
	else if (rc != MDB_NOTFOUND) {
		err = rc ? store_errno(rc) : EIO;
		goto out;
	}
	memset(&vr, 0, sizeof(vr));
	vr.version = REC_VERSION;
	vr.kind = kind;
	vr.vol_id = next++;
	now(&vr.created, &ns);
	vr.next_ino = MODALFS_ROOT_INO + 1;
	make_app_id(vr.app_id);
	nv.mv_size = sizeof(next);
	nv.mv_data = &next;
	err = store_errno(mdb_put(t, st->meta, &mk, &nv, 0));
	if (!err)
		err = volrec_put(st, t, name, &vr);
	if (!err)
		err = store_errno(mdb_put(t, st->volids, key1(&ik, vr.vol_id),
					  &k, 0));
	if (err)
		goto out;
	memset(&root, 0, sizeof(root));
	root.version = REC_VERSION;
	root.mode = S_IFDIR | 0755;
	root.nlink = 2;
	root.next_cookie = MODALFS_DIR_COOKIE_FIRST;
	root.parent = MODALFS_ROOT_INO;
	touch_mc(&root);
	root.atime_sec = root.mtime_sec;
	root.atime_nsec = root.mtime_nsec;
	err = ino_put(st, t, vr.vol_id, MODALFS_ROOT_INO, &root);
	if (!err)
		err = fill_volinfo(st, t, name, nlen, &vr, out);
out:
	return txn_end(st, t, err);
}

int modalfs_store_vol_persisted(struct modalfs_store *st, const char *name,
				struct modalfs_volinfo *out)
{
	return vol_make(st, name, MODALFS_KIND_PERSISTED, false, out);
}

int modalfs_store_vol_create(struct modalfs_store *st, const char *name,
			     uint32_t kind, struct modalfs_volinfo *out)
{
	if (kind != MODALFS_KIND_PERSISTED && kind != MODALFS_KIND_EPHEMERAL)
		return EINVAL;
	return vol_make(st, name, kind, true, out);
}

int modalfs_store_vol_list(struct modalfs_store *st, modalfs_vol_cb cb,
			   void *arg)
{
	struct modalfs_volinfo vi;
	MDB_cursor *c;
	MDB_val k, v;
	MDB_txn *t;
	int err, rc;

	err = txn_begin(st, false, &t);
	if (err)
		return err;
	err = store_errno(mdb_cursor_open(t, st->volumes, &c));
	if (err)
		goto out;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); !rc;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct volrec vr;

		if (v.mv_size != sizeof(vr) || k.mv_size == 0 ||
		    k.mv_size > MODALFS_VOL_NAME_MAX)
			continue;
		memcpy(&vr, v.mv_data, sizeof(vr));
		err = fill_volinfo(st, t, k.mv_data, k.mv_size, &vr, &vi);
		if (!err)
			err = cb(&vi, arg);
		if (err)
			break;
	}
	if (!err && rc != MDB_NOTFOUND)
		err = store_errno(rc);
	mdb_cursor_close(c);
out:
	mdb_txn_abort(t);
	return err;
}

/* ---- file system operations ---- */

int modalfs_store_mount(struct modalfs_store *st, const char *name,
			const char *path, uint64_t *vol_id,
			struct modalfs_iattr *attr)
{
	MDB_val k = { .mv_size = strlen(name), .mv_data = (void *)name };
	char comp[MODALFS_NAME_MAX + 1];
	struct inorec r;
	struct volrec vr;
	uint64_t ino = MODALFS_ROOT_INO;
	MDB_val v;
	MDB_txn *t;
	const char *p = path ? path : "/";
	int err;

	err = txn_begin(st, false, &t);
	if (err)
		return err;
	err = store_errno(mdb_get(t, st->volumes, &k, &v));
	if (err)
		goto out;
	if (v.mv_size != sizeof(vr)) {
		err = EIO;
		goto out;
	}
	memcpy(&vr, v.mv_data, sizeof(vr));
	err = ino_get(st, t, vr.vol_id, ino, &r);
	while (!err && *p) {
		size_t n = strcspn(p, "/");
		struct dentrec d;

		if (n == 0 || (n == 1 && p[0] == '.')) {
			p += n + (p[n] == '/');
			continue;
		}
		if (!S_ISDIR(r.mode)) {
			err = ENOTDIR;
			break;
		}
		if (n > MODALFS_NAME_MAX) {
			err = ENAMETOOLONG;
			break;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			ino = r.parent;
		} else {
			memcpy(comp, p, n);
			comp[n] = '\0';
			err = dent_get(st, t, vr.vol_id, ino, comp, &d);
			if (err)
				break;
			ino = d.ino;
		}
		err = ino_get(st, t, vr.vol_id, ino, &r);
		if (err == ESTALE)
			err = EIO;	/* dangling entry */
		p += n + (p[n] == '/');
	}
	if (!err && !S_ISDIR(r.mode))
		err = ENOTDIR;
	if (!err) {
		*vol_id = vr.vol_id;
		to_attr(ino, &r, attr);
	}
out:
	mdb_txn_abort(t);
	return err;
}

int modalfs_store_umount(struct modalfs_store *st, uint64_t vol)
{
	MDB_cursor *c;
	struct key k;
	MDB_val kk, vv;
	MDB_txn *t;
	int err;

	err = txn_begin(st, true, &t);
	if (err)
		return err;
	err = store_errno(mdb_cursor_open(t, st->orphans, &c));
	if (err)
		return txn_end(st, t, err);
	while (!(err = first_with_prefix(c, key2(&k, vol, 0), 8, &kk, &vv))) {
		uint64_t ino;

		if (kk.mv_size != 16) {
			err = EIO;
			break;
		}
		ino = get_be64((unsigned char *)kk.mv_data + 8);
		err = free_inode(st, t, vol, ino);
		if (err)
			break;
	}
	mdb_cursor_close(c);
	return txn_end(st, t, err == ENOENT ? 0 : err);
}

/*
 * Store-wide numbers (all volumes share one map): blocks is what ops that
 * add data may fill (map size minus the reserve, see space_check), used is
 * pages in use (high-water mark minus LMDB's free list), and what the map
 * file still has to grow by is capped by the host file system's space.
 */
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

	err = txn_begin(st, false, &t);
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

int modalfs_store_lookup(struct modalfs_store *st, uint64_t vol, uint64_t dir,
			 const char *name, struct modalfs_iattr *attr)
{
	struct inorec r;
	struct dentrec d;
	MDB_txn *t;
	int err = modalfs_store_name_check(name);

	if (err)
		return err;
	err = txn_begin(st, false, &t);
	if (err)
		return err;
	err = entry_get(st, t, vol, dir, name, &r, &d, &r);
	if (!err)
		to_attr(d.ino, &r, attr);
	mdb_txn_abort(t);
	return err;
}

int modalfs_store_getattr(struct modalfs_store *st, uint64_t vol,
			  uint64_t ino, struct modalfs_iattr *attr)
{
	struct inorec r;
	MDB_txn *t;
	int err;

	err = txn_begin(st, false, &t);
	if (err)
		return err;
	err = ino_get(st, t, vol, ino, &r);
	if (!err)
		to_attr(ino, &r, attr);
	mdb_txn_abort(t);
	return err;
}

/* Cuts or extends ino's data to size; r->size and r->blocks follow. */
static int set_size(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		    uint64_t ino, struct inorec *r, uint64_t size)
{
	struct key k;
	int err;

	if (size < r->size) {
		uint64_t first = (size + BS - 1) / BS;
		uint32_t keep = size % BS;
		MDB_val v;

		err = del_range(t, st->data, key3(&k, vol, ino, first), 16,
				&r->blocks);
		if (err)
			return err;
		if (keep) {
			int rc = mdb_get(t, st->data,
					 key3(&k, vol, ino, size / BS), &v);

			if (rc && rc != MDB_NOTFOUND)
				return store_errno(rc);
			if (!rc && v.mv_size > keep) {
				void *copy = malloc(keep);
				MDB_val nv = { .mv_size = keep, .mv_data = copy };

				if (!copy)
					return ENOMEM;
				memcpy(copy, v.mv_data, keep);
				r->blocks -= blocks512(v.mv_size);
				rc = mdb_put(t, st->data, &k.v, &nv, 0);
				free(copy);
				if (rc)
					return store_errno(rc);
				r->blocks += blocks512(keep);
			}
		}
	}
	r->size = size;
	return 0;
}

int modalfs_store_setattr(struct modalfs_store *st, uint64_t vol,
			  uint64_t ino, const struct modalfs_setattr *sa,
			  struct modalfs_iattr *attr)
{
	struct inorec r;
	MDB_txn *t;
	int err;

	if ((sa->valid & MODALFS_SET_SIZE) && sa->size > (uint64_t)INT64_MAX)
		return EFBIG;
	if (((sa->valid & MODALFS_SET_ATIME) && sa->atime_nsec >= 1000000000) ||
	    ((sa->valid & MODALFS_SET_MTIME) && sa->mtime_nsec >= 1000000000) ||
	    ((sa->valid & MODALFS_SET_CTIME) && sa->ctime_nsec >= 1000000000))
		return EINVAL;
	err = txn_begin(st, true, &t);
	if (err)
		return err;
	err = ino_get(st, t, vol, ino, &r);
	if (err)
		goto out;
	if (sa->valid & MODALFS_SET_SIZE) {
		if (S_ISDIR(r.mode)) {
			err = EISDIR;
			goto out;
		}
		if (!S_ISREG(r.mode)) {
			err = EINVAL;
			goto out;
		}
		if (sa->size != r.size) {
			err = set_size(st, t, vol, ino, &r, sa->size);
			if (err)
				goto out;
			touch_mc(&r);
		}
	}
	if (sa->valid & MODALFS_SET_MODE)
		r.mode = (r.mode & S_IFMT) | (sa->mode & 07777);
	if (sa->valid & MODALFS_SET_UID)
		r.uid = sa->uid;
	if (sa->valid & MODALFS_SET_GID)
		r.gid = sa->gid;
	if (sa->valid & MODALFS_SET_ATIME) {
		r.atime_sec = sa->atime_sec;
		r.atime_nsec = sa->atime_nsec;
	}
	if (sa->valid & MODALFS_SET_MTIME) {
		r.mtime_sec = sa->mtime_sec;
		r.mtime_nsec = sa->mtime_nsec;
	}
	if (sa->valid & MODALFS_SET_CTIME) {
		r.ctime_sec = sa->ctime_sec;
		r.ctime_nsec = sa->ctime_nsec;
	} else if (sa->valid) {
		touch_c(&r);
	}
	err = ino_put(st, t, vol, ino, &r);
	if (!err)
		to_attr(ino, &r, attr);
out:
	return txn_end(st, t, err);
}

int modalfs_store_readdir(struct modalfs_store *st, uint64_t vol,
			  uint64_t dir, uint64_t offset, uint32_t max,
			  modalfs_dirent_cb cb, void *arg, bool *eof)
{
	struct modalfs_dirent de;
	struct inorec r;
	MDB_cursor *c = NULL;
	struct key k;
	MDB_val kk, vv;
	MDB_txn *t;
	uint32_t n = 0;
	uint64_t start;
	int err;

	*eof = false;
	start = offset < MODALFS_DIR_COOKIE_FIRST ? MODALFS_DIR_COOKIE_FIRST
						  : offset + 1;
	if (offset == UINT64_MAX) {
		*eof = true;
		return 0;
	}
	err = txn_begin(st, false, &t);
	if (err)
		return err;
	err = dir_get(st, t, vol, dir, &r);
	if (!err)
		err = store_errno(mdb_cursor_open(t, st->dcookies, &c));
	if (err)
		goto out;
	err = first_with_prefix(c, key3(&k, vol, dir, start), 16, &kk, &vv);
	while (!err) {
		struct dentrec d;

		if (n == max)
			break;
		if (kk.mv_size != 24 || vv.mv_size == 0 ||
		    vv.mv_size > MODALFS_NAME_MAX) {
			err = EIO;
			break;
		}
		memcpy(de.name, vv.mv_data, vv.mv_size);
		de.name[vv.mv_size] = '\0';
		de.cookie = get_be64((unsigned char *)kk.mv_data + 16);
		err = dent_get(st, t, vol, dir, de.name, &d);
		if (err) {
			err = EIO;
			break;
		}
		de.ino = d.ino;
		de.type = d.type;
		err = cb(&de, arg);
		if (err)
			break;
		n++;
		err = next_with_prefix(c, k.b, 16, &kk, &vv);
	}
	if (err == ENOENT) {
		*eof = true;
		err = 0;
	}
out:
	if (c)
		mdb_cursor_close(c);
	mdb_txn_abort(t);
	return err;
}

static int make_node(struct modalfs_store *st, uint64_t vol, uint64_t dir,
		     const char *name, uint32_t mode, uint32_t uid,
		     uint32_t gid, uint32_t rdev, const char *target,
		     struct modalfs_iattr *attr)
{
	struct inorec dr, r;
	struct dentrec d;
	struct key k;
	uint64_t ino;
	MDB_txn *t;
	int err = modalfs_store_name_check(name);

	if (err)
		return err;
	err = txn_begin(st, true, &t);
	if (err)
		return err;
	err = space_check(st, t);
	if (!err)
		err = dir_get(st, t, vol, dir, &dr);
	if (err)
		goto out;
	if (dr.nlink == 0) {
		err = ENOENT;	/* as Linux: creating in a removed directory */
		goto out;
	}
	err = dent_get(st, t, vol, dir, name, &d);
	if (!err)
		err = EEXIST;
	else if (err == ENOENT)
		err = 0;
	if (err)
		goto out;
	err = alloc_ino(st, t, vol, &ino);
	if (err)
		goto out;
	memset(&r, 0, sizeof(r));
	r.version = REC_VERSION;
	r.mode = mode;
	r.uid = uid;
	r.gid = gid;
	r.rdev = rdev;
	r.nlink = S_ISDIR(mode) ? 2 : 1;
	r.next_cookie = MODALFS_DIR_COOKIE_FIRST;
	r.parent = dir;
	touch_mc(&r);
	r.atime_sec = r.mtime_sec;
	r.atime_nsec = r.mtime_nsec;
	if (target) {
		MDB_val v = { .mv_size = strlen(target),
			      .mv_data = (void *)target };

		r.size = v.mv_size;
		err = store_errno(mdb_put(t, st->symlinks, key2(&k, vol, ino),
					  &v, 0));
		if (err)
			goto out;
	}
	err = ino_put(st, t, vol, ino, &r);
	if (!err)
		err = dent_add(st, t, vol, dir, &dr, name, ino, mode);
	if (err)
		goto out;
	if (S_ISDIR(mode))
		dr.nlink++;
	touch_mc(&dr);
	err = ino_put(st, t, vol, dir, &dr);
	if (!err)
		to_attr(ino, &r, attr);
out:
	return txn_end(st, t, err);
}

int modalfs_store_create(struct modalfs_store *st, uint64_t vol, uint64_t dir,
			 const char *name, uint32_t mode, uint32_t uid,
			 uint32_t gid, uint32_t rdev, struct modalfs_iattr *attr)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFCHR:
	case S_IFBLK:
		break;
	default:
		return EINVAL;
	}
	if (!S_ISCHR(mode) && !S_ISBLK(mode))
		rdev = 0;
	return make_node(st, vol, dir, name, mode & (S_IFMT | 07777), uid,
			 gid, rdev, NULL, attr);
}

int modalfs_store_mkdir(struct modalfs_store *st, uint64_t vol, uint64_t dir,
			const char *name, uint32_t mode, uint32_t uid,
			uint32_t gid, struct modalfs_iattr *attr)
{
	return make_node(st, vol, dir, name, S_IFDIR | (mode & 07777), uid,
			 gid, 0, NULL, attr);
}

int modalfs_store_symlink(struct modalfs_store *st, uint64_t vol,
			  uint64_t dir, const char *name, const char *target,
			  uint32_t uid, uint32_t gid, struct modalfs_iattr *attr)
{
	size_t n = strlen(target);

	if (n == 0)
		return ENOENT;
	if (n > MODALFS_SYMLINK_MAX)
		return ENAMETOOLONG;
	return make_node(st, vol, dir, name, S_IFLNK | 0777, uid, gid, 0,
			 target, attr);
}

int modalfs_store_readlink(struct modalfs_store *st, uint64_t vol,
			   uint64_t ino, char *buf)
{
	struct inorec r;
	struct key k;
	MDB_val v;
	MDB_txn *t;
	int err;

	err = txn_begin(st, false, &t);
	if (err)
		return err;
	err = ino_get(st, t, vol, ino, &r);
	if (!err && !S_ISLNK(r.mode))
		err = EINVAL;
	if (!err)
		err = store_errno(mdb_get(t, st->symlinks, key2(&k, vol, ino),
					  &v));
	if (err == ENOENT || (!err && (v.mv_size == 0 ||
				       v.mv_size > MODALFS_SYMLINK_MAX)))
		err = EIO;
	if (!err) {
		memcpy(buf, v.mv_data, v.mv_size);
		buf[v.mv_size] = '\0';
	}
	mdb_txn_abort(t);
	return err;
}

int modalfs_store_link(struct modalfs_store *st, uint64_t vol, uint64_t ino,
		       uint64_t newdir, const char *newname,
		       struct modalfs_iattr *attr)
{
	struct inorec r, dr;
	struct dentrec d;
	MDB_txn *t;
	int err = modalfs_store_name_check(newname);

	if (err)
		return err;
	err = txn_begin(st, true, &t);
	if (err)
		return err;
	err = space_check(st, t);
	if (!err)
		err = ino_get(st, t, vol, ino, &r);
	if (err)
		goto out;
	if (S_ISDIR(r.mode)) {
		err = EPERM;
		goto out;
	}
	if (r.nlink == 0) {
		err = ENOENT;
		goto out;
	}
	if (r.nlink >= UINT32_MAX - 1) {
		err = EMLINK;
		goto out;
	}
	err = dir_get(st, t, vol, newdir, &dr);
	if (!err && dr.nlink == 0)
		err = ENOENT;
	if (err)
		goto out;
	err = dent_get(st, t, vol, newdir, newname, &d);
	if (!err)
		err = EEXIST;
	else if (err == ENOENT)
		err = 0;
	if (err)
		goto out;
	err = dent_add(st, t, vol, newdir, &dr, newname, ino, r.mode);
	if (err)
		goto out;
	touch_mc(&dr);
	r.nlink++;
	touch_c(&r);
	err = ino_put(st, t, vol, newdir, &dr);
	if (!err)
		err = ino_put(st, t, vol, ino, &r);
	if (!err)
		to_attr(ino, &r, attr);
out:
	return txn_end(st, t, err);
}

static int remove_entry(struct modalfs_store *st, uint64_t vol, uint64_t dir,
			const char *name, bool isdir)
{
	struct inorec dr, r;
	struct dentrec d;
	MDB_txn *t;
	int err = modalfs_store_name_check(name);

	if (err)
		return err;
	err = txn_begin(st, true, &t);
	if (err)
		return err;
	err = entry_get(st, t, vol, dir, name, &dr, &d, &r);
	if (err)
		goto out;
	if (isdir) {
		bool empty;

		if (!S_ISDIR(r.mode)) {
			err = ENOTDIR;
			goto out;
		}
		err = dir_empty(st, t, vol, d.ino, &empty);
		if (!err && !empty)
			err = ENOTEMPTY;
		if (err)
			goto out;
		dr.nlink--;
	} else if (S_ISDIR(r.mode)) {
		err = EISDIR;
		goto out;
	}
	err = dent_del(st, t, vol, dir, name, d.cookie);
	if (!err)
		err = drop_link(st, t, vol, d.ino, &r);
	if (err)
		goto out;
	touch_mc(&dr);
	err = ino_put(st, t, vol, dir, &dr);
out:
	return txn_end(st, t, err);
}

int modalfs_store_unlink(struct modalfs_store *st, uint64_t vol, uint64_t dir,
			 const char *name)
{
	return remove_entry(st, vol, dir, name, false);
}

int modalfs_store_rmdir(struct modalfs_store *st, uint64_t vol, uint64_t dir,
			const char *name)
{
	return remove_entry(st, vol, dir, name, true);
}

/* EINVAL if dir is ino or lies below it (ino is a directory). */
static int check_not_below(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
			   uint64_t ino, uint64_t dir)
{
	for (int depth = 0; depth < MAX_DEPTH; depth++) {
		struct inorec r;
		int err;

		if (dir == ino)
			return EINVAL;
		if (dir == MODALFS_ROOT_INO)
			return 0;
		err = ino_get(st, t, vol, dir, &r);
		if (err)
			return err == ESTALE ? EIO : err;
		if (r.parent == dir)
			return 0;
		dir = r.parent;
	}
	return EIO;	/* a cycle: the store is inconsistent */
}

static int do_rename(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		     uint64_t sdir, const char *sname, uint64_t ddir,
		     const char *dname, uint32_t flags)
{
	struct inorec sdr, ddr_own, *ddr, sr, dr;
	struct dentrec sd, dd;
	bool have_dst, sisdir, disdir = false;
	int err;

	ddr = sdir == ddir ? &sdr : &ddr_own;
	err = dir_get(st, t, vol, sdir, &sdr);
	if (!err && sdir != ddir)
		err = dir_get(st, t, vol, ddir, ddr);
	if (!err)
		err = dent_get(st, t, vol, sdir, sname, &sd);
	if (err)
		return err;
	err = ino_get(st, t, vol, sd.ino, &sr);
	if (err)
		return err == ESTALE ? EIO : err;
	if (ddr->nlink == 0)
		return ENOENT;
	err = dent_get(st, t, vol, ddir, dname, &dd);
	if (err && err != ENOENT)
		return err;
	have_dst = !err;
	if ((flags & MODALFS_RENAME_EXCHANGE) && !have_dst)
		return ENOENT;
	if ((flags & MODALFS_RENAME_NOREPLACE) && have_dst)
		return EEXIST;
	/* Same entry, or two links of one inode: POSIX says do nothing. */
	if (have_dst && dd.ino == sd.ino)
		return 0;
	sisdir = S_ISDIR(sr.mode);
	if (have_dst) {
		err = ino_get(st, t, vol, dd.ino, &dr);
		if (err)
			return err == ESTALE ? EIO : err;
		disdir = S_ISDIR(dr.mode);
	}

	if (flags & MODALFS_RENAME_EXCHANGE) {
		struct dentrec ns = { sd.cookie, dd.ino, dd.type, 0 };
		struct dentrec nd = { dd.cookie, sd.ino, sd.type, 0 };

		if (sdir != ddir) {
			if (sisdir)
				err = check_not_below(st, t, vol, sd.ino, ddir);
			if (!err && disdir)
				err = check_not_below(st, t, vol, dd.ino, sdir);
			if (err)
				return err;
		}
		err = dent_put(st, t, vol, sdir, sname, &ns);
		if (!err)
			err = dent_put(st, t, vol, ddir, dname, &nd);
		if (err)
			return err;
		if (sdir != ddir) {
			if (sisdir) {
				sr.parent = ddir;
				sdr.nlink--;
				ddr->nlink++;
			}
			if (disdir) {
				dr.parent = sdir;
				ddr->nlink--;
				sdr.nlink++;
			}
		}
		touch_c(&dr);
		err = ino_put(st, t, vol, dd.ino, &dr);
	} else {
		if (sisdir) {
			err = check_not_below(st, t, vol, sd.ino, ddir);
			if (err)
				return err;
		}
		if (have_dst) {
			struct dentrec nd = { dd.cookie, sd.ino, sd.type, 0 };

			if (sisdir && !disdir)
				return ENOTDIR;
			if (!sisdir && disdir)
				return EISDIR;
			if (disdir) {
				bool empty;

				err = dir_empty(st, t, vol, dd.ino, &empty);
				if (!err && !empty)
					err = ENOTEMPTY;
				if (err)
					return err;
				ddr->nlink--;
			}
			err = dent_put(st, t, vol, ddir, dname, &nd);
			if (!err)
				err = drop_link(st, t, vol, dd.ino, &dr);
		} else {
			err = dent_add(st, t, vol, ddir, ddr, dname, sd.ino,
				       sr.mode);
		}
		if (!err)
			err = dent_del(st, t, vol, sdir, sname, sd.cookie);
		if (err)
			return err;
		if (sisdir && sdir != ddir) {
			sr.parent = ddir;
			sdr.nlink--;
			ddr->nlink++;
		}
	}
	touch_c(&sr);
	touch_mc(&sdr);
	touch_mc(ddr);
	err = ino_put(st, t, vol, sd.ino, &sr);
	if (!err)
		err = ino_put(st, t, vol, sdir, &sdr);
	if (!err && sdir != ddir)
		err = ino_put(st, t, vol, ddir, ddr);
	return err;
}

int modalfs_store_rename(struct modalfs_store *st, uint64_t vol, uint64_t dir,
			 const char *name, uint64_t newdir,
			 const char *newname, uint32_t flags)
{
	MDB_txn *t;
	int err;

	if ((flags & ~MODALFS_RENAME_FLAGS) ||
	    ((flags & MODALFS_RENAME_EXCHANGE) &&
	     (flags & MODALFS_RENAME_NOREPLACE)))
		return EINVAL;
	err = modalfs_store_name_check(name);
	if (!err)
		err = modalfs_store_name_check(newname);
	if (err)
		return err;
	err = txn_begin(st, true, &t);
	if (err)
		return err;
	err = do_rename(st, t, vol, dir, name, newdir, newname, flags);
	return txn_end(st, t, err);
}

int modalfs_store_read(struct modalfs_store *st, uint64_t vol, uint64_t ino,
		       uint64_t off, size_t len, void *buf, size_t *got)
{
	struct inorec r;
	struct key k;
	MDB_txn *t;
	size_t done = 0;
	int err;

	*got = 0;
	err = txn_begin(st, false, &t);
	if (err)
		return err;
	err = reg_get(st, t, vol, ino, &r);
	if (err || off >= r.size)
		goto out;
	if (len > r.size - off)
		len = r.size - off;
	while (done < len) {
		uint64_t pos = off + done;
		uint64_t b = pos / BS;
		size_t in = pos % BS;
		size_t n = BS - in;
		MDB_val v;
		int rc;

		if (n > len - done)
			n = len - done;
		rc = mdb_get(t, st->data, key3(&k, vol, ino, b), &v);
		if (rc && rc != MDB_NOTFOUND) {
			err = store_errno(rc);
			break;
		}
		if (rc || v.mv_size <= in) {
			memset((char *)buf + done, 0, n);
		} else {
			size_t have = v.mv_size - in;

			if (have > n)
				have = n;
			memcpy((char *)buf + done, (char *)v.mv_data + in,
			       have);
			memset((char *)buf + done + have, 0, n - have);
		}
		done += n;
	}
	if (!err)
		*got = done;
out:
	mdb_txn_abort(t);
	return err;
}

int modalfs_store_write(struct modalfs_store *st, uint64_t vol, uint64_t ino,
			uint64_t off, const void *buf, size_t len,
			struct modalfs_iattr *attr)
{
	struct inorec r;
	struct key k;
	MDB_txn *t;
	char *tmp = NULL;
	size_t done = 0;
	int err;

	if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off)
		return EFBIG;
	/* Even an empty write answers with the inode, so it reads it. */
	err = txn_begin(st, true, &t);
	if (err)
		return err;
	err = len ? space_check(st, t) : 0;
	if (!err)
		err = reg_get(st, t, vol, ino, &r);
	while (!err && done < len) {
		uint64_t pos = off + done;
		uint64_t b = pos / BS;
		size_t in = pos % BS;
		size_t n = BS - in;
		size_t oldlen = 0, newlen;
		MDB_val v, nv;
		int rc;

		if (n > len - done)
			n = len - done;
		rc = mdb_get(t, st->data, key3(&k, vol, ino, b), &v);
		if (rc && rc != MDB_NOTFOUND) {
			err = store_errno(rc);
			break;
		}
		if (!rc)
			oldlen = v.mv_size;
		newlen = in + n > oldlen ? in + n : oldlen;
		nv.mv_size = newlen;
		if (in == 0 && n >= oldlen) {
			/* Whole new content comes from buf: no old bytes. */
			rc = mdb_put(t, st->data, &k.v, &nv, MDB_RESERVE);
			if (rc) {
				err = store_errno(rc);
				break;
			}
			memcpy(nv.mv_data, (const char *)buf + done, n);
		} else {
			if (!tmp && !(tmp = malloc(BS))) {
				err = ENOMEM;
				break;
			}
			/* Old bytes live in the map; copy before COW. */
			if (oldlen)
				memcpy(tmp, v.mv_data, oldlen);
			if (in > oldlen)
				memset(tmp + oldlen, 0, in - oldlen);
			memcpy(tmp + in, (const char *)buf + done, n);
			nv.mv_data = tmp;
			rc = mdb_put(t, st->data, &k.v, &nv, 0);
			if (rc) {
				err = store_errno(rc);
				break;
			}
		}
		r.blocks += blocks512(newlen) - blocks512(oldlen);
		done += n;
	}
	free(tmp);
	if (!err && len) {
		if (off + len > r.size)
			r.size = off + len;
		touch_mc(&r);
		err = ino_put(st, t, vol, ino, &r);
	}
	if (!err && attr)
		to_attr(ino, &r, attr);
	return txn_end(st, t, err);
}

int modalfs_store_fsync(struct modalfs_store *st, uint64_t vol, uint64_t ino,
			uint32_t flags)
{
	(void)vol;
	(void)ino;
	(void)flags;
	int err;

	/* Commits are ordered, so syncing the env covers every earlier op. */
	err = store_errno(mdb_env_sync(st->env, 1));

	if (!err)
		modalfs_stats_sync(st->stats);
	return err;
}

int modalfs_store_evict(struct modalfs_store *st, uint64_t vol, uint64_t ino)
{
	struct inorec r;
	MDB_txn *t;
	int err;

	err = txn_begin(st, true, &t);
	if (err)
		return err;
	err = ino_get(st, t, vol, ino, &r);
	if (err == ESTALE) {
		/* Already gone (e.g. a retransmitted EVICT): nothing to do. */
		mdb_txn_abort(t);
		return 0;
	}
	if (!err && r.nlink == 0)
		err = free_inode(st, t, vol, ino);
	return txn_end(st, t, err);
}

/* ---- extended attributes ---- */

int modalfs_xattr_name_check(const char *name)
{
	static const char *const prefixes[] = {
		"user.", "trusted.", "security.",
	};
	size_t n = strnlen(name, MODALFS_NAME_MAX + 1);

	if (n == 0)
		return EINVAL;
	if (n > MODALFS_NAME_MAX)
		return ERANGE;	/* as setxattr(2) for a name too long */
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t pl = strlen(prefixes[i]);

		if (!strncmp(name, prefixes[i], pl))
			return n > pl ? 0 : EINVAL;	/* "user." alone */
	}
	return EOPNOTSUPP;
}

/*
 * Sizes of ino's xattrs other than skip: the NUL-separated list and all
 * names and values together (header: MODALFS_XATTR_LIST/INODE_MAX).
 */
static int xattr_usage(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		       uint64_t ino, const char *skip, uint64_t *list,
		       uint64_t *total)
{
	MDB_cursor *c;
	struct key k;
	MDB_val kk, vv;
	size_t sl = skip ? strlen(skip) : 0;
	int err = store_errno(mdb_cursor_open(t, st->xattrs, &c));

	*list = *total = 0;
	if (err)
		return err;
	err = first_with_prefix(c, key2(&k, vol, ino), 16, &kk, &vv);
	while (!err) {
		size_t nl = kk.mv_size - 16;

		if (!(skip && nl == sl &&
		      !memcmp((char *)kk.mv_data + 16, skip, sl))) {
			*list += nl + 1;
			*total += nl + vv.mv_size;
		}
		err = next_with_prefix(c, k.b, 16, &kk, &vv);
	}
	mdb_cursor_close(c);
	return err == ENOENT ? 0 : err;
}

int modalfs_store_getxattr(struct modalfs_store *st, uint64_t vol,
			   uint64_t ino, const char *name, void *buf,
			   size_t *len)
{
	struct inorec r;
	struct key k;
	MDB_val v;
	MDB_txn *t;
	int err = modalfs_xattr_name_check(name);

	*len = 0;
	if (err)
		return err;
	err = txn_begin(st, false, &t);
	if (err)
		return err;
	err = ino_get(st, t, vol, ino, &r);
	if (!err)
		err = store_errno(mdb_get(t, st->xattrs,
					  keyname(&k, vol, ino, name), &v));
	if (err == ENOENT)
		err = ENODATA;
	if (!err && v.mv_size > MODALFS_XATTR_SIZE_MAX)
		err = EIO;
	if (!err) {
		memcpy(buf, v.mv_data, v.mv_size);
		*len = v.mv_size;
	}
	mdb_txn_abort(t);
	return err;
}

int modalfs_store_setxattr(struct modalfs_store *st, uint64_t vol,
			   uint64_t ino, const char *name, const void *val,
			   size_t len, uint32_t flags,
			   struct modalfs_iattr *attr)
{
	struct inorec r;
	struct key k;
	MDB_val v, nv = { .mv_size = len, .mv_data = (void *)val };
	uint64_t list, total;
	MDB_txn *t;
	int err, rc;

	if (flags & ~MODALFS_XATTR_FLAGS ||
	    flags == (MODALFS_XATTR_CREATE | MODALFS_XATTR_REPLACE))
		return EINVAL;
	err = modalfs_xattr_name_check(name);
	if (err)
		return err;
	if (len > MODALFS_XATTR_SIZE_MAX)
		return E2BIG;
	err = txn_begin(st, true, &t);
	if (err)
		return err;
	err = space_check(st, t);
	if (!err)
		err = ino_get(st, t, vol, ino, &r);
	if (err)
		goto out;
	rc = mdb_get(t, st->xattrs, keyname(&k, vol, ino, name), &v);
	if (rc && rc != MDB_NOTFOUND) {
		err = store_errno(rc);
		goto out;
	}
	if (!rc && (flags & MODALFS_XATTR_CREATE)) {
		err = EEXIST;
		goto out;
	}
	if (rc && (flags & MODALFS_XATTR_REPLACE)) {
		err = ENODATA;
		goto out;
	}
	err = xattr_usage(st, t, vol, ino, name, &list, &total);
	if (err)
		goto out;
	if (list + strlen(name) + 1 > MODALFS_XATTR_LIST_MAX ||
	    total + strlen(name) + len > MODALFS_XATTR_INODE_MAX) {
		err = ENOSPC;
		goto out;
	}
	err = store_errno(mdb_put(t, st->xattrs, &k.v, &nv, 0));
	if (err)
		goto out;
	touch_c(&r);
	err = ino_put(st, t, vol, ino, &r);
	if (!err)
		to_attr(ino, &r, attr);
out:
	return txn_end(st, t, err);
}

int modalfs_store_listxattr(struct modalfs_store *st, uint64_t vol,
			    uint64_t ino, char *buf, size_t *len)
{
	struct inorec r;
	MDB_cursor *c = NULL;
	struct key k;
	MDB_val kk, vv;
	MDB_txn *t;
	size_t n = 0;
	int err;

	*len = 0;
	err = txn_begin(st, false, &t);
	if (err)
		return err;
	err = ino_get(st, t, vol, ino, &r);
	if (!err)
		err = store_errno(mdb_cursor_open(t, st->xattrs, &c));
	if (err)
		goto out;
	err = first_with_prefix(c, key2(&k, vol, ino), 16, &kk, &vv);
	while (!err) {
		size_t nl = kk.mv_size - 16;

		if (nl == 0 || n + nl + 1 > MODALFS_XATTR_LIST_MAX) {
			err = EIO;	/* setxattr keeps it within bounds */
			break;
		}
		memcpy(buf + n, (char *)kk.mv_data + 16, nl);
		buf[n + nl] = '\0';
		n += nl + 1;
		err = next_with_prefix(c, k.b, 16, &kk, &vv);
	}
	if (err == ENOENT) {
		err = 0;
		*len = n;
	}
out:
	if (c)
		mdb_cursor_close(c);
	mdb_txn_abort(t);
	return err;
}

int modalfs_store_removexattr(struct modalfs_store *st, uint64_t vol,
			      uint64_t ino, const char *name,
			      struct modalfs_iattr *attr)
{
	struct inorec r;
	struct key k;
	MDB_txn *t;
	int err = modalfs_xattr_name_check(name);

	if (err)
		return err;
	err = txn_begin(st, true, &t);
	if (err)
		return err;
	err = ino_get(st, t, vol, ino, &r);
	if (!err) {
		err = store_errno(mdb_del(t, st->xattrs,
					  keyname(&k, vol, ino, name), NULL));
		if (err == ENOENT)
			err = ENODATA;
	}
	if (!err) {
		touch_c(&r);
		err = ino_put(st, t, vol, ino, &r);
	}
	if (!err)
		to_attr(ino, &r, attr);
	return txn_end(st, t, err);
}

/* ---- consistency check (modalfsd --check) ---- */

struct ck_ino {
	uint64_t ino;
	struct inorec r;
	uint64_t entry_dir;	/* a directory holding an entry for it */
	uint64_t data_blocks;	/* 512-byte units found in data */
	uint32_t links;		/* dirents naming it */
	uint32_t subdirs;	/* directory entries in it naming dirs */
	bool orphan, symlink;
	uint8_t reach;		/* 0 unknown, 1 yes, 2 no */
};

struct ck {
	struct modalfs_store *st;
	MDB_txn *t;
	FILE *out;
	long problems;
	const char *vname;
	uint64_t vol;
	struct ck_ino *inos;
	size_t n;
};

__attribute__((format(printf, 2, 3)))
static void ck_report(struct ck *c, const char *fmt, ...)
{
	va_list ap;

	c->problems++;
	if (c->vname)
		fprintf(c->out, "volume %s (id %llu): ", c->vname,
			(unsigned long long)c->vol);
	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fputc('\n', c->out);
}

static struct ck_ino *ck_find(struct ck *c, uint64_t ino)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->inos[mid].ino == ino)
			return &c->inos[mid];
		if (c->inos[mid].ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Calls fn for every record of dbi whose key starts with be64 vol. */
static int ck_walk(struct ck *c, MDB_dbi dbi,
		   void (*fn)(struct ck *c, MDB_val *k, MDB_val *v))
{
	MDB_cursor *cur;
	struct key k;
	MDB_val kk, vv;
	int err = store_errno(mdb_cursor_open(c->t, dbi, &cur));

	if (err)
		return err;
	err = first_with_prefix(cur, key1(&k, c->vol), 8, &kk, &vv);
	while (!err) {
		fn(c, &kk, &vv);
		err = next_with_prefix(cur, k.b, 8, &kk, &vv);
	}
	mdb_cursor_close(cur);
	return err == ENOENT ? 0 : err;
}

static uint64_t kget(const MDB_val *k, size_t off)
{
	return k->mv_size >= off + 8 ?
		get_be64((const unsigned char *)k->mv_data + off) : 0;
}

static void ck_load_ino(struct ck *c, MDB_val *k, MDB_val *v)
{
	struct ck_ino *ci;

	if (k->mv_size != 16 || v->mv_size != sizeof(struct inorec)) {
		ck_report(c, "inode %llu: malformed inode record (%zu bytes)",
			  (unsigned long long)kget(k, 8), v->mv_size);
		return;
	}
	if (c->n % 1024 == 0) {
		void *p = realloc(c->inos, (c->n + 1024) * sizeof(*c->inos));

		if (!p) {
			ck_report(c, "out of memory");
			return;
		}
		c->inos = p;
	}
	ci = &c->inos[c->n++];
	memset(ci, 0, sizeof(*ci));
	ci->ino = kget(k, 8);
	memcpy(&ci->r, v->mv_data, sizeof(ci->r));
}

static void ck_dirent(struct ck *c, MDB_val *k, MDB_val *v)
{
	char name[MODALFS_NAME_MAX + 2];
	uint64_t dir = kget(k, 8);
	size_t nl = k->mv_size > 16 ? k->mv_size - 16 : 0;
	struct ck_ino *d, *ci;
	struct dentrec de;
	struct key kk;
	MDB_val cv;

	if (nl > MODALFS_NAME_MAX)
		nl = MODALFS_NAME_MAX + 1;
	memcpy(name, (char *)k->mv_data + 16, nl);
	name[nl] = '\0';
	if (k->mv_size < 17 || strlen(name) != nl ||
	    modalfs_store_name_check(name)) {
		ck_report(c, "directory %llu: invalid entry name \"%s\"",
			  (unsigned long long)dir, name);
		return;
	}
	if (v->mv_size != sizeof(de)) {
		ck_report(c, "directory %llu: entry \"%s\": malformed record",
			  (unsigned long long)dir, name);
		return;
	}
	memcpy(&de, v->mv_data, sizeof(de));
	d = ck_find(c, dir);
	if (!d || !S_ISDIR(d->r.mode)) {
		ck_report(c, "directory %llu: entry \"%s\" in a %s",
			  (unsigned long long)dir, name,
			  d ? "non-directory" : "missing directory");
		return;
	}
	if (d->r.nlink == 0)
		ck_report(c, "directory %llu: removed (nlink 0) but has entry \"%s\"",
			  (unsigned long long)dir, name);
	if (de.cookie < MODALFS_DIR_COOKIE_FIRST ||
	    de.cookie >= d->r.next_cookie)
		ck_report(c, "directory %llu: entry \"%s\": cookie %llu outside [%llu, %llu)",
			  (unsigned long long)dir, name,
			  (unsigned long long)de.cookie,
			  (unsigned long long)MODALFS_DIR_COOKIE_FIRST,
			  (unsigned long long)d->r.next_cookie);
	if (mdb_get(c->t, c->st->dcookies, key3(&kk, c->vol, dir, de.cookie),
		    &cv) ||
	    cv.mv_size != nl || memcmp(cv.mv_data, name, nl))
		ck_report(c, "directory %llu: entry \"%s\": cookie %llu does not name it",
			  (unsigned long long)dir, name,
			  (unsigned long long)de.cookie);
	ci = ck_find(c, de.ino);
	if (!ci) {
		ck_report(c, "directory %llu: entry \"%s\" names missing inode %llu",
			  (unsigned long long)dir, name,
			  (unsigned long long)de.ino);
		return;
	}
	if (de.type != (ci->r.mode & S_IFMT) >> 12)
		ck_report(c, "directory %llu: entry \"%s\": type %u but inode %llu has mode 0%o",
			  (unsigned long long)dir, name, de.type,
			  (unsigned long long)de.ino, ci->r.mode);
	ci->links++;
	ci->entry_dir = dir;
	if (S_ISDIR(ci->r.mode))
		d->subdirs++;
}

static void ck_dcookie(struct ck *c, MDB_val *k, MDB_val *v)
{
	char name[MODALFS_NAME_MAX + 1];
	struct dentrec de;
	struct key kk;
	uint64_t dir = kget(k, 8), cookie = kget(k, 16);

	if (k->mv_size != 24 || v->mv_size == 0 ||
	    v->mv_size > MODALFS_NAME_MAX) {
		ck_report(c, "directory %llu: malformed cookie record",
			  (unsigned long long)dir);
		return;
	}
	memcpy(name, v->mv_data, v->mv_size);
	name[v->mv_size] = '\0';
	if (strlen(name) != v->mv_size ||
	    rec_get_raw(c->t, c->st->dirents, keyname(&kk, c->vol, dir, name),
			&de, sizeof(de)) || de.cookie != cookie)
		ck_report(c, "directory %llu: cookie %llu names \"%s\", which has no entry with that cookie",
			  (unsigned long long)dir,
			  (unsigned long long)cookie, name);
}

static void ck_data(struct ck *c, MDB_val *k, MDB_val *v)
{
	uint64_t ino = kget(k, 8), b = kget(k, 16);
	struct ck_ino *ci = ck_find(c, ino);

	if (k->mv_size != 24 || !ci || !S_ISREG(ci->r.mode)) {
		ck_report(c, "inode %llu: data block %llu for a %s",
			  (unsigned long long)ino, (unsigned long long)b,
			  ci ? "non-regular file" : "missing inode");
		return;
	}
	if (v->mv_size == 0 || v->mv_size > BS || b > UINT64_MAX / BS ||
	    b * BS + v->mv_size > ci->r.size)
		ck_report(c, "inode %llu: data block %llu (%zu bytes) beyond size %llu",
			  (unsigned long long)ino, (unsigned long long)b,
			  v->mv_size, (unsigned long long)ci->r.size);
	ci->data_blocks += blocks512(v->mv_size);
}

static void ck_symlink(struct ck *c, MDB_val *k, MDB_val *v)
{
	uint64_t ino = kget(k, 8);
	struct ck_ino *ci = ck_find(c, ino);

	if (k->mv_size != 16 || !ci || !S_ISLNK(ci->r.mode)) {
		ck_report(c, "inode %llu: symlink target for a %s",
			  (unsigned long long)ino,
			  ci ? "non-symlink" : "missing inode");
		return;
	}
	ci->symlink = true;
	if (v->mv_size == 0 || v->mv_size > MODALFS_SYMLINK_MAX ||
	    v->mv_size != ci->r.size)
		ck_report(c, "inode %llu: symlink target of %zu bytes, size %llu",
			  (unsigned long long)ino, v->mv_size,
			  (unsigned long long)ci->r.size);
}

static void ck_orphan(struct ck *c, MDB_val *k, MDB_val *v)
{
	uint64_t ino = kget(k, 8);
	struct ck_ino *ci = ck_find(c, ino);

	(void)v;
	if (k->mv_size != 16 || !ci) {
		ck_report(c, "inode %llu: orphan record for a missing inode",
			  (unsigned long long)ino);
		return;
	}
	ci->orphan = true;
}

struct ck_xa {
	uint64_t ino, list, total;
};

static void ck_xattr(struct ck *c, MDB_val *k, MDB_val *v)
{
	char name[MODALFS_NAME_MAX + 2];
	uint64_t ino = kget(k, 8);
	size_t nl = k->mv_size > 16 ? k->mv_size - 16 : 0;
	struct ck_ino *ci = ck_find(c, ino);

	if (nl > MODALFS_NAME_MAX)
		nl = MODALFS_NAME_MAX + 1;
	memcpy(name, (char *)k->mv_data + 16, nl);
	name[nl] = '\0';
	if (!ci) {
		ck_report(c, "inode %llu: xattr \"%s\" for a missing inode",
			  (unsigned long long)ino, name);
		return;
	}
	if (strlen(name) != nl || modalfs_xattr_name_check(name))
		ck_report(c, "inode %llu: invalid xattr name \"%s\"",
			  (unsigned long long)ino, name);
	if (v->mv_size > MODALFS_XATTR_SIZE_MAX)
		ck_report(c, "inode %llu: xattr \"%s\" value of %zu bytes",
			  (unsigned long long)ino, name, v->mv_size);
	/* Per-inode sums reuse data_blocks' neighbour fields via a pass. */
}

/*
 * 1 if directory d reaches the root through parent pointers, each step
 * confirmed by the entry naming it; else 0. Results are remembered on the
 * path; a walk longer than the number of inodes is a cycle.
 */
static int ck_reach(struct ck *c, struct ck_ino *d)
{
	struct ck_ino *p = d;
	uint8_t res = 0;
	size_t steps;

	for (steps = 0; !res; steps++) {
		if (p->reach)
			res = p->reach;
		else if (p->ino == MODALFS_ROOT_INO)
			res = 1;
		else if (steps > c->n || p->links != 1 ||
			 p->entry_dir != p->r.parent || !p->r.nlink)
			res = 2;
		else if (!(p = ck_find(c, p->r.parent)) || !S_ISDIR(p->r.mode))
			res = 2;
	}
	/* Second walk: remember the result along the same path. */
	for (p = d; p && !p->reach && steps--; p = ck_find(c, p->r.parent))
		p->reach = res;
	return res == 1;
}

static void ck_volume(struct ck *c, const char *name, const struct volrec *vr)
{
	struct ck_ino *root;
	size_t i;
	int err;

	c->vname = name;
	c->vol = vr->vol_id;
	c->n = 0;
	err = ck_walk(c, c->st->inodes, ck_load_ino);
	if (!err)
		err = ck_walk(c, c->st->dirents, ck_dirent);
	if (!err)
		err = ck_walk(c, c->st->dcookies, ck_dcookie);
	if (!err)
		err = ck_walk(c, c->st->data, ck_data);
	if (!err)
		err = ck_walk(c, c->st->symlinks, ck_symlink);
	if (!err)
		err = ck_walk(c, c->st->orphans, ck_orphan);
	if (!err && c->st->xattrs != (MDB_dbi)-1)
		err = ck_walk(c, c->st->xattrs, ck_xattr);
	if (err) {
		ck_report(c, "cannot read the store: %s", strerror(err));
		return;
	}
	root = ck_find(c, MODALFS_ROOT_INO);
	if (!root || !S_ISDIR(root->r.mode)) {
		ck_report(c, "root inode %s", root ? "is not a directory" :
			  "is missing");
	} else {
		if (root->r.parent != MODALFS_ROOT_INO)
			ck_report(c, "inode 1 (root): parent is %llu, not itself",
				  (unsigned long long)root->r.parent);
		if (root->links)
			ck_report(c, "inode 1 (root): named by %u directory entries",
				  root->links);
	}
	for (i = 0; i < c->n; i++) {
		struct ck_ino *ci = &c->inos[i];
		unsigned long long ino = ci->ino;

		if (ino >= vr->next_ino || ino == 0)
			ck_report(c, "inode %llu: not below the volume's next inode number %llu",
				  ino, (unsigned long long)vr->next_ino);
		if (ci->r.nlink == 0 && !ci->orphan)
			ck_report(c, "inode %llu: nlink 0 but not on the orphan list",
				  ino);
		if (ci->r.nlink != 0 && ci->orphan)
			ck_report(c, "inode %llu: on the orphan list with nlink %u",
				  ino, ci->r.nlink);
		if (S_ISDIR(ci->r.mode)) {
			if (ci->r.nlink && ci->r.nlink != 2 + ci->subdirs)
				ck_report(c, "inode %llu: directory nlink %u, expected %u (2 + %u subdirectories)",
					  ino, ci->r.nlink, 2 + ci->subdirs,
					  ci->subdirs);
			if (ci->ino == MODALFS_ROOT_INO)
				continue;
			if (ci->r.nlink && ci->links != 1)
				ck_report(c, "inode %llu: directory named by %u entries, expected 1",
					  ino, ci->links);
			else if (!ci->r.nlink && ci->links)
				ck_report(c, "inode %llu: removed directory still named by %u entries",
					  ino, ci->links);
			if (ci->links == 1 && ci->r.parent != ci->entry_dir)
				ck_report(c, "inode %llu: parent pointer %llu, but its entry is in directory %llu",
					  ino, (unsigned long long)ci->r.parent,
					  (unsigned long long)ci->entry_dir);
			if (ci->r.nlink && ci->links == 1 && !ck_reach(c, ci))
				ck_report(c, "inode %llu: directory not reachable from the root",
					  ino);
		} else {
			if (ci->r.nlink != ci->links)
				ck_report(c, "inode %llu: nlink %u but named by %u entries",
					  ino, ci->r.nlink, ci->links);
			if (S_ISREG(ci->r.mode) &&
			    ci->data_blocks != ci->r.blocks)
				ck_report(c, "inode %llu: blocks %llu but its data holds %llu",
					  ino, (unsigned long long)ci->r.blocks,
					  (unsigned long long)ci->data_blocks);
			if (S_ISLNK(ci->r.mode) && !ci->symlink)
				ck_report(c, "inode %llu: symlink without a target",
					  ino);
		}
		if (ci->r.version != REC_VERSION)
			ck_report(c, "inode %llu: record version %u",
				  ino, ci->r.version);
	}
	/* Per-inode xattr budgets. */
	if (c->st->xattrs != (MDB_dbi)-1) {
		for (i = 0; i < c->n; i++) {
			uint64_t list, total;

			if (xattr_usage(c->st, c->t, c->vol, c->inos[i].ino,
					NULL, &list, &total))
				continue;
			if (list > MODALFS_XATTR_LIST_MAX ||
			    total > MODALFS_XATTR_INODE_MAX)
				ck_report(c, "inode %llu: xattrs over budget (list %llu, total %llu bytes)",
					  (unsigned long long)c->inos[i].ino,
					  (unsigned long long)list,
					  (unsigned long long)total);
		}
	}
	c->vname = NULL;
}

/* Records of volumes that do not exist (e.g. left by a broken delete). */
static void ck_strays(struct ck *c, MDB_dbi dbi, const char *what)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t last = 0;
	struct key kk;
	int rc;

	if (dbi == (MDB_dbi)-1 || mdb_cursor_open(c->t, dbi, &cur))
		return;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint64_t vol = kget(&k, 0);
		MDB_val nv;

		if (vol == last)
			continue;
		last = vol;
		if (!mdb_get(c->t, c->st->volids, key1(&kk, vol), &nv))
			continue;
		/*
		 * A deletion a crash interrupted (meta "del/" + be64 id, see
		 * store_vol.inc) is finished at the next daemon start.
		 */
		memcpy(kk.b, "del/", 4);
		be64(kk.b + 4, vol);
		kk.v.mv_data = kk.b;
		kk.v.mv_size = 12;
		if (mdb_get(c->t, c->st->meta, &kk.v, &nv))
			ck_report(c, "%s records for volume id %llu, which does not exist",
				  what, (unsigned long long)vol);
	}
	mdb_cursor_close(cur);
}

/* Volume ids below next_vol_id; DRC records well formed and bounded. */
static void ck_meta_drc(struct ck *c)
{
	static const char nvk[] = "next_vol_id";
	MDB_val mk = { .mv_size = sizeof(nvk) - 1, .mv_data = (void *)nvk };
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t next = 0, n = 0;
	int rc;

	if (!mdb_get(c->t, c->st->meta, &mk, &v) && v.mv_size == sizeof(next))
		memcpy(&next, v.mv_data, sizeof(next));
	if (!mdb_cursor_open(c->t, c->st->volids, &cur)) {
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
			if (kget(&k, 0) >= next)
				ck_report(c, "volume id %llu is not below next_vol_id %llu",
					  (unsigned long long)kget(&k, 0),
					  (unsigned long long)next);
		mdb_cursor_close(cur);
	}
	if (c->st->drc == (MDB_dbi)-1 ||
	    mdb_cursor_open(c->t, c->st->drc, &cur))
		return;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		n++;
		if (k.mv_size != 8 ||
		    v.mv_size != sizeof(struct modalfs_drc_reply))
			ck_report(c, "duplicate-request cache: malformed record for request %llu",
				  (unsigned long long)kget(&k, 0));
	}
	mdb_cursor_close(cur);
	/* Each op prunes up to two, so the bound holds after every commit. */
	if (n > DRC_MAX)
		ck_report(c, "duplicate-request cache holds %llu ids, more than %d",
			  (unsigned long long)n, DRC_MAX);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* LMDB's own page accounting: every page is in a tree, free, or meta. */
static void ck_pages(struct ck *c, bool quiet_env)
{
	MDB_dbi dbis[] = { 0, 1, c->st->meta, c->st->volumes, c->st->volids,
			   c->st->inodes, c->st->dirents, c->st->dcookies,
			   c->st->data, c->st->symlinks, c->st->orphans,
			   c->st->xattrs, c->st->drc };
	MDB_envinfo info;
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t tree = 0, nfree = 0, total;
	size_t *pg = NULL, npg = 0;
	int rc;

	mdb_env_info(c->st->env, &info);
	total = info.me_last_pgno + 1;
	if (total > info.me_mapsize / c->st->psize)
		ck_report(c, "store: last page %llu beyond the map of %llu pages",
			  (unsigned long long)info.me_last_pgno,
			  (unsigned long long)(info.me_mapsize /
					       c->st->psize));
	for (size_t i = 0; i < sizeof(dbis) / sizeof(dbis[0]); i++) {
		MDB_stat ms;

		if (dbis[i] == (MDB_dbi)-1 || mdb_stat(c->t, dbis[i], &ms))
			continue;
		tree += ms.ms_branch_pages + ms.ms_leaf_pages +
			ms.ms_overflow_pages;
	}
	if (mdb_cursor_open(c->t, 0, &cur))
		return;
	while (!(rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))) {
		size_t n;

		if (v.mv_size < sizeof(n))
			continue;
		memcpy(&n, v.mv_data, sizeof(n));
		if ((n + 1) * sizeof(size_t) > v.mv_size) {
			ck_report(c, "store: malformed free list record");
			break;
		}
		pg = realloc(pg, (npg + n + 1) * sizeof(*pg));
		if (!pg) {
			ck_report(c, "out of memory");
			mdb_cursor_close(cur);
			return;
		}
		memcpy(pg + npg, (size_t *)v.mv_data + 1, n * sizeof(*pg));
		npg += n;
	}
	mdb_cursor_close(cur);
	nfree = npg;
	qsort(pg, npg, sizeof(*pg), cmp_size);
	for (size_t i = 0; i < npg; i++) {
		if (pg[i] < 2 || pg[i] >= total) {
			ck_report(c, "store: free page %zu outside [2, %llu)",
				  pg[i], (unsigned long long)total);
			break;
		}
		if (i && pg[i] == pg[i - 1]) {
			ck_report(c, "store: page %zu is on the free list twice",
				  pg[i]);
			break;
		}
	}
	free(pg);
	/*
	 * With no writer the snapshot is the newest state and the sum is
	 * exact; while modalfsd runs, newer commits may have grown the file.
	 */
	if (2 + tree + nfree > total ||
	    (quiet_env && 2 + tree + nfree != total))
		ck_report(c, "store: %llu pages in trees + %llu free + 2 meta != %llu pages in the file",
			  (unsigned long long)tree, (unsigned long long)nfree,
			  (unsigned long long)total);
}

static long check_store(struct modalfs_store *st, FILE *out, bool quiet_env)
{
	struct ck c = { .st = st, .out = out };
	MDB_cursor *cur;
	MDB_val k, v;
	int err, rc;

	err = store_errno(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &c.t));
	if (err)
		return -err;
	err = store_errno(mdb_cursor_open(c.t, st->volumes, &cur));
	if (err) {
		mdb_txn_abort(c.t);
		return -err;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char name[MODALFS_VOL_NAME_MAX + 1];
		struct volrec vr;
		struct key kk;
		MDB_val nv;

		if (k.mv_size == 0 || k.mv_size > MODALFS_VOL_NAME_MAX ||
		    v.mv_size != sizeof(vr)) {
			ck_report(&c, "volume record \"%.*s\" is malformed",
				  (int)(k.mv_size > 64 ? 64 : k.mv_size),
				  (char *)k.mv_data);
			continue;
		}
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		memcpy(&vr, v.mv_data, sizeof(vr));
		if (mdb_get(c.t, st->volids, key1(&kk, vr.vol_id), &nv) ||
		    nv.mv_size != k.mv_size ||
		    memcmp(nv.mv_data, k.mv_data, k.mv_size))
			ck_report(&c, "volume %s: id %llu does not map back to it",
				  name, (unsigned long long)vr.vol_id);
		ck_volume(&c, name, &vr);
	}
	mdb_cursor_close(cur);
	/* Every id maps to a volume that has it. */
	if (!mdb_cursor_open(c.t, st->volids, &cur)) {
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			struct volrec vr;

			if (k.mv_size != 8 ||
			    rec_get_raw(c.t, st->volumes, &v, &vr,
					sizeof(vr)) ||
			    vr.vol_id != kget(&k, 0))
				ck_report(&c, "volume id %llu names \"%.*s\", which is not that volume",
					  (unsigned long long)kget(&k, 0),
					  (int)(v.mv_size > 64 ? 64 : v.mv_size),
					  (char *)v.mv_data);
		}
		mdb_cursor_close(cur);
	}
	ck_meta_drc(&c);
	ck_strays(&c, st->inodes, "inode");
	ck_strays(&c, st->dirents, "directory entry");
	ck_strays(&c, st->dcookies, "directory cookie");
	ck_strays(&c, st->data, "data");
	ck_strays(&c, st->symlinks, "symlink");
	ck_strays(&c, st->orphans, "orphan");
	ck_strays(&c, st->xattrs, "xattr");
	ck_pages(&c, quiet_env);
	mdb_txn_abort(c.t);
	free(c.inos);
	return c.problems;
}

long modalfs_store_check_open(struct modalfs_store *st, FILE *out)
{
	/* Group commit may hold uncommitted pages; other writers do not. */
	return check_store(st, out, !st->group);
}

long modalfs_store_check(const char *dir, FILE *out)
{
	static const char *const names[NDBIS] = {
		"meta", "volumes", "volids", "inodes", "dirents", "dcookies",
		"data", "symlinks", "orphans", "xattrs", "drc",
	};
	struct modalfs_store *st;
	unsigned int missing;
	char lockpath[PATH_MAX];
	bool quiet;
	int fd, err;
	long n;

	/* Holding the daemon's lock keeps it from starting meanwhile. */
	snprintf(lockpath, sizeof(lockpath), "%s/modalfsd.lock", dir);
	fd = open(lockpath, O_RDONLY | O_CLOEXEC);
	quiet = fd < 0 || !flock(fd, LOCK_SH | LOCK_NB);
	err = store_open(&st, dir, 0, true, &missing);
	if (err) {
		if (fd >= 0)
			close(fd);
		return -err;
	}
	for (int i = 0; i < NDBIS; i++) {
		if (!(missing & (1u << i)))
			continue;
		/* xattrs and drc came later; the rest must exist. */
		if (i < 9)
			fprintf(out, "store: database \"%s\" is missing\n",
				names[i]);
		else
			continue;
		n = 1;
		goto out;
	}
	if (missing & (1u << 9))
		st->xattrs = (MDB_dbi)-1;
	if (missing & (1u << 10))
		st->drc = (MDB_dbi)-1;
	n = check_store(st, out, quiet);
out:
	modalfs_store_close(st);
	if (fd >= 0)
		close(fd);
	return n;
}

/* ---- group commit ----
 *
 * Every commit of a write transaction syncs the data file, which bounds
 * write ops per second by the disk's sync rate. With group commit, write
 * ops submitted concurrently are run one after the other by a single
 * writer thread, each as a nested transaction of one batch transaction
 * (so each op is still atomic and a failing op is rolled back alone), and
 * the batch is committed with one sync. Callers get their result only
 * after the batch committed, so no reply ever reveals uncommitted state.
 */

struct batch_req {
	int (*fn)(void *arg);
	void *arg;
	int err;
	bool done;
	struct batch_req *next;
};

#define BATCH_MAX 64

static uint32_t batch_index_n(const struct batch_req *r)
{
	uint32_t n = 0;

	for (; r; r = r->next)
		n++;
	return n;
}

static void *writer_main(void *p)
{
	struct modalfs_store *st = p;

	for (;;) {
		struct batch_req *batch, *r, *last;
		MDB_txn *parent = NULL;
		int n, perr;

		pthread_mutex_lock(&st->wlock);
		while (!st->whead && !st->wstop)
			pthread_cond_wait(&st->wmore, &st->wlock);
		if (!st->whead) {
			pthread_mutex_unlock(&st->wlock);
			return NULL;
		}
		batch = last = st->whead;
		for (n = 1; n < BATCH_MAX && last->next; n++)
			last = last->next;
		st->whead = last->next;
		if (!st->whead)
			st->wtail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&st->wlock);

		perr = store_errno(mdb_txn_begin(st->env, NULL, 0, &parent));
		batch_index = 0;
		for (r = batch; r; r = r->next) {
			if (perr) {
				r->err = perr;
				continue;
			}
			batch_parent = parent;
			r->fn(r->arg);
			batch_parent = NULL;
			batch_index++;
			r->err = 0;
		}
		batch_index = 0;
		if (!perr) {
			perr = store_errno(commit_counted(st, parent,
							  batch_index_n(batch)));
			for (r = batch; r && perr; r = r->next)
				r->err = perr;
		}
		pthread_mutex_lock(&st->wlock);
		for (r = batch; r; r = r->next)
			r->done = true;
		pthread_cond_broadcast(&st->wdone);
		pthread_mutex_unlock(&st->wlock);
	}
}

int modalfs_store_group_commit(struct modalfs_store *st)
{
	int err;

	if (st->group)
		return 0;
	pthread_mutex_init(&st->wlock, NULL);
	pthread_cond_init(&st->wmore, NULL);
	pthread_cond_init(&st->wdone, NULL);
	err = pthread_create(&st->writer, NULL, writer_main, st);
	if (!err)
		st->group = true;
	return err;
}

int modalfs_store_batch(struct modalfs_store *st, int (*fn)(void *arg),
			void *arg)
{
	struct batch_req r = { .fn = fn, .arg = arg };

	if (!st->group) {
		fn(arg);
		return 0;
	}
	pthread_mutex_lock(&st->wlock);
	if (st->wtail)
		st->wtail->next = &r;
	else
		st->whead = &r;
	st->wtail = &r;
	pthread_cond_signal(&st->wmore);
	while (!r.done)
		pthread_cond_wait(&st->wdone, &st->wlock);
	pthread_mutex_unlock(&st->wlock);
	return r.err;
}

/* ---- volume lifecycle (ctl) ---- */
/* Kept in its own file, see there; it is part of this translation unit. */
#include "store_vol.inc"
