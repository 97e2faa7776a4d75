// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cmocka tests of the test-only fault injection (userd/fault.c): parsing
 * MODALFSD_FAULT, EIO instead of running a matching request, one flipped
 * byte in a READ reply, the first entry dropped from a READDIR reply.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <linux/genetlink.h>
#include <netlink/genl/genl.h>

#include "../../netlink/modalfs.h"
#include "../../userd/fault.h"

#define FAMILY 42

static struct nl_msg *msg(int cmd, uint32_t op, uint64_t id)
{
	struct nl_msg *m = nlmsg_alloc();

	assert_non_null(m);
	assert_non_null(genlmsg_put(m, 0, 1, FAMILY, 0, 0, cmd, MODALFS_GENL_VERSION));
	assert_int_equal(nla_put_u64(m, MODALFS_A_REQ_ID, id), 0);
	if (op)
		assert_int_equal(nla_put_u32(m, MODALFS_A_OP, op), 0);
	return m;
}

static int count(struct nl_msg *m, int type)
{
	struct nlmsghdr *h = nlmsg_hdr(m);
	struct nlattr *a;
	int rem, n = 0;

	nlmsg_for_each_attr(a, h, GENL_HDRLEN, rem)
		n += nla_type(a) == type;
	return n;
}

static void t_parse(void **state)
{
	struct modalfs_fault f;
	static const char *const bad[] = {
		"BOGUS", "EIO=", "EIO=NOPE", "EIO=RENAME:", "READ_FLIP,", "read_flip",
		"EIO=A,EIO=B",
	};

	(void)state;
	assert_int_equal(modalfs_fault_parse(&f, NULL), 0);
	assert_false(f.active);
	assert_int_equal(modalfs_fault_parse(&f, ""), 0);
	assert_false(f.active);
	assert_int_equal(modalfs_fault_parse(&f, "READ_FLIP,READDIR_DROP,EIO=RENAME:rn2,EIO=LOOKUP"), 0);
	assert_true(f.active && f.read_flip && f.readdir_drop);
	assert_int_equal(f.neio, 2);
	assert_int_equal(f.eio[0].op, MODALFS_OP_RENAME);
	assert_string_equal(f.eio[0].name, "rn2");
	assert_int_equal(f.eio[1].op, MODALFS_OP_LOOKUP);
	assert_string_equal(f.eio[1].name, "");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(modalfs_fault_parse(&f, bad[i]), EINVAL);
		assert_false(f.active);
	}
}

static void t_eio(void **state)
{
	struct modalfs_fault f;
	struct nl_msg *req = msg(MODALFS_CMD_REQUEST, MODALFS_OP_RENAME, 77), *r;
	struct nlattr *a;
	uint64_t id = 0;

	(void)state;
	assert_int_equal(nla_put_string(req, MODALFS_A_NAME, "rn1"), 0);
	assert_int_equal(nla_put_string(req, MODALFS_A_NEW_NAME, "rn2"), 0);
	assert_int_equal(modalfs_fault_parse(&f, "EIO=RENAME:rn3"), 0);
	assert_null(modalfs_fault_request(&f, nlmsg_hdr(req), FAMILY, &id));
	assert_int_equal(modalfs_fault_parse(&f, "READ_FLIP"), 0);
	assert_null(modalfs_fault_request(&f, nlmsg_hdr(req), FAMILY, &id));
	assert_int_equal(modalfs_fault_parse(&f, "EIO=LOOKUP,EIO=RENAME:rn2"), 0);
	r = modalfs_fault_request(&f, nlmsg_hdr(req), FAMILY, &id);
	assert_non_null(r);
	assert_int_equal(id, 77);
	a = nlmsg_find_attr(nlmsg_hdr(r), GENL_HDRLEN, MODALFS_A_ERRNO);
	assert_non_null(a);
	assert_int_equal(nla_get_u32(a), EIO);
	a = nlmsg_find_attr(nlmsg_hdr(r), GENL_HDRLEN, MODALFS_A_REQ_ID);
	assert_non_null(a);
	assert_int_equal(nla_get_u64(a), 77);
	nlmsg_free(r);
	nlmsg_free(req);
}

static void t_read_flip(void **state)
{
	struct modalfs_fault f;
	struct nl_msg *req = msg(MODALFS_CMD_REQUEST, MODALFS_OP_READ, 5);
	struct nl_msg *rep = msg(MODALFS_CMD_REPLY, 0, 5);
	unsigned char data[100], *got;
	struct nlattr *a;
	int diff = 0;

	(void)state;
	memset(data, 'a', sizeof(data));
	assert_int_equal(nla_put(rep, MODALFS_A_DATA, sizeof(data), data), 0);
	assert_int_equal(modalfs_fault_parse(&f, "READDIR_DROP"), 0);
	assert_ptr_equal(modalfs_fault_reply(&f, nlmsg_hdr(req), rep), rep);
	a = nlmsg_find_attr(nlmsg_hdr(rep), GENL_HDRLEN, MODALFS_A_DATA);
	assert_memory_equal(nla_data(a), data, sizeof(data));
	assert_int_equal(modalfs_fault_parse(&f, "READ_FLIP"), 0);
	assert_ptr_equal(modalfs_fault_reply(&f, nlmsg_hdr(req), rep), rep);
	got = nla_data(nlmsg_find_attr(nlmsg_hdr(rep), GENL_HDRLEN, MODALFS_A_DATA));
	for (size_t i = 0; i < sizeof(data); i++)
		diff += got[i] != data[i];
	assert_int_equal(diff, 1);
	nlmsg_free(rep);
	nlmsg_free(req);
}

static void put_dirent(struct nl_msg *m, const char *name, uint64_t cookie)
{
	struct nlattr *n = nla_nest_start(m, MODALFS_A_DIRENT);

	assert_non_null(n);
	assert_int_equal(nla_put_u64(m, MODALFS_DIRENT_INO, cookie + 100), 0);
	assert_int_equal(nla_put_u32(m, MODALFS_DIRENT_TYPE, 8), 0);
	assert_int_equal(nla_put_u64(m, MODALFS_DIRENT_COOKIE, cookie), 0);
	assert_int_equal(nla_put_string(m, MODALFS_DIRENT_NAME, name), 0);
	nla_nest_end(m, n);
}

static void t_readdir_drop(void **state)
{
	struct modalfs_fault f;
	struct nl_msg *req = msg(MODALFS_CMD_REQUEST, MODALFS_OP_READDIR, 9);
	struct nl_msg *one = msg(MODALFS_CMD_REPLY, 0, 9);
	struct nl_msg *three = msg(MODALFS_CMD_REPLY, 0, 9), *r;
	struct nlattr *a, *tb[MODALFS_DIRENT_MAX + 1];

	(void)state;
	assert_int_equal(modalfs_fault_parse(&f, "READDIR_DROP"), 0);
	put_dirent(one, "only", 1);
	assert_ptr_equal(modalfs_fault_reply(&f, nlmsg_hdr(req), one), one);
	assert_int_equal(count(one, MODALFS_A_DIRENT), 1);
	put_dirent(three, "first", 1);
	put_dirent(three, "second", 2);
	put_dirent(three, "third", 3);
	assert_int_equal(nla_put_flag(three, MODALFS_A_EOF), 0);
	r = modalfs_fault_reply(&f, nlmsg_hdr(req), three);	/* frees three */
	assert_int_equal(count(r, MODALFS_A_DIRENT), 2);
	assert_int_equal(count(r, MODALFS_A_EOF), 1);
	assert_int_equal(count(r, MODALFS_A_REQ_ID), 1);
	assert_int_equal(nlmsg_hdr(r)->nlmsg_type, FAMILY);
	a = nlmsg_find_attr(nlmsg_hdr(r), GENL_HDRLEN, MODALFS_A_DIRENT);
	assert_int_equal(nla_parse_nested(tb, MODALFS_DIRENT_MAX, a, NULL), 0);
	assert_string_equal(nla_get_string(tb[MODALFS_DIRENT_NAME]), "second");
	nlmsg_free(r);
	nlmsg_free(one);
	nlmsg_free(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_parse),
		cmocka_unit_test(t_eio),
		cmocka_unit_test(t_read_flip),
		cmocka_unit_test(t_readdir_drop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
