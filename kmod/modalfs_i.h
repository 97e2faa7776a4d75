/* SPDX-License-Identifier: GPL-2.0 */
/*
 * modalfs internal definitions, shared by the module's sources and by the
 * KUnit module, which compiles the pure-logic files (msg.c, name.c,
 * channel.c) a second time.
 */
#ifndef _MODALFS_I_H
#define _MODALFS_I_H

#include <linux/fs.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/refcount.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/netlink.h>

#include "../netlink/modalfs.h"

#define MODALFS_MAGIC		0x4d4f4453	/* "MODS" */
#define MODALFS_HASH_BITS	8

/* ---- name.c: validation of names that come from users or the daemon ---- */
int modalfs_valid_vol_name(const char *name, size_t len);
int modalfs_valid_file_name(const char *name, size_t len);
int modalfs_parse_source(const char *src, char *vol, size_t volsz,
			 const char **path);

/* ---- msg.c: encoding requests and decoding replies ---- */
extern const struct nla_policy modalfs_genl_policy[MODALFS_A_MAX + 1];
extern const struct nla_policy modalfs_attr_policy[MODALFS_ATTR_MAX + 1];
extern const struct nla_policy modalfs_statfs_policy[MODALFS_STATFS_MAX + 1];
extern const struct nla_policy modalfs_dirent_policy[MODALFS_DIRENT_MAX + 1];

/* Decoded MODALFS_A_ATTR. */
struct modalfs_attr_val {
	u64 ino;
	u32 mode;
	u32 nlink;
	u32 uid;
	u32 gid;
	u32 rdev;
	u64 size;
	u64 blocks;
	struct timespec64 atime;
	struct timespec64 mtime;
	struct timespec64 ctime;
};

struct modalfs_statfs_val {
	u32 bsize;
	u64 blocks, bfree, bavail, files, ffree;
	u32 namelen;
};

struct modalfs_dirent_val {
	u64 ino;
	u64 cookie;
	u32 type;
	const char *name;
	size_t namelen;
	const struct nlattr *attr;	/* READDIRPLUS, or NULL */
};

/*
 * What the caller knows about a valid answer; checked when the reply
 * arrives so that a malformed one completes the request with EIO.
 */
struct modalfs_expect {
	u32 size;	/* READ: max bytes; READDIR: max entries; WRITE: bytes */
	u64 ino;	/* ATTR must describe this inode (0: any) */
	u32 type;	/* ATTR's S_IFMT must be this (0: any valid type) */
	u64 offset;	/* READDIR: cookies must be above this */
	u64 dir_ino;	/* DIR_ATTR must describe this directory (0: any) */
	u64 new_dir_ino; /* ... NEW_DIR_ATTR this one (0: any) */
};

int modalfs_msg_init(struct sk_buff *skb, int family_id, u8 cmd, u64 id,
		     u32 op);
int modalfs_msg_parse(const struct nlmsghdr *nlh, struct nlattr **tb,
		      struct netlink_ext_ack *extack);
int modalfs_put_u64(struct sk_buff *skb, int type, u64 v);
int modalfs_put_name(struct sk_buff *skb, int type, const char *name,
		     size_t len);
int modalfs_attr_decode(const struct nlattr *nest, struct modalfs_attr_val *v);
int modalfs_statfs_decode(const struct nlattr *nest,
			  struct modalfs_statfs_val *v);
int modalfs_dirent_decode(const struct nlattr *nest,
			  struct modalfs_dirent_val *v);
int modalfs_reply_check(u32 op, const struct modalfs_expect *exp,
			struct nlattr **tb, const struct nlattr *head,
			int len);
bool modalfs_mode_valid(u32 mode);
size_t modalfs_data_space(size_t len);
int modalfs_put_data(struct sk_buff *skb, const void *buf, size_t len);
int modalfs_put_data_pages(struct sk_buff *skb, struct page **src,
			   size_t len, gfp_t gfp);
size_t modalfs_get_data(const struct nlattr *head, int len, void *buf,
			size_t size);
ssize_t modalfs_xattr_result(size_t have, size_t bufsize);
bool modalfs_xattr_name_ok(const char *name);
ssize_t modalfs_xattr_list_filter(char *list, size_t len, bool trusted);
u64 modalfs_dir_pos_to_offset(loff_t pos);
bool modalfs_dir_reply_covers(u64 req_off, u64 last, bool eof, u64 off);
u64 modalfs_dir_reply_last(const struct nlattr *head, int len, u64 dflt);
int modalfs_dir_emit_reply(struct dir_context *ctx, const struct nlattr *head,
			   int len);

/* ---- channel.c: the table of requests waiting for the daemon ---- */
enum modalfs_req_state {
	MODALFS_REQ_NEW,	/* built, not submitted */
	MODALFS_REQ_QUEUED,	/* in the table, not sent to a live daemon */
	MODALFS_REQ_SENT,	/* in the table, sent to daemon generation gen */
	MODALFS_REQ_REPLYING,	/* out of the table, result being stored */
	MODALFS_REQ_DONE,	/* result stored, waiter may look */
	MODALFS_REQ_ABANDONED,	/* caller gave up; removed from the table */
};

struct modalfs_chan;
struct modalfs_req;
typedef void (*modalfs_end_t)(struct modalfs_req *req);

/*
 * What the channel knows about one mounted volume (one superblock): its
 * mount options and whether its requests may still reach the daemon.
 * Refcounted: requests and the sysfs directory outlive the superblock.
 */
struct modalfs_conn {
	refcount_t ref;
	u64 vol_id;
	unsigned int timeo;		/* seconds, 1..3600 */
	bool soft;			/* requests fail with EIO after timeo */
	bool sync_dirops;		/* -o sync_dirops: no dirops.c */
	bool nodirfill;			/* -o nodirfill: lookups never list */
	bool aborted;			/* under chan->lock: new requests EIO */
	bool gone;			/* under chan->lock: new requests ESTALE */
	/*
	 * Under chan->lock: unmounted with no daemon; asynchronous
	 * requests that change the volume complete for their caller at
	 * once and wait in the table for the next daemon (kill_sb).
	 */
	bool detached;
	int waiting;			/* under chan->lock: requests in table */
	/*
	 * Bumped whenever the volume changed in a way the caches did not
	 * follow (modalfs_conn_inval); dentries and inodes remember the
	 * value they were checked at and revalidate when it moved on.
	 */
	atomic_t inval;
};

#define MODALFS_TIMEO_DEFAULT	60
#define MODALFS_TIMEO_MAX	3600
/* Requests in the table beyond which synchronous callers wait. */
#define MODALFS_MAX_INFLIGHT	1024
/*
 * Units of asynchronous requests beyond which background writeback and
 * readahead wait (FUSE's max_background). A READ or WRITE weighs one unit
 * per MODALFS_BG_UNIT bytes, any other request one: at most 16 MiB of
 * file data in flight (16 full 1 MiB WRITEs), which is also twice what
 * the daemon's socket buffer takes before sends have to retry; a cap by
 * count alone would allow 64 MiB once requests grew to 1 MiB.
 */
#define MODALFS_MAX_BACKGROUND	64
#define MODALFS_BG_UNIT		(256 * 1024)
/* A volume's share of the dirty threshold, in percent (super.c). */
#define MODALFS_BDI_MAX_RATIO	10
/*
 * sync(2) keeps up to this many times max_background units of WRITEs in
 * flight (64 MiB by default, as NFS's 64 slots of 1 MiB): it waits for
 * them all at the end anyway (modalfs_chan_wait_background).
 */
#define MODALFS_SYNC_WINDOW	4
/* Readahead window of a volume (bdi ra_pages): 4 READs of IO_MAX. */
#define MODALFS_RA_BYTES	(4 * MODALFS_IO_MAX)

struct modalfs_req {
	struct hlist_node hnode;	/* chan->table, by id */
	struct list_head lnode;		/* chan->reqs, submission order */
	refcount_t ref;
	u64 id;
	u32 op;
	u32 gen;			/* daemon generation last sent to */
	int state;
	int error;			/* result: 0 or -errno */
	struct modalfs_chan *chan;
	struct sk_buff *msg;		/* the request, cloned per send */
	struct sk_buff *reply;		/* keeps tb/head pointers valid */
	struct nlattr *tb[MODALFS_A_MAX + 1];
	const struct nlattr *head;	/* all reply attributes, in order */
	int len;
	struct modalfs_expect exp;
	wait_queue_head_t waitq;
	modalfs_end_t end;		/* async completion, or NULL */
	void *priv;
	struct modalfs_conn *conn;	/* the volume's, or NULL (MOUNT...) */
	unsigned long deadline;		/* jiffies; soft mounts only */
	unsigned long queued_at;	/* jiffies at submission (debugfs) */
	unsigned long sent_at;		/* jiffies when last sent to a daemon */
	u64 submit_ns;			/* ktime_get_ns() at submission (stats) */
	bool slow_warned;		/* "not answering" was logged for it */
	u64 ino;			/* for debugfs only; 0 if none */
	/*
	 * Background writeback: fails with ENOTCONN instead of waiting for
	 * a daemon that is not (or no longer) registered.
	 */
	bool background;
	bool async;			/* submitted by modalfs_req_async* */
	/* Weight in chan->nbackground while async; 1 unless a big READ/WRITE. */
	unsigned int bg_units;
	bool deferrable;		/* ... by modalfs_req_async_try */
	/* Its caller was killed while the daemon had it (channel.c). */
	bool orphan;
};

struct modalfs_chan {
	spinlock_t lock;
	struct hlist_head table[1 << MODALFS_HASH_BITS];
	struct list_head reqs;
	atomic64_t next_id;
	u32 portid;
	const void *sk;			/* the daemon's socket, with portid */
	u32 gen;			/* bumped at every registration */
	bool connected;
	bool dead;
	int family_id;
	/* Sends one copy of skb to portid; consumes nothing. */
	int (*send)(struct modalfs_chan *chan, struct sk_buff *skb, u32 portid);
	struct work_struct resend_work;
	unsigned int inflight;		/* requests in the table */
	unsigned int max_inflight;
	unsigned int nsoft;		/* of those, with a deadline */
	unsigned int nbackground;	/* of those, asynchronous */
	unsigned int max_background;
	/* callers waiting for inflight < max, or nbackground < max */
	wait_queue_head_t slotq;
	wait_queue_head_t regq;		/* callers waiting for a daemon */
	/* Fails soft requests; logs hard ones the daemon sits on. */
	struct delayed_work expire_work;
};

struct seq_file;
void modalfs_chan_show(struct modalfs_chan *chan, struct seq_file *m);
void modalfs_chan_init(struct modalfs_chan *chan,
		       int (*send)(struct modalfs_chan *, struct sk_buff *,
				   u32));
struct modalfs_req *modalfs_req_new(struct modalfs_chan *chan, u32 op,
				    size_t payload, gfp_t gfp);
void modalfs_req_get(struct modalfs_req *req);
void modalfs_req_put(struct modalfs_req *req);
int modalfs_req_submit(struct modalfs_req *req);
int modalfs_req_wait(struct modalfs_req *req);
int modalfs_req_call(struct modalfs_req *req);
void modalfs_req_async(struct modalfs_req *req, modalfs_end_t end, void *priv);
int modalfs_req_async_try(struct modalfs_req *req, modalfs_end_t end,
			  void *priv);
void modalfs_chan_wait_background(struct modalfs_chan *chan);
void modalfs_conn_inval(struct modalfs_conn *conn);
int modalfs_chan_wait_daemon(struct modalfs_chan *chan, long timeout);
int modalfs_chan_complete(struct modalfs_chan *chan, struct sk_buff *skb,
			  const struct nlmsghdr *nlh, struct nlattr **tb);
int modalfs_chan_fail(struct modalfs_chan *chan, u64 id);
int modalfs_chan_register(struct modalfs_chan *chan, u32 portid);
int modalfs_chan_register_sk(struct modalfs_chan *chan, u32 portid,
			     const void *sk);
bool modalfs_chan_is_daemon_sk(struct modalfs_chan *chan, u32 portid,
			       const void *sk);
void modalfs_chan_release(struct modalfs_chan *chan, u32 portid);
void modalfs_chan_resend(struct modalfs_chan *chan);
void modalfs_chan_shutdown(struct modalfs_chan *chan);
bool modalfs_chan_connected(struct modalfs_chan *chan);
struct modalfs_req *modalfs_chan_find(struct modalfs_chan *chan, u64 id);
bool modalfs_chan_is_daemon(struct modalfs_chan *chan, u32 portid);
unsigned int modalfs_chan_expire(struct modalfs_chan *chan, unsigned long now);
unsigned int modalfs_chan_warn_slow(struct modalfs_chan *chan,
				    unsigned long now);
unsigned int modalfs_conn_fail(struct modalfs_chan *chan,
			       struct modalfs_conn *conn, int error);
unsigned int modalfs_conn_detach(struct modalfs_chan *chan,
				 struct modalfs_conn *conn);
unsigned int modalfs_conn_fail_waiting(struct modalfs_chan *chan,
				       struct modalfs_conn *conn, int error);
struct modalfs_conn *modalfs_conn_new(u64 vol_id, bool soft,
				      unsigned int timeo);
void modalfs_conn_get(struct modalfs_conn *conn);
void modalfs_conn_put(struct modalfs_conn *conn);
void modalfs_req_set_conn(struct modalfs_req *req, struct modalfs_conn *conn);

/* ---- stats.c: debugfs modalfs/stats ---- */
void modalfs_stats_sent(struct modalfs_req *req);
void modalfs_stats_answered(struct modalfs_req *req, int error);
void modalfs_stats_avoided(void);
void modalfs_stats_fill(unsigned int batches);
void modalfs_stats_evict_batch(unsigned int n);
void modalfs_stats_async_queued(void);
void modalfs_stats_stable(void);
bool modalfs_stats_async_take(int max);
void modalfs_stats_async_put(void);
void modalfs_stats_show(struct seq_file *m);

int modalfs_req_cache_init(void);
void modalfs_req_cache_exit(void);

/* ---- netlink.c ---- */
extern struct modalfs_chan modalfs_chan;
int modalfs_netlink_init(void);
void modalfs_netlink_exit(void);

/* ---- filesystem ---- */
struct modalfs_sb_info {
	u64 vol_id;
	char vol_name[MODALFS_VOL_NAME_MAX + 1];
	bool dying;			/* kill_sb is running */
	/*
	 * sync_fs's pass that sends the times sync(2) deferred runs
	 * (sync_times), its asynchronous SETATTRs in flight (meta_async,
	 * meta_wq), and their inodes to iput (meta.c).
	 */
	atomic_t sync_times;
	atomic_t meta_async;
	wait_queue_head_t meta_wq;
	struct llist_head meta_iputs;
	struct work_struct meta_iput_work;
	spinlock_t lock;
	struct modalfs_statfs_val statfs;	/* last answer, under lock */
	struct modalfs_conn *conn;	/* options, abort and gone state */
	struct super_block *sb;
	struct list_head vol_node;	/* modalfs_volumes, for NOTIFY */
	struct kobject *kobj;		/* /sys/fs/modalfs/volumes/<VOL_ID> */
	atomic_t notified;		/* NOTIFYs for the volume (complete.c) */
	atomic_t dirops;		/* asynchronous dirops in flight */
	/* Inode numbers for asynchronous creates, under lock (dirops.c). */
	u64 ino_next, ino_end;
	/*
	 * Unlinked inodes whose EVICT is queued (evict.c), under
	 * evict_lock; evict_busy while an EVICT is being sent or answered.
	 */
	spinlock_t evict_lock;
	bool evict_busy;
	unsigned int evict_n;
	u64 evict_inos[MODALFS_EVICT_MAX];
	struct work_struct evict_work;
};

/* Inode numbers asked for at a time (INO_RANGE). */
#define MODALFS_INO_BATCH	1024

/* modalfs_inode_info.flags */
#define MODALFS_I_STALE		0	/* cached attributes need a GETATTR */
/*
 * This kernel created the inode and no xattr was set since: GETXATTR and
 * LISTXATTR are answered without asking (xattr.c). Cleared by SETXATTR,
 * REMOVEXATTR, a NOTIFY for the inode and a move of conn->inval.
 */
#define MODALFS_I_NOXATTR	1
/*
 * Attribute changes applied locally and not yet sent: write_inode sends
 * them with the times (inode.c, super.c).
 */
#define MODALFS_I_DIRTY_MODE	2
#define MODALFS_I_DIRTY_UID	3
#define MODALFS_I_DIRTY_GID	4
/*
 * A regular file this kernel created whose attributes were never written
 * back: the daemon holds no more of it than the creation, so a chmod that
 * narrows access may wait for write_inode without exposing anything to
 * other readers of the daemon (modalfsctl).
 */
#define MODALFS_I_NEW		5
#define MODALFS_I_PENDING \
	(BIT(MODALFS_I_DIRTY_MODE) | BIT(MODALFS_I_DIRTY_UID) | \
	 BIT(MODALFS_I_DIRTY_GID))
/*
 * The daemon's attributes would only refine what the kernel set itself
 * (a directory's times after an op it sent, a written file's size and
 * mtime): fetched at the next getattr while a daemon is registered, but
 * never waited for, so umount(8)'s stat of the mount point does not hang
 * while the daemon restarts.
 */
#define MODALFS_I_REFRESH	6
/*
 * A message carrying the inode's times and pending chmod/chown is in
 * flight (write_inode's SETATTR, or a WRITE that carries them, addr.c):
 * one at a time, so the daemon applies them in the order they were read.
 */
#define MODALFS_I_META_BUSY	7
/*
 * This kernel's asynchronous CREATE of the inode is in flight
 * (dirops.c): its removal must not be asynchronous too.
 */
#define MODALFS_I_CREATING	8
/*
 * Directories (dir.c, modalfs_dir_fill): a lookup is listing the
 * directory to make it complete (one at a time, never waited for); the
 * directory was too big to list on a lookup, so lookups stay per name.
 */
#define MODALFS_I_FILLING	9
#define MODALFS_I_NOFILL	10

struct modalfs_inode_info {
	struct inode vfs_inode;
	char *link;			/* symlink target once known */
	unsigned long flags;		/* MODALFS_I_* bits */
	/* conn->inval when the attributes were last known good */
	unsigned int inval_seen;
	/*
	 * modalfs_attr_version when the kernel last changed size or data
	 * (FUSE's attr_version): a GETATTR answer asked for before that
	 * must not overwrite them.
	 */
	u64 attr_version;
	/*
	 * Directories (complete.c): the names of a complete directory, or
	 * NULL, and a count of local changes of its entries; both under
	 * names_lock.
	 */
	spinlock_t names_lock;
	struct modalfs_names *names;
	u64 dir_version;
	/*
	 * Local changes of the times, mode and owner that write_inode would
	 * send count up meta_seq (modalfs_meta_changed); meta_sent is the
	 * count the last message that carried them was built at, once the
	 * daemon applied it. Equal and nothing pending: nothing to send.
	 */
	atomic_t meta_seq;
	int meta_sent;
	/*
	 * WRITEs of the inode being built or in flight (addr.c): counted
	 * from before their first page is under writeback until their end.
	 */
	atomic_t writes;
	/* Asynchronous ops on this directory's entries in flight. */
	atomic_t dirops;
	atomic_t removes;		/* ... of them UNLINK and RMDIR */
	/* LOOKUPs sent for names of this directory (modalfs_dir_fill). */
	atomic_t lookups;
};

static inline struct modalfs_sb_info *MODALFS_SB(struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline struct modalfs_inode_info *MODALFS_I(struct inode *inode)
{
	return container_of(inode, struct modalfs_inode_info, vfs_inode);
}

/* After the new values are stored, before the inode is marked dirty. */
static inline void modalfs_meta_changed(struct inode *inode)
{
	smp_mb__before_atomic();
	atomic_inc(&MODALFS_I(inode)->meta_seq);
}

/* Before the values are read into a message. */
static inline int modalfs_meta_seq(struct inode *inode)
{
	int seq = atomic_read(&MODALFS_I(inode)->meta_seq);

	smp_rmb();
	return seq;
}

static inline void modalfs_meta_sent(struct inode *inode, int seq)
{
	WRITE_ONCE(MODALFS_I(inode)->meta_sent, seq);
}

static inline bool modalfs_meta_unsent(struct inode *inode)
{
	struct modalfs_inode_info *mi = MODALFS_I(inode);

	return (READ_ONCE(mi->flags) & MODALFS_I_PENDING) ||
	       atomic_read(&mi->meta_seq) != READ_ONCE(mi->meta_sent);
}

/*
 * The daemon said the volume was deleted (MODALFS_NOTIFY_VOL_GONE): every
 * operation on the superblock fails with ESTALE, cached answers included.
 */
static inline bool modalfs_sb_gone(struct super_block *sb)
{
	return READ_ONCE(MODALFS_SB(sb)->conn->gone);
}

/* complete.c */
struct modalfs_names;
unsigned int modalfs_dir_epoch(struct super_block *sb);
struct modalfs_names *modalfs_names_new(unsigned int epoch);
int modalfs_names_add(struct modalfs_names *n, const char *name, size_t len);
void modalfs_names_free(struct modalfs_names *n);
bool modalfs_dir_absent(struct inode *dir, const struct qstr *name);
u64 modalfs_dir_version(struct inode *dir);
void modalfs_dir_install(struct inode *dir, struct modalfs_names *n,
			 u64 version);
void modalfs_dir_made(struct inode *dir, unsigned int epoch);
void modalfs_dir_add(struct inode *dir, const struct qstr *q);
void modalfs_dir_del(struct inode *dir, const struct qstr *q);
void modalfs_dir_forget(struct inode *dir);
void modalfs_dir_op_failed(struct inode *dir, const struct qstr *name,
			   int err);
void modalfs_dir_evict(struct inode *dir);
bool modalfs_dir_complete(struct inode *dir);
bool modalfs_dir_known_empty(struct inode *dir);
int modalfs_names_collect(struct modalfs_names *n, const struct nlattr *head,
			  int len);

/* dirops.c */
int modalfs_dirops_init(void);
void modalfs_dirops_exit(void);
struct modalfs_dirop;
bool modalfs_dirop_may_async(struct inode *dir);

/* evict.c */
void modalfs_evict_init(struct modalfs_sb_info *sbi);

/* meta.c */
void modalfs_meta_init(struct modalfs_sb_info *sbi);
int modalfs_write_inode(struct inode *inode, struct writeback_control *wbc);
int modalfs_meta_sync(struct super_block *sb);
int modalfs_meta_wait(struct super_block *sb);
bool modalfs_evict_queue(struct super_block *sb, u64 ino);
void modalfs_evict_drain(struct modalfs_sb_info *sbi);
bool modalfs_dirop_may_remove_async(struct inode *victim, bool *fence);
bool modalfs_dirop_may_create_async(struct inode *dir,
				    const struct qstr *name);
struct modalfs_dirop *modalfs_dirop_begin(void);
void modalfs_dirop_cancel(struct modalfs_dirop *op);
void modalfs_dirop_commit(struct modalfs_dirop *op, struct inode *dir,
			  struct inode *inode, struct modalfs_req *req);
int modalfs_dirop_send(struct inode *dir, struct modalfs_req *req,
		       bool fence);
int modalfs_ino_take(struct super_block *sb, u64 *ino);
void modalfs_dirops_drain(struct super_block *sb);

/* notify.c */
struct genl_info;
int modalfs_nl_notify(struct sk_buff *skb, struct genl_info *info);
int modalfs_nl_check_daemon(struct sk_buff *skb, struct genl_info *info);
int modalfs_revalidate_inode(struct inode *inode);
void modalfs_notify_sb(struct super_block *sb, u32 what, u64 ino,
		       const char *name, size_t len);
/* super.c */
int modalfs_notify_volume(u64 vol_id, u32 what, u64 ino, const char *name,
			  size_t len);
int modalfs_sysfs_init(void);
void modalfs_sysfs_exit(void);

/* Request for an inode's volume with VOL_ID (and INO when ino != 0). */
struct modalfs_req *modalfs_new_req(struct super_block *sb, u32 op, u64 ino,
				    size_t payload);

extern const struct dentry_operations modalfs_dentry_ops;
extern const struct inode_operations modalfs_dir_iops;
extern const struct file_operations modalfs_dir_fops;
extern const struct inode_operations modalfs_file_iops;
extern const struct file_operations modalfs_file_fops;
extern const struct inode_operations modalfs_symlink_iops;
extern const struct inode_operations modalfs_special_iops;
extern const struct address_space_operations modalfs_aops;
extern struct file_system_type modalfs_fs_type;

void modalfs_attr_changed(struct inode *inode);
u64 modalfs_attr_version_now(void);
int modalfs_inode_cache_init(void);
void modalfs_inode_cache_exit(void);
struct inode *modalfs_alloc_inode(struct super_block *sb);
void modalfs_free_inode(struct inode *inode);
struct inode *modalfs_iget(struct super_block *sb,
			   const struct modalfs_attr_val *v, bool must_be_new);
void modalfs_attr_to_inode(struct inode *inode,
			   const struct modalfs_attr_val *v);
void modalfs_attr_blocks_to_inode(struct inode *inode,
				  const struct nlattr *nest);
int modalfs_req_call_attr(struct modalfs_req *req, struct modalfs_attr_val *v);
int modalfs_getattr(struct user_namespace *mnt_userns, const struct path *path,
		    struct kstat *stat, u32 request_mask, unsigned int flags);
int modalfs_setattr(struct user_namespace *mnt_userns, struct dentry *dentry,
		    struct iattr *attr);
int modalfs_update_time(struct inode *inode, struct timespec64 *time,
			int flags);
int modalfs_put_times(struct sk_buff *skb, struct inode *inode);
unsigned long modalfs_take_pending(struct inode *inode);
void modalfs_restore_pending(struct inode *inode, unsigned long pending);
int modalfs_put_inode_setattr(struct sk_buff *skb, struct inode *inode,
			      unsigned long pending);
void modalfs_meta_unlock(struct inode *inode);
int modalfs_put_ts(struct sk_buff *skb, int sec, int nsec,
		   const struct timespec64 *ts);

extern const struct xattr_handler *modalfs_xattr_handlers[];
ssize_t modalfs_listxattr(struct dentry *dentry, char *buffer, size_t size);

int modalfs_write_folio_sync(struct folio *folio);
int modalfs_write_stable(struct inode *inode, loff_t start, loff_t end);
extern atomic_t modalfs_fail_write_alloc;
int modalfs_fsync(struct file *file, loff_t start, loff_t end, int datasync);

#endif /* _MODALFS_I_H */
