/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Shared by the control server's files (ctl*.c), not by the rest of the
 * daemon: one request's context, the reply helpers, the caller's
 * credentials and the permission checks made with them, mount counting.
 */
#ifndef MODALFS_CTL_PRIV_H
#define MODALFS_CTL_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <netlink/genl/genl.h>

#include "ctl.h"
#include "ctlmsg.h"

/* Who sent a request: SO_PEERCRED and SO_PEERGROUPS of its connection. */
struct modalfs_ctl_cred {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t *groups;		/* supplementary groups; may be NULL */
};

/* The file an atomic PUT of this connection is writing (ctl_put.c). */
struct modalfs_ctl_stage {
	bool active;
	char vol_name[MODALFS_VOL_NAME_MAX + 1];
	char path[MODALFS_PATH_MAX + 1];
	uint64_t vol, dir, ino;
	uint64_t next_off;		/* where the next chunk must start */
	char name[MODALFS_NAME_MAX + 1];	/* the target */
	char tmp[MODALFS_NAME_MAX + 1];	/* the staging name next to it */
};

/* One client connection. */
struct modalfs_ctl_conn {
	struct modalfs_store *st;
	int fd;
	struct modalfs_ctl_cred cred;
	struct modalfs_ctl_stage stage;
};

/* One request being answered. */
struct modalfs_ctl_req {
	struct modalfs_store *st;
	struct modalfs_ctl_conn *conn;
	int fd;
	uint8_t cmd;
	uint32_t seq;
	struct nlattr **tb;
	const struct nlmsghdr *nlh;
	const struct modalfs_ctl_cred *cred;
};

/* ---- replies (ctl_reply.c); each returns 0 or -errno of the send ---- */
int modalfs_ctl_error(const struct modalfs_ctl_req *r, int err,
		      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A reply with ERRNO 0 and nothing else, or NULL. */
struct nl_msg *modalfs_ctl_ok_msg(const struct modalfs_ctl_req *r);
/* Sends m (NULL: -ENOMEM) and frees it. */
int modalfs_ctl_send(const struct modalfs_ctl_req *r, struct nl_msg *m);
int modalfs_ctl_send_ok(const struct modalfs_ctl_req *r);
/*
 * Room for one more element in the array *vp holding n of *cap elements
 * of size bytes: the capacity doubles, starting at first. 0 or ENOMEM,
 * which leaves the array as it was.
 */
int modalfs_ctl_grow(void *vp, size_t n, size_t *cap, size_t size,
		     size_t first);

/* ---- mounts (ctl_mounts.c) ---- */
struct modalfs_ctl_mcount {
	char name[MODALFS_VOL_NAME_MAX + 1];
	uint32_t n;
};

struct modalfs_ctl_mounts {
	struct modalfs_ctl_mcount *v;
	size_t n, cap;
};

/* Mounts per volume over all mount namespaces; free m->v after. */
int modalfs_ctl_count_mounts(struct modalfs_ctl_mounts *m);
uint32_t modalfs_ctl_mounts_of(const struct modalfs_ctl_mounts *m,
			       const char *name);
/*
 * Whether a superblock of volume vol_id is alive in the kernel: it has a
 * /sys/fs/modalfs/volumes/<id> directory from mount until its last user,
 * a lazily detached mount with open files included, is gone.
 */
bool modalfs_ctl_vol_alive(uint64_t vol_id);
/* The boot id of this boot ("" if unknown); out holds BOOT_ID_MAX + 1. */
void modalfs_ctl_boot_id(char *out);

/* ---- credentials and permissions (ctl_perm.c) ---- */
#define MODALFS_MAY_EXEC	1
#define MODALFS_MAY_WRITE	2
#define MODALFS_MAY_READ	4

bool modalfs_ctl_in_group(const struct modalfs_ctl_cred *c, gid_t gid);
/*
 * generic_permission() of the VFS on inode a: the owner class, else the
 * group class when the file's group is one of the caller's, else the
 * others; root passes except for executing a file with no x bit at all.
 * 0 or EACCES.
 */
int modalfs_ctl_permission(const struct modalfs_ctl_cred *c,
			   const struct modalfs_iattr *a, int mask);
/*
 * The sticky-directory rule of unlink and rename: in a directory with
 * S_ISVTX only the owner of the entry or of the directory (or root) may
 * remove it. 0 or EPERM.
 */
int modalfs_ctl_sticky(const struct modalfs_ctl_cred *c,
		       const struct modalfs_iattr *dir,
		       const struct modalfs_iattr *victim);
/*
 * Whether the caller may see volume vi at all: an ephemeral volume of an
 * anonymous app (what `modalfsctl run --nfs DIR=new` mounts privately)
 * belongs to the uid of the app's owner process and to root; so does the
 * anonymous app itself.
 */
bool modalfs_ctl_app_visible(const struct modalfs_ctl_cred *c,
			     const struct modalfs_appinfo *ai);
bool modalfs_ctl_vol_visible(struct modalfs_store *st,
			     const struct modalfs_ctl_cred *c,
			     const struct modalfs_volinfo *vi);
/*
 * Resolves path in volume vol_name as modalfs_store_path does, but as the
 * VFS would for the caller: search permission on every directory walked
 * through, so what lies below a directory the caller cannot search is
 * EACCES whether or not it exists. A volume the caller may not see is
 * ENOENT with out->vol 0, like a missing one.
 */
int modalfs_ctl_walk(struct modalfs_store *st,
		     const struct modalfs_ctl_cred *c, const char *vol_name,
		     const char *path, struct modalfs_store_path *out);

/* ---- commands ---- */
/* ctl_vol.c; lifecycle changes hold modalfs_ctl_life. */
extern pthread_mutex_t modalfs_ctl_life;
int modalfs_ctl_do_make(const struct modalfs_ctl_req *r);
int modalfs_ctl_do_list(const struct modalfs_ctl_req *r);
int modalfs_ctl_do_delete(const struct modalfs_ctl_req *r);
int modalfs_ctl_do_app_create(const struct modalfs_ctl_req *r);
int modalfs_ctl_do_ephemeral(const struct modalfs_ctl_req *r);
/* ctl_files.c */
int modalfs_ctl_do_ls(const struct modalfs_ctl_req *r);
int modalfs_ctl_do_get(const struct modalfs_ctl_req *r);
int modalfs_ctl_do_mkdir(const struct modalfs_ctl_req *r);
int modalfs_ctl_do_rm(const struct modalfs_ctl_req *r);
/*
 * Checks VOL_NAME and PATH of a file command and walks the path as the
 * caller; on failure answers and returns false with *rc set.
 */
bool modalfs_ctl_resolve(const struct modalfs_ctl_req *r, bool need_path,
			 struct modalfs_store_path *sp, const char **vol,
			 const char **path, int *rc);
int modalfs_ctl_path_error(const struct modalfs_ctl_req *r, int err,
			   const char *vol, const char *path,
			   const struct modalfs_store_path *sp);
/*
 * Frees the inodes just unlinked (nlink 0) when no superblock of the
 * volume is alive: nobody would ever send their EVICT.
 */
void modalfs_ctl_free_orphan(struct modalfs_store *st, uint64_t vol,
			     uint64_t ino);
/* ctl_put.c */
int modalfs_ctl_do_put(const struct modalfs_ctl_req *r);
/* Drops the connection's unfinished atomic PUT, if any. */
void modalfs_ctl_stage_abort(struct modalfs_ctl_conn *conn);

/* Answers one request datagram on conn. */
int modalfs_ctl_dispatch(struct modalfs_ctl_conn *conn, void *buf,
			 size_t len);

#endif
