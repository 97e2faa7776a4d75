// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The intent log: a WRITE changes in LMDB only the file's inode (times,
 * size, blocks), at most two block map entries (a WRITE spans at most two
 * objects), two counters and the duplicate-request cache. Committing that
 * costs at least three 4 KiB pages and a sync; instead the writer appends
 * one record (320 bytes) to STATE/intent.log before the reply, the way
 * ext4's journal or ZFS's ZIL take small synchronous changes. A kill -9
 * loses nothing: the host kernel holds what write(2) was given. FSYNC
 * syncs the log after the block store and LMDB.
 *
 * Records stay pending in memory until the next LMDB write transaction,
 * which folds them in first (ilog_fold, from txn_begin) and records in
 * meta "ilog" the (gen, lsn) of the last one folded, in the same
 * transaction. A start replays the records past that point (ilog_open).
 * After a fold that left nothing pending has been synced, the log is cut
 * to zero and its generation bumped (ilog_fold_done).
 *
 * A record carries the ctime the inode had before it (base). A fold or a
 * replay applies a record's times only if the inode still has that ctime:
 * a change that reached LMDB some other way since (a control-channel op;
 * after a power cut, an LMDB commit that was lost while the log record
 * survived) wins, and the record adds only its cache entry.
 *
 * Readers see pending changes through an overlay keyed by (vol, ino,
 * idx), idx 0 for the inode (ino_get applies it) and i + 1 for block map
 * entry i (map_get): a pending entry applies to every transaction, a
 * folded one only to snapshots older than the fold's transaction. A
 * folded entry is freed once no reader can hold such a snapshot (the
 * reader epoch in struct modalfs_store). The counters (data_blocks, a
 * volume's bytes) are LMDB's until the fold: space_check and statfs add
 * what is pending (ilog_pending_blocks), `modalfsctl list` folds first,
 * and the writer folds after a second without requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blocks.h"
#include "log.h"
#include "stats.h"
#include "store_priv.h"

#define ILOG_NAME "intent.log"
#define ILOG_MAGIC 0x4d494c31u	/* "MIL1" */
#define ILOG_VERSION 1
/* Pending records before a write is sent the LMDB way (forcing a fold). */
#define ILOG_PEND_MAX 1024
/* The log is cut once a fold left it this big and empty of pending. */
#define ILOG_ROTATE (1u << 20)

/* What a WRITE changes in its inode. */
struct ilog_attr {
	int64_t atime_sec, mtime_sec, ctime_sec;
	uint32_t atime_nsec, mtime_nsec, ctime_nsec, pad;
	uint64_t size, blocks;
};

static void attr_get(struct ilog_attr *a, const struct inorec *r)
{
	*a = (struct ilog_attr){
		.atime_sec = r->atime_sec, .atime_nsec = r->atime_nsec,
		.mtime_sec = r->mtime_sec, .mtime_nsec = r->mtime_nsec,
		.ctime_sec = r->ctime_sec, .ctime_nsec = r->ctime_nsec,
		.size = r->size, .blocks = r->blocks,
	};
}

static void attr_put(struct inorec *r, const struct ilog_attr *a)
{
	r->atime_sec = a->atime_sec;
	r->atime_nsec = a->atime_nsec;
	r->mtime_sec = a->mtime_sec;
	r->mtime_nsec = a->mtime_nsec;
	r->ctime_sec = a->ctime_sec;
	r->ctime_nsec = a->ctime_nsec;
	r->size = a->size;
	r->blocks = a->blocks;
}

struct ilog_rec {
	uint32_t magic;
	uint32_t version;
	uint64_t sum;		/* FNV-1a of the record with sum 0 */
	uint64_t gen, lsn;	/* strictly increasing through the file */
	uint64_t vol, ino;
	int64_t base_csec;
	uint32_t base_cnsec;
	uint32_t has_drc;
	struct ilog_attr a;	/* the inode's, after the write */
	uint32_t nmap, pad;
	struct ilog_map map[2];
	int64_t dbytes;		/* the volume's bytes grew by */
	int64_t dblocks;	/* data_blocks grew by */
	uint64_t req_id;
	struct modalfs_drc_reply rep;
};

/* An entry: idx 0 is the inode (times, size, blocks), i + 1 map entry i. */
struct ilog_ovl {
	struct ilog_ovl *next;
	uint64_t vol, ino, idx;
	struct ilog_attr a;
	struct maprec m;
	uint64_t lsn;		/* of the last record logged for it */
	uint64_t folded_lsn;	/* of the last record folded */
	uint64_t fold_txnid;	/* the transaction that folded it */
	uint64_t stamp;		/* reader epoch after that commit; 0: none */
	struct ilog_ovl *dnext;	/* on the list of folded entries */
	bool deferred;
};

struct ilog_pos {
	uint64_t gen, lsn;
};

_Static_assert(sizeof(struct ilog_rec) == 320, "the on-disk record");
_Static_assert(MODALFS_IO_MAX <= MODALFS_OBJ_SIZE,
	       "a WRITE spans at most two objects");

static const char ilog_key[] = "ilog";

static uint64_t rec_sum(const struct ilog_rec *rec)
{
	struct ilog_rec c = *rec;
	const unsigned char *p = (const unsigned char *)&c;
	uint64_t h = 0xcbf29ce484222325ull;

	c.sum = 0;
	for (size_t i = 0; i < sizeof(c); i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static size_t ovl_slot(const struct ilog *l, uint64_t vol, uint64_t ino,
		       uint64_t idx)
{
	uint64_t h = (vol * 0x9e3779b97f4a7c15ull) ^
		     (ino * 0xc2b2ae3d27d4eb4full) ^ (idx * 0x165667b19e3779f9ull);

	return (h ^ (h >> 29)) & (l->tabsz - 1);
}

/* Under l->lock. */
static struct ilog_ovl *ovl_find(struct ilog *l, uint64_t vol, uint64_t ino,
				 uint64_t idx)
{
	struct ilog_ovl *e;

	if (!l->tabsz)
		return NULL;
	for (e = l->tab[ovl_slot(l, vol, ino, idx)]; e; e = e->next)
		if (e->vol == vol && e->ino == ino && e->idx == idx)
			return e;
	return NULL;
}

/* Under l->lock: doubles the table once it holds as many as its slots. */
static int ovl_grow(struct ilog *l)
{
	size_t osz = l->tabsz, nsz = osz ? 2 * osz : 256;
	struct ilog_ovl **old = l->tab, **nt = calloc(nsz, sizeof(*nt));

	if (!nt)
		return ENOMEM;
	l->tab = nt;
	l->tabsz = nsz;
	for (size_t i = 0; i < osz; i++) {
		struct ilog_ovl *e = old[i], *nx;

		for (; e; e = nx) {
			size_t s = ovl_slot(l, e->vol, e->ino, e->idx);

			nx = e->next;
			e->next = nt[s];
			nt[s] = e;
		}
	}
	free(old);
	return 0;
}

/* Under l->lock: unhooks e from its hash chain and frees it. */
static void ovl_free(struct ilog *l, struct ilog_ovl *e)
{
	struct ilog_ovl **pp = &l->tab[ovl_slot(l, e->vol, e->ino, e->idx)];

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	free(e);
	__atomic_sub_fetch(&l->novl, 1, __ATOMIC_RELAXED);
}

/*
 * Under l->lock: frees folded entries no reader can need any more (see
 * struct modalfs_store's epoch). Only the folded ones are visited (the
 * list l->deferred), not the table: a fold per batch must not cost a
 * pass over every entry.
 */
static void ovl_sweep(struct ilog *l, uint64_t quiet)
{
	struct ilog_ovl **pp = &l->deferred, *e;

	while ((e = *pp)) {
		bool pending = e->lsn > e->folded_lsn;

		if (!pending && e->stamp > quiet) {
			pp = &e->dnext;
			continue;
		}
		/* Gone, or pending again: its next fold lists it again. */
		*pp = e->dnext;
		e->deferred = false;
		if (!pending)
			ovl_free(l, e);
	}
}

/* Under l->lock: whether e holds what t's snapshot does not. */
static bool ovl_applies(const struct ilog_ovl *e, MDB_txn *t)
{
	return e->lsn > e->folded_lsn || mdb_txn_id(t) < e->fold_txnid;
}

void ilog_overlay(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		  uint64_t ino, struct inorec *r)
{
	struct ilog *l = &st->ilog;
	struct ilog_ovl *e;

	if (!__atomic_load_n(&l->novl, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&l->lock);
	e = ovl_find(l, vol, ino, 0);
	if (e && ovl_applies(e, t)) {
		attr_put(r, &e->a);
	}
	pthread_mutex_unlock(&l->lock);
}

bool ilog_map_overlay(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		      uint64_t ino, uint64_t idx, struct maprec *m)
{
	struct ilog *l = &st->ilog;
	struct ilog_ovl *e;
	bool found = false;

	if (!__atomic_load_n(&l->novl, __ATOMIC_ACQUIRE))
		return false;
	pthread_mutex_lock(&l->lock);
	e = ovl_find(l, vol, ino, idx + 1);
	if (e && ovl_applies(e, t)) {
		*m = e->m;
		found = true;
	}
	pthread_mutex_unlock(&l->lock);
	return found;
}

uint64_t ilog_pending_blocks(struct modalfs_store *st)
{
	struct ilog *l = &st->ilog;
	int64_t n;

	pthread_mutex_lock(&l->lock);
	n = l->pend_dblocks - l->folding_dblocks;
	pthread_mutex_unlock(&l->lock);
	return n > 0 ? (uint64_t)n : 0;
}

bool ilog_pending(struct modalfs_store *st)
{
	struct ilog *l = &st->ilog;
	bool any;

	pthread_mutex_lock(&l->lock);
	any = l->npend > 0;
	pthread_mutex_unlock(&l->lock);
	return any;
}

bool ilog_may_log(struct modalfs_store *st)
{
	return st->ilog.fd >= 0 && st->ilog.npend < ILOG_PEND_MAX;
}

bool ilog_drc_find(struct modalfs_store *st, struct modalfs_drc *d)
{
	struct ilog *l = &st->ilog;
	bool found = false;

	if (l->fd < 0)
		return false;
	pthread_mutex_lock(&l->lock);
	for (size_t i = l->npend; i-- > 0 && !found;) {
		const struct ilog_rec *rec = &l->pend[i];

		if (rec->has_drc && rec->req_id == d->req_id &&
		    rec->rep.fp == d->fp) {
			d->rep = rec->rep;
			found = true;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return found;
}

/* The overlay key of rec's entry j: 0 its inode, j its map entry j - 1. */
static uint64_t rec_key(const struct ilog_rec *rec, uint32_t j)
{
	return j ? rec->map[j - 1].idx + 1 : 0;
}

/* Under l->lock: e for (vol, ino, idx), made if missing; NULL: ENOMEM. */
static struct ilog_ovl *ovl_get(struct ilog *l, uint64_t vol, uint64_t ino,
				uint64_t idx)
{
	struct ilog_ovl *e = ovl_find(l, vol, ino, idx);
	size_t s;

	if (e)
		return e;
	if (l->novl >= l->tabsz && ovl_grow(l))
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->vol = vol;
	e->ino = ino;
	e->idx = idx;
	s = ovl_slot(l, vol, ino, idx);
	e->next = l->tab[s];
	l->tab[s] = e;
	__atomic_add_fetch(&l->novl, 1, __ATOMIC_RELEASE);
	return e;
}

int ilog_append(struct modalfs_store *st, uint64_t vol, uint64_t ino,
		int64_t base_csec, uint32_t base_cnsec,
		const struct inorec *r, const struct ilog_map *map,
		uint32_t nmap, int64_t dbytes, int64_t dblocks,
		const struct modalfs_drc *d)
{
	struct ilog *l = &st->ilog;
	struct ilog_ovl *e[3] = { NULL };
	struct ilog_rec rec;
	ssize_t n;
	int err = 0;

	if (nmap > 2)
		return EINVAL;
	memset(&rec, 0, sizeof(rec));
	rec.magic = ILOG_MAGIC;
	rec.version = ILOG_VERSION;
	rec.gen = l->gen;
	rec.lsn = l->lsn + 1;
	rec.vol = vol;
	rec.ino = ino;
	rec.base_csec = base_csec;
	rec.base_cnsec = base_cnsec;
	attr_get(&rec.a, r);
	rec.nmap = nmap;
	for (uint32_t i = 0; i < nmap; i++)
		rec.map[i] = map[i];
	rec.dbytes = dbytes;
	rec.dblocks = dblocks;
	if (d) {
		rec.has_drc = 1;
		rec.req_id = d->req_id;
		rec.rep.version = DRC_VERSION;
		rec.rep.fp = d->fp;
		if (d->attr) {
			rec.rep.flags |= MODALFS_DRC_ATTR;
			rec.rep.attr = *d->attr;
		}
		if (d->size) {
			rec.rep.flags |= MODALFS_DRC_SIZE;
			rec.rep.size = *d->size;
		}
	}
	rec.sum = rec_sum(&rec);

	/* Room first, so that a logged record always gets its entries. */
	pthread_mutex_lock(&l->lock);
	if (l->npend == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct ilog_rec *p = realloc(l->pend, cap * sizeof(*p));

		if (p) {
			l->pend = p;
			l->cap = cap;
		} else {
			err = ENOMEM;
		}
	}
	for (uint32_t i = 0; i <= nmap && !err; i++)
		if (!(e[i] = ovl_get(l, vol, ino, rec_key(&rec, i))))
			err = ENOMEM;
	pthread_mutex_unlock(&l->lock);
	if (err)
		return err;

	n = pwrite(l->fd, &rec, sizeof(rec), l->size);
	if (n != (ssize_t)sizeof(rec)) {
		/* A torn record ends the log at replay; write over it. */
		modalfs_err("intent log: write: %s",
			    n < 0 ? strerror(errno) : "short write");
		return EIO;
	}
	l->size += sizeof(rec);
	l->lsn = rec.lsn;
	l->logged++;
	__atomic_add_fetch(&l->appended, 1, __ATOMIC_RELEASE);
	modalfs_stats_meta_bytes(st->stats, sizeof(rec));

	pthread_mutex_lock(&l->lock);
	l->pend[l->npend++] = rec;
	l->pend_dblocks += dblocks;
	e[0]->a = rec.a;
	for (uint32_t i = 0; i <= nmap; i++) {
		if (i)
			e[i]->m = map[i - 1].m;
		e[i]->lsn = rec.lsn;
	}
	pthread_mutex_unlock(&l->lock);
	return 0;
}

/*
 * Applies one record to t: its times if the inode still has the ctime it
 * was logged over, and its cache entry.
 */
static int rec_apply(struct modalfs_store *st, MDB_txn *t,
		     const struct ilog_rec *rec)
{
	struct inorec r;
	struct key k;
	int err = rec_get(t, st->db[DB_INODES], key2(&k, rec->vol, rec->ino),
			  &r, sizeof(r), ESTALE);

	if (!err && r.ctime_sec == rec->base_csec &&
	    r.ctime_nsec == rec->base_cnsec) {
		attr_put(&r, &rec->a);
		err = ino_put(st, t, rec->vol, rec->ino, &r);
		for (uint32_t i = 0; i < rec->nmap && i < 2 && !err; i++)
			err = map_put(st, t, rec->vol, rec->ino,
				      rec->map[i].idx, &rec->map[i].m);
		if (!err && rec->dbytes)
			err = volstat_add(st, t, rec->vol, rec->dbytes, 0);
		if (!err)
			err = data_blocks_add(st, t, rec->dblocks);
	} else if (err == ESTALE) {
		err = 0;	/* freed since */
	}
	if (!err && rec->has_drc) {
		struct modalfs_drc d = {
			.req_id = rec->req_id,
			.fp = rec->rep.fp,
			.attr = (rec->rep.flags & MODALFS_DRC_ATTR) ?
				&rec->rep.attr : NULL,
			.size = (rec->rep.flags & MODALFS_DRC_SIZE) ?
				&rec->rep.size : NULL,
		};

		err = drc_record(st, t, &d);
	}
	return err;
}

static int pos_put(struct modalfs_store *st, MDB_txn *t, uint64_t gen,
		   uint64_t lsn)
{
	struct ilog_pos p = { gen, lsn };
	MDB_val k = { sizeof(ilog_key) - 1, (void *)ilog_key };
	MDB_val v = { sizeof(p), &p };

	return store_errno(mdb_put(t, st->db[DB_META], &k, &v, 0));
}

/*
 * Whether this thread holds fold_lock. Another thread's fold may still
 * be ending (its commit released LMDB's lock before ilog_fold_done), so
 * "someone folds" is not enough.
 */
static bool folding_mine(struct ilog *l)
{
	return __atomic_load_n(&l->folding, __ATOMIC_ACQUIRE) &&
	       pthread_equal(__atomic_load_n(&l->folder, __ATOMIC_RELAXED),
			     pthread_self());
}

/*
 * Right after a top-level write transaction began: waits until no other
 * thread's fold is between its commit (or failure) and ilog_fold_done.
 * A failed transaction's id is reused by the next one, so without this a
 * write transaction could take entries marked as folded into its own id
 * for folded, while they are pending again.
 */
void ilog_begun(struct modalfs_store *st)
{
	struct ilog *l = &st->ilog;

	if (l->fd < 0 || folding_mine(l))
		return;
	pthread_mutex_lock(&l->fold_lock);
	pthread_mutex_unlock(&l->fold_lock);
}

int ilog_fold(struct modalfs_store *st, MDB_txn *t)
{
	struct ilog *l = &st->ilog;
	size_t from, to;
	uint64_t txnid;
	int err = 0;

	if (l->fd < 0 || l->npend == l->nfolding)
		return 0;
	if (!folding_mine(l)) {
		pthread_mutex_lock(&l->fold_lock);
		__atomic_store_n(&l->folder, pthread_self(), __ATOMIC_RELAXED);
		__atomic_store_n(&l->folding, true, __ATOMIC_RELEASE);
		/* Another fold ended before this one could start. */
		if (l->npend == l->nfolding)
			return 0;
	}
	from = l->nfolding;
	to = l->npend;
	txnid = mdb_txn_id(t);
	for (size_t i = from; i < to && !err; i++)
		err = rec_apply(st, t, &l->pend[i]);
	if (!err)
		err = pos_put(st, t, l->pend[to - 1].gen, l->pend[to - 1].lsn);
	if (err)
		return err;
	pthread_mutex_lock(&l->lock);
	for (size_t i = from; i < to; i++) {
		const struct ilog_rec *rec = &l->pend[i];

		for (uint32_t j = 0; j <= rec->nmap; j++) {
			struct ilog_ovl *e = ovl_find(l, rec->vol, rec->ino,
						      rec_key(rec, j));

			if (e && e->folded_lsn < rec->lsn) {
				e->folded_lsn = rec->lsn;
				e->fold_txnid = txnid;
				e->stamp = UINT64_MAX;
			}
		}
		l->folding_dblocks += rec->dblocks;
	}
	l->nfolding = to;
	pthread_mutex_unlock(&l->lock);
	l->folds++;
	st->wchanged = true;
	return 0;
}

/* After a fold left nothing pending and is synced: an empty log. */
static void ilog_cut(struct modalfs_store *st)
{
	struct ilog *l = &st->ilog;

	if (mdb_env_sync(st->env, 1))
		return;
	if (ftruncate(l->fd, 0)) {
		modalfs_err("intent log: truncate: %s", strerror(errno));
		return;
	}
	l->gen++;
	l->lsn = 0;
	l->size = 0;
}

/*
 * The writer, between batches (it is the only thread that appends): cuts
 * a big log once nothing in it is pending.
 */
void ilog_maybe_cut(struct modalfs_store *st)
{
	struct ilog *l = &st->ilog;
	size_t n;

	if (l->fd < 0 || l->size < ILOG_ROTATE)
		return;
	pthread_mutex_lock(&l->lock);
	n = l->npend;
	pthread_mutex_unlock(&l->lock);
	if (!n)
		ilog_cut(st);
}

void ilog_fold_done(struct modalfs_store *st, bool ok)
{
	struct ilog *l = &st->ilog;
	uint64_t stamp, quiet;
	size_t n;

	if (!folding_mine(l))
		return;
	pthread_mutex_lock(&st->rlock);
	stamp = ++st->epoch;
	if (!st->ractive)
		st->quiet = st->epoch;
	quiet = st->quiet;
	pthread_mutex_unlock(&st->rlock);

	pthread_mutex_lock(&l->lock);
	n = l->nfolding;
	for (size_t i = 0; i < n; i++) {
		const struct ilog_rec *rec = &l->pend[i];

		for (uint32_t j = 0; j <= rec->nmap; j++) {
			struct ilog_ovl *e = ovl_find(l, rec->vol, rec->ino,
						      rec_key(rec, j));

			if (!e || e->stamp != UINT64_MAX)
				continue;
			if (ok) {
				e->stamp = stamp;
				if (!e->deferred) {
					e->deferred = true;
					e->dnext = l->deferred;
					l->deferred = e;
				}
			} else {
				/* Not in LMDB after all: pending again. */
				e->folded_lsn = 0;
				e->fold_txnid = 0;
				e->stamp = 0;
			}
		}
	}
	if (ok) {
		memmove(l->pend, l->pend + n,
			(l->npend - n) * sizeof(*l->pend));
		l->npend -= n;
		l->pend_dblocks -= l->folding_dblocks;
		ovl_sweep(l, quiet);
	}
	l->folding_dblocks = 0;
	l->nfolding = 0;
	pthread_mutex_unlock(&l->lock);
	__atomic_store_n(&l->folding, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&l->fold_lock);
}

int ilog_sync(struct modalfs_store *st)
{
	struct ilog *l = &st->ilog;
	uint64_t n = __atomic_load_n(&l->appended, __ATOMIC_ACQUIRE);
	uint64_t done = __atomic_load_n(&l->synced, __ATOMIC_ACQUIRE);

	if (l->fd < 0 || n == done)
		return 0;
	if (fdatasync(l->fd))
		return errno;
	while (done < n &&
	       !__atomic_compare_exchange_n(&l->synced, &done, n, true,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
	return 0;
}

/*
 * Replays what the last daemon logged and did not fold: every record past
 * meta "ilog", in one transaction, which is synced before the log is cut.
 */
int ilog_open(struct modalfs_store *st)
{
	struct ilog *l = &st->ilog;
	char path[PATH_MAX];
	struct ilog_pos pos = { 0, 0 };
	struct ilog_rec rec;
	uint64_t pgen = 0, plsn = 0, applied = 0, off = 0;
	MDB_val k = { sizeof(ilog_key) - 1, (void *)ilog_key };
	MDB_txn *t = NULL;
	int err, fd;

	snprintf(path, sizeof(path), "%s/%s", st->dir, ILOG_NAME);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		modalfs_err("intent log %s: %s", path, strerror(errno));
		return errno;
	}
	err = txn_begin(st, NULL, true, &t);
	if (err) {
		close(fd);
		return err;
	}
	err = rec_get(t, st->db[DB_META], &k, &pos, sizeof(pos), ENOENT);
	if (err == ENOENT)
		err = 0;
	while (!err && pread(fd, &rec, sizeof(rec), off) == sizeof(rec)) {
		/* A torn or stale tail ends the log. */
		if (rec.magic != ILOG_MAGIC || rec.version != ILOG_VERSION ||
		    rec.sum != rec_sum(&rec) || rec.gen < pgen ||
		    (rec.gen == pgen && rec.lsn <= plsn))
			break;
		pgen = rec.gen;
		plsn = rec.lsn;
		off += sizeof(rec);
		if (rec.gen < pos.gen ||
		    (rec.gen == pos.gen && rec.lsn <= pos.lsn))
			continue;
		err = rec_apply(st, t, &rec);
		if (!err)
			err = pos_put(st, t, rec.gen, rec.lsn);
		applied++;
	}
	err = txn_end(st, NULL, t, err);
	if (!err)
		err = store_errno(mdb_env_sync(st->env, 1));
	if (!err && ftruncate(fd, 0))
		err = errno;
	if (err) {
		close(fd);
		return err;
	}
	if (applied)
		modalfs_info("applied %llu records of the intent log",
			     (unsigned long long)applied);
	l->gen = (pgen > pos.gen ? pgen : pos.gen) + 1;
	l->lsn = 0;
	l->size = 0;
	l->fd = fd;
	return 0;
}

/* Folds what is pending (the writer has stopped) and cuts the log. */
void ilog_close(struct modalfs_store *st)
{
	struct ilog *l = &st->ilog;
	MDB_txn *t;

	if (l->fd < 0)
		return;
	if (l->npend && !txn_begin(st, NULL, true, &t))
		txn_end(st, NULL, t, 0);
	if (l->logged)
		modalfs_info("the intent log took %llu writes, folded in %llu commits",
			     (unsigned long long)l->logged,
			     (unsigned long long)l->folds);
	if (!l->npend)
		ilog_cut(st);
	close(l->fd);
	l->fd = -1;
	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < l->tabsz; i++) {
		struct ilog_ovl *e, *nx;

		for (e = l->tab[i]; e; e = nx) {
			nx = e->next;
			free(e);
		}
	}
	free(l->tab);
	free(l->pend);
	l->tab = NULL;
	l->pend = NULL;
	l->deferred = NULL;
	l->tabsz = l->novl = l->npend = l->cap = 0;
	pthread_mutex_unlock(&l->lock);
}
