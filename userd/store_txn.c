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
 *             the duplicate-request cache, see struct modalfs_txc in store.h;
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

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
	[DB_DATA] = { "data", DBF_PER_VOL, "data" },
	[DB_SYMLINKS] = { "symlinks", DBF_PER_VOL, "symlink" },
	[DB_ORPHANS] = { "orphans", DBF_PER_VOL, "orphan" },
	[DB_XATTRS] = { "xattrs", DBF_PER_VOL | DBF_LATER, "xattr" },
	[DB_DRC] = { "drc", DBF_LATER, NULL },
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
int commit_counted(struct modalfs_store *st, MDB_txn *t, uint32_t ops)
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
 * The duplicate-request cache keeps the DRC_MAX highest request ids and
 * prunes older ones (two per recorded op, in the same txn). The kernel
 * resends only requests that were pending when a daemon died, at most a
 * few thousand, and ids grow monotonically (also across module loads), so
 * the lowest ids are always the oldest.
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
	err = store_errno(mdb_put(t, st->db[DB_DRC], key1(&k, d->req_id), &v, 0));
	if (err)
		return err;
	err = store_errno(mdb_stat(t, st->db[DB_DRC], &ms));
	if (!err && ms.ms_entries > st->drc_max) {
		MDB_cursor *c;
		MDB_val kk, vv;

		err = store_errno(mdb_cursor_open(t, st->db[DB_DRC], &c));
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

int txn_begin(struct modalfs_store *st, struct modalfs_txc *tx, bool write,
	      MDB_txn **t)
{
	MDB_txn *parent = write && tx ? tx->batch : NULL;
	int err = store_errno(mdb_txn_begin(st->env, parent,
					    write ? 0 : MDB_RDONLY, t));

	if (!err && write && tx && tx->drc && !tx->drc_done) {
		err = drc_lookup(st, *t, tx->drc);
		if (err) {
			mdb_txn_abort(*t);
			tx->drc_done = true;
		}
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
	if (err) {
		mdb_txn_abort(t);
		return err;
	}
	/* A nested txn of a group-commit batch is counted with the batch. */
	if (tx && tx->batch)
		return store_errno(mdb_txn_commit(t));
	return store_errno(commit_counted(st, t, 1));
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
