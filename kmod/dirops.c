// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous directory operations (issue 11), in CephFS's style. In a
 * complete directory (complete.c) the outcome of an UNLINK is known here
 * before the daemon answers: the name exists (the VFS holds its positive
 * dentry) and nothing else changes the directory behind this kernel's
 * back. So is that of the RMDIR of a directory that is itself complete
 * and empty. Such an op changes the caches, queues its request and
 * returns to the caller; the reply only confirms.
 *
 * Order: the request carries MODALFS_A_ASYNC, and the daemon runs
 * everything this kernel sends later after it (netlink/modalfs.h section
 * 3b), so no later request - a LOOKUP or CREATE of the same name, the
 * EVICT of the unlinked inode, an FSYNC - can overtake it. Asynchronous
 * requests may run in parallel with each other; the one pair of them that
 * depends on each other, UNLINKs in a directory and the RMDIR of that
 * directory, is never sent that way: a directory with asynchronous ops
 * of its own in flight is removed synchronously (and the daemon holds
 * that RMDIR behind them).
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
 * MODALFS_MAX_DIROPS of them are in flight, and for creates, links and
 * renames, whose asynchronous form needs inode numbers handed out in
 * advance. Without a daemon they are queued like writeback (the kernel
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
};

/*
 * In flight on all volumes, at most MODALFS_MAX_DIROPS: beyond that they
 * would crowd synchronous callers out of the request table.
 */
#define MODALFS_MAX_DIROPS	1024
static atomic_t modalfs_dirops_count = ATOMIC_INIT(0);

/* For the last iput of a directory, which must not run in a reply. */
static struct workqueue_struct *modalfs_dirop_wq;

int modalfs_dirops_inflight(void)
{
	return atomic_read(&modalfs_dirops_count);
}

int modalfs_dirops_init(void)
{
	modalfs_dirop_wq = alloc_workqueue("modalfs_dirop", WQ_UNBOUND, 0);
	return modalfs_dirop_wq ? 0 : -ENOMEM;
}

void modalfs_dirops_exit(void)
{
	destroy_workqueue(modalfs_dirop_wq);
}

static void modalfs_dirop_free(struct modalfs_dirop *op)
{
	struct modalfs_sb_info *sbi = MODALFS_SB(op->dir->i_sb);

	kfree(op);
	atomic_dec(&modalfs_dirops_count);
	if (atomic_dec_and_test(&sbi->dirops))
		wake_up_var(&sbi->dirops);
}

static void modalfs_dirop_iput_work(struct work_struct *work)
{
	struct modalfs_dirop *op = container_of(work, struct modalfs_dirop,
						work);
	struct inode *dir = op->dir;

	modalfs_dirop_free(op);
	iput(dir);
}

/* The reply (or a detached volume's fake 0): runs in the daemon's send. */
static void modalfs_dirop_end(struct modalfs_req *req)
{
	struct modalfs_dirop *op = req->priv;
	struct inode *dir = op->dir;

	if (req->error) {
		pr_warn_ratelimited("modalfs: asynchronous %s in directory %lu failed with error %d; reported at the next fsync\n",
				    req->op == MODALFS_OP_RMDIR ? "rmdir" :
				    "unlink", dir->i_ino, req->error);
		mapping_set_error(dir->i_mapping, req->error);
		modalfs_dir_forget(dir);
		modalfs_conn_inval(MODALFS_SB(dir->i_sb)->conn);
	}
	atomic_dec(&MODALFS_I(dir)->dirops);
	/*
	 * The last reference would evict the directory here, in the
	 * daemon's sendmsg; that is left to a worker (as ceph_async_iput).
	 */
	if (atomic_add_unless(&dir->i_count, -1, 1)) {
		modalfs_dirop_free(op);
		return;
	}
	INIT_WORK(&op->work, modalfs_dirop_iput_work);
	queue_work(modalfs_dirop_wq, &op->work);
}

/* May an op naming an entry of dir be asynchronous? */
bool modalfs_dirop_may_async(struct inode *dir)
{
	struct modalfs_conn *conn = MODALFS_SB(dir->i_sb)->conn;

	return !READ_ONCE(conn->sync_dirops) && !READ_ONCE(conn->aborted) &&
	       !READ_ONCE(conn->gone) && modalfs_dir_complete(dir);
}

/* May dir itself be removed asynchronously? */
bool modalfs_dirop_may_rmdir_async(struct inode *victim)
{
	return !atomic_read(&MODALFS_I(victim)->dirops) &&
	       modalfs_dir_known_empty(victim);
}

/*
 * Queues req (an op on an entry of dir) without waiting: 0 and req is
 * consumed, or an error and req is the caller's to send synchronously.
 */
int modalfs_dirop_send(struct inode *dir, struct modalfs_req *req)
{
	struct modalfs_sb_info *sbi = MODALFS_SB(dir->i_sb);
	struct modalfs_dirop *op;

	if (atomic_inc_return(&modalfs_dirops_count) > MODALFS_MAX_DIROPS) {
		atomic_dec(&modalfs_dirops_count);
		modalfs_stats_async_refused();
		return -EBUSY;
	}
	op = kmalloc(sizeof(*op), GFP_NOFS);
	if (!op || nla_put_flag(req->msg, MODALFS_A_ASYNC)) {
		kfree(op);
		atomic_dec(&modalfs_dirops_count);
		return -ENOMEM;
	}
	ihold(dir);
	op->dir = dir;
	atomic_inc(&MODALFS_I(dir)->dirops);
	atomic_inc(&sbi->dirops);
	modalfs_stats_async_queued();
	/* An aborted volume's request ends at once, with its error. */
	modalfs_req_async(req, modalfs_dirop_end, op);
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
