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
 *
 * Invariants after every transaction: a directory's nlink is 2 plus its
 * number of subdirectories; a non-directory's nlink is its number of
 * dirents; inorec.parent of a directory names the directory holding its
 * entry (root: itself); dirents and dcookies mirror each other.
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

#define BS MODALFS_STORE_BLOCK
#define REC_VERSION 1
#define MAX_DEPTH 65536

struct modalfs_store {
	MDB_env *env;
	MDB_dbi meta, volumes, volids, inodes, dirents, dcookies, data,
		symlinks, orphans;
	uint64_t map_size;
	int lock_fd;

	/* Group commit (modalfs_store_group_commit), see modalfs_store_batch. */
	bool group;
	pthread_t writer;
	pthread_mutex_t wlock;
	pthread_cond_t wmore, wdone;
	struct batch_req *whead, *wtail;
	bool wstop;
	char *dir;
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

/* Set on the writer thread while it runs a batch; see group commit. */
static __thread MDB_txn *batch_parent;

static int txn_begin(struct modalfs_store *st, bool write, MDB_txn **t)
{
	/* Inside a batch a write op is a nested txn of the batch's txn. */
	return store_errno(mdb_txn_begin(st->env, write ? batch_parent : NULL,
					 write ? 0 : MDB_RDONLY, t));
}

/* Commits on success, aborts otherwise; returns the final errno. */
static int txn_end(MDB_txn *t, int err)
{
	if (err) {
		mdb_txn_abort(t);
		return err;
	}
	return store_errno(mdb_txn_commit(t));
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
	if (k->mv_size < plen || memcmp(k->mv_data, start->mv_data, plen))
		return ENOENT;
	return 0;
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

/* ---- open/close ---- */

int modalfs_store_open(struct modalfs_store **out, const char *dir,
		       uint64_t map_size)
{
	struct modalfs_store *st;
	char lockpath[PATH_MAX];
	MDB_txn *t;
	int err, dead;
	struct {
		const char *name;
		MDB_dbi *dbi;
	} dbis[9];

	st = calloc(1, sizeof(*st));
	if (!st)
		return ENOMEM;
	st->lock_fd = -1;
	st->map_size = map_size ? map_size : MODALFS_STORE_DEFAULT_MAP;
	st->dir = strdup(dir);
	if (!st->dir) {
		err = ENOMEM;
		goto fail;
	}
	err = modalfs_mkdir_p(dir, 0700);
	if (err)
		goto fail;
	/* LMDB tolerates several processes; our volume logic does not. */
	snprintf(lockpath, sizeof(lockpath), "%s/modalfsd.lock", dir);
	st->lock_fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd < 0) {
		err = errno;
		goto fail;
	}
	if (flock(st->lock_fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? EBUSY : errno;
		goto fail;
	}
	err = store_errno(mdb_env_create(&st->env));
	if (err)
		goto fail;
	err = store_errno(mdb_env_set_maxdbs(st->env, 16));
	if (!err)
		err = store_errno(mdb_env_set_maxreaders(st->env, 510));
	if (!err)
		err = store_errno(mdb_env_set_mapsize(st->env, st->map_size));
	if (!err)
		err = store_errno(mdb_env_open(st->env, dir,
					       MDB_NOMETASYNC | MDB_NOTLS,
					       0600));
	if (err)
		goto fail;
	mdb_reader_check(st->env, &dead);

	dbis[0].name = "meta";     dbis[0].dbi = &st->meta;
	dbis[1].name = "volumes";  dbis[1].dbi = &st->volumes;
	dbis[2].name = "volids";   dbis[2].dbi = &st->volids;
	dbis[3].name = "inodes";   dbis[3].dbi = &st->inodes;
	dbis[4].name = "dirents";  dbis[4].dbi = &st->dirents;
	dbis[5].name = "dcookies"; dbis[5].dbi = &st->dcookies;
	dbis[6].name = "data";     dbis[6].dbi = &st->data;
	dbis[7].name = "symlinks"; dbis[7].dbi = &st->symlinks;
	dbis[8].name = "orphans";  dbis[8].dbi = &st->orphans;
	err = txn_begin(st, true, &t);
	if (err)
		goto fail;
	for (int i = 0; i < 9 && !err; i++)
		err = store_errno(mdb_dbi_open(t, dbis[i].name, MDB_CREATE,
					       dbis[i].dbi));
	err = txn_end(t, err);
	if (err)
		goto fail;
	*out = st;
	return 0;
fail:
	modalfs_store_close(st);
	return err;
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
		mdb_env_sync(st->env, 1);
		mdb_env_close(st->env);
	}
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st->dir);
	free(st);
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
		err = store_errno(mdb_cursor_get(c, &kk, &vv, MDB_NEXT));
		if (!err && (kk.mv_size < 8 || memcmp(kk.mv_data, k.b, 8)))
			err = ENOENT;
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
	return txn_end(t, err);
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
		return txn_end(t, err);
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
	return txn_end(t, err == ENOENT ? 0 : err);
}

int modalfs_store_statfs(struct modalfs_store *st, uint64_t vol,
			 struct modalfs_statfs *sf)
{
	char name[MODALFS_VOL_NAME_MAX + 1];
	struct volrec vr;
	struct statvfs sv;
	MDB_envinfo info;
	MDB_stat ms;
	MDB_txn *t;
	uint64_t total, used, avail, fsavail;
	int err;

	err = txn_begin(st, false, &t);
	if (err)
		return err;
	err = volrec_by_id(st, t, vol, name, &vr);
	mdb_txn_abort(t);
	if (err)
		return err;
	mdb_env_info(st->env, &info);
	mdb_env_stat(st->env, &ms);
	if (statvfs(st->dir, &sv))
		return errno;
	total = (uint64_t)sv.f_blocks * sv.f_frsize;
	fsavail = (uint64_t)sv.f_bavail * sv.f_frsize;
	used = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	if (total > st->map_size)
		total = st->map_size;
	avail = used < st->map_size ? st->map_size - used : 0;
	if (avail > fsavail)
		avail = fsavail;
	memset(sf, 0, sizeof(*sf));
	sf->bsize = ms.ms_psize;
	sf->blocks = total / ms.ms_psize;
	sf->bfree = sf->bavail = avail / ms.ms_psize;
	if (sf->bfree > sf->blocks)
		sf->blocks = sf->bfree;
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
	int err;

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
	return txn_end(t, err);
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
		err = store_errno(mdb_cursor_get(c, &kk, &vv, MDB_NEXT));
		if (!err && (kk.mv_size < 16 || memcmp(kk.mv_data, k.b, 16)))
			err = ENOENT;
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
	int err;

	err = txn_begin(st, true, &t);
	if (err)
		return err;
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
	return txn_end(t, err);
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
	int err;

	err = txn_begin(st, true, &t);
	if (err)
		return err;
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
	return txn_end(t, err);
}

static int remove_entry(struct modalfs_store *st, uint64_t vol, uint64_t dir,
			const char *name, bool isdir)
{
	struct inorec dr, r;
	struct dentrec d;
	MDB_txn *t;
	int err;

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
	return txn_end(t, err);
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
	err = txn_begin(st, true, &t);
	if (err)
		return err;
	err = do_rename(st, t, vol, dir, name, newdir, newname, flags);
	return txn_end(t, err);
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
	return txn_end(t, err);
}

int modalfs_store_fsync(struct modalfs_store *st, uint64_t vol, uint64_t ino,
			uint32_t flags)
{
	(void)vol;
	(void)ino;
	(void)flags;
	/* Commits are ordered, so syncing the env covers every earlier op. */
	return store_errno(mdb_env_sync(st->env, 1));
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
	return txn_end(t, err);
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
		for (r = batch; r; r = r->next) {
			if (perr) {
				r->err = perr;
				continue;
			}
			batch_parent = parent;
			r->fn(r->arg);
			batch_parent = NULL;
			r->err = 0;
		}
		if (!perr) {
			perr = store_errno(mdb_txn_commit(parent));
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
