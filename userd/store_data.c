// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The block map: file data in MODALFS_STORE_BLOCK blocks (see the schema
 * in store_txn.c), read, write, truncate and fsync.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "stats.h"

#include "store_priv.h"

/* Cuts or extends ino's data to size; r->size and r->blocks follow. */
int set_size(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
	     uint64_t ino, struct inorec *r, uint64_t size)
{
	struct key k;
	int err;

	if (size < r->size) {
		uint64_t first = (size + BS - 1) / BS;
		uint32_t keep = size % BS;
		MDB_val v;

		err = del_range(t, st->db[DB_DATA], key3(&k, vol, ino, first), 16,
				&r->blocks);
		if (err)
			return err;
		if (keep) {
			int rc = mdb_get(t, st->db[DB_DATA],
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
				rc = mdb_put(t, st->db[DB_DATA], &k.v, &nv, 0);
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

int modalfs_store_read(struct modalfs_store *st, uint64_t vol, uint64_t ino,
		       uint64_t off, size_t len, void *buf, size_t *got)
{
	struct inorec r;
	struct key k;
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
	while (done < len) {
		uint64_t pos = off + done;
		uint64_t b = pos / BS;
		size_t in = pos % BS;
		size_t n = BS - in;
		MDB_val v;
		int rc;

		if (n > len - done)
			n = len - done;
		rc = mdb_get(t, st->db[DB_DATA], key3(&k, vol, ino, b), &v);
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

int modalfs_store_write(struct modalfs_store *st, struct modalfs_txc *tx,
			uint64_t vol, uint64_t ino,
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
	err = txn_begin(st, tx, true, &t);
	if (err)
		return err;
	err = len ? space_check(st, tx) : 0;
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
		rc = mdb_get(t, st->db[DB_DATA], key3(&k, vol, ino, b), &v);
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
			rc = mdb_put(t, st->db[DB_DATA], &k.v, &nv, MDB_RESERVE);
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
			rc = mdb_put(t, st->db[DB_DATA], &k.v, &nv, 0);
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
	return txn_end(st, tx, t, err);
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

