// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Store formats and start-up repair.
 *
 * Format 1 (modalfs 0.1) kept file data in LMDB itself, in a DBI "data" of
 * 64 KiB values keyed (vol, ino, block). Format 2 keeps it in the block
 * store (blocks.h) with a block map in LMDB. modalfsd converts a format-1
 * store when it opens it, before it serves anything: in bounded steps,
 * each one writing a batch of blocks into their objects, syncing the block
 * store, then committing the map entries together with the removal of the
 * old values. A crash at any point leaves every byte in one of the two
 * places, and the next start carries on. The old DBI is dropped and the
 * "format" key written last.
 *
 * Reconciliation: after a crash (no clean mark, see store_open.c) objects
 * that no map entry names (a WRITE that did not commit, a cut or removal
 * that did not run) are removed, and bytes past an object's valid length
 * are cut, so that the block store holds exactly what the map says.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blocks.h"
#include "log.h"
#include "store_priv.h"

#define STORE_FORMAT	2u
#define V1_BLOCK	65536u
/* Format-1 blocks converted per step: 16 MiB, one sync each. */
#define MIGRATE_BATCH	256u

static const char format_key[] = "format";

static int format_put(struct modalfs_store *st, MDB_txn *t)
{
	MDB_val k = { sizeof(format_key) - 1, (void *)format_key };
	uint32_t f = STORE_FORMAT;
	MDB_val v = { sizeof(f), &f };

	return store_errno(mdb_put(t, st->db[DB_META], &k, &v, 0));
}

/* Moves one format-1 block (key kk, bytes vv) into the block store. */
static int move_block(struct modalfs_store *st, MDB_txn *t, MDB_val *kk,
		      MDB_val *vv)
{
	uint64_t vol = kget(kk, 0), ino = kget(kk, 8), b = kget(kk, 16);
	uint64_t pos = b * V1_BLOCK, idx = pos / MODALFS_OBJ_SIZE;
	uint32_t in = pos % MODALFS_OBJ_SIZE;
	uint64_t alloc;
	struct inorec r;
	struct maprec m;
	int err;

	if (kk->mv_size != 24 || vv->mv_size > V1_BLOCK ||
	    b > UINT64_MAX / V1_BLOCK)
		return 0;	/* malformed: nothing to keep */
	err = ino_get(st, t, vol, ino, &r);
	if (err == ESTALE || (!err && !S_ISREG(r.mode)))
		return 0;	/* a stray block: dropped with the old DBI */
	if (err)
		return err;
	err = map_get(st, t, vol, ino, idx, &m);
	if (!err)
		err = st->blocks->ops->write(st->blocks, vol, ino, idx, in,
					     vv->mv_data, vv->mv_size, &alloc);
	if (err)
		return err;
	/* Format 1 counted the block's bytes, format 2 the object's. */
	r.blocks -= r.blocks < blocks512(vv->mv_size) ?
		    r.blocks : blocks512(vv->mv_size);
	r.blocks += alloc - m.alloc;
	err = data_blocks_add(st, t, (int64_t)alloc - (int64_t)m.alloc);
	m.version = REC_VERSION;
	if (in + vv->mv_size > m.len)
		m.len = in + vv->mv_size;
	m.alloc = alloc;
	if (!err)
		err = map_put(st, t, vol, ino, idx, &m);
	if (!err)
		err = ino_put(st, t, vol, ino, &r);
	return err;
}

/* One step: up to MIGRATE_BATCH blocks; *done once none is left. */
static int migrate_some(struct modalfs_store *st, MDB_dbi data, bool *done,
			uint64_t *moved)
{
	MDB_cursor *c;
	MDB_val kk, vv;
	MDB_txn *t;
	unsigned int n = 0;
	int err, rc;

	err = txn_begin(st, NULL, true, &t);
	if (err)
		return err;
	err = store_errno(mdb_cursor_open(t, data, &c));
	while (!err && n < MIGRATE_BATCH &&
	       !(rc = mdb_cursor_get(c, &kk, &vv, MDB_FIRST))) {
		err = move_block(st, t, &kk, &vv);
		if (!err)
			err = store_errno(mdb_cursor_del(c, 0));
		n++;
	}
	*done = !err && n < MIGRATE_BATCH;
	if (*done) {
		/*
		 * The old DBI goes in the same commit as its last blocks, and
		 * with it format 1's duplicate-request cache (records of
		 * another layout, no insertion order).
		 */
		err = store_errno(mdb_drop(t, data, 1));
		if (!err)
			err = store_errno(mdb_drop(t, st->db[DB_DRC], 0));
		if (!err)
			err = volstats_rebuild(st, t);
		if (!err)
			err = format_put(st, t);
	}
	/* The moved bytes are durable before their old copies go. */
	if (!err && n)
		err = st->blocks->ops->sync(st->blocks);
	if (!err)
		*moved += n;
	return txn_end(st, NULL, t, err);
}

int store_migrate(struct modalfs_store *st)
{
	MDB_val k = { sizeof(format_key) - 1, (void *)format_key };
	uint64_t moved = 0;
	uint32_t fmt;
	MDB_dbi data;
	MDB_txn *t;
	bool done = false;
	int err;

	err = txn_begin(st, NULL, true, &t);
	if (err)
		return err;
	err = rec_get(t, st->db[DB_META], &k, &fmt, sizeof(fmt), ENOENT);
	if (!err) {
		mdb_txn_abort(t);
		if (fmt == STORE_FORMAT)
			return 0;
		modalfs_err("the store in %s has format %u; this modalfsd reads format %u and older",
			    st->dir, fmt, STORE_FORMAT);
		return EPROTO;
	}
	if (err != ENOENT) {
		mdb_txn_abort(t);
		return err;
	}
	err = store_errno(mdb_dbi_open(t, "data", 0, &data));
	if (err == ENOENT) {
		/* A new store. */
		err = format_put(st, t);
		return txn_end(st, NULL, t, err);
	}
	/* Keep the handle: it outlives this txn once committed. */
	err = txn_end(st, NULL, t, err);
	if (err)
		return err;
	modalfs_info("converting the store in %s from format 1: moving file data out of LMDB into %s/blocks",
		     st->dir, st->dir);
	while (!err && !done)
		err = migrate_some(st, data, &done, &moved);
	if (err)
		modalfs_err("converting the store: %s (%llu blocks moved; the next start carries on)",
			    strerror(err), (unsigned long long)moved);
	else
		modalfs_info("converted the store to format %u: %llu blocks of 64 KiB moved",
			     STORE_FORMAT, (unsigned long long)moved);
	return err;
}

struct rec_arg {
	struct modalfs_store *st;
	MDB_txn *t;
	uint64_t removed, cut;
};

static int reconcile_cb(uint64_t vol, uint64_t ino, uint64_t idx,
			uint64_t len, void *arg)
{
	struct rec_arg *a = arg;
	struct modalfs_blocks *b = a->st->blocks;
	struct maprec m;
	struct key k;
	int err = rec_get(a->t, a->st->db[DB_BLOCKMAP], key3(&k, vol, ino, idx),
			  &m, sizeof(m), ENOENT);

	if (err == ENOENT) {
		a->removed++;
		return b->ops->truncate(b, vol, ino, idx, 0);
	}
	if (!err && len > m.len) {
		a->cut++;
		err = b->ops->truncate(b, vol, ino, idx, m.len);
	}
	return err;
}

int store_reconcile(struct modalfs_store *st)
{
	struct rec_arg a = { .st = st };
	int err = txn_begin(st, NULL, false, &a.t);

	if (err)
		return err;
	err = st->blocks->ops->walk(st->blocks, reconcile_cb, &a);
	txn_read_end(st, a.t);
	if (!err && (a.removed || a.cut))
		err = st->blocks->ops->sync(st->blocks);
	if (a.removed || a.cut)
		modalfs_info("after a crash: removed %llu objects no file maps, cut %llu past their valid length",
			     (unsigned long long)a.removed,
			     (unsigned long long)a.cut);
	return err;
}
