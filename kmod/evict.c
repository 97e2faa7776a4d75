// SPDX-License-Identifier: GPL-2.0
/*
 * Batched release of unlinked inodes (issue 11). An inode whose last link
 * is gone leaves memory with an EVICT, which lets the daemon free it and
 * its data. One EVICT per inode made `rm -rf` cost two requests per file;
 * here evict_inode only queues the number, and one EVICT per volume at a
 * time carries everything queued since the previous one was sent, as
 * FUSE batches FORGETs. With no EVICT in flight the next one goes at
 * once, so an idle volume frees space as soon as before, and a burst of
 * unlinks shares requests. Nothing here waits for the daemon: eviction
 * must not depend on it. A full queue, and evictions during unmount,
 * send their own EVICT as before.
 */
#include <linux/fs.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>

#include "modalfs_i.h"

/* The reply (or a detached volume's fake 0): runs in the daemon's send. */
static void modalfs_evict_end(struct modalfs_req *req)
{
	struct modalfs_sb_info *sbi = req->priv;
	bool more;

	spin_lock(&sbi->evict_lock);
	more = sbi->evict_n > 0;
	if (!more)
		sbi->evict_busy = false;
	spin_unlock(&sbi->evict_lock);
	/* Only the address is used: kill_sb may free sbi once not busy. */
	if (more)
		queue_work(system_unbound_wq, &sbi->evict_work);
	else
		wake_up_var(&sbi->evict_busy);
}

/*
 * Sends what is queued as one EVICT: INO the first inode, INOS the rest.
 * Running while evict_busy, it is the volume's only sender.
 */
static void modalfs_evict_work(struct work_struct *work)
{
	struct modalfs_sb_info *sbi = container_of(work, struct modalfs_sb_info,
						   evict_work);
	struct modalfs_req *req;
	unsigned int n;
	int err = 0;

	req = modalfs_new_req(sbi->sb, MODALFS_OP_EVICT, 0,
			      MODALFS_EVICT_MAX * sizeof(u64) + 64);
	spin_lock(&sbi->evict_lock);
	n = sbi->evict_n;
	sbi->evict_n = 0;
	/* The message has room for them all: nla_put allocates nothing. */
	if (!IS_ERR(req) && n) {
		req->ino = sbi->evict_inos[0];
		err = modalfs_put_u64(req->msg, MODALFS_A_INO, req->ino);
		if (!err && n > 1)
			err = nla_put(req->msg, MODALFS_A_INOS,
				      (n - 1) * sizeof(u64),
				      &sbi->evict_inos[1]);
	}
	if (IS_ERR(req) || !n || err)
		sbi->evict_busy = false;
	spin_unlock(&sbi->evict_lock);
	if (!IS_ERR(req) && n && !err) {
		modalfs_stats_evict_batch(n);
		modalfs_req_async(req, modalfs_evict_end, sbi);
		return;
	}
	/*
	 * Without memory the inodes stay orphans in the store, which frees
	 * them at the volume's UMOUNT or the daemon's next start, as when a
	 * lone EVICT could not be allocated.
	 */
	if (!IS_ERR(req))
		modalfs_req_put(req);
	wake_up_var(&sbi->evict_busy);
}

void modalfs_evict_init(struct modalfs_sb_info *sbi)
{
	spin_lock_init(&sbi->evict_lock);
	INIT_WORK(&sbi->evict_work, modalfs_evict_work);
}

/* Queues ino's EVICT; false if the caller must send its own. */
bool modalfs_evict_queue(struct super_block *sb, u64 ino)
{
	struct modalfs_sb_info *sbi = MODALFS_SB(sb);
	bool queued = false, kick = false;

	spin_lock(&sbi->evict_lock);
	if (!READ_ONCE(sbi->dying) && sbi->evict_n < MODALFS_EVICT_MAX) {
		sbi->evict_inos[sbi->evict_n++] = ino;
		queued = true;
		kick = !sbi->evict_busy;
		sbi->evict_busy = true;
	}
	spin_unlock(&sbi->evict_lock);
	if (kick)
		queue_work(system_unbound_wq, &sbi->evict_work);
	return queued;
}

/*
 * kill_sb, once dying is set (nothing is queued from now on): every
 * queued EVICT was sent and answered. Without a daemon the volume's
 * requests are detached (as modalfs_dirops_drain does), so the answer
 * is not waited for.
 */
void modalfs_evict_drain(struct modalfs_sb_info *sbi)
{
	while (READ_ONCE(sbi->evict_busy)) {
		if (!modalfs_chan_connected(&modalfs_chan))
			modalfs_conn_detach(&modalfs_chan, sbi->conn);
		wait_var_event_timeout(&sbi->evict_busy,
				       !READ_ONCE(sbi->evict_busy), HZ);
	}
	flush_work(&sbi->evict_work);
}
