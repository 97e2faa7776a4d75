// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cmocka tests of the control channel's authorization (userd/ctl_perm.c,
 * ctl_files.c, ctl_put.c): generic_permission() as the VFS has it, the
 * path walk that hides what lies below an unsearchable directory, and
 * the atomic PUT that leaves the old file whole until its commit.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <netlink/genl/genl.h>

#include "../../userd/ctl_priv.h"
#include "../../userd/log.h"
#include "../../userd/store.h"
#include "fixture.h"

#define ROOT MODALFS_ROOT_INO

static void t_permission(void **state)
{
	gid_t sup[] = { 77 };
	struct modalfs_ctl_cred u = { .uid = 1000, .gid = 100,
				      .ngroups = 1, .groups = sup };
	struct modalfs_ctl_cred root = { .uid = 0 };
	struct modalfs_iattr a = { .mode = S_IFREG | 0640, .uid = 1000,
				   .gid = 5 };

	(void)state;
	assert_int_equal(modalfs_ctl_permission(&u, &a, MODALFS_MAY_READ), 0);
	assert_int_equal(modalfs_ctl_permission(&u, &a, MODALFS_MAY_EXEC),
			 EACCES);
	/* The owner class alone decides for the owner, even if others may. */
	a.mode = S_IFREG | 0077;
	assert_int_equal(modalfs_ctl_permission(&u, &a, MODALFS_MAY_READ),
			 EACCES);
	/* The group class through a supplementary group. */
	a.uid = 1;
	a.gid = 77;
	a.mode = S_IFREG | 0640;
	assert_int_equal(modalfs_ctl_permission(&u, &a, MODALFS_MAY_READ), 0);
	assert_int_equal(modalfs_ctl_permission(&u, &a, MODALFS_MAY_WRITE),
			 EACCES);
	a.gid = 78;
	assert_int_equal(modalfs_ctl_permission(&u, &a, MODALFS_MAY_READ),
			 EACCES);
	/* Root: all but executing a file nobody may execute. */
	assert_int_equal(modalfs_ctl_permission(&root, &a, MODALFS_MAY_WRITE),
			 0);
	assert_int_equal(modalfs_ctl_permission(&root, &a, MODALFS_MAY_EXEC),
			 EACCES);
	a.mode = S_IFDIR | 0700;
	assert_int_equal(modalfs_ctl_permission(&root, &a, MODALFS_MAY_EXEC),
			 0);
	/* Sticky directories. */
	a.mode = S_IFDIR | 01777;
	a.uid = 0;
	{
		struct modalfs_iattr victim = { .mode = S_IFREG, .uid = 2 };

		assert_int_equal(modalfs_ctl_sticky(&u, &a, &victim), EPERM);
		victim.uid = 1000;
		assert_int_equal(modalfs_ctl_sticky(&u, &a, &victim), 0);
	}
}

static void t_walk(void **state)
{
	struct fx *f = *state;
	struct modalfs_ctl_cred alice = { .uid = 1001, .gid = 1001 };
	struct modalfs_ctl_cred bob = { .uid = 1002, .gid = 1002 };
	struct modalfs_ctl_cred root = { .uid = 0 };
	struct modalfs_store_path sp;
	struct modalfs_iattr d, n;

	assert_int_equal(modalfs_store_mkdir(f->st, NULL, f->vol, ROOT, "alice",
					     0700, 1001, 1001, &d), 0);
	assert_int_equal(modalfs_store_create(f->st, NULL, f->vol, d.ino, "note",
					      S_IFREG | 0644, 1001, 1001, 0,
					      &n), 0);
	assert_int_equal(modalfs_ctl_walk(f->st, &alice, "vol", "/alice/note",
					  &sp), 0);
	assert_true(sp.exists);
	assert_int_equal(sp.attr.ino, n.ino);
	assert_int_equal(modalfs_ctl_walk(f->st, &root, "vol", "/alice/note",
					  &sp), 0);
	/* Bob cannot search /alice: existing or not, the answer is EACCES. */
	assert_int_equal(modalfs_ctl_walk(f->st, &bob, "vol", "/alice/note",
					  &sp), EACCES);
	assert_int_equal(modalfs_ctl_walk(f->st, &bob, "vol", "/alice/none",
					  &sp), EACCES);
	assert_int_equal(modalfs_ctl_walk(f->st, &bob, "vol",
					  "/alice/none/deeper", &sp), EACCES);
	/* Alice sees what is missing. */
	assert_int_equal(modalfs_ctl_walk(f->st, &alice, "vol", "/alice/none",
					  &sp), 0);
	assert_false(sp.exists);
	assert_int_equal(modalfs_ctl_walk(f->st, &alice, "vol",
					  "/alice/none/deeper", &sp), ENOENT);
	assert_int_equal(modalfs_ctl_walk(f->st, &alice, "vol",
					  "/alice/note/x", &sp), ENOTDIR);
	assert_int_equal(modalfs_ctl_walk(f->st, &alice, "vol", "/alice/..",
					  &sp), EINVAL);
	assert_int_equal(modalfs_ctl_walk(f->st, &alice, "nope", "/", &sp),
			 ENOENT);
	assert_int_equal(sp.vol, 0);
}

/* Sends a PUT on conn; returns the reply's errno. */
static int put(struct modalfs_ctl_conn *conn, int peer, const char *path,
	       uint64_t off, const char *data, size_t len, uint32_t flags)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	struct nl_msg *m = modalfs_ctlmsg_new(MODALFS_CTL_PUT, 9, true);
	char *buf = malloc(MODALFS_CTL_DGRAM_MAX);
	struct nlmsghdr *nlh;
	uint8_t cmd;
	ssize_t n;
	int err;

	assert_non_null(buf);
	nla_put_string(m, MODALFS_A_VOL_NAME, "vol");
	nla_put_string(m, MODALFS_A_PATH, path);
	nla_put_u64(m, MODALFS_A_OFFSET, off);
	nla_put_u32(m, MODALFS_A_FLAGS, flags);
	if (len)
		nla_put(m, MODALFS_A_DATA, len, data);
	assert_int_equal(modalfs_ctl_dispatch(conn, nlmsg_hdr(m),
					      nlmsg_hdr(m)->nlmsg_len), 0);
	nlmsg_free(m);
	n = recv(peer, buf, MODALFS_CTL_DGRAM_MAX, MSG_DONTWAIT);
	assert_true(n > 0);
	assert_int_equal(modalfs_ctlmsg_parse(buf, n, &nlh, &cmd, tb), 0);
	err = nla_get_u32(tb[MODALFS_A_ERRNO]);
	free(buf);
	return err;
}

static void content(struct fx *f, const char *want)
{
	struct modalfs_iattr a;
	char buf[64] = "";
	size_t got = 0;

	assert_int_equal(modalfs_store_lookup(f->st, f->vol, ROOT, "t", &a), 0);
	assert_int_equal(modalfs_store_read(f->st, f->vol, a.ino, 0,
					    sizeof(buf) - 1, buf, &got), 0);
	buf[got] = '\0';
	assert_string_equal(buf, want);
}

static void t_put_atomic(void **state)
{
	struct fx *f = *state;
	struct modalfs_ctl_conn conn = { .st = f->st };
	const uint32_t A = MODALFS_CTL_F_ATOMIC, C = MODALFS_CTL_F_COMMIT;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	conn.fd = sv[1];
	assert_int_equal(put(&conn, sv[0], "/t", 0, "good", 4, A | C), 0);
	content(f, "good");
	/* Half a put: the old file stays whole; the abort drops the rest. */
	assert_int_equal(put(&conn, sv[0], "/t", 0, "ne", 2, A), 0);
	content(f, "good");
	assert_int_equal(put(&conn, sv[0], "/t", 3, "x", 1, A), EINVAL);
	assert_false(conn.stage.active);
	content(f, "good");
	assert_int_equal(put(&conn, sv[0], "/t", 0, "ne", 2, A), 0);
	modalfs_ctl_stage_abort(&conn);
	content(f, "good");
	/* In order, then committed. */
	assert_int_equal(put(&conn, sv[0], "/t", 0, "ne", 2, A), 0);
	assert_int_equal(put(&conn, sv[0], "/t", 2, "w!", 2, A | C), 0);
	content(f, "new!");
	assert_int_equal(modalfs_store_check_open(f->st, stderr), 0);
	/* Someone else cannot replace root's 0644 file. */
	conn.cred.uid = 1000;
	conn.cred.gid = 1000;
	assert_int_equal(put(&conn, sv[0], "/t", 0, "evil", 4, A | C), EACCES);
	content(f, "new!");
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_permission),
		cmocka_unit_test_setup_teardown(t_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(t_put_atomic, setup, teardown),
	};

	modalfs_log_level = MODALFS_LOG_ERR;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
