// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cmocka tests of protocol v2 through the request decode layer
 * (userd/ops.c): the duplicate-request cache (a retransmitted request id
 * gets the same reply and changes state once, also across a daemon
 * restart), the xattr ops' wire encoding, and ENOSPC on a full map.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/genetlink.h>
#include <netlink/genl/genl.h>

#include "../../userd/log.h"
#include "../../userd/ops.h"
#include "../../userd/stats.h"
#include "../../userd/store.h"
#include "fixture.h"

#define FAMILY 0x42
#define ROOT MODALFS_ROOT_INO

static struct nl_msg *req(uint32_t op, uint64_t id, uint64_t vol,
			  uint64_t ino)
{
	struct nl_msg *m = nlmsg_alloc_size(MODALFS_MSG_MAX * 2);

	assert_non_null(m);
	assert_non_null(genlmsg_put(m, 0, 1, FAMILY, 0, 0,
				    MODALFS_CMD_REQUEST,
				    MODALFS_GENL_VERSION));
	assert_int_equal(nla_put_u64(m, MODALFS_A_REQ_ID, id), 0);
	assert_int_equal(nla_put_u32(m, MODALFS_A_OP, op), 0);
	assert_int_equal(nla_put_u64(m, MODALFS_A_VOL_ID, vol), 0);
	assert_int_equal(nla_put_u64(m, MODALFS_A_INO, ino), 0);
	return m;
}

/* Runs m (which is kept, so it can be sent again); returns the errno. */
static int resend(struct fx *f, struct nl_msg *m, struct nl_msg **reply_out)
{
	uint64_t id;
	struct nl_msg *reply = modalfs_ops_handle(f->st, nlmsg_hdr(m), FAMILY,
						  &id);
	int err;

	assert_non_null(reply);
	assert_true(nlmsg_hdr(reply)->nlmsg_len <= MODALFS_MSG_MAX);
	err = modalfs_ops_reply_errno(reply);
	if (reply_out)
		*reply_out = reply;
	else
		nlmsg_free(reply);
	return err;
}

static int run(struct fx *f, struct nl_msg *m, struct nl_msg **reply_out)
{
	int err = resend(f, m, reply_out);

	nlmsg_free(m);
	return err;
}

static struct nlattr *rattr(struct nl_msg *r, int type)
{
	return nlmsg_find_attr(nlmsg_hdr(r), GENL_HDRLEN, type);
}

static uint64_t reply_ino(struct nl_msg *r)
{
	struct nlattr *tb[MODALFS_ATTR_MAX + 1];

	assert_non_null(rattr(r, MODALFS_A_ATTR));
	assert_int_equal(nla_parse_nested(tb, MODALFS_ATTR_MAX,
					  rattr(r, MODALFS_A_ATTR), NULL), 0);
	for (int i = 1; i <= MODALFS_ATTR_MAX; i++)
		assert_non_null(tb[i]);
	return nla_get_u64(tb[MODALFS_ATTR_INO]);
}

/*
 * Copies the reply's genl header and attributes to buf, leaving out the
 * changed directories' attributes (DIR_ATTR, NEW_DIR_ATTR); returns the
 * bytes copied.
 */
static size_t without_dir_attrs(struct nl_msg *m, unsigned char *buf,
				size_t cap)
{
	struct nlmsghdr *h = nlmsg_hdr(m);
	struct nlattr *a;
	size_t n = GENL_HDRLEN;
	int rem;

	assert_true(cap >= n);
	memcpy(buf, nlmsg_data(h), n);
	nlmsg_for_each_attr(a, h, GENL_HDRLEN, rem) {
		if (nla_type(a) == MODALFS_A_DIR_ATTR ||
		    nla_type(a) == MODALFS_A_NEW_DIR_ATTR)
			continue;
		assert_true(n + NLA_ALIGN(a->nla_len) <= cap);
		memcpy(buf + n, a, NLA_ALIGN(a->nla_len));
		n += NLA_ALIGN(a->nla_len);
	}
	return n;
}

/*
 * replay, the duplicate-request cache's answer to a retransmission,
 * carries exactly the attributes of the first reply, byte for byte,
 * except the changed directories' (DIR_ATTR, NEW_DIR_ATTR): the cache
 * does not keep them, as they may be older than the kernel's view of the
 * directory by now (netlink/modalfs.h, op table).
 */
static void same_reply(struct nl_msg *first, struct nl_msg *replay)
{
	static unsigned char x[MODALFS_MSG_MAX], y[MODALFS_MSG_MAX];
	size_t nx = without_dir_attrs(first, x, sizeof(x));
	size_t ny = without_dir_attrs(replay, y, sizeof(y));

	assert_null(rattr(replay, MODALFS_A_DIR_ATTR));
	assert_null(rattr(replay, MODALFS_A_NEW_DIR_ATTR));
	assert_int_equal(nx, ny);
	assert_memory_equal(x, y, nx);
}

static struct nl_msg *named(uint32_t op, uint64_t id, struct fx *f,
			    uint64_t dir, const char *name)
{
	struct nl_msg *m = req(op, id, f->vol, dir);

	nla_put_string(m, MODALFS_A_NAME, name);
	return m;
}

static struct nl_msg *create_req(struct fx *f, uint64_t id, uint64_t dir,
				 const char *name, uint32_t mode)
{
	struct nl_msg *m = named(S_ISDIR(mode) ? MODALFS_OP_MKDIR :
				 MODALFS_OP_CREATE, id, f, dir, name);

	nla_put_u32(m, MODALFS_A_MODE, mode);
	nla_put_u32(m, MODALFS_A_UID, 0);
	nla_put_u32(m, MODALFS_A_GID, 0);
	return m;
}

static uint64_t create(struct fx *f, uint64_t id, const char *name)
{
	struct nl_msg *r;
	uint64_t ino;

	assert_int_equal(run(f, create_req(f, id, ROOT, name, S_IFREG | 0644),
			     &r), 0);
	ino = reply_ino(r);
	nlmsg_free(r);
	return ino;
}

static void add_data(struct nl_msg *m, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		size_t n = len - done > MODALFS_DATA_CHUNK ?
			   MODALFS_DATA_CHUNK : len - done;

		assert_int_equal(nla_put(m, MODALFS_A_DATA, n,
					 (const char *)buf + done), 0);
		done += n;
	}
}

static struct modalfs_iattr getattr(struct fx *f, uint64_t ino)
{
	struct modalfs_iattr a;

	assert_int_equal(modalfs_store_getattr(f->st, f->vol, ino, &a), 0);
	return a;
}

static bool exists(struct fx *f, uint64_t dir, const char *name)
{
	struct modalfs_iattr a;

	return !modalfs_store_lookup(f->st, f->vol, dir, name, &a);
}

/* ---- duplicate-request cache ---- */

/*
 * The brief's scenario: an op commits, the daemon "crashes" before the
 * reply leaves (the reply is dropped), the kernel resends the same id.
 */
static void t_drc_create(void **state)
{
	struct fx *f = *state;
	struct nl_msg *m = create_req(f, 1000, ROOT, "f", S_IFREG | 0644);
	struct nl_msg *r1, *r2;
	uint64_t ino, next;

	assert_int_equal(resend(f, m, &r1), 0);
	ino = reply_ino(r1);
	/* Without the cache this would be EEXIST. */
	assert_int_equal(resend(f, m, &r2), 0);
	same_reply(r1, r2);
	nlmsg_free(r2);
	/* Across a daemon restart too. */
	modalfs_store_close(f->st);
	assert_int_equal(modalfs_store_open(&f->st, f->dir, 0), 0);
	assert_int_equal(resend(f, m, &r2), 0);
	same_reply(r1, r2);
	nlmsg_free(r1);
	nlmsg_free(r2);
	nlmsg_free(m);
	/* State changed once: one inode number used, one link. */
	assert_int_equal(getattr(f, ino).nlink, 1);
	next = create(f, 1001, "g");
	assert_int_equal(next, ino + 1);
	assert_int_equal(modalfs_store_check_open(f->st, stderr), 0);
}

static void t_drc_each_op(void **state)
{
	struct fx *f = *state;
	uint64_t a = create(f, 1, "a"), d;
	struct nl_msg *m, *r1, *r2;
	static unsigned char buf[40000];
	uint64_t blocks;

	/* MKDIR */
	m = create_req(f, 2, ROOT, "d", S_IFDIR | 0755);
	assert_int_equal(resend(f, m, &r1), 0);
	d = reply_ino(r1);
	assert_int_equal(resend(f, m, &r2), 0);
	same_reply(r1, r2);
	nlmsg_free(r1);
	nlmsg_free(r2);
	nlmsg_free(m);
	assert_int_equal(getattr(f, ROOT).nlink, 3);

	/* SYMLINK */
	m = named(MODALFS_OP_SYMLINK, 3, f, d, "s");
	nla_put_string(m, MODALFS_A_TARGET, "../a");
	nla_put_u32(m, MODALFS_A_UID, 0);
	nla_put_u32(m, MODALFS_A_GID, 0);
	assert_int_equal(resend(f, m, &r1), 0);
	assert_int_equal(resend(f, m, &r2), 0);
	same_reply(r1, r2);
	nlmsg_free(r1);
	nlmsg_free(r2);
	nlmsg_free(m);

	/* LINK: nlink 2, not 3, and the same ATTR (nlink 2) twice. */
	m = req(MODALFS_OP_LINK, 4, f->vol, a);
	nla_put_u64(m, MODALFS_A_NEW_INO, d);
	nla_put_string(m, MODALFS_A_NEW_NAME, "hard");
	assert_int_equal(resend(f, m, &r1), 0);
	assert_int_equal(resend(f, m, &r2), 0);
	same_reply(r1, r2);
	nlmsg_free(r1);
	nlmsg_free(r2);
	nlmsg_free(m);
	assert_int_equal(getattr(f, a).nlink, 2);

	/* WRITE: SIZE and ATTR repeated; the data went in once. */
	memset(buf, 0x61, sizeof(buf));
	m = req(MODALFS_OP_WRITE, 5, f->vol, a);
	nla_put_u64(m, MODALFS_A_OFFSET, 0);
	add_data(m, buf, sizeof(buf));
	assert_int_equal(resend(f, m, &r1), 0);
	blocks = getattr(f, a).blocks;
	assert_int_equal(resend(f, m, &r2), 0);
	same_reply(r1, r2);
	assert_int_equal(nla_get_u32(rattr(r2, MODALFS_A_SIZE)), sizeof(buf));
	nlmsg_free(r1);
	nlmsg_free(r2);
	nlmsg_free(m);
	assert_int_equal(getattr(f, a).blocks, blocks);
	assert_int_equal(getattr(f, a).size, sizeof(buf));

	/* SETATTR: the remembered ATTR, though ctime would differ now. */
	m = req(MODALFS_OP_SETATTR, 6, f->vol, a);
	{
		struct nlattr *n = nla_nest_start(m, MODALFS_A_SETATTR);

		nla_put_u64(m, MODALFS_ATTR_SIZE, 10);
		nla_nest_end(m, n);
	}
	assert_int_equal(resend(f, m, &r1), 0);
	usleep(2000);
	assert_int_equal(resend(f, m, &r2), 0);
	same_reply(r1, r2);
	nlmsg_free(r1);
	nlmsg_free(r2);
	nlmsg_free(m);
	assert_int_equal(getattr(f, a).size, 10);

	/* SETXATTR with CREATE: the resend is not EEXIST. */
	m = named(MODALFS_OP_SETXATTR, 7, f, a, "user.x");
	nla_put(m, MODALFS_A_DATA, 3, "abc");
	nla_put_u32(m, MODALFS_A_FLAGS, MODALFS_XATTR_CREATE);
	assert_int_equal(resend(f, m, &r1), 0);
	assert_int_equal(resend(f, m, &r2), 0);
	same_reply(r1, r2);
	nlmsg_free(r1);
	nlmsg_free(r2);
	nlmsg_free(m);

	/* REMOVEXATTR: the resend is not ENODATA. */
	m = named(MODALFS_OP_REMOVEXATTR, 8, f, a, "user.x");
	assert_int_equal(resend(f, m, &r1), 0);
	assert_int_equal(resend(f, m, &r2), 0);
	same_reply(r1, r2);
	nlmsg_free(r1);
	nlmsg_free(r2);
	nlmsg_free(m);

	/* RENAME a -> b: the resend is not ENOENT and moves nothing. */
	m = named(MODALFS_OP_RENAME, 9, f, ROOT, "a");
	nla_put_u64(m, MODALFS_A_NEW_INO, ROOT);
	nla_put_string(m, MODALFS_A_NEW_NAME, "b");
	assert_int_equal(resend(f, m, NULL), 0);
	/* Someone makes a new "a" meanwhile; the resend must not move it. */
	create(f, 10, "a");
	assert_int_equal(resend(f, m, NULL), 0);
	nlmsg_free(m);
	assert_true(exists(f, ROOT, "a"));
	assert_true(exists(f, ROOT, "b"));

	/* UNLINK: the resend does not remove the new "b". */
	m = named(MODALFS_OP_UNLINK, 11, f, ROOT, "b");
	assert_int_equal(resend(f, m, NULL), 0);
	create(f, 12, "b");
	assert_int_equal(resend(f, m, NULL), 0);
	nlmsg_free(m);
	assert_true(exists(f, ROOT, "b"));

	/* RMDIR likewise. */
	assert_int_equal(run(f, named(MODALFS_OP_UNLINK, 13, f, d, "s"),
			     NULL), 0);
	assert_int_equal(run(f, named(MODALFS_OP_UNLINK, 14, f, d, "hard"),
			     NULL), 0);
	m = named(MODALFS_OP_RMDIR, 15, f, ROOT, "d");
	assert_int_equal(resend(f, m, NULL), 0);
	assert_int_equal(run(f, create_req(f, 16, ROOT, "d", S_IFDIR | 0700),
			     NULL), 0);
	assert_int_equal(resend(f, m, NULL), 0);
	nlmsg_free(m);
	assert_true(exists(f, ROOT, "d"));
	assert_int_equal(modalfs_store_check_open(f->st, stderr), 0);
}

/*
 * An id that comes back with a different request (ids restarting after a
 * host clock was set back) is not a retransmission: the new op runs.
 */
static void t_drc_same_id_other_request(void **state)
{
	struct fx *f = *state;
	struct nl_msg *r1, *r2;

	assert_int_equal(run(f, create_req(f, 500, ROOT, "a", S_IFREG | 0644),
			     &r1), 0);
	assert_int_equal(run(f, create_req(f, 500, ROOT, "b", S_IFREG | 0644),
			     &r2), 0);
	assert_int_not_equal(reply_ino(r1), reply_ino(r2));
	assert_true(exists(f, ROOT, "b"));
	nlmsg_free(r1);
	nlmsg_free(r2);
	/* Same name, other mode: also a different request. */
	assert_int_equal(run(f, create_req(f, 501, ROOT, "c", S_IFREG | 0644),
			     NULL), 0);
	assert_int_equal(run(f, create_req(f, 501, ROOT, "c", S_IFREG | 0600),
			     NULL), EEXIST);
	/* A write of another length at the same id runs too. */
	{
		uint64_t ino = create(f, 502, "w");
		struct nl_msg *m = req(MODALFS_OP_WRITE, 503, f->vol, ino);

		nla_put_u64(m, MODALFS_A_OFFSET, 0);
		nla_put(m, MODALFS_A_DATA, 3, "abc");
		assert_int_equal(run(f, m, NULL), 0);
		m = req(MODALFS_OP_WRITE, 503, f->vol, ino);
		nla_put_u64(m, MODALFS_A_OFFSET, 0);
		nla_put(m, MODALFS_A_DATA, 5, "abcde");
		assert_int_equal(run(f, m, NULL), 0);
		assert_int_equal(getattr(f, ino).size, 5);
	}
	/*
	 * A write of the same length at the same offset but other bytes is
	 * another request too: it is applied (issue 12, item 11).
	 */
	{
		uint64_t ino = create(f, 504, "v");
		struct nl_msg *m = req(MODALFS_OP_WRITE, 505, f->vol, ino);
		char buf[8];
		size_t got;

		nla_put_u64(m, MODALFS_A_OFFSET, 0);
		nla_put(m, MODALFS_A_DATA, 4, "old!");
		assert_int_equal(run(f, m, NULL), 0);
		m = req(MODALFS_OP_WRITE, 505, f->vol, ino);
		nla_put_u64(m, MODALFS_A_OFFSET, 0);
		nla_put(m, MODALFS_A_DATA, 4, "new!");
		assert_int_equal(run(f, m, NULL), 0);
		assert_int_equal(modalfs_store_read(f->st, f->vol, ino, 0, 4,
						    buf, &got), 0);
		assert_int_equal(got, 4);
		assert_memory_equal(buf, "new!", 4);
	}
}

/*
 * Request ids are (random epoch << 32 | counter) per module load, so a
 * new load's ids may be lower than the last load's. The cache prunes by
 * the order entries were recorded in: with a bound of 4, the new load's
 * newest creates are still answered from the cache after the old load's
 * higher ids (issue 12, item 6: pruning the lowest ids pruned every new
 * entry at once, and a replayed CREATE got EEXIST).
 */
static void t_drc_epochs(void **state)
{
	struct fx *f = *state;
	uint64_t old_epoch = 0xf00dULL << 32, new_epoch = 0x0badULL << 32;
	struct nl_msg *m[4];
	char name[16];

	modalfs_store_drc_bound(f->st, 4);
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "old%d", i);
		assert_int_equal(run(f, create_req(f, old_epoch | (i + 1), ROOT,
						   name, S_IFREG | 0644),
				     NULL), 0);
	}
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "new%d", i);
		m[i] = create_req(f, new_epoch | (i + 1), ROOT, name,
				  S_IFREG | 0644);
		assert_int_equal(resend(f, m[i], NULL), 0);
	}
	/* All four of the new load are remembered, the old load's gone. */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(resend(f, m[i], NULL), 0);
		nlmsg_free(m[i]);
	}
	assert_int_equal(run(f, create_req(f, old_epoch | 6, ROOT, "old5",
					   S_IFREG | 0644), NULL), EEXIST);
	assert_int_equal(modalfs_store_check_open(f->st, stderr), 0);
}

/*
 * A failed op committed nothing and is not remembered: sent again, it runs
 * again against the current state (so nothing can happen twice).
 */
static void t_drc_failure_not_cached(void **state)
{
	struct fx *f = *state;
	struct nl_msg *m = named(MODALFS_OP_UNLINK, 20, f, ROOT, "x");

	assert_int_equal(resend(f, m, NULL), ENOENT);
	create(f, 21, "x");
	assert_int_equal(resend(f, m, NULL), 0);
	assert_false(exists(f, ROOT, "x"));
	nlmsg_free(m);
}

/* Idempotent ops are not cached: a resent GETATTR sees the new state. */
static void t_drc_reads_not_cached(void **state)
{
	struct fx *f = *state;
	uint64_t ino = create(f, 30, "x");
	struct nl_msg *m = req(MODALFS_OP_GETATTR, 31, f->vol, ino);

	assert_int_equal(resend(f, m, NULL), 0);
	assert_int_equal(run(f, named(MODALFS_OP_UNLINK, 32, f, ROOT, "x"),
			     NULL), 0);
	assert_int_equal(modalfs_store_evict(f->st, NULL, f->vol, ino), 0);
	assert_int_equal(resend(f, m, NULL), ESTALE);
	nlmsg_free(m);
}

/*
 * The cache keeps the newest ids: after more than its bound of later ops,
 * the first id is forgotten and a resend runs again (EEXIST here), while
 * the newest are still answered from the cache. With a bound of 50 here;
 * with the real 65536 under MODALFS_LONG (65536+ commits take a while).
 */
static void t_drc_bound(void **state)
{
	struct fx *f = *state;
	struct nl_msg **m;
	int bound = getenv("MODALFS_LONG") ? 65536 : 50, n = bound + 12;
	char name[32];

	if (bound != 65536)
		modalfs_store_drc_bound(f->st, bound);
	m = calloc(n, sizeof(*m));
	assert_non_null(m);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		m[i] = create_req(f, 100 + i, ROOT, name, S_IFREG | 0644);
		assert_int_equal(resend(f, m[i], NULL), 0);
		/* Right after, it is remembered. */
		assert_int_equal(resend(f, m[i], NULL), 0);
	}
	/* Exactly the newest bound ids are kept; the others run again. */
	assert_int_equal(resend(f, m[0], NULL), EEXIST);
	assert_int_equal(resend(f, m[n - bound - 1], NULL), EEXIST);
	assert_int_equal(resend(f, m[n - bound], NULL), 0);
	assert_int_equal(resend(f, m[n - 1], NULL), 0);
	for (int i = 0; i < n; i++)
		nlmsg_free(m[i]);
	free(m);
}

/* ---- xattr ops on the wire ---- */

static int getx(struct fx *f, uint64_t ino, const char *name, void *buf,
		uint32_t *len)
{
	struct nl_msg *r;
	struct nlattr *a;
	int rem, err = run(f, named(MODALFS_OP_GETXATTR, 1, f, ino, name),
			   &r);
	uint32_t got = 0;

	if (err) {
		assert_null(rattr(r, MODALFS_A_SIZE));
		nlmsg_free(r);
		return err;
	}
	assert_non_null(rattr(r, MODALFS_A_SIZE));
	*len = nla_get_u32(rattr(r, MODALFS_A_SIZE));
	nlmsg_for_each_attr(a, nlmsg_hdr(r), GENL_HDRLEN, rem) {
		if (nla_type(a) != MODALFS_A_DATA)
			continue;
		/* Chunks are full except the last. */
		assert_true(got % MODALFS_DATA_CHUNK == 0);
		memcpy((char *)buf + got, nla_data(a), nla_len(a));
		got += nla_len(a);
	}
	assert_int_equal(got, *len);
	nlmsg_free(r);
	return 0;
}

static int setx(struct fx *f, uint64_t id, uint64_t ino, const char *name,
		const void *val, size_t len, int flags)
{
	struct nl_msg *m = named(MODALFS_OP_SETXATTR, id, f, ino, name), *r;
	int err;

	add_data(m, val, len);
	if (flags >= 0)
		nla_put_u32(m, MODALFS_A_FLAGS, flags);
	err = run(f, m, &r);
	if (!err)
		assert_int_equal(reply_ino(r), ino);
	nlmsg_free(r);
	return err;
}

static void t_xattr_ops(void **state)
{
	struct fx *f = *state;
	uint64_t ino = create(f, 40, "f");
	static unsigned char big[MODALFS_XATTR_SIZE_MAX + 1], got[70000];
	struct nl_msg *r;
	uint32_t len;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 13 + 1);
	assert_int_equal(getx(f, ino, "user.a", got, &len), ENODATA);
	/* Empty value: SIZE 0 and no DATA. */
	assert_int_equal(setx(f, 41, ino, "user.empty", NULL, 0, -1), 0);
	assert_int_equal(getx(f, ino, "user.empty", got, &len), 0);
	assert_int_equal(len, 0);
	/* The largest value: two full chunks, byte-exact back. */
	assert_int_equal(setx(f, 42, ino, "user.big", big,
			      MODALFS_XATTR_SIZE_MAX, 0), 0);
	assert_int_equal(getx(f, ino, "user.big", got, &len), 0);
	assert_int_equal(len, MODALFS_XATTR_SIZE_MAX);
	assert_memory_equal(got, big, len);
	/* One byte more: E2BIG, and nothing changed. */
	assert_int_equal(setx(f, 43, ino, "user.big", big,
			      MODALFS_XATTR_SIZE_MAX + 1, 0), E2BIG);
	assert_int_equal(getx(f, ino, "user.big", got, &len), 0);
	assert_int_equal(len, MODALFS_XATTR_SIZE_MAX);
	/* Names: any prefix but the three is EOPNOTSUPP; '/' is fine. */
	assert_int_equal(setx(f, 44, ino, "system.posix_acl_access", "x", 1,
			      -1), EOPNOTSUPP);
	assert_int_equal(getx(f, ino, "foo", got, &len), EOPNOTSUPP);
	assert_int_equal(setx(f, 45, ino, "user.a/b", "x", 1, -1), 0);
	/* Flags. */
	assert_int_equal(setx(f, 46, ino, "user.a/b", "y", 1,
			      MODALFS_XATTR_CREATE), EEXIST);
	assert_int_equal(setx(f, 47, ino, "user.new", "y", 1,
			      MODALFS_XATTR_REPLACE), ENODATA);
	assert_int_equal(setx(f, 48, ino, "user.new", "y", 1, 4), EINVAL);
	/* A short chunk before a full one is malformed. */
	{
		struct nl_msg *m = named(MODALFS_OP_SETXATTR, 49, f, ino,
					 "user.c");

		nla_put(m, MODALFS_A_DATA, 10, big);
		nla_put(m, MODALFS_A_DATA, 10, big);
		assert_int_equal(run(f, m, NULL), EINVAL);
	}
	/* LISTXATTR: SIZE + the NUL-terminated names. */
	assert_int_equal(run(f, req(MODALFS_OP_LISTXATTR, 50, f->vol, ino),
			     &r), 0);
	len = nla_get_u32(rattr(r, MODALFS_A_SIZE));
	assert_int_equal(len, sizeof("user.empty") + sizeof("user.big") +
			 sizeof("user.a/b"));
	assert_int_equal(nla_len(rattr(r, MODALFS_A_DATA)), len);
	assert_non_null(memmem(nla_data(rattr(r, MODALFS_A_DATA)), len,
			       "user.a/b", sizeof("user.a/b")));
	nlmsg_free(r);
	/* REMOVEXATTR: ATTR back, then ENODATA. */
	assert_int_equal(run(f, named(MODALFS_OP_REMOVEXATTR, 51, f, ino,
				      "user.big"), &r), 0);
	assert_int_equal(reply_ino(r), ino);
	nlmsg_free(r);
	assert_int_equal(run(f, named(MODALFS_OP_REMOVEXATTR, 52, f, ino,
				      "user.big"), NULL), ENODATA);
	/* An inode without xattrs lists SIZE 0 and no DATA. */
	assert_int_equal(run(f, req(MODALFS_OP_LISTXATTR, 53, f->vol, ROOT),
			     &r), 0);
	assert_int_equal(nla_get_u32(rattr(r, MODALFS_A_SIZE)), 0);
	assert_null(rattr(r, MODALFS_A_DATA));
	nlmsg_free(r);
	/* Missing NAME is malformed. */
	assert_int_equal(run(f, req(MODALFS_OP_GETXATTR, 54, f->vol, ino),
			     NULL), EINVAL);
	assert_int_equal(run(f, req(MODALFS_OP_LISTXATTR, 55, f->vol, 999),
			     NULL), ESTALE);
}

/* File names on the wire: invalid ones are EINVAL. */
static void t_names_ops(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f, create_req(f, 60, ROOT, "a/b", S_IFREG | 0644),
			     NULL), EINVAL);
	assert_int_equal(run(f, create_req(f, 61, ROOT, "..", S_IFREG | 0644),
			     NULL), EINVAL);
	assert_int_equal(run(f, named(MODALFS_OP_LOOKUP, 62, f, ROOT, "."),
			     NULL), EINVAL);
}

/* ---- ENOSPC ---- */

static void t_enospc_cycle(void **state)
{
	struct fx *f = *state;
	static unsigned char buf[MODALFS_IO_MAX];
	uint64_t ino = create(f, 70, "big"), off = 0, id = 100;
	struct nl_msg *m;
	int err = 0, files;
	char name[32];

	memset(buf, 1, sizeof(buf));
	for (;;) {
		m = req(MODALFS_OP_WRITE, id++, f->vol, ino);
		nla_put_u64(m, MODALFS_A_OFFSET, off);
		add_data(m, buf, sizeof(buf));
		err = run(f, m, NULL);
		if (err)
			break;
		off += sizeof(buf);
		/* Logged writes count before their fold (store_ilog.c). */
		if (off > (8 << 20))
			break;
	}
	assert_int_equal(err, ENOSPC);
	assert_true(off <= (2 << 20));
	for (files = 0; ; files++) {
		snprintf(name, sizeof(name), "f%d", files);
		err = run(f, create_req(f, id++, ROOT, name, S_IFREG | 0644),
			  NULL);
		if (err)
			break;
	}
	assert_int_equal(err, ENOSPC);
	assert_int_equal(setx(f, id++, ROOT, "user.x", "1", 1, -1), ENOSPC);
	assert_int_equal(modalfs_store_check_open(f->st, stderr), 0);
	/* Deleting works on the full map, with its DRC records. */
	for (int i = 0; i < files; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		assert_int_equal(run(f, named(MODALFS_OP_UNLINK, id++, f, ROOT,
					      name), NULL), 0);
	}
	assert_int_equal(run(f, named(MODALFS_OP_UNLINK, id++, f, ROOT, "big"),
			     NULL), 0);
	assert_int_equal(run(f, req(MODALFS_OP_EVICT, id++, f->vol, ino),
			     NULL), 0);
	assert_int_equal(run(f, req(MODALFS_OP_UMOUNT, id++, f->vol, ROOT),
			     NULL), 0);
	/* Usable again. */
	ino = create(f, id++, "again");
	m = req(MODALFS_OP_WRITE, id++, f->vol, ino);
	nla_put_u64(m, MODALFS_A_OFFSET, 0);
	add_data(m, buf, sizeof(buf));
	assert_int_equal(run(f, m, NULL), 0);
	assert_int_equal(setx(f, id++, ROOT, "user.x", "1", 1, -1), 0);
	assert_int_equal(modalfs_store_check_open(f->st, stderr), 0);
}

/* The reply's DIR_ATTR or NEW_DIR_ATTR (type) is the store's dir, now. */
static void dir_attr_is(struct fx *f, struct nl_msg *r, int type,
			uint64_t dir)
{
	struct nlattr *tb[MODALFS_ATTR_MAX + 1];
	struct modalfs_iattr d = getattr(f, dir);

	assert_non_null(rattr(r, type));
	assert_int_equal(nla_parse_nested(tb, MODALFS_ATTR_MAX,
					  rattr(r, type), NULL), 0);
	for (int i = 1; i <= MODALFS_ATTR_MAX; i++)
		assert_non_null(tb[i]);
	assert_int_equal(nla_get_u64(tb[MODALFS_ATTR_INO]), dir);
	assert_int_equal(nla_get_u32(tb[MODALFS_ATTR_MODE]), d.mode);
	assert_true(S_ISDIR(d.mode));
	assert_int_equal(nla_get_u32(tb[MODALFS_ATTR_NLINK]), d.nlink);
	assert_int_equal(nla_get_u64(tb[MODALFS_ATTR_SIZE]), d.size);
	assert_int_equal((int64_t)nla_get_u64(tb[MODALFS_ATTR_MTIME_SEC]),
			 d.mtime_sec);
	assert_int_equal(nla_get_u32(tb[MODALFS_ATTR_MTIME_NSEC]),
			 d.mtime_nsec);
	assert_int_equal((int64_t)nla_get_u64(tb[MODALFS_ATTR_CTIME_SEC]),
			 d.ctime_sec);
	assert_int_equal(nla_get_u32(tb[MODALFS_ATTR_CTIME_NSEC]),
			 d.ctime_nsec);
}

/*
 * Each namespace op's reply carries the attributes of the directory it
 * changed as its transaction left them (DIR_ATTR; RENAME across
 * directories also NEW_DIR_ATTR), so the kernel needs no GETATTR of the
 * parent; a failed op carries none.
 */
static void t_dir_attrs(void **state)
{
	struct fx *f = *state;
	struct nl_msg *r, *m;
	uint64_t d, a;

	assert_int_equal(run(f, create_req(f, 1, ROOT, "d", S_IFDIR | 0755),
			     &r), 0);
	d = reply_ino(r);
	dir_attr_is(f, r, MODALFS_A_DIR_ATTR, ROOT);
	assert_null(rattr(r, MODALFS_A_NEW_DIR_ATTR));
	assert_int_equal(getattr(f, ROOT).nlink, 3);
	nlmsg_free(r);

	assert_int_equal(run(f, create_req(f, 2, d, "a", S_IFREG | 0644),
			     &r), 0);
	a = reply_ino(r);
	dir_attr_is(f, r, MODALFS_A_DIR_ATTR, d);
	nlmsg_free(r);

	m = named(MODALFS_OP_SYMLINK, 3, f, d, "s");
	nla_put_string(m, MODALFS_A_TARGET, "a");
	nla_put_u32(m, MODALFS_A_UID, 0);
	nla_put_u32(m, MODALFS_A_GID, 0);
	assert_int_equal(run(f, m, &r), 0);
	dir_attr_is(f, r, MODALFS_A_DIR_ATTR, d);
	nlmsg_free(r);

	/* LINK: the directory that got the entry, NEW_INO. */
	m = req(MODALFS_OP_LINK, 4, f->vol, a);
	nla_put_u64(m, MODALFS_A_NEW_INO, ROOT);
	nla_put_string(m, MODALFS_A_NEW_NAME, "hard");
	assert_int_equal(run(f, m, &r), 0);
	dir_attr_is(f, r, MODALFS_A_DIR_ATTR, ROOT);
	nlmsg_free(r);

	/* RENAME within one directory: DIR_ATTR only. */
	m = named(MODALFS_OP_RENAME, 5, f, d, "s");
	nla_put_u64(m, MODALFS_A_NEW_INO, d);
	nla_put_string(m, MODALFS_A_NEW_NAME, "s2");
	assert_int_equal(run(f, m, &r), 0);
	dir_attr_is(f, r, MODALFS_A_DIR_ATTR, d);
	assert_null(rattr(r, MODALFS_A_NEW_DIR_ATTR));
	nlmsg_free(r);

	/* RENAME across directories: both. */
	m = named(MODALFS_OP_RENAME, 6, f, d, "a");
	nla_put_u64(m, MODALFS_A_NEW_INO, ROOT);
	nla_put_string(m, MODALFS_A_NEW_NAME, "a");
	assert_int_equal(run(f, m, &r), 0);
	dir_attr_is(f, r, MODALFS_A_DIR_ATTR, d);
	dir_attr_is(f, r, MODALFS_A_NEW_DIR_ATTR, ROOT);
	nlmsg_free(r);

	assert_int_equal(run(f, named(MODALFS_OP_UNLINK, 7, f, d, "s2"), &r),
			 0);
	dir_attr_is(f, r, MODALFS_A_DIR_ATTR, d);
	nlmsg_free(r);

	/* A failed op: the error alone. */
	assert_int_equal(run(f, create_req(f, 8, ROOT, "a", S_IFREG | 0644),
			     &r), EEXIST);
	assert_null(rattr(r, MODALFS_A_DIR_ATTR));
	nlmsg_free(r);
	assert_int_equal(run(f, named(MODALFS_OP_RMDIR, 9, f, ROOT, "a"), &r),
			 ENOTDIR);
	assert_null(rattr(r, MODALFS_A_DIR_ATTR));
	nlmsg_free(r);

	assert_int_equal(run(f, named(MODALFS_OP_RMDIR, 10, f, ROOT, "d"), &r),
			 0);
	dir_attr_is(f, r, MODALFS_A_DIR_ATTR, ROOT);
	assert_int_equal(getattr(f, ROOT).nlink, 2);
	nlmsg_free(r);

	/* Ops that change no directory carry none. */
	m = req(MODALFS_OP_GETATTR, 11, f->vol, a);
	assert_int_equal(run(f, m, &r), 0);
	assert_null(rattr(r, MODALFS_A_DIR_ATTR));
	nlmsg_free(r);
	assert_int_equal(modalfs_store_check_open(f->st, stderr), 0);
}

/* ---- the intent log (userd/store_ilog.c) ---- */

/* A WRITE of len bytes of c at off, with request id id. */
static struct nl_msg *write_req(struct fx *f, uint64_t id, uint64_t ino,
				uint64_t off, int c, size_t len)
{
	static unsigned char buf[65536];
	struct nl_msg *m = req(MODALFS_OP_WRITE, id, f->vol, ino);

	assert_true(len <= sizeof(buf));
	memset(buf, c, len);
	nla_put_u64(m, MODALFS_A_OFFSET, off);
	add_data(m, buf, len);
	return m;
}

static int64_t reply_mtime_ns(struct nl_msg *r)
{
	struct nlattr *tb[MODALFS_ATTR_MAX + 1];

	assert_int_equal(nla_parse_nested(tb, MODALFS_ATTR_MAX,
					  rattr(r, MODALFS_A_ATTR), NULL), 0);
	return nla_get_s64(tb[MODALFS_ATTR_MTIME_SEC]) * 1000000000LL +
	       nla_get_u32(tb[MODALFS_ATTR_MTIME_NSEC]);
}

static int64_t mtime_ns(struct modalfs_iattr a)
{
	return a.mtime_sec * 1000000000LL + a.mtime_nsec;
}

static off_t log_size(struct fx *f)
{
	char path[128];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/intent.log", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

static int first_byte(struct fx *f, uint64_t ino, uint64_t off)
{
	unsigned char c;
	size_t got;

	assert_int_equal(modalfs_store_read(f->st, f->vol, ino, off, 1, &c,
					    &got), 0);
	assert_int_equal(got, 1);
	return c;
}

/*
 * A WRITE goes to the log, not to LMDB: no commit, the log grows, and
 * readers see the new size, blocks, mtime and bytes at once. Its cache
 * entry is there too: a retransmission after a later overwrite gets the
 * first reply and does not write its bytes again, before the next commit
 * folds the log in and after (here: a close).
 */
static void t_ilog_write(void **state)
{
	struct fx *f = *state;
	uint64_t a = create(f, 1, "a");
	struct modalfs_stats_snapshot s0, s1;
	struct nl_msg *w1, *r1, *r2;
	struct modalfs_volinfo vi;

	modalfs_stats_snapshot(modalfs_store_stats(f->st), &s0);
	assert_int_equal(log_size(f), 0);
	assert_int_equal(run(f, write_req(f, 2, a, 0, 'x', 8192), NULL), 0);
	w1 = write_req(f, 3, a, 4096, 'y', 4096);
	assert_int_equal(resend(f, w1, &r1), 0);
	modalfs_stats_snapshot(modalfs_store_stats(f->st), &s1);
	assert_int_equal(s1.commits, s0.commits);
	assert_true(log_size(f) > 0);
	assert_int_equal(mtime_ns(getattr(f, a)), reply_mtime_ns(r1));
	assert_int_equal(getattr(f, a).size, 8192);
	assert_true(getattr(f, a).blocks >= 16);
	assert_int_equal(first_byte(f, a, 0), 'x');
	assert_int_equal(first_byte(f, a, 4096), 'y');

	assert_int_equal(run(f, write_req(f, 4, a, 4096, 'z', 4096), NULL), 0);
	assert_int_equal(resend(f, w1, &r2), 0);
	same_reply(r1, r2);
	nlmsg_free(r2);
	assert_int_equal(first_byte(f, a, 4096), 'z');

	/* A create commits and folds the log in on the way. */
	create(f, 5, "b");
	assert_int_equal(mtime_ns(getattr(f, a)) >= reply_mtime_ns(r1), 1);
	assert_int_equal(getattr(f, a).size, 8192);
	assert_int_equal(first_byte(f, a, 0), 'x');
	assert_int_equal(modalfs_store_check_open(f->st, stderr), 0);
	modalfs_store_close(f->st);
	assert_int_equal(modalfs_store_open(&f->st, f->dir, 0), 0);
	assert_int_equal(log_size(f), 0);
	assert_int_equal(modalfs_store_vol_persisted(f->st, "vol", &vi), 0);
	assert_int_equal(resend(f, w1, &r2), 0);
	same_reply(r1, r2);
	assert_int_equal(first_byte(f, a, 4096), 'z');
	nlmsg_free(r1);
	nlmsg_free(r2);
	nlmsg_free(w1);
	assert_int_equal(modalfs_store_check_open(f->st, stderr), 0);
}

/*
 * A daemon killed with records in the log that no commit folded: the
 * next start applies them (size, block map, counters, times and cache
 * entries) and empties the log.
 */
static void t_ilog_replay(void **state)
{
	struct fx *f = *state;
	uint64_t a = create(f, 1, "a");
	struct nl_msg *w, *r;
	int64_t want;
	int fd[2], status;
	pid_t pid;

	assert_int_equal(run(f, write_req(f, 2, a, 0, 'x', 8192), NULL), 0);
	modalfs_store_close(f->st);
	f->st = NULL;
	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		/* An append past an object, three overwrites, no close. */
		if (modalfs_store_open(&f->st, f->dir, 0))
			_exit(2);
		w = write_req(f, 9, a, (4 << 20) - 4096, 'q', 8192);
		if (resend(f, w, &r))
			_exit(3);
		for (int i = 0; i < 3; i++) {
			w = write_req(f, 10 + i, a, 0, 'a' + i, 4096);
			if (resend(f, w, &r))
				_exit(3);
			want = reply_mtime_ns(r);
		}
		if (write(fd[1], &want, sizeof(want)) != sizeof(want))
			_exit(4);
		_exit(log_size(f) > 0 ? 0 : 5);
	}
	close(fd[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(read(fd[0], &want, sizeof(want)), sizeof(want));
	close(fd[0]);

	assert_int_equal(modalfs_store_open(&f->st, f->dir, 0), 0);
	assert_int_equal(log_size(f), 0);
	assert_int_equal(mtime_ns(getattr(f, a)), want);
	assert_int_equal(getattr(f, a).size, (4 << 20) + 4096);
	assert_int_equal(first_byte(f, a, 0), 'c');
	assert_int_equal(first_byte(f, a, (4 << 20) - 1), 'q');
	assert_int_equal(first_byte(f, a, 4 << 20), 'q');
	assert_int_equal(first_byte(f, a, 8192), 0);
	/* The second one, sent again to the new daemon: not written again. */
	w = write_req(f, 11, a, 0, 'b', 4096);
	assert_int_equal(resend(f, w, &r), 0);
	assert_int_equal(first_byte(f, a, 0), 'c');
	nlmsg_free(r);
	nlmsg_free(w);
	assert_int_equal(modalfs_store_check_open(f->st, stderr), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(t_drc_create),
		T(t_drc_each_op),
		T(t_drc_same_id_other_request),
		T(t_drc_failure_not_cached),
		T(t_drc_reads_not_cached),
		T(t_drc_bound),
		T(t_drc_epochs),
		T(t_xattr_ops),
		T(t_names_ops),
		T(t_dir_attrs),
		T(t_ilog_write),
		T(t_ilog_replay),
		cmocka_unit_test_setup_teardown(t_enospc_cycle, setup_tiny,
						teardown),
	};

	modalfs_log_level = -1;
	return cmocka_run_group_tests_name("drc", tests, NULL, NULL);
}
