// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cmocka tests of protocol v2 in the store (userd/store_*.c): extended
 * attributes, the consistency checker behind `modalfsd --check` (clean
 * stores pass, each kind of corruption is reported), invariants after a
 * long random sequence of operations, and ENOSPC on a completely full map.
 */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../userd/store.h"
#include "fixture.h"

#define ROOT MODALFS_ROOT_INO

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

/* Problems the checker finds in the open store; printed to stderr. */
static long problems(struct fx *f)
{
	return modalfs_store_check_open(f->st, stderr);
}

/* ---- names ---- */

static void t_name_errnos(void **state)
{
	struct fx *f = *state;
	char longname[MODALFS_NAME_MAX + 2];
	struct modalfs_iattr a;

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(modalfs_store_create(f->st, NULL, f->vol, ROOT, longname,
					      S_IFREG | 0644, 0, 0, 0, &a),
			 ENAMETOOLONG);
	longname[MODALFS_NAME_MAX] = '\0';	/* exactly 255: fine */
	assert_int_equal(modalfs_store_create(f->st, NULL, f->vol, ROOT, longname,
					      S_IFREG | 0644, 0, 0, 0, &a), 0);
	assert_int_equal(modalfs_store_mkdir(f->st, NULL, f->vol, ROOT, "a/b", 0755,
					     0, 0, &a), EINVAL);
	assert_int_equal(modalfs_store_mkdir(f->st, NULL, f->vol, ROOT, "..", 0755,
					     0, 0, &a), EINVAL);
	assert_int_equal(modalfs_store_symlink(f->st, NULL, f->vol, ROOT, ".", "t",
					       0, 0, &a), EINVAL);
	assert_int_equal(modalfs_store_create(f->st, NULL, f->vol, ROOT, "",
					      S_IFREG | 0644, 0, 0, 0, &a),
			 EINVAL);
	mkfile(f, ROOT, "f");
	assert_int_equal(modalfs_store_rename(f->st, NULL, f->vol, ROOT, "f", ROOT,
					      "x/y", 0), EINVAL);
	assert_int_equal(modalfs_store_link(f->st, NULL, f->vol, a.ino, ROOT, "..",
					    &a), EINVAL);
	assert_int_equal(modalfs_store_unlink(f->st, NULL, f->vol, ROOT, "."),
			 EINVAL);
	assert_int_equal(modalfs_store_lookup(f->st, f->vol, ROOT, "a/b", &a),
			 EINVAL);
	assert_int_equal(problems(f), 0);
}

/* ---- xattrs ---- */

static void t_xattr_basic(void **state)
{
	struct fx *f = *state;
	uint64_t ino = mkfile(f, ROOT, "f");
	static char buf[MODALFS_XATTR_LIST_MAX];
	struct modalfs_iattr a, before = getattr(f, ino);
	size_t len;

	assert_int_equal(modalfs_store_getxattr(f->st, f->vol, ino, "user.a",
						buf, &len), ENODATA);
	usleep(2000);
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino, "user.a",
						"hello", 5, 0, &a), 0);
	/* ctime moved, mtime did not. */
	assert_true(a.ctime_sec > before.ctime_sec ||
		    (a.ctime_sec == before.ctime_sec &&
		     a.ctime_nsec > before.ctime_nsec));
	assert_int_equal(a.mtime_sec, before.mtime_sec);
	assert_int_equal(a.mtime_nsec, before.mtime_nsec);
	assert_int_equal(modalfs_store_getxattr(f->st, f->vol, ino, "user.a",
						buf, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "hello", 5);
	/* Empty values exist and are distinct from absent ones. */
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino,
						"trusted.e", "", 0, 0, &a), 0);
	assert_int_equal(modalfs_store_getxattr(f->st, f->vol, ino,
						"trusted.e", buf, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino,
						"security.s", "x", 1, 0, &a),
			 0);
	assert_int_equal(modalfs_store_listxattr(f->st, f->vol, ino, buf,
						 &len), 0);
	assert_int_equal(len, strlen("security.s") + strlen("trusted.e") +
			 strlen("user.a") + 3);
	/* Names are NUL-terminated; order is unspecified but each is there. */
	assert_non_null(memmem(buf, len, "user.a\0", 7));
	assert_non_null(memmem(buf, len, "trusted.e\0", 10));
	assert_non_null(memmem(buf, len, "security.s\0", 11));
	/* Replace shrinks the value. */
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino, "user.a",
						"hi", 2, 0, &a), 0);
	assert_int_equal(modalfs_store_getxattr(f->st, f->vol, ino, "user.a",
						buf, &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(buf, "hi", 2);
	assert_int_equal(modalfs_store_removexattr(f->st, NULL, f->vol, ino,
						   "user.a", &a), 0);
	assert_int_equal(modalfs_store_removexattr(f->st, NULL, f->vol, ino,
						   "user.a", &a), ENODATA);
	assert_int_equal(modalfs_store_getxattr(f->st, f->vol, ino, "user.a",
						buf, &len), ENODATA);
	assert_int_equal(modalfs_store_listxattr(f->st, f->vol, ino, buf,
						 &len), 0);
	assert_int_equal(len, strlen("security.s") + strlen("trusted.e") + 2);
	/* Directories carry xattrs too; other inodes' are separate. */
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ROOT, "user.a",
						"root", 4, 0, &a), 0);
	assert_int_equal(a.ino, ROOT);
	assert_int_equal(modalfs_store_getxattr(f->st, f->vol, ino, "user.a",
						buf, &len), ENODATA);
	assert_int_equal(problems(f), 0);
}

static void t_xattr_errors(void **state)
{
	struct fx *f = *state;
	uint64_t ino = mkfile(f, ROOT, "f");
	static char buf[MODALFS_XATTR_SIZE_MAX + 1];
	char name[MODALFS_NAME_MAX + 2];
	struct modalfs_iattr a;
	size_t len;

	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino, "os2.x",
						"v", 1, 0, &a), EOPNOTSUPP);
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino, "system.x",
						"v", 1, 0, &a), EOPNOTSUPP);
	assert_int_equal(modalfs_store_getxattr(f->st, f->vol, ino, "usr.x",
						buf, &len), EOPNOTSUPP);
	assert_int_equal(modalfs_store_removexattr(f->st, NULL, f->vol, ino, "x",
						   &a), EOPNOTSUPP);
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino, "user.",
						"v", 1, 0, &a), EINVAL);
	memcpy(name, "user.", 5);
	memset(name + 5, 'n', sizeof(name) - 6);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino, name, "v",
						1, 0, &a), ERANGE);
	name[MODALFS_NAME_MAX] = '\0';
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino, name, "v",
						1, 0, &a), 0);
	/* Value size limit. */
	memset(buf, 'v', sizeof(buf));
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino, "user.big",
						buf, MODALFS_XATTR_SIZE_MAX + 1,
						0, &a), E2BIG);
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino, "user.big",
						buf, MODALFS_XATTR_SIZE_MAX, 0,
						&a), 0);
	assert_int_equal(modalfs_store_getxattr(f->st, f->vol, ino, "user.big",
						buf, &len), 0);
	assert_int_equal(len, MODALFS_XATTR_SIZE_MAX);
	/* CREATE / REPLACE. */
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino, "user.big",
						"a", 1, MODALFS_XATTR_CREATE,
						&a), EEXIST);
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino, "user.no",
						"a", 1, MODALFS_XATTR_REPLACE,
						&a), ENODATA);
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino, "user.no",
						"a", 1, MODALFS_XATTR_CREATE,
						&a), 0);
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino, "user.no",
						"b", 1, MODALFS_XATTR_REPLACE,
						&a), 0);
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino, "user.no",
						"b", 1, 4, &a), EINVAL);
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino, "user.no",
						"b", 1, 3, &a), EINVAL);
	/* Missing inode. */
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, 999, "user.a",
						"b", 1, 0, &a), ESTALE);
	assert_int_equal(modalfs_store_getxattr(f->st, f->vol, 999, "user.a",
						buf, &len), ESTALE);
	assert_int_equal(modalfs_store_listxattr(f->st, f->vol, 999, buf,
						 &len), ESTALE);
	assert_int_equal(modalfs_store_removexattr(f->st, NULL, f->vol, 999,
						   "user.a", &a), ESTALE);
	assert_int_equal(problems(f), 0);
}

static void t_xattr_budget(void **state)
{
	struct fx *f = *state;
	uint64_t ino = mkfile(f, ROOT, "f"), total = 0;
	static char buf[MODALFS_XATTR_SIZE_MAX];
	char name[64];
	struct modalfs_iattr a;
	int i, err = 0;

	/* The per-inode byte budget (names + values), 1 MiB. */
	memset(buf, 'v', sizeof(buf));
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "user.v%02d", i);
		err = modalfs_store_setxattr(f->st, NULL, f->vol, ino, name, buf,
					     sizeof(buf), 0, &a);
		if (err)
			break;
		total += strlen(name) + sizeof(buf);
	}
	assert_int_equal(err, ENOSPC);
	assert_true(total <= MODALFS_XATTR_INODE_MAX);
	assert_true(total + strlen(name) + sizeof(buf) >
		    MODALFS_XATTR_INODE_MAX);
	/* Replacing one with a value of the same size still fits. */
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino, "user.v00",
						buf, sizeof(buf), 0, &a), 0);
	/* A small one that fits the remaining bytes works. */
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino, "user.s",
						"x", 1, 0, &a), 0);

	/* The list budget: 64 KiB of names. */
	ino = mkfile(f, ROOT, "g");
	memset(name, 0, sizeof(name));
	for (i = 0; i < 100000; i++) {
		char n[MODALFS_NAME_MAX + 1];

		snprintf(n, sizeof(n), "user.%0250d", i);
		err = modalfs_store_setxattr(f->st, NULL, f->vol, ino, n, "", 0, 0,
					     &a);
		if (err)
			break;
	}
	assert_int_equal(err, ENOSPC);
	/* 256 bytes per name with its NUL: 256 names fit exactly. */
	assert_int_equal(i, MODALFS_XATTR_LIST_MAX / 256);
	{
		static char list[MODALFS_XATTR_LIST_MAX];
		size_t len;

		assert_int_equal(modalfs_store_listxattr(f->st, f->vol, ino,
							 list, &len), 0);
		assert_int_equal(len, MODALFS_XATTR_LIST_MAX);
	}
	assert_int_equal(problems(f), 0);
}

/* Xattrs go with the inode: after unlink + evict none are left. */
static void t_xattr_freed_with_inode(void **state)
{
	struct fx *f = *state;
	uint64_t ino = mkfile(f, ROOT, "f");
	struct modalfs_iattr a;
	char buf[16];
	size_t len;

	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ino, "user.a",
						"1", 1, 0, &a), 0);
	assert_int_equal(modalfs_store_unlink(f->st, NULL, f->vol, ROOT, "f"), 0);
	/* Still open (orphan): xattrs still readable. */
	assert_int_equal(modalfs_store_getxattr(f->st, f->vol, ino, "user.a",
						buf, &len), 0);
	assert_int_equal(modalfs_store_evict(f->st, NULL, f->vol, ino), 0);
	assert_int_equal(modalfs_store_getxattr(f->st, f->vol, ino, "user.a",
						buf, &len), ESTALE);
	/* The checker would flag an xattr record of a missing inode. */
	assert_int_equal(problems(f), 0);
}

/* ---- the checker ---- */

static void t_check_clean(void **state)
{
	struct fx *f = *state;
	uint64_t d = mkd(f, ROOT, "d"), e = mkd(f, d, "e"), x;
	struct modalfs_iattr a;
	struct modalfs_volinfo vi;
	unsigned char buf[100000];

	memset(buf, 1, sizeof(buf));
	x = mkfile(f, e, "x");
	assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, x, 70000, buf,
					     sizeof(buf), &a), 0);
	assert_int_equal(modalfs_store_link(f->st, NULL, f->vol, x, ROOT, "xl", &a),
			 0);
	assert_int_equal(modalfs_store_symlink(f->st, NULL, f->vol, d, "s", "x/y",
					       0, 0, &a), 0);
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, e, "user.q",
						"z", 1, 0, &a), 0);
	assert_int_equal(modalfs_store_vol_create(f->st, "second",
						  MODALFS_KIND_EPHEMERAL, &vi),
			 0);
	assert_int_equal(problems(f), 0);
	/*
	 * Through modalfsd --check's entry point, read-only, from another
	 * process while this one has the store open (as with a running
	 * daemon; one process must not open an LMDB env twice).
	 */
	{
		pid_t pid = fork();
		int status;

		assert_true(pid >= 0);
		if (pid == 0)
			_exit(modalfs_store_check(f->dir, stderr) == 0 ? 0 : 1);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	/* And with the store closed (daemon stopped): exact page counts. */
	modalfs_store_close(f->st);
	f->st = NULL;
	assert_int_equal(modalfs_store_check(f->dir, stderr), 0);
	assert_int_equal(modalfs_store_open(&f->st, f->dir, 0), 0);
}

/* Raw LMDB access to corrupt the store the way bugs would. */
struct raw {
	MDB_env *env;
	MDB_txn *t;
};

static MDB_dbi raw_open(struct fx *f, struct raw *r, const char *db)
{
	MDB_dbi dbi;

	modalfs_store_close(f->st);
	f->st = NULL;
	assert_int_equal(mdb_env_create(&r->env), 0);
	assert_int_equal(mdb_env_set_maxdbs(r->env, 16), 0);
	assert_int_equal(mdb_env_open(r->env, f->dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(r->env, NULL, 0, &r->t), 0);
	assert_int_equal(mdb_dbi_open(r->t, db, 0, &dbi), 0);
	return dbi;
}

/* Commits, closes LMDB, and returns the problems --check finds. */
static long raw_close_check(struct fx *f, struct raw *r)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *mem = open_memstream(&out, &outlen);
	long n;

	assert_int_equal(mdb_txn_commit(r->t), 0);
	mdb_env_close(r->env);
	assert_non_null(mem);
	n = modalfs_store_check(f->dir, mem);
	fclose(mem);
	fprintf(stderr, "--check found %ld: %s", n, out ? out : "");
	/* One line per problem. */
	{
		long lines = 0;

		for (size_t i = 0; i < outlen; i++)
			lines += out[i] == '\n';
		assert_int_equal(lines, n);
	}
	free(out);
	/* Reopen so that teardown can close it. */
	assert_int_equal(modalfs_store_open(&f->st, f->dir, 0), 0);
	return n;
}

static void be64put(unsigned char *p, uint64_t x)
{
	for (int i = 7; i >= 0; i--, x >>= 8)
		p[i] = x & 0xff;
}

static MDB_val key2(unsigned char *b, uint64_t a, uint64_t c)
{
	MDB_val k = { 16, b };

	be64put(b, a);
	be64put(b + 8, c);
	return k;
}

static void t_check_dangling_dirent(void **state)
{
	struct fx *f = *state;
	uint64_t x = mkfile(f, ROOT, "x");
	unsigned char kb[16];
	MDB_val k = key2(kb, f->vol, x);
	struct raw r;
	MDB_dbi inodes = raw_open(f, &r, "inodes");

	assert_int_equal(mdb_del(r.t, inodes, &k, NULL), 0);
	/* The entry names a missing inode. */
	assert_true(raw_close_check(f, &r) >= 1);
}

static void t_check_nlink(void **state)
{
	struct fx *f = *state;
	uint64_t x = mkfile(f, ROOT, "x");
	unsigned char kb[16];
	MDB_val k = key2(kb, f->vol, x), v;
	struct raw r;
	MDB_dbi inodes = raw_open(f, &r, "inodes");
	unsigned char rec[256];
	uint32_t nlink;

	assert_int_equal(mdb_get(r.t, inodes, &k, &v), 0);
	assert_true(v.mv_size <= sizeof(rec));
	memcpy(rec, v.mv_data, v.mv_size);
	/* struct inorec: version, mode, uid, gid, nlink, ... */
	memcpy(&nlink, rec + 16, 4);
	assert_int_equal(nlink, 1);
	nlink = 3;
	memcpy(rec + 16, &nlink, 4);
	v.mv_data = rec;
	assert_int_equal(mdb_put(r.t, inodes, &k, &v, 0), 0);
	assert_int_equal(raw_close_check(f, &r), 1);
}

static void t_check_dir_parent(void **state)
{
	struct fx *f = *state;
	uint64_t a = mkd(f, ROOT, "a"), b = mkd(f, ROOT, "b");
	uint64_t c = mkd(f, a, "c");
	unsigned char kb[16];
	MDB_val k = key2(kb, f->vol, c), v;
	struct raw r;
	MDB_dbi inodes = raw_open(f, &r, "inodes");
	unsigned char rec[256];
	size_t sz;

	assert_int_equal(mdb_get(r.t, inodes, &k, &v), 0);
	sz = v.mv_size;
	memcpy(rec, v.mv_data, sz);
	/* parent is the record's last u64. */
	memcpy(rec + sz - 8, &b, 8);
	v.mv_data = rec;
	assert_int_equal(mdb_put(r.t, inodes, &k, &v, 0), 0);
	assert_true(raw_close_check(f, &r) >= 1);
}

static void t_check_unreachable(void **state)
{
	struct fx *f = *state;
	uint64_t d = mkd(f, ROOT, "d");
	struct raw r;
	MDB_dbi dirents;
	unsigned char kb[16 + 1];
	MDB_val k = key2(kb, f->vol, ROOT);

	mkfile(f, d, "inside");
	dirents = raw_open(f, &r, "dirents");
	kb[16] = 'd';
	k.mv_size = 17;
	assert_int_equal(mdb_del(r.t, dirents, &k, NULL), 0);
	/*
	 * d lost its entry: unreachable, root's nlink counts a subdir that
	 * is gone, and the cookie names no entry.
	 */
	assert_true(raw_close_check(f, &r) >= 3);
}

/* A directory cycle cut off from the root is found, and ends. */
static void t_check_cycle(void **state)
{
	struct fx *f = *state;
	uint64_t a = mkd(f, ROOT, "a"), b = mkd(f, a, "b");
	unsigned char kb[24], rec[256];
	struct { uint64_t cookie, ino; uint32_t type, pad; } de;
	MDB_val k, v;
	struct raw r;
	MDB_dbi dirents = raw_open(f, &r, "dirents"), dcookies, inodes;

	assert_int_equal(mdb_dbi_open(r.t, "dcookies", 0, &dcookies), 0);
	assert_int_equal(mdb_dbi_open(r.t, "inodes", 0, &inodes), 0);
	/* Move the entry "a" from the root into b, and a's parent to b. */
	k = key2(kb, f->vol, ROOT);
	kb[16] = 'a';
	k.mv_size = 17;
	assert_int_equal(mdb_get(r.t, dirents, &k, &v), 0);
	assert_int_equal(v.mv_size, sizeof(de));
	memcpy(&de, v.mv_data, sizeof(de));
	assert_int_equal(mdb_del(r.t, dirents, &k, NULL), 0);
	k = key2(kb, f->vol, ROOT);
	be64put(kb + 16, de.cookie);
	k.mv_size = 24;
	assert_int_equal(mdb_del(r.t, dcookies, &k, NULL), 0);
	k = key2(kb, f->vol, b);
	kb[16] = 'a';
	k.mv_size = 17;
	v.mv_data = &de;
	v.mv_size = sizeof(de);
	assert_int_equal(mdb_put(r.t, dirents, &k, &v, 0), 0);
	k = key2(kb, f->vol, b);
	be64put(kb + 16, de.cookie);
	k.mv_size = 24;
	v.mv_data = "a";
	v.mv_size = 1;
	assert_int_equal(mdb_put(r.t, dcookies, &k, &v, 0), 0);
	k = key2(kb, f->vol, a);
	assert_int_equal(mdb_get(r.t, inodes, &k, &v), 0);
	memcpy(rec, v.mv_data, v.mv_size);
	memcpy(rec + v.mv_size - 8, &b, 8);
	v.mv_data = rec;
	assert_int_equal(mdb_put(r.t, inodes, &k, &v, 0), 0);
	/* Root nlink, both directories unreachable (and more). */
	assert_true(raw_close_check(f, &r) >= 3);
}

static void t_check_orphan_records(void **state)
{
	struct fx *f = *state;
	unsigned char kb[24];
	MDB_val k = key2(kb, f->vol, 4242), v = { 3, "abc" };
	struct raw r;
	MDB_dbi xattrs = raw_open(f, &r, "xattrs");
	MDB_dbi data, symlinks;
	unsigned char xk[16 + 6];

	memcpy(xk, kb, 16);
	memcpy(xk + 16, "user.a", 6);
	k.mv_data = xk;
	k.mv_size = sizeof(xk);
	assert_int_equal(mdb_put(r.t, xattrs, &k, &v, 0), 0);
	assert_int_equal(mdb_dbi_open(r.t, "blockmap", 0, &data), 0);
	be64put(kb + 16, 0);
	k.mv_data = kb;
	k.mv_size = 24;
	assert_int_equal(mdb_put(r.t, data, &k, &v, 0), 0);
	assert_int_equal(mdb_dbi_open(r.t, "symlinks", 0, &symlinks), 0);
	k.mv_size = 16;
	assert_int_equal(mdb_put(r.t, symlinks, &k, &v, 0), 0);
	/* Plus data of a volume that does not exist at all. */
	be64put(kb, 777);
	k.mv_size = 24;
	assert_int_equal(mdb_put(r.t, data, &k, &v, 0), 0);
	/* And a duplicate-request cache record of the wrong size. */
	{
		MDB_dbi drc;

		assert_int_equal(mdb_dbi_open(r.t, "drc", 0, &drc), 0);
		k.mv_size = 8;
		assert_int_equal(mdb_put(r.t, drc, &k, &v, 0), 0);
	}
	assert_int_equal(raw_close_check(f, &r), 5);
}

/* Records of a volume whose deletion is pending are not a problem. */
static void t_check_pending_delete(void **state)
{
	struct fx *f = *state;
	unsigned char kb[24], dk[12];
	MDB_val k = key2(kb, 888, 2), v = { 3, "abc" };
	MDB_val mk = { sizeof(dk), dk }, empty = { 0, NULL };
	struct raw r;
	MDB_dbi data = raw_open(f, &r, "blockmap"), meta;

	be64put(kb + 16, 0);
	k.mv_size = 24;
	assert_int_equal(mdb_put(r.t, data, &k, &v, 0), 0);
	assert_int_equal(mdb_dbi_open(r.t, "meta", 0, &meta), 0);
	memcpy(dk, "del/", 4);
	be64put(dk + 4, 888);
	assert_int_equal(mdb_put(r.t, meta, &mk, &empty, 0), 0);
	assert_int_equal(raw_close_check(f, &r), 0);
}

static void t_check_size_blocks(void **state)
{
	struct fx *f = *state;
	uint64_t x = mkfile(f, ROOT, "x");
	unsigned char buf[1000], kb[24];
	MDB_val k, v;
	struct modalfs_iattr a;
	struct raw r;
	MDB_dbi data;

	memset(buf, 7, sizeof(buf));
	assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, x, 0, buf,
					     sizeof(buf), &a), 0);
	data = raw_open(f, &r, "blockmap");
	k = key2(kb, f->vol, x);
	be64put(kb + 16, 0);
	k.mv_size = 24;
	/*
	 * Object 0 of 3000 valid bytes (version, len, alloc): past the size,
	 * and longer than the object holds. Its allocation is what the
	 * write left (one 4 KiB page), so the counts still agree.
	 */
	{
		struct { uint32_t version, len; uint64_t alloc; } m = {
			1, 3000, a.blocks };

		v.mv_size = sizeof(m);
		v.mv_data = &m;
		assert_int_equal(mdb_put(r.t, data, &k, &v, 0), 0);
	}
	assert_int_equal(raw_close_check(f, &r), 2);
}

/*
 * A store of format 1 (file data as 64 KiB values in the DBI "data", no
 * block map, no "format" key) is converted when it is opened: the bytes
 * read back, the sizes and counts agree, --check is clean, and until then
 * --check names the format.
 */
static void t_migrate_format1(void **state)
{
	struct fx *f = *state;
	uint64_t x = mkfile(f, ROOT, "x");
	uint64_t size = 70 * 65536ULL + 100, blocks = 128 + 1;
	static unsigned char b0[65536], rd[65536];
	unsigned char kb[24], tail[100], rec[256];
	MDB_val k, v, fk = { 6, "format" };
	struct raw r;
	MDB_dbi inodes = raw_open(f, &r, "inodes"), data, meta, map;
	size_t got;

	for (size_t i = 0; i < sizeof(b0); i++)
		b0[i] = i * 7 + 1;
	memset(tail, 0x77, sizeof(tail));
	assert_int_equal(mdb_dbi_open(r.t, "blockmap", 0, &map), 0);
	assert_int_equal(mdb_drop(r.t, map, 1), 0);
	assert_int_equal(mdb_dbi_open(r.t, "meta", 0, &meta), 0);
	assert_int_equal(mdb_del(r.t, meta, &fk, NULL), 0);
	assert_int_equal(mdb_dbi_open(r.t, "data", MDB_CREATE, &data), 0);
	k = key2(kb, f->vol, x);
	k.mv_size = 24;
	be64put(kb + 16, 0);
	v.mv_size = sizeof(b0);
	v.mv_data = b0;
	assert_int_equal(mdb_put(r.t, data, &k, &v, 0), 0);
	be64put(kb + 16, 70);
	v.mv_size = sizeof(tail);
	v.mv_data = tail;
	assert_int_equal(mdb_put(r.t, data, &k, &v, 0), 0);
	/* The inode: size at byte 24, blocks at 32 (struct inorec). */
	k.mv_size = 16;
	assert_int_equal(mdb_get(r.t, inodes, &k, &v), 0);
	assert_true(v.mv_size <= sizeof(rec));
	memcpy(rec, v.mv_data, v.mv_size);
	memcpy(rec + 24, &size, 8);
	memcpy(rec + 32, &blocks, 8);
	v.mv_data = rec;
	assert_int_equal(mdb_put(r.t, inodes, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(r.t), 0);
	mdb_env_close(r.env);

	assert_int_equal(modalfs_store_check(f->dir, stderr), 1);
	assert_int_equal(modalfs_store_open(&f->st, f->dir, 0), 0);
	assert_int_equal(modalfs_store_read(f->st, f->vol, x, 0, sizeof(rd), rd,
					    &got), 0);
	assert_int_equal(got, sizeof(rd));
	assert_memory_equal(rd, b0, sizeof(b0));
	assert_int_equal(modalfs_store_read(f->st, f->vol, x, 65536, 4096, rd,
					    &got), 0);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(rd[i], 0);
	assert_int_equal(modalfs_store_read(f->st, f->vol, x, 70 * 65536ULL,
					    200, rd, &got), 0);
	assert_int_equal(got, 100);
	assert_memory_equal(rd, tail, 100);
	assert_int_equal(getattr(f, x).size, size);
	assert_true(getattr(f, x).blocks >= 128);
	assert_int_equal(problems(f), 0);
	modalfs_store_close(f->st);
	assert_int_equal(modalfs_store_check(f->dir, stderr), 0);
	assert_int_equal(modalfs_store_open(&f->st, f->dir, 0), 0);
}

/*
 * After a crash (no clean mark) the block store may hold objects no map
 * entry names and bytes past an object's valid length: --check notes them
 * without counting them, the next start removes and cuts them. On a store
 * that stopped cleanly the same stray is a problem.
 */
static void t_reconcile_after_crash(void **state)
{
	struct fx *f = *state;
	uint64_t x = mkfile(f, ROOT, "x");
	char buf[1000], path[256];
	struct stat sb;
	int fd;

	memset(buf, 3, sizeof(buf));
	assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, x, 0, buf,
					     sizeof(buf), NULL), 0);
	modalfs_store_close(f->st);
	f->st = NULL;
	snprintf(path, sizeof(path), "%s/clean", f->dir);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/blocks/%llu/999.0", f->dir,
		 (unsigned long long)f->vol);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "stray", 5), 5);
	close(fd);
	snprintf(path, sizeof(path), "%s/blocks/%llu/%llu.0", f->dir,
		 (unsigned long long)f->vol, (unsigned long long)x);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, 500), 500);
	close(fd);
	assert_int_equal(modalfs_store_check(f->dir, stderr), 0);
	assert_int_equal(modalfs_store_open(&f->st, f->dir, 0), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 1000);
	snprintf(path, sizeof(path), "%s/blocks/%llu/999.0", f->dir,
		 (unsigned long long)f->vol);
	assert_int_equal(access(path, F_OK), -1);
	/* A clean store: a stray is a problem. */
	modalfs_store_close(f->st);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(modalfs_store_check(f->dir, stderr), 1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(modalfs_store_check(f->dir, stderr), 0);
	assert_int_equal(modalfs_store_open(&f->st, f->dir, 0), 0);
}

static void t_check_usage(void **state)
{
	struct fx *f = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/nonexistent", f->dir);
	assert_true(modalfs_store_check(path, stderr) < 0);
	/* An empty directory is no store either, and is left as it was. */
	snprintf(path, sizeof(path), "%s/empty", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_true(modalfs_store_check(path, stderr) < 0);
	assert_int_equal(rmdir(path), 0);
}

/* ---- invariants after a long random sequence of operations ---- */

static uint64_t rnd_state = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void t_random_ops_invariants(void **state)
{
	struct fx *f = *state;
	static const char *const names[] = { "a", "b", "c", "d", "e" };
	uint64_t dirs[16] = { ROOT };
	uint64_t inos[64];
	int ndirs = 1, ninos = 0, okops = 0;
	static unsigned char buf[150000];
	int iters = getenv("MODALFS_LONG") ? 20000 : 3000;

	memset(buf, 0x33, sizeof(buf));
	for (int it = 0; it < iters; it++) {
		uint64_t d = dirs[rnd() % ndirs], d2 = dirs[rnd() % ndirs];
		const char *n = names[rnd() % 5], *n2 = names[rnd() % 5];
		uint64_t ino = ninos ? inos[rnd() % ninos] : ROOT;
		struct modalfs_iattr a;
		struct modalfs_setattr sa = { .valid = MODALFS_SET_SIZE };
		int err = 0;

		switch (rnd() % 13) {
		case 0:
		case 1:
			err = modalfs_store_create(f->st, NULL, f->vol, d, n,
						   S_IFREG | 0600, 0, 0, 0, &a);
			if (!err && ninos < 64)
				inos[ninos++] = a.ino;
			break;
		case 2:
			err = modalfs_store_mkdir(f->st, NULL, f->vol, d, n, 0700, 0,
						  0, &a);
			if (!err && ndirs < 16)
				dirs[ndirs++] = a.ino;
			break;
		case 3:
			err = modalfs_store_unlink(f->st, NULL, f->vol, d, n);
			break;
		case 4:
			err = modalfs_store_rmdir(f->st, NULL, f->vol, d, n);
			break;
		case 5:
		case 6:
			err = modalfs_store_rename(f->st, NULL, f->vol, d, n, d2, n2,
						   (uint32_t)(rnd() % 3));
			break;
		case 7:
			err = modalfs_store_link(f->st, NULL, f->vol, ino, d, n, &a);
			break;
		case 8:
			err = modalfs_store_write(f->st, NULL, f->vol, ino,
						  rnd() % 200000, buf,
						  rnd() % sizeof(buf), &a);
			break;
		case 9:
			sa.size = rnd() % 300000;
			err = modalfs_store_setattr(f->st, NULL, f->vol, ino, &sa,
						    &a);
			break;
		case 10:
			err = modalfs_store_setxattr(f->st, NULL, f->vol, ino,
						     rnd() % 2 ? "user.x" :
						     "trusted.y", buf,
						     rnd() % 3000, 0, &a);
			break;
		case 11:
			err = modalfs_store_evict(f->st, NULL, f->vol, ino);
			break;
		case 12:
			err = modalfs_store_symlink(f->st, NULL, f->vol, d, n, "t",
						    0, 0, &a);
			break;
		}
		okops += !err;
		if (problems(f)) {
			fprintf(stderr, "after op %d\n", it);
			fail();
		}
		/* Now and then everything is unmounted: orphans go. */
		if (rnd() % 200 == 0)
			assert_int_equal(modalfs_store_umount(f->st, f->vol),
					 0);
	}
	/* The sequence did real work, not just errors. */
	assert_true(okops > iters / 4);
	modalfs_store_close(f->st);
	f->st = NULL;
	assert_int_equal(modalfs_store_check(f->dir, stderr), 0);
	assert_int_equal(modalfs_store_open(&f->st, f->dir, 0), 0);
}

/* ---- ENOSPC on a map that is full to the last page ---- */

static void t_enospc_full(void **state)
{
	struct fx *f = *state;
	static unsigned char buf[65536];
	uint64_t ino = mkfile(f, ROOT, "big"), off = 0;
	struct modalfs_statfs sf0, sf1, sf2;
	struct modalfs_iattr a;
	char name[32];
	int err = 0, small = 0;

	assert_int_equal(modalfs_store_statfs(f->st, f->vol, &sf0), 0);
	memset(buf, 0x5a, sizeof(buf));
	for (;;) {
		err = modalfs_store_write(f->st, NULL, f->vol, ino, off, buf,
					  sizeof(buf), &a);
		if (err)
			break;
		off += sizeof(buf);
	}
	assert_int_equal(err, ENOSPC);
	/* Then fill every last page with small files and xattrs. */
	for (small = 0; small < 100000; small++) {
		snprintf(name, sizeof(name), "s%d", small);
		err = modalfs_store_create(f->st, NULL, f->vol, ROOT, name,
					   S_IFREG | 0644, 0, 0, 0, &a);
		if (err)
			break;
	}
	assert_int_equal(err, ENOSPC);
	assert_int_equal(modalfs_store_setxattr(f->st, NULL, f->vol, ROOT, "user.a",
						"v", 1, 0, &a), ENOSPC);
	assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, ino, off, "x", 1,
					     &a), ENOSPC);
	assert_int_equal(modalfs_store_statfs(f->st, f->vol, &sf1), 0);
	assert_true(sf1.bavail < sf0.bavail);
	assert_true(sf1.bavail * sf1.bsize < 4 * sizeof(buf));
	assert_int_equal(getattr(f, ino).size, off);
	assert_int_equal(problems(f), 0);
	/* Freeing still works on the full map: truncate, unlink, evict. */
	{
		struct modalfs_setattr sa = { .valid = MODALFS_SET_SIZE,
					      .size = off / 2 };

		assert_int_equal(modalfs_store_setattr(f->st, NULL, f->vol, ino,
						       &sa, &a), 0);
	}
	for (int i = 0; i < small; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		assert_int_equal(modalfs_store_unlink(f->st, NULL, f->vol, ROOT,
						      name), 0);
	}
	assert_int_equal(modalfs_store_unlink(f->st, NULL, f->vol, ROOT, "big"), 0);
	assert_int_equal(modalfs_store_evict(f->st, NULL, f->vol, ino), 0);
	assert_int_equal(modalfs_store_umount(f->st, f->vol), 0);
	assert_int_equal(problems(f), 0);
	assert_int_equal(modalfs_store_statfs(f->st, f->vol, &sf2), 0);
	assert_true(sf2.bavail > sf1.bavail + off / 2 / sf2.bsize);
	/* And the space is usable again. */
	ino = mkfile(f, ROOT, "again");
	off = 0;
	for (int i = 0; i < 8; i++, off += sizeof(buf))
		assert_int_equal(modalfs_store_write(f->st, NULL, f->vol, ino, off,
						     buf, sizeof(buf), &a), 0);
	assert_int_equal(problems(f), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(t_name_errnos),
		T(t_xattr_basic),
		T(t_xattr_errors),
		T(t_xattr_budget),
		T(t_xattr_freed_with_inode),
		T(t_check_clean),
		T(t_check_dangling_dirent),
		T(t_check_nlink),
		T(t_check_dir_parent),
		T(t_check_unreachable),
		T(t_check_cycle),
		T(t_check_orphan_records),
		T(t_check_pending_delete),
		T(t_check_size_blocks),
		T(t_check_usage),
		T(t_migrate_format1),
		T(t_reconcile_after_crash),
		T(t_random_ops_invariants),
		cmocka_unit_test_setup_teardown(t_enospc_full, setup_tiny,
						teardown),
	};

	return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
