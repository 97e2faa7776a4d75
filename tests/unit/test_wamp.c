// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cmocka tests of what a write costs (issue 10): the system calls and
 * metadata pages the store spends per op, counted by interposing the
 * calls (liblmdb reaches them through the executable: -rdynamic).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../userd/stats.h"
#include "../../userd/store.h"
#include "fixture.h"

/* blocks.h's MODALFS_OBJ_SIZE, without the backend's header. */
#define MODALFS_OBJ_SIZE_TEST (4ull << 20)

static uint64_t n_fdatasync, n_syncfs, n_openat;

int fdatasync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");

	__atomic_fetch_add(&n_fdatasync, 1, __ATOMIC_RELAXED);
	return real(fd);
}

int syncfs(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "syncfs");

	__atomic_fetch_add(&n_syncfs, 1, __ATOMIC_RELAXED);
	return real(fd);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	int (*real)(int, const char *, int, ...) =
		(int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT,
							   "openat");
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	__atomic_fetch_add(&n_openat, 1, __ATOMIC_RELAXED);
	return real(dirfd, path, flags, mode);
}

static uint64_t create(struct fx *f, const char *name)
{
	struct modalfs_iattr a;

	assert_int_equal(modalfs_store_create(f->st, NULL, f->vol,
					      MODALFS_ROOT_INO, name,
					      S_IFREG | 0644, 0, 0, 0, &a), 0);
	return a.ino;
}

/* The syncfs and fdatasync calls one FSYNC makes. */
static void fsync_calls(struct fx *f, uint64_t ino, uint64_t *fs,
			uint64_t *fds)
{
	uint64_t s0 = n_syncfs, d0 = n_fdatasync;

	assert_int_equal(modalfs_store_fsync(f->st, f->vol, ino, 0), 0);
	*fs = n_syncfs - s0;
	*fds = n_fdatasync - d0;
}

/*
 * An FSYNC syncs only what changed since the last sync: the block store
 * after a write, the metadata after a commit, nothing after nothing. The
 * first FSYNC of a store syncs both, whatever happened before it opened.
 */
static void t_fsync_skips_what_is_synced(void **state)
{
	struct fx *f = *state;
	struct modalfs_setattr sa = { .valid = MODALFS_SET_MODE, .mode = 0600 };
	struct modalfs_iattr a;
	uint64_t ino, fs, fds;
	char buf[4096] = "x", out[4096];
	size_t got;

	fsync_calls(f, MODALFS_ROOT_INO, &fs, &fds);
	assert_int_equal(fs, 1);
	assert_int_equal(fds, 1);
	fsync_calls(f, MODALFS_ROOT_INO, &fs, &fds);
	assert_int_equal(fs, 0);
	assert_int_equal(fds, 0);

	ino = create(f, "f");
	assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, ino, 0, buf,
					     sizeof(buf), &a), 0);
	fsync_calls(f, ino, &fs, &fds);
	assert_int_equal(fs, 1);
	assert_int_equal(fds, 1);
	/* Reads change nothing. */
	assert_int_equal(modalfs_store_read(f->st, f->vol, ino, 0, sizeof(out),
					    out, &got), 0);
	assert_int_equal(modalfs_store_getattr(f->st, f->vol, ino, &a), 0);
	fsync_calls(f, ino, &fs, &fds);
	assert_int_equal(fs, 0);
	assert_int_equal(fds, 0);
	/* A commit without data: the metadata only. */
	assert_int_equal(modalfs_store_setattr(f->st, NULL, f->vol, ino, &sa,
					       &a), 0);
	fsync_calls(f, ino, &fs, &fds);
	assert_int_equal(fs, 0);
	assert_int_equal(fds, 1);
	/* A truncate cuts the object after its commit: both again. */
	sa.valid = MODALFS_SET_SIZE;
	sa.size = 0;
	assert_int_equal(modalfs_store_setattr(f->st, NULL, f->vol, ino, &sa,
					       &a), 0);
	fsync_calls(f, ino, &fs, &fds);
	assert_int_equal(fs, 1);
	assert_int_equal(fds, 1);
	fsync_calls(f, ino, &fs, &fds);
	assert_int_equal(fs + fds, 0);
}

/* A store opened again syncs at its first FSYNC (a killed daemon's data). */
static void t_fsync_first_after_open(void **state)
{
	struct fx *f = *state;
	uint64_t fs, fds;

	modalfs_store_close(f->st);
	assert_int_equal(modalfs_store_open(&f->st, f->dir, 0), 0);
	fsync_calls(f, MODALFS_ROOT_INO, &fs, &fds);
	assert_int_equal(fs, 1);
	assert_int_equal(fds, 1);
}

/*
 * Writes to one object open it once (blocks_local.c's descriptor cache);
 * once a truncate to 0 removed the object, the next write creates a new
 * one instead of writing to the removed file through a kept descriptor.
 */
static void t_write_keeps_descriptor(void **state)
{
	struct fx *f = *state;
	struct modalfs_setattr sa = { .valid = MODALFS_SET_SIZE, .size = 0 };
	struct modalfs_iattr a;
	char buf[4096], out[4096], path[128];
	struct stat sb;
	uint64_t ino = create(f, "f"), n0;
	size_t got;

	memset(buf, 'a', sizeof(buf));
	/* The first creates the volume's directory and the object. */
	assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, ino, 0, buf,
					     sizeof(buf), &a), 0);
	n0 = n_openat;
	/* Past the valid length (a cut first) and over it. */
	for (int i = 1; i < 10; i++)
		assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, ino,
						     i * 8192, buf, sizeof(buf),
						     &a), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, ino,
						     i * 4096, buf, sizeof(buf),
						     &a), 0);
	assert_int_equal(n_openat - n0, 0);

	assert_int_equal(modalfs_store_setattr(f->st, NULL, f->vol, ino, &sa,
					       &a), 0);
	snprintf(path, sizeof(path), "%s/blocks/%llu/%llu.0", f->dir,
		 (unsigned long long)f->vol, (unsigned long long)ino);
	assert_int_equal(stat(path, &sb), -1);
	memset(buf, 'b', sizeof(buf));
	assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, ino, 0, buf,
					     sizeof(buf), &a), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, sizeof(buf));
	assert_int_equal(modalfs_store_read(f->st, f->vol, ino, 0, sizeof(out),
					    out, &got), 0);
	assert_int_equal(got, sizeof(out));
	assert_memory_equal(out, buf, sizeof(buf));
	assert_int_equal(modalfs_store_check_open(f->st, stderr), 0);
}

/* More objects than descriptor slots: each write still lands. */
static void t_write_many_objects(void **state)
{
	struct fx *f = *state;
	struct modalfs_iattr a;
	uint64_t ino = create(f, "f");
	char buf[512], out[512];
	size_t got;

	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 40; i++) {
			memset(buf, 'a' + (i + round) % 26, sizeof(buf));
			assert_int_equal(modalfs_store_write(
				f->st, NULL, f->vol, ino,
				(uint64_t)i * MODALFS_OBJ_SIZE_TEST, buf,
				sizeof(buf), &a), 0);
		}
	for (int i = 0; i < 40; i++) {
		memset(buf, 'a' + (i + 1) % 26, sizeof(buf));
		assert_int_equal(modalfs_store_read(
			f->st, f->vol, ino, (uint64_t)i * MODALFS_OBJ_SIZE_TEST,
			sizeof(out), out, &got), 0);
		assert_memory_equal(out, buf, sizeof(buf));
	}
	assert_int_equal(modalfs_store_check_open(f->st, stderr), 0);
}

static uint64_t meta_bytes(struct fx *f)
{
	struct modalfs_stats_snapshot s;

	modalfs_stats_snapshot(modalfs_store_stats(f->st), &s);
	return s.meta_bytes;
}

/* n SETATTRs with cached replies (ids from *id on); their page bytes. */
static uint64_t drc_setattrs(struct fx *f, uint64_t ino, uint64_t *id, int n)
{
	uint64_t b0 = meta_bytes(f);

	for (int i = 0; i < n; i++) {
		struct modalfs_setattr sa = { .valid = MODALFS_SET_MTIME,
					      .mtime_sec = *id };
		struct modalfs_iattr a;
		struct modalfs_drc d = { .req_id = *id, .fp = *id, .attr = &a };
		struct modalfs_txc tx = { .drc = &d };

		(*id)++;
		assert_int_equal(modalfs_store_setattr(f->st, &tx, f->vol, ino,
						       &sa, &a), 0);
	}
	return meta_bytes(f) - b0;
}

/*
 * A full duplicate-request cache costs about what a young one does per
 * op: pruning the oldest entries rewrites their leaves once per
 * DRC_SLACK ops, not in every commit (where it added half again).
 */
static void t_full_drc_cost(void **state)
{
	struct fx *f = *state;
	uint64_t ino = create(f, "f"), id = 1, young, full;

	modalfs_store_drc_bound(f->st, 1280);
	drc_setattrs(f, ino, &id, 1080);
	young = drc_setattrs(f, ino, &id, 200);
	full = drc_setattrs(f, ino, &id, 200);
	print_message("SETATTR page bytes: young cache %llu, full %llu\n",
		      (unsigned long long)young / 200,
		      (unsigned long long)full / 200);
	assert_true(full * 100 <= young * 115);
	assert_int_equal(modalfs_store_check_open(f->st, stderr), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_fsync_skips_what_is_synced,
						setup, teardown),
		cmocka_unit_test_setup_teardown(t_fsync_first_after_open,
						setup, teardown),
		cmocka_unit_test_setup_teardown(t_write_keeps_descriptor,
						setup, teardown),
		cmocka_unit_test_setup_teardown(t_write_many_objects,
						setup, teardown),
		cmocka_unit_test_setup_teardown(t_full_drc_cost, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("wamp", tests, NULL, NULL);
}
