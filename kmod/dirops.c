// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous directory operations (issue 11), in CephFS's style. In a
 * complete directory (complete.c) the outcome of an UNLINK is known here
 * before the daemon answers: the name exists (the VFS holds its positive
 * dentry) and nothing else changes the directory behind this kernel's
 * back. So is that of the RMDIR of a directory that is itself complete
 * and empty, and that of creating a regular file or a directory whose
 * name the directory lacks (dir.c, with an inode number from a range the
 * daemon handed out). Such an op changes the caches, queues its request
 * and returns to the caller; the reply only confirms.
 *
 * Order: the request carries MODALFS_A_ASYNC, and the daemon runs
 * everything this kernel sends later after it (netlink/modalfs.h section
 * 3b), so no later request - a LOOKUP or CREATE of the same name, the
 * EVICT of the unlinked inode, an FSYNC - can overtake it. Asynchronous
 * requests may run in parallel with each other, so one that depends on
 * an earlier one still in flight also carries MODALFS_A_FENCE, which
 * makes the daemon run it after every earlier one: a create inside a
 * directory whose MKDIR is in flight, the removal of an inode whose own
 * CREATE or MKDIR is in flight (MODALFS_I_CREATING), and the RMDIR of a
 * directory whose entries' asynchronous removals are in flight (rm -rf
 * then never waits for the daemon).
 *
 * Errors only the daemon can see (EIO from its store, a soft mount's
 * timeout, ...) are reported like writeback errors: mapping_set_error()
 * on the directory, so the next fsync(2) of the directory and syncfs(2)
 * of the volume return them. The caches applied an outcome that did not
 * happen, so the volume's caches are invalidated (modalfs_conn_inval):
 * names are looked up again, complete sets are void, and later ops on
 * the directory are synchronous until it is listed again.
 *
 * They stay synchronous with -o sync_dirops, in a directory that is not
 * complete, for the RMDIR of a directory not known to be empty, while
 * MODALFS_MAX_DIROPS of them are in flight, and for symlinks, device
 * nodes, fifos, sockets, links and renames. Without a daemon they are
 * queued like writeback (the kernel
 * keeps them and sends them, in order, to the next daemon; the directory
 * stays complete until then, because only a registration moves its
 * epoch), so rm -rf goes on while modalfsd restarts.
 *
 * Each request holds a reference to its directory, whose errseq and
 * count it updates at the reply; unmount waits for them (kill_sb).
 */
#include <linux/fs.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>

#include "modalfs_i.h"

struct modalfs_dirop {
	struct work_struct work;
	struct inode *dir;
	struct inode *inode;	/* CREATE, MKDIR: the new inode; else NULL */
};

/*
 * In flight on all volumes, at most MODALFS_MAX_DIROPS (counted in
 * stats.c): beyond that they would crowd synchronous callers out of the
 * request table.
 */
#define MODALFS_MAX_DIROPS	1024

/* For the last iput of an inode, which must not run in a reply. */
static struct workqueue_struct *modalfs_dirop_wq;

int modalfs_dirops_init(void)
{
	modalfs_dirop_wq = alloc_workqueue("modalfs_dirop", WQ_UNBOUND, 0);
	return modalfs_dirop_wq ? 0 : -ENOMEM;
}

void modalfs_dirops_exit(void)
{
	destroy_workqueue(modalfs_dirop_wq);
}

/* A slot for one asynchronous op, or NULL: do it synchronously. */
struct modalfs_dirop *modalfs_dirop_begin(void)
{
	struct modalfs_dirop *op;

	if (!modalfs_stats_async_take(MODALFS_MAX_DIROPS))
		return NULL;
	op = kzalloc(sizeof(*op), GFP_NOFS);
	if (!op)
		modalfs_stats_async_put();
	return op;
}

void modalfs_dirop_cancel(struct modalfs_dirop *op)
{
	kfree(op);
	modalfs_stats_async_put();
}

static void modalfs_dirop_free(struct modalfs_dirop *op)
{
	struct modalfs_sb_info *sbi = MODALFS_SB(op->dir->i_sb);

	kfree(op);
	modalfs_stats_async_put();
	if (atomic_dec_and_test(&sbi->dirops))
		wake_up_var(&sbi->dirops);
}

static void modalfs_dirop_iput_work(struct work_struct *work)
{
	struct modalfs_dirop *op = container_of(work, struct modalfs_dirop,
						work);
	struct inode *dir = op->dir, *inode = op->inode;

	modalfs_dirop_free(op);
	iput(inode);
	iput(dir);
}

/* Drops a reference unless it is the last one; true if it did. */
static bool modalfs_iput_not_last(struct inode *inode)
{
	return !inode || atomic_add_unless(&inode->i_count, -1, 1);
}

static const char *modalfs_dirop_name(u32 op)
{
	switch (op) {
	case MODALFS_OP_CREATE:
		return "create";
	case MODALFS_OP_MKDIR:
		return "mkdir";
	case MODALFS_OP_RMDIR:
		return "rmdir";
	default:
		return "unlink";
	}
}

/* The reply (or a detached volume's fake 0): runs in the daemon's send. */
static void modalfs_dirop_end(struct modalfs_req *req)
{
	struct modalfs_dirop *op = req->priv;
	struct inode *dir = op->dir, *inode = op->inode;

	if (req->error) {
		pr_warn_ratelimited("modalfs: asynchronous %s in directory %lu failed with error %d; reported at the next fsync\n",
				    modalfs_dirop_name(req->op), dir->i_ino,
				    req->error);
		mapping_set_error(dir->i_mapping, req->error);
		/* The file was never created: its fsync and writeback fail. */
		if (inode)
			mapping_set_error(inode->i_mapping, req->error);
		/* Moves the epoch, which voids dir's set (and every other). */
		modalfs_conn_inval(MODALFS_SB(dir->i_sb)->conn);
	}
	if (inode) {
		clear_bit(MODALFS_I_CREATING, &MODALFS_I(inode)->flags);
	} else {
		atomic_dec(&MODALFS_I(dir)->removes);
	}
	atomic_dec(&MODALFS_I(dir)->dirops);
	/*
	 * A last reference would evict the inode here, in the daemon's
	 * sendmsg; that is left to a worker (as ceph_async_iput).
	 */
	if (modalfs_iput_not_last(inode)) {
		op->inode = NULL;
		if (modalfs_iput_not_last(dir)) {
			modalfs_dirop_free(op);
			return;
		}
	}
	INIT_WORK(&op->work, modalfs_dirop_iput_work);
	queue_work(modalfs_dirop_wq, &op->work);
}

/* Do the mount options and the connection allow asynchronous ops? */
static bool modalfs_dirop_allowed(struct inode *dir)
{
	struct modalfs_conn *conn = MODALFS_SB(dir->i_sb)->conn;

	return !READ_ONCE(conn->sync_dirops) && !READ_ONCE(conn->aborted) &&
	       !READ_ONCE(conn->gone);
}

/* May an op naming an entry of dir be asynchronous? */
bool modalfs_dirop_may_async(struct inode *dir)
{
	return modalfs_dirop_allowed(dir) && modalfs_dir_complete(dir);
}

/*
 * May the entry of victim be removed asynchronously? A directory only if
 * it is known empty. *fence: the request must carry MODALFS_A_FENCE,
 * because it depends on an asynchronous request still in flight that
 * the daemon could otherwise run after it: victim's own CREATE or MKDIR,
 * or, for a directory, the ops on its entries that emptied it (rm -rf).
 * victim's inode lock, which the VFS holds, keeps new ones out of it.
 */
bool modalfs_dirop_may_remove_async(struct inode *victim, bool *fence)
{
	*fence = test_bit(MODALFS_I_CREATING, &MODALFS_I(victim)->flags);
	if (!S_ISDIR(victim->i_mode))
		return true;
	if (!modalfs_dir_known_empty(victim))
		return false;
	if (atomic_read(&MODALFS_I(victim)->dirops))
		*fence = true;
	return true;
}

/*
 * May a name be created in dir asynchronously? Not while an asynchronous
 * UNLINK or RMDIR in dir is in flight: it may be of the same name.
 */
bool modalfs_dirop_may_create_async(struct inode *dir,
				    const struct qstr *name)
{
	/* dir_absent is false unless dir is complete. */
	return !atomic_read(&MODALFS_I(dir)->removes) &&
	       modalfs_dirop_allowed(dir) && modalfs_dir_absent(dir, name);
}

/*
 * Sends req, which carries MODALFS_A_ASYNC, without waiting, for an op
 * on an entry of dir; inode is the inode a CREATE makes (NULL for a
 * removal). Consumes op and req.
 */
void modalfs_dirop_commit(struct modalfs_dirop *op, struct inode *dir,
			  struct inode *inode, struct modalfs_req *req)
{
	struct modalfs_sb_info *sbi = MODALFS_SB(dir->i_sb);

	ihold(dir);
	op->dir = dir;
	if (inode) {
		ihold(inode);
		op->inode = inode;
		set_bit(MODALFS_I_CREATING, &MODALFS_I(inode)->flags);
	} else {
		atomic_inc(&MODALFS_I(dir)->removes);
	}
	atomic_inc(&MODALFS_I(dir)->dirops);
	atomic_inc(&sbi->dirops);
	modalfs_stats_async_queued();
	/* An aborted volume's request ends at once, with its error. */
	modalfs_req_async(req, modalfs_dirop_end, op);
}

/*
 * Queues req (an UNLINK or RMDIR of an entry of dir) without waiting,
 * with FENCE if fence: 0 and req is consumed, or an error and req is the
 * caller's to send synchronously.
 */
int modalfs_dirop_send(struct inode *dir, struct modalfs_req *req,
		       bool fence)
{
	struct modalfs_dirop *op = modalfs_dirop_begin();

	if (!op)
		return -EBUSY;
	if (nla_put_flag(req->msg, MODALFS_A_ASYNC) ||
	    (fence && nla_put_flag(req->msg, MODALFS_A_FENCE))) {
		modalfs_dirop_cancel(op);
		return -ENOMEM;
	}
	modalfs_dirop_commit(op, dir, NULL, req);
	return 0;
}

/*
 * An inode number for a file created asynchronously on sb, from the range
 * the daemon last handed out (INO_RANGE); an empty range is refilled
 * with a synchronous request.
 */
int modalfs_ino_take(struct super_block *sb, u64 *ino)
{
	struct modalfs_sb_info *sbi = MODALFS_SB(sb);
	struct modalfs_req *req;
	u64 first;
	int err;

	spin_lock(&sbi->lock);
	if (sbi->ino_next < sbi->ino_end) {
		*ino = sbi->ino_next++;
		spin_unlock(&sbi->lock);
		return 0;
	}
	spin_unlock(&sbi->lock);

	req = modalfs_new_req(sb, MODALFS_OP_INO_RANGE, 0, 16);
	if (IS_ERR(req))
		return PTR_ERR(req);
	if (nla_put_u32(req->msg, MODALFS_A_SIZE, MODALFS_INO_BATCH)) {
		modalfs_req_put(req);
		return -ENOMEM;
	}
	req->exp.size = MODALFS_INO_BATCH;
	err = modalfs_req_call(req);
	if (!err)
		first = nla_get_u64(req->tb[MODALFS_A_INO]);
	modalfs_req_put(req);
	if (err)
		return err;
	spin_lock(&sbi->lock);
	/* A concurrent refill's numbers are simply not used. */
	sbi->ino_next = first + 1;
	sbi->ino_end = first + MODALFS_INO_BATCH;
	spin_unlock(&sbi->lock);
	*ino = first;
	return 0;
}

/*
 * kill_sb: every asynchronous op's reply has run. Without a daemon the
 * requests are detached (kill_sb's comment): their callbacks run now and
 * the requests wait in the table for the next daemon.
 */
void modalfs_dirops_drain(struct super_block *sb)
{
	struct modalfs_sb_info *sbi = MODALFS_SB(sb);

	while (atomic_read(&sbi->dirops)) {
		if (!modalfs_chan_connected(&modalfs_chan))
			modalfs_conn_detach(&modalfs_chan, sbi->conn);
		wait_var_event_timeout(&sbi->dirops,
				       !atomic_read(&sbi->dirops), HZ);
	}
	flush_workqueue(modalfs_dirop_wq);
}
