// SPDX-License-Identifier: GPL-2.0
/*
 * The request table: every request the filesystem sends to modalfsd lives
 * here, keyed by its id, from submission until its reply arrives, its
 * caller gives up, or the module goes away. Modelled on FUSE:
 *
 *  - a request not yet sent to a live daemon is QUEUED; its caller waits
 *    interruptibly and may simply leave (the syscall restarts);
 *  - once SENT, the caller waits killably; a killed caller abandons a
 *    read-only request (it leaves the table, so a late reply is dropped),
 *    but one that changes the volume stays (modalfs_req_orphan);
 *  - when the daemon's socket goes away, requests stay in the table; the
 *    next registration bumps chan->gen and every request whose gen differs
 *    is sent again, same id, same bytes (NFS "hard" semantics).
 *
 * On top of that, per volume (struct modalfs_conn): a soft mount's requests
 * fail with EIO once they have waited timeo seconds (expire_work scans for
 * them while any exist), a hard mount's requests that the live daemon has
 * left unanswered for timeo seconds are logged once (NFS's "not
 * responding, still trying"), an aborted volume's (umount -f, sysfs abort)
 * fail with EIO at once, and a deleted volume's with ESTALE. At most
 * max_inflight requests sit in the table; synchronous callers beyond that
 * wait killably for room, asynchronous ones (writeback, EVICT, UMOUNT)
 * never wait, so teardown cannot block on the cap; background writeback
 * and readahead are refused beyond max_background units of asynchronous
 * requests (modalfs_req_async_try; a READ or WRITE weighs one unit per
 * MODALFS_BG_UNIT bytes it moves, anything else one) and keep their pages
 * for later.
 *
 * The transport is the chan->send hook so that the KUnit suites drive the
 * table without netlink or a daemon. No lock is held while sending or
 * waiting; chan->lock only guards the table and the state fields.
 */
#include <linux/delay.h>
#include <linux/hashtable.h>
#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <net/genetlink.h>

#include "modalfs_i.h"

static struct kmem_cache *modalfs_req_cachep;

int modalfs_req_cache_init(void)
{
	modalfs_req_cachep = KMEM_CACHE(modalfs_req, 0);
	return modalfs_req_cachep ? 0 : -ENOMEM;
}

void modalfs_req_cache_exit(void)
{
	kmem_cache_destroy(modalfs_req_cachep);
}

static unsigned int modalfs_chan_fail_matching(struct modalfs_chan *chan,
		bool (*match)(struct modalfs_req *req, unsigned long arg),
		unsigned long arg, int error);
static bool modalfs_op_mutates(u32 op);

/* How often soft requests are checked for their deadline. */
#define MODALFS_EXPIRE_TICK	(HZ / 4)
/* ... and, when there are none, hard ones for an unanswered timeo. */
#define MODALFS_SLOW_TICK	(5 * HZ)

static void modalfs_resend_work(struct work_struct *work)
{
	modalfs_chan_resend(container_of(work, struct modalfs_chan,
					 resend_work));
}

static void modalfs_expire_work(struct work_struct *work)
{
	struct modalfs_chan *chan = container_of(to_delayed_work(work),
						 struct modalfs_chan,
						 expire_work);
	unsigned long delay;
	bool more;

	modalfs_chan_expire(chan, jiffies);
	modalfs_chan_warn_slow(chan, jiffies);
	spin_lock(&chan->lock);
	more = chan->inflight && !chan->dead;
	delay = chan->nsoft ? MODALFS_EXPIRE_TICK : MODALFS_SLOW_TICK;
	spin_unlock(&chan->lock);
	if (more)
		queue_delayed_work(system_wq, &chan->expire_work, delay);
}

struct modalfs_conn *modalfs_conn_new(u64 vol_id, bool soft,
				      unsigned int timeo)
{
	struct modalfs_conn *conn = kzalloc(sizeof(*conn), GFP_KERNEL);

	if (!conn)
		return NULL;
	refcount_set(&conn->ref, 1);
	conn->vol_id = vol_id;
	conn->soft = soft;
	conn->timeo = clamp_t(unsigned int, timeo, 1, MODALFS_TIMEO_MAX);
	return conn;
}

void modalfs_conn_get(struct modalfs_conn *conn)
{
	refcount_inc(&conn->ref);
}

void modalfs_conn_put(struct modalfs_conn *conn)
{
	if (conn && refcount_dec_and_test(&conn->ref))
		kfree(conn);
}

/* Before submission: the request counts against (and obeys) conn. */
void modalfs_req_set_conn(struct modalfs_req *req, struct modalfs_conn *conn)
{
	modalfs_conn_get(conn);
	modalfs_conn_put(req->conn);
	req->conn = conn;
}

void modalfs_chan_init(struct modalfs_chan *chan,
		       int (*send)(struct modalfs_chan *, struct sk_buff *,
				   u32))
{
	spin_lock_init(&chan->lock);
	hash_init(chan->table);
	INIT_LIST_HEAD(&chan->reqs);
	/*
	 * Ids unique across module loads: a random epoch per load in the
	 * high 32 bits, a counter from 1 in the low ones (netlink/modalfs.h
	 * section 3). Unlike the wall clock, this never goes backwards into
	 * an earlier load's ids when the clock is set back, so a daemon's
	 * duplicate-request cache never mistakes a new request for an old.
	 */
	atomic64_set(&chan->next_id, (u64)get_random_u32() << 32);
	chan->portid = 0;
	chan->gen = 0;
	chan->connected = false;
	chan->dead = false;
	chan->family_id = 0;
	chan->send = send;
	INIT_WORK(&chan->resend_work, modalfs_resend_work);
	chan->inflight = 0;
	chan->max_inflight = MODALFS_MAX_INFLIGHT;
	chan->nsoft = 0;
	chan->nbackground = 0;
	chan->max_background = MODALFS_MAX_BACKGROUND;
	chan->sk = NULL;
	init_waitqueue_head(&chan->slotq);
	init_waitqueue_head(&chan->regq);
	INIT_DELAYED_WORK(&chan->expire_work, modalfs_expire_work);
}

/*
 * payload: bytes of attributes the caller will add beyond REQ_ID and OP.
 */
struct modalfs_req *modalfs_req_new(struct modalfs_chan *chan, u32 op,
				    size_t payload, gfp_t gfp)
{
	struct modalfs_req *req;

	req = kmem_cache_zalloc(modalfs_req_cachep, gfp);
	if (!req)
		return ERR_PTR(-ENOMEM);
	refcount_set(&req->ref, 1);
	INIT_HLIST_NODE(&req->hnode);
	INIT_LIST_HEAD(&req->lnode);
	init_waitqueue_head(&req->waitq);
	req->chan = chan;
	req->op = op;
	req->state = MODALFS_REQ_NEW;
	req->bg_units = 1;
	do {
		req->id = atomic64_inc_return(&chan->next_id);
	} while (!req->id);
	req->msg = nlmsg_new(GENL_HDRLEN + 64 + payload, gfp);
	if (!req->msg ||
	    modalfs_msg_init(req->msg, chan->family_id, MODALFS_CMD_REQUEST,
			     req->id, op)) {
		modalfs_req_put(req);
		return ERR_PTR(-ENOMEM);
	}
	return req;
}

void modalfs_req_get(struct modalfs_req *req)
{
	refcount_inc(&req->ref);
}

void modalfs_req_put(struct modalfs_req *req)
{
	if (!refcount_dec_and_test(&req->ref))
		return;
	kfree_skb(req->msg);
	consume_skb(req->reply);
	modalfs_conn_put(req->conn);
	kmem_cache_free(modalfs_req_cachep, req);
}

static struct modalfs_req *__modalfs_find(struct modalfs_chan *chan, u64 id)
{
	struct modalfs_req *req;

	hash_for_each_possible(chan->table, req, hnode, id)
		if (req->id == id)
			return req;
	return NULL;
}

/* For tests and diagnostics; the pointer is only good under the caller's ref. */
struct modalfs_req *modalfs_chan_find(struct modalfs_chan *chan, u64 id)
{
	struct modalfs_req *req;

	spin_lock(&chan->lock);
	req = __modalfs_find(chan, id);
	spin_unlock(&chan->lock);
	return req;
}

static void __modalfs_unlink(struct modalfs_req *req)
{
	struct modalfs_chan *chan = req->chan;

	hash_del(&req->hnode);
	list_del_init(&req->lnode);
	chan->inflight--;
	if (req->async)
		chan->nbackground -= req->bg_units;
	if (req->conn)
		req->conn->waiting--;
	if (req->deadline)
		chan->nsoft--;
	if ((chan->inflight < chan->max_inflight ||
	     (req->async && chan->nbackground <
	      MODALFS_SYNC_WINDOW * chan->max_background)) &&
	    wq_has_sleeper(&chan->slotq))
		wake_up(&chan->slotq);
}

/*
 * The volume's cached dentries and attributes can no longer be trusted:
 * a change the kernel did not see through may have happened (a killed
 * caller's request the daemon acted on). Every dentry is revalidated
 * with a LOOKUP and every inode's attributes with a GETATTR at next use.
 */
void modalfs_conn_inval(struct modalfs_conn *conn)
{
	if (conn)
		atomic_inc(&conn->inval);
}

/* REPLYING -> DONE; drops the table's reference. */
static void modalfs_req_finish(struct modalfs_req *req)
{
	/* Its caller was killed and could not apply the outcome. */
	if (req->orphan)
		modalfs_conn_inval(req->conn);
	smp_store_release(&req->state, MODALFS_REQ_DONE);
	if (req->end)
		req->end(req);
	else
		wake_up_all(&req->waitq);
	modalfs_req_put(req);
}

/*
 * Sends req to the daemon of generation gen, unless something newer
 * happened to it meanwhile. A full receive queue means a busy daemon, so
 * back off and retry. Returns non-zero when the request could not be sent
 * and went back to QUEUED.
 */
static int modalfs_req_transmit(struct modalfs_req *req, u32 gen)
{
	struct modalfs_chan *chan = req->chan;
	unsigned int tries = 0;
	u32 portid;
	int err;

	for (;;) {
		spin_lock(&chan->lock);
		if (req->state != MODALFS_REQ_SENT || req->gen != gen ||
		    !chan->connected || chan->gen != gen) {
			spin_unlock(&chan->lock);
			return 0;
		}
		portid = chan->portid;
		spin_unlock(&chan->lock);

		err = chan->send(chan, req->msg, portid);
		if (err != -EAGAIN && err != -ENOBUFS && err != -ENOMEM)
			break;
		/*
		 * A killed sender stops retrying (a stopped daemon would keep
		 * it here for ever); the resend worker takes the request over,
		 * so an asynchronous one still reaches the daemon.
		 */
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		msleep(++tries < 10 ? 1 : 10);
	}
	if (!err)
		return 0;
	/*
	 * Typically ECONNREFUSED: the socket is closing and the release
	 * notifier has not run yet. The next registration sends it again.
	 */
	spin_lock(&chan->lock);
	if (req->state == MODALFS_REQ_SENT && req->gen == gen) {
		req->state = MODALFS_REQ_QUEUED;
		req->gen = 0;
	}
	spin_unlock(&chan->lock);
	wake_up_all(&req->waitq);
	if (err == -EINTR)
		queue_work(system_unbound_wq, &chan->resend_work);
	return err;
}

/* Why a request for conn cannot be queued now (under chan->lock), or 0. */
static int modalfs_conn_refuses(struct modalfs_chan *chan,
				struct modalfs_conn *conn)
{
	if (chan->dead)
		return -ENODEV;
	if (conn && conn->gone)
		return -ESTALE;
	if (conn && conn->aborted)
		return -EIO;
	return 0;
}

/*
 * Puts the finished request into the table and sends it if a daemon is
 * registered. The caller keeps its reference. With may_wait, -EAGAIN
 * when the table is full (the caller waits for room and retries).
 */
static int __modalfs_req_submit(struct modalfs_req *req, bool may_wait)
{
	struct modalfs_chan *chan = req->chan;
	struct modalfs_conn *conn = req->conn;
	bool send = false, arm = false;
	u32 gen = 0;
	int err;

	/* The whole skb: WRITE data sits in page fragments past the tail. */
	nlmsg_hdr(req->msg)->nlmsg_len = req->msg->len;
	spin_lock(&chan->lock);
	err = modalfs_conn_refuses(chan, conn);
	if (!err && req->background && !chan->connected)
		err = -ENOTCONN;
	/*
	 * Deferrable work (background writeback, readahead) is not queued
	 * for an absent daemon nor beyond the background cap: its caller
	 * keeps the pages dirty (or unread) and tries again later.
	 */
	if (!err && req->deferrable &&
	    !(conn && conn->detached && modalfs_op_mutates(req->op)) &&
	    (!chan->connected || chan->nbackground >= chan->max_background)) {
		spin_unlock(&chan->lock);
		return -EBUSY;
	}
	if (err) {
		spin_unlock(&chan->lock);
		req->error = err;
		smp_store_release(&req->state, MODALFS_REQ_DONE);
		return err;
	}
	if (may_wait && chan->inflight >= chan->max_inflight) {
		spin_unlock(&chan->lock);
		return -EAGAIN;
	}
	refcount_inc(&req->ref);
	req->queued_at = jiffies;
	modalfs_stats_sent(req);
	hash_add(chan->table, &req->hnode, req->id);
	list_add_tail(&req->lnode, &chan->reqs);
	chan->inflight++;
	if (req->async)
		chan->nbackground += req->bg_units;
	if (conn) {
		conn->waiting++;
		if (conn->soft) {
			/* Never 0: 0 means "no deadline". */
			req->deadline = (jiffies + conn->timeo * HZ) | 1;
			chan->nsoft++;
			arm = true;
		}
	}
	if (chan->connected) {
		req->state = MODALFS_REQ_SENT;
		req->gen = chan->gen;
		req->sent_at = jiffies;
		gen = req->gen;
		send = true;
	} else {
		req->state = MODALFS_REQ_QUEUED;
	}
	spin_unlock(&chan->lock);
	/*
	 * Soft deadlines need the short tick at once; otherwise a pending
	 * scan (of either period) will see this request too.
	 */
	if (arm)
		mod_delayed_work(system_wq, &chan->expire_work,
				 MODALFS_EXPIRE_TICK);
	else if (conn)
		queue_delayed_work(system_wq, &chan->expire_work,
				   MODALFS_SLOW_TICK);
	if (send)
		modalfs_req_transmit(req, gen);
	return 0;
}

int modalfs_req_submit(struct modalfs_req *req)
{
	return __modalfs_req_submit(req, false);
}

static bool modalfs_chan_has_room(struct modalfs_chan *chan,
				  struct modalfs_conn *conn)
{
	bool room;

	spin_lock(&chan->lock);
	room = chan->inflight < chan->max_inflight ||
	       modalfs_conn_refuses(chan, conn);
	spin_unlock(&chan->lock);
	return room;
}

/* Removes req from the table if it is still there; true if it was. */
static bool modalfs_req_abandon(struct modalfs_req *req, bool queued_only)
{
	struct modalfs_chan *chan = req->chan;
	bool removed = false;

	spin_lock(&chan->lock);
	if (req->state == MODALFS_REQ_QUEUED ||
	    (!queued_only && req->state == MODALFS_REQ_SENT)) {
		__modalfs_unlink(req);
		req->state = MODALFS_REQ_ABANDONED;
		removed = true;
	}
	spin_unlock(&chan->lock);
	if (removed)
		modalfs_req_put(req);
	return removed;
}

static bool modalfs_req_not_queued(struct modalfs_req *req)
{
	return READ_ONCE(req->state) != MODALFS_REQ_QUEUED;
}

static bool modalfs_req_done(struct modalfs_req *req)
{
	return smp_load_acquire(&req->state) == MODALFS_REQ_DONE;
}

/* Ops whose effect a caller must see applied: not to be simply dropped. */
static bool modalfs_op_mutates(u32 op)
{
	switch (op) {
	case MODALFS_OP_LOOKUP:
	case MODALFS_OP_GETATTR:
	case MODALFS_OP_READ:
	case MODALFS_OP_READDIR:
	case MODALFS_OP_READLINK:
	case MODALFS_OP_STATFS:
	case MODALFS_OP_GETXATTR:
	case MODALFS_OP_LISTXATTR:
		return false;
	}
	return true;
}

/*
 * The caller of a request the daemon may be acting on was killed. A
 * read-only one leaves the table (a late reply is dropped). One that
 * changes the volume stays there, as FUSE waits out such requests: it
 * is still resent to a new daemon and its reply still taken, but as
 * nobody will apply the outcome to the caches, the volume's caches are
 * distrusted now and again when the reply comes (modalfs_conn_inval).
 * True if the caller may leave; false if the reply is being stored.
 */
static bool modalfs_req_orphan(struct modalfs_req *req)
{
	struct modalfs_chan *chan = req->chan;
	bool left = false;

	if (!modalfs_op_mutates(req->op))
		return modalfs_req_abandon(req, false);
	/* Back in QUEUED: its delivery failed, so no daemon acts on it. */
	if (modalfs_req_abandon(req, true))
		return true;
	spin_lock(&chan->lock);
	if (req->state == MODALFS_REQ_SENT) {
		req->orphan = true;
		left = true;
	}
	spin_unlock(&chan->lock);
	if (left)
		modalfs_conn_inval(req->conn);
	return left;
}

int modalfs_req_wait(struct modalfs_req *req)
{
	int err;

	if (READ_ONCE(req->state) == MODALFS_REQ_NEW)
		return -EINVAL;
	/*
	 * Nothing reached a daemon yet: any signal may end the wait, and
	 * the syscall restarts (SA_RESTART, SIGSTOP, the freezer) as if it
	 * had not begun, since nothing happened.
	 */
	err = wait_event_interruptible(req->waitq, modalfs_req_not_queued(req));
	if (err && modalfs_req_abandon(req, true))
		return -ERESTARTSYS;
	/* A daemon may be acting on it: only a fatal signal ends the wait. */
	err = wait_event_killable(req->waitq, modalfs_req_done(req));
	if (err) {
		if (modalfs_req_orphan(req))
			return -EINTR;
		/* The reply is being stored right now. */
		wait_event(req->waitq, modalfs_req_done(req));
	}
	return req->error;
}

/*
 * Submits and waits. A full table makes the caller wait killably for
 * room; on a soft mount that wait counts against timeo too.
 */
int modalfs_req_call(struct modalfs_req *req)
{
	struct modalfs_chan *chan = req->chan;
	struct modalfs_conn *conn = req->conn;
	unsigned long start = jiffies;
	long left;
	int err;

	for (;;) {
		err = __modalfs_req_submit(req, !req->background);
		if (err != -EAGAIN)
			break;
		if (conn && conn->soft) {
			left = (long)conn->timeo * HZ - (long)(jiffies - start);
			if (left <= 0)
				return -EIO;
			left = wait_event_killable_timeout(chan->slotq,
					modalfs_chan_has_room(chan, conn), left);
		} else {
			left = wait_event_killable(chan->slotq,
					modalfs_chan_has_room(chan, conn));
		}
		if (left < 0)
			return -EINTR;
	}
	if (err)
		return err;
	return modalfs_req_wait(req);
}

/*
 * Fire and forget: end (may be NULL) runs when the reply arrives or the
 * module unloads, in the replying daemon's context; it must not sleep
 * for long. Consumes the caller's reference.
 */
/*
 * Completes req for its caller as if the daemon had said 0 (nothing of
 * the reply is there), and leaves it without a caller: for a detached
 * volume's requests, whose superblock is going away (kill_sb).
 */
static void modalfs_req_end_detached(struct modalfs_req *req,
				     modalfs_end_t end, void *priv)
{
	struct modalfs_req fake = {
		.chan = req->chan,
		.op = req->op,
		.id = req->id,
		.priv = priv,
	};

	end(&fake);
}

/* A detached volume's request that changes it: its caller is done now. */
static void modalfs_req_detach_early(struct modalfs_req *req)
{
	if (!req->end || !req->conn || !READ_ONCE(req->conn->detached) ||
	    !modalfs_op_mutates(req->op) || modalfs_chan_connected(req->chan))
		return;
	modalfs_req_end_detached(req, req->end, req->priv);
	req->end = NULL;
	req->priv = NULL;
}

void modalfs_req_async(struct modalfs_req *req, modalfs_end_t end, void *priv)
{
	req->end = end;
	req->priv = priv;
	req->async = true;
	modalfs_req_detach_early(req);
	if (modalfs_req_submit(req) && req->end)
		req->end(req);
	modalfs_req_put(req);
}

/*
 * modalfs_req_async for work that can wait (background writeback,
 * readahead): -EBUSY, and nothing consumed or called, while no daemon is
 * registered or chan->max_background units of asynchronous requests are in the
 * table. Otherwise as modalfs_req_async, and 0.
 */
int modalfs_req_async_try(struct modalfs_req *req, modalfs_end_t end,
			  void *priv)
{
	int err;

	req->end = end;
	req->priv = priv;
	req->async = true;
	req->deferrable = true;
	/* Never refused when detached (see __modalfs_req_submit). */
	modalfs_req_detach_early(req);
	err = modalfs_req_submit(req);
	if (err == -EBUSY) {
		req->end = NULL;
		req->async = false;
		req->deferrable = false;
		return err;
	}
	if (err && req->end)
		req->end(req);
	modalfs_req_put(req);
	return 0;
}

static bool modalfs_chan_sync_room(struct modalfs_chan *chan)
{
	return !READ_ONCE(chan->connected) ||
	       READ_ONCE(chan->nbackground) <
	       MODALFS_SYNC_WINDOW * chan->max_background;
}

/*
 * Paces a caller that submits many asynchronous requests and waits for
 * them all at the end (sync(2) writing back every inode of a volume):
 * it returns once fewer than MODALFS_SYNC_WINDOW times the background
 * cap's units are in the table, or no daemon is there to answer (the
 * requests then queue, as modalfs_req_async's do), or the caller is
 * killed. Bounds the copies of data in the table.
 */
void modalfs_chan_wait_background(struct modalfs_chan *chan)
{
	/* Killed: it submits anyway; the pages it holds must go out. */
	(void)wait_event_killable(chan->slotq, modalfs_chan_sync_room(chan));
}

/*
 * A REPLY for id arrived (tb parsed and policy-checked from nlh). Returns
 * 0 when it completed a request, -ENOENT for an unknown or abandoned id,
 * -EINVAL when it was malformed (the request then fails with EIO).
 */
/*
 * Takes the request a reply names out of the table (SENT -> REPLYING);
 * NULL for an unknown id, an abandoned request, or one the current daemon
 * was never sent.
 */
static struct modalfs_req *modalfs_chan_take(struct modalfs_chan *chan, u64 id)
{
	struct modalfs_req *req;

	spin_lock(&chan->lock);
	req = __modalfs_find(chan, id);
	/*
	 * Only the daemon generation the request was last sent to may
	 * answer it: a new daemon that has not been sent it yet cannot know
	 * what it asks (netlink/modalfs.h section 3).
	 */
	if (!req || req->state != MODALFS_REQ_SENT || req->gen != chan->gen ||
	    !chan->connected) {
		spin_unlock(&chan->lock);
		return NULL;
	}
	__modalfs_unlink(req);
	req->state = MODALFS_REQ_REPLYING;
	spin_unlock(&chan->lock);
	return req;
}

/*
 * A reply for id arrived that cannot be decoded at all (it failed the
 * netlink policy): its caller must not wait for an answer that will never
 * come, so the request fails with EIO. -ENOENT for an unknown id.
 */
int modalfs_chan_fail(struct modalfs_chan *chan, u64 id)
{
	struct modalfs_req *req = modalfs_chan_take(chan, id);

	if (!req)
		return -ENOENT;
	pr_warn_ratelimited("modalfs: undecodable reply to request %llu (op %u); failing it with EIO\n",
			    req->id, req->op);
	req->error = -EIO;
	modalfs_req_finish(req);
	return 0;
}

int modalfs_chan_complete(struct modalfs_chan *chan, struct sk_buff *skb,
			  const struct nlmsghdr *nlh, struct nlattr **tb)
{
	struct modalfs_req *req;
	const struct nlattr *head;
	int len, ret = 0;
	u32 err;

	if (!tb[MODALFS_A_REQ_ID] || !tb[MODALFS_A_ERRNO])
		return -EINVAL;
	req = modalfs_chan_take(chan, nla_get_u64(tb[MODALFS_A_REQ_ID]));
	if (!req)
		return -ENOENT;

	head = nlmsg_attrdata(nlh, GENL_HDRLEN);
	len = nlmsg_attrlen(nlh, GENL_HDRLEN);
	if (modalfs_reply_check(req->op, &req->exp, tb, head, len)) {
		pr_warn_ratelimited("modalfs: malformed reply to request %llu (op %u); failing it with EIO\n",
				    req->id, req->op);
		req->error = -EIO;
		ret = -EINVAL;
	} else {
		err = nla_get_u32(tb[MODALFS_A_ERRNO]);
		req->error = -(int)err;
		if (!err) {
			req->reply = skb_get(skb);
			memcpy(req->tb, tb, sizeof(req->tb));
			req->head = head;
			req->len = len;
		}
	}
	modalfs_stats_answered(req, req->error);
	if (req->slow_warned)
		pr_info_ratelimited("modalfs: modalfsd answered request %llu (op %u) after %u s\n",
				    req->id, req->op,
				    jiffies_to_msecs(jiffies - req->sent_at) / 1000);
	modalfs_req_finish(req);
	return ret;
}

/*
 * sk identifies the daemon's socket beyond its port id (NULL in tests):
 * netlink_release() frees the port before the release notifier runs, so
 * for a moment another socket may bind the same port id.
 */
int modalfs_chan_register_sk(struct modalfs_chan *chan, u32 portid,
			     const void *sk)
{
	int ret = 0;

	spin_lock(&chan->lock);
	if (chan->dead) {
		ret = -ENODEV;
	} else if (chan->connected) {
		ret = chan->portid == portid && chan->sk == sk ? 0 : -EBUSY;
	} else {
		chan->connected = true;
		chan->portid = portid;
		chan->sk = sk;
		if (++chan->gen == 0)
			chan->gen = 1;
	}
	spin_unlock(&chan->lock);
	if (!ret)
		wake_up_all(&chan->regq);
	return ret;
}

int modalfs_chan_register(struct modalfs_chan *chan, u32 portid)
{
	return modalfs_chan_register_sk(chan, portid, NULL);
}

/*
 * Waits until a daemon is registered: 0, or -ERESTARTSYS on a signal,
 * -ETIMEDOUT after timeout jiffies (0: none), -ENODEV at module exit.
 */
int modalfs_chan_wait_daemon(struct modalfs_chan *chan, long timeout)
{
	long left;

	if (!timeout)
		return wait_event_interruptible(chan->regq,
				READ_ONCE(chan->connected) ||
				READ_ONCE(chan->dead)) ?:
			(READ_ONCE(chan->dead) ? -ENODEV : 0);
	left = wait_event_interruptible_timeout(chan->regq,
			READ_ONCE(chan->connected) || READ_ONCE(chan->dead),
			timeout);
	if (left < 0)
		return left;
	if (READ_ONCE(chan->dead))
		return -ENODEV;
	return left ? 0 : -ETIMEDOUT;
}

static bool modalfs_req_is_background(struct modalfs_req *req,
				      unsigned long unused)
{
	return req->background;
}

/*
 * The socket of portid went away. Background requests give up now: their
 * callers (the flusher, holding s_umount) must not wait for the next
 * daemon, or no unmount could proceed meanwhile.
 */
void modalfs_chan_release(struct modalfs_chan *chan, u32 portid)
{
	bool was = false;

	spin_lock(&chan->lock);
	if (chan->connected && chan->portid == portid) {
		chan->connected = false;
		chan->portid = 0;
		chan->sk = NULL;
		was = true;
	}
	spin_unlock(&chan->lock);
	if (was)
		modalfs_chan_fail_matching(chan, modalfs_req_is_background, 0,
					   -ENOTCONN);
}

bool modalfs_chan_connected(struct modalfs_chan *chan)
{
	return READ_ONCE(chan->connected);
}

/*
 * Is the socket sk, bound to portid, the registered daemon (REPLY and
 * NOTIFY are its alone)?
 */
bool modalfs_chan_is_daemon_sk(struct modalfs_chan *chan, u32 portid,
			       const void *sk)
{
	bool ok;

	spin_lock(&chan->lock);
	ok = chan->connected && chan->portid == portid && chan->sk == sk;
	spin_unlock(&chan->lock);
	return ok;
}

bool modalfs_chan_is_daemon(struct modalfs_chan *chan, u32 portid)
{
	return modalfs_chan_is_daemon_sk(chan, portid, NULL);
}

/*
 * Takes every request in the table for which match() holds out of it and
 * completes it with error. Returns how many.
 */
static unsigned int modalfs_chan_fail_matching(struct modalfs_chan *chan,
		bool (*match)(struct modalfs_req *req, unsigned long arg),
		unsigned long arg, int error)
{
	struct modalfs_req *req, *tmp;
	unsigned int n = 0;
	LIST_HEAD(doomed);

	spin_lock(&chan->lock);
	list_for_each_entry_safe(req, tmp, &chan->reqs, lnode) {
		if (!match(req, arg))
			continue;
		__modalfs_unlink(req);
		req->state = MODALFS_REQ_REPLYING;
		list_add_tail(&req->lnode, &doomed);
	}
	spin_unlock(&chan->lock);

	list_for_each_entry_safe(req, tmp, &doomed, lnode) {
		list_del_init(&req->lnode);
		if (error == -EIO && req->deadline)
			pr_warn_ratelimited("modalfs: request %llu (op %u) on volume %llu unanswered after %u s; failing it with EIO (soft mount)\n",
					    req->id, req->op,
					    req->conn ? req->conn->vol_id : 0,
					    req->conn ? req->conn->timeo : 0);
		req->error = error;
		modalfs_req_finish(req);
		n++;
	}
	return n;
}

static bool modalfs_req_expired(struct modalfs_req *req, unsigned long now)
{
	return req->deadline && time_after_eq(now, req->deadline);
}

/* Fails the soft requests whose deadline is at or before now with EIO. */
unsigned int modalfs_chan_expire(struct modalfs_chan *chan, unsigned long now)
{
	return modalfs_chan_fail_matching(chan, modalfs_req_expired, now, -EIO);
}

/*
 * NFS's "server not responding, still trying" for hard requests: the
 * first scan after a request sent to the live daemon has gone its
 * volume's timeo seconds unanswered logs it, once per request, in one
 * line per scan. Returns how many requests that line counted.
 */
unsigned int modalfs_chan_warn_slow(struct modalfs_chan *chan,
				    unsigned long now)
{
	struct modalfs_req *req, *oldest = NULL;
	unsigned int n = 0, age = 0, timeo = 0;
	u64 id = 0, vol = 0;
	u32 op = 0;

	spin_lock(&chan->lock);
	list_for_each_entry(req, &chan->reqs, lnode) {
		if (req->deadline || !req->conn || req->slow_warned ||
		    req->state != MODALFS_REQ_SENT || req->gen != chan->gen ||
		    time_before(now, req->sent_at + req->conn->timeo * HZ))
			continue;
		req->slow_warned = true;
		if (!oldest)
			oldest = req;
		n++;
	}
	if (oldest) {
		id = oldest->id;
		op = oldest->op;
		vol = oldest->conn->vol_id;
		timeo = oldest->conn->timeo;
		age = jiffies_to_msecs(now - oldest->sent_at) / 1000;
	}
	spin_unlock(&chan->lock);
	if (n)
		pr_warn("modalfs: modalfsd has not answered %u request%s for %u s or more (oldest: request %llu, op %u, volume %llu, %u s); still waiting (hard mount)\n",
			n, n == 1 ? "" : "s", timeo, id, op, vol, age);
	return n;
}

static bool modalfs_req_of_conn(struct modalfs_req *req, unsigned long conn)
{
	return req->conn == (struct modalfs_conn *)conn;
}

/*
 * conn will never get an answer: -EIO (aborted: umount -f, the sysfs
 * abort file, teardown without a daemon) or -ESTALE (the volume was
 * deleted). Its requests in the table fail with error, and so does every
 * later one; callers waiting for room in the table give up too. Like an
 * aborted FUSE connection it stays that way until unmounted. Returns the
 * number of requests failed.
 */
unsigned int modalfs_conn_fail(struct modalfs_chan *chan,
			       struct modalfs_conn *conn, int error)
{
	unsigned int n;

	spin_lock(&chan->lock);
	if (error == -ESTALE)
		conn->gone = true;
	else
		conn->aborted = true;
	spin_unlock(&chan->lock);
	n = modalfs_chan_fail_matching(chan, modalfs_req_of_conn,
				       (unsigned long)conn, error);
	wake_up_all(&chan->slotq);
	return n;
}

static bool modalfs_req_reads_conn(struct modalfs_req *req, unsigned long conn)
{
	return req->conn == (struct modalfs_conn *)conn &&
	       !modalfs_op_mutates(req->op);
}

/*
 * The last unmount of conn's volume, with no daemon registered: requests
 * that only read fail with EIO (nobody needs their answer), and those
 * that change the volume stay queued for the next daemon, but their
 * callers are done now: the end callbacks of asynchronous ones (WRITE
 * writeback, whose messages carry a copy of the data) run as if the
 * daemon had said 0, so the pages leave writeback and the superblock can
 * go. Later asynchronous requests of conn do the same at submission.
 * Returns how many requests stay queued for the next daemon.
 */
unsigned int modalfs_conn_detach(struct modalfs_chan *chan,
				 struct modalfs_conn *conn)
{
	struct modalfs_req *req, *found;
	modalfs_end_t end;
	unsigned int n;
	void *priv;

	spin_lock(&chan->lock);
	conn->detached = true;
	spin_unlock(&chan->lock);
	modalfs_chan_fail_matching(chan, modalfs_req_reads_conn,
				   (unsigned long)conn, -EIO);
	for (;;) {
		found = NULL;
		spin_lock(&chan->lock);
		list_for_each_entry(req, &chan->reqs, lnode) {
			if (req->conn == conn && req->end) {
				found = req;
				end = req->end;
				priv = req->priv;
				/* A reply from now on completes nobody. */
				req->end = NULL;
				req->priv = NULL;
				refcount_inc(&req->ref);
				break;
			}
		}
		spin_unlock(&chan->lock);
		if (!found)
			break;
		modalfs_req_end_detached(found, end, priv);
		modalfs_req_put(found);
	}
	spin_lock(&chan->lock);
	n = conn->waiting;
	spin_unlock(&chan->lock);
	return n;
}

/*
 * umount -f of one of several mounts of conn's volume: the requests
 * waiting now fail with error, later ones are unaffected. Returns how
 * many failed.
 */
unsigned int modalfs_conn_fail_waiting(struct modalfs_chan *chan,
				       struct modalfs_conn *conn, int error)
{
	unsigned int n;

	n = modalfs_chan_fail_matching(chan, modalfs_req_of_conn,
				       (unsigned long)conn, error);
	wake_up_all(&chan->slotq);
	return n;
}

/*
 * The first request at or after pos (the list head: from the start) that
 * the daemon of generation gen has not been sent; under chan->lock.
 */
static struct modalfs_req *modalfs_next_unsent(struct modalfs_chan *chan,
					       struct list_head *pos, u32 gen)
{
	struct modalfs_req *req;

	req = list_entry(pos, struct modalfs_req, lnode);
	list_for_each_entry_continue(req, &chan->reqs, lnode)
		if ((req->state == MODALFS_REQ_QUEUED ||
		     req->state == MODALFS_REQ_SENT) && req->gen != gen)
			return req;
	return NULL;
}

/*
 * Sends every request the current daemon has not seen, oldest first, in
 * one pass over the table: the scan continues after the request just
 * sent while that one is still in the table (it holds our reference), so
 * thousands of requests left by a dead daemon are not rescanned from the
 * head for each one.
 */
void modalfs_chan_resend(struct modalfs_chan *chan)
{
	struct modalfs_req *req, *prev = NULL;
	u32 gen;

	for (;;) {
		spin_lock(&chan->lock);
		if (!chan->connected || chan->dead) {
			spin_unlock(&chan->lock);
			break;
		}
		gen = chan->gen;
		/* prev left the table (answered): start over from the head. */
		if (prev && (prev->state == MODALFS_REQ_SENT ||
			     prev->state == MODALFS_REQ_QUEUED))
			req = modalfs_next_unsent(chan, &prev->lnode, gen);
		else
			req = modalfs_next_unsent(chan, &chan->reqs, gen);
		if (!req) {
			spin_unlock(&chan->lock);
			break;
		}
		req->state = MODALFS_REQ_SENT;
		req->gen = gen;
		req->sent_at = jiffies;
		refcount_inc(&req->ref);
		spin_unlock(&chan->lock);

		if (prev)
			modalfs_req_put(prev);
		prev = req;
		wake_up_all(&req->waitq);
		if (modalfs_req_transmit(req, gen))
			break;
		cond_resched();
	}
	if (prev)
		modalfs_req_put(prev);
}

static const char *const modalfs_req_state_names[] = {
	[MODALFS_REQ_NEW]	= "new",
	[MODALFS_REQ_QUEUED]	= "queued",
	[MODALFS_REQ_SENT]	= "sent",
	[MODALFS_REQ_REPLYING]	= "replying",
	[MODALFS_REQ_DONE]	= "done",
	[MODALFS_REQ_ABANDONED]	= "abandoned",
};

/*
 * debugfs "requests": what is waiting for the daemon, oldest first, so a
 * stuck caller can be told apart from a lost reply (operations.md).
 */
void modalfs_chan_show(struct modalfs_chan *chan, struct seq_file *m)
{
	struct modalfs_req *req;
	unsigned long now = jiffies;

	spin_lock(&chan->lock);
	seq_printf(m, "daemon %s port %u gen %u inflight %u/%u\n",
		   chan->dead ? "dead" : chan->connected ? "registered" : "absent",
		   chan->connected ? chan->portid : 0, chan->gen,
		   chan->inflight, chan->max_inflight);
	seq_puts(m, "id op state gen age_ms vol ino flags\n");
	list_for_each_entry(req, &chan->reqs, lnode) {
		int st = req->state;

		seq_printf(m, "%llu %u %s %u %u %llu %llu %s%s%s\n",
			   req->id, req->op,
			   st >= 0 && st < ARRAY_SIZE(modalfs_req_state_names) ?
			   modalfs_req_state_names[st] : "?",
			   req->gen, jiffies_to_msecs(now - req->queued_at),
			   req->conn ? req->conn->vol_id : 0, req->ino,
			   req->end ? "async" : "sync",
			   req->background ? ",background" : "",
			   req->deadline ? ",soft" : "");
	}
	spin_unlock(&chan->lock);
}

/* Module exit: no daemon will ever answer; fail everything with ENODEV. */
void modalfs_chan_shutdown(struct modalfs_chan *chan)
{
	struct modalfs_req *req;

	spin_lock(&chan->lock);
	chan->dead = true;
	chan->connected = false;
	spin_unlock(&chan->lock);
	cancel_work_sync(&chan->resend_work);
	cancel_delayed_work_sync(&chan->expire_work);
	wake_up_all(&chan->slotq);
	wake_up_all(&chan->regq);

	for (;;) {
		spin_lock(&chan->lock);
		req = list_first_entry_or_null(&chan->reqs, struct modalfs_req,
					       lnode);
		if (req) {
			__modalfs_unlink(req);
			req->state = MODALFS_REQ_REPLYING;
		}
		spin_unlock(&chan->lock);
		if (!req)
			break;
		req->error = -ENODEV;
		modalfs_req_finish(req);
	}
}
