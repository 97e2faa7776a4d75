// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A kernel request's way through the ops layer, from its datagram to its
 * reply. Every REQUEST is validated strictly (attrs.c) at each nesting
 * level, then its op's required attributes and value ranges are checked
 * before the store is called. A request that names its id but is
 * otherwise invalid is answered EINVAL. Attributes that are valid but not
 * used by the op are ignored, so a newer kernel can add optional ones.
 *
 * Read ops run on the caller's thread (ops.c); write ops go to the
 * store's writer thread, which the caller either waits for or is called
 * back from (modalfs_ops_submit).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/genetlink.h>
#include <netlink/genl/genl.h>

#include "attrs.h"
#include "ops_priv.h"
#include "stats.h"

static const struct modalfs_pol req_policy[MODALFS_A_MAX + 1] = {
	[MODALFS_A_VERSION] = U32,
	[MODALFS_A_REQ_ID] = U64,
	[MODALFS_A_OP] = U32,
	[MODALFS_A_ERRNO] = U32,
	[MODALFS_A_ERRMSG] = STR(0, MODALFS_ERRMSG_MAX),
	[MODALFS_A_VOL_NAME] = STR(1, MODALFS_VOL_NAME_MAX),
	[MODALFS_A_VOL_ID] = U64,
	[MODALFS_A_PATH] = STR(1, MODALFS_PATH_MAX),
	[MODALFS_A_INO] = U64,
	[MODALFS_A_NAME] = STR(1, MODALFS_NAME_MAX),
	[MODALFS_A_NEW_INO] = U64,
	[MODALFS_A_NEW_NAME] = STR(1, MODALFS_NAME_MAX),
	[MODALFS_A_TARGET] = STR(1, MODALFS_SYMLINK_MAX),
	[MODALFS_A_MODE] = U32,
	[MODALFS_A_UID] = U32,
	[MODALFS_A_GID] = U32,
	[MODALFS_A_RDEV] = U32,
	[MODALFS_A_FLAGS] = U32,
	[MODALFS_A_OFFSET] = U64,
	[MODALFS_A_SIZE] = U32,
	[MODALFS_A_DATA] = { .type = MODALFS_PT_BINARY, .multi = true,
			     .min = 1, .max = MODALFS_DATA_CHUNK },
	[MODALFS_A_ATTR] = { .type = MODALFS_PT_NESTED },
	[MODALFS_A_SETATTR] = { .type = MODALFS_PT_NESTED },
	[MODALFS_A_STATFS] = { .type = MODALFS_PT_NESTED },
	[MODALFS_A_DIRENT] = { .type = MODALFS_PT_NESTED, .multi = true },
	[MODALFS_A_EOF] = { .type = MODALFS_PT_FLAG },
	[MODALFS_A_APP_ID] = STR(1, MODALFS_APP_ID_MAX),
	[MODALFS_A_VOLUME] = { .type = MODALFS_PT_NESTED, .multi = true },
	[MODALFS_A_DIR_ATTR] = { .type = MODALFS_PT_NESTED },
	[MODALFS_A_NEW_DIR_ATTR] = { .type = MODALFS_PT_NESTED },
	[MODALFS_A_ASYNC] = { .type = MODALFS_PT_FLAG },
	[MODALFS_A_NODE_INO] = U64,
	[MODALFS_A_FENCE] = { .type = MODALFS_PT_FLAG },
	[MODALFS_A_INOS] = { .type = MODALFS_PT_BINARY, .min = sizeof(uint64_t),
			     .max = (MODALFS_EVICT_MAX - 1) *
				    sizeof(uint64_t) },
};

#define B(a) (1ULL << (a))
#define VI (B(MODALFS_A_VOL_ID) | B(MODALFS_A_INO))

static const uint64_t op_required[MODALFS_OP_MAX + 1] = {
	[MODALFS_OP_MOUNT] = B(MODALFS_A_VOL_NAME),
	[MODALFS_OP_UMOUNT] = B(MODALFS_A_VOL_ID),
	[MODALFS_OP_STATFS] = B(MODALFS_A_VOL_ID),
	[MODALFS_OP_LOOKUP] = VI | B(MODALFS_A_NAME),
	[MODALFS_OP_GETATTR] = VI,
	[MODALFS_OP_SETATTR] = VI | B(MODALFS_A_SETATTR),
	[MODALFS_OP_READDIR] = VI | B(MODALFS_A_OFFSET) | B(MODALFS_A_SIZE),
	[MODALFS_OP_CREATE] = VI | B(MODALFS_A_NAME) | B(MODALFS_A_MODE) |
			      B(MODALFS_A_UID) | B(MODALFS_A_GID),
	[MODALFS_OP_MKDIR] = VI | B(MODALFS_A_NAME) | B(MODALFS_A_MODE) |
			     B(MODALFS_A_UID) | B(MODALFS_A_GID),
	[MODALFS_OP_SYMLINK] = VI | B(MODALFS_A_NAME) | B(MODALFS_A_TARGET) |
			       B(MODALFS_A_UID) | B(MODALFS_A_GID),
	[MODALFS_OP_READLINK] = VI,
	[MODALFS_OP_LINK] = VI | B(MODALFS_A_NEW_INO) | B(MODALFS_A_NEW_NAME),
	[MODALFS_OP_UNLINK] = VI | B(MODALFS_A_NAME),
	[MODALFS_OP_RMDIR] = VI | B(MODALFS_A_NAME),
	[MODALFS_OP_RENAME] = VI | B(MODALFS_A_NAME) | B(MODALFS_A_NEW_INO) |
			      B(MODALFS_A_NEW_NAME),
	[MODALFS_OP_READ] = VI | B(MODALFS_A_OFFSET) | B(MODALFS_A_SIZE),
	[MODALFS_OP_WRITE] = VI | B(MODALFS_A_OFFSET) | B(MODALFS_A_DATA),
	[MODALFS_OP_FSYNC] = VI,
	[MODALFS_OP_EVICT] = VI,
	[MODALFS_OP_GETXATTR] = VI | B(MODALFS_A_NAME),
	[MODALFS_OP_SETXATTR] = VI | B(MODALFS_A_NAME),
	[MODALFS_OP_LISTXATTR] = VI,
	[MODALFS_OP_REMOVEXATTR] = VI | B(MODALFS_A_NAME),
	[MODALFS_OP_INO_RANGE] = B(MODALFS_A_VOL_ID) | B(MODALFS_A_SIZE),
};

static bool is_xattr_op(uint32_t op)
{
	return op >= MODALFS_OP_GETXATTR && op <= MODALFS_OP_REMOVEXATTR;
}

/*
 * Name attributes must also be valid path components (the store checks
 * again). NAME of an xattr op is an xattr name, checked by the store.
 */
static int check_names(struct req *r)
{
	static const int names[] = { MODALFS_A_NAME, MODALFS_A_NEW_NAME };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int err;

		if (!r->tb[names[i]] ||
		    (names[i] == MODALFS_A_NAME && is_xattr_op(r->op)))
			continue;
		err = modalfs_store_name_check(str(r, names[i]));
		if (err)
			return err;
	}
	return 0;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h;
}

/*
 * FNV-1a over 8-byte words (then the tail bytes): a WRITE's megabyte is
 * hashed eight times faster than byte by byte.
 */
static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (; n >= 8; n -= 8, b += 8) {
		uint64_t w;

		memcpy(&w, b, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return fnv(h, b, n);
}

/*
 * The request's identity beyond its id: op, ids, names, offset and the
 * payload's bytes, i.e. what a retransmission repeats exactly. The bytes,
 * not just their length: a WRITE taken for the retransmission of another
 * one of the same length would silently not be applied.
 */
static uint64_t fingerprint(struct req *r)
{
	static const int types[] = {
		MODALFS_A_NAME, MODALFS_A_NEW_INO, MODALFS_A_NEW_NAME,
		MODALFS_A_TARGET, MODALFS_A_OFFSET, MODALFS_A_MODE,
		MODALFS_A_FLAGS, MODALFS_A_SETATTR,
	};
	uint64_t h = 0xcbf29ce484222325ULL;
	const struct genlmsghdr *g = nlmsg_data(r->nlh);
	struct nlattr *a;
	int rem;

	h = fnv(h, &r->op, sizeof(r->op));
	h = fnv(h, &r->vol, sizeof(r->vol));
	h = fnv(h, &r->ino, sizeof(r->ino));
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct nlattr *t = r->tb[types[i]];

		h = fnv(h, &types[i], sizeof(types[i]));
		if (t)
			h = fnv(h, nla_data(t), nla_len(t));
	}
	nla_for_each_attr(a, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0),
			  rem)
		if (nla_type(a) == MODALFS_A_DATA)
			h = hash_bytes(h, nla_data(a), nla_len(a));
	return h;
}

/*
 * Write ops that run on the writer (one transaction each, in a batch).
 * UMOUNT is not one: it frees orphans in transactions of its own, bounded
 * whatever their number.
 */
static bool is_write_op(uint32_t op)
{
	/* The non-idempotent ops, and two that are idempotent but write. */
	return ops_drc_op(op) || op == MODALFS_OP_EVICT ||
	       op == MODALFS_OP_INO_RANGE;
}

struct batch_arg {
	struct req *r;
	int err;
};

static int batch_fn(struct modalfs_txc *tx, void *p)
{
	struct batch_arg *b = p;

	b->r->tx = tx;
	b->err = ops_run(b->r);
	b->r->tx = NULL;
	return 0;
}

/* Validates what the store does not: presence, ids, names, flag masks. */
static int check_req(struct req *r)
{
	uint64_t req = op_required[r->op];

	for (int t = 1; t <= MODALFS_A_MAX; t++)
		if ((req & B(t)) && !r->tb[t])
			return EINVAL;
	if (r->tb[MODALFS_A_VOL_ID]) {
		r->vol = u64(r, MODALFS_A_VOL_ID);
		if (!r->vol)
			return EINVAL;
	}
	if (r->tb[MODALFS_A_INO]) {
		r->ino = u64(r, MODALFS_A_INO);
		if (!r->ino)
			return EINVAL;
	}
	if (r->tb[MODALFS_A_NEW_INO] && !u64(r, MODALFS_A_NEW_INO))
		return EINVAL;
	if (r->tb[MODALFS_A_NODE_INO] && r->op != MODALFS_OP_CREATE &&
	    r->op != MODALFS_OP_MKDIR)
		return EINVAL;
	if (r->tb[MODALFS_A_FENCE] && !r->tb[MODALFS_A_ASYNC])
		return EINVAL;
	if (r->tb[MODALFS_A_INOS] && (r->op != MODALFS_OP_EVICT ||
				      nla_len(r->tb[MODALFS_A_INOS]) %
				      sizeof(uint64_t)))
		return EINVAL;
	if (r->op == MODALFS_OP_RENAME && r->tb[MODALFS_A_FLAGS] &&
	    (u32(r, MODALFS_A_FLAGS) & ~MODALFS_RENAME_FLAGS))
		return EINVAL;
	if (r->op == MODALFS_OP_FSYNC && r->tb[MODALFS_A_FLAGS] &&
	    (u32(r, MODALFS_A_FLAGS) & ~MODALFS_FSYNC_FLAGS))
		return EINVAL;
	if (r->op == MODALFS_OP_WRITE && r->tb[MODALFS_A_FLAGS] &&
	    (u32(r, MODALFS_A_FLAGS) & ~MODALFS_WRITE_FLAGS))
		return EINVAL;
	if (r->op == MODALFS_OP_SETXATTR && r->tb[MODALFS_A_FLAGS] &&
	    (u32(r, MODALFS_A_FLAGS) & ~MODALFS_XATTR_FLAGS))
		return EINVAL;
	return check_names(r);
}

/*
 * Only a READ reply can be as large as MODALFS_MSG_MAX, and it is sized
 * by the bytes it asks for; READDIR's and the xattr reads' fit in the
 * 128 KiB all messages had before protocol version 3, a READLINK's in
 * a target and REPLY_TINY_MAX, and every other one (attributes) in
 * REPLY_TINY_MAX. libnl zeroes what nlmsg_alloc_size allocates, which
 * under TCG costs about as much per byte as the rest of a small op does
 * in all (128 KiB for every op before 2026-12-07, 16 KiB until the day
 * after), so a reply is allocated at REPLY_TINY_MAX and only grown
 * (nlmsg_expand, which does not zero) when its op needs more.
 */
#define REPLY_SMALL_MAX (2 * MODALFS_XATTR_SIZE_MAX)
#define REPLY_TINY_MAX 1024
/*
 * ATTR: its header and 14 members (3 u64 and 3 s64 of 12 bytes, 8 u32
 * of 8). The fullest small reply is a namespace op's: ERRNO, REQ_ID,
 * SIZE, the node's ATTR and both directories' (DIR_ATTR, NEW_DIR_ATTR),
 * behind the netlink and genl headers.
 */
#define ATTR_NEST_MAX (4 + 6 * 12 + 8 * 8)
_Static_assert(NLMSG_HDRLEN + GENL_HDRLEN + 8 + 12 + 8 + 3 * ATTR_NEST_MAX +
	       64 <= REPLY_TINY_MAX, "every small reply fits");
/*
 * The largest DIRENT, READDIRPLUS's ATTR included: its header, INO, TYPE,
 * COOKIE, a NAME_MAX name, and ATTR's header and 14 members (3 u64 and 3
 * s64 of 12 bytes, 8 u32 of 8), so that a full READDIR always fits.
 */
#define RD_DIRENT_MAX (4 + 12 + 8 + 12 + NLA_ALIGN(4 + MODALFS_NAME_MAX + 1) + \
		       ATTR_NEST_MAX)
_Static_assert(MODALFS_READDIR_MAX * RD_DIRENT_MAX + 4096 <= REPLY_SMALL_MAX,
	       "a READDIR reply of MODALFS_READDIR_MAX entries fits");

static size_t reply_size(struct req *r)
{
	uint32_t n;

	switch (r->op) {
	case MODALFS_OP_READ:
		/* The bytes asked for, in DATA chunks of a 4-byte header each. */
		n = u32(r, MODALFS_A_SIZE);
		if (n > MODALFS_IO_MAX)
			return REPLY_TINY_MAX;	/* op_read refuses it */
		return n + (n / MODALFS_DATA_CHUNK + 1) * NLA_HDRLEN +
		       REPLY_TINY_MAX;
	case MODALFS_OP_READDIR:
	case MODALFS_OP_GETXATTR:
	case MODALFS_OP_LISTXATTR:
		return REPLY_SMALL_MAX;
	case MODALFS_OP_READLINK:
		return MODALFS_SYMLINK_MAX + 1 + REPLY_TINY_MAX;
	default:
		return REPLY_TINY_MAX;
	}
}

static struct nl_msg *new_reply(int family, uint64_t req_id, size_t size)
{
	struct nl_msg *m = nlmsg_alloc_size(REPLY_TINY_MAX);

	if (!m)
		return NULL;
	if (size > REPLY_TINY_MAX && nlmsg_expand(m, size)) {
		nlmsg_free(m);
		return NULL;
	}
	if (!genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0,
			 MODALFS_CMD_REPLY, MODALFS_GENL_VERSION) ||
	    nla_put_u64(m, MODALFS_A_REQ_ID, req_id)) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

struct nl_msg *modalfs_ops_error_reply(int family, uint64_t req_id, int err)
{
	struct nl_msg *m = new_reply(family, req_id, REPLY_TINY_MAX);

	if (m && nla_put_u32(m, MODALFS_A_ERRNO, err)) {
		nlmsg_free(m);
		m = NULL;
	}
	return m;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/*
 * One request on its way through the ops layer. A write op submitted to
 * the writer thread outlives the call that took it, so all of it is here,
 * not on that call's stack.
 */
struct op_call {
	struct req r;
	struct batch_arg b;
	struct modalfs_batch_req br;
	uint64_t t0;
	int family;
	uint32_t op;		/* 0: too malformed to name one */
	bool stable;		/* a WRITE that is also an FSYNC */
	modalfs_ops_done done;	/* NULL: the caller waits */
	void *ctx;
};

/* The reply for a decoded request that ran: its own, or err's. */
static struct nl_msg *finish(struct op_call *c, int err, int *errp)
{
	if (!err)
		return c->r.out;
	if (err >= 4096 || err < 0)
		err = EIO;
	*errp = err;
	nlmsg_free(c->r.out);
	c->r.out = NULL;
	return modalfs_ops_error_reply(c->family, c->r.id, err);
}

/*
 * The reply for a write op whose batch returned err: the batch's error,
 * else the op's; a STABLE WRITE is synced first, also when the cache
 * answered it (a resend to a daemon that died before syncing).
 */
static struct nl_msg *committed(struct op_call *c, int err, int *errp)
{
	if (!err)
		err = c->b.err;
	if (!err && c->stable)
		err = modalfs_store_fsync(c->r.st, c->r.vol, c->r.ino, 0);
	return finish(c, err, errp);
}

static void count(struct op_call *c, struct nl_msg *reply, int err)
{
	/* Requests too malformed to name their op are not counted. */
	if (c->op)
		modalfs_stats_op(modalfs_store_stats(c->r.st), c->op,
				 reply ? err : EIO, now_ns() - c->t0);
}

static void free_call(struct op_call *c)
{
	free(c->r.wbuf);
	free(c);
}

/* The writer thread's callback for a submitted write op (ops.h). */
static void batch_done(struct modalfs_batch_req *br, int err)
{
	struct op_call *c = (struct op_call *)((char *)br -
					       offsetof(struct op_call, br));
	struct nl_msg *reply;
	int e = 0;

	/*
	 * On the writer thread between two batches, rather than on a worker
	 * woken for it: under TCG every thread a synchronous request passes
	 * through costs a wakeup of the other vCPU.
	 */
	reply = committed(c, err, &e);
	count(c, reply, e);
	c->done(c->ctx, reply, c->r.id);
	free_call(c);
}

/*
 * Decodes and runs c's request. Returns its reply, or NULL: when the
 * request was too malformed to name an id, or when memory ran out; or,
 * with *pending set, when it went to the writer thread, which answers it
 * through c->done (and then owns c).
 */
static struct nl_msg *handle(struct op_call *c, const struct nlmsghdr *nlh,
			     uint64_t *req_id, int *errp, bool *pending)
{
	struct req *r = &c->r;
	const struct genlmsghdr *g;
	int family = c->family;
	uint64_t id;
	int err;

	*req_id = 0;
	if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return NULL;
	g = nlmsg_data(nlh);
	if (g->cmd != MODALFS_CMD_REQUEST)
		return NULL;
	if (modalfs_attrs_parse(r->tb, MODALFS_A_MAX, req_policy,
				genlmsg_attrdata(g, 0),
				genlmsg_attrlen(g, 0))) {
		/* Salvage the id so the caller does not wait forever. */
		struct nlattr *a;
		int rem;

		nla_for_each_attr(a, genlmsg_attrdata(g, 0),
				  genlmsg_attrlen(g, 0), rem) {
			if (nla_type(a) == MODALFS_A_REQ_ID &&
			    nla_len(a) == 8 && nla_get_u64(a)) {
				*req_id = nla_get_u64(a);
				return modalfs_ops_error_reply(family, *req_id, EINVAL);
			}
		}
		return NULL;
	}
	if (!r->tb[MODALFS_A_REQ_ID] || !(id = u64(r, MODALFS_A_REQ_ID)))
		return NULL;
	*req_id = id;
	r->id = id;
	if (g->version != MODALFS_GENL_VERSION || !r->tb[MODALFS_A_OP])
		return modalfs_ops_error_reply(family, id, EINVAL);
	r->op = u32(r, MODALFS_A_OP);
	if (r->op < 1 || r->op > MODALFS_OP_MAX)
		return modalfs_ops_error_reply(family, id, EINVAL);
	c->op = r->op;
	err = check_req(r);
	if (err) {
		*errp = err;
		return modalfs_ops_error_reply(family, id, err);
	}
	r->out = new_reply(family, id, reply_size(r));
	if (!r->out)
		return NULL;
	if (nla_put_u32(r->out, MODALFS_A_ERRNO, 0)) {
		nlmsg_free(r->out);
		return modalfs_ops_error_reply(family, id, EIO);
	}
	if (!is_write_op(r->op))
		return finish(c, ops_run(r), errp);

	/*
	 * Hashing and copying a WRITE's megabyte are done here, on the
	 * caller's thread, so that the writer thread only applies ops.
	 */
	if (ops_drc_op(r->op))
		r->fp = fingerprint(r);
	if (r->op == MODALFS_OP_WRITE)
		r->werr = ops_gather_data(r, MODALFS_IO_MAX, EINVAL, &r->wbuf,
					  &r->wlen);
	c->b.r = r;
	c->stable = r->op == MODALFS_OP_WRITE && r->tb[MODALFS_A_FLAGS] &&
		    (u32(r, MODALFS_A_FLAGS) & MODALFS_WRITE_STABLE);
	if (c->done) {
		c->br.fn = batch_fn;
		c->br.arg = &c->b;
		c->br.done = batch_done;
		if (!modalfs_store_batch_submit(r->st, &c->br)) {
			*pending = true;
			return NULL;
		}
	}
	return committed(c, modalfs_store_batch(r->st, batch_fn, &c->b), errp);
}

struct nl_msg *modalfs_ops_submit(struct modalfs_store *st,
				  const struct nlmsghdr *nlh, int family,
				  uint64_t *req_id, modalfs_ops_done done,
				  void *ctx, bool *pending)
{
	struct op_call *c = calloc(1, sizeof(*c));
	struct nl_msg *reply;
	int err = 0;

	*pending = false;
	if (!c) {
		*req_id = 0;
		return NULL;
	}
	c->r.st = st;
	c->r.nlh = nlh;
	c->t0 = now_ns();
	c->family = family;
	c->done = done;
	c->ctx = ctx;
	reply = handle(c, nlh, req_id, &err, pending);
	if (*pending)
		return NULL;
	count(c, reply, err);
	free_call(c);
	return reply;
}

struct nl_msg *modalfs_ops_handle(struct modalfs_store *st,
				  const struct nlmsghdr *nlh, int family,
				  uint64_t *req_id)
{
	bool pending;

	return modalfs_ops_submit(st, nlh, family, req_id, NULL, NULL,
				  &pending);
}

int modalfs_ops_reply_errno(struct nl_msg *reply)
{
	struct nlmsghdr *nlh = nlmsg_hdr(reply);
	struct genlmsghdr *g = nlmsg_data(nlh);
	struct nlattr *tb[MODALFS_A_MAX + 1];

	if (modalfs_attrs_parse(tb, MODALFS_A_MAX, req_policy,
				genlmsg_attrdata(g, 0),
				genlmsg_attrlen(g, 0)) || !tb[MODALFS_A_ERRNO])
		return -1;
	return nla_get_u32(tb[MODALFS_A_ERRNO]);
}
