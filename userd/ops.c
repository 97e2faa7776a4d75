// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The ops: each request, once ops_call.c has decoded and checked it, is
 * run against the store here and its reply values encoded.
 *
 * Exactly once: the ops listed in ops_drc_op() run with a duplicate-request
 * cache entry in their op context (store.h, struct modalfs_txc), so a
 * request id the store already committed is answered from the remembered
 * reply values instead of running again. The cache keeps the newest 65536
 * request ids.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/genetlink.h>
#include <netlink/genl/genl.h>

#include "attrs.h"
#include "log.h"
#include "names.h"
#include "ops_priv.h"

/* Only these members may appear in MODALFS_A_SETATTR. */
static const struct modalfs_pol setattr_policy[MODALFS_ATTR_MAX + 1] = {
	[MODALFS_ATTR_MODE] = U32,
	[MODALFS_ATTR_UID] = U32,
	[MODALFS_ATTR_GID] = U32,
	[MODALFS_ATTR_SIZE] = U64,
	[MODALFS_ATTR_ATIME_SEC] = S64,
	[MODALFS_ATTR_ATIME_NSEC] = U32,
	[MODALFS_ATTR_MTIME_SEC] = S64,
	[MODALFS_ATTR_MTIME_NSEC] = U32,
	[MODALFS_ATTR_CTIME_SEC] = S64,
	[MODALFS_ATTR_CTIME_NSEC] = U32,
};

/* A reply that cannot hold its attributes is the daemon's fault: EIO. */
static int put_attr(struct nl_msg *m, const struct modalfs_iattr *a)
{
	return modalfs_attrs_put_iattr(m, MODALFS_A_ATTR, a) ? EIO : 0;
}

static int op_mount(struct req *r)
{
	struct modalfs_iattr a;
	uint64_t vol;
	int err;

	if (!modalfs_vol_name_valid(str(r, MODALFS_A_VOL_NAME)))
		return EINVAL;
	err = modalfs_store_mount(r->st, str(r, MODALFS_A_VOL_NAME),
				  str(r, MODALFS_A_PATH), &vol, &a);
	if (err)
		return err;
	if (nla_put_u64(r->out, MODALFS_A_VOL_ID, vol))
		return EIO;
	return put_attr(r->out, &a);
}

static int op_statfs(struct req *r)
{
	struct modalfs_statfs s;
	struct nlattr *n;
	int err = modalfs_store_statfs(r->st, r->vol, &s);

	if (err)
		return err;
	n = nla_nest_start(r->out, MODALFS_A_STATFS);
	if (!n ||
	    nla_put_u32(r->out, MODALFS_STATFS_BSIZE, s.bsize) ||
	    nla_put_u64(r->out, MODALFS_STATFS_BLOCKS, s.blocks) ||
	    nla_put_u64(r->out, MODALFS_STATFS_BFREE, s.bfree) ||
	    nla_put_u64(r->out, MODALFS_STATFS_BAVAIL, s.bavail) ||
	    nla_put_u64(r->out, MODALFS_STATFS_FILES, s.files) ||
	    nla_put_u64(r->out, MODALFS_STATFS_FFREE, s.ffree) ||
	    nla_put_u32(r->out, MODALFS_STATFS_NAMELEN, s.namelen))
		return EIO;
	nla_nest_end(r->out, n);
	return 0;
}

/* MODALFS_A_SETATTR into *sa (zeroed first); EINVAL if malformed. */
static int parse_setattr(struct req *r, struct modalfs_setattr *sa)
{
	struct nlattr *tb[MODALFS_ATTR_MAX + 1];
	static const struct {
		int sec, nsec;
		uint32_t bit;
	} times[] = {
		{ MODALFS_ATTR_ATIME_SEC, MODALFS_ATTR_ATIME_NSEC,
		  MODALFS_SET_ATIME },
		{ MODALFS_ATTR_MTIME_SEC, MODALFS_ATTR_MTIME_NSEC,
		  MODALFS_SET_MTIME },
		{ MODALFS_ATTR_CTIME_SEC, MODALFS_ATTR_CTIME_NSEC,
		  MODALFS_SET_CTIME },
	};
	int64_t *secs[] = { &sa->atime_sec, &sa->mtime_sec, &sa->ctime_sec };
	uint32_t *nsecs[] = { &sa->atime_nsec, &sa->mtime_nsec,
			      &sa->ctime_nsec };

	memset(sa, 0, sizeof(*sa));
	if (modalfs_attrs_parse_nested(tb, MODALFS_ATTR_MAX, setattr_policy,
				       r->tb[MODALFS_A_SETATTR]))
		return EINVAL;
	if (tb[MODALFS_ATTR_MODE]) {
		sa->valid |= MODALFS_SET_MODE;
		sa->mode = nla_get_u32(tb[MODALFS_ATTR_MODE]);
		if (sa->mode & ~07777u)
			return EINVAL;
	}
	if (tb[MODALFS_ATTR_UID]) {
		sa->valid |= MODALFS_SET_UID;
		sa->uid = nla_get_u32(tb[MODALFS_ATTR_UID]);
	}
	if (tb[MODALFS_ATTR_GID]) {
		sa->valid |= MODALFS_SET_GID;
		sa->gid = nla_get_u32(tb[MODALFS_ATTR_GID]);
	}
	if (tb[MODALFS_ATTR_SIZE]) {
		sa->valid |= MODALFS_SET_SIZE;
		sa->size = nla_get_u64(tb[MODALFS_ATTR_SIZE]);
		if (sa->size >= 1ULL << 63)
			return EINVAL;
	}
	for (int i = 0; i < 3; i++) {
		if (!tb[times[i].sec] != !tb[times[i].nsec])
			return EINVAL;
		if (!tb[times[i].sec])
			continue;
		sa->valid |= times[i].bit;
		*secs[i] = nla_get_s64(tb[times[i].sec]);
		*nsecs[i] = nla_get_u32(tb[times[i].nsec]);
		if (*nsecs[i] >= 1000000000u)
			return EINVAL;
	}
	return 0;
}

static int op_setattr(struct req *r)
{
	struct modalfs_setattr sa;
	int err = parse_setattr(r, &sa);

	if (!err)
		err = modalfs_store_setattr(r->st, r->tx, r->vol, r->ino, &sa,
					    &r->a);
	return err ? err : put_attr(r->out, &r->a);
}

struct rd_ctx {
	struct nl_msg *out;
};

static int rd_cb(const struct modalfs_dirent *de, void *arg)
{
	struct rd_ctx *c = arg;
	struct nlattr *n = nla_nest_start(c->out, MODALFS_A_DIRENT);

	if (!n ||
	    nla_put_u64(c->out, MODALFS_DIRENT_INO, de->ino) ||
	    nla_put_u32(c->out, MODALFS_DIRENT_TYPE, de->type) ||
	    nla_put_u64(c->out, MODALFS_DIRENT_COOKIE, de->cookie) ||
	    nla_put_string(c->out, MODALFS_DIRENT_NAME, de->name) ||
	    modalfs_attrs_put_iattr(c->out, MODALFS_DIRENT_ATTR, &de->attr))
		return EIO;
	nla_nest_end(c->out, n);
	return 0;
}

static int op_readdir(struct req *r)
{
	uint32_t max = u32(r, MODALFS_A_SIZE);
	struct rd_ctx c = { .out = r->out };
	bool eof;
	int err;

	if (max < 1 || max > MODALFS_READDIR_MAX)
		return EINVAL;
	err = modalfs_store_readdir(r->st, r->vol, r->ino,
				    u64(r, MODALFS_A_OFFSET), max, rd_cb, &c,
				    &eof);
	if (err)
		return err;
	if (eof && nla_put_flag(r->out, MODALFS_A_EOF))
		return EIO;
	return 0;
}

/*
 * CREATE's and MKDIR's optional NODE_INO and SETATTR (an asynchronous
 * create or mkdir): *nn,
 * or NULL without them. SETATTR holds the kernel's times and nothing else.
 */
static int parse_newnode(struct req *r, struct modalfs_newnode *nn,
			 struct modalfs_setattr *times,
			 const struct modalfs_newnode **out)
{
	const uint32_t all_times = MODALFS_SET_ATIME | MODALFS_SET_MTIME |
				   MODALFS_SET_CTIME;
	int err;

	*out = NULL;
	if (!r->tb[MODALFS_A_NODE_INO])
		return r->tb[MODALFS_A_SETATTR] ? EINVAL : 0;
	nn->ino = u64(r, MODALFS_A_NODE_INO);
	nn->times = NULL;
	if (r->tb[MODALFS_A_SETATTR]) {
		err = parse_setattr(r, times);
		if (err)
			return err;
		if (times->valid & ~all_times)
			return EINVAL;
		nn->times = times;
	}
	*out = nn;
	return 0;
}

static int op_make(struct req *r)
{
	struct modalfs_iattr *a = &r->a;
	const char *name = str(r, MODALFS_A_NAME);
	uint32_t uid = u32(r, MODALFS_A_UID), gid = u32(r, MODALFS_A_GID);
	const struct modalfs_newnode *nnp;
	struct modalfs_setattr times;
	struct modalfs_newnode nn;
	int err;

	switch (r->op) {
	case MODALFS_OP_CREATE:
		err = parse_newnode(r, &nn, &times, &nnp);
		if (err)
			return err;
		err = modalfs_store_create_at(r->st, r->tx, r->vol, r->ino,
					      name, u32(r, MODALFS_A_MODE),
					      uid, gid,
					      r->tb[MODALFS_A_RDEV] ?
					      u32(r, MODALFS_A_RDEV) : 0, nnp,
					      a);
		break;
	case MODALFS_OP_MKDIR:
		err = parse_newnode(r, &nn, &times, &nnp);
		if (err)
			return err;
		err = modalfs_store_mkdir_at(r->st, r->tx, r->vol, r->ino,
					     name, u32(r, MODALFS_A_MODE), uid,
					     gid, nnp, a);
		break;
	default:
		err = modalfs_store_symlink(r->st, r->tx, r->vol, r->ino, name,
					    str(r, MODALFS_A_TARGET), uid, gid,
					    a);
		break;
	}
	return err ? err : put_attr(r->out, a);
}

static int op_ino_range(struct req *r)
{
	uint32_t n = u32(r, MODALFS_A_SIZE);
	uint64_t first;
	int err = modalfs_store_ino_range(r->st, r->tx, r->vol, n, &first);

	if (err)
		return err;
	if (nla_put_u64(r->out, MODALFS_A_INO, first) ||
	    nla_put_u32(r->out, MODALFS_A_SIZE, n))
		return EIO;
	return 0;
}

/*
 * INO and the inodes INOS lists, each in its own transaction of the
 * writer's batch (one sync for all of them). The first error is the
 * answer; the rest are still released, and a lost one stays an orphan
 * that UMOUNT or the next start frees.
 */
static int op_evict(struct req *r)
{
	const struct nlattr *a = r->tb[MODALFS_A_INOS];
	int err, first = modalfs_store_evict(r->st, r->tx, r->vol, r->ino);
	size_t i, n = a ? nla_len(a) / sizeof(uint64_t) : 0;

	for (i = 0; i < n; i++) {
		uint64_t ino;

		memcpy(&ino, (const char *)nla_data(a) + i * sizeof(ino),
		       sizeof(ino));
		err = ino ? modalfs_store_evict(r->st, r->tx, r->vol, ino) :
			    EINVAL;
		if (!first)
			first = err;
	}
	return first;
}

static int op_read(struct req *r)
{
	uint32_t size = u32(r, MODALFS_A_SIZE);
	size_t got, done = 0;
	char *buf;
	int err;

	if (size < 1 || size > MODALFS_IO_MAX)
		return EINVAL;
	buf = malloc(size);
	if (!buf)
		return ENOMEM;
	err = modalfs_store_read(r->st, r->vol, r->ino,
				 u64(r, MODALFS_A_OFFSET), size, buf, &got);
	while (!err && done < got) {
		size_t n = got - done;

		if (n > MODALFS_DATA_CHUNK)
			n = MODALFS_DATA_CHUNK;
		if (nla_put(r->out, MODALFS_A_DATA, n, buf + done))
			err = EIO;
		done += n;
	}
	free(buf);
	return err;
}

/*
 * Concatenates the request's DATA chunks into a malloc'd buffer of max
 * bytes; too_big is the errno for a payload over max. Only the last chunk
 * may be shorter than DATA_CHUNK.
 */
int ops_gather_data(struct req *r, size_t max, int too_big, char **out,
		    size_t *lenp)
{
	const struct genlmsghdr *g = nlmsg_data(r->nlh);
	struct nlattr *a;
	char *buf;
	size_t len = 0;
	bool short_seen = false;
	int rem, err = 0;

	/* The exact size: a 1 KiB WRITE need not take a megabyte. */
	nla_for_each_attr(a, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0),
			  rem)
		if (nla_type(a) == MODALFS_A_DATA)
			len += nla_len(a);
	if (len > max)
		return too_big;
	buf = malloc(len ? len : 1);
	if (!buf)
		return ENOMEM;
	len = 0;
	nla_for_each_attr(a, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0),
			  rem) {
		size_t n;

		if (nla_type(a) != MODALFS_A_DATA)
			continue;
		n = nla_len(a);
		if (short_seen) {
			err = EINVAL;
			break;
		}
		if (n != MODALFS_DATA_CHUNK)
			short_seen = true;
		memcpy(buf + len, nla_data(a), n);
		len += n;
	}
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	*lenp = len;
	return 0;
}

static int op_write(struct req *r)
{
	struct modalfs_setattr sa;
	char *buf;
	size_t len;
	int err = 0;

	/* The file's pending SETATTR, riding on its last WRITE; no SIZE. */
	if (r->tb[MODALFS_A_SETATTR]) {
		err = parse_setattr(r, &sa);
		if (!err && (sa.valid & MODALFS_SET_SIZE))
			err = EINVAL;
	}
	if (!err)
		err = r->werr;
	if (err)
		return err;
	buf = r->wbuf;
	len = r->wlen;
	r->size = len;
	err = modalfs_store_write_attrs(r->st, r->tx, r->vol, r->ino,
					u64(r, MODALFS_A_OFFSET), buf, len,
					r->tb[MODALFS_A_SETATTR] ? &sa : NULL,
					&r->a);
	if (err)
		return err;
	if (nla_put_u32(r->out, MODALFS_A_SIZE, len))
		return EIO;
	/* The kernel takes BLOCKS from it; it owns size and times. */
	return put_attr(r->out, &r->a);
}

/* SIZE, then the bytes as DATA chunks (none when empty). */
static int put_data(struct nl_msg *out, const char *buf, size_t len)
{
	size_t done = 0;

	if (nla_put_u32(out, MODALFS_A_SIZE, len))
		return EIO;
	while (done < len) {
		size_t n = len - done;

		if (n > MODALFS_DATA_CHUNK)
			n = MODALFS_DATA_CHUNK;
		if (nla_put(out, MODALFS_A_DATA, n, buf + done))
			return EIO;
		done += n;
	}
	return 0;
}

static int op_getxattr(struct req *r)
{
	char *buf = malloc(MODALFS_XATTR_SIZE_MAX);
	size_t len;
	int err;

	if (!buf)
		return ENOMEM;
	err = modalfs_store_getxattr(r->st, r->vol, r->ino,
				     str(r, MODALFS_A_NAME), buf, &len);
	if (!err)
		err = put_data(r->out, buf, len);
	free(buf);
	return err;
}

static int op_listxattr(struct req *r)
{
	char *buf = malloc(MODALFS_XATTR_LIST_MAX);
	size_t len;
	int err;

	if (!buf)
		return ENOMEM;
	err = modalfs_store_listxattr(r->st, r->vol, r->ino, buf, &len);
	if (!err)
		err = put_data(r->out, buf, len);
	free(buf);
	return err;
}

static int op_setxattr(struct req *r)
{
	char *buf;
	size_t len;
	int err = ops_gather_data(r, MODALFS_XATTR_SIZE_MAX, E2BIG, &buf, &len);

	if (err)
		return err;
	err = modalfs_store_setxattr(r->st, r->tx, r->vol, r->ino,
				     str(r, MODALFS_A_NAME), buf, len,
				     r->tb[MODALFS_A_FLAGS] ?
				     u32(r, MODALFS_A_FLAGS) : 0, &r->a);
	free(buf);
	return err ? err : put_attr(r->out, &r->a);
}

static int dispatch(struct req *r)
{
	struct modalfs_iattr a;
	char *target;
	int err;

	switch (r->op) {
	case MODALFS_OP_MOUNT:
		return op_mount(r);
	case MODALFS_OP_UMOUNT:
		return modalfs_store_umount(r->st, r->vol);
	case MODALFS_OP_STATFS:
		return op_statfs(r);
	case MODALFS_OP_LOOKUP:
		err = modalfs_store_lookup(r->st, r->vol, r->ino,
					   str(r, MODALFS_A_NAME), &a);
		return err ? err : put_attr(r->out, &a);
	case MODALFS_OP_GETATTR:
		err = modalfs_store_getattr(r->st, r->vol, r->ino, &a);
		return err ? err : put_attr(r->out, &a);
	case MODALFS_OP_SETATTR:
		return op_setattr(r);
	case MODALFS_OP_READDIR:
		return op_readdir(r);
	case MODALFS_OP_CREATE:
	case MODALFS_OP_MKDIR:
	case MODALFS_OP_SYMLINK:
		return op_make(r);
	case MODALFS_OP_READLINK:
		target = malloc(MODALFS_SYMLINK_MAX + 1);
		if (!target)
			return ENOMEM;
		err = modalfs_store_readlink(r->st, r->vol, r->ino, target);
		if (!err && nla_put_string(r->out, MODALFS_A_TARGET, target))
			err = EIO;
		free(target);
		return err;
	case MODALFS_OP_LINK:
		err = modalfs_store_link(r->st, r->tx, r->vol, r->ino,
					 u64(r, MODALFS_A_NEW_INO),
					 str(r, MODALFS_A_NEW_NAME), &r->a);
		return err ? err : put_attr(r->out, &r->a);
	case MODALFS_OP_UNLINK:
		return modalfs_store_unlink(r->st, r->tx, r->vol, r->ino,
					    str(r, MODALFS_A_NAME));
	case MODALFS_OP_RMDIR:
		return modalfs_store_rmdir(r->st, r->tx, r->vol, r->ino,
					   str(r, MODALFS_A_NAME));
	case MODALFS_OP_RENAME:
		return modalfs_store_rename(r->st, r->tx, r->vol, r->ino,
					    str(r, MODALFS_A_NAME),
					    u64(r, MODALFS_A_NEW_INO),
					    str(r, MODALFS_A_NEW_NAME),
					    r->tb[MODALFS_A_FLAGS] ?
					    u32(r, MODALFS_A_FLAGS) : 0);
	case MODALFS_OP_READ:
		return op_read(r);
	case MODALFS_OP_WRITE:
		return op_write(r);
	case MODALFS_OP_FSYNC:
		return modalfs_store_fsync(r->st, r->vol, r->ino,
					   r->tb[MODALFS_A_FLAGS] ?
					   u32(r, MODALFS_A_FLAGS) : 0);
	case MODALFS_OP_EVICT:
		return op_evict(r);
	case MODALFS_OP_GETXATTR:
		return op_getxattr(r);
	case MODALFS_OP_SETXATTR:
		return op_setxattr(r);
	case MODALFS_OP_LISTXATTR:
		return op_listxattr(r);
	case MODALFS_OP_REMOVEXATTR:
		err = modalfs_store_removexattr(r->st, r->tx, r->vol, r->ino,
						str(r, MODALFS_A_NAME), &r->a);
		return err ? err : put_attr(r->out, &r->a);
	case MODALFS_OP_INO_RANGE:
		return op_ino_range(r);
	default:
		return EINVAL;
	}
}

bool ops_drc_op(uint32_t op)
{
	switch (op) {
	case MODALFS_OP_CREATE:
	case MODALFS_OP_MKDIR:
	case MODALFS_OP_SYMLINK:
	case MODALFS_OP_LINK:
	case MODALFS_OP_UNLINK:
	case MODALFS_OP_RMDIR:
	case MODALFS_OP_RENAME:
	case MODALFS_OP_SETATTR:
	case MODALFS_OP_WRITE:
	case MODALFS_OP_SETXATTR:
	case MODALFS_OP_REMOVEXATTR:
		return true;
	default:
		return false;
	}
}

static bool drc_has_attr(uint32_t op)
{
	switch (op) {
	case MODALFS_OP_UNLINK:
	case MODALFS_OP_RMDIR:
	case MODALFS_OP_RENAME:
		return false;
	default:
		return true;
	}
}

/*
 * The changed directories' attributes, when the op handed them back; a
 * retransmission answered from the duplicate-request cache goes without
 * (the kernel then refreshes them itself), since the cache keeps only
 * what the op's own reply needs.
 */
static int put_dir_attrs(struct req *r)
{
	unsigned int done = r->tx->dirs_done;

	if ((done & MODALFS_TXC_DIR) &&
	    modalfs_attrs_put_iattr(r->out, MODALFS_A_DIR_ATTR, &r->dir_a))
		return EIO;
	if ((done & MODALFS_TXC_NEW_DIR) &&
	    modalfs_attrs_put_iattr(r->out, MODALFS_A_NEW_DIR_ATTR,
				    &r->new_dir_a))
		return EIO;
	return 0;
}

int ops_run(struct req *r)
{
	int err;

	if (!ops_drc_op(r->op))
		return dispatch(r);
	memset(&r->drc, 0, sizeof(r->drc));
	r->drc.req_id = r->id;
	r->drc.fp = r->fp;
	r->drc.attr = drc_has_attr(r->op) ? &r->a : NULL;
	r->drc.size = r->op == MODALFS_OP_WRITE ? &r->size : NULL;
	r->tx->drc = &r->drc;
	r->tx->dir_out = &r->dir_a;
	r->tx->new_dir_out = &r->new_dir_a;
	r->tx->dirs_done = 0;
	err = dispatch(r);
	r->tx->drc = NULL;
	r->tx->dir_out = r->tx->new_dir_out = NULL;
	if (!err)
		return put_dir_attrs(r);
	if (err != MODALFS_DRC_HIT)
		return err;
	/* A retransmission of a committed op: the same reply again. */
	modalfs_dbg("request %llu answered from the duplicate-request cache",
		    (unsigned long long)r->id);
	if ((r->drc.rep.flags & MODALFS_DRC_SIZE) &&
	    nla_put_u32(r->out, MODALFS_A_SIZE, r->drc.rep.size))
		return EIO;
	if (r->drc.rep.flags & MODALFS_DRC_ATTR)
		return put_attr(r->out, &r->drc.rep.attr);
	return 0;
}
