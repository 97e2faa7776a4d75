// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Issue 10's write amplification, measured on the host: drives the ops
 * layer (modalfs_ops_handle, the same REQUEST messages the kernel sends)
 * on a store in a temporary directory and prints, per phase, the bytes
 * the process passed to write-like calls (/proc/self/io wchar) per
 * application byte, the metadata commits, the sync calls and ops/s.
 *
 *   make -C tests/unit wamp && tests/unit/wamp [-n ITER] [-d DIR] [-b N]
 *
 * -b N bounds the duplicate-request cache to N entries (0: the daemon's
 * 65536), so that a short run shows a long-running daemon's steady
 * state, where every cached op also prunes the oldest entry.
 *
 * Phases (what the VM benchmark's fio jobs make the kernel send):
 *   seq   a 16 MiB file in 1 MiB WRITEs, then FSYNC;
 *   rand  ITER (500) times: a 4 KiB WRITE at a random 4 KiB-aligned
 *         offset of that file, carrying mtime and ctime and flagged
 *         STABLE (what the kernel sends for write + fsync);
 *   meta  ITER CREATEs of empty files in the root, then ITER UNLINKs
 *         of them (one op at a time: a batch of one each);
 *   small ITER x (CREATE, then a 4 KiB WRITE into the new file), then
 *         FSYNC: an untar's requests, one at a time.
 *
 * Sync calls are counted by interposing fdatasync, fsync and syncfs
 * (liblmdb calls them through the executable's symbols: -rdynamic).
 * Not a cmocka test: it measures, it does not judge.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <netlink/genl/genl.h>

#include "../../userd/fsutil.h"
#include "../../userd/ops.h"
#include "../../userd/stats.h"
#include "../../userd/store.h"

#define FAMILY 0x42
#define FILE_SIZE (16u << 20)

static uint64_t n_fdatasync, n_fsync, n_syncfs;

int fdatasync(int fd)
{
	static int (*real)(int);

	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	__atomic_fetch_add(&n_fdatasync, 1, __ATOMIC_RELAXED);
	return real(fd);
}

int fsync(int fd)
{
	static int (*real)(int);

	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	__atomic_fetch_add(&n_fsync, 1, __ATOMIC_RELAXED);
	return real(fd);
}

int syncfs(int fd)
{
	static int (*real)(int);

	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "syncfs");
	__atomic_fetch_add(&n_syncfs, 1, __ATOMIC_RELAXED);
	return real(fd);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t next_id = 1;

static struct nl_msg *req(uint32_t op, uint64_t vol, uint64_t ino)
{
	/* libnl zeroes it: only a WRITE needs room for data. */
	struct nl_msg *m = nlmsg_alloc_size(op == MODALFS_OP_WRITE ?
					    MODALFS_MSG_MAX : 4096);

	if (!m || !genlmsg_put(m, 0, 1, FAMILY, 0, 0, MODALFS_CMD_REQUEST,
			       MODALFS_GENL_VERSION) ||
	    nla_put_u64(m, MODALFS_A_REQ_ID, next_id++) ||
	    nla_put_u32(m, MODALFS_A_OP, op) ||
	    (vol && nla_put_u64(m, MODALFS_A_VOL_ID, vol)) ||
	    (ino && nla_put_u64(m, MODALFS_A_INO, ino))) {
		fprintf(stderr, "wamp: cannot build a request\n");
		exit(1);
	}
	return m;
}

/* Runs m; exits unless the reply's errno is 0. Returns the reply. */
static struct nl_msg *run(struct modalfs_store *st, struct nl_msg *m)
{
	uint64_t id;
	struct nl_msg *r = modalfs_ops_handle(st, nlmsg_hdr(m), FAMILY, &id);
	int err;

	nlmsg_free(m);
	err = r ? modalfs_ops_reply_errno(r) : -1;
	if (err) {
		fprintf(stderr, "wamp: request failed: %d\n", err);
		exit(1);
	}
	return r;
}

static void run_free(struct modalfs_store *st, struct nl_msg *m)
{
	nlmsg_free(run(st, m));
}

static void put_data(struct nl_msg *m, const char *buf, size_t len)
{
	for (size_t done = 0; done < len; done += MODALFS_DATA_CHUNK) {
		size_t n = len - done < MODALFS_DATA_CHUNK ?
			   len - done : MODALFS_DATA_CHUNK;

		if (nla_put(m, MODALFS_A_DATA, n, buf + done))
			exit(1);
	}
}

static void op_write(struct modalfs_store *st, uint64_t vol, uint64_t ino,
		     uint64_t off, const char *buf, size_t len)
{
	struct nl_msg *m = req(MODALFS_OP_WRITE, vol, ino);

	nla_put_u64(m, MODALFS_A_OFFSET, off);
	put_data(m, buf, len);
	run_free(st, m);
}

/*
 * What the kernel sends for a write followed by fsync: one WRITE flagged
 * STABLE, with the file's pending mtime and ctime riding on it.
 */
static void op_write_stable(struct modalfs_store *st, uint64_t vol,
			    uint64_t ino, uint64_t off, const char *buf,
			    size_t len)
{
	struct nl_msg *m = req(MODALFS_OP_WRITE, vol, ino);
	struct nlattr *n;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	nla_put_u64(m, MODALFS_A_OFFSET, off);
	nla_put_u32(m, MODALFS_A_FLAGS, MODALFS_WRITE_STABLE);
	n = nla_nest_start(m, MODALFS_A_SETATTR);
	nla_put_s64(m, MODALFS_ATTR_MTIME_SEC, ts.tv_sec);
	nla_put_u32(m, MODALFS_ATTR_MTIME_NSEC, ts.tv_nsec);
	nla_put_s64(m, MODALFS_ATTR_CTIME_SEC, ts.tv_sec);
	nla_put_u32(m, MODALFS_ATTR_CTIME_NSEC, ts.tv_nsec);
	nla_nest_end(m, n);
	put_data(m, buf, len);
	run_free(st, m);
}

/* A CREATE of an empty file name in the root; returns the reply. */
static struct nl_msg *op_create(struct modalfs_store *st, uint64_t vol,
				const char *name)
{
	struct nl_msg *m = req(MODALFS_OP_CREATE, vol, MODALFS_ROOT_INO);

	nla_put_string(m, MODALFS_A_NAME, name);
	nla_put_u32(m, MODALFS_A_MODE, S_IFREG | 0644);
	nla_put_u32(m, MODALFS_A_UID, 0);
	nla_put_u32(m, MODALFS_A_GID, 0);
	return run(st, m);
}

static void op_fsync(struct modalfs_store *st, uint64_t vol, uint64_t ino)
{
	run_free(st, req(MODALFS_OP_FSYNC, vol, ino));
}

struct sample {
	double t;
	uint64_t wchar, fdatasync, fsync, syncfs;
	struct modalfs_stats_snapshot s;
};

static void sample(struct modalfs_store *st, struct sample *x)
{
	x->wchar = modalfs_proc_wchar("/proc/self/io");
	x->fdatasync = n_fdatasync;
	x->fsync = n_fsync;
	x->syncfs = n_syncfs;
	modalfs_stats_snapshot(modalfs_store_stats(st), &x->s);
	x->t = now_s();
}

static void report(const char *name, const struct sample *a,
		   const struct sample *b, uint64_t app_bytes, uint64_t ops)
{
	uint64_t w = b->wchar - a->wchar;
	double dt = b->t - a->t;
	/* No application bytes (metadata only): per op instead. */
	uint64_t per = app_bytes ? app_bytes : ops;

	printf("%-5s app %8llu B  wchar %9llu B = %6.2f/%s (block %.2f, meta %.2f)"
	       "  commits %4llu  fdatasync %4llu fsync %llu syncfs %4llu"
	       "  %6.0f ops/s (%llu ops, %.2f s)\n",
	       name, (unsigned long long)app_bytes, (unsigned long long)w,
	       (double)w / per, app_bytes ? "B" : "op",
	       (double)(b->s.block_bytes - a->s.block_bytes) / per,
	       (double)(b->s.meta_bytes - a->s.meta_bytes) / per,
	       (unsigned long long)(b->s.commits - a->s.commits),
	       (unsigned long long)(b->fdatasync - a->fdatasync),
	       (unsigned long long)(b->fsync - a->fsync),
	       (unsigned long long)(b->syncfs - a->syncfs),
	       ops / dt, (unsigned long long)ops, dt);
}

int main(int argc, char **argv)
{
	const char *base = "/tmp";
	char dir[256], cmd[300];
	struct modalfs_store *st;
	struct modalfs_volinfo vi;
	struct sample a, b;
	struct nl_msg *m, *r;
	struct nlattr *tb[MODALFS_ATTR_MAX + 1];
	char *buf;
	uint64_t vol, ino;
	int iter = 500, bound = 0, c;

	while ((c = getopt(argc, argv, "n:d:b:")) != -1) {
		if (c == 'n')
			iter = atoi(optarg);
		else if (c == 'b')
			bound = atoi(optarg);
		else if (c == 'd')
			base = optarg;
		else {
			fprintf(stderr, "usage: wamp [-n ITER] [-d DIR] [-b N]\n");
			return 2;
		}
	}
	snprintf(dir, sizeof(dir), "%s/modalfs-wamp-XXXXXX", base);
	if (!mkdtemp(dir) || modalfs_store_open(&st, dir, 0) ||
	    modalfs_store_vol_persisted(st, "vol", &vi)) {
		fprintf(stderr, "wamp: cannot open a store in %s\n", dir);
		return 1;
	}
	vol = vi.vol_id;
	modalfs_store_drc_bound(st, bound);
	buf = malloc(MODALFS_IO_MAX);
	if (!buf)
		return 1;
	srand(10);
	for (size_t i = 0; i < MODALFS_IO_MAX; i++)
		buf[i] = rand();

	r = op_create(st, vol, "f");
	if (nla_parse_nested(tb, MODALFS_ATTR_MAX,
			     nlmsg_find_attr(nlmsg_hdr(r), GENL_HDRLEN,
					     MODALFS_A_ATTR), NULL))
		return 1;
	ino = nla_get_u64(tb[MODALFS_ATTR_INO]);
	nlmsg_free(r);
	op_fsync(st, vol, ino);

	sample(st, &a);
	for (uint64_t off = 0; off < FILE_SIZE; off += MODALFS_IO_MAX)
		op_write(st, vol, ino, off, buf, MODALFS_IO_MAX);
	op_fsync(st, vol, ino);
	sample(st, &b);
	report("seq", &a, &b, FILE_SIZE, FILE_SIZE / MODALFS_IO_MAX + 1);

	sample(st, &a);
	for (int i = 0; i < iter; i++) {
		uint64_t off = (uint64_t)(rand() % (FILE_SIZE / 4096)) * 4096;

		op_write_stable(st, vol, ino, off, buf + (i % 256) * 4096,
				4096);
	}
	sample(st, &b);
	report("rand", &a, &b, (uint64_t)iter * 4096, (uint64_t)iter);

	sample(st, &a);
	for (int i = 0; i < iter; i++) {
		char name[32];

		snprintf(name, sizeof(name), "m%d", i);
		nlmsg_free(op_create(st, vol, name));
	}
	for (int i = 0; i < iter; i++) {
		char name[32];

		snprintf(name, sizeof(name), "m%d", i);
		m = req(MODALFS_OP_UNLINK, vol, MODALFS_ROOT_INO);
		nla_put_string(m, MODALFS_A_NAME, name);
		run_free(st, m);
	}
	sample(st, &b);
	report("meta", &a, &b, 0, (uint64_t)iter * 2);

	sample(st, &a);
	for (int i = 0; i < iter; i++) {
		char name[32];
		struct nlattr *at[MODALFS_ATTR_MAX + 1];
		uint64_t f;

		snprintf(name, sizeof(name), "s%d", i);
		r = op_create(st, vol, name);
		if (nla_parse_nested(at, MODALFS_ATTR_MAX,
				     nlmsg_find_attr(nlmsg_hdr(r), GENL_HDRLEN,
						     MODALFS_A_ATTR), NULL))
			return 1;
		f = nla_get_u64(at[MODALFS_ATTR_INO]);
		nlmsg_free(r);
		op_write(st, vol, f, 0, buf, 4096);
	}
	op_fsync(st, vol, ino);
	sample(st, &b);
	report("small", &a, &b, (uint64_t)iter * 4096, (uint64_t)iter * 2 + 1);

	modalfs_store_close(st);
	free(buf);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? 1 : 0;
}
