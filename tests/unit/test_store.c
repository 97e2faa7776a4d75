// SPDX-License-Identifier: GPL-2.0 OR MIT
/* cmocka tests of the LMDB store (userd/store_*.c) and name rules. */
#include <errno.h>
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

#include "../../userd/names.h"
#include "../../userd/store.h"
#include "fixture.h"

/* A size that straddles objects and 4 KiB pages in odd ways. */
#define BLK 65536u

#define ROOT MODALFS_ROOT_INO

/* Helpers: create a file / dir under dir and return its ino. */
static uint64_t mkfile(struct fx *f, uint64_t dir, const char *name)
{
	struct modalfs_iattr a;

	assert_int_equal(modalfs_store_create(f->st, NULL, f->vol, dir, name,
					      S_IFREG | 0644, 1000, 1000, 0,
					      &a), 0);
	return a.ino;
}

static uint64_t mkd(struct fx *f, uint64_t dir, const char *name)
{
	struct modalfs_iattr a;

	assert_int_equal(modalfs_store_mkdir(f->st, NULL, f->vol, dir, name, 0755,
					     0, 0, &a), 0);
	return a.ino;
}

static struct modalfs_iattr getattr(struct fx *f, uint64_t ino)
{
	struct modalfs_iattr a;

	assert_int_equal(modalfs_store_getattr(f->st, f->vol, ino, &a), 0);
	return a;
}

static int lookup(struct fx *f, uint64_t dir, const char *name, uint64_t *ino)
{
	struct modalfs_iattr a;
	int err = modalfs_store_lookup(f->st, f->vol, dir, name, &a);

	if (!err && ino)
		*ino = a.ino;
	return err;
}

static void fill(unsigned char *buf, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)((off + i) * 7 + ((off + i) >> 13));
}

/* ---- names ---- */

static void t_vol_names(void **state)
{
	char long_ok[65], too_long[66];

	(void)state;
	memset(long_ok, 'a', 64);
	long_ok[64] = 0;
	memset(too_long, 'a', 65);
	too_long[65] = 0;
	assert_true(modalfs_vol_name_valid("job-storage-vol"));
	assert_true(modalfs_vol_name_valid("A.b_c-9"));
	assert_true(modalfs_vol_name_valid(long_ok));
	assert_false(modalfs_vol_name_valid(too_long));
	assert_false(modalfs_vol_name_valid(""));
	assert_false(modalfs_vol_name_valid("a/b"));
	assert_false(modalfs_vol_name_valid("a b"));
	assert_false(modalfs_vol_name_valid("a:b"));
	assert_false(modalfs_vol_name_valid(NULL));
}

static void t_file_names(void **state)
{
	char n255[256], n256[257];

	(void)state;
	memset(n255, 'x', 255);
	n255[255] = 0;
	memset(n256, 'x', 256);
	n256[256] = 0;
	assert_true(modalfs_file_name_valid("file.txt"));
	assert_true(modalfs_file_name_valid("..."));
	assert_true(modalfs_file_name_valid(n255));
	assert_false(modalfs_file_name_valid(n256));
	assert_false(modalfs_file_name_valid(""));
	assert_false(modalfs_file_name_valid("a/b"));
	assert_false(modalfs_file_name_valid("."));
	assert_false(modalfs_file_name_valid(".."));
}

/* ---- volumes ---- */

static void t_persisted_idempotent(void **state)
{
	struct fx *f = *state;
	struct modalfs_volinfo a, b;

	assert_int_equal(modalfs_store_vol_persisted(f->st, "p1", &a), 0);
	assert_int_equal(modalfs_store_vol_persisted(f->st, "p1", &b), 0);
	assert_int_equal(a.vol_id, b.vol_id);
	assert_string_equal(a.app_id, b.app_id);
	assert_memory_equal(a.app_id, "ap-", 3);
	assert_true(strlen(a.app_id) > 10);
	assert_int_equal(a.kind, MODALFS_KIND_PERSISTED);
	assert_int_equal(a.files, 1);
	assert_true(a.vol_id != f->vol);
}

static void t_create_eexist(void **state)
{
	struct fx *f = *state;
	struct modalfs_volinfo a, b;

	assert_int_equal(modalfs_store_vol_create(f->st, "c1",
			 MODALFS_KIND_PERSISTED, &a), 0);
	assert_int_equal(modalfs_store_vol_create(f->st, "c1",
			 MODALFS_KIND_PERSISTED, &b), EEXIST);
	assert_int_equal(modalfs_store_vol_create(f->st, "vol",
			 MODALFS_KIND_PERSISTED, &b), EEXIST);
	assert_int_equal(modalfs_store_vol_create(f->st, "c2", 99, &b),
			 EINVAL);
	assert_int_equal(modalfs_store_vol_create(f->st, "c2",
			 MODALFS_KIND_EPHEMERAL, &b), 0);
	assert_true(b.vol_id > a.vol_id);
	assert_string_not_equal(a.app_id, b.app_id);
}

static int count_cb(const struct modalfs_volinfo *vi, void *arg)
{
	struct modalfs_volinfo *out = arg;

	if (!strcmp(vi->name, "vol"))
		*out = *vi;
	return 0;
}

static void t_list_usage(void **state)
{
	struct fx *f = *state;
	struct modalfs_volinfo vi = { 0 };
	unsigned char buf[5000] = { 1 };
	uint64_t a = mkfile(f, ROOT, "a");

	mkd(f, ROOT, "d");
	assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, a, 0, buf,
					     sizeof(buf), NULL), 0);
	assert_int_equal(modalfs_store_vol_list(f->st, count_cb, &vi), 0);
	assert_string_equal(vi.name, "vol");
	assert_int_equal(vi.files, 3);
	assert_int_equal(vi.bytes, 5000);
}

/* ---- mount ---- */

static void t_mount_root(void **state)
{
	struct fx *f = *state;
	struct modalfs_iattr a;
	uint64_t vol;

	assert_int_equal(modalfs_store_mount(f->st, "vol", NULL, &vol, &a), 0);
	assert_int_equal(vol, f->vol);
	assert_int_equal(a.ino, ROOT);
	assert_int_equal(a.mode, S_IFDIR | 0755);
	assert_int_equal(a.nlink, 2);
	assert_int_equal(a.uid, 0);
	assert_int_equal(modalfs_store_mount(f->st, "nope", "/", &vol, &a),
			 ENOENT);
}

static void t_mount_subpath(void **state)
{
	struct fx *f = *state;
	struct modalfs_iattr a;
	uint64_t vol, d1 = mkd(f, ROOT, "a"), d2 = mkd(f, d1, "b");

	mkfile(f, d1, "file");
	assert_int_equal(modalfs_store_mount(f->st, "vol", "/a/b", &vol, &a), 0);
	assert_int_equal(a.ino, d2);
	assert_int_equal(modalfs_store_mount(f->st, "vol", "a//b/", &vol, &a), 0);
	assert_int_equal(a.ino, d2);
	assert_int_equal(modalfs_store_mount(f->st, "vol", "/a/./b/..", &vol,
					     &a), 0);
	assert_int_equal(a.ino, d1);
	assert_int_equal(modalfs_store_mount(f->st, "vol", "/a/file", &vol,
					     &a), ENOTDIR);
	assert_int_equal(modalfs_store_mount(f->st, "vol", "/a/file/x", &vol,
					     &a), ENOTDIR);
	assert_int_equal(modalfs_store_mount(f->st, "vol", "/a/missing", &vol,
					     &a), ENOENT);
}

/* ---- create / lookup ---- */

static void t_create_lookup(void **state)
{
	struct fx *f = *state;
	struct modalfs_iattr a;
	uint64_t ino = mkfile(f, ROOT, "f"), got;

	assert_int_equal(lookup(f, ROOT, "f", &got), 0);
	assert_int_equal(got, ino);
	a = getattr(f, ino);
	assert_int_equal(a.mode, S_IFREG | 0644);
	assert_int_equal(a.nlink, 1);
	assert_int_equal(a.uid, 1000);
	assert_int_equal(a.size, 0);
	assert_int_equal(modalfs_store_create(f->st, NULL, f->vol, ROOT, "f",
					      S_IFREG | 0600, 0, 0, 0, &a),
			 EEXIST);
	assert_int_equal(modalfs_store_create(f->st, NULL, f->vol, ROOT, "d",
					      S_IFDIR | 0600, 0, 0, 0, &a),
			 EINVAL);
	assert_int_equal(modalfs_store_create(f->st, NULL, f->vol, ROOT, "fifo",
					      S_IFIFO | 0600, 0, 0, 0, &a), 0);
	assert_int_equal(a.mode, S_IFIFO | 0600);
	assert_int_equal(lookup(f, ROOT, "missing", NULL), ENOENT);
}

static void t_lookup_errors(void **state)
{
	struct fx *f = *state;
	struct modalfs_iattr a;
	uint64_t ino = mkfile(f, ROOT, "f");

	assert_int_equal(lookup(f, ino, "x", NULL), ENOTDIR);
	assert_int_equal(lookup(f, 9999, "x", NULL), ESTALE);
	assert_int_equal(modalfs_store_lookup(f->st, 12345, ROOT, "f", &a),
			 ESTALE);
	assert_int_equal(modalfs_store_getattr(f->st, f->vol, 9999, &a),
			 ESTALE);
	assert_int_equal(modalfs_store_create(f->st, NULL, f->vol, ino, "x",
					      S_IFREG | 0644, 0, 0, 0, &a),
			 ENOTDIR);
}

static void t_ino_unique(void **state)
{
	struct fx *f = *state;
	uint64_t a = mkfile(f, ROOT, "a"), b;

	assert_int_equal(modalfs_store_unlink(f->st, NULL, f->vol, ROOT, "a"), 0);
	assert_int_equal(modalfs_store_evict(f->st, NULL, f->vol, a), 0);
	b = mkfile(f, ROOT, "a");
	assert_true(b > a);
}

/*
 * Asynchronous creates: INO_RANGE hands out numbers that no create takes
 * afterwards, a create may claim one of them (free, below the volume's
 * next number) with the kernel's times, and nothing else.
 */
static void t_ino_range_claim(void **state)
{
	struct fx *f = *state;
	struct modalfs_setattr times = {
		.valid = MODALFS_SET_ATIME | MODALFS_SET_MTIME |
			 MODALFS_SET_CTIME,
		.atime_sec = 1000, .atime_nsec = 1,
		.mtime_sec = 2000, .mtime_nsec = 2,
		.ctime_sec = 3000, .ctime_nsec = 3,
	};
	struct modalfs_newnode nn = { .times = &times };
	struct modalfs_iattr a;
	uint64_t first, other;

	assert_int_equal(modalfs_store_ino_range(f->st, NULL, f->vol, 0,
						 &first), EINVAL);
	assert_int_equal(modalfs_store_ino_range(f->st, NULL, f->vol,
						 MODALFS_INO_RANGE_MAX + 1,
						 &first), EINVAL);
	assert_int_equal(modalfs_store_ino_range(f->st, NULL, f->vol, 10,
						 &first), 0);
	assert_true(first > ROOT);
	/* The daemon's own numbers come after the range. */
	other = mkfile(f, ROOT, "other");
	assert_true(other >= first + 10);

	nn.ino = first + 3;
	assert_int_equal(modalfs_store_create_at(f->st, NULL, f->vol, ROOT,
						 "mine", S_IFREG | 0640, 7, 8,
						 0, &nn, &a), 0);
	assert_int_equal(a.ino, first + 3);
	a = getattr(f, first + 3);
	assert_int_equal(a.mtime_sec, 2000);
	assert_int_equal(a.mtime_nsec, 2);
	assert_int_equal(a.ctime_sec, 3000);
	assert_int_equal(a.atime_sec, 1000);
	assert_int_equal(a.uid, 7);
	assert_int_equal(lookup(f, ROOT, "mine", &other), 0);
	assert_int_equal(other, first + 3);

	/* Taken, the root's, beyond what was handed out: EINVAL. */
	assert_int_equal(modalfs_store_create_at(f->st, NULL, f->vol, ROOT,
						 "again", S_IFREG | 0640, 0, 0,
						 0, &nn, &a), EINVAL);
	nn.ino = ROOT;
	assert_int_equal(modalfs_store_create_at(f->st, NULL, f->vol, ROOT,
						 "root", S_IFREG | 0640, 0, 0,
						 0, &nn, &a), EINVAL);
	nn.ino = first + 1000000;
	assert_int_equal(modalfs_store_create_at(f->st, NULL, f->vol, ROOT,
						 "far", S_IFREG | 0640, 0, 0,
						 0, &nn, &a), EINVAL);
	assert_int_equal(lookup(f, ROOT, "again", NULL), ENOENT);

	/* An asynchronous mkdir: the same number rules, nlink 2. */
	nn.ino = first + 4;
	assert_int_equal(modalfs_store_mkdir_at(f->st, NULL, f->vol, ROOT,
						"dir", 0750, 7, 8, &nn, &a), 0);
	assert_int_equal(a.ino, first + 4);
	a = getattr(f, first + 4);
	assert_true(S_ISDIR(a.mode));
	assert_int_equal(a.nlink, 2);
	assert_int_equal(a.mtime_sec, 2000);
	assert_int_equal(a.ctime_nsec, 3);
	assert_int_equal(modalfs_store_create_at(f->st, NULL, f->vol,
						 first + 4, "inside",
						 S_IFREG | 0640, 0, 0, 0, NULL,
						 &a), 0);
	assert_int_equal(modalfs_store_mkdir_at(f->st, NULL, f->vol, ROOT,
						"dir2", 0750, 0, 0, &nn, &a),
			 EINVAL);
}

/* ---- mkdir / rmdir / unlink ---- */

static void t_mkdir_nlink(void **state)
{
	struct fx *f = *state;
	uint64_t d = mkd(f, ROOT, "d");

	assert_int_equal(getattr(f, ROOT).nlink, 3);
	assert_int_equal(getattr(f, d).nlink, 2);
	assert_int_equal(getattr(f, d).mode, S_IFDIR | 0755);
	mkd(f, d, "e");
	mkfile(f, d, "file");
	assert_int_equal(getattr(f, d).nlink, 3);
	assert_int_equal(modalfs_store_rmdir(f->st, NULL, f->vol, d, "e"), 0);
	assert_int_equal(getattr(f, d).nlink, 2);
}

static void t_unlink_rmdir_types(void **state)
{
	struct fx *f = *state;

	mkd(f, ROOT, "d");
	mkfile(f, ROOT, "f");
	assert_int_equal(modalfs_store_unlink(f->st, NULL, f->vol, ROOT, "d"),
			 EISDIR);
	assert_int_equal(modalfs_store_rmdir(f->st, NULL, f->vol, ROOT, "f"),
			 ENOTDIR);
	assert_int_equal(modalfs_store_unlink(f->st, NULL, f->vol, ROOT, "nope"),
			 ENOENT);
	assert_int_equal(modalfs_store_rmdir(f->st, NULL, f->vol, ROOT, "nope"),
			 ENOENT);
}

static void t_rmdir_notempty(void **state)
{
	struct fx *f = *state;
	struct modalfs_iattr a;
	uint64_t d = mkd(f, ROOT, "d");

	mkfile(f, d, "f");
	assert_int_equal(modalfs_store_rmdir(f->st, NULL, f->vol, ROOT, "d"),
			 ENOTEMPTY);
	assert_int_equal(modalfs_store_unlink(f->st, NULL, f->vol, d, "f"), 0);
	assert_int_equal(modalfs_store_rmdir(f->st, NULL, f->vol, ROOT, "d"), 0);
	assert_int_equal(getattr(f, ROOT).nlink, 2);
	assert_int_equal(lookup(f, ROOT, "d", NULL), ENOENT);
	/* Creating inside the removed (still referenced) dir fails. */
	assert_int_equal(modalfs_store_create(f->st, NULL, f->vol, d, "g",
					      S_IFREG | 0644, 0, 0, 0, &a),
			 ENOENT);
}

/* ---- link ---- */

static void t_link_nlink(void **state)
{
	struct fx *f = *state;
	struct modalfs_iattr a;
	uint64_t d = mkd(f, ROOT, "d"), ino = mkfile(f, ROOT, "f"), got;

	assert_int_equal(modalfs_store_link(f->st, NULL, f->vol, ino, d, "g", &a), 0);
	assert_int_equal(a.nlink, 2);
	assert_int_equal(lookup(f, d, "g", &got), 0);
	assert_int_equal(got, ino);
	assert_int_equal(modalfs_store_link(f->st, NULL, f->vol, ino, ROOT, "h",
					    &a), 0);
	assert_int_equal(getattr(f, ino).nlink, 3);
	assert_int_equal(modalfs_store_unlink(f->st, NULL, f->vol, ROOT, "f"), 0);
	assert_int_equal(getattr(f, ino).nlink, 2);
	assert_int_equal(modalfs_store_unlink(f->st, NULL, f->vol, d, "g"), 0);
	assert_int_equal(getattr(f, ino).nlink, 1);
	/* Directories keep nlink 2 + subdirs regardless of file links. */
	assert_int_equal(getattr(f, d).nlink, 2);
}

static void t_link_errors(void **state)
{
	struct fx *f = *state;
	struct modalfs_iattr a;
	uint64_t d = mkd(f, ROOT, "d"), ino = mkfile(f, ROOT, "f");

	assert_int_equal(modalfs_store_link(f->st, NULL, f->vol, d, ROOT, "x", &a),
			 EPERM);
	assert_int_equal(modalfs_store_link(f->st, NULL, f->vol, ino, ROOT, "d",
					    &a), EEXIST);
	assert_int_equal(modalfs_store_link(f->st, NULL, f->vol, ino, ino, "x", &a),
			 ENOTDIR);
	assert_int_equal(modalfs_store_link(f->st, NULL, f->vol, 999, ROOT, "x",
					    &a), ESTALE);
	assert_int_equal(getattr(f, ino).nlink, 1);
}

/* ---- rename ---- */

static void t_rename_simple(void **state)
{
	struct fx *f = *state;
	uint64_t d = mkd(f, ROOT, "d"), ino = mkfile(f, ROOT, "a"), got;

	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, ROOT, "a", d, "b",
					      0), 0);
	assert_int_equal(lookup(f, ROOT, "a", NULL), ENOENT);
	assert_int_equal(lookup(f, d, "b", &got), 0);
	assert_int_equal(got, ino);
	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, ROOT, "a", d, "b",
					      0), ENOENT);
	/* Same name, same dir: nothing happens. */
	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, d, "b", d, "b",
					      0), 0);
	assert_int_equal(lookup(f, d, "b", NULL), 0);
}

static void t_rename_replace_file(void **state)
{
	struct fx *f = *state;
	uint64_t a = mkfile(f, ROOT, "a"), b = mkfile(f, ROOT, "b"), got;
	struct modalfs_iattr at;

	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, ROOT, "a", ROOT,
					      "b", 0), 0);
	assert_int_equal(lookup(f, ROOT, "b", &got), 0);
	assert_int_equal(got, a);
	/* The replaced inode is an orphan until evicted. */
	assert_int_equal(getattr(f, b).nlink, 0);
	assert_int_equal(modalfs_store_evict(f->st, NULL, f->vol, b), 0);
	assert_int_equal(modalfs_store_getattr(f->st, f->vol, b, &at), ESTALE);
}

static void t_rename_dirs(void **state)
{
	struct fx *f = *state;
	uint64_t d1 = mkd(f, ROOT, "d1"), d2 = mkd(f, ROOT, "d2"), got;

	mkd(f, ROOT, "full");
	mkfile(f, ROOT, "file");
	mkfile(f, lookup(f, ROOT, "full", &got) ? 0 : got, "x");
	/* dir over empty dir: allowed; the old one is orphaned. */
	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, ROOT, "d1", ROOT,
					      "d2", 0), 0);
	assert_int_equal(lookup(f, ROOT, "d2", &got), 0);
	assert_int_equal(got, d1);
	assert_int_equal(getattr(f, d2).nlink, 0);
	assert_int_equal(getattr(f, ROOT).nlink, 4);	/* d2, full + 2 */
	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, ROOT, "d2", ROOT,
					      "full", 0), ENOTEMPTY);
	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, ROOT, "d2", ROOT,
					      "file", 0), ENOTDIR);
	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, ROOT, "file",
					      ROOT, "d2", 0), EISDIR);
}

static void t_rename_subtree(void **state)
{
	struct fx *f = *state;
	uint64_t a = mkd(f, ROOT, "a"), b = mkd(f, a, "b"), c = mkd(f, b, "c");

	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, ROOT, "a", c, "x",
					      0), EINVAL);
	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, ROOT, "a", a, "x",
					      0), EINVAL);
	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, ROOT, "a", ROOT,
					      "a2", 0), 0);
	/* Moving c up to the root changes both parents' nlink. */
	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, b, "c", ROOT, "c",
					      0), 0);
	assert_int_equal(getattr(f, b).nlink, 2);
	assert_int_equal(getattr(f, ROOT).nlink, 4);
	/* And now b can move below c (no longer its ancestor). */
	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, a, "b", c, "b",
					      0), 0);
	assert_int_equal(getattr(f, c).nlink, 3);
	assert_int_equal(getattr(f, a).nlink, 2);
}

static void t_rename_flags(void **state)
{
	struct fx *f = *state;
	uint64_t a = mkfile(f, ROOT, "a"), b = mkfile(f, ROOT, "b"), got;

	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, ROOT, "a", ROOT,
			 "b", MODALFS_RENAME_NOREPLACE), EEXIST);
	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, ROOT, "a", ROOT,
			 "c", MODALFS_RENAME_EXCHANGE), ENOENT);
	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, ROOT, "a", ROOT,
			 "b", MODALFS_RENAME_EXCHANGE |
			 MODALFS_RENAME_NOREPLACE), EINVAL);
	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, ROOT, "a", ROOT,
			 "b", 1u << 7), EINVAL);
	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, ROOT, "a", ROOT,
			 "b", MODALFS_RENAME_EXCHANGE), 0);
	assert_int_equal(lookup(f, ROOT, "a", &got), 0);
	assert_int_equal(got, b);
	assert_int_equal(lookup(f, ROOT, "b", &got), 0);
	assert_int_equal(got, a);
	assert_int_equal(getattr(f, a).nlink, 1);
	assert_int_equal(getattr(f, b).nlink, 1);
}

static void t_rename_exchange_dirs(void **state)
{
	struct fx *f = *state;
	uint64_t p = mkd(f, ROOT, "p"), d = mkd(f, p, "d"), file, got;

	file = mkfile(f, ROOT, "file");
	mkd(f, d, "sub");
	/* Exchange a dir in p with a file in the root: nlinks move. */
	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, p, "d", ROOT,
			 "file", MODALFS_RENAME_EXCHANGE), 0);
	assert_int_equal(lookup(f, ROOT, "file", &got), 0);
	assert_int_equal(got, d);
	assert_int_equal(lookup(f, p, "d", &got), 0);
	assert_int_equal(got, file);
	assert_int_equal(getattr(f, p).nlink, 2);
	assert_int_equal(getattr(f, ROOT).nlink, 4);
	/* Exchanging a dir with its own descendant's entry is refused. */
	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, ROOT, "file", d,
			 "sub", MODALFS_RENAME_EXCHANGE), EINVAL);
}

static void t_rename_hardlinks(void **state)
{
	struct fx *f = *state;
	struct modalfs_iattr a;
	uint64_t ino = mkfile(f, ROOT, "a");

	assert_int_equal(modalfs_store_link(f->st, NULL, f->vol, ino, ROOT, "b", &a),
			 0);
	/* Two links of one inode: POSIX rename does nothing. */
	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, ROOT, "a", ROOT,
					      "b", 0), 0);
	assert_int_equal(lookup(f, ROOT, "a", NULL), 0);
	assert_int_equal(lookup(f, ROOT, "b", NULL), 0);
	assert_int_equal(getattr(f, ino).nlink, 2);
}

/* ---- readdir ---- */

struct rd {
	int n;
	char names[700][16];
	uint64_t cookies[700];
	uint64_t inos[700];
	uint32_t types[700];
};

static int rd_cb(const struct modalfs_dirent *de, void *arg)
{
	struct rd *r = arg;

	memcpy(r->names[r->n], de->name, strnlen(de->name, 15));
	r->cookies[r->n] = de->cookie;
	r->inos[r->n] = de->ino;
	r->types[r->n] = de->type;
	r->n++;
	return 0;
}

static void t_readdir_basic(void **state)
{
	struct fx *f = *state;
	struct rd *r = calloc(1, sizeof(*r));
	uint64_t d = mkd(f, ROOT, "d");
	bool eof;

	mkfile(f, ROOT, "f");
	assert_int_equal(modalfs_store_readdir(f->st, f->vol, ROOT, 0, 10,
					       rd_cb, r, &eof), 0);
	assert_true(eof);
	assert_int_equal(r->n, 2);
	assert_string_equal(r->names[0], "d");
	assert_int_equal(r->inos[0], d);
	assert_int_equal(r->types[0], 4 /* DT_DIR */);
	assert_string_equal(r->names[1], "f");
	assert_int_equal(r->types[1], 8 /* DT_REG */);
	assert_true(r->cookies[0] >= MODALFS_DIR_COOKIE_FIRST);
	assert_true(r->cookies[1] > r->cookies[0]);
	r->n = 0;
	assert_int_equal(modalfs_store_readdir(f->st, f->vol, d, 0, 10, rd_cb,
					       r, &eof), 0);
	assert_true(eof);
	assert_int_equal(r->n, 0);
	free(r);
}

static void t_readdir_paging(void **state)
{
	struct fx *f = *state;
	struct rd *r = calloc(1, sizeof(*r));
	uint64_t cookie = 0;
	char name[16];
	bool eof = false;
	int pages = 0;

	for (int i = 0; i < 600; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		mkfile(f, ROOT, name);
	}
	while (!eof) {
		int before = r->n;

		assert_int_equal(modalfs_store_readdir(f->st, f->vol, ROOT,
						       cookie, 256, rd_cb, r,
						       &eof), 0);
		assert_true(r->n > before || eof);
		cookie = r->cookies[r->n - 1];
		pages++;
	}
	assert_int_equal(pages, 3);
	assert_int_equal(r->n, 600);
	for (int i = 0; i < 600; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		assert_string_equal(r->names[i], name);
	}
	free(r);
}

static void t_readdir_stable(void **state)
{
	struct fx *f = *state;
	struct rd *r = calloc(1, sizeof(*r));
	char name[16];
	bool eof;

	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		mkfile(f, ROOT, name);
	}
	assert_int_equal(modalfs_store_readdir(f->st, f->vol, ROOT, 0, 4,
					       rd_cb, r, &eof), 0);
	assert_false(eof);
	assert_int_equal(r->n, 4);
	/* Remove a seen and an unseen entry, add a new one, continue. */
	assert_int_equal(modalfs_store_unlink(f->st, NULL, f->vol, ROOT, "e1"), 0);
	assert_int_equal(modalfs_store_unlink(f->st, NULL, f->vol, ROOT, "e5"), 0);
	mkfile(f, ROOT, "new");
	assert_int_equal(modalfs_store_readdir(f->st, f->vol, ROOT,
					       r->cookies[3], 100, rd_cb, r,
					       &eof), 0);
	assert_true(eof);
	/* e4 e6 e7 e8 e9 new: nothing seen twice, nothing skipped. */
	assert_int_equal(r->n, 10);
	assert_string_equal(r->names[4], "e4");
	assert_string_equal(r->names[5], "e6");
	assert_string_equal(r->names[9], "new");
	free(r);
}

/* ---- data ---- */

static void t_write_read_blocks(void **state)
{
	struct fx *f = *state;
	uint64_t ino = mkfile(f, ROOT, "f");
	size_t len = 3 * BLK + 1234, got;
	uint64_t off = 1000;
	unsigned char *w = malloc(len), *rd = malloc(len + 100);

	fill(w, len, off);
	/* Write in odd-sized pieces that straddle block boundaries. */
	for (size_t done = 0; done < len;) {
		size_t n = len - done < 50000 ? len - done : 50000;

		assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, ino,
						     off + done, w + done, n, NULL),
				 0);
		done += n;
	}
	assert_int_equal(getattr(f, ino).size, off + len);
	assert_int_equal(modalfs_store_read(f->st, f->vol, ino, off, len, rd,
					    &got), 0);
	assert_int_equal(got, len);
	assert_memory_equal(rd, w, len);
	/* The first 1000 bytes were never written: a hole. */
	assert_int_equal(modalfs_store_read(f->st, f->vol, ino, 0, 1000, rd,
					    &got), 0);
	assert_int_equal(got, 1000);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(rd[i], 0);
	free(w);
	free(rd);
}

static void t_read_holes_eof(void **state)
{
	struct fx *f = *state;
	uint64_t ino = mkfile(f, ROOT, "f");
	unsigned char buf[4096], z[4096] = { 0 };
	size_t got;

	memset(buf, 0xab, sizeof(buf));
	assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, ino, 1 << 20, "xy",
					     2, NULL), 0);
	assert_int_equal(modalfs_store_read(f->st, f->vol, ino, 500000,
					    sizeof(buf), buf, &got), 0);
	assert_int_equal(got, sizeof(buf));
	assert_memory_equal(buf, z, sizeof(buf));
	assert_int_equal(modalfs_store_read(f->st, f->vol, ino, (1 << 20) - 2,
					    100, buf, &got), 0);
	assert_int_equal(got, 4);
	assert_memory_equal(buf, "\0\0xy", 4);
	assert_int_equal(modalfs_store_read(f->st, f->vol, ino, 2 << 20, 100,
					    buf, &got), 0);
	assert_int_equal(got, 0);
	/* Only the written block is allocated. */
	assert_true(getattr(f, ino).blocks <= BLK / 512);
}

static void t_truncate(void **state)
{
	struct fx *f = *state;
	struct modalfs_setattr sa = { .valid = MODALFS_SET_SIZE };
	struct modalfs_iattr a;
	uint64_t ino = mkfile(f, ROOT, "f");
	size_t len = 200000, got;
	unsigned char *w = malloc(len), *rd = malloc(len);

	fill(w, len, 0);
	assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, ino, 0, w, len, NULL),
			 0);
	sa.size = 70000;
	assert_int_equal(modalfs_store_setattr(f->st, NULL, f->vol, ino, &sa, &a), 0);
	assert_int_equal(a.size, 70000);
	assert_int_equal(a.blocks, (70000 + 511) / 512);
	sa.size = 300000;
	assert_int_equal(modalfs_store_setattr(f->st, NULL, f->vol, ino, &sa, &a), 0);
	assert_int_equal(a.size, 300000);
	assert_int_equal(modalfs_store_read(f->st, f->vol, ino, 0, len, rd,
					    &got), 0);
	assert_int_equal(got, len);
	assert_memory_equal(rd, w, 70000);
	for (size_t i = 70000; i < len; i++)
		if (rd[i])
			fail_msg("byte %zu is %d after truncate+grow", i, rd[i]);
	sa.size = 0;
	assert_int_equal(modalfs_store_setattr(f->st, NULL, f->vol, ino, &sa, &a), 0);
	assert_int_equal(a.blocks, 0);
	free(w);
	free(rd);
}

static void t_setattr(void **state)
{
	struct fx *f = *state;
	struct modalfs_setattr sa = {
		.valid = MODALFS_SET_MODE | MODALFS_SET_UID | MODALFS_SET_GID |
			 MODALFS_SET_MTIME,
		.mode = 04711, .uid = 5, .gid = 6,
		.mtime_sec = 123456789, .mtime_nsec = 42,
	};
	struct modalfs_iattr a;
	uint64_t ino = mkfile(f, ROOT, "f"), d = mkd(f, ROOT, "d");

	assert_int_equal(modalfs_store_setattr(f->st, NULL, f->vol, ino, &sa, &a), 0);
	assert_int_equal(a.mode, S_IFREG | 04711);
	assert_int_equal(a.uid, 5);
	assert_int_equal(a.gid, 6);
	assert_int_equal(a.mtime_sec, 123456789);
	assert_int_equal(a.mtime_nsec, 42);
	assert_int_equal(getattr(f, ino).mtime_sec, 123456789);
	sa.valid = MODALFS_SET_SIZE;
	sa.size = 10;
	assert_int_equal(modalfs_store_setattr(f->st, NULL, f->vol, d, &sa, &a),
			 EISDIR);
	sa.valid = MODALFS_SET_ATIME;
	sa.atime_nsec = 1000000000;
	assert_int_equal(modalfs_store_setattr(f->st, NULL, f->vol, ino, &sa, &a),
			 EINVAL);
}

static void t_write_errors(void **state)
{
	struct fx *f = *state;
	struct modalfs_iattr a;
	uint64_t d = mkd(f, ROOT, "d");
	size_t got;
	char buf[8];

	assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, d, 0, "x", 1, NULL),
			 EISDIR);
	assert_int_equal(modalfs_store_read(f->st, f->vol, d, 0, 8, buf, &got),
			 EISDIR);
	assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, 777, 0, "x", 1, NULL),
			 ESTALE);
	assert_int_equal(modalfs_store_symlink(f->st, NULL, f->vol, ROOT, "l", "t",
					       0, 0, &a), 0);
	assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, a.ino, 0, "x", 1,
					     NULL),
			 EINVAL);
	assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, d, INT64_MAX, "xx",
					     2, NULL), EFBIG);
}

static void t_symlink(void **state)
{
	struct fx *f = *state;
	struct modalfs_iattr a;
	char buf[MODALFS_SYMLINK_MAX + 1];
	uint64_t ino = mkfile(f, ROOT, "f");

	assert_int_equal(modalfs_store_symlink(f->st, NULL, f->vol, ROOT, "l",
					       "../some/target", 3, 4, &a), 0);
	assert_int_equal(a.mode, S_IFLNK | 0777);
	assert_int_equal(a.size, strlen("../some/target"));
	assert_int_equal(modalfs_store_readlink(f->st, f->vol, a.ino, buf), 0);
	assert_string_equal(buf, "../some/target");
	assert_int_equal(modalfs_store_readlink(f->st, f->vol, ino, buf),
			 EINVAL);
	assert_int_equal(modalfs_store_unlink(f->st, NULL, f->vol, ROOT, "l"), 0);
	assert_int_equal(modalfs_store_evict(f->st, NULL, f->vol, a.ino), 0);
	assert_int_equal(modalfs_store_readlink(f->st, f->vol, a.ino, buf),
			 ESTALE);
}

/* ---- orphans ---- */

static void t_orphan_evict(void **state)
{
	struct fx *f = *state;
	struct modalfs_iattr a;
	uint64_t ino = mkfile(f, ROOT, "f");
	size_t got;
	char buf[16];

	assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, ino, 0, "hello", 5,
					     NULL),
			 0);
	assert_int_equal(modalfs_store_unlink(f->st, NULL, f->vol, ROOT, "f"), 0);
	/* Still readable through the open inode. */
	assert_int_equal(getattr(f, ino).nlink, 0);
	assert_int_equal(modalfs_store_read(f->st, f->vol, ino, 0, 16, buf,
					    &got), 0);
	assert_int_equal(got, 5);
	assert_int_equal(modalfs_store_evict(f->st, NULL, f->vol, ino), 0);
	assert_int_equal(modalfs_store_getattr(f->st, f->vol, ino, &a), ESTALE);
	/* A repeated EVICT (retransmission) is harmless. */
	assert_int_equal(modalfs_store_evict(f->st, NULL, f->vol, ino), 0);
}

static void t_evict_linked(void **state)
{
	struct fx *f = *state;
	uint64_t ino = mkfile(f, ROOT, "f");

	assert_int_equal(modalfs_store_evict(f->st, NULL, f->vol, ino), 0);
	assert_int_equal(getattr(f, ino).nlink, 1);
	assert_int_equal(lookup(f, ROOT, "f", NULL), 0);
}

static void t_umount_frees_orphans(void **state)
{
	struct fx *f = *state;
	struct modalfs_iattr a;
	struct modalfs_volinfo vi = { 0 };
	uint64_t i1 = mkfile(f, ROOT, "a"), i2 = mkfile(f, ROOT, "b");

	mkfile(f, ROOT, "keep");
	assert_int_equal(modalfs_store_unlink(f->st, NULL, f->vol, ROOT, "a"), 0);
	assert_int_equal(modalfs_store_unlink(f->st, NULL, f->vol, ROOT, "b"), 0);
	assert_int_equal(modalfs_store_umount(f->st, f->vol), 0);
	assert_int_equal(modalfs_store_getattr(f->st, f->vol, i1, &a), ESTALE);
	assert_int_equal(modalfs_store_getattr(f->st, f->vol, i2, &a), ESTALE);
	assert_int_equal(lookup(f, ROOT, "keep", NULL), 0);
	assert_int_equal(modalfs_store_vol_list(f->st, count_cb, &vi), 0);
	assert_int_equal(vi.files, 2);
}

/* ---- persistence, space ---- */

static void t_reopen(void **state)
{
	struct fx *f = *state;
	struct modalfs_volinfo vi;
	uint64_t ino = mkfile(f, ROOT, "f"), got;
	char buf[16];
	size_t n;

	assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, ino, 0, "persist",
					     7, NULL), 0);
	assert_int_equal(modalfs_store_fsync(f->st, f->vol, ino, 0), 0);
	modalfs_store_close(f->st);
	assert_int_equal(modalfs_store_open(&f->st, f->dir, 0), 0);
	assert_int_equal(lookup(f, ROOT, "f", &got), 0);
	assert_int_equal(got, ino);
	assert_int_equal(modalfs_store_read(f->st, f->vol, ino, 0, 16, buf,
					    &n), 0);
	assert_int_equal(n, 7);
	assert_memory_equal(buf, "persist", 7);
	assert_int_equal(modalfs_store_vol_persisted(f->st, "vol", &vi), 0);
	assert_int_equal(vi.vol_id, f->vol);
	/* A second opener of the same state dir is refused. */
	{
		struct modalfs_store *other;

		assert_int_equal(modalfs_store_open(&other, f->dir, 0), EBUSY);
	}
}

static void t_enospc(void **state)
{
	struct fx *f = *state;
	unsigned char *buf = calloc(1, BLK);
	uint64_t ino = mkfile(f, ROOT, "big"), off = 0, ino2;
	struct modalfs_statfs sf;
	int err = 0;

	memset(buf, 0x5a, BLK);
	while (off < (64ULL << 20)) {
		err = modalfs_store_write(f->st, NULL, f->vol, ino, off, buf,
					  BLK, NULL);
		if (err)
			break;
		off += BLK;
	}
	assert_int_equal(err, ENOSPC);
	assert_true(off > 0);
	/* The failed write left the file as it was. */
	assert_int_equal(getattr(f, ino).size, off);
	assert_int_equal(modalfs_store_statfs(f->st, f->vol, &sf), 0);
	assert_int_equal(sf.namelen, 255);
	/* Free the space, then writing works again. */
	assert_int_equal(modalfs_store_unlink(f->st, NULL, f->vol, ROOT, "big"), 0);
	assert_int_equal(modalfs_store_evict(f->st, NULL, f->vol, ino), 0);
	ino2 = mkfile(f, ROOT, "again");
	assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, ino2, 0, buf,
					     BLK, NULL), 0);
	assert_int_equal(getattr(f, ino2).size, BLK);
	free(buf);
}

static void t_statfs(void **state)
{
	struct fx *f = *state;
	struct modalfs_statfs sf;

	assert_int_equal(modalfs_store_statfs(f->st, f->vol, &sf), 0);
	assert_int_equal(sf.namelen, MODALFS_NAME_MAX);
	assert_true(sf.bsize > 0);
	assert_true(sf.blocks >= sf.bfree);
	assert_true(sf.bfree > 0);
	assert_int_equal(modalfs_store_statfs(f->st, 4242, &sf), ESTALE);
}

static int isolation_dirent_cb(const struct modalfs_dirent *de, void *arg)
{
	(void)de;
	++*(int *)arg;
	return 0;
}

/*
 * Inode numbers are unique only within a volume, so the same number names
 * different files in two volumes. Every operation on volume B with an
 * inode number of volume A must reach B's file of that number or fail
 * with ESTALE, never A's file.
 */
static void t_volume_isolation(void **state)
{
	struct fx *f = *state;
	struct modalfs_volinfo vb;
	struct modalfs_iattr a;
	struct modalfs_setattr sa = { .valid = MODALFS_SET_SIZE, .size = 0 };
	unsigned char buf[64], out[64];
	uint64_t b, dir = mkd(f, ROOT, "d"), file = mkfile(f, dir, "secret");
	size_t got;
	bool eof;
	int n = 0;

	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, file, 0, buf,
					     sizeof(buf), NULL), 0);
	assert_int_equal(modalfs_store_vol_persisted(f->st, "other", &vb), 0);
	b = vb.vol_id;
	assert_true(b != f->vol);

	/* B has no such inodes yet. */
	assert_int_equal(modalfs_store_getattr(f->st, b, file, &a), ESTALE);
	assert_int_equal(modalfs_store_read(f->st, b, file, 0, sizeof(out),
					    out, &got), ESTALE);
	assert_int_equal(modalfs_store_write(f->st, NULL, b, file, 0, buf, 1, NULL),
			 ESTALE);
	assert_int_equal(modalfs_store_setattr(f->st, NULL, b, file, &sa, &a),
			 ESTALE);
	assert_int_equal(modalfs_store_link(f->st, NULL, b, file, ROOT, "stolen",
					    &a), ESTALE);
	assert_int_not_equal(modalfs_store_lookup(f->st, b, dir, "secret",
						  &a), 0);
	assert_int_not_equal(modalfs_store_readdir(f->st, b, dir, 0, 16,
						   isolation_dirent_cb, &n,
						   &eof), 0);
	assert_int_equal(n, 0);
	assert_int_not_equal(modalfs_store_unlink(f->st, NULL, b, dir, "secret"), 0);
	assert_int_not_equal(modalfs_store_rename(f->st, NULL, b, dir, "secret",
						  ROOT, "moved", 0), 0);
	assert_int_equal(modalfs_store_lookup(f->st, b, ROOT, "stolen", &a),
			 ENOENT);

	/* B's own files may get the same numbers; they stay B's. */
	for (int i = 0; i < 4; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		assert_int_equal(modalfs_store_create(f->st, NULL, b, ROOT, name,
						      S_IFREG | 0644, 0, 0, 0,
						      &a), 0);
		assert_int_equal(modalfs_store_read(f->st, b, a.ino, 0,
						    sizeof(out), out, &got), 0);
		assert_int_equal(got, 0);
	}
	assert_int_equal(modalfs_store_getattr(f->st, b, file, &a), 0);
	assert_int_equal(a.size, 0);

	/* A's file is untouched. */
	assert_int_equal(lookup(f, dir, "secret", NULL), 0);
	assert_int_equal(modalfs_store_read(f->st, f->vol, file, 0,
					    sizeof(out), out, &got), 0);
	assert_int_equal(got, sizeof(buf));
	assert_memory_equal(out, buf, sizeof(buf));
	assert_int_equal(getattr(f, file).nlink, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_vol_names),
		cmocka_unit_test(t_file_names),
		T(t_persisted_idempotent),
		T(t_create_eexist),
		T(t_list_usage),
		T(t_mount_root),
		T(t_mount_subpath),
		T(t_create_lookup),
		T(t_lookup_errors),
		T(t_ino_unique),
		T(t_ino_range_claim),
		T(t_mkdir_nlink),
		T(t_unlink_rmdir_types),
		T(t_rmdir_notempty),
		T(t_link_nlink),
		T(t_link_errors),
		T(t_rename_simple),
		T(t_rename_replace_file),
		T(t_rename_dirs),
		T(t_rename_subtree),
		T(t_rename_flags),
		T(t_rename_exchange_dirs),
		T(t_rename_hardlinks),
		T(t_readdir_basic),
		T(t_readdir_paging),
		T(t_readdir_stable),
		T(t_write_read_blocks),
		T(t_read_holes_eof),
		T(t_truncate),
		T(t_setattr),
		T(t_write_errors),
		T(t_symlink),
		T(t_orphan_evict),
		T(t_evict_linked),
		T(t_umount_frees_orphans),
		T(t_reopen),
		cmocka_unit_test_setup_teardown(t_enospc, setup_tiny, teardown),
		T(t_statfs),
		T(t_volume_isolation),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
