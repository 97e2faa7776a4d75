// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cmocka tests of the request decode layer (userd/ops.c, attrs.c) and the
 * control channel handler (userd/ctl.c, ctlmsg.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/genetlink.h>
#include <netlink/genl/genl.h>

#include "../../userd/ctl.h"
#include "../../userd/ctlmsg.h"
#include "../../userd/genl.h"
#include "../../userd/log.h"
#include "../../userd/ops.h"
#include "../../userd/stats.h"
#include "../../userd/store.h"
#include "fixture.h"

#define FAMILY 0x42
#define ROOT MODALFS_ROOT_INO

static bool drc_op(uint32_t op)
{
	switch (op) {
	case MODALFS_OP_CREATE: case MODALFS_OP_MKDIR: case MODALFS_OP_SYMLINK:
	case MODALFS_OP_LINK: case MODALFS_OP_UNLINK: case MODALFS_OP_RMDIR:
	case MODALFS_OP_RENAME: case MODALFS_OP_SETATTR: case MODALFS_OP_WRITE:
	case MODALFS_OP_SETXATTR: case MODALFS_OP_REMOVEXATTR:
		return true;
	default:
		return false;
	}
}

/*
 * Builds a REQUEST. The kernel never reuses an id, and the daemon answers
 * a reused id of a non-idempotent op from its duplicate-request cache, so
 * ids of those ops get a unique high half here (test_drc.c tests reuse).
 */
static struct nl_msg *req(uint32_t op, uint64_t id)
{
	static uint64_t seq;
	struct nl_msg *m = nlmsg_alloc_size(MODALFS_MSG_MAX * 2);

	if (id && drc_op(op))
		id |= __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED) << 32;

	assert_non_null(m);
	assert_non_null(genlmsg_put(m, 0, 1, FAMILY, 0, 0,
				    MODALFS_CMD_REQUEST,
				    MODALFS_GENL_VERSION));
	if (id)
		assert_int_equal(nla_put_u64(m, MODALFS_A_REQ_ID, id), 0);
	if (op)
		assert_int_equal(nla_put_u32(m, MODALFS_A_OP, op), 0);
	return m;
}

static void vi(struct nl_msg *m, uint64_t vol, uint64_t ino)
{
	assert_int_equal(nla_put_u64(m, MODALFS_A_VOL_ID, vol), 0);
	assert_int_equal(nla_put_u64(m, MODALFS_A_INO, ino), 0);
}

/* Runs the request; returns the reply errno (-1 if dropped). */
static int run(struct fx *f, struct nl_msg *m, struct nl_msg **reply_out)
{
	uint64_t id;
	struct nl_msg *reply = modalfs_ops_handle(f->st, nlmsg_hdr(m), FAMILY,
						  &id);
	int err;

	nlmsg_free(m);
	if (!reply)
		return -1;
	assert_int_equal(nlmsg_hdr(reply)->nlmsg_type, FAMILY);
	assert_int_equal(((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(reply)))->cmd,
			 MODALFS_CMD_REPLY);
	assert_true(nlmsg_hdr(reply)->nlmsg_len <= MODALFS_MSG_MAX);
	err = modalfs_ops_reply_errno(reply);
	if (reply_out)
		*reply_out = reply;
	else
		nlmsg_free(reply);
	return err;
}

static struct nlattr *reply_attr(struct nl_msg *r, int type)
{
	return nlmsg_find_attr(nlmsg_hdr(r), GENL_HDRLEN, type);
}

/* Parses the reply's ATTR and checks that every member is present. */
static void full_attr(struct nl_msg *r, struct nlattr **tb)
{
	assert_non_null(reply_attr(r, MODALFS_A_ATTR));
	assert_int_equal(nla_parse_nested(tb, MODALFS_ATTR_MAX,
					  reply_attr(r, MODALFS_A_ATTR), NULL),
			 0);
	for (int i = 1; i <= MODALFS_ATTR_MAX; i++)
		assert_non_null(tb[i]);
}

static uint64_t create(struct fx *f, const char *name)
{
	struct nl_msg *m = req(MODALFS_OP_CREATE, 7), *r;
	struct nlattr *tb[MODALFS_ATTR_MAX + 1];
	uint64_t ino;

	vi(m, f->vol, ROOT);
	nla_put_string(m, MODALFS_A_NAME, name);
	nla_put_u32(m, MODALFS_A_MODE, S_IFREG | 0644);
	nla_put_u32(m, MODALFS_A_UID, 0);
	nla_put_u32(m, MODALFS_A_GID, 0);
	assert_int_equal(run(f, m, &r), 0);
	assert_int_equal(nla_parse_nested(tb, MODALFS_ATTR_MAX,
					  reply_attr(r, MODALFS_A_ATTR), NULL),
			 0);
	for (int i = 1; i <= MODALFS_ATTR_MAX; i++)
		assert_non_null(tb[i]);
	ino = nla_get_u64(tb[MODALFS_ATTR_INO]);
	nlmsg_free(r);
	return ino;
}

static void t_mount_ok(void **state)
{
	struct fx *f = *state;
	struct nl_msg *m = req(MODALFS_OP_MOUNT, 1), *r;

	nla_put_string(m, MODALFS_A_VOL_NAME, "vol");
	nla_put_string(m, MODALFS_A_PATH, "/");
	assert_int_equal(run(f, m, &r), 0);
	assert_non_null(reply_attr(r, MODALFS_A_VOL_ID));
	assert_int_equal(nla_get_u64(reply_attr(r, MODALFS_A_VOL_ID)), f->vol);
	assert_int_equal(nla_get_u64(reply_attr(r, MODALFS_A_REQ_ID)), 1);
	assert_non_null(reply_attr(r, MODALFS_A_ATTR));
	nlmsg_free(r);

	m = req(MODALFS_OP_MOUNT, 2);
	nla_put_string(m, MODALFS_A_VOL_NAME, "unknown");
	assert_int_equal(run(f, m, NULL), ENOENT);
	m = req(MODALFS_OP_MOUNT, 3);
	nla_put_string(m, MODALFS_A_VOL_NAME, "bad name");
	assert_int_equal(run(f, m, NULL), EINVAL);
}

static void t_lookup_create(void **state)
{
	struct fx *f = *state;
	uint64_t ino = create(f, "file");
	struct nl_msg *m = req(MODALFS_OP_LOOKUP, 9), *r;
	struct nlattr *tb[MODALFS_ATTR_MAX + 1];

	vi(m, f->vol, ROOT);
	nla_put_string(m, MODALFS_A_NAME, "file");
	assert_int_equal(run(f, m, &r), 0);
	nla_parse_nested(tb, MODALFS_ATTR_MAX, reply_attr(r, MODALFS_A_ATTR),
			 NULL);
	assert_int_equal(nla_get_u64(tb[MODALFS_ATTR_INO]), ino);
	nlmsg_free(r);
	/* Error replies carry only REQ_ID and ERRNO. */
	m = req(MODALFS_OP_LOOKUP, 10);
	vi(m, f->vol, ROOT);
	nla_put_string(m, MODALFS_A_NAME, "nope");
	assert_int_equal(run(f, m, &r), ENOENT);
	assert_null(reply_attr(r, MODALFS_A_ATTR));
	nlmsg_free(r);
}

static void t_no_req_id_dropped(void **state)
{
	struct fx *f = *state;
	struct nl_msg *m = req(MODALFS_OP_GETATTR, 0);

	vi(m, f->vol, ROOT);
	assert_int_equal(run(f, m, NULL), -1);
	m = req(MODALFS_OP_GETATTR, 0);
	nla_put_u64(m, MODALFS_A_REQ_ID, 0);
	vi(m, f->vol, ROOT);
	assert_int_equal(run(f, m, NULL), -1);
}

static void t_bad_op(void **state)
{
	struct fx *f = *state;
	struct nl_msg *m = req(MODALFS_OP_MAX + 1, 5);

	vi(m, f->vol, ROOT);
	assert_int_equal(run(f, m, NULL), EINVAL);
	m = req(0, 5);
	vi(m, f->vol, ROOT);
	assert_int_equal(run(f, m, NULL), EINVAL);
}

static void t_unknown_attr_type(void **state)
{
	struct fx *f = *state;
	struct nl_msg *m = req(MODALFS_OP_GETATTR, 5);
	uint32_t x = 1;

	vi(m, f->vol, ROOT);
	nla_put(m, MODALFS_A_MAX + 1, sizeof(x), &x);
	assert_int_equal(run(f, m, NULL), EINVAL);
}

static void t_wrong_length(void **state)
{
	struct fx *f = *state;
	struct nl_msg *m = req(0, 5);
	uint64_t op = MODALFS_OP_GETATTR;
	uint16_t small = 1;

	/* OP must be exactly 4 bytes. */
	nla_put(m, MODALFS_A_OP, sizeof(op), &op);
	vi(m, f->vol, ROOT);
	assert_int_equal(run(f, m, NULL), EINVAL);
	m = req(MODALFS_OP_GETATTR, 5);
	nla_put_u64(m, MODALFS_A_VOL_ID, f->vol);
	nla_put(m, MODALFS_A_INO, sizeof(small), &small);
	assert_int_equal(run(f, m, NULL), EINVAL);
}

static void t_bad_strings(void **state)
{
	struct fx *f = *state;
	struct nl_msg *m = req(MODALFS_OP_LOOKUP, 5);
	char big[300];

	vi(m, f->vol, ROOT);
	nla_put(m, MODALFS_A_NAME, 3, "abc");	/* no NUL */
	assert_int_equal(run(f, m, NULL), EINVAL);
	m = req(MODALFS_OP_LOOKUP, 5);
	vi(m, f->vol, ROOT);
	nla_put(m, MODALFS_A_NAME, 4, "a\0b");	/* embedded NUL */
	assert_int_equal(run(f, m, NULL), EINVAL);
	m = req(MODALFS_OP_LOOKUP, 5);
	vi(m, f->vol, ROOT);
	nla_put_string(m, MODALFS_A_NAME, "a/b");
	assert_int_equal(run(f, m, NULL), EINVAL);
	m = req(MODALFS_OP_LOOKUP, 5);
	vi(m, f->vol, ROOT);
	nla_put_string(m, MODALFS_A_NAME, "");
	assert_int_equal(run(f, m, NULL), EINVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	m = req(MODALFS_OP_LOOKUP, 5);
	vi(m, f->vol, ROOT);
	nla_put_string(m, MODALFS_A_NAME, big);
	assert_int_equal(run(f, m, NULL), EINVAL);
}

static void t_missing_and_dup(void **state)
{
	struct fx *f = *state;
	struct nl_msg *m = req(MODALFS_OP_LOOKUP, 5);

	vi(m, f->vol, ROOT);	/* no NAME */
	assert_int_equal(run(f, m, NULL), EINVAL);
	m = req(MODALFS_OP_GETATTR, 5);
	vi(m, f->vol, ROOT);
	nla_put_u64(m, MODALFS_A_INO, ROOT);	/* duplicate */
	assert_int_equal(run(f, m, NULL), EINVAL);
	m = req(MODALFS_OP_GETATTR, 5);
	vi(m, f->vol, 0);	/* ino 0 */
	assert_int_equal(run(f, m, NULL), EINVAL);
	m = req(MODALFS_OP_GETATTR, 5);
	vi(m, 9999, ROOT);	/* unknown volume */
	assert_int_equal(run(f, m, NULL), ESTALE);
}

static void t_truncated_message(void **state)
{
	struct fx *f = *state;
	struct nl_msg *m = req(MODALFS_OP_GETATTR, 5);
	uint64_t id;

	vi(m, f->vol, ROOT);
	/* Claim 2 more bytes than the attributes hold: trailing garbage. */
	nlmsg_hdr(m)->nlmsg_len += 2;
	{
		struct nl_msg *r = modalfs_ops_handle(f->st, nlmsg_hdr(m),
						      FAMILY, &id);

		assert_non_null(r);
		assert_int_equal(modalfs_ops_reply_errno(r), EINVAL);
		nlmsg_free(r);
	}
	nlmsg_free(m);
}

static void put_chunks(struct nl_msg *m, const unsigned char *buf,
		       const size_t *sizes, int n)
{
	size_t off = 0;

	for (int i = 0; i < n; i++) {
		assert_int_equal(nla_put(m, MODALFS_A_DATA, sizes[i],
					 buf + off), 0);
		off += sizes[i];
	}
}

/* Puts len bytes of buf as DATA chunks, full ones but the last. */
static int put_data(struct nl_msg *m, const unsigned char *buf, size_t len)
{
	for (size_t done = 0; done < len; done += MODALFS_DATA_CHUNK) {
		size_t n = len - done > MODALFS_DATA_CHUNK ? MODALFS_DATA_CHUNK
							   : len - done;

		if (nla_put(m, MODALFS_A_DATA, n, buf + done))
			return -1;
	}
	return 0;
}

/* Concatenates reply r's DATA chunks into got (max bytes); their total. */
static size_t reply_data(struct nl_msg *r, unsigned char *got, size_t max)
{
	struct nlattr *a;
	size_t len = 0;
	int rem;

	nlmsg_for_each_attr(a, nlmsg_hdr(r), GENL_HDRLEN, rem) {
		if (nla_type(a) != MODALFS_A_DATA)
			continue;
		assert_true(nla_len(a) <= MODALFS_DATA_CHUNK);
		assert_true(len + nla_len(a) <= max);
		memcpy(got + len, nla_data(a), nla_len(a));
		len += nla_len(a);
	}
	return len;
}

static void t_write_read_chunks(void **state)
{
	struct fx *f = *state;
	uint64_t ino = create(f, "data");
	unsigned char *buf = malloc(MODALFS_IO_MAX + 10), *got = malloc(
		MODALFS_IO_MAX);
	/* A full MODALFS_IO_MAX (1 MiB) is 32 full chunks; one byte more is over. */
	enum { FULL = MODALFS_IO_MAX / MODALFS_DATA_CHUNK };
	size_t good[FULL], over[FULL + 1];
	static const size_t bad[] = { 100, MODALFS_DATA_CHUNK };
	struct nl_msg *m, *r;
	struct nlattr *tb[MODALFS_ATTR_MAX + 1];
	uint64_t blocks;

	for (int i = 0; i < FULL; i++)
		good[i] = over[i] = MODALFS_DATA_CHUNK;
	over[FULL] = 1;
	for (int i = 0; i < MODALFS_IO_MAX + 10; i++)
		buf[i] = i * 13 + i / 65536;
	m = req(MODALFS_OP_WRITE, 11);
	vi(m, f->vol, ino);
	nla_put_u64(m, MODALFS_A_OFFSET, 4096);
	put_chunks(m, buf, good, FULL);
	assert_int_equal(run(f, m, &r), 0);
	assert_int_equal(nla_get_u32(reply_attr(r, MODALFS_A_SIZE)),
			 MODALFS_IO_MAX);
	/* The reply carries the inode after the write, all members. */
	full_attr(r, tb);
	assert_int_equal(nla_get_u64(tb[MODALFS_ATTR_INO]), ino);
	assert_int_equal(nla_get_u32(tb[MODALFS_ATTR_MODE]), S_IFREG | 0644);
	assert_int_equal(nla_get_u64(tb[MODALFS_ATTR_SIZE]),
			 4096 + MODALFS_IO_MAX);
	blocks = nla_get_u64(tb[MODALFS_ATTR_BLOCKS]);
	assert_true(blocks >= MODALFS_IO_MAX / 512);
	nlmsg_free(r);

	/* Appending allocates more blocks, and the reply says so. */
	m = req(MODALFS_OP_WRITE, 17);
	vi(m, f->vol, ino);
	nla_put_u64(m, MODALFS_A_OFFSET, 4096 + MODALFS_IO_MAX);
	nla_put(m, MODALFS_A_DATA, 4096, buf);
	assert_int_equal(run(f, m, &r), 0);
	assert_int_equal(nla_get_u32(reply_attr(r, MODALFS_A_SIZE)), 4096);
	full_attr(r, tb);
	assert_int_equal(nla_get_u64(tb[MODALFS_ATTR_SIZE]),
			 2 * 4096 + MODALFS_IO_MAX);
	assert_int_equal(nla_get_u64(tb[MODALFS_ATTR_BLOCKS]),
			 blocks + 4096 / 512);
	nlmsg_free(r);

	m = req(MODALFS_OP_WRITE, 12);
	vi(m, f->vol, ino);
	nla_put_u64(m, MODALFS_A_OFFSET, 0);
	put_chunks(m, buf, bad, 2);	/* short chunk not last */
	assert_int_equal(run(f, m, NULL), EINVAL);
	m = req(MODALFS_OP_WRITE, 13);
	vi(m, f->vol, ino);
	nla_put_u64(m, MODALFS_A_OFFSET, 0);
	put_chunks(m, buf, over, FULL + 1);	/* more than IO_MAX */
	assert_int_equal(run(f, m, NULL), EINVAL);
	m = req(MODALFS_OP_WRITE, 14);
	vi(m, f->vol, ino);
	nla_put_u64(m, MODALFS_A_OFFSET, 0);	/* no DATA */
	assert_int_equal(run(f, m, NULL), EINVAL);

	m = req(MODALFS_OP_READ, 15);
	vi(m, f->vol, ino);
	nla_put_u64(m, MODALFS_A_OFFSET, 4096);
	nla_put_u32(m, MODALFS_A_SIZE, MODALFS_IO_MAX);
	assert_int_equal(run(f, m, &r), 0);
	assert_int_equal(reply_data(r, got, MODALFS_IO_MAX), MODALFS_IO_MAX);
	assert_memory_equal(got, buf, MODALFS_IO_MAX);
	nlmsg_free(r);

	m = req(MODALFS_OP_READ, 16);
	vi(m, f->vol, ino);
	nla_put_u64(m, MODALFS_A_OFFSET, 0);
	nla_put_u32(m, MODALFS_A_SIZE, MODALFS_IO_MAX + 1);
	assert_int_equal(run(f, m, NULL), EINVAL);
	free(buf);
	free(got);
}

static void t_setattr_policy(void **state)
{
	struct fx *f = *state;
	uint64_t ino = create(f, "s");
	struct nl_msg *m, *r;
	struct nlattr *n, *tb[MODALFS_ATTR_MAX + 1];

	m = req(MODALFS_OP_SETATTR, 20);
	vi(m, f->vol, ino);
	n = nla_nest_start(m, MODALFS_A_SETATTR);
	nla_put_u32(m, MODALFS_ATTR_NLINK, 5);	/* not settable */
	nla_nest_end(m, n);
	assert_int_equal(run(f, m, NULL), EINVAL);

	m = req(MODALFS_OP_SETATTR, 21);
	vi(m, f->vol, ino);
	n = nla_nest_start(m, MODALFS_A_SETATTR);
	nla_put_s64(m, MODALFS_ATTR_MTIME_SEC, 5);	/* no NSEC */
	nla_nest_end(m, n);
	assert_int_equal(run(f, m, NULL), EINVAL);

	m = req(MODALFS_OP_SETATTR, 22);
	vi(m, f->vol, ino);
	n = nla_nest_start(m, MODALFS_A_SETATTR);
	nla_put_u64(m, MODALFS_ATTR_SIZE, 12345);
	nla_put_u32(m, MODALFS_ATTR_MODE, 0600);
	nla_nest_end(m, n);
	assert_int_equal(run(f, m, &r), 0);
	nla_parse_nested(tb, MODALFS_ATTR_MAX, reply_attr(r, MODALFS_A_ATTR),
			 NULL);
	assert_int_equal(nla_get_u64(tb[MODALFS_ATTR_SIZE]), 12345);
	assert_int_equal(nla_get_u32(tb[MODALFS_ATTR_MODE]), S_IFREG | 0600);
	nlmsg_free(r);

	/* MODE is permission bits only: all of 07777 is accepted... */
	m = req(MODALFS_OP_SETATTR, 23);
	vi(m, f->vol, ino);
	n = nla_nest_start(m, MODALFS_A_SETATTR);
	nla_put_u32(m, MODALFS_ATTR_MODE, 07777);
	nla_nest_end(m, n);
	assert_int_equal(run(f, m, &r), 0);
	full_attr(r, tb);
	assert_int_equal(nla_get_u32(tb[MODALFS_ATTR_MODE]), S_IFREG | 07777);
	nlmsg_free(r);

	/* ...and any type bit, even the file's own, is EINVAL. */
	static const uint32_t bad_modes[] = { S_IFREG | 0644, S_IFDIR | 0755,
					      S_IFMT, 010000, 0x80000000u };
	for (size_t i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]);
	     i++) {
		m = req(MODALFS_OP_SETATTR, 24 + i);
		vi(m, f->vol, ino);
		n = nla_nest_start(m, MODALFS_A_SETATTR);
		nla_put_u32(m, MODALFS_ATTR_MODE, bad_modes[i]);
		nla_nest_end(m, n);
		assert_int_equal(run(f, m, NULL), EINVAL);
	}
	/* A rejected SETATTR changed nothing. */
	m = req(MODALFS_OP_GETATTR, 30);
	vi(m, f->vol, ino);
	assert_int_equal(run(f, m, &r), 0);
	full_attr(r, tb);
	assert_int_equal(nla_get_u32(tb[MODALFS_ATTR_MODE]), S_IFREG | 07777);
	assert_int_equal(nla_get_u64(tb[MODALFS_ATTR_SIZE]), 12345);
	nlmsg_free(r);
}

/*
 * A WRITE may carry the file's SETATTR (protocol: WRITE [SETATTR]): it is
 * applied after the data, so its times replace the write's own stamp; a
 * SIZE in it, or a malformed one, refuses the whole WRITE.
 */
static void t_write_setattr(void **state)
{
	struct fx *f = *state;
	uint64_t ino = create(f, "ws");
	struct nl_msg *m, *r;
	struct nlattr *n, *tb[MODALFS_ATTR_MAX + 1];

	m = req(MODALFS_OP_WRITE, 40);
	vi(m, f->vol, ino);
	nla_put_u64(m, MODALFS_A_OFFSET, 0);
	n = nla_nest_start(m, MODALFS_A_SETATTR);
	nla_put_u32(m, MODALFS_ATTR_MODE, 02750);
	nla_put_u32(m, MODALFS_ATTR_UID, 4321);
	nla_put_u32(m, MODALFS_ATTR_GID, 8765);
	nla_put_s64(m, MODALFS_ATTR_ATIME_SEC, 1500000000);
	nla_put_u32(m, MODALFS_ATTR_ATIME_NSEC, 1);
	nla_put_s64(m, MODALFS_ATTR_MTIME_SEC, 1600000000);
	nla_put_u32(m, MODALFS_ATTR_MTIME_NSEC, 2);
	nla_put_s64(m, MODALFS_ATTR_CTIME_SEC, 1700000000);
	nla_put_u32(m, MODALFS_ATTR_CTIME_NSEC, 3);
	nla_nest_end(m, n);
	nla_put(m, MODALFS_A_DATA, 5, "hello");
	assert_int_equal(run(f, m, &r), 0);
	assert_int_equal(nla_get_u32(reply_attr(r, MODALFS_A_SIZE)), 5);
	full_attr(r, tb);
	assert_int_equal(nla_get_u64(tb[MODALFS_ATTR_SIZE]), 5);
	assert_int_equal(nla_get_u32(tb[MODALFS_ATTR_MODE]), S_IFREG | 02750);
	nlmsg_free(r);
	/* What the store kept, not only what the reply said. */
	m = req(MODALFS_OP_GETATTR, 41);
	vi(m, f->vol, ino);
	assert_int_equal(run(f, m, &r), 0);
	full_attr(r, tb);
	assert_int_equal(nla_get_u32(tb[MODALFS_ATTR_MODE]), S_IFREG | 02750);
	assert_int_equal(nla_get_u32(tb[MODALFS_ATTR_UID]), 4321);
	assert_int_equal(nla_get_u32(tb[MODALFS_ATTR_GID]), 8765);
	assert_int_equal(nla_get_s64(tb[MODALFS_ATTR_ATIME_SEC]), 1500000000);
	assert_int_equal(nla_get_u32(tb[MODALFS_ATTR_ATIME_NSEC]), 1);
	assert_int_equal(nla_get_s64(tb[MODALFS_ATTR_MTIME_SEC]), 1600000000);
	assert_int_equal(nla_get_u32(tb[MODALFS_ATTR_MTIME_NSEC]), 2);
	assert_int_equal(nla_get_s64(tb[MODALFS_ATTR_CTIME_SEC]), 1700000000);
	assert_int_equal(nla_get_u32(tb[MODALFS_ATTR_CTIME_NSEC]), 3);
	assert_int_equal(nla_get_u64(tb[MODALFS_ATTR_SIZE]), 5);
	nlmsg_free(r);

	/* SIZE has no place in a WRITE's SETATTR; nothing is written. */
	m = req(MODALFS_OP_WRITE, 42);
	vi(m, f->vol, ino);
	nla_put_u64(m, MODALFS_A_OFFSET, 0);
	n = nla_nest_start(m, MODALFS_A_SETATTR);
	nla_put_u64(m, MODALFS_ATTR_SIZE, 1);
	nla_nest_end(m, n);
	nla_put(m, MODALFS_A_DATA, 8, "changed!");
	assert_int_equal(run(f, m, NULL), EINVAL);
	/* Nor a time without its nanoseconds, nor a type bit in MODE. */
	m = req(MODALFS_OP_WRITE, 43);
	vi(m, f->vol, ino);
	nla_put_u64(m, MODALFS_A_OFFSET, 0);
	n = nla_nest_start(m, MODALFS_A_SETATTR);
	nla_put_s64(m, MODALFS_ATTR_MTIME_SEC, 5);
	nla_nest_end(m, n);
	nla_put(m, MODALFS_A_DATA, 8, "changed!");
	assert_int_equal(run(f, m, NULL), EINVAL);
	m = req(MODALFS_OP_WRITE, 44);
	vi(m, f->vol, ino);
	nla_put_u64(m, MODALFS_A_OFFSET, 0);
	n = nla_nest_start(m, MODALFS_A_SETATTR);
	nla_put_u32(m, MODALFS_ATTR_MODE, S_IFREG | 0644);
	nla_nest_end(m, n);
	nla_put(m, MODALFS_A_DATA, 8, "changed!");
	assert_int_equal(run(f, m, NULL), EINVAL);
	m = req(MODALFS_OP_GETATTR, 45);
	vi(m, f->vol, ino);
	assert_int_equal(run(f, m, &r), 0);
	full_attr(r, tb);
	assert_int_equal(nla_get_u64(tb[MODALFS_ATTR_SIZE]), 5);
	assert_int_equal(nla_get_u32(tb[MODALFS_ATTR_MODE]), S_IFREG | 02750);
	assert_int_equal(nla_get_s64(tb[MODALFS_ATTR_MTIME_SEC]), 1600000000);
	nlmsg_free(r);
}

static void t_readdir_op(void **state)
{
	struct fx *f = *state;
	struct nl_msg *m, *r;
	struct nlattr *a;
	int rem, n = 0;

	create(f, "x");
	create(f, "y");
	m = req(MODALFS_OP_READDIR, 30);
	vi(m, f->vol, ROOT);
	nla_put_u64(m, MODALFS_A_OFFSET, 0);
	nla_put_u32(m, MODALFS_A_SIZE, 0);
	assert_int_equal(run(f, m, NULL), EINVAL);
	m = req(MODALFS_OP_READDIR, 31);
	vi(m, f->vol, ROOT);
	nla_put_u64(m, MODALFS_A_OFFSET, 0);
	nla_put_u32(m, MODALFS_A_SIZE, MODALFS_READDIR_MAX);
	assert_int_equal(run(f, m, &r), 0);
	nlmsg_for_each_attr(a, nlmsg_hdr(r), GENL_HDRLEN, rem) {
		struct nlattr *de[MODALFS_DIRENT_MAX + 1];
		struct nlattr *at[MODALFS_ATTR_MAX + 1];

		if (nla_type(a) != MODALFS_A_DIRENT)
			continue;
		n++;
		/* READDIRPLUS: each entry with its whole inode. */
		assert_int_equal(nla_parse_nested(de, MODALFS_DIRENT_MAX, a,
						  NULL), 0);
		assert_non_null(de[MODALFS_DIRENT_ATTR]);
		assert_int_equal(nla_parse_nested(at, MODALFS_ATTR_MAX,
						  de[MODALFS_DIRENT_ATTR],
						  NULL), 0);
		for (int i = 1; i <= MODALFS_ATTR_MAX; i++)
			assert_non_null(at[i]);
		assert_int_equal(nla_get_u64(at[MODALFS_ATTR_INO]),
				 nla_get_u64(de[MODALFS_DIRENT_INO]));
		assert_int_equal(nla_get_u32(at[MODALFS_ATTR_MODE]),
				 S_IFREG | 0644);
	}
	assert_int_equal(n, 2);
	assert_non_null(reply_attr(r, MODALFS_A_EOF));
	nlmsg_free(r);
}

static void t_rename_flags_op(void **state)
{
	struct fx *f = *state;
	struct nl_msg *m;

	create(f, "a");
	m = req(MODALFS_OP_RENAME, 40);
	vi(m, f->vol, ROOT);
	nla_put_string(m, MODALFS_A_NAME, "a");
	nla_put_u64(m, MODALFS_A_NEW_INO, ROOT);
	nla_put_string(m, MODALFS_A_NEW_NAME, "b");
	nla_put_u32(m, MODALFS_A_FLAGS, 1u << 4);
	assert_int_equal(run(f, m, NULL), EINVAL);
	m = req(MODALFS_OP_RENAME, 41);
	vi(m, f->vol, ROOT);
	nla_put_string(m, MODALFS_A_NAME, "a");
	nla_put_u64(m, MODALFS_A_NEW_INO, ROOT);
	nla_put_string(m, MODALFS_A_NEW_NAME, "b");
	assert_int_equal(run(f, m, NULL), 0);
	m = req(MODALFS_OP_FSYNC, 42);
	vi(m, f->vol, ROOT);
	nla_put_u32(m, MODALFS_A_FLAGS, 2);
	assert_int_equal(run(f, m, NULL), EINVAL);
	m = req(MODALFS_OP_FSYNC, 43);
	vi(m, f->vol, ROOT);
	nla_put_u32(m, MODALFS_A_FLAGS, MODALFS_FSYNC_DATASYNC);
	assert_int_equal(run(f, m, NULL), 0);
}

/* ---- control channel ---- */

static int ctl_call(struct fx *f, uint8_t cmd, const char *name, uid_t uid,
		    char *errmsg, int *ndgrams, int *nvols)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	struct nl_msg *m = modalfs_ctlmsg_new(cmd, 77, true);
	char *buf = malloc(MODALFS_CTL_DGRAM_MAX);
	int sv[2], err = -1;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	if (name)
		nla_put_string(m, MODALFS_A_VOL_NAME, name);
	assert_int_equal(modalfs_ctl_handle(f->st, sv[1], nlmsg_hdr(m),
					    nlmsg_hdr(m)->nlmsg_len, uid), 0);
	nlmsg_free(m);
	*ndgrams = *nvols = 0;
	for (;;) {
		struct nlmsghdr *nlh;
		struct nlattr *a;
		uint8_t c;
		ssize_t n = recv(sv[0], buf, MODALFS_CTL_DGRAM_MAX,
				 MSG_DONTWAIT);
		int rem;

		if (n <= 0)
			break;
		assert_int_equal(modalfs_ctlmsg_parse(buf, n, &nlh, &c, tb), 0);
		assert_int_equal(c, cmd);
		assert_int_equal(nlh->nlmsg_seq, 77);
		assert_non_null(tb[MODALFS_A_ERRNO]);
		(*ndgrams)++;
		err = nla_get_u32(tb[MODALFS_A_ERRNO]);
		if (tb[MODALFS_A_ERRMSG] && errmsg)
			strcpy(errmsg, nla_data(tb[MODALFS_A_ERRMSG]));
		nlmsg_for_each_attr(a, nlh, GENL_HDRLEN, rem)
			if (nla_type(a) == MODALFS_A_VOLUME)
				(*nvols)++;
		if (cmd == MODALFS_CTL_LIST && !err)
			assert_true(!!tb[MODALFS_A_EOF] ==
				    (recv(sv[0], buf, 1, MSG_PEEK |
					  MSG_DONTWAIT) <= 0));
	}
	close(sv[0]);
	close(sv[1]);
	free(buf);
	return err;
}

static void t_ctl(void **state)
{
	struct fx *f = *state;
	char msg[600] = "";
	char name[16];
	int nd, nv;

	assert_int_equal(ctl_call(f, MODALFS_CTL_CREATE, "bad/x", 0, msg, &nd,
				  &nv), EINVAL);
	assert_non_null(strstr(msg, "A-Z a-z 0-9"));
	assert_int_equal(ctl_call(f, MODALFS_CTL_CREATE, "vol", 0, msg, &nd,
				  &nv), EEXIST);
	assert_non_null(strstr(msg, "'vol' already exists"));
	assert_int_equal(ctl_call(f, MODALFS_CTL_PERSISTED, "vol", 0, msg,
				  &nd, &nv), 0);
	assert_int_equal(nv, 1);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		assert_int_equal(ctl_call(f, MODALFS_CTL_CREATE, name, 0, msg,
					  &nd, &nv), 0);
	}
	/* LIST needs no root and spans several datagrams. */
	assert_int_equal(ctl_call(f, MODALFS_CTL_LIST, NULL, 1000, msg, &nd,
				  &nv), 0);
	assert_int_equal(nv, 301);
	assert_true(nd > 1);
}

/* ---- concurrency (group commit batches these when enabled) ---- */

struct thr {
	struct fx *f;
	int id;
	int failures;
};

static int do_write(struct fx *f, uint64_t id, uint64_t ino, uint64_t off,
		    const unsigned char *buf, size_t len)
{
	struct nl_msg *m = req(MODALFS_OP_WRITE, id);

	vi(m, f->vol, ino);
	nla_put_u64(m, MODALFS_A_OFFSET, off);
	if (put_data(m, buf, len)) {
		nlmsg_free(m);
		return -1;
	}
	return run(f, m, NULL);
}

static void *thr_main(void *p)
{
	struct thr *t = p;
	/* Full-size writes from 8 threads at once; off the thread stacks. */
	unsigned char *buf = malloc(MODALFS_IO_MAX), *got = malloc(MODALFS_IO_MAX);
	char name[32];

	assert_non_null(buf);
	assert_non_null(got);

	for (int i = 0; i < 20; i++) {
		struct nl_msg *m = req(MODALFS_OP_CREATE, 1000 + i), *r;
		struct nlattr *tb[MODALFS_ATTR_MAX + 1];
		uint64_t ino;
		size_t n;

		snprintf(name, sizeof(name), "t%d-%d", t->id, i);
		vi(m, t->f->vol, ROOT);
		nla_put_string(m, MODALFS_A_NAME, name);
		nla_put_u32(m, MODALFS_A_MODE, S_IFREG | 0644);
		nla_put_u32(m, MODALFS_A_UID, 0);
		nla_put_u32(m, MODALFS_A_GID, 0);
		if (run(t->f, m, &r)) {
			t->failures++;
			continue;
		}
		nla_parse_nested(tb, MODALFS_ATTR_MAX,
				 reply_attr(r, MODALFS_A_ATTR), NULL);
		ino = nla_get_u64(tb[MODALFS_ATTR_INO]);
		nlmsg_free(r);
		memset(buf, t->id * 31 + i, MODALFS_IO_MAX);
		if (do_write(t->f, 2000 + i, ino, 100, buf, MODALFS_IO_MAX)) {
			t->failures++;
			continue;
		}
		if (modalfs_store_read(t->f->st, t->f->vol, ino, 100,
				       MODALFS_IO_MAX, got, &n) ||
		    n != MODALFS_IO_MAX || memcmp(got, buf, n))
			t->failures++;
	}
	free(buf);
	free(got);
	return NULL;
}

static void t_concurrent(void **state)
{
	struct fx *f = *state;
	pthread_t th[8];
	struct thr t[8];
	struct modalfs_iattr a;

	for (int i = 0; i < 8; i++) {
		t[i] = (struct thr){ .f = f, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, thr_main, &t[i]),
				 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(t[i].failures, 0);
	}
	assert_int_equal(modalfs_store_getattr(f->st, f->vol, ROOT, &a), 0);
	assert_int_equal(a.nlink, 2);
}

static void t_enospc_ops(void **state)
{
	struct fx *f = *state;
	static unsigned char buf[MODALFS_IO_MAX];
	uint64_t ino = create(f, "big"), off = 0;
	struct nl_msg *m;
	int err = 0;

	while (off < (64ULL << 20)) {
		err = do_write(f, 50, ino, off, buf, sizeof(buf));
		if (err)
			break;
		off += sizeof(buf);
	}
	assert_int_equal(err, ENOSPC);
	m = req(MODALFS_OP_UNLINK, 51);
	vi(m, f->vol, ROOT);
	nla_put_string(m, MODALFS_A_NAME, "big");
	assert_int_equal(run(f, m, NULL), 0);
	m = req(MODALFS_OP_EVICT, 52);
	vi(m, f->vol, ino);
	assert_int_equal(run(f, m, NULL), 0);
	ino = create(f, "again");
	assert_int_equal(do_write(f, 53, ino, 0, buf, sizeof(buf)), 0);
}

static int getattr(struct fx *f, uint64_t ino)
{
	struct nl_msg *m = req(MODALFS_OP_GETATTR, 60);

	vi(m, f->vol, ino);
	return run(f, m, NULL);
}

/* EVICT of INO and the inodes INOS lists (protocol version 5). */
static int evict(struct fx *f, uint64_t ino, const uint64_t *more,
		 size_t len)
{
	struct nl_msg *m = req(MODALFS_OP_EVICT, 61);

	vi(m, f->vol, ino);
	if (more)
		assert_int_equal(nla_put(m, MODALFS_A_INOS, len, more), 0);
	return run(f, m, NULL);
}

/* One EVICT releases many unlinked inodes; INOS is checked. */
/* How many times the store was made durable so far. */
static uint64_t syncs(struct fx *f)
{
	struct modalfs_stats_snapshot *snap = malloc(sizeof(*snap));
	uint64_t n;

	assert_non_null(snap);
	modalfs_stats_snapshot(modalfs_store_stats(f->st), snap);
	n = snap->syncs;
	free(snap);
	return n;
}

/* WRITE with FLAGS MODALFS_WRITE_STABLE syncs the store before its reply. */
static void t_write_stable(void **state)
{
	struct fx *f = *state;
	static const unsigned char buf[4096] = { 's' };
	uint64_t ino = create(f, "stable"), s0;
	struct nl_msg *m;

	s0 = syncs(f);
	assert_int_equal(do_write(f, 81, ino, 0, buf, sizeof(buf)), 0);
	assert_int_equal(syncs(f), s0);
	m = req(MODALFS_OP_WRITE, 82);
	vi(m, f->vol, ino);
	nla_put_u64(m, MODALFS_A_OFFSET, 4096);
	nla_put_u32(m, MODALFS_A_FLAGS, MODALFS_WRITE_STABLE);
	nla_put(m, MODALFS_A_DATA, sizeof(buf), buf);
	assert_int_equal(run(f, m, NULL), 0);
	assert_int_equal(syncs(f), s0 + 1);
	/* An unknown flag is refused. */
	m = req(MODALFS_OP_WRITE, 83);
	vi(m, f->vol, ino);
	nla_put_u64(m, MODALFS_A_OFFSET, 8192);
	nla_put_u32(m, MODALFS_A_FLAGS, MODALFS_WRITE_STABLE << 1);
	nla_put(m, MODALFS_A_DATA, sizeof(buf), buf);
	assert_int_equal(run(f, m, NULL), EINVAL);
	assert_int_equal(getattr(f, ino), 0);
}

static void t_evict_batch(void **state)
{
	struct fx *f = *state;
	static unsigned char buf[65536];
	uint64_t ino[6], kept;
	struct nl_msg *m;
	char name[8];

	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		ino[i] = create(f, name);
		assert_int_equal(do_write(f, 62, ino[i], 0, buf, sizeof(buf)),
				 0);
		m = req(MODALFS_OP_UNLINK, 63);
		vi(m, f->vol, ROOT);
		nla_put_string(m, MODALFS_A_NAME, name);
		assert_int_equal(run(f, m, NULL), 0);
	}
	kept = create(f, "kept");
	/* Malformed: a partial u64, INOS on another op, an inode 0. */
	assert_int_equal(evict(f, ino[0], &ino[1], 12), EINVAL);
	m = req(MODALFS_OP_GETATTR, 64);
	vi(m, f->vol, kept);
	assert_int_equal(nla_put(m, MODALFS_A_INOS, 8, &ino[1]), 0);
	assert_int_equal(run(f, m, NULL), EINVAL);
	for (int i = 0; i < 6; i++)
		assert_int_equal(getattr(f, ino[i]), 0);
	/* ino[5] and a linked file ride along; the 0 is refused. */
	uint64_t bad[] = { ino[5], 0, kept };
	assert_int_equal(evict(f, ino[4], bad, sizeof(bad)), EINVAL);
	assert_int_equal(getattr(f, ino[4]), ESTALE);
	assert_int_equal(getattr(f, ino[5]), ESTALE);
	assert_int_equal(getattr(f, kept), 0);
	/* Four at once, one of them already gone. */
	uint64_t more[] = { ino[1], ino[2], ino[3], ino[5] };
	assert_int_equal(evict(f, ino[0], more, sizeof(more)), 0);
	for (int i = 0; i < 6; i++)
		assert_int_equal(getattr(f, ino[i]), ESTALE);
	assert_int_equal(getattr(f, kept), 0);
}

/* A MKDIR of "d" in the root with the given flag attributes. */
static int mkdir_flags(struct fx *f, uint64_t id, bool async, bool fence)
{
	struct nl_msg *m = req(MODALFS_OP_MKDIR, id);

	vi(m, f->vol, ROOT);
	nla_put_string(m, MODALFS_A_NAME, "d");
	nla_put_u32(m, MODALFS_A_MODE, 0755);
	nla_put_u32(m, MODALFS_A_UID, 0);
	nla_put_u32(m, MODALFS_A_GID, 0);
	if (async)
		nla_put_flag(m, MODALFS_A_ASYNC);
	if (fence)
		nla_put_flag(m, MODALFS_A_FENCE);
	return run(f, m, NULL);
}

/* NODE_INO only on CREATE and MKDIR; FENCE only with ASYNC. */
static void t_async_attrs_checked(void **state)
{
	struct fx *f = *state;
	struct nl_msg *m;

	m = req(MODALFS_OP_SYMLINK, 70);
	vi(m, f->vol, ROOT);
	nla_put_string(m, MODALFS_A_NAME, "s");
	nla_put_string(m, MODALFS_A_TARGET, "t");
	nla_put_u32(m, MODALFS_A_UID, 0);
	nla_put_u32(m, MODALFS_A_GID, 0);
	nla_put_u64(m, MODALFS_A_NODE_INO, 1000);
	assert_int_equal(run(f, m, NULL), EINVAL);
	assert_int_equal(mkdir_flags(f, 71, false, true), EINVAL);
	assert_int_equal(mkdir_flags(f, 72, true, true), 0);
}

/* Not registered with a kernel: notifications fail cleanly. */
static void t_notify_unregistered(void **state)
{
	(void)state;
	assert_int_equal(modalfs_genl_notify(MODALFS_NOTIFY_INVAL_INODE, 1, 2,
					     NULL), -ENOTCONN);
	assert_int_equal(modalfs_genl_notify(MODALFS_NOTIFY_INVAL_ENTRY, 1, 2,
					     "x"), -ENOTCONN);
	assert_int_equal(modalfs_genl_notify(MODALFS_NOTIFY_VOL_GONE, 1, 0,
					     NULL), -ENOTCONN);
	/* Malformed ones are refused before anything is sent. */
	assert_int_equal(modalfs_genl_notify(MODALFS_NOTIFY_INVAL_ENTRY, 1, 2,
					     NULL), -EINVAL);
	assert_int_equal(modalfs_genl_notify(MODALFS_NOTIFY_INVAL_INODE, 1, 2,
					     "x"), -EINVAL);
	assert_int_equal(modalfs_genl_notify(MODALFS_NOTIFY_INVAL_INODE, 0, 2,
					     NULL), -EINVAL);
	assert_int_equal(modalfs_genl_notify(MODALFS_NOTIFY_INVAL_INODE, 1, 0,
					     NULL), -EINVAL);
	assert_int_equal(modalfs_genl_notify(0, 1, 2, NULL), -EINVAL);
	assert_int_equal(modalfs_genl_notify(MODALFS_NOTIFY_MAX + 1, 1, 2,
					     NULL), -EINVAL);
}

/*
 * Each reply is allocated with only the room its op can use (ops.c,
 * reply_size): the largest of each kind still fits.
 */
static void t_reply_room(void **state)
{
	struct fx *f = *state;
	char *target = malloc(MODALFS_SYMLINK_MAX + 1);
	/* Room for the xattr and for 3 DATA chunks of file data. */
	size_t vsize = MODALFS_XATTR_SIZE_MAX + 3 * MODALFS_DATA_CHUNK;
	unsigned char *val = malloc(vsize), *got;
	struct nl_msg *m, *r;
	struct nlattr *tb[MODALFS_ATTR_MAX + 1];
	uint64_t ino, file;

	assert_non_null(target);
	assert_non_null(val);
	memset(target, 't', MODALFS_SYMLINK_MAX);
	target[MODALFS_SYMLINK_MAX] = '\0';
	m = req(MODALFS_OP_SYMLINK, 60);
	vi(m, f->vol, ROOT);
	nla_put_string(m, MODALFS_A_NAME, "long");
	nla_put_string(m, MODALFS_A_TARGET, target);
	nla_put_u32(m, MODALFS_A_UID, 0);
	nla_put_u32(m, MODALFS_A_GID, 0);
	assert_int_equal(run(f, m, &r), 0);
	full_attr(r, tb);
	ino = nla_get_u64(tb[MODALFS_ATTR_INO]);
	nlmsg_free(r);
	m = req(MODALFS_OP_READLINK, 61);
	vi(m, f->vol, ino);
	assert_int_equal(run(f, m, &r), 0);
	assert_non_null(reply_attr(r, MODALFS_A_TARGET));
	assert_string_equal(nla_get_string(reply_attr(r, MODALFS_A_TARGET)),
			    target);
	nlmsg_free(r);

	file = create(f, "x");
	for (size_t i = 0; i < vsize; i++)
		val[i] = i * 7;
	m = req(MODALFS_OP_SETXATTR, 62);
	vi(m, f->vol, file);
	nla_put_string(m, MODALFS_A_NAME, "user.big");
	assert_int_equal(put_data(m, val, MODALFS_XATTR_SIZE_MAX), 0);
	assert_int_equal(run(f, m, NULL), 0);
	m = req(MODALFS_OP_GETXATTR, 63);
	vi(m, f->vol, file);
	nla_put_string(m, MODALFS_A_NAME, "user.big");
	assert_int_equal(run(f, m, &r), 0);
	got = malloc(vsize);
	assert_non_null(got);
	assert_int_equal(reply_data(r, got, vsize), MODALFS_XATTR_SIZE_MAX);
	assert_memory_equal(got, val, MODALFS_XATTR_SIZE_MAX);
	nlmsg_free(r);

	/* A READ's reply is sized by the bytes it asks for. */
	assert_int_equal(do_write(f, 64, file, 0, val, 3 * MODALFS_DATA_CHUNK),
			 0);
	for (uint32_t size = 1; size <= 3 * MODALFS_DATA_CHUNK;
	     size += MODALFS_DATA_CHUNK - 1) {
		m = req(MODALFS_OP_READ, 65);
		vi(m, f->vol, file);
		nla_put_u64(m, MODALFS_A_OFFSET, 0);
		nla_put_u32(m, MODALFS_A_SIZE, size);
		assert_int_equal(run(f, m, &r), 0);
		assert_int_equal(reply_data(r, got, vsize), size);
		assert_memory_equal(got, val, size);
		nlmsg_free(r);
	}
	free(got);
	free(val);
	free(target);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/*
 * modalfs_ops_submit: write ops submitted while the writer is busy return
 * at once and are committed together, in one batch, each answered once
 * through the callback; a read op is answered on the spot.
 */
struct sub_state {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool release;		/* the blocking batch may return */
	int answered;
	uint64_t ids[8];
	int errs[8];
};

static int block_fn(struct modalfs_txc *tx, void *arg)
{
	struct sub_state *s = arg;
	struct timespec until;

	(void)tx;
	/* Bounded: a build that does not submit fails instead of hanging. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 3;
	pthread_mutex_lock(&s->lock);
	while (!s->release &&
	       pthread_cond_timedwait(&s->cond, &s->lock, &until) == 0)
		;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void block_done(struct modalfs_batch_req *r, int err)
{
	(void)r;
	(void)err;
}

static void sub_done(void *ctx, struct nl_msg *reply, uint64_t id)
{
	struct sub_state *s = ctx;

	pthread_mutex_lock(&s->lock);
	if (s->answered < 8) {
		s->ids[s->answered] = id;
		s->errs[s->answered] = reply ? modalfs_ops_reply_errno(reply)
					     : -1;
	}
	s->answered++;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	nlmsg_free(reply);
}

/* What the callback of a submitted STABLE WRITE saw. */
struct stable_state {
	struct fx *f;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool answered;
	int err;
	uint64_t syncs;		/* the store's sync count when called */
	pthread_t thread;
};

static void stable_done(void *ctx, struct nl_msg *reply, uint64_t id)
{
	struct stable_state *s = ctx;

	(void)id;
	pthread_mutex_lock(&s->lock);
	s->err = reply ? modalfs_ops_reply_errno(reply) : -1;
	s->syncs = syncs(s->f);
	s->thread = pthread_self();
	s->answered = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	nlmsg_free(reply);
}

/*
 * A submitted STABLE WRITE does not hold its caller: it is pending, and
 * the writer thread syncs the store before it calls back with the reply.
 */
static void t_submit_stable(void **state)
{
	struct fx *f = *state;
	static const unsigned char buf[4096] = { 'S' };
	struct stable_state s = { .f = f, .lock = PTHREAD_MUTEX_INITIALIZER,
				  .cond = PTHREAD_COND_INITIALIZER };
	uint64_t ino = create(f, "substable"), s0, id;
	struct nl_msg *m;
	struct timespec until;
	bool pending;

	assert_int_equal(do_write(f, 91, ino, 0, buf, sizeof(buf)), 0);
	s0 = syncs(f);
	m = req(MODALFS_OP_WRITE, 92);
	vi(m, f->vol, ino);
	nla_put_u64(m, MODALFS_A_OFFSET, 4096);
	nla_put_u32(m, MODALFS_A_FLAGS, MODALFS_WRITE_STABLE);
	nla_put(m, MODALFS_A_DATA, sizeof(buf), buf);
	assert_null(modalfs_ops_submit(f->st, nlmsg_hdr(m), FAMILY, &id,
				       stable_done, &s, &pending));
	assert_true(pending);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&s.lock);
	while (!s.answered &&
	       pthread_cond_timedwait(&s.cond, &s.lock, &until) == 0)
		;
	pthread_mutex_unlock(&s.lock);
	assert_true(s.answered);
	assert_int_equal(s.err, 0);
	assert_int_equal(s.syncs, s0 + 1);
	assert_false(pthread_equal(s.thread, pthread_self()));
	nlmsg_free(m);
	assert_int_equal(getattr(f, ino), 0);
}

static void t_submit_async(void **state)
{
	struct fx *f = *state;
	struct sub_state s = { .lock = PTHREAD_MUTEX_INITIALIZER,
			       .cond = PTHREAD_COND_INITIALIZER };
	struct modalfs_batch_req blocker = { .fn = block_fn, .arg = &s,
					     .done = block_done };
	struct modalfs_stats_snapshot a, b;
	struct nl_msg *m[8], *r;
	uint64_t id, sent[8];
	bool pending;
	char name[8];

	assert_int_equal(modalfs_store_batch_submit(f->st, &blocker), 0);
	for (int i = 0; i < 8; i++) {
		m[i] = req(MODALFS_OP_CREATE, 100 + i);
		vi(m[i], f->vol, ROOT);
		snprintf(name, sizeof(name), "s%d", i);
		nla_put_string(m[i], MODALFS_A_NAME, name);
		nla_put_u32(m[i], MODALFS_A_MODE, S_IFREG | 0644);
		nla_put_u32(m[i], MODALFS_A_UID, 0);
		nla_put_u32(m[i], MODALFS_A_GID, 0);
		assert_null(modalfs_ops_submit(f->st, nlmsg_hdr(m[i]), FAMILY,
					       &sent[i], sub_done, &s,
					       &pending));
		assert_true(pending);
	}
	/* A read op is not queued behind them. */
	r = req(MODALFS_OP_GETATTR, 120);
	vi(r, f->vol, ROOT);
	{
		struct nl_msg *rep = modalfs_ops_submit(f->st, nlmsg_hdr(r),
							FAMILY, &id, sub_done,
							&s, &pending);

		assert_false(pending);
		assert_non_null(rep);
		assert_int_equal(modalfs_ops_reply_errno(rep), 0);
		nlmsg_free(rep);
	}
	nlmsg_free(r);
	pthread_mutex_lock(&s.lock);
	assert_int_equal(s.answered, 0);
	modalfs_stats_snapshot(modalfs_store_stats(f->st), &a);
	s.release = true;
	pthread_cond_broadcast(&s.cond);
	while (s.answered < 8)
		pthread_cond_wait(&s.cond, &s.lock);
	pthread_mutex_unlock(&s.lock);
	modalfs_stats_snapshot(modalfs_store_stats(f->st), &b);
	/* The blocker's batch, then the eight creates' (one commit each). */
	assert_in_range(b.commits - a.commits, 1, 2);
	for (int i = 0; i < 8; i++) {
		bool found = false;

		assert_int_equal(s.errs[i], 0);
		for (int j = 0; j < 8; j++)
			found |= s.ids[j] == sent[i];
		assert_true(found);
		nlmsg_free(m[i]);
	}
	assert_int_equal(s.answered, 8);
	for (int i = 0; i < 8; i++) {
		r = req(MODALFS_OP_LOOKUP, 130 + i);
		vi(r, f->vol, ROOT);
		snprintf(name, sizeof(name), "s%d", i);
		nla_put_string(r, MODALFS_A_NAME, name);
		assert_int_equal(run(f, r, NULL), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_notify_unregistered),
		T(t_mount_ok),
		T(t_lookup_create),
		T(t_no_req_id_dropped),
		T(t_bad_op),
		T(t_unknown_attr_type),
		T(t_wrong_length),
		T(t_bad_strings),
		T(t_missing_and_dup),
		T(t_truncated_message),
		T(t_write_read_chunks),
		T(t_setattr_policy),
		T(t_write_setattr),
		T(t_readdir_op),
		T(t_rename_flags_op),
		T(t_ctl),
		T(t_concurrent),
		T(t_evict_batch),
		T(t_write_stable),
		T(t_async_attrs_checked),
		T(t_reply_room),
		T(t_submit_async),
		T(t_submit_stable),
		cmocka_unit_test_setup_teardown(t_enospc_ops, setup_tiny,
						teardown),
	};

	modalfs_log_level = -1;	/* keep cmocka output readable */
	return cmocka_run_group_tests_name("ops", tests, NULL, NULL);
}
