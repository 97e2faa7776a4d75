// SPDX-License-Identifier: GPL-2.0
/*
 * Included by modalfs_kunit.c: the request table, driven through a fake
 * transport instead of netlink and a daemon.
 */

#define TCHAN_MAX_SENT 32

struct tchan {
	struct modalfs_chan chan;
	int nsent;
	u64 ids[TCHAN_MAX_SENT];
	u32 ports[TCHAN_MAX_SENT];
	int fail;		/* error returned by the next fail_count sends */
	int fail_count;
	int end_calls;
	int end_error;
	void *end_priv;
};

static int tsend(struct modalfs_chan *chan, struct sk_buff *skb, u32 portid)
{
	struct tchan *t = container_of(chan, struct tchan, chan);
	struct nlattr *tb[MODALFS_A_MAX + 1];

	if (t->fail_count > 0) {
		t->fail_count--;
		return t->fail;
	}
	if (modalfs_msg_parse(nlmsg_hdr(skb), tb, NULL) || !tb[MODALFS_A_REQ_ID])
		return -EINVAL;
	if (t->nsent < TCHAN_MAX_SENT) {
		t->ids[t->nsent] = nla_get_u64(tb[MODALFS_A_REQ_ID]);
		t->ports[t->nsent] = portid;
	}
	t->nsent++;
	return 0;
}

static void tend(struct modalfs_req *req)
{
	struct tchan *t = container_of(req->chan, struct tchan, chan);

	t->end_calls++;
	t->end_error = req->error;
	t->end_priv = req->priv;
}

static struct tchan *tchan_new(struct kunit *test)
{
	struct tchan *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
	modalfs_chan_init(&t->chan, tsend);
	return t;
}

static struct modalfs_req *treq(struct kunit *test, struct tchan *t, u32 op)
{
	struct modalfs_req *req = modalfs_req_new(&t->chan, op, 64, GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, req);
	return req;
}

/* Delivers a reply as the REPLY handler would; drops our skb reference. */
static int tdeliver(struct kunit *test, struct tchan *t, struct sk_buff *skb)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	int err;

	err = tparse(skb, tb);
	KUNIT_ASSERT_EQ(test, err, 0);
	err = modalfs_chan_complete(&t->chan, skb, nlmsg_hdr(skb), tb);
	kfree_skb(skb);
	return err;
}

static void chan_ids_unique(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *a = treq(test, t, MODALFS_OP_GETATTR);
	struct modalfs_req *b = treq(test, t, MODALFS_OP_GETATTR);
	struct modalfs_req *c = treq(test, t, MODALFS_OP_STATFS);

	KUNIT_EXPECT_NE(test, a->id, 0ULL);
	KUNIT_EXPECT_LT(test, a->id, b->id);
	KUNIT_EXPECT_LT(test, b->id, c->id);
	KUNIT_EXPECT_EQ(test, c->op, (u32)MODALFS_OP_STATFS);
	modalfs_req_put(a);
	modalfs_req_put(b);
	modalfs_req_put(c);
	modalfs_chan_shutdown(&t->chan);
}

static void chan_queued_without_daemon(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *req = treq(test, t, MODALFS_OP_GETATTR);

	KUNIT_ASSERT_EQ(test, modalfs_req_submit(req), 0);
	KUNIT_EXPECT_EQ(test, req->state, MODALFS_REQ_QUEUED);
	KUNIT_EXPECT_EQ(test, t->nsent, 0);
	KUNIT_EXPECT_PTR_EQ(test, modalfs_chan_find(&t->chan, req->id), req);
	KUNIT_EXPECT_FALSE(test, modalfs_chan_connected(&t->chan));
	modalfs_chan_shutdown(&t->chan);
	KUNIT_EXPECT_EQ(test, req->state, MODALFS_REQ_DONE);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(req), -ENODEV);
	modalfs_req_put(req);
}

static void chan_register_resends_queued(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *a = treq(test, t, MODALFS_OP_GETATTR);
	struct modalfs_req *b = treq(test, t, MODALFS_OP_LOOKUP);

	KUNIT_ASSERT_EQ(test, modalfs_req_submit(a), 0);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(b), 0);
	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 100), 0);
	modalfs_chan_resend(&t->chan);
	KUNIT_ASSERT_EQ(test, t->nsent, 2);
	KUNIT_EXPECT_EQ(test, t->ids[0], a->id);
	KUNIT_EXPECT_EQ(test, t->ids[1], b->id);
	KUNIT_EXPECT_EQ(test, t->ports[0], 100U);
	KUNIT_EXPECT_EQ(test, a->state, MODALFS_REQ_SENT);
	KUNIT_EXPECT_EQ(test, a->gen, t->chan.gen);
	/* Nothing is sent twice to the same daemon. */
	modalfs_chan_resend(&t->chan);
	KUNIT_EXPECT_EQ(test, t->nsent, 2);
	modalfs_chan_shutdown(&t->chan);
	modalfs_req_put(a);
	modalfs_req_put(b);
}

static void chan_sent_when_connected(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *req = treq(test, t, MODALFS_OP_STATFS);

	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 7), 0);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(req), 0);
	KUNIT_EXPECT_EQ(test, t->nsent, 1);
	KUNIT_EXPECT_EQ(test, t->ids[0], req->id);
	KUNIT_EXPECT_EQ(test, t->ports[0], 7U);
	KUNIT_EXPECT_EQ(test, req->state, MODALFS_REQ_SENT);
	modalfs_chan_shutdown(&t->chan);
	modalfs_req_put(req);
}

static void chan_complete_success(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *req = treq(test, t, MODALFS_OP_GETATTR);
	struct modalfs_attr_val v;
	struct sk_buff *skb;

	req->exp.ino = 42;
	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(req), 0);
	skb = treply(test, req->id, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &tattr_default, 0);
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, skb), 0);
	KUNIT_EXPECT_EQ(test, req->state, MODALFS_REQ_DONE);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(req), 0);
	KUNIT_EXPECT_NULL(test, modalfs_chan_find(&t->chan, req->id));
	/* The request keeps the reply alive after the handler returned. */
	KUNIT_ASSERT_EQ(test, modalfs_attr_decode(req->tb[MODALFS_A_ATTR], &v), 0);
	KUNIT_EXPECT_EQ(test, v.ino, 42ULL);
	modalfs_req_put(req);
	modalfs_chan_shutdown(&t->chan);
}

static void chan_complete_errno(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *req = treq(test, t, MODALFS_OP_LOOKUP);

	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(req), 0);
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, treply(test, req->id, ENOENT)), 0);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(req), -ENOENT);
	KUNIT_EXPECT_NULL(test, req->reply);
	modalfs_req_put(req);
	modalfs_chan_shutdown(&t->chan);
}

static void chan_complete_malformed(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *req = treq(test, t, MODALFS_OP_LOOKUP);

	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(req), 0);
	/* Success without the ATTR a LOOKUP needs. */
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, treply(test, req->id, 0)), -EINVAL);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(req), -EIO);
	KUNIT_EXPECT_NULL(test, modalfs_chan_find(&t->chan, req->id));
	modalfs_req_put(req);
	modalfs_chan_shutdown(&t->chan);
}

/* A reply that names a waiting request but fails the policy ends it. */
static void chan_fail_undecodable(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *req = treq(test, t, MODALFS_OP_GETATTR);

	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(req), 0);
	KUNIT_EXPECT_EQ(test, modalfs_chan_fail(&t->chan, req->id), 0);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(req), -EIO);
	KUNIT_EXPECT_NULL(test, modalfs_chan_find(&t->chan, req->id));
	/* Only once: the request has left the table. */
	KUNIT_EXPECT_EQ(test, modalfs_chan_fail(&t->chan, req->id), -ENOENT);
	KUNIT_EXPECT_EQ(test, modalfs_chan_fail(&t->chan, 999), -ENOENT);
	modalfs_req_put(req);
	modalfs_chan_shutdown(&t->chan);
}

/* Not sent to the current daemon: a reply for it cannot be genuine. */
static void chan_fail_queued_ignored(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *req = treq(test, t, MODALFS_OP_GETATTR);

	KUNIT_ASSERT_EQ(test, modalfs_req_submit(req), 0);
	KUNIT_EXPECT_EQ(test, modalfs_chan_fail(&t->chan, req->id), -ENOENT);
	KUNIT_EXPECT_PTR_EQ(test, modalfs_chan_find(&t->chan, req->id), req);
	modalfs_chan_shutdown(&t->chan);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(req), -ENODEV);
	modalfs_req_put(req);
}

static void chan_unknown_id(struct kunit *test)
{
	struct tchan *t = tchan_new(test);

	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, treply(test, 999, 0)), -ENOENT);
	modalfs_chan_shutdown(&t->chan);
}

static void chan_abandon_late_reply(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *req = treq(test, t, MODALFS_OP_UNLINK);
	u64 id = req->id;

	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(req), 0);
	/* Sent: an ordinary signal must not abandon it, a fatal one does. */
	KUNIT_EXPECT_FALSE(test, modalfs_req_abandon(req, true));
	KUNIT_EXPECT_TRUE(test, modalfs_req_abandon(req, false));
	KUNIT_EXPECT_EQ(test, req->state, MODALFS_REQ_ABANDONED);
	KUNIT_EXPECT_NULL(test, modalfs_chan_find(&t->chan, id));
	modalfs_req_put(req);
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, treply(test, id, 0)), -ENOENT);
	modalfs_chan_shutdown(&t->chan);
}

static void chan_abandon_queued(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *req = treq(test, t, MODALFS_OP_GETATTR);

	KUNIT_ASSERT_EQ(test, modalfs_req_submit(req), 0);
	KUNIT_EXPECT_TRUE(test, modalfs_req_abandon(req, true));
	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	modalfs_chan_resend(&t->chan);
	/* The new daemon never hears of it. */
	KUNIT_EXPECT_EQ(test, t->nsent, 0);
	modalfs_req_put(req);
	modalfs_chan_shutdown(&t->chan);
}

static void chan_register_busy(struct kunit *test)
{
	struct tchan *t = tchan_new(test);

	KUNIT_EXPECT_EQ(test, modalfs_chan_register(&t->chan, 100), 0);
	KUNIT_EXPECT_EQ(test, modalfs_chan_register(&t->chan, 100), 0);
	KUNIT_EXPECT_EQ(test, modalfs_chan_register(&t->chan, 200), -EBUSY);
	/* Another socket closing does not unregister the daemon. */
	modalfs_chan_release(&t->chan, 200);
	KUNIT_EXPECT_TRUE(test, modalfs_chan_connected(&t->chan));
	modalfs_chan_release(&t->chan, 100);
	KUNIT_EXPECT_FALSE(test, modalfs_chan_connected(&t->chan));
	KUNIT_EXPECT_EQ(test, modalfs_chan_register(&t->chan, 200), 0);
	KUNIT_EXPECT_EQ(test, t->chan.portid, 200U);
	modalfs_chan_shutdown(&t->chan);
}

static void chan_reconnect_resends_same_id(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *a = treq(test, t, MODALFS_OP_WRITE);
	struct modalfs_req *b = treq(test, t, MODALFS_OP_FSYNC);

	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 100), 0);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(a), 0);
	modalfs_chan_release(&t->chan, 100);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(b), 0);
	KUNIT_EXPECT_EQ(test, b->state, MODALFS_REQ_QUEUED);
	/* The old daemon cannot answer any more. */
	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 200), 0);
	modalfs_chan_resend(&t->chan);
	KUNIT_ASSERT_EQ(test, t->nsent, 3);
	KUNIT_EXPECT_EQ(test, t->ids[0], a->id);
	KUNIT_EXPECT_EQ(test, t->ports[0], 100U);
	KUNIT_EXPECT_EQ(test, t->ids[1], a->id);
	KUNIT_EXPECT_EQ(test, t->ports[1], 200U);
	KUNIT_EXPECT_EQ(test, t->ids[2], b->id);
	KUNIT_EXPECT_EQ(test, t->ports[2], 200U);
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, treply(test, b->id, 0)), 0);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(b), 0);
	modalfs_chan_shutdown(&t->chan);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(a), -ENODEV);
	modalfs_req_put(a);
	modalfs_req_put(b);
}

static void chan_send_failure_requeues(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *req = treq(test, t, MODALFS_OP_GETATTR);

	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	t->fail = -ECONNREFUSED;
	t->fail_count = 1;
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(req), 0);
	KUNIT_EXPECT_EQ(test, req->state, MODALFS_REQ_QUEUED);
	KUNIT_EXPECT_EQ(test, t->nsent, 0);
	modalfs_chan_resend(&t->chan);
	KUNIT_EXPECT_EQ(test, t->nsent, 1);
	KUNIT_EXPECT_EQ(test, req->state, MODALFS_REQ_SENT);
	modalfs_chan_shutdown(&t->chan);
	modalfs_req_put(req);
}

static void chan_send_busy_retries(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *req = treq(test, t, MODALFS_OP_GETATTR);

	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	/* A full receive queue: back off and try again. */
	t->fail = -EAGAIN;
	t->fail_count = 3;
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(req), 0);
	KUNIT_EXPECT_EQ(test, t->nsent, 1);
	KUNIT_EXPECT_EQ(test, t->fail_count, 0);
	KUNIT_EXPECT_EQ(test, req->state, MODALFS_REQ_SENT);
	modalfs_chan_shutdown(&t->chan);
	modalfs_req_put(req);
}

static void chan_async_end(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *req = treq(test, t, MODALFS_OP_EVICT);
	u64 id = req->id;
	int marker;

	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	modalfs_req_async(req, tend, &marker);
	KUNIT_EXPECT_EQ(test, t->end_calls, 0);
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, treply(test, id, EIO)), 0);
	KUNIT_EXPECT_EQ(test, t->end_calls, 1);
	KUNIT_EXPECT_EQ(test, t->end_error, -EIO);
	KUNIT_EXPECT_PTR_EQ(test, t->end_priv, (void *)&marker);
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, treply(test, id, 0)), -ENOENT);
	modalfs_chan_shutdown(&t->chan);
	KUNIT_EXPECT_EQ(test, t->end_calls, 1);
}

static void chan_shutdown_fails_all(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *a = treq(test, t, MODALFS_OP_READ);
	struct modalfs_req *b = treq(test, t, MODALFS_OP_UMOUNT);
	struct modalfs_req *c;

	KUNIT_ASSERT_EQ(test, modalfs_req_submit(a), 0);
	modalfs_req_async(b, tend, NULL);
	modalfs_chan_shutdown(&t->chan);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(a), -ENODEV);
	KUNIT_EXPECT_EQ(test, t->end_calls, 1);
	KUNIT_EXPECT_EQ(test, t->end_error, -ENODEV);
	KUNIT_EXPECT_TRUE(test, list_empty(&t->chan.reqs));
	/* Nothing new gets in, and no daemon may register. */
	c = treq(test, t, MODALFS_OP_STATFS);
	KUNIT_EXPECT_EQ(test, modalfs_req_call(c), -ENODEV);
	KUNIT_EXPECT_EQ(test, modalfs_chan_register(&t->chan, 1), -ENODEV);
	modalfs_req_put(c);
	modalfs_req_put(a);
}

static void chan_reply_to_unsent(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *req = treq(test, t, MODALFS_OP_GETATTR);

	KUNIT_ASSERT_EQ(test, modalfs_req_submit(req), 0);
	/* Nobody was sent this id, so nobody may answer it. */
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, treply(test, req->id, 0)), -ENOENT);
	KUNIT_EXPECT_EQ(test, req->state, MODALFS_REQ_QUEUED);
	modalfs_chan_shutdown(&t->chan);
	modalfs_req_put(req);
}

/*
 * Ids are a random per-load epoch in the high 32 bits and a counter from
 * 1 in the low ones: unique across module loads whatever the clock does.
 */
static void chan_ids_epoch(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct tchan *u = tchan_new(test);
	struct modalfs_req *a = treq(test, t, MODALFS_OP_GETATTR);
	struct modalfs_req *b = treq(test, t, MODALFS_OP_GETATTR);
	struct modalfs_req *c = treq(test, u, MODALFS_OP_GETATTR);

	KUNIT_EXPECT_EQ(test, a->id & 0xffffffffULL, 1ULL);
	KUNIT_EXPECT_EQ(test, b->id, a->id + 1);
	KUNIT_EXPECT_EQ(test, c->id & 0xffffffffULL, 1ULL);
	/* Two loads share an epoch with probability 2^-32. */
	KUNIT_EXPECT_NE(test, a->id >> 32, c->id >> 32);
	modalfs_req_put(a);
	modalfs_req_put(b);
	modalfs_req_put(c);
	/* Even a counter at the very end of the range never yields 0. */
	atomic64_set(&t->chan.next_id, U64_MAX);
	a = treq(test, t, MODALFS_OP_GETATTR);
	KUNIT_EXPECT_EQ(test, a->id, 1ULL);
	modalfs_req_put(a);
	modalfs_chan_shutdown(&t->chan);
	modalfs_chan_shutdown(&u->chan);
}

static struct modalfs_conn *tconn(struct kunit *test, bool soft,
				  unsigned int timeo);
static struct modalfs_req *treq_conn(struct kunit *test, struct tchan *t,
				     u32 op, struct modalfs_conn *conn);

/* Makes sig pending for the test's own thread, as kill(2) would. */
static void tsignal(int sig)
{
	spin_lock_irq(&current->sighand->siglock);
	sigaddset(&current->pending.signal, sig);
	set_tsk_thread_flag(current, TIF_SIGPENDING);
	spin_unlock_irq(&current->sighand->siglock);
}

/*
 * A signal while no daemon ever saw the request: the syscall restarts
 * (SA_RESTART handlers, SIGSTOP, the freezer) instead of failing EINTR.
 */
static void chan_signal_restarts(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *req = treq(test, t, MODALFS_OP_GETATTR);

	KUNIT_ASSERT_EQ(test, modalfs_req_submit(req), 0);
	tsignal(SIGUSR1);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(req), -ERESTARTSYS);
	flush_signals(current);
	/* It left the table: a new daemon never hears of it. */
	KUNIT_EXPECT_NULL(test, modalfs_chan_find(&t->chan, req->id));
	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	modalfs_chan_resend(&t->chan);
	KUNIT_EXPECT_EQ(test, t->nsent, 0);
	modalfs_chan_shutdown(&t->chan);
	modalfs_req_put(req);
}

/* A full receive queue does not keep a killed sender retrying. */
static void chan_send_fatal_signal(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *req = treq(test, t, MODALFS_OP_WRITE);

	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	t->fail = -EAGAIN;
	t->fail_count = 50;
	tsignal(SIGKILL);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(req), 0);
	flush_signals(current);
	/* Given up at once, back to QUEUED for the resend worker. */
	KUNIT_EXPECT_GT(test, t->fail_count, 30);
	KUNIT_EXPECT_EQ(test, t->nsent, 0);
	flush_work(&t->chan.resend_work);
	KUNIT_EXPECT_EQ(test, t->nsent, 1);
	KUNIT_EXPECT_EQ(test, req->state, MODALFS_REQ_SENT);
	modalfs_chan_shutdown(&t->chan);
	modalfs_req_put(req);
}

/*
 * A caller killed while the daemon holds its UNLINK: the request stays
 * in the table and its reply is still taken (and invalidates caches).
 */
static void chan_killed_mutation_tracked(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_conn *conn = tconn(test, false, 60);
	struct modalfs_req *req = treq_conn(test, t, MODALFS_OP_UNLINK, conn);
	struct modalfs_req *get = treq(test, t, MODALFS_OP_GETATTR);
	u64 id = req->id;

	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(req), 0);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(get), 0);
	tsignal(SIGKILL);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(req), -EINTR);
	/* A read-only request is simply abandoned. */
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(get), -EINTR);
	flush_signals(current);
	KUNIT_EXPECT_NULL(test, modalfs_chan_find(&t->chan, get->id));
	KUNIT_EXPECT_PTR_EQ(test, modalfs_chan_find(&t->chan, id), req);
	/* The caches are distrusted now, and again once it is answered. */
	KUNIT_EXPECT_EQ(test, atomic_read(&conn->inval), 1);
	modalfs_req_put(req);
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, treply(test, id, 0)), 0);
	KUNIT_EXPECT_NULL(test, modalfs_chan_find(&t->chan, id));
	KUNIT_EXPECT_EQ(test, atomic_read(&conn->inval), 2);
	KUNIT_EXPECT_EQ(test, t->chan.inflight, 0U);
	modalfs_req_put(get);
	modalfs_chan_shutdown(&t->chan);
	modalfs_conn_put(conn);
}

/*
 * A well-formed success reply to one of these tests' WRITEs, which carry
 * no data (exp.size 0): the protocol's SIZE is required, and a bare
 * errno 0 is a malformed reply that fails the request with EIO.
 */
static struct sk_buff *twrite_reply(struct kunit *test, u64 id)
{
	struct sk_buff *skb = treply(test, id, 0);

	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_SIZE, 0), 0);
	return skb;
}

/* Only the daemon generation a request was sent to may answer it. */
static void chan_reply_other_gen(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *req = treq(test, t, MODALFS_OP_GETATTR);
	struct sk_buff *skb;

	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(req), 0);
	modalfs_chan_release(&t->chan, 1);
	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 2), 0);
	/* Not resent yet: the new daemon cannot know this id. */
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, treply(test, req->id, 0)), -ENOENT);
	KUNIT_EXPECT_EQ(test, req->state, MODALFS_REQ_SENT);
	modalfs_chan_resend(&t->chan);
	/* A GETATTR's success carries the ATTR it asked for. */
	skb = treply(test, req->id, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &tattr_default, 0);
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, skb), 0);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(req), 0);
	modalfs_chan_shutdown(&t->chan);
	modalfs_req_put(req);
}

/*
 * Background writeback and readahead are not queued beyond
 * max_background asynchronous requests, nor for an absent daemon.
 */
static void chan_background_cap(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *a = treq(test, t, MODALFS_OP_WRITE);
	struct modalfs_req *b = treq(test, t, MODALFS_OP_WRITE);
	struct modalfs_req *c = treq(test, t, MODALFS_OP_EVICT);
	u64 aid = a->id;

	/* No daemon: refused, nothing consumed or called. */
	KUNIT_EXPECT_EQ(test, modalfs_req_async_try(a, tend, NULL), -EBUSY);
	KUNIT_EXPECT_EQ(test, t->end_calls, 0);
	KUNIT_EXPECT_EQ(test, t->chan.inflight, 0U);
	t->chan.max_background = 1;
	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	KUNIT_EXPECT_EQ(test, modalfs_req_async_try(a, tend, NULL), 0);
	KUNIT_EXPECT_EQ(test, t->chan.nbackground, 1U);
	KUNIT_EXPECT_EQ(test, modalfs_req_async_try(b, tend, NULL), -EBUSY);
	/* Teardown work is never refused. */
	modalfs_req_async(c, NULL, NULL);
	KUNIT_EXPECT_EQ(test, t->chan.nbackground, 2U);
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, twrite_reply(test, aid)), 0);
	KUNIT_EXPECT_EQ(test, t->end_calls, 1);
	KUNIT_EXPECT_EQ(test, modalfs_req_async_try(b, tend, NULL), -EBUSY);
	modalfs_chan_shutdown(&t->chan);
	KUNIT_EXPECT_EQ(test, t->chan.nbackground, 0U);
	modalfs_req_put(b);
}

/*
 * The last unmount with no daemon: reads fail, WRITEs complete for their
 * caller at once and wait in the table for the next daemon.
 */
static void chan_detach(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_conn *conn = tconn(test, false, 60);
	struct modalfs_req *w = treq_conn(test, t, MODALFS_OP_WRITE, conn);
	struct modalfs_req *r = treq_conn(test, t, MODALFS_OP_READ, conn);
	struct modalfs_req *w2 = treq_conn(test, t, MODALFS_OP_WRITE, conn);
	int marker;
	u64 wid = w->id, w2id = w2->id;

	modalfs_req_get(w);
	modalfs_req_async(w, tend, &marker);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(r), 0);
	KUNIT_EXPECT_EQ(test, modalfs_conn_detach(&t->chan, conn), 1U);
	KUNIT_EXPECT_EQ(test, t->end_calls, 1);
	KUNIT_EXPECT_EQ(test, t->end_error, 0);
	KUNIT_EXPECT_PTR_EQ(test, t->end_priv, (void *)&marker);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(r), -EIO);
	/* Later WRITEs of the volume too, even deferrable ones. */
	KUNIT_EXPECT_EQ(test, modalfs_req_async_try(w2, tend, NULL), 0);
	KUNIT_EXPECT_EQ(test, t->end_calls, 2);
	KUNIT_EXPECT_EQ(test, t->chan.inflight, 2U);
	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	modalfs_chan_resend(&t->chan);
	KUNIT_EXPECT_EQ(test, t->nsent, 2);
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, twrite_reply(test, wid)), 0);
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, twrite_reply(test, w2id)), 0);
	/* Nobody is completed twice. */
	KUNIT_EXPECT_EQ(test, t->end_calls, 2);
	KUNIT_EXPECT_EQ(test, t->chan.inflight, 0U);
	modalfs_chan_shutdown(&t->chan);
	modalfs_req_put(w);
	modalfs_req_put(r);
	modalfs_conn_put(conn);
}

/*
 * Resending a long table after a restart is linear: 20,000 requests go
 * out in well under two seconds (quadratic rescans took minutes).
 */
#define TRESEND_N 20000
static void chan_resend_linear(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req **reqs;
	unsigned long start, ms;
	int i;

	reqs = kvcalloc(TRESEND_N, sizeof(*reqs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, reqs);
	t->chan.max_inflight = TRESEND_N;
	for (i = 0; i < TRESEND_N; i++) {
		reqs[i] = modalfs_req_new(&t->chan, MODALFS_OP_GETATTR, 0,
					  GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, reqs[i]);
		KUNIT_ASSERT_EQ(test, modalfs_req_submit(reqs[i]), 0);
	}
	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	start = jiffies;
	modalfs_chan_resend(&t->chan);
	ms = jiffies_to_msecs(jiffies - start);
	kunit_info(test, "resent %d requests in %lu ms\n", t->nsent, ms);
	KUNIT_EXPECT_EQ(test, t->nsent, TRESEND_N);
	KUNIT_EXPECT_LT(test, ms, 2000UL);
	modalfs_chan_shutdown(&t->chan);
	for (i = 0; i < TRESEND_N; i++)
		modalfs_req_put(reqs[i]);
	kvfree(reqs);
}

static struct modalfs_conn *tconn(struct kunit *test, bool soft,
				  unsigned int timeo)
{
	struct modalfs_conn *conn = modalfs_conn_new(42, soft, timeo);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, conn);
	return conn;
}

static struct modalfs_req *treq_conn(struct kunit *test, struct tchan *t,
				     u32 op, struct modalfs_conn *conn)
{
	struct modalfs_req *req = treq(test, t, op);

	modalfs_req_set_conn(req, conn);
	return req;
}

static void chan_soft_expires(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_conn *soft = tconn(test, true, 5);
	struct modalfs_conn *hard = tconn(test, false, 5);
	struct modalfs_req *a = treq_conn(test, t, MODALFS_OP_GETATTR, soft);
	struct modalfs_req *b = treq_conn(test, t, MODALFS_OP_GETATTR, hard);
	unsigned long now = jiffies;

	/* No daemon at all: a soft request still gives up in time. */
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(a), 0);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(b), 0);
	KUNIT_EXPECT_NE(test, a->deadline, 0UL);
	KUNIT_EXPECT_EQ(test, b->deadline, 0UL);
	KUNIT_EXPECT_EQ(test, soft->waiting, 1);
	KUNIT_EXPECT_EQ(test, t->chan.nsoft, 1U);
	KUNIT_EXPECT_EQ(test, modalfs_chan_expire(&t->chan, now + 4 * HZ), 0U);
	KUNIT_EXPECT_EQ(test, a->state, MODALFS_REQ_QUEUED);
	KUNIT_EXPECT_EQ(test, modalfs_chan_expire(&t->chan, now + 6 * HZ), 1U);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(a), -EIO);
	KUNIT_EXPECT_EQ(test, soft->waiting, 0);
	KUNIT_EXPECT_EQ(test, t->chan.nsoft, 0U);
	/* A hard request waits however long it takes. */
	KUNIT_EXPECT_EQ(test, modalfs_chan_expire(&t->chan, now + 3600 * HZ), 0U);
	KUNIT_EXPECT_EQ(test, b->state, MODALFS_REQ_QUEUED);
	/* The daemon's late answer to the expired request is dropped. */
	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	modalfs_chan_resend(&t->chan);
	KUNIT_EXPECT_EQ(test, t->nsent, 1);
	KUNIT_EXPECT_EQ(test, t->ids[0], b->id);
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, treply(test, a->id, 0)), -ENOENT);
	modalfs_chan_shutdown(&t->chan);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(b), -ENODEV);
	modalfs_req_put(a);
	modalfs_req_put(b);
	modalfs_conn_put(soft);
	modalfs_conn_put(hard);
}

/*
 * A hard request the live daemon sits on for timeo seconds is logged
 * once ("still waiting"); queued, soft, already-logged and answered ones
 * are not. The clock restarts when the request is sent to a new daemon.
 */
static void chan_slow_warned_once(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_conn *hard = tconn(test, false, 10);
	struct modalfs_conn *soft = tconn(test, true, 10);
	struct modalfs_req *q = treq_conn(test, t, MODALFS_OP_LOOKUP, hard);
	struct modalfs_req *a, *b, *c;
	unsigned long now;

	/* Queued with no daemon: waiting for one, not for an answer. */
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(q), 0);
	KUNIT_EXPECT_EQ(test, modalfs_chan_warn_slow(&t->chan, jiffies + 3600 * HZ), 0U);
	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	modalfs_chan_resend(&t->chan);
	a = treq_conn(test, t, MODALFS_OP_READ, hard);
	b = treq_conn(test, t, MODALFS_OP_GETATTR, soft);
	c = treq_conn(test, t, MODALFS_OP_STATFS, hard);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(a), 0);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(b), 0);
	now = jiffies;
	KUNIT_EXPECT_EQ(test, modalfs_chan_warn_slow(&t->chan, now + 9 * HZ), 0U);
	/* q (resent just now) and a; not the soft b. */
	KUNIT_EXPECT_EQ(test, modalfs_chan_warn_slow(&t->chan, now + 11 * HZ), 2U);
	KUNIT_EXPECT_TRUE(test, q->slow_warned && a->slow_warned);
	KUNIT_EXPECT_FALSE(test, b->slow_warned);
	/* Logged once each, however long it goes on. */
	KUNIT_EXPECT_EQ(test, modalfs_chan_warn_slow(&t->chan, now + 100 * HZ), 0U);
	/* An answer takes it out; a new request has its own clock. */
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, treply(test, a->id, EIO)), 0);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(a), -EIO);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(c), 0);
	KUNIT_EXPECT_EQ(test, modalfs_chan_warn_slow(&t->chan, jiffies + 5 * HZ), 0U);
	KUNIT_EXPECT_EQ(test, modalfs_chan_warn_slow(&t->chan, jiffies + 10 * HZ), 1U);
	modalfs_chan_shutdown(&t->chan);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(q), -ENODEV);
	modalfs_req_put(q);
	modalfs_req_put(a);
	modalfs_req_put(b);
	modalfs_req_put(c);
	modalfs_conn_put(hard);
	modalfs_conn_put(soft);
}

/* The delayed work, not only modalfs_chan_expire, ends a soft wait. */
static void chan_soft_expiry_work(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_conn *soft = tconn(test, true, 1);
	struct modalfs_req *req = treq_conn(test, t, MODALFS_OP_READ, soft);
	unsigned long start = jiffies;

	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	KUNIT_EXPECT_EQ(test, modalfs_req_call(req), -EIO);
	KUNIT_EXPECT_GE(test, jiffies - start, (unsigned long)HZ);
	KUNIT_EXPECT_LT(test, jiffies - start, 3UL * HZ);
	KUNIT_EXPECT_NULL(test, modalfs_chan_find(&t->chan, req->id));
	modalfs_req_put(req);
	modalfs_chan_shutdown(&t->chan);
	modalfs_conn_put(soft);
}

static void chan_abort_conn(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_conn *c1 = tconn(test, false, 60);
	struct modalfs_conn *c2 = tconn(test, false, 60);
	struct modalfs_req *queued = treq_conn(test, t, MODALFS_OP_GETATTR, c1);
	struct modalfs_req *sent, *other, *later;
	u64 sent_id;

	KUNIT_ASSERT_EQ(test, modalfs_req_submit(queued), 0);
	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	sent = treq_conn(test, t, MODALFS_OP_UNLINK, c1);
	other = treq_conn(test, t, MODALFS_OP_GETATTR, c2);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(sent), 0);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(other), 0);
	sent_id = sent->id;
	KUNIT_EXPECT_EQ(test, c1->waiting, 2);
	KUNIT_EXPECT_EQ(test, t->chan.inflight, 3U);

	KUNIT_EXPECT_EQ(test, modalfs_conn_fail(&t->chan, c1, -EIO), 2U);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(queued), -EIO);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(sent), -EIO);
	KUNIT_EXPECT_EQ(test, c1->waiting, 0);
	KUNIT_EXPECT_EQ(test, t->chan.inflight, 1U);
	/* Another volume's request is untouched. */
	KUNIT_EXPECT_EQ(test, other->state, MODALFS_REQ_SENT);
	/* The connection stays aborted: nothing new is even sent. */
	later = treq_conn(test, t, MODALFS_OP_GETATTR, c1);
	KUNIT_EXPECT_EQ(test, modalfs_req_call(later), -EIO);
	KUNIT_EXPECT_EQ(test, t->nsent, 2);
	/* A reply to the aborted request is dropped like an unknown id. */
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, treply(test, sent_id, 0)), -ENOENT);
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, treply(test, other->id, ENOENT)), 0);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(other), -ENOENT);
	modalfs_req_put(queued);
	modalfs_req_put(sent);
	modalfs_req_put(other);
	modalfs_req_put(later);
	modalfs_chan_shutdown(&t->chan);
	modalfs_conn_put(c1);
	modalfs_conn_put(c2);
}

/* A deleted volume: ESTALE for what waits and for what comes, async too. */
static void chan_gone_estale(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_conn *c = tconn(test, false, 60);
	struct modalfs_req *a = treq_conn(test, t, MODALFS_OP_READ, c);
	struct modalfs_req *b;

	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(a), 0);
	KUNIT_EXPECT_EQ(test, modalfs_conn_fail(&t->chan, c, -ESTALE), 1U);
	KUNIT_EXPECT_TRUE(test, c->gone);
	KUNIT_EXPECT_FALSE(test, c->aborted);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(a), -ESTALE);
	b = treq_conn(test, t, MODALFS_OP_EVICT, c);
	modalfs_req_async(b, tend, NULL);
	KUNIT_EXPECT_EQ(test, t->end_calls, 1);
	KUNIT_EXPECT_EQ(test, t->end_error, -ESTALE);
	KUNIT_EXPECT_EQ(test, t->nsent, 1);
	modalfs_req_put(a);
	modalfs_chan_shutdown(&t->chan);
	modalfs_conn_put(c);
}

static void chan_inflight_cap(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_conn *soft = tconn(test, true, 1);
	struct modalfs_req *a = treq(test, t, MODALFS_OP_GETATTR);
	struct modalfs_req *b = treq(test, t, MODALFS_OP_GETATTR);
	struct modalfs_req *c = treq(test, t, MODALFS_OP_EVICT);
	struct modalfs_req *d = treq(test, t, MODALFS_OP_GETATTR);
	struct modalfs_req *e = treq_conn(test, t, MODALFS_OP_GETATTR, soft);
	unsigned long start;

	t->chan.max_inflight = 2;
	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	KUNIT_ASSERT_EQ(test, __modalfs_req_submit(a, true), 0);
	KUNIT_ASSERT_EQ(test, __modalfs_req_submit(b, true), 0);
	/* Full: a synchronous caller must wait... */
	KUNIT_EXPECT_EQ(test, __modalfs_req_submit(d, true), -EAGAIN);
	KUNIT_EXPECT_NULL(test, modalfs_chan_find(&t->chan, d->id));
	/* ...asynchronous ones (teardown, writeback) never do. */
	modalfs_req_get(c);
	modalfs_req_async(c, NULL, NULL);
	KUNIT_EXPECT_EQ(test, c->state, MODALFS_REQ_SENT);
	KUNIT_EXPECT_EQ(test, t->chan.inflight, 3U);
	/* A soft caller waits for room no longer than timeo. */
	start = jiffies;
	KUNIT_EXPECT_EQ(test, modalfs_req_call(e), -EIO);
	KUNIT_EXPECT_GE(test, jiffies - start, (unsigned long)HZ);
	KUNIT_EXPECT_EQ(test, t->nsent, 3);
	/* Answers make room again. */
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, treply(test, a->id, ENOENT)), 0);
	KUNIT_EXPECT_EQ(test, tdeliver(test, t, treply(test, c->id, 0)), 0);
	KUNIT_EXPECT_EQ(test, t->chan.inflight, 1U);
	KUNIT_EXPECT_EQ(test, __modalfs_req_submit(d, true), 0);
	KUNIT_EXPECT_EQ(test, d->state, MODALFS_REQ_SENT);
	modalfs_chan_shutdown(&t->chan);
	KUNIT_EXPECT_EQ(test, t->chan.inflight, 0U);
	modalfs_req_put(a);
	modalfs_req_put(b);
	modalfs_req_put(c);
	modalfs_req_put(d);
	modalfs_req_put(e);
	modalfs_conn_put(soft);
}

/* Background writeback never waits for a daemon that is not there. */
static void chan_background_gives_up(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *a = treq(test, t, MODALFS_OP_SETATTR);
	struct modalfs_req *b = treq(test, t, MODALFS_OP_SETATTR);
	struct modalfs_req *c = treq(test, t, MODALFS_OP_GETATTR);

	a->background = true;
	b->background = true;
	KUNIT_EXPECT_EQ(test, modalfs_req_call(a), -ENOTCONN);
	KUNIT_EXPECT_EQ(test, t->chan.inflight, 0U);
	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 1), 0);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(b), 0);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(c), 0);
	KUNIT_EXPECT_EQ(test, b->state, MODALFS_REQ_SENT);
	/* The daemon dies: b fails at once, c waits for the next daemon. */
	modalfs_chan_release(&t->chan, 1);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(b), -ENOTCONN);
	KUNIT_EXPECT_EQ(test, c->state, MODALFS_REQ_SENT);
	KUNIT_EXPECT_EQ(test, t->chan.inflight, 1U);
	modalfs_chan_shutdown(&t->chan);
	KUNIT_EXPECT_EQ(test, modalfs_req_wait(c), -ENODEV);
	modalfs_req_put(a);
	modalfs_req_put(b);
	modalfs_req_put(c);
}

/* debugfs modalfs/requests: the daemon line, then the table oldest first. */
static void chan_debugfs_show(struct kunit *test)
{
	struct tchan *t = tchan_new(test);
	struct modalfs_req *a = treq(test, t, MODALFS_OP_GETATTR);
	struct modalfs_req *b = treq(test, t, MODALFS_OP_READ);
	struct seq_file m = { .size = 1024 };
	u64 bid = b->id;
	char want[96];
	char *pa, *pb;

	m.buf = kunit_kzalloc(test, m.size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, m.buf);
	KUNIT_ASSERT_EQ(test, modalfs_req_submit(a), 0);
	KUNIT_ASSERT_EQ(test, modalfs_chan_register(&t->chan, 9), 0);
	modalfs_req_async(b, tend, NULL);
	modalfs_chan_show(&t->chan, &m);
	KUNIT_ASSERT_FALSE(test, seq_has_overflowed(&m));
	KUNIT_EXPECT_PTR_EQ(test, strstr(m.buf,
			"daemon registered port 9 gen 1 inflight 2/1024\n"), m.buf);
	snprintf(want, sizeof(want), "\n%llu %u queued 0 ", a->id,
		 MODALFS_OP_GETATTR);
	pa = strstr(m.buf, want);
	KUNIT_EXPECT_PTR_NE(test, pa, NULL);
	snprintf(want, sizeof(want), "\n%llu %u sent 1 ", bid, MODALFS_OP_READ);
	pb = strstr(m.buf, want);
	KUNIT_EXPECT_PTR_NE(test, pb, NULL);
	KUNIT_EXPECT_TRUE(test, pa && pb && pa < pb);
	KUNIT_EXPECT_PTR_NE(test, pb ? strstr(pb, " 0 0 async\n") : NULL, NULL);
	KUNIT_EXPECT_PTR_NE(test, pa ? strstr(pa, " 0 0 sync\n") : NULL, NULL);
	modalfs_chan_shutdown(&t->chan);
	m.count = 0;
	memset(m.buf, 0, m.size);
	modalfs_chan_show(&t->chan, &m);
	KUNIT_EXPECT_STREQ(test, m.buf, "daemon dead port 0 gen 1 inflight 0/1024\n"
			   "id op state gen age_ms vol ino flags\n");
	modalfs_req_put(a);
}

static struct kunit_case modalfs_channel_cases[] = {
	KUNIT_CASE(chan_background_gives_up),
	KUNIT_CASE(chan_ids_epoch),
	KUNIT_CASE(chan_signal_restarts),
	KUNIT_CASE(chan_send_fatal_signal),
	KUNIT_CASE(chan_killed_mutation_tracked),
	KUNIT_CASE(chan_reply_other_gen),
	KUNIT_CASE(chan_resend_linear),
	KUNIT_CASE(chan_background_cap),
	KUNIT_CASE(chan_detach),
	KUNIT_CASE(chan_soft_expires),
	KUNIT_CASE(chan_soft_expiry_work),
	KUNIT_CASE(chan_slow_warned_once),
	KUNIT_CASE(chan_abort_conn),
	KUNIT_CASE(chan_gone_estale),
	KUNIT_CASE(chan_inflight_cap),
	KUNIT_CASE(chan_ids_unique),
	KUNIT_CASE(chan_queued_without_daemon),
	KUNIT_CASE(chan_register_resends_queued),
	KUNIT_CASE(chan_sent_when_connected),
	KUNIT_CASE(chan_complete_success),
	KUNIT_CASE(chan_complete_errno),
	KUNIT_CASE(chan_complete_malformed),
	KUNIT_CASE(chan_fail_undecodable),
	KUNIT_CASE(chan_fail_queued_ignored),
	KUNIT_CASE(chan_unknown_id),
	KUNIT_CASE(chan_abandon_late_reply),
	KUNIT_CASE(chan_abandon_queued),
	KUNIT_CASE(chan_register_busy),
	KUNIT_CASE(chan_reconnect_resends_same_id),
	KUNIT_CASE(chan_send_failure_requeues),
	KUNIT_CASE(chan_send_busy_retries),
	KUNIT_CASE(chan_async_end),
	KUNIT_CASE(chan_shutdown_fails_all),
	KUNIT_CASE(chan_reply_to_unsent),
	KUNIT_CASE(chan_debugfs_show),
	{}
};

static struct kunit_suite modalfs_channel_suite = {
	.name = "modalfs_channel",
	.test_cases = modalfs_channel_cases,
};
