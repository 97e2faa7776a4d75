// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cmocka tests of the daemon's counters (userd/stats.c): histogram
 * buckets and percentiles, counting from many threads, and what one
 * kernel request through ops.c adds (requests, errors, latency, commits).
 */
#include <errno.h>
#include <pthread.h>
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
#include <linux/genetlink.h>
#include <netlink/genl/genl.h>

#include "../../userd/ctl.h"
#include "../../userd/ctlmsg.h"
#include "../../userd/ctlstats.h"
#include "../../userd/ops.h"
#include "../../userd/stats.h"
#include "../../userd/store.h"
#include "fixture.h"

static void t_buckets(void **state)
{
	uint64_t prev = 0;

	(void)state;
	/* Bounds grow strictly and each covers at most +25% of the last. */
	for (unsigned int i = 0; i < MODALFS_STATS_BUCKETS; i++) {
		uint64_t le = modalfs_stats_bucket_le(i);

		if (i)
			assert_true(le > prev);
		if (i >= 4 && i < MODALFS_STATS_BUCKETS - 1)
			assert_true(le + 1 <= (prev + 1) + (prev + 1) / 4 + 1);
		prev = le;
	}
	assert_int_equal(modalfs_stats_bucket_le(MODALFS_STATS_BUCKETS - 1),
			 UINT64_MAX);
}

static void t_percentiles(void **state)
{
	struct modalfs_stats *s = modalfs_stats_new();
	struct modalfs_stats_snapshot snap;
	struct modalfs_stats_hist *h;

	(void)state;
	assert_non_null(s);
	modalfs_stats_snapshot(s, &snap);
	assert_int_equal(modalfs_stats_percentile(&snap.op[1].latency_ns, 99),
			 0);
	assert_int_equal(modalfs_stats_mean(&snap.op[1].latency_ns), 0);
	/* 990 fast requests of 1000 ns and 10 slow ones of 1 ms. */
	for (int i = 0; i < 990; i++)
		modalfs_stats_op(s, MODALFS_OP_LOOKUP, 0, 1000);
	for (int i = 0; i < 10; i++)
		modalfs_stats_op(s, MODALFS_OP_LOOKUP, ENOENT, 1000000);
	/* Out of range ops are ignored. */
	modalfs_stats_op(s, 0, 0, 5);
	modalfs_stats_op(s, MODALFS_OP_MAX + 1, 0, 5);
	modalfs_stats_snapshot(s, &snap);
	h = &snap.op[MODALFS_OP_LOOKUP].latency_ns;
	assert_int_equal(snap.op[MODALFS_OP_LOOKUP].requests, 1000);
	assert_int_equal(snap.op[MODALFS_OP_LOOKUP].errors, 10);
	assert_int_equal(h->count, 1000);
	assert_int_equal(h->max, 1000000);
	assert_int_equal(modalfs_stats_mean(h), (990 * 1000 + 10 * 1000000) /
			 1000);
	/* p99 is the 990th value: a fast one, within the 19% bound. */
	assert_true(modalfs_stats_percentile(h, 99) >= 1000);
	assert_true(modalfs_stats_percentile(h, 99) <= 1190);
	/* p99.9 is a slow one, clamped to the maximum. */
	assert_int_equal(modalfs_stats_percentile(h, 99.9), 1000000);
	assert_int_equal(modalfs_stats_percentile(h, 100), 1000000);
	modalfs_stats_commit(s, 3);
	modalfs_stats_commit(s, 0);
	modalfs_stats_sync(s);
	modalfs_stats_block_bytes(s, 4096);
	modalfs_stats_meta_bytes(s, 8192);
	modalfs_stats_snapshot(s, &snap);
	assert_int_equal(snap.commits, 2);
	assert_int_equal(snap.batch_ops.count, 1);
	assert_int_equal(snap.batch_ops.max, 3);
	assert_int_equal(snap.syncs, 1);
	assert_int_equal(snap.block_bytes, 4096);
	assert_int_equal(snap.meta_bytes, 8192);
	assert_string_equal(modalfs_stats_op_name(MODALFS_OP_WRITE), "WRITE");
	assert_string_equal(modalfs_stats_op_name(999), "?");
	modalfs_stats_free(s);
}

static void *hammer(void *arg)
{
	struct modalfs_stats *s = arg;

	for (uint64_t i = 0; i < 100000; i++)
		modalfs_stats_op(s, MODALFS_OP_READ, (int)(i & 1), i);
	return NULL;
}

/* Lock-free counting from four threads loses nothing. */
static void t_threads(void **state)
{
	struct modalfs_stats *s = modalfs_stats_new();
	struct modalfs_stats_snapshot snap;
	pthread_t t[4];
	uint64_t total = 0;

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, s), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	modalfs_stats_snapshot(s, &snap);
	assert_int_equal(snap.op[MODALFS_OP_READ].requests, 400000);
	assert_int_equal(snap.op[MODALFS_OP_READ].errors, 200000);
	assert_int_equal(snap.op[MODALFS_OP_READ].latency_ns.max, 99999);
	for (unsigned int i = 0; i < MODALFS_STATS_BUCKETS; i++)
		total += snap.op[MODALFS_OP_READ].latency_ns.bucket[i];
	assert_int_equal(total, 400000);
	assert_int_equal(snap.op[MODALFS_OP_READ].latency_ns.sum,
			 4ULL * 99999 * 100000 / 2);
	modalfs_stats_free(s);
}

static struct nl_msg *request(uint32_t op, uint64_t id, uint64_t vol,
			      uint64_t ino, const char *name)
{
	struct nl_msg *m = nlmsg_alloc();

	assert_non_null(m);
	assert_non_null(genlmsg_put(m, 0, 1, 0x42, 0, 0, MODALFS_CMD_REQUEST,
				    MODALFS_GENL_VERSION));
	assert_int_equal(nla_put_u64(m, MODALFS_A_REQ_ID, id), 0);
	assert_int_equal(nla_put_u32(m, MODALFS_A_OP, op), 0);
	assert_int_equal(nla_put_u64(m, MODALFS_A_VOL_ID, vol), 0);
	assert_int_equal(nla_put_u64(m, MODALFS_A_INO, ino), 0);
	if (name)
		assert_int_equal(nla_put_string(m, MODALFS_A_NAME, name), 0);
	return m;
}

static int handle(struct fx *f, struct nl_msg *m)
{
	uint64_t id;
	struct nl_msg *r = modalfs_ops_handle(f->st, nlmsg_hdr(m), 0x42, &id);
	int err;

	assert_non_null(r);
	err = modalfs_ops_reply_errno(r);
	nlmsg_free(r);
	nlmsg_free(m);
	return err;
}

/* Each kernel request is counted once under its op, errors apart. */
static void t_ops_counted(void **state)
{
	struct fx *f = *state;
	struct modalfs_stats_snapshot a, b;
	struct nl_msg *m;

	modalfs_stats_snapshot(modalfs_store_stats(f->st), &a);
	assert_int_equal(handle(f, request(MODALFS_OP_GETATTR, 1, f->vol,
					   MODALFS_ROOT_INO, NULL)), 0);
	assert_int_equal(handle(f, request(MODALFS_OP_LOOKUP, 2, f->vol,
					   MODALFS_ROOT_INO, "nope")), ENOENT);
	m = request(MODALFS_OP_CREATE, 3, f->vol, MODALFS_ROOT_INO, "f");
	nla_put_u32(m, MODALFS_A_MODE, S_IFREG | 0644);
	nla_put_u32(m, MODALFS_A_UID, 0);
	nla_put_u32(m, MODALFS_A_GID, 0);
	assert_int_equal(handle(f, m), 0);
	/* Missing NAME: EINVAL, still counted under its op. */
	assert_int_equal(handle(f, request(MODALFS_OP_UNLINK, 4, f->vol,
					   MODALFS_ROOT_INO, NULL)), EINVAL);
	modalfs_stats_snapshot(modalfs_store_stats(f->st), &b);
	assert_int_equal(b.op[MODALFS_OP_GETATTR].requests -
			 a.op[MODALFS_OP_GETATTR].requests, 1);
	assert_int_equal(b.op[MODALFS_OP_GETATTR].errors, 0);
	assert_int_equal(b.op[MODALFS_OP_LOOKUP].requests -
			 a.op[MODALFS_OP_LOOKUP].requests, 1);
	assert_int_equal(b.op[MODALFS_OP_LOOKUP].errors -
			 a.op[MODALFS_OP_LOOKUP].errors, 1);
	assert_int_equal(b.op[MODALFS_OP_CREATE].requests, 1);
	assert_int_equal(b.op[MODALFS_OP_UNLINK].errors, 1);
	assert_true(b.op[MODALFS_OP_CREATE].latency_ns.sum > 0);
	/* The create committed something. */
	assert_true(b.commits > a.commits);
}

/* CTL_STATS through the control handler, decoded as modalfsctl does. */
static void t_ctl_stats(void **state)
{
	struct fx *f = *state;
	struct nlattr *tb[MODALFS_A_MAX + 1];
	struct modalfs_ctl_stats cs;
	struct nlmsghdr *nlh;
	struct nl_msg *m;
	char *buf = malloc(MODALFS_CTL_DGRAM_MAX);
	uint8_t cmd;
	ssize_t n;
	int sv[2];

	assert_non_null(buf);
	assert_int_equal(handle(f, request(MODALFS_OP_GETATTR, 7, f->vol,
					   MODALFS_ROOT_INO, NULL)), 0);
	assert_int_equal(handle(f, request(MODALFS_OP_GETATTR, 8, f->vol,
					   99999, NULL)), ESTALE);
	modalfs_stats_block_bytes(modalfs_store_stats(f->st), 12345);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	m = modalfs_ctlmsg_new(MODALFS_CTL_STATS, 77, true);
	assert_non_null(m);
	/* Any peer may ask, like LIST. */
	assert_int_equal(modalfs_ctl_handle(f->st, sv[1], nlmsg_hdr(m),
					    nlmsg_hdr(m)->nlmsg_len, 1000), 0);
	nlmsg_free(m);
	n = recv(sv[0], buf, MODALFS_CTL_DGRAM_MAX, 0);
	assert_true(n > 0);
	assert_int_equal(modalfs_ctlmsg_parse(buf, n, &nlh, &cmd, tb), 0);
	assert_int_equal(cmd, MODALFS_CTL_STATS);
	assert_int_equal(nlh->nlmsg_seq, 77);
	assert_int_equal(nla_get_u32(tb[MODALFS_A_ERRNO]), 0);
	assert_non_null(tb[MODALFS_A_STATS]);
	assert_int_equal(modalfs_ctl_get_stats(tb[MODALFS_A_STATS], &cs), 0);
	assert_int_equal(cs.op[MODALFS_OP_GETATTR].requests, 2);
	assert_int_equal(cs.op[MODALFS_OP_GETATTR].errors, 1);
	assert_true(cs.op[MODALFS_OP_GETATTR].p99_ns > 0);
	assert_true(cs.op[MODALFS_OP_GETATTR].max_ns >=
		    cs.op[MODALFS_OP_GETATTR].p99_ns);
	assert_int_equal(cs.op[MODALFS_OP_WRITE].requests, 0);
	assert_int_equal(cs.block_bytes, 12345);
	assert_true(cs.commits >= 1);
	assert_true(cs.started > 0);
	close(sv[0]);
	close(sv[1]);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_buckets),
		cmocka_unit_test(t_percentiles),
		cmocka_unit_test(t_threads),
		cmocka_unit_test_setup_teardown(t_ops_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(t_ctl_stats, setup, teardown),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
