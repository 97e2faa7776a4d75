/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * modalfsd storage interface.
 *
 * Everything the daemon knows about volumes and files goes through these
 * functions, so the backend (today LMDB, see store_priv.h) can later be replaced
 * by a remote or distributed one without touching the protocol code.
 *
 * Every function returns 0 or a positive errno value. Every mutating call
 * is one atomic transaction: after it returns, either all of its effects
 * are committed or none are.
 */
#ifndef MODALFS_STORE_H
#define MODALFS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../netlink/modalfs.h"

#define MODALFS_STORE_DEFAULT_MAP (64ULL << 30)

struct modalfs_store;

struct modalfs_iattr {
	uint64_t ino;
	uint32_t mode;
	uint32_t nlink;
	uint32_t uid;
	uint32_t gid;
	uint32_t rdev;
	uint64_t size;
	uint64_t blocks;	/* 512-byte units */
	int64_t atime_sec, mtime_sec, ctime_sec;
	uint32_t atime_nsec, mtime_nsec, ctime_nsec;
};

/* Which members of struct modalfs_setattr are set. */
#define MODALFS_SET_MODE	(1u << 0)
#define MODALFS_SET_UID		(1u << 1)
#define MODALFS_SET_GID		(1u << 2)
#define MODALFS_SET_SIZE	(1u << 3)
#define MODALFS_SET_ATIME	(1u << 4)
#define MODALFS_SET_MTIME	(1u << 5)
#define MODALFS_SET_CTIME	(1u << 6)

struct modalfs_setattr {
	uint32_t valid;
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint64_t size;
	int64_t atime_sec, mtime_sec, ctime_sec;
	uint32_t atime_nsec, mtime_nsec, ctime_nsec;
};

struct modalfs_volinfo {
	char name[MODALFS_VOL_NAME_MAX + 1];
	char app_id[MODALFS_APP_ID_MAX + 1];
	uint64_t vol_id;
	uint32_t kind;		/* enum modalfs_volume_kind */
	int64_t created;
	uint64_t bytes;		/* sum of regular file sizes */
	uint64_t files;		/* number of inodes */
};

struct modalfs_statfs {
	uint32_t bsize;
	uint64_t blocks, bfree, bavail, files, ffree;
	uint32_t namelen;
};

struct modalfs_dirent {
	uint64_t ino;
	uint64_t cookie;
	uint32_t type;		/* DT_* */
	char name[MODALFS_NAME_MAX + 1];
	struct modalfs_iattr attr;	/* the entry's inode, same txn */
};

typedef int (*modalfs_vol_cb)(const struct modalfs_volinfo *vi, void *arg);
typedef int (*modalfs_dirent_cb)(const struct modalfs_dirent *de, void *arg);

/* map_size 0 means MODALFS_STORE_DEFAULT_MAP. Creates dir if missing. */
int modalfs_store_open(struct modalfs_store **out, const char *dir,
		       uint64_t map_size);
void modalfs_store_close(struct modalfs_store *st);

struct modalfs_stats;
/* The daemon's counters (stats.h); valid until modalfs_store_close. */
struct modalfs_stats *modalfs_store_stats(struct modalfs_store *st);

/*
 * The explicit context of one write op (nothing about an op is kept in
 * thread-local state). Write ops that the kernel sends take one; pass NULL
 * for a plain op outside any batch (the control channel, tests).
 *   drc     the op's duplicate-request cache entry, or NULL (set by the
 *           caller before the op);
 *   batch   the group-commit batch's transaction the op is nested in;
 *   index   ops of that batch before this one (their pages are not yet
 *           in the meta page, which space accounting must allow for);
 *   drc_done  the entry was looked up/recorded by the op's transaction.
 *   dir_out, new_dir_out  where a namespace op (create, mkdir, symlink,
 *           link, unlink, rmdir, rename) writes the attributes of the
 *           directory it changed (link: the new entry's), and rename
 *           those of its second directory; NULL: not wanted (set by the
 *           caller before the op);
 *   dirs_done  which of them the op wrote (MODALFS_TXC_DIR*): none when
 *           it failed or the duplicate-request cache answered.
 * drc, dir_out and new_dir_out are the caller's; the rest the store's.
 */
#define MODALFS_TXC_DIR		(1U << 0)
#define MODALFS_TXC_NEW_DIR	(1U << 1)
struct modalfs_txc {
	struct modalfs_drc *drc;
	void *batch;
	unsigned int index;
	bool drc_done;
	struct modalfs_iattr *dir_out;
	struct modalfs_iattr *new_dir_out;
	unsigned int dirs_done;
};

/*
 * Group commit, always on: runs fn(tx, arg) on the store's one writer
 * thread, where every write op is a nested transaction of a batch that is
 * committed (and synced) once for up to 64 concurrent ops. fn may call any
 * store function, passing tx to the write ops. Returns 0 once the effects
 * of its write ops are committed, or an errno if the batch could not be
 * committed (then they are lost and fn's results must be ignored).
 */
int modalfs_store_batch(struct modalfs_store *st,
			int (*fn)(struct modalfs_txc *tx, void *arg),
			void *arg);

/*
 * The same without waiting, so that the caller's thread can take more
 * requests while the batch runs (a batch can then hold more than one op
 * per caller thread): the caller fills in fn, arg and done; after the
 * batch holding the op committed or failed, done(r, err) is called once,
 * on the writer thread, with what modalfs_store_batch would have
 * returned. r is the caller's and must live until then; done may free
 * it, and must not start a batch (the writer waits for it); it may
 * call modalfs_store_fsync.
 * Returns 0 once queued, or EROFS for a store without a writer (nothing
 * is called then).
 */
struct modalfs_batch_req {
	int (*fn)(struct modalfs_txc *tx, void *arg);
	void *arg;
	void (*done)(struct modalfs_batch_req *r, int err);
	/* The writer's. */
	int err;
	bool finished;
	struct modalfs_batch_req *next;
};
int modalfs_store_batch_submit(struct modalfs_store *st,
			       struct modalfs_batch_req *r);

/* Volumes (control channel). */
int modalfs_store_vol_persisted(struct modalfs_store *st, const char *name,
				struct modalfs_volinfo *out);
int modalfs_store_vol_create(struct modalfs_store *st, const char *name,
			     uint32_t kind, struct modalfs_volinfo *out);
/* cb returning non-zero stops the walk and is returned. */
int modalfs_store_vol_list(struct modalfs_store *st, modalfs_vol_cb cb,
			   void *arg);

/* File system operations (kernel channel). */
int modalfs_store_mount(struct modalfs_store *st, const char *name,
			const char *path, uint64_t *vol_id,
			struct modalfs_iattr *attr);
/* Frees the volume's orphans in bounded transactions (not in a batch). */
int modalfs_store_umount(struct modalfs_store *st, uint64_t vol);
int modalfs_store_statfs(struct modalfs_store *st, uint64_t vol,
			 struct modalfs_statfs *sf);
int modalfs_store_lookup(struct modalfs_store *st, uint64_t vol, uint64_t dir,
			 const char *name, struct modalfs_iattr *attr);
int modalfs_store_getattr(struct modalfs_store *st, uint64_t vol,
			  uint64_t ino, struct modalfs_iattr *attr);
int modalfs_store_setattr(struct modalfs_store *st, struct modalfs_txc *tx,
	uint64_t vol,
			  uint64_t ino, const struct modalfs_setattr *sa,
			  struct modalfs_iattr *attr);
/*
 * Calls cb for at most max entries with cookie > offset, in cookie order,
 * each with its inode's attributes (READDIRPLUS). *eof is set when no
 * entry follows the last one passed to cb. A non-zero return of cb ends
 * the walk and is returned.
 */
int modalfs_store_readdir(struct modalfs_store *st, uint64_t vol,
			  uint64_t dir, uint64_t offset, uint32_t max,
			  modalfs_dirent_cb cb, void *arg, bool *eof);
int modalfs_store_create(struct modalfs_store *st, struct modalfs_txc *tx,
	uint64_t vol, uint64_t dir,
			 const char *name, uint32_t mode, uint32_t uid,
			 uint32_t gid, uint32_t rdev, struct modalfs_iattr *attr);
/*
 * An asynchronous create (protocol section 3b): the inode number the
 * kernel took from a range it was handed out, and its own timestamps
 * (the times of *times that are valid), instead of the daemon's.
 */
struct modalfs_newnode {
	uint64_t ino;
	const struct modalfs_setattr *times;
};
int modalfs_store_create_at(struct modalfs_store *st, struct modalfs_txc *tx,
			    uint64_t vol, uint64_t dir, const char *name,
			    uint32_t mode, uint32_t uid, uint32_t gid,
			    uint32_t rdev, const struct modalfs_newnode *nn,
			    struct modalfs_iattr *attr);
/* Hands out count (1..MODALFS_INO_RANGE_MAX) inode numbers from *first. */
int modalfs_store_ino_range(struct modalfs_store *st, struct modalfs_txc *tx,
			    uint64_t vol, uint32_t count, uint64_t *first);
int modalfs_store_mkdir(struct modalfs_store *st, struct modalfs_txc *tx,
	uint64_t vol, uint64_t dir,
			const char *name, uint32_t mode, uint32_t uid,
			uint32_t gid, struct modalfs_iattr *attr);
/* modalfs_store_mkdir with the kernel's inode number and times (nn). */
int modalfs_store_mkdir_at(struct modalfs_store *st, struct modalfs_txc *tx,
			   uint64_t vol, uint64_t dir, const char *name,
			   uint32_t mode, uint32_t uid, uint32_t gid,
			   const struct modalfs_newnode *nn,
			   struct modalfs_iattr *attr);
int modalfs_store_symlink(struct modalfs_store *st, struct modalfs_txc *tx,
	uint64_t vol,
			  uint64_t dir, const char *name, const char *target,
			  uint32_t uid, uint32_t gid, struct modalfs_iattr *attr);
/* buf must hold MODALFS_SYMLINK_MAX + 1 bytes; result is NUL-terminated. */
int modalfs_store_readlink(struct modalfs_store *st, uint64_t vol,
			   uint64_t ino, char *buf);
int modalfs_store_link(struct modalfs_store *st, struct modalfs_txc *tx,
	uint64_t vol, uint64_t ino,
		       uint64_t newdir, const char *newname,
		       struct modalfs_iattr *attr);
int modalfs_store_unlink(struct modalfs_store *st, struct modalfs_txc *tx,
	uint64_t vol, uint64_t dir,
			 const char *name);
int modalfs_store_rmdir(struct modalfs_store *st, struct modalfs_txc *tx,
	uint64_t vol, uint64_t dir,
			const char *name);
int modalfs_store_rename(struct modalfs_store *st, struct modalfs_txc *tx,
	uint64_t vol, uint64_t dir,
			 const char *name, uint64_t newdir,
			 const char *newname, uint32_t flags);
/* Reads up to len bytes; *got < len only at end of file. */
int modalfs_store_read(struct modalfs_store *st, uint64_t vol, uint64_t ino,
		       uint64_t off, size_t len, void *buf, size_t *got);
/* attr (may be NULL) gets the inode as this write's transaction left it. */
int modalfs_store_write(struct modalfs_store *st, struct modalfs_txc *tx,
	uint64_t vol, uint64_t ino,
			uint64_t off, const void *buf, size_t len,
			struct modalfs_iattr *attr);
/*
 * The same, then sets sa's mode, owner and times in the same transaction
 * (the kernel's SETATTR that rides on a file's last WRITE); sa may not
 * set SIZE (EINVAL). sa may be NULL.
 */
int modalfs_store_write_attrs(struct modalfs_store *st,
			      struct modalfs_txc *tx, uint64_t vol,
			      uint64_t ino, uint64_t off, const void *buf,
			      size_t len, const struct modalfs_setattr *sa,
			      struct modalfs_iattr *attr);
int modalfs_store_fsync(struct modalfs_store *st, uint64_t vol, uint64_t ino,
			uint32_t flags);
int modalfs_store_evict(struct modalfs_store *st, struct modalfs_txc *tx,
	uint64_t vol, uint64_t ino);

/*
 * Extended attributes (header: MODALFS_XATTR_*). getxattr: buf holds
 * MODALFS_XATTR_SIZE_MAX bytes. listxattr: buf holds MODALFS_XATTR_LIST_MAX
 * bytes and gets the NUL-terminated names. setxattr/removexattr: attr (may
 * be NULL) gets the inode with its new ctime.
 */
int modalfs_store_getxattr(struct modalfs_store *st, uint64_t vol,
			   uint64_t ino, const char *name, void *buf,
			   size_t *len);
int modalfs_store_setxattr(struct modalfs_store *st, struct modalfs_txc *tx,
	uint64_t vol,
			   uint64_t ino, const char *name, const void *val,
			   size_t len, uint32_t flags,
			   struct modalfs_iattr *attr);
int modalfs_store_listxattr(struct modalfs_store *st, uint64_t vol,
			    uint64_t ino, char *buf, size_t *len);
int modalfs_store_removexattr(struct modalfs_store *st, struct modalfs_txc *tx,
	uint64_t vol,
			      uint64_t ino, const char *name,
			      struct modalfs_iattr *attr);
/* 0 for a valid xattr name, else EOPNOTSUPP, EINVAL or ERANGE. */
int modalfs_xattr_name_check(const char *name);
/* 0 for a valid path component, else ENAMETOOLONG or EINVAL. */
int modalfs_store_name_check(const char *name);

/*
 * Duplicate-request cache (header section 2). Before running a
 * non-idempotent request, the caller points its op context (struct
 * modalfs_txc) at a struct modalfs_drc with the request id and where the
 * op's reply values will be (attr, size; NULL when the reply has none).
 * The op's one write transaction then first looks the id up: when found it
 * commits nothing, the op returns MODALFS_DRC_HIT and d->rep holds the
 * remembered reply. Otherwise, if the op succeeds, the reply values are
 * recorded in that same transaction. Failed ops commit nothing and record
 * nothing, so running them again cannot apply anything twice. The cache
 * keeps the 65536 entries recorded last (and up to 512 older ones: it is
 * pruned in steps).
 */
#define MODALFS_DRC_HIT		0x10000	/* never an errno */
#define MODALFS_DRC_ATTR	(1u << 0)
#define MODALFS_DRC_SIZE	(1u << 1)

struct modalfs_drc_reply {
	uint32_t version;
	uint32_t flags;		/* MODALFS_DRC_* */
	uint32_t size;
	uint32_t pad;
	uint64_t fp;
	uint64_t seq;		/* when it was recorded (pruning order) */
	struct modalfs_iattr attr;
};

/*
 * fp fingerprints the request (op, arguments and a WRITE's bytes): a
 * remembered reply is used only for a request with the same id and
 * fingerprint, so an id that repeats for a different request (two module
 * loads that drew the same epoch) runs the op instead of getting another
 * op's reply.
 */
struct modalfs_drc {
	uint64_t req_id;
	uint64_t fp;
	const struct modalfs_iattr *attr;
	const uint32_t *size;
	bool hit;
	struct modalfs_drc_reply rep;
};

/* Tests: keep only max ids instead of 65536 (0: back to 65536). */
void modalfs_store_drc_bound(struct modalfs_store *st, size_t max);

/*
 * Verifies every invariant of every volume of the store in dir, opened
 * read-only (a consistent snapshot even while modalfsd runs). Prints one
 * line per problem to out. Returns the number of problems, or -errno when
 * the store cannot be read at all.
 */
long modalfs_store_check(const char *dir, FILE *out);
/* The same on an open store (tests). */
long modalfs_store_check_open(struct modalfs_store *st, FILE *out);

/* ---- volume lifecycle (ctl) ---- */
/* (owned by the volumes helper; keep the #endif below last) */

/* Apps (protocol header section 5). */
#define MODALFS_BOOT_ID_MAX	36	/* /proc/sys/kernel/random/boot_id */

struct modalfs_appinfo {
	char app_id[MODALFS_APP_ID_MAX + 1];
	char name[MODALFS_VOL_NAME_MAX + 1];	/* "" for an anonymous app */
	int32_t owner_pid;			/* anonymous apps: the owner */
	uint64_t owner_start;			/* its /proc/PID/stat field 22 */
	char boot_id[MODALFS_BOOT_ID_MAX + 1];	/* the boot it ran in */
	int64_t created;
};

typedef int (*modalfs_app_cb)(const struct modalfs_appinfo *ai, void *arg);

/*
 * name != NULL: find or create the named app. name == NULL: a new
 * anonymous app owned by process pid (start, boot_id identify it).
 */
int modalfs_store_app_create(struct modalfs_store *st, const char *name,
			     int32_t pid, uint64_t start, const char *boot_id,
			     struct modalfs_appinfo *out);
/* By app id, else by app name. ENOENT if neither. */
int modalfs_store_app_find(struct modalfs_store *st, const char *id_or_name,
			   struct modalfs_appinfo *out);
int modalfs_store_app_list(struct modalfs_store *st, modalfs_app_cb cb,
			   void *arg);
/* Removes the app record only; its volumes are the caller's business. */
int modalfs_store_app_remove(struct modalfs_store *st, const char *app_id);

/* Volume by name, or every volume, without bytes/files (cheap). */
int modalfs_store_vol_lookup(struct modalfs_store *st, const char *name,
			     struct modalfs_volinfo *out);
int modalfs_store_vol_each(struct modalfs_store *st, modalfs_vol_cb cb,
			   void *arg);
/* A new empty ephemeral volume owned by app app_id; the store names it. */
int modalfs_store_vol_ephemeral(struct modalfs_store *st, const char *app_id,
				struct modalfs_volinfo *out);
/*
 * Deletes volume vol and all its records, at most batch (0: default)
 * records per transaction; the name is free and the id stale after the
 * first one. ENOENT if there is no such volume.
 */
int modalfs_store_vol_delete(struct modalfs_store *st, uint64_t vol,
			     uint32_t batch);
/* Finishes deletions a crash interrupted. */
int modalfs_store_vol_purge_pending(struct modalfs_store *st);

struct modalfs_store_space {
	uint32_t page_size;
	uint64_t map_pages;	/* the map's capacity */
	uint64_t used_pages;	/* high-water mark of the data file */
	uint64_t free_pages;	/* below it, free for reuse (LMDB free list) */
	uint64_t data_bytes;	/* file data in the block store */
};
int modalfs_store_space(struct modalfs_store *st,
			struct modalfs_store_space *sp);

/* Where a control-channel PATH leads (see modalfs_store_path). */
struct modalfs_store_path {
	uint64_t vol;
	uint64_t dir;		/* directory holding the last component */
	char name[MODALFS_NAME_MAX + 1];	/* last component; "" for "/" */
	bool exists;
	struct modalfs_iattr attr;	/* when exists */
};
/*
 * Resolves PATH (absolute; "." and empty components ignored, ".." is
 * EINVAL) in volume volname. Returns 0 with exists false when only the
 * last component is missing; ENOENT (vol 0: no such volume) or ENOTDIR
 * when an earlier one is missing or not a directory.
 */
int modalfs_store_path(struct modalfs_store *st, const char *volname,
		       const char *path, struct modalfs_store_path *out);

#endif
