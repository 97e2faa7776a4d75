// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Writes the seed corpus: one well-formed request per kernel op (for
 * fuzz_ops: genlmsghdr + attributes) and per control command (for
 * fuzz_ctl: whole datagrams), naming the scratch store's volume 1 and
 * its inodes 1..4 (see common.h). Usage: gen_corpus OPSDIR CTLDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/genetlink.h>
#include <netlink/genl/genl.h>

#include "../../netlink/modalfs.h"

#define FAMILY 0x42
#define CTL_TYPE 0x20	/* MODALFS_CTL_NLMSG_TYPE */

static void save(const char *dir, const char *name, struct nl_msg *m,
		 int skip_nlh)
{
	char path[512];
	struct nlmsghdr *nlh = nlmsg_hdr(m);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite((char *)nlh + (skip_nlh ? NLMSG_HDRLEN : 0), 1,
			 nlh->nlmsg_len - (skip_nlh ? NLMSG_HDRLEN : 0), f) !=
	    nlh->nlmsg_len - (skip_nlh ? NLMSG_HDRLEN : 0)) {
		perror(path);
		exit(1);
	}
	fclose(f);
	nlmsg_free(m);
}

static struct nl_msg *op(uint32_t o, uint64_t id, uint64_t ino)
{
	struct nl_msg *m = nlmsg_alloc_size(MODALFS_MSG_MAX);

	genlmsg_put(m, 0, 0, FAMILY, 0, 0, MODALFS_CMD_REQUEST,
		    MODALFS_GENL_VERSION);
	nla_put_u64(m, MODALFS_A_REQ_ID, id);
	nla_put_u32(m, MODALFS_A_OP, o);
	if (o != MODALFS_OP_MOUNT)
		nla_put_u64(m, MODALFS_A_VOL_ID, 1);
	if (ino)
		nla_put_u64(m, MODALFS_A_INO, ino);
	return m;
}

static struct nl_msg *ctl(uint8_t cmd)
{
	struct nl_msg *m = nlmsg_alloc_size(65536);

	genlmsg_put(m, 0, 1, CTL_TYPE, 0, NLM_F_REQUEST, cmd,
		    MODALFS_GENL_VERSION);
	return m;
}

static void ids(struct nl_msg *m, uint32_t mode)
{
	nla_put_u32(m, MODALFS_A_MODE, mode);
	nla_put_u32(m, MODALFS_A_UID, 1000);
	nla_put_u32(m, MODALFS_A_GID, 1000);
}

int main(int argc, char **argv)
{
	static char data[40000];
	const char *o, *c;
	struct nl_msg *m;
	struct nlattr *n;

	if (argc != 3)
		return 2;
	o = argv[1];
	c = argv[2];
	mkdir(o, 0755);
	mkdir(c, 0755);
	memset(data, 'z', sizeof(data));

	m = op(MODALFS_OP_MOUNT, 1, 0);
	nla_put_string(m, MODALFS_A_VOL_NAME, "vol");
	nla_put_string(m, MODALFS_A_PATH, "/d");
	save(o, "mount", m, 1);
	save(o, "umount", op(MODALFS_OP_UMOUNT, 2, 0), 1);
	save(o, "statfs", op(MODALFS_OP_STATFS, 3, 0), 1);
	m = op(MODALFS_OP_LOOKUP, 4, 1);
	nla_put_string(m, MODALFS_A_NAME, "f");
	save(o, "lookup", m, 1);
	save(o, "getattr", op(MODALFS_OP_GETATTR, 5, 2), 1);
	m = op(MODALFS_OP_SETATTR, 6, 2);
	n = nla_nest_start(m, MODALFS_A_SETATTR);
	nla_put_u32(m, MODALFS_ATTR_MODE, 0600);
	nla_put_u64(m, MODALFS_ATTR_SIZE, 5000);
	nla_put_s64(m, MODALFS_ATTR_MTIME_SEC, 1);
	nla_put_u32(m, MODALFS_ATTR_MTIME_NSEC, 2);
	nla_nest_end(m, n);
	save(o, "setattr", m, 1);
	m = op(MODALFS_OP_READDIR, 7, 1);
	nla_put_u64(m, MODALFS_A_OFFSET, 0);
	nla_put_u32(m, MODALFS_A_SIZE, 16);
	save(o, "readdir", m, 1);
	m = op(MODALFS_OP_CREATE, 8, 1);
	nla_put_string(m, MODALFS_A_NAME, "new");
	ids(m, S_IFREG | 0644);
	save(o, "create", m, 1);
	m = op(MODALFS_OP_CREATE, 9, 3);
	nla_put_string(m, MODALFS_A_NAME, "dev");
	ids(m, S_IFCHR | 0644);
	nla_put_u32(m, MODALFS_A_RDEV, 0x103);
	save(o, "mknod", m, 1);
	m = op(MODALFS_OP_MKDIR, 10, 3);
	nla_put_string(m, MODALFS_A_NAME, "sub");
	ids(m, 0755);
	save(o, "mkdir", m, 1);
	m = op(MODALFS_OP_SYMLINK, 11, 1);
	nla_put_string(m, MODALFS_A_NAME, "sl");
	nla_put_string(m, MODALFS_A_TARGET, "f");
	nla_put_u32(m, MODALFS_A_UID, 0);
	nla_put_u32(m, MODALFS_A_GID, 0);
	save(o, "symlink", m, 1);
	save(o, "readlink", op(MODALFS_OP_READLINK, 12, 4), 1);
	m = op(MODALFS_OP_LINK, 13, 2);
	nla_put_u64(m, MODALFS_A_NEW_INO, 3);
	nla_put_string(m, MODALFS_A_NEW_NAME, "hard");
	save(o, "link", m, 1);
	m = op(MODALFS_OP_UNLINK, 14, 3);
	nla_put_string(m, MODALFS_A_NAME, "l");
	save(o, "unlink", m, 1);
	m = op(MODALFS_OP_RMDIR, 15, 1);
	nla_put_string(m, MODALFS_A_NAME, "d");
	save(o, "rmdir", m, 1);
	m = op(MODALFS_OP_RENAME, 16, 1);
	nla_put_string(m, MODALFS_A_NAME, "f");
	nla_put_u64(m, MODALFS_A_NEW_INO, 3);
	nla_put_string(m, MODALFS_A_NEW_NAME, "g");
	nla_put_u32(m, MODALFS_A_FLAGS, MODALFS_RENAME_NOREPLACE);
	save(o, "rename", m, 1);
	m = op(MODALFS_OP_RENAME, 17, 1);
	nla_put_string(m, MODALFS_A_NAME, "d");
	nla_put_u64(m, MODALFS_A_NEW_INO, 1);
	nla_put_string(m, MODALFS_A_NEW_NAME, "f");
	nla_put_u32(m, MODALFS_A_FLAGS, MODALFS_RENAME_EXCHANGE);
	save(o, "rename-exchange", m, 1);
	m = op(MODALFS_OP_READ, 18, 2);
	nla_put_u64(m, MODALFS_A_OFFSET, 1000);
	nla_put_u32(m, MODALFS_A_SIZE, 65536);
	save(o, "read", m, 1);
	m = op(MODALFS_OP_WRITE, 19, 2);
	nla_put_u64(m, MODALFS_A_OFFSET, 65000);
	nla_put(m, MODALFS_A_DATA, MODALFS_DATA_CHUNK, data);
	nla_put(m, MODALFS_A_DATA, 100, data);
	save(o, "write", m, 1);
	m = op(MODALFS_OP_FSYNC, 20, 2);
	nla_put_u32(m, MODALFS_A_FLAGS, MODALFS_FSYNC_DATASYNC);
	save(o, "fsync", m, 1);
	save(o, "evict", op(MODALFS_OP_EVICT, 21, 2), 1);
	m = op(MODALFS_OP_GETXATTR, 22, 2);
	nla_put_string(m, MODALFS_A_NAME, "user.x");
	save(o, "getxattr", m, 1);
	m = op(MODALFS_OP_SETXATTR, 23, 2);
	nla_put_string(m, MODALFS_A_NAME, "trusted.t");
	nla_put(m, MODALFS_A_DATA, 10, data);
	nla_put_u32(m, MODALFS_A_FLAGS, MODALFS_XATTR_CREATE);
	save(o, "setxattr", m, 1);
	save(o, "listxattr", op(MODALFS_OP_LISTXATTR, 24, 2), 1);
	m = op(MODALFS_OP_REMOVEXATTR, 25, 2);
	nla_put_string(m, MODALFS_A_NAME, "user.x");
	save(o, "removexattr", m, 1);

	m = ctl(MODALFS_CTL_PERSISTED);
	nla_put_string(m, MODALFS_A_VOL_NAME, "other");
	save(c, "persisted", m, 0);
	m = ctl(MODALFS_CTL_CREATE);
	nla_put_string(m, MODALFS_A_VOL_NAME, "third");
	save(c, "create", m, 0);
	save(c, "list", ctl(MODALFS_CTL_LIST), 0);
	m = ctl(MODALFS_CTL_DELETE);
	nla_put_string(m, MODALFS_A_VOL_NAME, "other");
	nla_put_u32(m, MODALFS_A_FLAGS, MODALFS_CTL_F_FORCE);
	save(c, "delete", m, 0);
	m = ctl(MODALFS_CTL_APP_CREATE);
	nla_put_string(m, MODALFS_A_APP_NAME, "app1");
	save(c, "app-create", m, 0);
	m = ctl(MODALFS_CTL_APP_STOP);
	nla_put_string(m, MODALFS_A_APP_NAME, "app1");
	save(c, "app-stop", m, 0);
	m = ctl(MODALFS_CTL_EPHEMERAL);
	nla_put_string(m, MODALFS_A_APP_ID, "ap-abc");
	save(c, "ephemeral", m, 0);
	m = ctl(MODALFS_CTL_LS);
	nla_put_string(m, MODALFS_A_VOL_NAME, "vol");
	nla_put_string(m, MODALFS_A_PATH, "/d");
	save(c, "ls", m, 0);
	m = ctl(MODALFS_CTL_GET);
	nla_put_string(m, MODALFS_A_VOL_NAME, "vol");
	nla_put_string(m, MODALFS_A_PATH, "/f");
	nla_put_u64(m, MODALFS_A_OFFSET, 0);
	nla_put_u32(m, MODALFS_A_SIZE, 4096);
	save(c, "get", m, 0);
	m = ctl(MODALFS_CTL_PUT);
	nla_put_string(m, MODALFS_A_VOL_NAME, "vol");
	nla_put_string(m, MODALFS_A_PATH, "/d/put");
	nla_put_u64(m, MODALFS_A_OFFSET, 0);
	nla_put(m, MODALFS_A_DATA, 5000, data);
	nla_put_u32(m, MODALFS_A_MODE, 0600);
	nla_put_u32(m, MODALFS_A_FLAGS, MODALFS_CTL_F_TRUNC);
	save(c, "put", m, 0);
	m = ctl(MODALFS_CTL_MKDIR);
	nla_put_string(m, MODALFS_A_VOL_NAME, "vol");
	nla_put_string(m, MODALFS_A_PATH, "/a/b/c");
	save(c, "mkdir", m, 0);
	m = ctl(MODALFS_CTL_RM);
	nla_put_string(m, MODALFS_A_VOL_NAME, "vol");
	nla_put_string(m, MODALFS_A_PATH, "/d");
	nla_put_u32(m, MODALFS_A_FLAGS, MODALFS_CTL_F_RECURSIVE);
	save(c, "rm", m, 0);
	return 0;
}
