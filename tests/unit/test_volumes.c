// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cmocka tests of the volume lifecycle: the store's end section (apps,
 * ephemeral volumes, deleting in bounded transactions, paths, space), the
 * control channel commands of userd/ctl.c that use it, the reaper, and
 * the mount option parsing of tools/mountopts.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/genetlink.h>
#include <netlink/genl/genl.h>

#include "../../userd/ctl.h"
#include "../../userd/ctlmsg.h"
#include "../../userd/log.h"
#include "../../userd/store.h"
#include "../../tools/mountopts.h"
#include "fixture.h"

#define ROOT MODALFS_ROOT_INO

static void boot_id(char *out)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

	assert_non_null(f);
	assert_non_null(fgets(out, MODALFS_BOOT_ID_MAX + 1, f));
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
}

/* ---- store section ---- */

static void t_app_named(void **state)
{
	struct fx *f = *state;
	struct modalfs_appinfo a, b, c;

	assert_int_equal(modalfs_store_app_create(f->st, "train", 0, 0, NULL,
						  &a), 0);
	assert_memory_equal(a.app_id, "ap-", 3);
	assert_string_equal(a.name, "train");
	/* Find or create: the same app again. */
	assert_int_equal(modalfs_store_app_create(f->st, "train", 0, 0, NULL,
						  &b), 0);
	assert_string_equal(a.app_id, b.app_id);
	assert_int_equal(modalfs_store_app_find(f->st, "train", &c), 0);
	assert_string_equal(c.app_id, a.app_id);
	assert_int_equal(modalfs_store_app_find(f->st, a.app_id, &c), 0);
	assert_string_equal(c.name, "train");
	assert_int_equal(modalfs_store_app_find(f->st, "nope", &c), ENOENT);
	assert_int_equal(modalfs_store_app_remove(f->st, a.app_id), 0);
	assert_int_equal(modalfs_store_app_find(f->st, "train", &c), ENOENT);
	assert_int_equal(modalfs_store_app_find(f->st, a.app_id, &c), ENOENT);
	assert_int_equal(modalfs_store_app_remove(f->st, a.app_id), ENOENT);
}

static void t_ephemeral(void **state)
{
	struct fx *f = *state;
	struct modalfs_appinfo a;
	struct modalfs_volinfo v1, v2, lk;

	assert_int_equal(modalfs_store_app_create(f->st, NULL, 123, 456,
						  "boot", &a), 0);
	assert_int_equal(a.owner_pid, 123);
	assert_int_equal(a.owner_start, 456);
	assert_string_equal(a.boot_id, "boot");
	assert_string_equal(a.name, "");
	assert_int_equal(modalfs_store_vol_ephemeral(f->st, a.app_id, &v1), 0);
	assert_int_equal(modalfs_store_vol_ephemeral(f->st, a.app_id, &v2), 0);
	assert_string_not_equal(v1.name, v2.name);
	assert_true(v2.vol_id > v1.vol_id);
	assert_int_equal(modalfs_store_vol_lookup(f->st, v1.name, &lk), 0);
	assert_int_equal(lk.kind, MODALFS_KIND_EPHEMERAL);
	assert_string_equal(lk.app_id, a.app_id);
	assert_int_equal(lk.vol_id, v1.vol_id);
	assert_int_equal(modalfs_store_vol_ephemeral(f->st, "ap-none", &v1),
			 ENOENT);
	/* App records in the meta DBI are no inconsistency to --check. */
	assert_int_equal(modalfs_store_check_open(f->st, stderr), 0);
}

/* A volume with files, data blocks, a symlink, a subdirectory, xattrs. */
static uint64_t fill_volume(struct fx *f, const char *name, int nfiles)
{
	struct modalfs_volinfo vi;
	struct modalfs_iattr a, d;
	static char buf[200000];
	char fn[32];

	memset(buf, 'x', sizeof(buf));
	assert_int_equal(modalfs_store_vol_create(f->st, name,
						  MODALFS_KIND_PERSISTED, &vi),
			 0);
	assert_int_equal(modalfs_store_mkdir(f->st, NULL, vi.vol_id, ROOT, "d", 0755,
					     0, 0, &d), 0);
	for (int i = 0; i < nfiles; i++) {
		snprintf(fn, sizeof(fn), "f%d", i);
		assert_int_equal(modalfs_store_create(f->st, NULL, vi.vol_id,
						      i % 2 ? d.ino : ROOT, fn,
						      S_IFREG | 0644, 0, 0, 0,
						      &a), 0);
		assert_int_equal(modalfs_store_write(f->st, NULL, vi.vol_id, a.ino,
						     0, buf,
						     i % 5 ? 100 : sizeof(buf),
						     NULL), 0);
		assert_int_equal(modalfs_store_setxattr(f->st, NULL, vi.vol_id,
							a.ino, "user.k", "v",
							1, 0, NULL), 0);
	}
	assert_int_equal(modalfs_store_symlink(f->st, NULL, vi.vol_id, ROOT, "ln",
					       "target", 0, 0, &a), 0);
	return vi.vol_id;
}

static void t_delete(void **state)
{
	struct fx *f = *state;
	struct modalfs_store_space s0, s1;
	struct modalfs_volinfo vi;
	struct modalfs_iattr a;
	uint64_t vol;
	bool eof;
	int n = 0;

	vol = fill_volume(f, "big", 60);
	assert_int_equal(modalfs_store_space(f->st, &s0), 0);
	/* A batch of 7 records forces dozens of transactions. */
	assert_int_equal(modalfs_store_vol_delete(f->st, vol, 7), 0);
	assert_int_equal(modalfs_store_space(f->st, &s1), 0);
	/* 12 files of 200000 bytes were stored: their space is free now. */
	assert_true(s1.data_bytes + 12 * 200000 <= s0.data_bytes);
	assert_int_equal(s1.data_bytes, 0);
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/blocks/%llu", f->dir,
			 (unsigned long long)vol);
		assert_int_equal(access(path, F_OK), -1);
	}
	assert_int_equal(modalfs_store_vol_lookup(f->st, "big", &vi), ENOENT);
	for (uint64_t ino = ROOT; ino < 100; ino++)
		assert_int_equal(modalfs_store_getattr(f->st, vol, ino, &a),
				 ESTALE);
	assert_int_equal(modalfs_store_vol_delete(f->st, vol, 0), ENOENT);
	assert_int_equal(modalfs_store_vol_purge_pending(f->st), 0);
	assert_int_equal(modalfs_store_check_open(f->st, stderr), 0);
	/* The name is free, and the new volume is empty with a new id. */
	assert_int_equal(modalfs_store_vol_create(f->st, "big",
						  MODALFS_KIND_PERSISTED, &vi),
			 0);
	assert_true(vi.vol_id > vol);
	assert_int_equal(vi.files, 1);
	assert_int_equal(vi.bytes, 0);
	assert_int_equal(modalfs_store_readdir(f->st, vi.vol_id, ROOT, 0, 10,
					       NULL, &n, &eof), 0);
	assert_true(eof);
	/* The fixture's volume was never touched. */
	assert_int_equal(modalfs_store_getattr(f->st, f->vol, ROOT, &a), 0);
}

static void t_path(void **state)
{
	struct fx *f = *state;
	struct modalfs_store_path p;
	struct modalfs_iattr d, a;

	assert_int_equal(modalfs_store_mkdir(f->st, NULL, f->vol, ROOT, "a", 0755,
					     0, 0, &d), 0);
	assert_int_equal(modalfs_store_create(f->st, NULL, f->vol, d.ino, "f",
					      S_IFREG | 0600, 0, 0, 0, &a), 0);
	assert_int_equal(modalfs_store_path(f->st, "vol", "/", &p), 0);
	assert_true(p.exists);
	assert_string_equal(p.name, "");
	assert_int_equal(p.attr.ino, ROOT);
	assert_int_equal(modalfs_store_path(f->st, "vol", "//a/./f", &p), 0);
	assert_true(p.exists);
	assert_int_equal(p.dir, d.ino);
	assert_string_equal(p.name, "f");
	assert_int_equal(p.attr.ino, a.ino);
	assert_int_equal(modalfs_store_path(f->st, "vol", "/a/new", &p), 0);
	assert_false(p.exists);
	assert_int_equal(p.dir, d.ino);
	assert_string_equal(p.name, "new");
	assert_int_equal(modalfs_store_path(f->st, "vol", "/x/y", &p), ENOENT);
	assert_int_equal(p.vol, f->vol);
	assert_int_equal(modalfs_store_path(f->st, "vol", "/a/f/g", &p),
			 ENOTDIR);
	assert_int_equal(modalfs_store_path(f->st, "vol", "/a/../a", &p),
			 EINVAL);
	assert_int_equal(modalfs_store_path(f->st, "nope", "/", &p), ENOENT);
	assert_int_equal(p.vol, 0);
}

/* ---- processes and mounts ---- */

static void t_proc(void **state)
{
	uint64_t s1 = 0, s2 = 0;
	bool z = true;
	pid_t pid;

	(void)state;
	assert_int_equal(modalfs_ctl_proc_start(getpid(), &s1, &z), 0);
	assert_false(z);
	assert_true(s1 > 0);
	pid = fork();
	if (!pid)
		_exit(0);
	assert_true(pid > 0);
	/* An unreaped child is a zombie: its owner counts as gone. */
	for (int i = 0; i < 200 && !z; i++) {
		usleep(10000);
		assert_int_equal(modalfs_ctl_proc_start(pid, &s2, &z), 0);
	}
	assert_true(z);
	assert_true(s2 >= s1);
	waitpid(pid, NULL, 0);
	assert_int_equal(modalfs_ctl_proc_start(pid, &s2, &z), ENOENT);
}

static void t_mountinfo(void **state)
{
	char name[MODALFS_VOL_NAME_MAX + 1];

	(void)state;
	assert_int_equal(modalfs_ctl_mountinfo_volume(
		"36 35 0:52 / /mnt/x rw,relatime shared:1 - modalfs job-vol:/ rw\n",
		name), 1);
	assert_string_equal(name, "job-vol");
	assert_int_equal(modalfs_ctl_mountinfo_volume(
		"37 35 0:52 /sub /mnt/y rw - modalfs v.1_x:/sub/dir rw,soft\n",
		name), 1);
	assert_string_equal(name, "v.1_x");
	/* Optional fields may be absent or many. */
	assert_int_equal(modalfs_ctl_mountinfo_volume(
		"38 35 0:52 / /m rw master:3 propagate_from:2 - modalfs a:/ rw\n",
		name), 1);
	assert_int_equal(modalfs_ctl_mountinfo_volume(
		"22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", name), 0);
	assert_int_equal(modalfs_ctl_mountinfo_volume(
		"22 1 0:5 / /x rw - modalfsx a:/ rw\n", name), 0);
	assert_int_equal(modalfs_ctl_mountinfo_volume(
		"22 1 0:5 / /x rw - modalfs nocolon rw\n", name), 0);
	assert_int_equal(modalfs_ctl_mountinfo_volume("garbage", name), 0);
}

/* ---- control channel ---- */

/*
 * modalfs_store_lookup, counted: the test binary is linked with
 * --wrap=modalfs_store_lookup (Makefile), so every call from the control
 * channel comes here.
 */
int __real_modalfs_store_lookup(struct modalfs_store *st, uint64_t vol,
				uint64_t dir, const char *name,
				struct modalfs_iattr *attr);
int __wrap_modalfs_store_lookup(struct modalfs_store *st, uint64_t vol,
				uint64_t dir, const char *name,
				struct modalfs_iattr *attr);
static int lookups;

int __wrap_modalfs_store_lookup(struct modalfs_store *st, uint64_t vol,
				uint64_t dir, const char *name,
				struct modalfs_iattr *attr)
{
	lookups++;
	return __real_modalfs_store_lookup(st, vol, dir, name, attr);
}

/* The entries of the last reply, in order (up to LS_KEEP of them). */
#define LS_KEEP 512
static struct {
	char name[MODALFS_NAME_MAX + 1];
	struct modalfs_iattr attr;
} ls_ent[LS_KEEP];

struct reply {
	int err;
	char msg[MODALFS_ERRMSG_MAX + 1];
	char app_id[MODALFS_APP_ID_MAX + 1];
	struct modalfs_ctl_volume vol;
	struct modalfs_iattr attr;
	char data[MODALFS_CTL_IO_MAX];
	size_t len;
	int entries;
	char first[MODALFS_NAME_MAX + 1];
};

/* Sends m as a peer (pid, uid) and collects every reply datagram. */
static int call(struct fx *f, struct nl_msg *m, pid_t pid, uid_t uid,
		struct reply *r)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	char *buf = malloc(MODALFS_CTL_DGRAM_MAX);
	uint8_t cmd = ((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(m)))->cmd;
	int sv[2];

	assert_non_null(buf);
	memset(r, 0, sizeof(*r));
	r->err = -1;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(modalfs_ctl_handle_peer(f->st, sv[1], nlmsg_hdr(m),
						 nlmsg_hdr(m)->nlmsg_len, pid,
						 uid, 0), 0);
	nlmsg_free(m);
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
		r->err = nla_get_u32(tb[MODALFS_A_ERRNO]);
		if (tb[MODALFS_A_ERRMSG])
			strcpy(r->msg, nla_data(tb[MODALFS_A_ERRMSG]));
		if (tb[MODALFS_A_APP_ID])
			strcpy(r->app_id, nla_data(tb[MODALFS_A_APP_ID]));
		if (tb[MODALFS_A_VOLUME])
			assert_int_equal(modalfs_ctl_get_volume(
				tb[MODALFS_A_VOLUME], &r->vol), 0);
		if (tb[MODALFS_A_ATTR])
			assert_int_equal(modalfs_ctl_get_attr(
				tb[MODALFS_A_ATTR], &r->attr), 0);
		nlmsg_for_each_attr(a, nlh, GENL_HDRLEN, rem) {
			char name[MODALFS_NAME_MAX + 1];
			struct modalfs_iattr at;

			if (nla_type(a) == MODALFS_A_DATA) {
				memcpy(r->data + r->len, nla_data(a),
				       nla_len(a));
				r->len += nla_len(a);
			}
			if (nla_type(a) == MODALFS_A_ENTRY) {
				assert_int_equal(modalfs_ctl_get_entry(a, name,
								       &at), 0);
				if (r->entries < LS_KEEP) {
					strcpy(ls_ent[r->entries].name, name);
					ls_ent[r->entries].attr = at;
				}
				if (!r->entries++)
					strcpy(r->first, name);
			}
		}
	}
	close(sv[0]);
	close(sv[1]);
	free(buf);
	return r->err;
}

static struct nl_msg *ctl(uint8_t cmd, const char *vol, const char *path)
{
	struct nl_msg *m = modalfs_ctlmsg_new(cmd, 9, true);

	assert_non_null(m);
	if (vol)
		assert_int_equal(nla_put_string(m, MODALFS_A_VOL_NAME, vol), 0);
	if (path)
		assert_int_equal(nla_put_string(m, MODALFS_A_PATH, path), 0);
	return m;
}

static struct nl_msg *put(const char *path, uint64_t off, const char *data,
			  size_t len, uint32_t flags)
{
	struct nl_msg *m = ctl(MODALFS_CTL_PUT, "vol", path);

	nla_put_u64(m, MODALFS_A_OFFSET, off);
	if (flags)
		nla_put_u32(m, MODALFS_A_FLAGS, flags);
	for (size_t d = 0; d < len; d += MODALFS_DATA_CHUNK)
		nla_put(m, MODALFS_A_DATA,
			len - d < MODALFS_DATA_CHUNK ? len - d :
			MODALFS_DATA_CHUNK, data + d);
	return m;
}

static struct nl_msg *get(const char *path, uint64_t off, uint32_t size)
{
	struct nl_msg *m = ctl(MODALFS_CTL_GET, "vol", path);

	nla_put_u64(m, MODALFS_A_OFFSET, off);
	nla_put_u32(m, MODALFS_A_SIZE, size);
	return m;
}

static void t_ctl_files(void **state)
{
	struct fx *f = *state;
	static char data[MODALFS_CTL_IO_MAX];
	struct reply *r = malloc(sizeof(*r));
	struct nl_msg *m;

	assert_non_null(r);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = i * 7;
	/* Creating in root's 0755 "/" needs write permission on it. */
	assert_int_equal(call(f, put("/x", 0, data, 10, 0), 1, 1000, r), EACCES);
	assert_non_null(strstr(r->msg, "Permission denied"));
	/* PUT does not make parents; MKDIR does (mkdir -p). */
	assert_int_equal(call(f, put("/a/b/x", 0, data, 10, 0), 1, 0, r),
			 ENOENT);
	assert_non_null(strstr(r->msg, "vol:/a/b/x"));
	m = ctl(MODALFS_CTL_MKDIR, "vol", "/a/b");
	assert_int_equal(call(f, m, 1, 0, r), 0);
	assert_true(S_ISDIR(r->attr.mode));
	m = ctl(MODALFS_CTL_MKDIR, "vol", "/a/b");
	assert_int_equal(call(f, m, 1, 0, r), 0);
	/* Two full-size PUTs, then a truncating short one. */
	assert_int_equal(call(f, put("/a/b/x", 0, data, sizeof(data),
				     MODALFS_CTL_F_TRUNC), 1, 0, r), 0);
	assert_int_equal(call(f, put("/a/b/x", sizeof(data), data, 5, 0), 1, 0,
			      r), 0);
	assert_int_equal(r->attr.size, sizeof(data) + 5);
	assert_int_equal(call(f, get("/a/b/x", 0, MODALFS_CTL_IO_MAX), 1, 1000, r),
			 0);
	assert_int_equal(r->len, sizeof(data));
	assert_memory_equal(r->data, data, sizeof(data));
	assert_int_equal(r->attr.size, sizeof(data) + 5);
	assert_int_equal(call(f, get("/a/b/x", sizeof(data), 100), 1, 0, r),
			 0);
	assert_int_equal(r->len, 5);
	assert_int_equal(call(f, put("/a/b/x", 3, data, 2,
				     MODALFS_CTL_F_TRUNC), 1, 0, r), 0);
	assert_int_equal(r->attr.size, 5);
	/* MKDIR over a file, GET of a directory, PUT onto a directory. */
	m = ctl(MODALFS_CTL_MKDIR, "vol", "/a/b/x/y");
	assert_int_equal(call(f, m, 1, 0, r), ENOTDIR);
	assert_int_equal(call(f, get("/a", 0, 10), 1, 0, r), EISDIR);
	assert_int_equal(call(f, put("/a", 0, data, 1, 0), 1, 0, r), EISDIR);
	assert_int_equal(call(f, get("/a", 0, 0), 1, 0, r), EINVAL);
	assert_int_equal(call(f, get("/zz", 0, 10), 1, 0, r), ENOENT);
	/* LS of a directory and of a file. */
	m = ctl(MODALFS_CTL_LS, "vol", "/a/b");
	assert_int_equal(call(f, m, 1, 1000, r), 0);
	assert_int_equal(r->entries, 1);
	assert_string_equal(r->first, "x");
	m = ctl(MODALFS_CTL_LS, "vol", "/a/b/x");
	assert_int_equal(call(f, m, 1, 1000, r), 0);
	assert_int_equal(r->entries, 1);
	m = ctl(MODALFS_CTL_LS, "nope", NULL);
	assert_int_equal(call(f, m, 1, 1000, r), ENOENT);
	assert_non_null(strstr(r->msg, "volume 'nope' does not exist"));
	m = ctl(MODALFS_CTL_LS, "vol", "rel");
	assert_int_equal(call(f, m, 1, 0, r), EINVAL);
	/* A non-root peer cannot read a 0600 root file. */
	m = ctl(MODALFS_CTL_PUT, "vol", "/secret");
	nla_put_u64(m, MODALFS_A_OFFSET, 0);
	nla_put_u32(m, MODALFS_A_MODE, 0600);
	assert_int_equal(call(f, m, 1, 0, r), 0);
	assert_int_equal(call(f, get("/secret", 0, 10), 1, 1000, r), EACCES);
	/* RM: "/" is EBUSY, non-empty needs RECURSIVE. */
	m = ctl(MODALFS_CTL_RM, "vol", "/");
	assert_int_equal(call(f, m, 1, 0, r), EBUSY);
	m = ctl(MODALFS_CTL_RM, "vol", "/a");
	assert_int_equal(call(f, m, 1, 0, r), ENOTEMPTY);
	m = ctl(MODALFS_CTL_RM, "vol", "/a");
	nla_put_u32(m, MODALFS_A_FLAGS, MODALFS_CTL_F_RECURSIVE);
	assert_int_equal(call(f, m, 1, 0, r), 0);
	m = ctl(MODALFS_CTL_LS, "vol", "/");
	assert_int_equal(call(f, m, 1, 0, r), 0);
	assert_int_equal(r->entries, 1);
	assert_string_equal(r->first, "secret");
	/* The removed inodes were freed (no mount holds them). */
	assert_int_equal(modalfs_store_check_open(f->st, stderr), 0);
	free(r);
}

static void iattr_equal(const struct modalfs_iattr *a,
			const struct modalfs_iattr *b)
{
	assert_int_equal(a->ino, b->ino);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->nlink, b->nlink);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->gid, b->gid);
	assert_int_equal(a->rdev, b->rdev);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->blocks, b->blocks);
	assert_int_equal(a->atime_sec, b->atime_sec);
	assert_int_equal(a->atime_nsec, b->atime_nsec);
	assert_int_equal(a->mtime_sec, b->mtime_sec);
	assert_int_equal(a->mtime_nsec, b->mtime_nsec);
	assert_int_equal(a->ctime_sec, b->ctime_sec);
	assert_int_equal(a->ctime_nsec, b->ctime_nsec);
}

/*
 * LS of a directory lists every entry with the attributes a lookup of
 * its name gives, across several readdir batches and reply datagrams,
 * and takes them from the readdir (READDIRPLUS): no lookup per entry.
 */
static void t_ctl_ls_attrs(void **state)
{
	struct fx *f = *state;
	struct reply *r = malloc(sizeof(*r));
	struct modalfs_iattr a;
	char name[32];
	const int n = MODALFS_READDIR_MAX + 44;

	assert_non_null(r);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "e%03d", i);
		if (i % 10 == 3)
			assert_int_equal(modalfs_store_mkdir(f->st, NULL, f->vol,
							     ROOT, name, 0750,
							     i, 7, &a), 0);
		else if (i % 10 == 7)
			assert_int_equal(modalfs_store_symlink(f->st, NULL,
							       f->vol, ROOT,
							       name, "target",
							       i, 7, &a), 0);
		else
			assert_int_equal(modalfs_store_create(f->st, NULL,
							      f->vol, ROOT,
							      name,
							      S_IFREG | (0600 + i % 64),
							      i, 7, 0, &a), 0);
	}
	/* A hard link: one inode under two names, nlink 2 in both. */
	assert_int_equal(modalfs_store_lookup(f->st, f->vol, ROOT, "e000", &a),
			 0);
	assert_int_equal(modalfs_store_link(f->st, NULL, f->vol, a.ino, ROOT,
					    "link", &a), 0);

	lookups = 0;
	assert_int_equal(call(f, ctl(MODALFS_CTL_LS, "vol", "/"), 1, 0, r), 0);
	/* Resolving "/" needs none, and no entry needs one of its own. */
	assert_int_equal(lookups, 0);
	assert_int_equal(r->entries, n + 1);
	for (int i = 0; i <= n; i++) {
		if (i < n)
			snprintf(name, sizeof(name), "e%03d", i);
		else
			strcpy(name, "link");
		assert_string_equal(ls_ent[i].name, name);
		assert_int_equal(modalfs_store_lookup(f->st, f->vol, ROOT, name,
						      &a), 0);
		iattr_equal(&ls_ent[i].attr, &a);
	}
	assert_int_equal(ls_ent[0].attr.nlink, 2);
	assert_int_equal(ls_ent[n].attr.ino, ls_ent[0].attr.ino);
	assert_true(S_ISDIR(ls_ent[3].attr.mode));
	assert_true(S_ISLNK(ls_ent[7].attr.mode));
	assert_int_equal(ls_ent[7].attr.size, strlen("target"));
	free(r);
}

static struct nl_msg *str_req(uint8_t cmd, int attr, const char *val,
			      uint32_t flags)
{
	struct nl_msg *m = modalfs_ctlmsg_new(cmd, 9, true);

	assert_non_null(m);
	if (attr)
		nla_put_string(m, attr, val);
	if (flags)
		nla_put_u32(m, MODALFS_A_FLAGS, flags);
	return m;
}

static void t_ctl_apps(void **state)
{
	struct fx *f = *state;
	struct reply *r = malloc(sizeof(*r));
	struct modalfs_volinfo vi;
	char app[MODALFS_APP_ID_MAX + 1], eph[MODALFS_VOL_NAME_MAX + 1];
	struct nl_msg *m;

	assert_non_null(r);
	/* Anonymous app owned by this process; ephemeral volume in it. */
	assert_int_equal(call(f, str_req(MODALFS_CTL_APP_CREATE, 0, NULL, 0),
			      getpid(), 0, r), 0);
	strcpy(app, r->app_id);
	assert_int_equal(call(f, str_req(MODALFS_CTL_EPHEMERAL,
					 MODALFS_A_APP_ID, app, 0),
			      getpid(), 0, r), 0);
	strcpy(eph, r->vol.vi.name);
	assert_int_equal(r->vol.vi.kind, MODALFS_KIND_EPHEMERAL);
	assert_string_equal(r->vol.vi.app_id, app);
	/* Private to the owner's uid (this process) and root. */
	if (getuid() != 4242) {
		m = ctl(MODALFS_CTL_LS, eph, "/");
		assert_int_equal(call(f, m, 1, 4242, r), ENOENT);
		assert_non_null(strstr(r->msg, "does not exist"));
		assert_int_equal(call(f, str_req(MODALFS_CTL_APP_STOP,
						 MODALFS_A_APP_ID, app, 0),
				      1, 4242, r), ENOENT);
	}
	assert_int_equal(call(f, str_req(MODALFS_CTL_EPHEMERAL,
					 MODALFS_A_APP_ID, "ap-x", 0),
			      getpid(), 0, r), ENOENT);
	/* The owner is alive: the reaper leaves it alone. */
	assert_int_equal(modalfs_ctl_reap(f->st), 0);
	assert_int_equal(modalfs_store_vol_lookup(f->st, eph, &vi), 0);
	/* DELETE by the app id of an app is APP_STOP. */
	assert_int_equal(call(f, str_req(MODALFS_CTL_DELETE, MODALFS_A_APP_ID,
					 app, 0), 1, 0, r), 0);
	assert_int_equal(modalfs_store_vol_lookup(f->st, eph, &vi), ENOENT);
	assert_int_equal(call(f, str_req(MODALFS_CTL_APP_STOP, MODALFS_A_APP_ID,
					 app, 0), 1, 0, r), ENOENT);

	/* Named app: stopped by name. */
	assert_int_equal(call(f, str_req(MODALFS_CTL_APP_CREATE,
					 MODALFS_A_APP_NAME, "bad/n", 0),
			      1, 0, r), EINVAL);
	assert_int_equal(call(f, str_req(MODALFS_CTL_APP_CREATE,
					 MODALFS_A_APP_NAME, "nightly", 0),
			      1, 0, r), 0);
	strcpy(app, r->app_id);
	assert_int_equal(call(f, str_req(MODALFS_CTL_EPHEMERAL,
					 MODALFS_A_APP_ID, app, 0), 1, 0, r),
			 0);
	strcpy(eph, r->vol.vi.name);
	assert_string_equal(r->vol.app_name, "nightly");
	assert_int_equal(modalfs_ctl_reap(f->st), 0);
	assert_int_equal(call(f, str_req(MODALFS_CTL_APP_STOP,
					 MODALFS_A_APP_NAME, "nightly", 0),
			      1, 0, r), 0);
	assert_int_equal(modalfs_store_vol_lookup(f->st, eph, &vi), ENOENT);

	/* APP_STOP names apps only, never a volume. */
	assert_int_equal(call(f, str_req(MODALFS_CTL_APP_STOP,
					 MODALFS_A_APP_NAME, "vol", 0),
			      1, 0, r), ENOENT);
	assert_int_equal(modalfs_store_vol_lookup(f->st, "vol", &vi), 0);
	/* Persisted volumes: delete by name, by app id; then gone. */
	assert_int_equal(modalfs_store_vol_create(f->st, "p1",
						  MODALFS_KIND_PERSISTED, &vi),
			 0);
	assert_int_equal(call(f, str_req(MODALFS_CTL_DELETE, MODALFS_A_APP_ID,
					 vi.app_id, 0), 1, 0, r), 0);
	assert_int_equal(call(f, str_req(MODALFS_CTL_DELETE, MODALFS_A_VOL_NAME,
					 "p1", 0), 1, 0, r), ENOENT);
	assert_non_null(strstr(r->msg, "'p1' does not exist"));
	assert_int_equal(call(f, str_req(MODALFS_CTL_DELETE, MODALFS_A_VOL_NAME,
					 "vol", MODALFS_CTL_F_RECURSIVE),
			      1, 0, r), EINVAL);
	assert_int_equal(call(f, str_req(MODALFS_CTL_DELETE, 0, NULL, 0),
			      1, 0, r), EINVAL);
	assert_int_equal(call(f, str_req(MODALFS_CTL_DELETE, MODALFS_A_VOL_NAME,
					 "vol", 0), 1, 0, r), 0);
	assert_int_equal(call(f, str_req(MODALFS_CTL_LIST, 0, NULL, 0),
			      1, 1000, r), 0);
	free(r);
}

static void t_reaper(void **state)
{
	struct fx *f = *state;
	struct modalfs_appinfo a, live;
	struct modalfs_volinfo v, lv, vi;
	char boot[MODALFS_BOOT_ID_MAX + 1];
	uint64_t start;
	bool z;
	pid_t pid;

	boot_id(boot);
	pid = fork();
	if (!pid) {
		pause();
		_exit(0);
	}
	assert_int_equal(modalfs_ctl_proc_start(pid, &start, &z), 0);
	assert_int_equal(modalfs_store_app_create(f->st, NULL, pid, start,
						  boot, &a), 0);
	assert_int_equal(modalfs_store_vol_ephemeral(f->st, a.app_id, &v), 0);
	assert_int_equal(modalfs_ctl_proc_start(getpid(), &start, &z), 0);
	assert_int_equal(modalfs_store_app_create(f->st, NULL, getpid(), start,
						  boot, &live), 0);
	assert_int_equal(modalfs_store_vol_ephemeral(f->st, live.app_id, &lv),
			 0);
	assert_int_equal(modalfs_ctl_reap(f->st), 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* Owner gone: its app and volume go, the live one stays. */
	assert_int_equal(modalfs_ctl_reap(f->st), 1);
	assert_int_equal(modalfs_store_vol_lookup(f->st, v.name, &vi), ENOENT);
	assert_int_equal(modalfs_store_app_find(f->st, a.app_id, &a), ENOENT);
	assert_int_equal(modalfs_store_vol_lookup(f->st, lv.name, &vi), 0);
	/* A reused pid is told apart by its start time, a reboot by boot id. */
	assert_int_equal(modalfs_store_app_create(f->st, NULL, getpid(),
						  start + 1, boot, &a), 0);
	assert_int_equal(modalfs_store_app_create(f->st, NULL, getpid(), start,
						  "another-boot", &a), 0);
	assert_int_equal(modalfs_ctl_reap(f->st), 2);
	/* An ephemeral volume whose app is gone (a crash) is deleted. */
	assert_int_equal(modalfs_store_app_remove(f->st, live.app_id), 0);
	assert_int_equal(modalfs_ctl_reap(f->st), 1);
	assert_int_equal(modalfs_store_vol_lookup(f->st, lv.name, &vi), ENOENT);
	assert_int_equal(modalfs_store_check_open(f->st, stderr), 0);
}

/* ---- tools/mountopts.c ---- */

static void t_mountopts(void **state)
{
	struct mount_opts mo = { 0 };
	char src[128], err[256];

	(void)state;
	assert_int_equal(mount_opts_parse("ro,nosuid,nodev,noexec,noatime,"
					  "soft,timeo=5,defaults,_netdev,"
					  "x-systemd.automount,nofail,comment=x",
					  &mo, err, sizeof(err)), 0);
	assert_int_equal(mo.flags, MS_RDONLY | MS_NOSUID | MS_NODEV |
			 MS_NOEXEC | MS_NOATIME);
	assert_string_equal(mo.data, "soft,timeo=5");
	assert_int_equal(mount_opts_parse("rw,relatime,hard", &mo, err,
					  sizeof(err)), 0);
	assert_int_equal(mo.flags, MS_NOSUID | MS_NODEV | MS_NOEXEC |
			 MS_RELATIME);
	assert_string_equal(mo.data, "soft,timeo=5,hard");
	memset(&mo, 0, sizeof(mo));
	assert_int_equal(mount_opts_parse(NULL, &mo, err, sizeof(err)), 0);
	assert_int_equal(mount_opts_parse(",,", &mo, err, sizeof(err)), 0);
	assert_int_equal(mo.flags, 0);
	assert_string_equal(mo.data, "");

	assert_int_equal(mount_source("vol", src, sizeof(src), err,
				      sizeof(err)), 0);
	assert_string_equal(src, "vol:/");
	assert_int_equal(mount_source("vol:", src, sizeof(src), err,
				      sizeof(err)), 0);
	assert_string_equal(src, "vol:/");
	assert_int_equal(mount_source("v-1.x_y:/sub/dir", src, sizeof(src),
				      err, sizeof(err)), 0);
	assert_string_equal(src, "v-1.x_y:/sub/dir");
	assert_int_equal(mount_source("b@d:/", src, sizeof(src), err,
				      sizeof(err)), -1);
	assert_non_null(strstr(err, "A-Z a-z 0-9"));
	assert_int_equal(mount_source(":/", src, sizeof(src), err,
				      sizeof(err)), -1);
	assert_int_equal(mount_source("vol:rel", src, sizeof(src), err,
				      sizeof(err)), -1);
	assert_int_equal(mount_source("a123456789012345678901234567890123456789012345678901234567890123456789:/",
				      src, sizeof(src), err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_app_named, setup, teardown),
		cmocka_unit_test_setup_teardown(t_ephemeral, setup, teardown),
		cmocka_unit_test_setup_teardown(t_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(t_path, setup, teardown),
		cmocka_unit_test(t_proc),
		cmocka_unit_test(t_mountinfo),
		cmocka_unit_test_setup_teardown(t_ctl_files, setup, teardown),
		cmocka_unit_test_setup_teardown(t_ctl_ls_attrs, setup, teardown),
		cmocka_unit_test_setup_teardown(t_ctl_apps, setup, teardown),
		cmocka_unit_test_setup_teardown(t_reaper, setup, teardown),
		cmocka_unit_test(t_mountopts),
	};

	modalfs_log_level = MODALFS_LOG_ERR;
	return cmocka_run_group_tests_name("volumes", tests, NULL, NULL);
}
