// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Kernel channel over generic netlink (libnl-genl-3).
 *
 * One receive thread reads REQUESTs and queues them; a pool of workers
 * runs them against the store and sends the REPLY. A write op goes on to
 * the store's writer thread without its worker waiting for it; its reply
 * comes back through write_done, which sends it (or, for an ASYNC one,
 * has a worker send it). Requests marked
 * MODALFS_A_ASYNC are barriers (netlink/modalfs.h section 3b): whatever
 * arrives after one waits in the held list until every ASYNC request
 * before it has been answered. libnl sockets are not
 * thread-safe, so sends are serialised by send_lock; the receive thread
 * only reads the socket.
 *
 * Retransmissions: after a daemon restart the kernel resends requests the
 * previous daemon never answered, with the same id. Idempotent ops simply
 * run again; non-idempotent ones are answered from the persistent
 * duplicate-request cache when their first run committed (ops.c), so e.g.
 * a CREATE that committed just before the crash is not answered EEXIST.
 *
 * Test hook: with MODALFSD_FAULT_DIE_BEFORE_REPLY=N in the environment the
 * daemon exits (status 3) right after running the first request of op N,
 * before its reply is sent: the committed-but-unanswered case.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/family.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "fault.h"
#include "genl.h"
#include "log.h"
#include "ops.h"
#include "order.h"

/*
 * Socket buffers of the kernel channel. Receive: the kernel's background
 * cap (16 MiB of READ/WRITE data) with room to spare, so that its sends
 * rarely have to back off; send: a READ reply is up to MODALFS_MSG_MAX
 * (1 MiB and some), and netlink refuses a datagram larger than the send
 * buffer with EMSGSIZE.
 */
#define SOCK_RCVBUF (32 << 20)
#define SOCK_SNDBUF (8 << 20)

struct job {
	struct job *next;
	struct nlmsghdr *nlh;	/* malloc'd copy of one request */
	struct modalfs_order_item ord;	/* in the ordering gate (3b) */
	/* An ASYNC one answered by the writer thread, for a worker to send. */
	struct nl_msg *reply;
	uint64_t id;
};

/* A FIFO of jobs, chained by next. */
struct job_list {
	struct job *head, *tail;
};

static void jobs_push(struct job_list *l, struct job *j)
{
	j->next = NULL;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static struct job *jobs_pop(struct job_list *l)
{
	struct job *j = l->head;

	if (j) {
		l->head = j->next;
		if (!l->head)
			l->tail = NULL;
	}
	return j;
}

static struct job *ord_job(struct modalfs_order_item *it)
{
	return (struct job *)((char *)it - offsetof(struct job, ord));
}

static struct {
	struct modalfs_store *st;
	void (*fatal)(int);
	void (*registered)(void);
	pthread_t rx;
	pthread_t *workers;
	int nworkers;
	int stop_pipe[2];

	pthread_mutex_t lock;	/* queues, order, busy, stopping */
	pthread_cond_t more;	/* a queue got a job, or stopping */
	pthread_cond_t idle;	/* queue empty and busy == 0 */
	struct job_list todo;
	/*
	 * ASYNC write ops the writer thread answered (modalfs_ops_submit):
	 * a worker sends their replies, so that the writer only commits.
	 */
	struct job_list fin;
	/* Requests held behind ASYNC ones, ASYNC ones unanswered (3b). */
	struct modalfs_order order;
	int busy;		/* taken by a worker, not yet answered */
	bool stopping;
	uint64_t served;	/* statistics, logged at stop */
	int max_busy;

	pthread_mutex_t send_lock;	/* sock for sending, family */
	struct nl_sock *sock;
	int family;
	int die_op;		/* MODALFSD_FAULT_DIE_BEFORE_REPLY */
	struct modalfs_fault fault;	/* MODALFSD_FAULT, fault.h */
} ch = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.more = PTHREAD_COND_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
	.send_lock = PTHREAD_MUTEX_INITIALIZER,
	.stop_pipe = { -1, -1 },
};

/*
 * A reply that is never delivered leaves its caller in the kernel waiting
 * for good on a hard mount (the kernel only resends to a new daemon), so
 * a send that fails for lack of memory is retried, and one that fails for
 * any other reason is answered with a bare EIO instead, which always fits.
 */
static void send_reply(struct nl_msg *reply, uint64_t id)
{
	struct nl_msg *eio = NULL;
	int rc, tries = 0;

	pthread_mutex_lock(&ch.send_lock);
	while (ch.sock) {
		rc = nl_send_auto(ch.sock, reply);
		if (rc >= 0)
			break;
		if ((rc == -NLE_NOMEM || rc == -NLE_AGAIN) && ++tries < 100) {
			pthread_mutex_unlock(&ch.send_lock);
			usleep(tries < 10 ? 1000 : 10000);
			pthread_mutex_lock(&ch.send_lock);
			continue;
		}
		modalfs_warn("sending reply to request %llu: %s%s",
			     (unsigned long long)id, nl_geterror(rc),
			     eio ? "" : "; answering EIO instead");
		if (eio)
			break;
		eio = modalfs_ops_error_reply(ch.family, id, EIO);
		if (!eio)
			break;
		reply = eio;
		tries = 0;
	}
	pthread_mutex_unlock(&ch.send_lock);
	if (eio)
		nlmsg_free(eio);
}

static bool die_before_reply(const struct nlmsghdr *nlh)
{
	struct nlattr *a;
	int op = ch.die_op;

	if (!op)
		return false;
	a = nlmsg_find_attr((struct nlmsghdr *)nlh, GENL_HDRLEN,
			    MODALFS_A_OP);
	return a && nla_len(a) == 4 && (int)nla_get_u32(a) == op;
}

static void push_work(struct job *j);

/* Sends j's reply and lets go of it: the last step of every request. */
static void answer(struct job *j, struct nl_msg *reply, uint64_t id)
{
	struct modalfs_order_item *it;

	if (reply && die_before_reply(j->nlh)) {
		modalfs_warn("MODALFSD_FAULT_DIE_BEFORE_REPLY: exiting before replying to request %llu",
			     (unsigned long long)id);
		_exit(3);
	}
	if (reply) {
		send_reply(reply, id);
		nlmsg_free(reply);
	} else {
		modalfs_warn("dropped a malformed request (id %llu)",
			     (unsigned long long)id);
	}
	free(j->nlh);

	pthread_mutex_lock(&ch.lock);
	ch.busy--;
	it = modalfs_order_done(&ch.order, &j->ord);
	while (it) {
		struct modalfs_order_item *nx = it->next;

		push_work(ord_job(it));
		it = nx;
	}
	free(j);
	if (!ch.todo.head && !ch.busy)
		pthread_cond_broadcast(&ch.idle);
	pthread_mutex_unlock(&ch.lock);
}

/*
 * modalfs_ops_done, on the writer thread. A caller waits for a request
 * not marked ASYNC, so its reply is sent from here: waking a worker to
 * send it would put one more thread, and under TCG one more wakeup of
 * the other vCPU, on that caller's path. ASYNC ones (nobody waits, and
 * a batch can hold 64) are queued for the workers, so that the writer
 * goes on committing while they send.
 */
static void write_done(void *ctx, struct nl_msg *reply, uint64_t id)
{
	struct job *j = ctx;

	reply = modalfs_fault_reply(&ch.fault, j->nlh, reply);
	if (!j->ord.async) {
		answer(j, reply, id);
		return;
	}
	j->reply = reply;
	j->id = id;
	pthread_mutex_lock(&ch.lock);
	jobs_push(&ch.fin, j);
	pthread_cond_signal(&ch.more);
	pthread_mutex_unlock(&ch.lock);
}

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		struct job *j;
		struct nl_msg *reply;
		uint64_t id;
		int family;
		bool pending;

		pthread_mutex_lock(&ch.lock);
		while (!ch.todo.head && !ch.fin.head && !ch.stopping)
			pthread_cond_wait(&ch.more, &ch.lock);
		/* Answers first: they free the ordering gate and memory. */
		j = jobs_pop(&ch.fin);
		if (j) {
			pthread_mutex_unlock(&ch.lock);
			answer(j, j->reply, j->id);
			continue;
		}
		j = jobs_pop(&ch.todo);
		if (!j) {
			pthread_mutex_unlock(&ch.lock);
			return NULL;
		}
		ch.busy++;
		ch.served++;
		if (ch.busy > ch.max_busy)
			ch.max_busy = ch.busy;
		pthread_mutex_unlock(&ch.lock);

		pthread_mutex_lock(&ch.send_lock);
		family = ch.family;
		pthread_mutex_unlock(&ch.send_lock);
		reply = modalfs_fault_request(&ch.fault, j->nlh, family, &id);
		if (!reply) {
			reply = modalfs_ops_submit(ch.st, j->nlh, family, &id,
						   write_done, j, &pending);
			if (pending)
				continue;	/* write_done has it */
			reply = modalfs_fault_reply(&ch.fault, j->nlh, reply);
		}
		answer(j, reply, id);
	}
}

static void push_work(struct job *j)
{
	jobs_push(&ch.todo, j);
	pthread_cond_signal(&ch.more);
}

static bool has_flag(const struct nlmsghdr *nlh, int type)
{
	return nlmsg_find_attr((struct nlmsghdr *)nlh, GENL_HDRLEN,
			       type) != NULL;
}

static void enqueue(struct nlmsghdr *nlh)
{
	struct job *j = malloc(sizeof(*j));

	if (!j) {
		free(nlh);
		modalfs_err("out of memory queueing a request");
		return;
	}
	j->nlh = nlh;
	j->ord.async = has_flag(nlh, MODALFS_A_ASYNC);
	j->ord.fence = j->ord.async && has_flag(nlh, MODALFS_A_FENCE);
	/* In arrival order: to the workers, or held behind ASYNC ones. */
	pthread_mutex_lock(&ch.lock);
	if (modalfs_order_admit(&ch.order, &j->ord))
		push_work(j);
	pthread_mutex_unlock(&ch.lock);
}

static void wait_idle(void)
{
	pthread_mutex_lock(&ch.lock);
	while (ch.todo.head || ch.busy)
		pthread_cond_wait(&ch.idle, &ch.lock);
	pthread_mutex_unlock(&ch.lock);
}

/* Sleeps up to ms; true if asked to stop. */
static bool wait_stop(int ms)
{
	struct pollfd p = { .fd = ch.stop_pipe[0], .events = POLLIN };

	return poll(&p, 1, ms) > 0;
}

/*
 * One datagram received while waiting for the REGISTER ack. Registering
 * makes the kernel resend its queued requests at once, so they can come
 * before the ack: they are held (in order) in *tail, to be queued once
 * registration is known to have succeeded. Returns the ack's errno (0 is
 * success) or -1 if the ack was not in this datagram.
 */
static int reg_datagram(unsigned char *buf, int len, int family,
			uint32_t seq, struct job ***tail)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	int res = -1;

	for (; nlmsg_ok(nlh, len); nlh = nlmsg_next(nlh, &len)) {
		struct job *j;

		if (nlh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = nlmsg_data(nlh);

			if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) &&
			    e->msg.nlmsg_seq == seq &&
			    e->msg.nlmsg_type == family)
				res = -e->error;
			continue;
		}
		if (nlh->nlmsg_type != family)
			continue;
		j = malloc(sizeof(*j));
		if (j)
			j->nlh = malloc(nlh->nlmsg_len);
		if (!j || !j->nlh) {
			free(j);
			modalfs_err("out of memory receiving a request");
			continue;
		}
		memcpy(j->nlh, nlh, nlh->nlmsg_len);
		j->next = NULL;
		**tail = j;
		*tail = &j->next;
	}
	return res;
}

/*
 * Returns 0 or a positive errno from the kernel's ack, or ECANCELED if
 * asked to stop. Requests that arrived meanwhile are put in *held.
 */
static int do_register(struct nl_sock *sock, int family, struct job **held)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct pollfd p[2] = {
		{ .fd = nl_socket_get_fd(sock), .events = POLLIN },
		{ .fd = ch.stop_pipe[0], .events = POLLIN },
	};
	struct job **tail = held;
	uint32_t seq;
	int res = -1, rc;

	*held = NULL;
	if (!msg)
		return ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
			 NLM_F_ACK, MODALFS_CMD_REGISTER,
			 MODALFS_GENL_VERSION) ||
	    nla_put_u32(msg, MODALFS_A_VERSION, MODALFS_GENL_VERSION)) {
		res = ENOMEM;
		goto out;
	}
	rc = nl_send_auto(sock, msg);
	if (rc < 0) {
		res = EIO;
		goto out;
	}
	/* nl_send_auto filled in the sequence number the ack will echo. */
	seq = nlmsg_hdr(msg)->nlmsg_seq;
	while (res == -1) {
		unsigned char *buf = NULL;
		struct sockaddr_nl from;
		int n = poll(p, 2, 10000);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			res = errno;
			break;
		}
		if (p[1].revents) {
			res = ECANCELED;
			break;
		}
		if (n == 0) {
			modalfs_err("no registration ack from the kernel in 10 s");
			res = ETIMEDOUT;
			break;
		}
		n = nl_recv(sock, &from, &buf, NULL);
		if (n > 0 && from.nl_pid == 0) {
			res = reg_datagram(buf, n, family, seq, &tail);
		} else if (n < 0 && n != -NLE_NOMEM) {
			/* -NLE_NOMEM is an overrun; see rx_loop. */
			modalfs_err("waiting for the registration ack: %s",
				    nl_geterror(n));
			res = EIO;
		}
		free(buf);
	}
out:
	nlmsg_free(msg);
	return res;
}

static void free_jobs(struct job *j)
{
	while (j) {
		struct job *next = j->next;

		free(j->nlh);
		free(j);
		j = next;
	}
}

static struct nl_sock *open_sock(void)
{
	struct nl_sock *s = nl_socket_alloc();
	int rcv = SOCK_RCVBUF, snd = SOCK_SNDBUF, one = 1;
	socklen_t sl = sizeof(snd);

	if (!s)
		return NULL;
	if (genl_connect(s)) {
		nl_socket_free(s);
		return NULL;
	}
	/*
	 * Every datagram from the kernel fits in one receive buffer of this
	 * size (a 1 MiB WRITE is the largest), so nl_recv never truncates
	 * one (it would fail with NLE_MSG_TRUNC and the request be lost).
	 */
	nl_socket_set_msg_buf_size(s, MODALFS_MSG_MAX + 4096);
	nl_socket_set_buffer_size(s, SOCK_RCVBUF, SOCK_SNDBUF);
	setsockopt(nl_socket_get_fd(s), SOL_SOCKET, SO_RCVBUFFORCE, &rcv,
		   sizeof(rcv));
	setsockopt(nl_socket_get_fd(s), SOL_SOCKET, SO_SNDBUFFORCE, &snd,
		   sizeof(snd));
	/* Without CAP_NET_ADMIN, net.core.wmem_max caps the buffer. */
	if (!getsockopt(nl_socket_get_fd(s), SOL_SOCKET, SO_SNDBUF, &snd, &sl) &&
	    snd < MODALFS_MSG_MAX + 4096)
		modalfs_warn("the kernel channel's send buffer is %d bytes, less than a %d-byte READ reply; large reads will fail (run with CAP_NET_ADMIN or raise net.core.wmem_max)",
			     snd, MODALFS_MSG_MAX);
	/*
	 * When our receive queue is full the kernel's send fails, it keeps
	 * the request and sends it again later; nothing is lost, so the
	 * ENOBUFS recv would report is only noise.
	 */
	if (setsockopt(nl_socket_get_fd(s), SOL_NETLINK, NETLINK_NO_ENOBUFS,
		       &one, sizeof(one)))
		modalfs_warn("setting NETLINK_NO_ENOBUFS: %s", strerror(errno));
	return s;
}

static void handle_datagram(unsigned char *buf, int len, int family)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

	for (; nlmsg_ok(nlh, len); nlh = nlmsg_next(nlh, &len)) {
		struct nlmsghdr *copy;

		if (nlh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = nlmsg_data(nlh);

			/* ENOENT: reply to an abandoned request; normal. */
			if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) &&
			    e->error && e->error != -ENOENT)
				modalfs_warn("kernel rejected a reply or notification: %s",
					     strerror(-e->error));
			continue;
		}
		if (nlh->nlmsg_type != family)
			continue;
		copy = malloc(nlh->nlmsg_len);
		if (!copy) {
			modalfs_err("out of memory receiving a request");
			continue;
		}
		memcpy(copy, nlh, nlh->nlmsg_len);
		enqueue(copy);
	}
}

/* Receives until stop or until the family disappears. True on stop. */
static bool rx_loop(struct nl_sock *sock, struct nl_sock *ctrl, int family)
{
	struct pollfd p[2] = {
		{ .fd = nl_socket_get_fd(sock), .events = POLLIN },
		{ .fd = ch.stop_pipe[0], .events = POLLIN },
	};

	for (;;) {
		unsigned char *buf = NULL;
		struct sockaddr_nl from;
		int n = poll(p, 2, 1000);

		if (n < 0 && errno != EINTR) {
			modalfs_err("poll: %s", strerror(errno));
			return true;
		}
		if (p[1].revents)
			return true;
		if (n == 0) {
			/* Idle: was the module unloaded (or reloaded)? */
			if (genl_ctrl_resolve(ctrl, MODALFS_GENL_NAME) !=
			    family) {
				modalfs_warn("genl family '%s' went away; will register again",
					     MODALFS_GENL_NAME);
				return false;
			}
			continue;
		}
		if (!(p[0].revents & (POLLIN | POLLERR)))
			continue;
		n = nl_recv(sock, &from, &buf, NULL);
		if (n > 0 && from.nl_pid == 0)
			handle_datagram(buf, n, family);
		else if (n == -NLE_MSG_TRUNC)
			/* Registration checked the version; this is a bug. */
			modalfs_err("a message from the kernel was longer than %d bytes and was truncated; its request is lost",
				    MODALFS_MSG_MAX + 4096);
		else if (n < 0 && n != -NLE_NOMEM)
			/*
			 * -NLE_NOMEM is ENOBUFS (receive queue overrun): the
			 * kernel resends what did not fit, so it is benign.
			 */
			modalfs_warn("receiving from the kernel: %s",
				     nl_geterror(n));
		free(buf);
	}
}

/*
 * The kernel refused our REGISTER with EPROTO. The genl controller tells
 * the family's version, which is the module's MODALFS_GENL_VERSION, so
 * the message can name both sides.
 */
static void say_version_mismatch(struct nl_sock *ctrl)
{
	struct nl_cache *cache = NULL;
	struct genl_family *fam = NULL;
	int kv = -1;

	if (!genl_ctrl_alloc_cache(ctrl, &cache))
		fam = genl_ctrl_search_by_name(cache, MODALFS_GENL_NAME);
	if (fam) {
		kv = genl_family_get_version(fam);
		genl_family_put(fam);
	}
	nl_cache_free(cache);
	if (kv >= 0)
		fprintf(stderr, "modalfsd: the kernel module speaks protocol %d, this daemon %d; load the matching modalfs.ko\n",
			kv, MODALFS_GENL_VERSION);
	else
		fprintf(stderr, "modalfsd: the kernel module refused protocol %d (version mismatch); load the matching modalfs.ko\n",
			MODALFS_GENL_VERSION);
	modalfs_err("cannot register with the kernel: protocol version mismatch (kernel %d, daemon %d)",
		    kv, MODALFS_GENL_VERSION);
}

static void *rx_thread(void *arg)
{
	struct nl_sock *ctrl = NULL;
	bool said_absent = false;

	(void)arg;
	while (!wait_stop(0)) {
		struct nl_sock *sock;
		struct job *held;
		int family, err;
		bool stop;

		if (!ctrl) {
			ctrl = nl_socket_alloc();
			if (!ctrl || genl_connect(ctrl)) {
				modalfs_err("cannot open a generic netlink socket");
				nl_socket_free(ctrl);
				ctrl = NULL;
				if (wait_stop(1000))
					break;
				continue;
			}
		}
		family = genl_ctrl_resolve(ctrl, MODALFS_GENL_NAME);
		if (family < 0) {
			if (!said_absent)
				modalfs_info("genl family '%s' not found (is modalfs.ko loaded?); retrying every second",
					     MODALFS_GENL_NAME);
			said_absent = true;
			if (wait_stop(1000))
				break;
			continue;
		}
		said_absent = false;
		sock = open_sock();
		if (!sock) {
			modalfs_err("cannot open the kernel channel socket");
			if (wait_stop(1000))
				break;
			continue;
		}
		err = do_register(sock, family, &held);
		if (err) {
			free_jobs(held);
			nl_socket_free(sock);
			if (err == ECANCELED)
				break;
			if (err == EPERM) {
				fprintf(stderr, "modalfsd: cannot register with the kernel: %s (needs CAP_SYS_ADMIN)\n",
					strerror(EPERM));
				ch.fatal(1);
				break;
			}
			if (err == EPROTO) {
				say_version_mismatch(ctrl);
				ch.fatal(1);
				break;
			}
			modalfs_err("cannot register with the kernel: %s%s",
				    strerror(err),
				    err == EBUSY ? " (another modalfsd is registered)" : "");
			if (err == EBUSY) {
				ch.fatal(1);
				break;
			}
			if (wait_stop(1000))
				break;
			continue;
		}
		/* Requests arrive unsolicited; replies need no ack. */
		nl_socket_disable_seq_check(sock);
		nl_socket_disable_auto_ack(sock);
		pthread_mutex_lock(&ch.send_lock);
		ch.sock = sock;
		ch.family = family;
		pthread_mutex_unlock(&ch.send_lock);
		modalfs_info("registered with the kernel (genl family %d, %d worker threads)",
			     family, ch.nworkers);
		if (ch.registered)
			ch.registered();
		/* Now that replies can be sent, run what came before the ack. */
		while (held) {
			struct job *j = held;

			held = j->next;
			enqueue(j->nlh);
			free(j);
		}

		stop = rx_loop(sock, ctrl, family);

		wait_idle();
		pthread_mutex_lock(&ch.send_lock);
		ch.sock = NULL;
		pthread_mutex_unlock(&ch.send_lock);
		nl_socket_free(sock);
		if (stop)
			break;
	}
	nl_socket_free(ctrl);
	return NULL;
}

int modalfs_genl_notify(uint32_t type, uint64_t vol, uint64_t ino,
			const char *name)
{
	struct nl_msg *msg;
	int err = 0, rc;

	if (type < 1 || type > MODALFS_NOTIFY_MAX || !vol ||
	    (type != MODALFS_NOTIFY_VOL_GONE && !ino) ||
	    (type == MODALFS_NOTIFY_INVAL_ENTRY) != (name != NULL))
		return -EINVAL;
	msg = nlmsg_alloc();
	if (!msg)
		return -ENOMEM;
	/*
	 * The family id is only known under send_lock, so the message is
	 * built there too; it is small and the lock is only ever held for
	 * one send.
	 */
	pthread_mutex_lock(&ch.send_lock);
	if (!ch.sock) {
		err = -ENOTCONN;
		goto out;
	}
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, ch.family, 0, 0,
			 MODALFS_CMD_NOTIFY, MODALFS_GENL_VERSION) ||
	    nla_put_u32(msg, MODALFS_A_NOTIFY, type) ||
	    nla_put_u64(msg, MODALFS_A_VOL_ID, vol) ||
	    (type != MODALFS_NOTIFY_VOL_GONE &&
	     nla_put_u64(msg, MODALFS_A_INO, ino)) ||
	    (name && nla_put_string(msg, MODALFS_A_NAME, name))) {
		err = -EMSGSIZE;
		goto out;
	}
	/* No ack is asked for: the rx thread logs an error ack if any. */
	rc = nl_send_auto(ch.sock, msg);
	if (rc < 0) {
		modalfs_warn("sending notification %u: %s", type,
			     nl_geterror(rc));
		err = -EIO;
	}
out:
	pthread_mutex_unlock(&ch.send_lock);
	nlmsg_free(msg);
	return err;
}

int modalfs_genl_start(struct modalfs_store *st, int threads,
		       void (*fatal)(int code), void (*registered)(void))
{
	const char *die = getenv("MODALFSD_FAULT_DIE_BEFORE_REPLY");
	int err;

	ch.st = st;
	ch.fatal = fatal;
	ch.registered = registered;
	ch.die_op = die ? atoi(die) : 0;
	modalfs_order_init(&ch.order);
	if (modalfs_fault_parse(&ch.fault, getenv("MODALFSD_FAULT"))) {
		modalfs_err("MODALFSD_FAULT: cannot parse '%s' (see userd/fault.h)",
			    getenv("MODALFSD_FAULT"));
		return EINVAL;
	}
	if (ch.fault.active)
		modalfs_warn("MODALFSD_FAULT=%s: injecting faults (tests only)",
			     getenv("MODALFSD_FAULT"));
	if (pipe2(ch.stop_pipe, O_CLOEXEC))
		return errno;
	ch.workers = calloc(threads, sizeof(*ch.workers));
	if (!ch.workers)
		return ENOMEM;
	for (int i = 0; i < threads; i++) {
		err = pthread_create(&ch.workers[i], NULL, worker, NULL);
		if (err)
			return err;
		ch.nworkers++;
	}
	return pthread_create(&ch.rx, NULL, rx_thread, NULL);
}

void modalfs_genl_stop(void)
{
	if (ch.stop_pipe[1] < 0)
		return;
	if (write(ch.stop_pipe[1], "x", 1) != 1)
		modalfs_err("cannot signal the receive thread");
	pthread_join(ch.rx, NULL);
	pthread_mutex_lock(&ch.lock);
	ch.stopping = true;
	pthread_cond_broadcast(&ch.more);
	pthread_mutex_unlock(&ch.lock);
	for (int i = 0; i < ch.nworkers; i++)
		pthread_join(ch.workers[i], NULL);
	free(ch.workers);
	modalfs_info("served %llu kernel requests, at most %d at once",
		     (unsigned long long)ch.served, ch.max_busy);
	close(ch.stop_pipe[0]);
	close(ch.stop_pipe[1]);
	ch.stop_pipe[0] = ch.stop_pipe[1] = -1;
}
