// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * CTL_PUT: writing a file of a volume without a mount.
 *
 * With MODALFS_CTL_F_ATOMIC the file is written under a staging name next
 * to its target and renamed over it by the chunk that carries
 * MODALFS_CTL_F_COMMIT, in the one transaction of that rename: until then
 * readers see the old file whole, and a client that dies, a full store or
 * a daemon crash leave it as it was. The staging file belongs to the
 * connection; it is removed when the connection ends without committing.
 *
 * Permissions are those of the system calls a local copy would make:
 * creating in the directory (write and search on it), or writing the file
 * (write on it); replacing also obeys the sticky-directory rule. New files
 * belong to the caller (group: the directory's when it is setgid); only
 * root may create setuid or setgid files, and root replacing a file keeps
 * its owner and group.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attrs.h"
#include "ctl_priv.h"
#include "genl.h"
#include "log.h"

#define STAGE_PREFIX	".modalfs-put."

/* Concatenates the DATA attributes of the request into buf. */
static size_t gather_data(const struct nlmsghdr *nlh, char *buf, size_t cap)
{
	struct nlattr *a;
	size_t len = 0;
	int rem;

	nlmsg_for_each_attr(a, nlh, GENL_HDRLEN, rem) {
		size_t n = nla_len(a);

		if (nla_type(a) != MODALFS_A_DATA)
			continue;
		if (len + n > cap)
			return SIZE_MAX;
		memcpy(buf + len, nla_data(a), n);
		len += n;
	}
	return len;
}

void modalfs_ctl_stage_abort(struct modalfs_ctl_conn *conn)
{
	struct modalfs_ctl_stage *s = &conn->stage;

	if (!s->active)
		return;
	s->active = false;
	if (!modalfs_store_unlink(conn->st, NULL, s->vol, s->dir, s->tmp)) {
		modalfs_genl_notify(MODALFS_NOTIFY_INVAL_ENTRY, s->vol, s->dir,
				    s->tmp);
		modalfs_ctl_free_orphan(conn->st, s->vol, s->ino);
	}
}

/* The mode bits a new file of the caller gets from the requested mode. */
static uint32_t new_mode(const struct modalfs_ctl_cred *c, uint32_t mode)
{
	return c->uid == 0 ? mode & 07777 : mode & 01777;
}

/*
 * May the caller write the existing target a, or replace it (replace:
 * the rename of an atomic put, which also needs the sticky rule)?
 */
static int may_overwrite(const struct modalfs_ctl_cred *c,
			 const struct modalfs_iattr *dir,
			 const struct modalfs_iattr *a, bool replace)
{
	int err = S_ISDIR(a->mode) ? EISDIR : !S_ISREG(a->mode) ? EINVAL : 0;

	if (!err)
		err = modalfs_ctl_permission(c, a, MODALFS_MAY_WRITE);
	if (!err && replace)
		err = modalfs_ctl_sticky(c, dir, a);
	return err;
}

/* Creates name in sp->dir for the caller; sp->attr gets the new inode. */
static int create_file(struct modalfs_store *st,
		       const struct modalfs_ctl_cred *c,
		       const struct modalfs_iattr *dir, uint64_t vol,
		       const char *name, uint32_t mode,
		       struct modalfs_iattr *out)
{
	uint32_t gid = dir->mode & S_ISGID ? dir->gid : c->gid;
	int err;

	/* Without membership of the group, no setgid (inode_init_owner). */
	if (c->uid && !modalfs_ctl_in_group(c, gid))
		mode &= ~S_ISGID;
	err = modalfs_store_create(st, NULL, vol, dir->ino, name, S_IFREG | mode,
				   c->uid, gid, 0, out);
	if (!err)
		modalfs_genl_notify(MODALFS_NOTIFY_INVAL_ENTRY, vol, dir->ino,
				    name);
	return err;
}

/* Starts the connection's atomic put of sp (path p of volume vol). */
static int stage_begin(const struct modalfs_ctl_req *r,
		       const struct modalfs_store_path *sp,
		       const struct modalfs_iattr *dir, const char *vol,
		       const char *path, uint32_t mode)
{
	struct modalfs_ctl_stage *s = &r->conn->stage;
	const struct modalfs_ctl_cred *c = r->cred;
	struct modalfs_iattr at;
	unsigned char rnd[8];
	int err;

	modalfs_ctl_stage_abort(r->conn);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^
			     (uint64_t)(uintptr_t)s;

		memcpy(rnd, &t, sizeof(rnd));
	}
	snprintf(s->tmp, sizeof(s->tmp),
		 STAGE_PREFIX "%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0],
		 rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	err = create_file(r->st, c, dir, sp->vol, s->tmp, new_mode(c, mode),
			  &at);
	if (err)
		return err;
	/* Root replacing a file keeps its owner, as cp would. */
	if (c->uid == 0 && sp->exists &&
	    (sp->attr.uid != at.uid || sp->attr.gid != at.gid)) {
		struct modalfs_setattr sa = {
			.valid = MODALFS_SET_UID | MODALFS_SET_GID,
			.uid = sp->attr.uid, .gid = sp->attr.gid,
		};

		err = modalfs_store_setattr(r->st, NULL, sp->vol, at.ino, &sa, &at);
	}
	s->active = true;
	s->vol = sp->vol;
	s->dir = sp->dir;
	s->ino = at.ino;
	s->next_off = 0;
	snprintf(s->vol_name, sizeof(s->vol_name), "%s", vol);
	snprintf(s->path, sizeof(s->path), "%s", path);
	snprintf(s->name, sizeof(s->name), "%s", sp->name);
	if (err)
		modalfs_ctl_stage_abort(r->conn);
	return err;
}

/* Renames the staged file over its target: one transaction. */
static int stage_commit(const struct modalfs_ctl_req *r,
			struct modalfs_iattr *attr)
{
	struct modalfs_ctl_stage *s = &r->conn->stage;
	struct modalfs_iattr old;
	bool had_old;
	int err;

	had_old = !modalfs_store_lookup(r->st, s->vol, s->dir, s->name, &old);
	if (had_old && S_ISDIR(old.mode))
		return EISDIR;
	err = modalfs_store_rename(r->st, NULL, s->vol, s->dir, s->tmp, s->dir,
				   s->name, 0);
	if (err)
		return err;
	s->active = false;
	modalfs_genl_notify(MODALFS_NOTIFY_INVAL_ENTRY, s->vol, s->dir, s->tmp);
	modalfs_genl_notify(MODALFS_NOTIFY_INVAL_ENTRY, s->vol, s->dir,
			    s->name);
	if (had_old && old.ino != s->ino) {
		modalfs_genl_notify(MODALFS_NOTIFY_INVAL_INODE, s->vol, old.ino,
				    NULL);
		modalfs_ctl_free_orphan(r->st, s->vol, old.ino);
	}
	return modalfs_store_getattr(r->st, s->vol, s->ino, attr);
}

/* Non-root writes drop setuid and setgid, as file_remove_privs() does. */
static int kill_privs(struct modalfs_store *st,
		      const struct modalfs_ctl_cred *c, uint64_t vol,
		      struct modalfs_iattr *a)
{
	struct modalfs_setattr sa = { .valid = MODALFS_SET_MODE };

	if (c->uid == 0 || !(a->mode & (S_ISUID | S_ISGID)))
		return 0;
	sa.mode = a->mode & ~(uint32_t)S_ISUID;
	if ((a->mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		sa.mode &= ~(uint32_t)S_ISGID;
	if (sa.mode == a->mode)
		return 0;
	return modalfs_store_setattr(st, NULL, vol, a->ino, &sa, a);
}

static int put_reply(const struct modalfs_ctl_req *r,
		     const struct modalfs_iattr *attr)
{
	struct nl_msg *m = modalfs_ctl_ok_msg(r);

	if (m && modalfs_attrs_put_iattr(m, MODALFS_A_ATTR, attr)) {
		nlmsg_free(m);
		return -EMSGSIZE;
	}
	return modalfs_ctl_send(r, m);
}

/* The file this request writes into: *ino, checking what it may. */
static int target(const struct modalfs_ctl_req *r,
		  struct modalfs_store_path *sp, const char *vol,
		  const char *path, uint32_t flags, uint64_t off,
		  uint32_t mode, uint64_t *ino)
{
	const struct modalfs_ctl_cred *c = r->cred;
	struct modalfs_ctl_stage *s = &r->conn->stage;
	struct modalfs_iattr dir;
	int err;

	if ((flags & MODALFS_CTL_F_ATOMIC) && off > 0) {
		if (!s->active || strcmp(s->vol_name, vol) ||
		    strcmp(s->path, path) || s->next_off != off)
			return ESRCH;
		*ino = s->ino;
		return 0;
	}
	err = modalfs_store_getattr(r->st, sp->vol, sp->dir, &dir);
	if (err)
		return err;
	if (sp->exists) {
		err = may_overwrite(c, &dir, &sp->attr,
				    flags & MODALFS_CTL_F_ATOMIC);
		if (err)
			return err;
	}
	if (flags & MODALFS_CTL_F_ATOMIC) {
		err = modalfs_ctl_permission(c, &dir, MODALFS_MAY_WRITE |
					     MODALFS_MAY_EXEC);
		if (!err)
			err = stage_begin(r, sp, &dir, vol, path, mode);
		*ino = s->ino;
		return err;
	}
	if (!sp->exists) {
		err = modalfs_ctl_permission(c, &dir, MODALFS_MAY_WRITE |
					     MODALFS_MAY_EXEC);
		if (!err)
			err = create_file(r->st, c, &dir, sp->vol, sp->name,
					  new_mode(c, mode), &sp->attr);
	} else {
		err = kill_privs(r->st, c, sp->vol, &sp->attr);
	}
	if (!err && (flags & MODALFS_CTL_F_TRUNC) && sp->attr.size != off) {
		struct modalfs_setattr sa = { .valid = MODALFS_SET_SIZE,
					      .size = off };

		err = modalfs_store_setattr(r->st, NULL, sp->vol, sp->attr.ino, &sa,
					    &sp->attr);
	}
	*ino = sp->attr.ino;
	return err;
}

int modalfs_ctl_do_put(const struct modalfs_ctl_req *r)
{
	const uint32_t known = MODALFS_CTL_F_TRUNC | MODALFS_CTL_F_ATOMIC |
			       MODALFS_CTL_F_COMMIT;
	struct modalfs_ctl_stage *s = &r->conn->stage;
	struct modalfs_store_path sp;
	struct modalfs_iattr attr;
	const char *vol, *path;
	uint32_t flags = r->tb[MODALFS_A_FLAGS] ?
			 nla_get_u32(r->tb[MODALFS_A_FLAGS]) : 0;
	uint32_t mode = r->tb[MODALFS_A_MODE] ?
			nla_get_u32(r->tb[MODALFS_A_MODE]) : 0644;
	uint64_t off, ino = 0;
	size_t len;
	char *buf;
	int err, rc;

	if (!modalfs_ctl_resolve(r, true, &sp, &vol, &path, &rc))
		return rc;
	if (!r->tb[MODALFS_A_OFFSET])
		return modalfs_ctl_error(r, EINVAL, "missing offset");
	if ((flags & ~known) || ((flags & MODALFS_CTL_F_COMMIT) &&
				 !(flags & MODALFS_CTL_F_ATOMIC)))
		return modalfs_ctl_error(r, EINVAL, "unknown flags 0x%x",
					 flags);
	off = nla_get_u64(r->tb[MODALFS_A_OFFSET]);
	if (!sp.name[0])
		return modalfs_ctl_error(r, EISDIR, "%s:%s: %s", vol, path,
					 strerror(EISDIR));
	buf = malloc(MODALFS_CTL_IO_MAX);
	if (!buf)
		return -ENOMEM;
	len = gather_data(r->nlh, buf, MODALFS_CTL_IO_MAX);
	if (len == SIZE_MAX) {
		free(buf);
		return modalfs_ctl_error(r, EINVAL,
					 "more than %d bytes of data in one request",
					 MODALFS_CTL_IO_MAX);
	}
	err = target(r, &sp, vol, path, flags, off, mode, &ino);
	memset(&attr, 0, sizeof(attr));
	if (!err)
		err = modalfs_store_getattr(r->st, sp.vol, ino, &attr);
	if (!err && len)
		err = modalfs_store_write(r->st, NULL, sp.vol, ino, off, buf, len,
					  &attr);
	free(buf);
	if (!err && (flags & MODALFS_CTL_F_ATOMIC))
		s->next_off = off + len;
	if (!err && (flags & MODALFS_CTL_F_COMMIT))
		err = stage_commit(r, &attr);
	if (err && (flags & MODALFS_CTL_F_ATOMIC))
		modalfs_ctl_stage_abort(r->conn);
	if (err == ESRCH)
		return modalfs_ctl_error(r, EINVAL,
					 "%s:%s: no atomic put of this file is in progress at offset %llu on this connection",
					 vol, path, (unsigned long long)off);
	if (err)
		return modalfs_ctl_error(r, err, "%s:%s: %s", vol, path,
					 err == EINVAL ? "not a regular file" :
					 err == ENOENT ? "the parent directory does not exist" :
					 strerror(err));
	if (!(flags & MODALFS_CTL_F_ATOMIC))
		modalfs_genl_notify(MODALFS_NOTIFY_INVAL_INODE, sp.vol, ino,
				    NULL);
	return put_reply(r, &attr);
}
