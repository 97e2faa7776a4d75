// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Namespace operations: inodes, directory entries, lookup, readdir,
 * create/mkdir/symlink/link, unlink/rmdir, rename, the path resolver,
 * mount/umount and evict.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blocks.h"
#include "store_priv.h"

int ino_get(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
	    uint64_t ino, struct inorec *r)
{
	struct key k;

	int err = rec_get(t, st->db[DB_INODES], key2(&k, vol, ino), r,
			  sizeof(*r), ESTALE);

	if (!err)
		ilog_overlay(st, t, vol, ino, r);
	return err;
}

int ino_put(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
	    uint64_t ino, const struct inorec *r)
{
	struct key k;
	MDB_val v = { .mv_size = sizeof(*r), .mv_data = (void *)r };

	return store_errno(mdb_put(t, st->db[DB_INODES], key2(&k, vol, ino), &v, 0));
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
int reg_get(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
	    uint64_t ino, struct inorec *r)
{
	int err = ino_get(st, t, vol, ino, r);

	if (err)
		return err;
	if (S_ISDIR(r->mode))
		return EISDIR;
	return S_ISREG(r->mode) ? 0 : EINVAL;
}

void to_attr(uint64_t ino, const struct inorec *r,
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

/*
 * A namespace op of the kernel hands back the directory it changed
 * (struct modalfs_txc's dir_out), as it is in the op's own transaction,
 * so the kernel need not ask for it again.
 */
static void dir_out(struct modalfs_txc *tx, unsigned int which, uint64_t dir,
		    const struct inorec *dr)
{
	struct modalfs_iattr *out;

	if (!tx)
		return;
	out = which == MODALFS_TXC_DIR ? tx->dir_out : tx->new_dir_out;
	if (!out)
		return;
	to_attr(dir, dr, out);
	tx->dirs_done |= which;
}

int dent_get(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
	     uint64_t dir, const char *name, struct dentrec *d)
{
	struct key k;

	return rec_get(t, st->db[DB_DIRENTS], keyname(&k, vol, dir, name), d,
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

	return store_errno(mdb_put(t, st->db[DB_DIRENTS],
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
	return store_errno(mdb_put(t, st->db[DB_DCOOKIES],
				   key3(&k, vol, dir, d.cookie), &v, 0));
}

static int dent_del(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		    uint64_t dir, const char *name, uint64_t cookie)
{
	struct key k;
	int rc = mdb_del(t, st->db[DB_DIRENTS], keyname(&k, vol, dir, name), NULL);

	if (!rc)
		rc = mdb_del(t, st->db[DB_DCOOKIES], key3(&k, vol, dir, cookie),
			     NULL);
	return store_errno(rc);
}

static int dir_empty(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		     uint64_t dir, bool *empty)
{
	MDB_cursor *c;
	struct key k;
	MDB_val kk, vv;
	int err = store_errno(mdb_cursor_open(t, st->db[DB_DCOOKIES], &c));

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

int free_inode(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
	       uint64_t ino, struct cuts *c)
{
	struct inorec r;
	struct key k;
	int err = ino_get(st, t, vol, ino, &r);

	/* Without its inode, the other records still go (an orphan's). */
	if (!err && S_ISREG(r.mode))
		err = map_cut(st, t, vol, ino, &r, 0, c);
	if (!err)
		err = volstat_add(st, t, vol,
				  S_ISREG(r.mode) ? -(int64_t)r.size : 0, -1);
	else if (err == ESTALE)
		err = 0;
	if (!err)
		err = del_ignore_missing(t, st->db[DB_INODES],
					 key2(&k, vol, ino));
	if (!err)
		err = del_ignore_missing(t, st->db[DB_SYMLINKS],
					 key2(&k, vol, ino));
	if (!err)
		err = del_ignore_missing(t, st->db[DB_ORPHANS],
					 key2(&k, vol, ino));
	if (!err)
		err = del_range(t, st->db[DB_XATTRS], key2(&k, vol, ino), 16,
				NULL);
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
		int err = store_errno(mdb_put(t, st->db[DB_ORPHANS],
					      key2(&k, vol, ino), &empty, 0));
		if (err)
			return err;
	}
	return ino_put(st, t, vol, ino, r);
}

/* Hands out count inode numbers from *ino on; never handed out again. */
static int alloc_ino(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		     uint64_t count, uint64_t *ino)
{
	char name[MODALFS_VOL_NAME_MAX + 1];
	struct volrec vr;
	int err = volrec_by_id(st, t, vol, name, &vr);

	if (err)
		return err;
	*ino = vr.next_ino;
	vr.next_ino += count;
	return volrec_put(st, t, name, &vr);
}

/*
 * The inode number a kernel picked from a range it was handed out
 * (modalfs_store_ino_range): below the volume's next number, and free.
 * Inode numbers are never reused, so a free one below next_ino was
 * either handed out and never used or belonged to a deleted file; the
 * daemon does not remember which (the kernel is trusted to use its
 * ranges only), and refuses anything else with EINVAL.
 */
static int claim_ino(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		     uint64_t ino)
{
	char name[MODALFS_VOL_NAME_MAX + 1];
	struct volrec vr;
	struct inorec r;
	int err = volrec_by_id(st, t, vol, name, &vr);

	if (err)
		return err;
	if (ino <= MODALFS_ROOT_INO || ino >= vr.next_ino)
		return EINVAL;
	err = ino_get(st, t, vol, ino, &r);
	if (!err)
		return EINVAL;
	/* ino_get's "no such inode". */
	return err == ESTALE ? 0 : err;
}

int modalfs_store_ino_range(struct modalfs_store *st, struct modalfs_txc *tx,
			    uint64_t vol, uint32_t count, uint64_t *first)
{
	MDB_txn *t;
	int err;

	if (count == 0 || count > MODALFS_INO_RANGE_MAX)
		return EINVAL;
	err = txn_begin(st, tx, true, &t);
	if (err)
		return err;
	err = alloc_ino(st, t, vol, count, first);
	return txn_end(st, tx, t, err);
}

/* ---- file system operations ---- */

int walk_path(struct modalfs_store *st, MDB_txn *t, const char *volname,
	      const char *path, bool dotdot, struct walk *w)
{
	MDB_val k = { .mv_size = strlen(volname), .mv_data = (void *)volname };
	const char *p = path ? path : "/";
	struct volrec vr;
	int err;

	memset(w, 0, sizeof(*w));
	if (k.mv_size == 0 || k.mv_size > MODALFS_VOL_NAME_MAX)
		return ENOENT;
	err = rec_get(t, st->db[DB_VOLUMES], &k, &vr, sizeof(vr), ENOENT);
	if (err)
		return err;
	w->vol = vr.vol_id;
	w->ino = w->dir = MODALFS_ROOT_INO;
	w->exists = true;
	err = ino_get(st, t, w->vol, w->ino, &w->r);
	while (!err && *p) {
		size_t n = strcspn(p, "/");
		struct dentrec d;

		if (n == 0 || (n == 1 && p[0] == '.')) {
			p += n + (p[n] == '/');
			continue;
		}
		if (!w->exists)
			return ENOENT;
		if (!S_ISDIR(w->r.mode))
			return ENOTDIR;
		if (n > MODALFS_NAME_MAX)
			return ENAMETOOLONG;
		w->dir = w->ino;
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (!dotdot)
				return EINVAL;
			strcpy(w->name, "..");
			w->ino = w->r.parent;
		} else {
			memcpy(w->name, p, n);
			w->name[n] = '\0';
			err = dent_get(st, t, w->vol, w->dir, w->name, &d);
			if (err == ENOENT) {
				w->exists = false;
				err = 0;
				p += n + (p[n] == '/');
				continue;
			}
			if (err)
				return err;
			w->ino = d.ino;
		}
		err = ino_get(st, t, w->vol, w->ino, &w->r);
		p += n + (p[n] == '/');
	}
	return err == ESTALE ? EIO : err;	/* a dangling entry */
}

int modalfs_store_mount(struct modalfs_store *st, const char *name,
			const char *path, uint64_t *vol_id,
			struct modalfs_iattr *attr)
{
	struct walk w;
	MDB_txn *t;
	int err;

	err = txn_begin(st, NULL, false, &t);
	if (err)
		return err;
	err = walk_path(st, t, name, path, true, &w);
	if (!err && !w.exists)
		err = ENOENT;
	if (!err && !S_ISDIR(w.r.mode))
		err = ENOTDIR;
	if (!err) {
		*vol_id = w.vol;
		to_attr(w.ino, &w.r, attr);
	}
	txn_read_end(st, t);
	return err;
}

/* Orphans freed per transaction at UMOUNT: bounds a txn whatever the count. */
#define ORPHAN_BATCH 256u

int modalfs_store_umount(struct modalfs_store *st, uint64_t vol)
{
	bool more = true;
	int err = 0;

	while (!err && more) {
		struct cuts cuts = { 0 };
		unsigned int n = 0;
		MDB_cursor *c;
		struct key k;
		MDB_val kk, vv;
		MDB_txn *t;

		err = txn_begin(st, NULL, true, &t);
		if (err)
			break;
		err = store_errno(mdb_cursor_open(t, st->db[DB_ORPHANS], &c));
		if (!err) {
			while (!err && n < ORPHAN_BATCH &&
			       !(err = first_with_prefix(c, key2(&k, vol, 0), 8,
							 &kk, &vv))) {
				if (kk.mv_size != 16)
					err = EIO;
				else
					err = free_inode(st, t, vol,
							 kget(&kk, 8), &cuts);
				n++;
			}
			mdb_cursor_close(c);
		}
		more = !err;
		err = txn_end(st, NULL, t, err == ENOENT ? 0 : err);
		if (!err)
			cuts_apply(st, &cuts);
		free(cuts.v);
	}
	return err;
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
	err = txn_begin(st, NULL, false, &t);
	if (err)
		return err;
	err = entry_get(st, t, vol, dir, name, &r, &d, &r);
	if (!err)
		to_attr(d.ino, &r, attr);
	txn_read_end(st, t);
	return err;
}

int modalfs_store_getattr(struct modalfs_store *st, uint64_t vol,
			  uint64_t ino, struct modalfs_iattr *attr)
{
	struct inorec r;
	MDB_txn *t;
	int err;

	err = txn_begin(st, NULL, false, &t);
	if (err)
		return err;
	err = ino_get(st, t, vol, ino, &r);
	if (!err)
		to_attr(ino, &r, attr);
	txn_read_end(st, t);
	return err;
}

int modalfs_store_setattr(struct modalfs_store *st, struct modalfs_txc *tx,
			  uint64_t vol,
			  uint64_t ino, const struct modalfs_setattr *sa,
			  struct modalfs_iattr *attr)
{
	struct cuts cuts = { 0 };
	struct inorec r;
	MDB_txn *t;
	int err;

	if ((sa->valid & MODALFS_SET_SIZE) && sa->size > (uint64_t)INT64_MAX)
		return EFBIG;
	if (((sa->valid & MODALFS_SET_ATIME) && sa->atime_nsec >= 1000000000) ||
	    ((sa->valid & MODALFS_SET_MTIME) && sa->mtime_nsec >= 1000000000) ||
	    ((sa->valid & MODALFS_SET_CTIME) && sa->ctime_nsec >= 1000000000))
		return EINVAL;
	err = txn_begin(st, tx, true, &t);
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
			if (sa->size < r.size)
				err = map_cut(st, t, vol, ino, &r, sa->size,
					      &cuts);
			if (!err)
				err = volstat_add(st, t, vol,
						  (int64_t)sa->size -
						  (int64_t)r.size, 0);
			if (err)
				goto out;
			r.size = sa->size;
			touch_mc(&r);
		}
	}
	inorec_setattr(&r, sa);
	err = ino_put(st, t, vol, ino, &r);
	if (!err)
		to_attr(ino, &r, attr);
out:
	err = txn_end(st, tx, t, err);
	if (!err)
		cuts_apply(st, &cuts);
	free(cuts.v);
	return err;
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
	err = txn_begin(st, NULL, false, &t);
	if (err)
		return err;
	err = dir_get(st, t, vol, dir, &r);
	if (!err)
		err = store_errno(mdb_cursor_open(t, st->db[DB_DCOOKIES], &c));
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
		/* An entry whose inode is missing is a corrupt store. */
		if (ino_get(st, t, vol, d.ino, &r)) {
			err = EIO;
			break;
		}
		to_attr(d.ino, &r, &de.attr);
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
	txn_read_end(st, t);
	return err;
}

static int make_node(struct modalfs_store *st, struct modalfs_txc *tx,
	uint64_t vol, uint64_t dir,
		     const char *name, uint32_t mode, uint32_t uid,
		     uint32_t gid, uint32_t rdev, const char *target,
		     const struct modalfs_newnode *nn,
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
	err = txn_begin(st, tx, true, &t);
	if (err)
		return err;
	err = space_check(st, tx, t, 0, target ? strlen(target) : 0);
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
	if (nn && nn->ino) {
		ino = nn->ino;
		err = claim_ino(st, t, vol, ino);
	} else {
		err = alloc_ino(st, t, vol, 1, &ino);
	}
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
	/* The kernel's own stamps, which it shows before this reply. */
	if (nn && nn->times)
		inorec_setattr(&r, nn->times);
	if (target) {
		MDB_val v = { .mv_size = strlen(target),
			      .mv_data = (void *)target };

		r.size = v.mv_size;
		err = store_errno(mdb_put(t, st->db[DB_SYMLINKS], key2(&k, vol, ino),
					  &v, 0));
		if (err)
			goto out;
	}
	err = ino_put(st, t, vol, ino, &r);
	if (!err)
		err = volstat_add(st, t, vol, 0, 1);
	if (!err)
		err = dent_add(st, t, vol, dir, &dr, name, ino, mode);
	if (err)
		goto out;
	if (S_ISDIR(mode))
		dr.nlink++;
	touch_mc(&dr);
	err = ino_put(st, t, vol, dir, &dr);
	if (!err) {
		to_attr(ino, &r, attr);
		dir_out(tx, MODALFS_TXC_DIR, dir, &dr);
	}
out:
	return txn_end(st, tx, t, err);
}

int modalfs_store_create(struct modalfs_store *st, struct modalfs_txc *tx,
			 uint64_t vol, uint64_t dir,
			 const char *name, uint32_t mode, uint32_t uid,
			 uint32_t gid, uint32_t rdev, struct modalfs_iattr *attr)
{
	return modalfs_store_create_at(st, tx, vol, dir, name, mode, uid, gid,
				       rdev, NULL, attr);
}

int modalfs_store_create_at(struct modalfs_store *st, struct modalfs_txc *tx,
			    uint64_t vol, uint64_t dir, const char *name,
			    uint32_t mode, uint32_t uid, uint32_t gid,
			    uint32_t rdev, const struct modalfs_newnode *nn,
			    struct modalfs_iattr *attr)
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
	return make_node(st, tx, vol, dir, name, mode & (S_IFMT | 07777), uid,
			 gid, rdev, NULL, nn, attr);
}

int modalfs_store_mkdir(struct modalfs_store *st, struct modalfs_txc *tx,
			uint64_t vol, uint64_t dir,
			const char *name, uint32_t mode, uint32_t uid,
			uint32_t gid, struct modalfs_iattr *attr)
{
	return modalfs_store_mkdir_at(st, tx, vol, dir, name, mode, uid, gid,
				      NULL, attr);
}

int modalfs_store_mkdir_at(struct modalfs_store *st, struct modalfs_txc *tx,
			   uint64_t vol, uint64_t dir, const char *name,
			   uint32_t mode, uint32_t uid, uint32_t gid,
			   const struct modalfs_newnode *nn,
			   struct modalfs_iattr *attr)
{
	return make_node(st, tx, vol, dir, name, S_IFDIR | (mode & 07777), uid,
			 gid, 0, NULL, nn, attr);
}

int modalfs_store_symlink(struct modalfs_store *st, struct modalfs_txc *tx,
			  uint64_t vol,
			  uint64_t dir, const char *name, const char *target,
			  uint32_t uid, uint32_t gid, struct modalfs_iattr *attr)
{
	size_t n = strlen(target);

	if (n == 0)
		return ENOENT;
	if (n > MODALFS_SYMLINK_MAX)
		return ENAMETOOLONG;
	return make_node(st, tx, vol, dir, name, S_IFLNK | 0777, uid, gid, 0,
			 target, NULL, attr);
}

int modalfs_store_readlink(struct modalfs_store *st, uint64_t vol,
			   uint64_t ino, char *buf)
{
	struct inorec r;
	struct key k;
	MDB_val v;
	MDB_txn *t;
	int err;

	err = txn_begin(st, NULL, false, &t);
	if (err)
		return err;
	err = ino_get(st, t, vol, ino, &r);
	if (!err && !S_ISLNK(r.mode))
		err = EINVAL;
	if (!err)
		err = store_errno(mdb_get(t, st->db[DB_SYMLINKS], key2(&k, vol, ino),
					  &v));
	if (err == ENOENT || (!err && (v.mv_size == 0 ||
				       v.mv_size > MODALFS_SYMLINK_MAX)))
		err = EIO;
	if (!err) {
		memcpy(buf, v.mv_data, v.mv_size);
		buf[v.mv_size] = '\0';
	}
	txn_read_end(st, t);
	return err;
}

int modalfs_store_link(struct modalfs_store *st, struct modalfs_txc *tx,
		       uint64_t vol, uint64_t ino,
		       uint64_t newdir, const char *newname,
		       struct modalfs_iattr *attr)
{
	struct inorec r, dr;
	struct dentrec d;
	MDB_txn *t;
	int err = modalfs_store_name_check(newname);

	if (err)
		return err;
	err = txn_begin(st, tx, true, &t);
	if (err)
		return err;
	err = space_check(st, tx, t, 0, 0);
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
	if (!err) {
		to_attr(ino, &r, attr);
		dir_out(tx, MODALFS_TXC_DIR, newdir, &dr);
	}
out:
	return txn_end(st, tx, t, err);
}

static int remove_entry(struct modalfs_store *st, struct modalfs_txc *tx,
	uint64_t vol, uint64_t dir,
			const char *name, bool isdir)
{
	struct inorec dr, r;
	struct dentrec d;
	MDB_txn *t;
	int err = modalfs_store_name_check(name);

	if (err)
		return err;
	err = txn_begin(st, tx, true, &t);
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
	if (!err)
		dir_out(tx, MODALFS_TXC_DIR, dir, &dr);
out:
	return txn_end(st, tx, t, err);
}

int modalfs_store_unlink(struct modalfs_store *st, struct modalfs_txc *tx,
			 uint64_t vol, uint64_t dir,
			 const char *name)
{
	return remove_entry(st, tx, vol, dir, name, false);
}

int modalfs_store_rmdir(struct modalfs_store *st, struct modalfs_txc *tx,
			uint64_t vol, uint64_t dir,
			const char *name)
{
	return remove_entry(st, tx, vol, dir, name, true);
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

static int do_rename(struct modalfs_store *st, struct modalfs_txc *tx,
		     MDB_txn *t, uint64_t vol, uint64_t sdir, const char *sname, uint64_t ddir,
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
	if (!err) {
		dir_out(tx, MODALFS_TXC_DIR, sdir, &sdr);
		if (sdir != ddir)
			dir_out(tx, MODALFS_TXC_NEW_DIR, ddir, ddr);
	}
	return err;
}

int modalfs_store_rename(struct modalfs_store *st, struct modalfs_txc *tx,
			 uint64_t vol, uint64_t dir,
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
	err = txn_begin(st, tx, true, &t);
	if (err)
		return err;
	err = do_rename(st, tx, t, vol, dir, name, newdir, newname, flags);
	return txn_end(st, tx, t, err);
}

int modalfs_store_evict(struct modalfs_store *st, struct modalfs_txc *tx,
			uint64_t vol, uint64_t ino)
{
	struct cuts cuts = { 0 };
	struct inorec r;
	MDB_txn *t;
	int err;

	err = txn_begin(st, tx, true, &t);
	if (err)
		return err;
	err = ino_get(st, t, vol, ino, &r);
	if (err == ESTALE) {
		/* Already gone (e.g. a retransmitted EVICT): nothing to do. */
		txn_end(st, tx, t, err);
		return 0;
	}
	if (!err && r.nlink == 0)
		err = free_inode(st, t, vol, ino, &cuts);
	err = txn_end(st, tx, t, err);
	if (!err)
		cuts_apply(st, &cuts);
	free(cuts.v);
	return err;
}

