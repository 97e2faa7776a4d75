// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Extended attributes (header: MODALFS_XATTR_*). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_priv.h"

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
int xattr_usage(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		uint64_t ino, const char *skip, uint64_t *list,
		uint64_t *total)
{
	MDB_cursor *c;
	struct key k;
	MDB_val kk, vv;
	size_t sl = skip ? strlen(skip) : 0;
	int err = store_errno(mdb_cursor_open(t, st->db[DB_XATTRS], &c));

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
	err = txn_begin(st, NULL, false, &t);
	if (err)
		return err;
	err = ino_get(st, t, vol, ino, &r);
	if (!err)
		err = store_errno(mdb_get(t, st->db[DB_XATTRS],
					  keyname(&k, vol, ino, name), &v));
	if (err == ENOENT)
		err = ENODATA;
	if (!err && v.mv_size > MODALFS_XATTR_SIZE_MAX)
		err = EIO;
	if (!err) {
		memcpy(buf, v.mv_data, v.mv_size);
		*len = v.mv_size;
	}
	txn_read_end(st, t);
	return err;
}

int modalfs_store_setxattr(struct modalfs_store *st, struct modalfs_txc *tx,
			   uint64_t vol,
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
	err = txn_begin(st, tx, true, &t);
	if (err)
		return err;
	err = space_check(st, tx, t, 0, len);
	if (!err)
		err = ino_get(st, t, vol, ino, &r);
	if (err)
		goto out;
	rc = mdb_get(t, st->db[DB_XATTRS], keyname(&k, vol, ino, name), &v);
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
	err = store_errno(mdb_put(t, st->db[DB_XATTRS], &k.v, &nv, 0));
	if (err)
		goto out;
	touch_c(&r);
	err = ino_put(st, t, vol, ino, &r);
	if (!err)
		to_attr(ino, &r, attr);
out:
	return txn_end(st, tx, t, err);
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
	err = txn_begin(st, NULL, false, &t);
	if (err)
		return err;
	err = ino_get(st, t, vol, ino, &r);
	if (!err)
		err = store_errno(mdb_cursor_open(t, st->db[DB_XATTRS], &c));
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
	txn_read_end(st, t);
	return err;
}

int modalfs_store_removexattr(struct modalfs_store *st, struct modalfs_txc *tx,
			      uint64_t vol,
			      uint64_t ino, const char *name,
			      struct modalfs_iattr *attr)
{
	struct inorec r;
	struct key k;
	MDB_txn *t;
	int err = modalfs_xattr_name_check(name);

	if (err)
		return err;
	err = txn_begin(st, tx, true, &t);
	if (err)
		return err;
	err = ino_get(st, t, vol, ino, &r);
	if (!err) {
		err = store_errno(mdb_del(t, st->db[DB_XATTRS],
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
	return txn_end(st, tx, t, err);
}

