// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Volume lifecycle for the control channel: apps, ephemeral volumes,
 * deleting volumes, path lookup for the file commands and store space.
 *
 * Records, all in the meta DBI under key prefixes (so no DBI is added and
 * old stores open unchanged):
 *
 *   "app/" APP_ID       -> struct apprec: an app that owns ephemeral
 *                          volumes (named, or anonymous with an owner
 *                          process). A persisted volume is its own app and
 *                          has no record here; its volrec.app_id names it.
 *   "appname/" NAME     -> APP_ID of the named app NAME (no NUL)
 *   "del/" be64 VOL_ID  -> empty: volume VOL_ID is being deleted. Its
 *                          volumes/volids records are already gone (the
 *                          name is free, mounts get ESTALE); the rest is
 *                          removed in bounded transactions and the key
 *                          last, so a crash resumes the deletion
 *                          (modalfs_store_vol_purge_pending).
 *
 * An ephemeral volume's volrec.app_id names its app.
 */

#define APP_PFX		"app/"
#define APPNAME_PFX	"appname/"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "blocks.h"
#include "store_priv.h"

#define DEL_PFX		"del/"
#define APP_NAMED	1u
/* Deletions per transaction: bounds a txn's dirty pages whatever the size. */
#define PURGE_BATCH	2048u

struct apprec {
	uint32_t version;
	uint32_t flags;		/* APP_NAMED */
	int32_t pid;		/* anonymous: owner process */
	uint32_t pad;
	uint64_t start;		/* owner's start time, /proc/PID/stat field 22 */
	int64_t created;
	char boot_id[MODALFS_BOOT_ID_MAX + 1];
	char name[MODALFS_VOL_NAME_MAX + 1];
	char pad2[6];
};

/* A key "PREFIX" + text in k (text at most 255 bytes). */
static MDB_val *keytext(struct key *k, const char *pfx, const char *text)
{
	size_t pl = strlen(pfx), tl = strlen(text);

	if (pl + tl > sizeof(k->b))
		tl = sizeof(k->b) - pl;
	memcpy(k->b, pfx, pl);
	memcpy(k->b + pl, text, tl);
	k->v.mv_data = k->b;
	k->v.mv_size = pl + tl;
	return &k->v;
}

MDB_val *keydel(struct key *k, uint64_t vol)
{
	memcpy(k->b, DEL_PFX, 4);
	be64(k->b + 4, vol);
	k->v.mv_data = k->b;
	k->v.mv_size = 12;
	return &k->v;
}

static void to_appinfo(const char *id, size_t idlen, const struct apprec *ar,
		       struct modalfs_appinfo *ai)
{
	memset(ai, 0, sizeof(*ai));
	memcpy(ai->app_id, id, idlen);
	ai->app_id[idlen] = '\0';
	if (ar->flags & APP_NAMED)
		memcpy(ai->name, ar->name, sizeof(ai->name) - 1);
	ai->owner_pid = ar->pid;
	ai->owner_start = ar->start;
	memcpy(ai->boot_id, ar->boot_id, sizeof(ai->boot_id) - 1);
	ai->created = ar->created;
}

static int app_get(struct modalfs_store *st, MDB_txn *t, const char *id,
		   struct apprec *ar)
{
	struct key k;

	if (strlen(id) > MODALFS_APP_ID_MAX)
		return ENOENT;
	return rec_get(t, st->db[DB_META], keytext(&k, APP_PFX, id), ar, sizeof(*ar),
		       ENOENT);
}

/* The id of the app named name, into id (APP_ID_MAX + 1 bytes). */
static int appname_get(struct modalfs_store *st, MDB_txn *t, const char *name,
		       char *id)
{
	struct key k;
	MDB_val v;
	int rc;

	if (strlen(name) > MODALFS_VOL_NAME_MAX)
		return ENOENT;
	rc = mdb_get(t, st->db[DB_META], keytext(&k, APPNAME_PFX, name), &v);
	if (rc)
		return store_errno(rc);
	if (v.mv_size == 0 || v.mv_size > MODALFS_APP_ID_MAX)
		return EIO;
	memcpy(id, v.mv_data, v.mv_size);
	id[v.mv_size] = '\0';
	return 0;
}

int modalfs_store_app_create(struct modalfs_store *st, const char *name,
			     int32_t pid, uint64_t start, const char *boot_id,
			     struct modalfs_appinfo *out)
{
	char id[MODALFS_APP_ID_MAX + 1];
	struct apprec ar;
	struct key k, k2;
	MDB_val v;
	MDB_txn *t;
	uint32_t ns;
	int err;

	if (name && (!*name || strlen(name) > MODALFS_VOL_NAME_MAX))
		return EINVAL;
	err = txn_begin(st, NULL, true, &t);
	if (err)
		return err;
	if (name) {
		err = appname_get(st, t, name, id);
		if (!err) {
			err = app_get(st, t, id, &ar);
			if (err == ENOENT)
				err = EIO;
			if (!err)
				to_appinfo(id, strlen(id), &ar, out);
			goto out;
		}
		if (err != ENOENT)
			goto out;
	}
	memset(&ar, 0, sizeof(ar));
	ar.version = REC_VERSION;
	now(&ar.created, &ns);
	if (name) {
		ar.flags = APP_NAMED;
		snprintf(ar.name, sizeof(ar.name), "%s", name);
	} else {
		ar.pid = pid;
		ar.start = start;
		snprintf(ar.boot_id, sizeof(ar.boot_id), "%s",
			 boot_id ? boot_id : "");
	}
	make_app_id(id);
	v.mv_size = sizeof(ar);
	v.mv_data = &ar;
	err = store_errno(mdb_put(t, st->db[DB_META], keytext(&k, APP_PFX, id), &v,
				  MDB_NOOVERWRITE));
	if (!err && name) {
		v.mv_size = strlen(id);
		v.mv_data = id;
		err = store_errno(mdb_put(t, st->db[DB_META],
					  keytext(&k2, APPNAME_PFX, name), &v,
					  0));
	}
	if (!err)
		to_appinfo(id, strlen(id), &ar, out);
out:
	return txn_end(st, NULL, t, err);
}

int modalfs_store_app_find(struct modalfs_store *st, const char *id_or_name,
			   struct modalfs_appinfo *out)
{
	char id[MODALFS_APP_ID_MAX + 1];
	struct apprec ar;
	MDB_txn *t;
	int err;

	err = txn_begin(st, NULL, false, &t);
	if (err)
		return err;
	snprintf(id, sizeof(id), "%s", id_or_name);
	err = app_get(st, t, id_or_name, &ar);
	if (err == ENOENT) {
		err = appname_get(st, t, id_or_name, id);
		if (!err) {
			err = app_get(st, t, id, &ar);
			if (err == ENOENT)
				err = EIO;
		}
	}
	if (!err)
		to_appinfo(id, strlen(id), &ar, out);
	txn_read_end(st, t);
	return err;
}

int modalfs_store_app_list(struct modalfs_store *st, modalfs_app_cb cb,
			   void *arg)
{
	struct modalfs_appinfo ai;
	struct key k;
	MDB_cursor *c;
	MDB_val kk, vv;
	MDB_txn *t;
	size_t pl = strlen(APP_PFX);
	int err;

	err = txn_begin(st, NULL, false, &t);
	if (err)
		return err;
	err = store_errno(mdb_cursor_open(t, st->db[DB_META], &c));
	if (err) {
		txn_read_end(st, t);
		return err;
	}
	err = first_with_prefix(c, keytext(&k, APP_PFX, ""), pl, &kk, &vv);
	while (!err) {
		struct apprec ar;
		size_t idlen = kk.mv_size - pl;

		if (vv.mv_size == sizeof(ar) && idlen > 0 &&
		    idlen <= MODALFS_APP_ID_MAX) {
			memcpy(&ar, vv.mv_data, sizeof(ar));
			to_appinfo((char *)kk.mv_data + pl, idlen, &ar, &ai);
			err = cb(&ai, arg);
			if (err)
				break;
		}
		err = next_with_prefix(c, APP_PFX, pl, &kk, &vv);
	}
	mdb_cursor_close(c);
	txn_read_end(st, t);
	return err == ENOENT ? 0 : err;
}

int modalfs_store_app_remove(struct modalfs_store *st, const char *app_id)
{
	struct apprec ar;
	struct key k;
	MDB_txn *t;
	int err;

	err = txn_begin(st, NULL, true, &t);
	if (err)
		return err;
	err = app_get(st, t, app_id, &ar);
	if (!err && (ar.flags & APP_NAMED))
		err = del_ignore_missing(t, st->db[DB_META],
					 keytext(&k, APPNAME_PFX, ar.name));
	if (!err)
		err = store_errno(mdb_del(t, st->db[DB_META],
					  keytext(&k, APP_PFX, app_id), NULL));
	return txn_end(st, NULL, t, err);
}

/* ---- volumes without usage (cheap) ---- */

/* Sums regular-file bytes and counts inodes of one volume. */
static int vol_usage(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		     uint64_t *bytes, uint64_t *files)
{
	MDB_cursor *c;
	struct key k;
	MDB_val kk, vv;
	int err = store_errno(mdb_cursor_open(t, st->db[DB_INODES], &c));

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

int volstat_get(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		struct volstat *vs)
{
	struct key k;

	return rec_get(t, st->db[DB_VOLSTATS], key1(&k, vol), vs,
		       sizeof(*vs), EIO);
}

int volstat_add(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		int64_t bytes, int64_t files)
{
	struct volstat vs;
	struct key k;
	MDB_val v = { .mv_size = sizeof(vs), .mv_data = &vs };
	int err;

	if (!bytes && !files)
		return 0;
	err = volstat_get(st, t, vol, &vs);
	if (err)
		return err;
	vs.bytes = bytes < 0 && (uint64_t)-bytes > vs.bytes ? 0 :
		   vs.bytes + bytes;
	vs.files = files < 0 && (uint64_t)-files > vs.files ? 0 :
		   vs.files + files;
	return store_errno(mdb_put(t, st->db[DB_VOLSTATS], key1(&k, vol), &v,
				   0));
}

/* Counts every volume's inodes once (a store from before the counters). */
int volstats_rebuild(struct modalfs_store *st, MDB_txn *t)
{
	MDB_cursor *c;
	MDB_val k, v;
	int err = store_errno(mdb_cursor_open(t, st->db[DB_VOLIDS], &c));

	for (int rc = err ? 1 : mdb_cursor_get(c, &k, &v, MDB_FIRST);
	     !err && !rc; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct volstat vs;
		struct key kk;
		MDB_val sv = { .mv_size = sizeof(vs), .mv_data = &vs };

		err = vol_usage(st, t, kget(&k, 0), &vs.bytes, &vs.files);
		if (!err)
			err = store_errno(mdb_put(t, st->db[DB_VOLSTATS],
						  key1(&kk, kget(&k, 0)), &sv,
						  0));
	}
	if (!err)
		mdb_cursor_close(c);
	return err;
}

/*
 * The one gatherer of struct modalfs_volinfo: from the volume's record,
 * and with usage its bytes and files too (its counters).
 */
static int fill_volinfo(struct modalfs_store *st, MDB_txn *t,
			const char *name, size_t nlen, const struct volrec *vr,
			bool usage, struct modalfs_volinfo *vi)
{
	memset(vi, 0, sizeof(*vi));
	memcpy(vi->name, name, nlen);
	vi->name[nlen] = '\0';
	memcpy(vi->app_id, vr->app_id, sizeof(vi->app_id) - 1);
	vi->vol_id = vr->vol_id;
	vi->kind = vr->kind;
	vi->created = vr->created;
	if (usage) {
		struct volstat vs;
		int err = volstat_get(st, t, vr->vol_id, &vs);

		if (err)
			return err;
		vi->bytes = vs.bytes;
		vi->files = vs.files;
	}
	return 0;
}

int modalfs_store_vol_lookup(struct modalfs_store *st, const char *name,
			     struct modalfs_volinfo *out)
{
	MDB_val k = { .mv_size = strlen(name), .mv_data = (void *)name };
	struct volrec vr;
	MDB_txn *t;
	int err;

	if (k.mv_size == 0 || k.mv_size > MODALFS_VOL_NAME_MAX)
		return ENOENT;
	err = txn_begin(st, NULL, false, &t);
	if (err)
		return err;
	err = rec_get(t, st->db[DB_VOLUMES], &k, &vr, sizeof(vr), ENOENT);
	if (!err)
		fill_volinfo(st, t, name, k.mv_size, &vr, false, out);
	txn_read_end(st, t);
	return err;
}

/* Every volume in name order, with or without its usage. */
static int vol_walk(struct modalfs_store *st, bool usage, modalfs_vol_cb cb,
		    void *arg)
{
	struct modalfs_volinfo vi;
	MDB_cursor *c;
	MDB_val k, v;
	MDB_txn *t;
	int err, rc;

	err = txn_begin(st, NULL, false, &t);
	if (err)
		return err;
	err = store_errno(mdb_cursor_open(t, st->db[DB_VOLUMES], &c));
	if (err) {
		txn_read_end(st, t);
		return err;
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); !rc;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct volrec vr;

		if (v.mv_size != sizeof(vr) || k.mv_size == 0 ||
		    k.mv_size > MODALFS_VOL_NAME_MAX)
			continue;
		memcpy(&vr, v.mv_data, sizeof(vr));
		err = fill_volinfo(st, t, k.mv_data, k.mv_size, &vr, usage,
				   &vi);
		if (!err)
			err = cb(&vi, arg);
		if (err)
			break;
	}
	if (!err && rc != MDB_NOTFOUND)
		err = store_errno(rc);
	mdb_cursor_close(c);
	txn_read_end(st, t);
	return err;
}

int modalfs_store_vol_each(struct modalfs_store *st, modalfs_vol_cb cb,
			   void *arg)
{
	return vol_walk(st, false, cb, arg);
}

/* An empty write op: its transaction folds the intent log in. */
static int fold_op(struct modalfs_txc *tx, void *arg)
{
	struct modalfs_store *st = arg;
	MDB_txn *t;
	int err = txn_begin(st, tx, true, &t);

	return err ? err : txn_end(st, tx, t, 0);
}

int modalfs_store_vol_list(struct modalfs_store *st, modalfs_vol_cb cb,
			   void *arg)
{
	/*
	 * A volume's bytes are LMDB's: logged writes count once folded
	 * (store_ilog.c), which the writer does after a second of quiet.
	 * A list folds at once, so that it shows every acknowledged write.
	 */
	if (ilog_pending(st)) {
		int err = modalfs_store_batch(st, fold_op, st);

		if (err)
			return err;
	}
	return vol_walk(st, true, cb, arg);
}

int modalfs_store_vol_ephemeral(struct modalfs_store *st, const char *app_id,
				struct modalfs_volinfo *out)
{
	char name[MODALFS_APP_ID_MAX + 1];
	struct modalfs_appinfo ai;
	struct volrec vr;
	MDB_val k;
	MDB_txn *t;
	int err, tries = 0;

	err = modalfs_store_app_find(st, app_id, &ai);
	if (err)
		return err;
	if (strcmp(ai.app_id, app_id))
		return ENOENT;	/* a name, not an id */
	do {
		make_app_id(name);
		name[0] = 'e';	/* "ep-" + the random part */
		err = vol_make(st, name, MODALFS_KIND_EPHEMERAL, true, out);
	} while (err == EEXIST && ++tries < 8);
	if (err)
		return err;
	/*
	 * vol_make gave it an app id of its own; the owner's is set in a
	 * second transaction. Until then (or forever, after a crash) it is
	 * an ephemeral volume whose app does not exist, which the caller's
	 * reaper deletes, so nothing leaks.
	 */
	err = txn_begin(st, NULL, true, &t);
	if (err)
		return err;
	k.mv_size = strlen(name);
	k.mv_data = name;
	err = rec_get(t, st->db[DB_VOLUMES], &k, &vr, sizeof(vr), ENOENT);
	if (!err) {
		snprintf(vr.app_id, sizeof(vr.app_id), "%s", app_id);
		err = volrec_put(st, t, name, &vr);
	}
	err = txn_end(st, NULL, t, err);
	if (!err)
		snprintf(out->app_id, sizeof(out->app_id), "%s", app_id);
	return err;
}

/* ---- deleting ---- */

/*
 * Deletes up to budget records of vol in one transaction. Inodes go first:
 * once they are gone no operation can add records to the volume (every op
 * needs an inode of it), so the purge cannot race with writers.
 */
static int purge_some(struct modalfs_store *st, uint64_t vol, uint32_t budget,
		      bool *done)
{
	uint64_t freed = 0;
	MDB_txn *t;
	struct key k;
	int err;

	*done = false;
	err = txn_begin(st, NULL, true, &t);
	if (err)
		return err;
	/* DB_INODES is the first of the table's per-volume databases. */
	for (int i = 0; i < NDBS && budget && !err; i++) {
		MDB_cursor *c;
		MDB_val kk, vv;

		if (!(store_dbs[i].flags & DBF_PER_VOL))
			continue;
		err = store_errno(mdb_cursor_open(t, st->db[i], &c));
		if (err)
			break;
		while (budget &&
		       !(err = first_with_prefix(c, key1(&k, vol), 8, &kk,
						 &vv))) {
			struct maprec m;

			/* The block map's entries count as file data. */
			if (i == DB_BLOCKMAP && vv.mv_size == sizeof(m)) {
				memcpy(&m, vv.mv_data, sizeof(m));
				freed += m.alloc;
			}
			err = store_errno(mdb_cursor_del(c, 0));
			if (err)
				break;
			budget--;
		}
		mdb_cursor_close(c);
		if (err == ENOENT) {
			err = 0;
			*done = true;	/* so far: every database up to i */
		} else {
			*done = false;
		}
	}
	if (!err)
		err = data_blocks_add(st, t, -(int64_t)freed);
	return txn_end(st, NULL, t, err);
}

static int purge(struct modalfs_store *st, uint64_t vol, uint32_t batch)
{
	bool done = false;
	int err = 0;

	struct key k;
	MDB_txn *t;

	if (!batch)
		batch = PURGE_BATCH;
	while (!err && !done)
		err = purge_some(st, vol, batch, &done);
	/* Then the volume's objects, in steps as bounded, and the mark. */
	done = false;
	while (!err && !done)
		err = st->blocks->ops->remove_volume(st->blocks, vol, batch,
						     &done);
	if (!err)
		err = txn_begin(st, NULL, true, &t);
	if (!err) {
		err = del_ignore_missing(t, st->db[DB_META], keydel(&k, vol));
		err = txn_end(st, NULL, t, err);
	}
	return err;
}

int modalfs_store_vol_delete(struct modalfs_store *st, uint64_t vol,
			     uint32_t batch)
{
	char name[MODALFS_VOL_NAME_MAX + 1];
	MDB_val empty = { 0, NULL };
	struct volrec vr;
	struct key k;
	MDB_txn *t;
	int err;

	err = txn_begin(st, NULL, true, &t);
	if (err)
		return err;
	err = volrec_by_id(st, t, vol, name, &vr);
	if (err == ESTALE)
		err = ENOENT;
	if (!err) {
		MDB_val nk = { .mv_size = strlen(name), .mv_data = name };

		err = store_errno(mdb_del(t, st->db[DB_VOLUMES], &nk, NULL));
	}
	if (!err)
		err = store_errno(mdb_del(t, st->db[DB_VOLIDS], key1(&k, vol), NULL));
	if (!err)
		err = store_errno(mdb_put(t, st->db[DB_META], keydel(&k, vol), &empty,
					  0));
	err = txn_end(st, NULL, t, err);
	if (err)
		return err;
	return purge(st, vol, batch);
}

int modalfs_store_vol_purge_pending(struct modalfs_store *st)
{
	for (;;) {
		struct key k;
		MDB_cursor *c;
		MDB_val kk, vv;
		uint64_t vol = 0;
		MDB_txn *t;
		int err;

		err = txn_begin(st, NULL, false, &t);
		if (err)
			return err;
		err = store_errno(mdb_cursor_open(t, st->db[DB_META], &c));
		if (!err) {
			k.v.mv_data = (void *)DEL_PFX;
			k.v.mv_size = 4;
			err = first_with_prefix(c, &k.v, 4, &kk, &vv);
			if (!err && kk.mv_size == 12)
				vol = get_be64((unsigned char *)kk.mv_data + 4);
			else if (!err)
				err = EIO;
			mdb_cursor_close(c);
		}
		txn_read_end(st, t);
		if (err == ENOENT)
			return 0;
		if (err)
			return err;
		err = purge(st, vol, 0);
		if (err)
			return err;
	}
}

/* ---- space ---- */

int modalfs_store_space(struct modalfs_store *st,
			struct modalfs_store_space *sp)
{
	MDB_envinfo info;
	MDB_stat ms;
	MDB_txn *t;
	int err;

	memset(sp, 0, sizeof(*sp));
	mdb_env_info(st->env, &info);
	mdb_env_stat(st->env, &ms);
	sp->page_size = ms.ms_psize;
	sp->map_pages = info.me_mapsize / ms.ms_psize;
	sp->used_pages = info.me_last_pgno + 1;
	err = txn_begin(st, NULL, false, &t);
	if (err)
		return err;
	err = free_pages(t, &sp->free_pages, NULL);
	if (!err)
		err = data_blocks_get(st, t, &sp->data_bytes);
	sp->data_bytes *= 512;
	txn_read_end(st, t);
	return err;
}

/* ---- paths for the file commands ---- */

int modalfs_store_path(struct modalfs_store *st, const char *volname,
		       const char *path, struct modalfs_store_path *out)
{
	struct walk w;
	MDB_txn *t;
	int err;

	memset(out, 0, sizeof(*out));
	err = txn_begin(st, NULL, false, &t);
	if (err)
		return err;
	err = walk_path(st, t, volname, path, false, &w);
	out->vol = w.vol;	/* 0 when there is no such volume */
	if (!err) {
		out->dir = w.dir;
		memcpy(out->name, w.name, sizeof(out->name));
		out->exists = w.exists;
		if (w.exists)
			to_attr(w.ino, &w.r, &out->attr);
	}
	txn_read_end(st, t);
	return err;
}

int volrec_by_id(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		 char *name, struct volrec *vr)
{
	struct key k;
	MDB_val kv;
	int rc = mdb_get(t, st->db[DB_VOLIDS], key1(&k, vol), &kv);

	if (rc == MDB_NOTFOUND)
		return ESTALE;
	if (rc)
		return store_errno(rc);
	if (kv.mv_size == 0 || kv.mv_size > MODALFS_VOL_NAME_MAX)
		return EIO;
	memcpy(name, kv.mv_data, kv.mv_size);
	name[kv.mv_size] = '\0';
	return rec_get(t, st->db[DB_VOLUMES], &kv, vr, sizeof(*vr), ESTALE);
}

int volrec_put(struct modalfs_store *st, MDB_txn *t, const char *name,
	       const struct volrec *vr)
{
	MDB_val k = { .mv_size = strlen(name), .mv_data = (void *)name };
	MDB_val v = { .mv_size = sizeof(*vr), .mv_data = (void *)vr };

	return store_errno(mdb_put(t, st->db[DB_VOLUMES], &k, &v, 0));
}

/* ---- volumes ---- */

void make_app_id(char *out)
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


int vol_make(struct modalfs_store *st, const char *name, uint32_t kind,
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
	err = txn_begin(st, NULL, true, &t);
	if (err)
		return err;
	rc = mdb_get(t, st->db[DB_VOLUMES], &k, &v);
	if (rc == MDB_NOTFOUND) {
		err = space_check(st, NULL, t, 0, 0);
		if (err)
			goto out;
	}
	if (rc == 0) {
		if (excl || v.mv_size != sizeof(vr)) {
			err = excl ? EEXIST : EIO;
			goto out;
		}
		memcpy(&vr, v.mv_data, sizeof(vr));
		err = fill_volinfo(st, t, name, nlen, &vr, true, out);
		goto out;
	}
	if (rc != MDB_NOTFOUND) {
		err = store_errno(rc);
		goto out;
	}
	rc = mdb_get(t, st->db[DB_META], &mk, &v);
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
	err = store_errno(mdb_put(t, st->db[DB_META], &mk, &nv, 0));
	if (!err)
		err = volrec_put(st, t, name, &vr);
	if (!err)
		err = store_errno(mdb_put(t, st->db[DB_VOLIDS], key1(&ik, vr.vol_id),
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
	if (!err) {
		struct volstat vs = { .bytes = 0, .files = 1 };
		MDB_val sv = { .mv_size = sizeof(vs), .mv_data = &vs };

		err = store_errno(mdb_put(t, st->db[DB_VOLSTATS],
					  key1(&ik, vr.vol_id), &sv, 0));
	}
	if (!err)
		err = fill_volinfo(st, t, name, nlen, &vr, true, out);
out:
	return txn_end(st, NULL, t, err);
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


