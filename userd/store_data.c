// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The block map: which objects of the block store (blocks.h) hold a
 * file's data and how many bytes of each are valid; read, write, truncate
 * and fsync. See the schema in store_txn.c.
 *
 * Order: a WRITE puts its bytes into the block store first, then commits
 * the map and the inode, so a committed map never names bytes that were
 * not written (a kill between the two leaves bytes past an object's valid
 * length, which reads never return, or a stray object, removed at the next
 * start). Truncation and freeing work the other way round: the map shrinks
 * in the transaction and the objects are cut after it committed (cuts).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "blocks.h"
#include "stats.h"
#include "store_priv.h"

static const char data_blocks_key[] = "data_blocks";

/*
 * Store-wide 512-byte units of file data (meta "data_blocks"), which
 * counts against the store's size limit (space_check) beside the map.
 */
int data_blocks_get(struct modalfs_store *st, MDB_txn *t, uint64_t *n)
{
	MDB_val k = { sizeof(data_blocks_key) - 1, (void *)data_blocks_key };
	int err = rec_get(t, st->db[DB_META], &k, n, sizeof(*n), ENOENT);

	if (err == ENOENT) {
		*n = 0;
		return 0;
	}
	return err;
}

int data_blocks_add(struct modalfs_store *st, MDB_txn *t, int64_t delta)
{
	MDB_val k = { sizeof(data_blocks_key) - 1, (void *)data_blocks_key };
	MDB_val v;
	uint64_t n;
	int err;

	if (!delta)
		return 0;
	err = data_blocks_get(st, t, &n);
	if (err)
		return err;
	n = delta < 0 && (uint64_t)-delta > n ? 0 : n + delta;
	v.mv_size = sizeof(n);
	v.mv_data = &n;
	return store_errno(mdb_put(t, st->db[DB_META], &k, &v, 0));
}

/* ino's entry for object idx; a missing one is all zeros (a hole). */
int map_get(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
	    uint64_t ino, uint64_t idx, struct maprec *m)
{
	struct key k;
	int err = rec_get(t, st->db[DB_BLOCKMAP], key3(&k, vol, ino, idx), m,
			  sizeof(*m), ENOENT);

	if ((!err || err == ENOENT) &&
	    ilog_map_overlay(st, t, vol, ino, idx, m))
		err = 0;
	if (err == ENOENT) {
		memset(m, 0, sizeof(*m));
		return 0;
	}
	return !err && m->len > MODALFS_OBJ_SIZE ? EIO : err;
}

int map_put(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
	    uint64_t ino, uint64_t idx, const struct maprec *m)
{
	MDB_val v = { .mv_size = sizeof(*m), .mv_data = (void *)m };
	struct key k;

	return store_errno(mdb_put(t, st->db[DB_BLOCKMAP],
				   key3(&k, vol, ino, idx), &v, 0));
}

int cuts_add(struct cuts *c, uint64_t vol, uint64_t ino, uint64_t idx,
	     uint32_t len)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct cut *p = realloc(c->v, cap * sizeof(*p));

		if (!p)
			return ENOMEM;
		c->v = p;
		c->cap = cap;
	}
	c->v[c->n++] = (struct cut){ vol, ino, idx, len };
	return 0;
}

/*
 * Applies the cuts of a committed transaction to the block store and
 * frees the list. A failure leaves a stray or over-long object, which
 * reads never return and the next start removes; it is logged by the
 * caller's counters only.
 */
void cuts_apply(struct modalfs_store *st, struct cuts *c)
{
	for (size_t i = 0; i < c->n; i++)
		st->blocks->ops->truncate(st->blocks, c->v[i].vol, c->v[i].ino,
					  c->v[i].idx, c->v[i].len);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/*
 * Drops ino's map from byte size on: entries wholly past it go (cut to
 * 0), the one it falls in is shortened; r->blocks and the store's data
 * count follow. The objects themselves are cut after the commit.
 */
int map_cut(struct modalfs_store *st, MDB_txn *t, uint64_t vol, uint64_t ino,
	    struct inorec *r, uint64_t size, struct cuts *c)
{
	uint64_t from = size / MODALFS_OBJ_SIZE, freed = 0;
	uint32_t keep = size % MODALFS_OBJ_SIZE;
	MDB_cursor *cur;
	struct key k;
	MDB_val kk, vv;
	int err = store_errno(mdb_cursor_open(t, st->db[DB_BLOCKMAP], &cur));

	if (err)
		return err;
	/* Re-seek after each change: simple and immune to cursor quirks. */
	while (!(err = first_with_prefix(cur, key3(&k, vol, ino, from), 16,
					 &kk, &vv))) {
		uint64_t idx = kget(&kk, 16);
		struct maprec m;

		if (kk.mv_size != 24 || vv.mv_size != sizeof(m)) {
			err = EIO;
			break;
		}
		memcpy(&m, vv.mv_data, sizeof(m));
		from = idx + 1;
		if (idx == size / MODALFS_OBJ_SIZE && keep) {
			if (m.len <= keep)
				continue;
			/* What the cut leaves allocated, at most. */
			m.len = keep;
			if (m.alloc > blocks512(keep)) {
				freed += m.alloc - blocks512(keep);
				m.alloc = blocks512(keep);
			}
			err = map_put(st, t, vol, ino, idx, &m);
			if (!err)
				err = cuts_add(c, vol, ino, idx, keep);
		} else {
			freed += m.alloc;
			err = store_errno(mdb_cursor_del(cur, 0));
			if (!err)
				err = cuts_add(c, vol, ino, idx, 0);
		}
		if (err)
			break;
	}
	mdb_cursor_close(cur);
	if (err != ENOENT)
		return err;
	r->blocks = r->blocks > freed ? r->blocks - freed : 0;
	return data_blocks_add(st, t, -(int64_t)freed);
}

int modalfs_store_read(struct modalfs_store *st, uint64_t vol, uint64_t ino,
		       uint64_t off, size_t len, void *buf, size_t *got)
{
	struct modalfs_blocks *b = st->blocks;
	struct inorec r;
	MDB_txn *t;
	size_t done = 0;
	int err;

	*got = 0;
	err = txn_begin(st, NULL, false, &t);
	if (err)
		return err;
	err = reg_get(st, t, vol, ino, &r);
	if (err || off >= r.size)
		goto out;
	if (len > r.size - off)
		len = r.size - off;
	while (!err && done < len) {
		uint64_t pos = off + done;
		uint64_t idx = pos / MODALFS_OBJ_SIZE;
		uint32_t in = pos % MODALFS_OBJ_SIZE;
		size_t n = MODALFS_OBJ_SIZE - in, have = 0;
		struct maprec m;

		if (n > len - done)
			n = len - done;
		err = map_get(st, t, vol, ino, idx, &m);
		if (!err && m.len > in) {
			have = m.len - in < n ? m.len - in : n;
			err = b->ops->read(b, vol, ino, idx, in,
					   (char *)buf + done, have);
		}
		/* Bytes past the valid length are stale or never written. */
		memset((char *)buf + done + have, 0, n - have);
		done += n;
	}
	if (!err)
		*got = done;
out:
	txn_read_end(st, t);
	return err;
}

int modalfs_store_write(struct modalfs_store *st, struct modalfs_txc *tx,
			uint64_t vol, uint64_t ino,
			uint64_t off, const void *buf, size_t len,
			struct modalfs_iattr *attr)
{
	return modalfs_store_write_attrs(st, tx, vol, ino, off, buf, len, NULL,
					 attr);
}

/*
 * Writes the part of a WRITE that falls in one object: n bytes at byte
 * pos of the file (not past the object's end), read through t. *m is set
 * to the object's map entry after the write; *changed says whether it
 * differs from before (the caller records it), *added how many 512-byte
 * units the object grew by.
 */
static int write_object(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
			uint64_t ino, uint64_t pos, const void *buf, size_t n,
			struct maprec *m, bool *changed, int64_t *added)
{
	struct modalfs_blocks *b = st->blocks;
	uint64_t idx = pos / MODALFS_OBJ_SIZE, alloc;
	uint32_t in = pos % MODALFS_OBJ_SIZE;
	int err = map_get(st, t, vol, ino, idx, m);

	/*
	 * Past the valid length the object may hold stale bytes (a cut a
	 * crash interrupted, a write that did not commit): drop them, so
	 * that the gap reads as a hole.
	 */
	if (!err && in > m->len)
		err = b->ops->truncate(b, vol, ino, idx, m->len);
	if (!err)
		err = b->ops->write(b, vol, ino, idx, in, buf, n, &alloc);
	if (err)
		return err;
	*changed = in + n > m->len || alloc != m->alloc;
	*added = (int64_t)alloc - (int64_t)m->alloc;
	if (*changed) {
		m->version = REC_VERSION;
		m->len = in + n > m->len ? in + n : m->len;
		m->alloc = alloc;
	}
	modalfs_stats_block_bytes(st->stats, n);
	return 0;
}

/*
 * A WRITE of a batch goes to the intent log instead of LMDB
 * (store_ilog.c): the same steps as below, read through the batch's
 * transaction and the log's overlay, with the result appended to the log.
 * EAGAIN: it cannot be logged and the caller runs it the LMDB way.
 */
static int write_logged(struct modalfs_store *st, struct modalfs_txc *tx,
			uint64_t vol, uint64_t ino, uint64_t off,
			const void *buf, size_t len,
			const struct modalfs_setattr *sa,
			struct modalfs_iattr *attr)
{
	MDB_txn *t = tx->batch;
	struct ilog_map map[2];
	struct modalfs_iattr a;
	struct inorec r;
	int64_t csec, added = 0, dbytes = 0;
	uint32_t cnsec, nmap = 0;
	size_t done = 0;
	int err;

	/* A replay sets times, size and the map, nothing else. */
	if (sa && (sa->valid & ~(MODALFS_SET_ATIME | MODALFS_SET_MTIME |
				 MODALFS_SET_CTIME)))
		return EAGAIN;
	if (!ilog_may_log(st))
		return EAGAIN;
	err = drc_check(st, t, tx);
	if (!err)
		err = space_check(st, tx, t, len, 0);
	if (!err)
		err = reg_get(st, t, vol, ino, &r);
	while (!err && done < len) {
		uint64_t pos = off + done;
		size_t n = MODALFS_OBJ_SIZE - pos % MODALFS_OBJ_SIZE;
		int64_t grew;
		bool changed;

		if (n > len - done)
			n = len - done;
		if (nmap == 2)
			return EAGAIN;	/* not from the kernel (IO_MAX) */
		err = write_object(st, t, vol, ino, pos,
				   (const char *)buf + done, n, &map[nmap].m,
				   &changed, &grew);
		if (!err && changed) {
			added += grew;
			map[nmap++].idx = pos / MODALFS_OBJ_SIZE;
		}
		done += n;
	}
	if (err)
		return err;
	if (off + len > r.size) {
		dbytes = off + len - r.size;
		r.size = off + len;
	}
	r.blocks = (int64_t)r.blocks + added > 0 ? r.blocks + added : 0;
	csec = r.ctime_sec;
	cnsec = r.ctime_nsec;
	touch_mc(&r);
	if (sa)
		inorec_setattr(&r, sa);
	to_attr(ino, &r, attr ? attr : &a);
	err = ilog_append(st, vol, ino, csec, cnsec, &r, map, nmap, dbytes,
			  added, tx->drc);
	if (!err && tx->drc)
		tx->drc_done = true;
	return err;
}

int modalfs_store_write_attrs(struct modalfs_store *st,
			      struct modalfs_txc *tx, uint64_t vol,
			      uint64_t ino, uint64_t off, const void *buf,
			      size_t len, const struct modalfs_setattr *sa,
			      struct modalfs_iattr *attr)
{
	struct inorec r;
	MDB_txn *t;
	int64_t added = 0;
	size_t done = 0;
	int err;

	if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off)
		return EFBIG;
	if (sa && ((sa->valid & MODALFS_SET_SIZE) ||
		   ((sa->valid & MODALFS_SET_ATIME) &&
		    sa->atime_nsec >= 1000000000) ||
		   ((sa->valid & MODALFS_SET_MTIME) &&
		    sa->mtime_nsec >= 1000000000) ||
		   ((sa->valid & MODALFS_SET_CTIME) &&
		    sa->ctime_nsec >= 1000000000)))
		return EINVAL;
	if (tx && tx->batch && len) {
		err = write_logged(st, tx, vol, ino, off, buf, len, sa, attr);
		if (err != EAGAIN)
			return err;
	}
	/* Even an empty write answers with the inode, so it reads it. */
	err = txn_begin(st, tx, true, &t);
	if (err)
		return err;
	err = len ? space_check(st, tx, t, len, 0) : 0;
	if (!err)
		err = reg_get(st, t, vol, ino, &r);
	while (!err && done < len) {
		uint64_t pos = off + done;
		size_t n = MODALFS_OBJ_SIZE - pos % MODALFS_OBJ_SIZE;
		struct maprec m;
		int64_t grew;
		bool changed;

		if (n > len - done)
			n = len - done;
		err = write_object(st, t, vol, ino, pos,
				   (const char *)buf + done, n, &m, &changed,
				   &grew);
		if (!err && changed) {
			added += grew;
			err = map_put(st, t, vol, ino, pos / MODALFS_OBJ_SIZE,
				      &m);
		}
		done += n;
	}
	if (!err && len && off + len > r.size) {
		err = volstat_add(st, t, vol, off + len - r.size, 0);
		r.size = off + len;
	}
	if (!err && (len || sa)) {
		r.blocks = (int64_t)r.blocks + added > 0 ? r.blocks + added : 0;
		if (len)
			touch_mc(&r);
		/* After the stamp: the kernel's times win. */
		if (sa)
			inorec_setattr(&r, sa);
		err = ino_put(st, t, vol, ino, &r);
	}
	if (!err)
		err = data_blocks_add(st, t, added);
	if (!err && attr)
		to_attr(ino, &r, attr);
	return txn_end(st, tx, t, err);
}

/*
 * Data first, then the metadata that points at it: the block store's
 * sync, then the environment's. Commits are ordered, so syncing both
 * covers every earlier acknowledged op of every volume.
 *
 * The environment is synced only when something was committed since the
 * last sync began: commit_gen is read before the sync, so every commit
 * it counts wrote its meta page before the sync started, and a later
 * FSYNC that finds synced_gen equal to commit_gen has nothing left to
 * make durable (an acknowledged op's commit was counted before its
 * reply). The block store skips its own sync the same way.
 */
int modalfs_store_fsync(struct modalfs_store *st, uint64_t vol, uint64_t ino,
			uint32_t flags)
{
	uint64_t gen = __atomic_load_n(&st->commit_gen, __ATOMIC_ACQUIRE);
	uint64_t done;
	int err;

	(void)vol;
	(void)ino;
	(void)flags;
	err = st->blocks->ops->sync(st->blocks);
	if (!err && gen != __atomic_load_n(&st->synced_gen, __ATOMIC_ACQUIRE)) {
		err = store_errno(mdb_env_sync(st->env, 1));
		done = __atomic_load_n(&st->synced_gen, __ATOMIC_RELAXED);
		/* Concurrent FSYNCs: the newest count synced wins. */
		while (!err && done < gen &&
		       !__atomic_compare_exchange_n(&st->synced_gen, &done, gen,
						    true, __ATOMIC_RELEASE,
						    __ATOMIC_RELAXED))
			;
	}
	/* The log last: its records name inodes the commits made. */
	if (!err)
		err = ilog_sync(st);
	if (!err)
		modalfs_stats_sync(st->stats);
	return err;
}
