// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Files of a volume over the control channel, without a mount: LS, GET,
 * MKDIR and RM (PUT is ctl_put.c). Every path is walked with the caller's
 * credentials (ctl_perm.c), and each command then asks for the permission
 * its system call would: readdir, open for reading, mkdir, unlink/rmdir.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attrs.h"
#include "ctl_priv.h"
#include "genl.h"
#include "names.h"

/* Entries read per step of rm -r: one batch is held per directory level. */
#define RM_BATCH	32
/* Deeper trees are refused with ELOOP rather than taking unbounded memory. */
#define RM_DEPTH_MAX	1024

static bool check_args(const struct modalfs_ctl_req *r, bool need_path,
		       const char **vol, const char **path, int *rc)
{
	struct nlattr **tb = r->tb;

	*vol = tb[MODALFS_A_VOL_NAME] ? nla_data(tb[MODALFS_A_VOL_NAME]) : NULL;
	*path = tb[MODALFS_A_PATH] ? nla_data(tb[MODALFS_A_PATH]) : "/";
	if (!*vol || (need_path && !tb[MODALFS_A_PATH])) {
		*rc = modalfs_ctl_error(r, EINVAL, "missing %s",
					*vol ? "path" : "volume name");
		return false;
	}
	if (!modalfs_vol_name_valid(*vol)) {
		*rc = modalfs_ctl_error(r, EINVAL,
					"invalid volume name '%s': %s", *vol,
					MODALFS_VOL_NAME_RULE);
		return false;
	}
	if ((*path)[0] != '/') {
		*rc = modalfs_ctl_error(r, EINVAL,
					"%s:%s: the path must be absolute",
					*vol, *path);
		return false;
	}
	return true;
}

int modalfs_ctl_path_error(const struct modalfs_ctl_req *r, int err,
			   const char *vol, const char *path,
			   const struct modalfs_store_path *sp)
{
	if (err == ENOENT && !sp->vol)
		return modalfs_ctl_error(r, ENOENT,
					 "volume '%s' does not exist", vol);
	return modalfs_ctl_error(r, err, "%s:%s: %s", vol, path,
				 err == EINVAL ? "'..' is not allowed in paths" :
				 strerror(err));
}

bool modalfs_ctl_resolve(const struct modalfs_ctl_req *r, bool need_path,
			 struct modalfs_store_path *sp, const char **vol,
			 const char **path, int *rc)
{
	int err;

	if (!check_args(r, need_path, vol, path, rc))
		return false;
	err = modalfs_ctl_walk(r->st, r->cred, *vol, *path, sp);
	if (err) {
		*rc = modalfs_ctl_path_error(r, err, *vol, *path, sp);
		return false;
	}
	return true;
}

void modalfs_ctl_free_orphan(struct modalfs_store *st, uint64_t vol,
			     uint64_t ino)
{
	/*
	 * Checked after the unlink: a superblock made later cannot hold the
	 * inode, and one that holds it is still in sysfs now; it sends the
	 * EVICT itself (or its UMOUNT frees every orphan).
	 */
	if (!modalfs_ctl_vol_alive(vol))
		modalfs_store_evict(st, NULL, vol, ino);
}

struct dent_array {
	struct modalfs_dirent *v;
	size_t n, cap;
};

static int dent_collect(const struct modalfs_dirent *de, void *arg)
{
	struct dent_array *a = arg;

	if (modalfs_ctl_grow(&a->v, a->n, &a->cap, sizeof(*a->v), 64))
		return ENOMEM;
	a->v[a->n++] = *de;
	return 0;
}

static int err_reply(const struct modalfs_ctl_req *r, int err,
		     const char *vol, const char *path)
{
	return modalfs_ctl_error(r, err, "%s:%s: %s", vol, path,
				 strerror(err));
}

int modalfs_ctl_do_ls(const struct modalfs_ctl_req *r)
{
	struct modalfs_store *st = r->st;
	struct modalfs_store_path sp;
	struct dent_array a = { 0 };
	const char *vol, *path;
	uint64_t off = 0;
	bool eof = false;
	struct nl_msg *m;
	int err = 0, rc;

	if (!modalfs_ctl_resolve(r, false, &sp, &vol, &path, &rc))
		return rc;
	if (!sp.exists)
		return err_reply(r, ENOENT, vol, path);
	/*
	 * ls -l of a directory: the readdir's entries carry their attributes,
	 * read in its own transaction, so no entry needs a lookup of its own.
	 */
	if (S_ISDIR(sp.attr.mode) &&
	    modalfs_ctl_permission(r->cred, &sp.attr,
				   MODALFS_MAY_READ | MODALFS_MAY_EXEC))
		return err_reply(r, EACCES, vol, path);
	m = modalfs_ctl_ok_msg(r);
	if (!m)
		return -ENOMEM;
	if (!S_ISDIR(sp.attr.mode)) {
		if (modalfs_ctl_put_entry(m, sp.name, &sp.attr) ||
		    nla_put_flag(m, MODALFS_A_EOF)) {
			nlmsg_free(m);
			return -EMSGSIZE;
		}
		return modalfs_ctl_send(r, m);
	}
	while (!err && !eof) {
		a.n = 0;
		err = modalfs_store_readdir(st, sp.vol, sp.attr.ino, off,
					    MODALFS_READDIR_MAX, dent_collect,
					    &a, &eof);
		for (size_t i = 0; !err && i < a.n; i++) {
			off = a.v[i].cookie;
			if (nlmsg_hdr(m)->nlmsg_len > MODALFS_CTL_LIST_CHUNK) {
				rc = modalfs_ctlmsg_send(r->fd, m);
				nlmsg_free(m);
				m = rc ? NULL : modalfs_ctl_ok_msg(r);
				if (!m) {
					free(a.v);
					return rc ? rc : -ENOMEM;
				}
			}
			if (modalfs_ctl_put_entry(m, a.v[i].name,
						  &a.v[i].attr))
				err = EMSGSIZE;
		}
		if (!a.n)
			break;
	}
	free(a.v);
	if (err) {
		nlmsg_free(m);
		return err_reply(r, err, vol, path);
	}
	if (nla_put_flag(m, MODALFS_A_EOF)) {
		nlmsg_free(m);
		return -EMSGSIZE;
	}
	return modalfs_ctl_send(r, m);
}

int modalfs_ctl_do_get(const struct modalfs_ctl_req *r)
{
	struct modalfs_store *st = r->st;
	struct modalfs_store_path sp;
	const char *vol, *path;
	uint64_t off;
	uint32_t size;
	size_t got = 0;
	struct nl_msg *m;
	char *buf;
	int err, rc;

	if (!modalfs_ctl_resolve(r, true, &sp, &vol, &path, &rc))
		return rc;
	if (!r->tb[MODALFS_A_OFFSET] || !r->tb[MODALFS_A_SIZE])
		return modalfs_ctl_error(r, EINVAL, "missing offset or size");
	off = nla_get_u64(r->tb[MODALFS_A_OFFSET]);
	size = nla_get_u32(r->tb[MODALFS_A_SIZE]);
	if (size < 1 || size > MODALFS_CTL_IO_MAX)
		return modalfs_ctl_error(r, EINVAL, "size must be 1..%d",
					 MODALFS_CTL_IO_MAX);
	err = !sp.exists ? ENOENT : S_ISDIR(sp.attr.mode) ? EISDIR :
	      !S_ISREG(sp.attr.mode) ? EINVAL :
	      modalfs_ctl_permission(r->cred, &sp.attr, MODALFS_MAY_READ);
	if (err)
		return modalfs_ctl_error(r, err, "%s:%s: %s", vol, path,
					 err == EINVAL ? "not a regular file" :
					 strerror(err));
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	err = modalfs_store_read(st, sp.vol, sp.attr.ino, off, size, buf, &got);
	if (!err)
		err = modalfs_store_getattr(st, sp.vol, sp.attr.ino, &sp.attr);
	if (err) {
		free(buf);
		return err_reply(r, err, vol, path);
	}
	m = modalfs_ctl_ok_msg(r);
	rc = m ? modalfs_attrs_put_iattr(m, MODALFS_A_ATTR, &sp.attr) : -ENOMEM;
	for (size_t done = 0; !rc && done < got; done += MODALFS_DATA_CHUNK) {
		size_t n = got - done < MODALFS_DATA_CHUNK ?
			   got - done : MODALFS_DATA_CHUNK;

		if (nla_put(m, MODALFS_A_DATA, n, buf + done))
			rc = -EMSGSIZE;
	}
	free(buf);
	if (rc) {
		nlmsg_free(m);
		return rc;
	}
	return modalfs_ctl_send(r, m);
}

int modalfs_ctl_do_mkdir(const struct modalfs_ctl_req *r)
{
	struct modalfs_store *st = r->st;
	const struct modalfs_ctl_cred *c = r->cred;
	struct modalfs_store_path sp = { 0 };
	uint32_t mode = r->tb[MODALFS_A_MODE] ?
			nla_get_u32(r->tb[MODALFS_A_MODE]) : 0755;
	const char *vol, *path, *p;
	char prefix[MODALFS_PATH_MAX + 1];
	struct nl_msg *m;
	int err = 0, rc;

	if (!check_args(r, true, &vol, &path, &rc))
		return rc;
	/* As mkdir(2): no setuid/setgid from the caller; sticky may stay. */
	mode &= 01777;
	snprintf(prefix, sizeof(prefix), "%s", path);
	/* Walk the path, creating each missing component (mkdir -p). */
	for (p = path; !err;) {
		struct modalfs_iattr parent;
		uint32_t gid = c->gid, m2 = mode;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		p += strcspn(p, "/");
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(p - path), path);
		err = modalfs_ctl_walk(st, c, vol, prefix, &sp);
		if (err)
			break;
		if (sp.exists) {
			if (!S_ISDIR(sp.attr.mode))
				err = ENOTDIR;
			continue;
		}
		err = modalfs_store_getattr(st, sp.vol, sp.dir, &parent);
		if (!err)
			err = modalfs_ctl_permission(c, &parent,
						     MODALFS_MAY_WRITE |
						     MODALFS_MAY_EXEC);
		if (err)
			break;
		/* A setgid directory passes its group and the bit on. */
		if (parent.mode & S_ISGID) {
			gid = parent.gid;
			m2 |= S_ISGID;
		}
		err = modalfs_store_mkdir(st, NULL, sp.vol, sp.dir, sp.name, m2,
					  c->uid, gid, &sp.attr);
		if (err == EEXIST)	/* a racing mkdir */
			err = modalfs_ctl_walk(st, c, vol, prefix, &sp);
		else if (!err)
			modalfs_genl_notify(MODALFS_NOTIFY_INVAL_ENTRY, sp.vol,
					    sp.dir, sp.name);
	}
	if (!err && !path[strspn(path, "/")])
		err = modalfs_ctl_walk(st, c, vol, "/", &sp);
	if (err == ENOTDIR)
		return modalfs_ctl_error(r, err,
					 "%s:%s: exists and is not a directory",
					 vol, prefix);
	if (err)
		return modalfs_ctl_path_error(r, err, vol, prefix, &sp);
	m = modalfs_ctl_ok_msg(r);
	if (m && modalfs_attrs_put_iattr(m, MODALFS_A_ATTR, &sp.attr)) {
		nlmsg_free(m);
		return -EMSGSIZE;
	}
	return modalfs_ctl_send(r, m);
}

/* Removes entry name (attributes a) of directory dir as the caller. */
static int rm_entry(struct modalfs_store *st, const struct modalfs_ctl_cred *c,
		    uint64_t vol, const struct modalfs_iattr *dir,
		    const char *name, const struct modalfs_iattr *a, int depth);

/* Empties directory d of vol, depth first, as the caller. */
static int rm_tree(struct modalfs_store *st, const struct modalfs_ctl_cred *c,
		   uint64_t vol, const struct modalfs_iattr *d, int depth)
{
	struct dent_array a = { 0 };
	bool eof = false;
	int err;

	if (depth > RM_DEPTH_MAX)
		return ELOOP;
	/* rm -r reads, searches and writes every directory it empties. */
	err = modalfs_ctl_permission(c, d, MODALFS_MAY_READ | MODALFS_MAY_WRITE |
				     MODALFS_MAY_EXEC);
	while (!err) {
		a.n = 0;
		/* Entries are removed as they are read: always from the start. */
		err = modalfs_store_readdir(st, vol, d->ino, 0, RM_BATCH,
					    dent_collect, &a, &eof);
		if (err || !a.n)
			break;
		for (size_t i = 0; !err && i < a.n; i++) {
			struct modalfs_iattr at;

			err = modalfs_store_lookup(st, vol, d->ino,
						   a.v[i].name, &at);
			if (err == ENOENT) {	/* raced with another remover */
				err = 0;
				continue;
			}
			if (!err)
				err = rm_entry(st, c, vol, d, a.v[i].name, &at,
					       depth + 1);
		}
	}
	free(a.v);
	return err;
}

static int rm_entry(struct modalfs_store *st, const struct modalfs_ctl_cred *c,
		    uint64_t vol, const struct modalfs_iattr *dir,
		    const char *name, const struct modalfs_iattr *a, int depth)
{
	int err = modalfs_ctl_sticky(c, dir, a);

	if (err)
		return err;
	if (S_ISDIR(a->mode)) {
		if (depth >= 0)
			err = rm_tree(st, c, vol, a, depth);
		if (!err)
			err = modalfs_store_rmdir(st, NULL, vol, dir->ino, name);
	} else {
		err = modalfs_store_unlink(st, NULL, vol, dir->ino, name);
	}
	if (err == ENOENT)	/* raced with another remover */
		return 0;
	if (err)
		return err;
	modalfs_genl_notify(MODALFS_NOTIFY_INVAL_ENTRY, vol, dir->ino, name);
	modalfs_ctl_free_orphan(st, vol, a->ino);
	return 0;
}

int modalfs_ctl_do_rm(const struct modalfs_ctl_req *r)
{
	struct modalfs_store *st = r->st;
	struct modalfs_store_path sp;
	struct modalfs_iattr dir;
	uint32_t flags = r->tb[MODALFS_A_FLAGS] ?
			 nla_get_u32(r->tb[MODALFS_A_FLAGS]) : 0;
	const char *vol, *path;
	int err, rc;

	if (!modalfs_ctl_resolve(r, true, &sp, &vol, &path, &rc))
		return rc;
	if (flags & ~MODALFS_CTL_F_RECURSIVE)
		return modalfs_ctl_error(r, EINVAL, "unknown flags 0x%x",
					 flags);
	if (!sp.name[0])
		return modalfs_ctl_error(r, EBUSY,
					 "%s:%s: cannot remove the root directory (delete the volume instead)",
					 vol, path);
	if (!sp.exists)
		return err_reply(r, ENOENT, vol, path);
	err = modalfs_store_getattr(st, sp.vol, sp.dir, &dir);
	if (!err)
		err = modalfs_ctl_permission(r->cred, &dir,
					     MODALFS_MAY_WRITE | MODALFS_MAY_EXEC);
	if (!err)
		err = rm_entry(st, r->cred, sp.vol, &dir, sp.name, &sp.attr,
			       flags & MODALFS_CTL_F_RECURSIVE ? 0 : -1);
	if (err)
		return modalfs_ctl_error(r, err, "%s:%s: %s%s", vol, path,
					 strerror(err),
					 err == ENOTEMPTY ? " (use -r to remove it and its contents)" : "");
	return modalfs_ctl_send_ok(r);
}
