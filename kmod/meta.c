// SPDX-License-Identifier: GPL-2.0
/*
 * write_inode: the times, and the chmod/chown that setattr deferred, that
 * the kernel owes the daemon for an inode (MODALFS_I_DIRTY_*, meta_seq).
 *
 * The kernel is the only writer of a volume for now, so cached attributes
 * are authoritative; what needs sending is the timestamps dirtied by
 * writes and the chmod/chown that setattr deferred while the file had
 * dirty pages, all in one SETATTR after the data, or none when one WRITE
 * held the whole file and carried them (addr.c). Size needs no SETATTR:
 * writeback stops at i_size and truncation is sent synchronously by
 * setattr.
 *
 * sync(2) and syncfs(2) defer every inode's times to a last pass in
 * sync_fs (modalfs_meta_sync), which sends them asynchronously, many in
 * flight, and waits for them all before the FSYNC: the syncing caller
 * would otherwise wait for one SETATTR round trip per inode. Each such
 * SETATTR holds a reference to its inode until its end has run; the
 * references are dropped from a work item (a final iput evicts, and the
 * end may run in the daemon's own send path).
 */
#include <linux/fs.h>
#include <linux/llist.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>
#include <linux/writeback.h>

#include "modalfs_i.h"

/* One asynchronous SETATTR of modalfs_meta_sync's pass. */
struct modalfs_meta_io {
	struct inode *inode;		/* igrab()bed */
	unsigned long pending;		/* the DIRTY_* bits it carries */
	int seq;			/* meta_seq when it was built */
	struct llist_node node;		/* sbi->meta_iputs, after its end */
};

static void modalfs_meta_iput_work(struct work_struct *work)
{
	struct modalfs_sb_info *sbi =
		container_of(work, struct modalfs_sb_info, meta_iput_work);
	struct modalfs_meta_io *io, *next;
	struct llist_node *list;

	list = llist_del_all(&sbi->meta_iputs);
	llist_for_each_entry_safe(io, next, list, node) {
		iput(io->inode);
		kfree(io);
	}
}

void modalfs_meta_init(struct modalfs_sb_info *sbi)
{
	init_llist_head(&sbi->meta_iputs);
	INIT_WORK(&sbi->meta_iput_work, modalfs_meta_iput_work);
	init_waitqueue_head(&sbi->meta_wq);
}

/*
 * What the synchronous path does after its SETATTR: sent, the changes are
 * the daemon's; not sent (or not known to be), they stay pending for the
 * next write_inode, which ENOTCONN asks for at once.
 */
static void modalfs_meta_outcome(struct inode *inode, unsigned long pending,
				 int seq, int err)
{
	if (err) {
		modalfs_restore_pending(inode, pending);
	} else {
		modalfs_meta_sent(inode, seq);
		/* The daemon has (some of) its data now: no more deferring. */
		clear_bit(MODALFS_I_NEW, &MODALFS_I(inode)->flags);
	}
	if (err == -ENOTCONN)
		__mark_inode_dirty(inode, I_DIRTY_SYNC);
}

static void modalfs_meta_end(struct modalfs_req *req)
{
	struct modalfs_meta_io *io = req->priv;
	struct inode *inode = io->inode;
	struct modalfs_sb_info *sbi = MODALFS_SB(inode->i_sb);

	modalfs_meta_outcome(inode, io->pending, io->seq, req->error);
	modalfs_meta_unlock(inode);
	llist_add(&io->node, &sbi->meta_iputs);
	queue_work(system_unbound_wq, &sbi->meta_iput_work);
	if (atomic_dec_and_test(&sbi->meta_async))
		wake_up_all(&sbi->meta_wq);
}

/*
 * Returns 1 when the SETATTR went out asynchronously: MODALFS_I_META_BUSY
 * is then its end's to clear.
 */
static int modalfs_write_inode_send(struct inode *inode,
				    struct writeback_control *wbc)
{
	struct modalfs_sb_info *sbi = MODALFS_SB(inode->i_sb);
	struct modalfs_meta_io *io = NULL;
	unsigned long pending;
	struct modalfs_req *req;
	int seq, err;

	/*
	 * The file's last WRITE carried all of it (addr.c) and nothing
	 * changed since it was built.
	 */
	if (!modalfs_meta_unsent(inode)) {
		clear_bit(MODALFS_I_NEW, &MODALFS_I(inode)->flags);
		return 0;
	}
	req = modalfs_new_req(inode->i_sb, MODALFS_OP_SETATTR, inode->i_ino,
			      160);
	if (IS_ERR(req))
		return PTR_ERR(req);
	seq = modalfs_meta_seq(inode);
	pending = modalfs_take_pending(inode);
	if (modalfs_put_inode_setattr(req->msg, inode, pending)) {
		modalfs_restore_pending(inode, pending);
		modalfs_req_put(req);
		return -ENOMEM;
	}
	req->exp.ino = inode->i_ino;
	req->exp.type = inode->i_mode & S_IFMT;
	/* Unmounting without a daemon: queue the times, do not wait. */
	if (READ_ONCE(sbi->dying) && !modalfs_chan_connected(&modalfs_chan)) {
		modalfs_req_async(req, NULL, NULL);
		return 0;
	}
	/* sync_fs's last pass: many in flight, waited for there. */
	if (wbc->for_sync && atomic_read(&sbi->sync_times)) {
		io = kmalloc(sizeof(*io), GFP_NOFS);
		if (io)
			io->inode = igrab(inode);
		if (io && io->inode) {
			io->pending = pending;
			io->seq = seq;
			atomic_inc(&sbi->meta_async);
			modalfs_req_async(req, modalfs_meta_end, io);
			return 1;
		}
		kfree(io);
	}
	/*
	 * The flusher holds s_umount while it is here: it must not wait for
	 * an absent daemon (umount -l would wait behind it). It tries again
	 * later instead; fsync and sync (WB_SYNC_ALL) do wait.
	 */
	if (wbc->sync_mode != WB_SYNC_ALL || wbc->for_sync)
		req->background = true;
	err = modalfs_req_call(req);
	modalfs_req_put(req);
	modalfs_meta_outcome(inode, pending, seq, err);
	return err == -ENOTCONN ? 0 : err;
}

/*
 * The first, non-waiting pass of sync(2) and syncfs(2) (WB_SYNC_NONE, for
 * neither background nor periodic writeback): it only starts the data.
 * Its WB_SYNC_ALL pass and sync_fs send the times right after; sending
 * them here, one synchronous SETATTR per inode, would hold up the WRITEs
 * of every inode behind it.
 */
static bool modalfs_wbc_sync_first(struct writeback_control *wbc)
{
	return wbc->sync_mode == WB_SYNC_NONE && !wbc->for_background &&
	       !wbc->for_kupdate;
}

int modalfs_write_inode(struct inode *inode, struct writeback_control *wbc)
{
	struct modalfs_sb_info *sbi = MODALFS_SB(inode->i_sb);
	bool connected = modalfs_chan_connected(&modalfs_chan);
	int err;

	/*
	 * Background writeback does not wait for its WRITEs (addr.c), nor
	 * send them beyond the background cap (the pages stay dirty: wait
	 * for those only while a daemon is there and no unmount runs), and
	 * sync(2) must not wait for an absent daemon (sync_fs does, and
	 * killably); the times must reach the daemon after the data (each
	 * WRITE stamps mtime with the daemon's clock), so try again later.
	 */
	if ((wbc->sync_mode != WB_SYNC_ALL &&
	     (mapping_tagged(inode->i_mapping, PAGECACHE_TAG_WRITEBACK) ||
	      (connected && !READ_ONCE(sbi->dying) &&
	       (mapping_tagged(inode->i_mapping, PAGECACHE_TAG_DIRTY) ||
		modalfs_wbc_sync_first(wbc))))) ||
	    (wbc->for_sync && !connected && !READ_ONCE(sbi->dying))) {
		__mark_inode_dirty(inode, I_DIRTY_SYNC);
		return 0;
	}
	/*
	 * The daemon stamps mtime when it applies a WRITE, so the times go
	 * out only once the WRITEs in flight are answered. sync(2) does
	 * not wait for them one inode at a time, nor send a SETATTR before
	 * every inode's WRITEs are out: sync_fs sends the times after
	 * wait_sb_inodes has waited for every page.
	 */
	if (wbc->for_sync && !atomic_read(&sbi->sync_times) &&
	    (mapping_tagged(inode->i_mapping, PAGECACHE_TAG_WRITEBACK) ||
	     (connected && !READ_ONCE(sbi->dying)))) {
		__mark_inode_dirty(inode, I_DIRTY_SYNC);
		return 0;
	}
	if (wbc->sync_mode == WB_SYNC_ALL)
		filemap_fdatawait_keep_errors(inode->i_mapping);
	/*
	 * One message with the times at a time (a WRITE may carry them,
	 * addr.c): background writeback tries again later, sync waits.
	 */
	if (wbc->sync_mode != WB_SYNC_ALL) {
		if (test_and_set_bit_lock(MODALFS_I_META_BUSY,
					  &MODALFS_I(inode)->flags)) {
			__mark_inode_dirty(inode, I_DIRTY_SYNC);
			return 0;
		}
	} else if (wait_on_bit_lock(&MODALFS_I(inode)->flags,
				    MODALFS_I_META_BUSY, TASK_KILLABLE)) {
		__mark_inode_dirty(inode, I_DIRTY_SYNC);
		return -EINTR;
	}
	err = modalfs_write_inode_send(inode, wbc);
	if (err == 1)
		return 0;
	modalfs_meta_unlock(inode);
	return err;
}

/*
 * Waits until every asynchronous SETATTR of the volume is answered and
 * their inode references are dropped. Killable, except during unmount,
 * whose evict_inodes must find no reference left: there, once no daemon
 * is registered, the volume's requests are detached (their ends run now,
 * the messages wait for the next daemon) rather than waited for.
 */
int modalfs_meta_wait(struct super_block *sb)
{
	struct modalfs_sb_info *sbi = MODALFS_SB(sb);
	long left;

	while (atomic_read(&sbi->meta_async)) {
		if (!READ_ONCE(sbi->dying)) {
			if (wait_event_killable(sbi->meta_wq,
					!atomic_read(&sbi->meta_async)))
				return -EINTR;
			break;
		}
		left = wait_event_timeout(sbi->meta_wq,
					  !atomic_read(&sbi->meta_async), HZ);
		if (!left && !modalfs_chan_connected(&modalfs_chan))
			modalfs_conn_detach(&modalfs_chan, sbi->conn);
	}
	flush_work(&sbi->meta_iput_work);
	return 0;
}

/*
 * sync_fs's pass: the times that sync(2)'s writeback deferred, now that
 * wait_sb_inodes has waited for every page, many in flight at once.
 */
int modalfs_meta_sync(struct super_block *sb)
{
	struct modalfs_sb_info *sbi = MODALFS_SB(sb);

	atomic_inc(&sbi->sync_times);
	sync_inodes_sb(sb);
	atomic_dec(&sbi->sync_times);
	return modalfs_meta_wait(sb);
}
