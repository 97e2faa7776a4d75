// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Control socket server (header section 5, Documentation/security.md).
 *
 * Who may talk: the socket is root:modalfs 0660 (root-only 0600 when the
 * host has no modalfs group), and every request is checked again against
 * the peer's SO_PEERCRED and SO_PEERGROUPS, so a socket with the wrong
 * mode or an inherited descriptor grants nothing more.
 *
 * How much they may take: one thread per connection answers its requests
 * one at a time (so one request in flight per connection; what a client
 * queues beyond that waits in its socket buffer, which the kernel bounds),
 * at most CONN_MAX connections and CONN_PER_UID of one non-root user, with
 * a reserve for root. Replies time out after SEND_TIMEOUT_S when the
 * client does not read them, and stopping shuts every connection down, so
 * a client cannot hold a thread or SIGTERM hostage. When the daemon runs
 * out of descriptors, a spare one is given up to accept and close the
 * waiting connection instead of spinning on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_priv.h"
#include "ctlstats.h"
#include "fsutil.h"
#include "log.h"

#define REAP_INTERVAL_MS	1000
#define CONN_MAX		64	/* connections of non-root peers */
#define CONN_ROOT_RESERVE	16	/* more that only root may use */
#define CONN_PER_UID		16	/* connections of one non-root uid */
/* Descriptors kept free for the store, the kernel channel and /proc scans. */
#define FD_HEADROOM		24
#define SEND_TIMEOUT_S		10
#define GROUP_NAME		"modalfs"

static struct {
	struct modalfs_store *st;
	int lfd;
	int spare_fd;		/* given up to accept at EMFILE */
	int stop_pipe[2];
	pthread_t acceptor, reaper;
	bool reaper_running;
	char path[PATH_MAX];
	bool have_group;
	gid_t group;
	pthread_mutex_t lock;
	pthread_cond_t gone;
	struct modalfs_ctl_conn *conns[CONN_MAX + CONN_ROOT_RESERVE];
	int nconns;
	int conn_max, conn_root_max;	/* fit RLIMIT_NOFILE; see fd_budget */
	time_t last_refusal_log;
} srv = {
	.lfd = -1,
	.spare_fd = -1,
	.stop_pipe = { -1, -1 },
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.gone = PTHREAD_COND_INITIALIZER,
};

static int do_stats(const struct modalfs_ctl_req *r)
{
	struct modalfs_stats_snapshot *snap = malloc(sizeof(*snap));
	struct nl_msg *m = modalfs_ctl_ok_msg(r);
	int rc = -ENOMEM;

	if (snap && m) {
		modalfs_stats_snapshot(modalfs_store_stats(r->st), snap);
		rc = modalfs_ctl_put_stats(m, snap);
	}
	free(snap);
	if (rc) {
		nlmsg_free(m);
		return rc;
	}
	return modalfs_ctl_send(r, m);
}

/* root, or a member of the modalfs group (primary or supplementary). */
static bool authorized(const struct modalfs_ctl_cred *c)
{
	return c->uid == 0 || (srv.have_group &&
			       modalfs_ctl_in_group(c, srv.group));
}

int modalfs_ctl_dispatch(struct modalfs_ctl_conn *conn, void *buf,
			 size_t len)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	struct nlmsghdr *nlh = buf;
	struct modalfs_ctl_req r = {
		.st = conn->st, .conn = conn, .fd = conn->fd, .tb = tb,
		.cred = &conn->cred,
	};

	if (modalfs_ctlmsg_parse(buf, len, &nlh, &r.cmd, tb)) {
		/* Answer what can be named; drop the rest. */
		if (len < NLMSG_HDRLEN + GENL_HDRLEN ||
		    nlh->nlmsg_len != len ||
		    nlh->nlmsg_type != MODALFS_CTL_NLMSG_TYPE)
			return -EINVAL;
		r.cmd = ((struct genlmsghdr *)nlmsg_data(nlh))->cmd;
		r.seq = nlh->nlmsg_seq;
		return modalfs_ctl_error(&r, EINVAL,
					 "malformed request (protocol version %d expected)",
					 MODALFS_GENL_VERSION);
	}
	r.nlh = nlh;
	r.seq = nlh->nlmsg_seq;
	switch (r.cmd) {
	case MODALFS_CTL_PERSISTED:
	case MODALFS_CTL_CREATE:
		return modalfs_ctl_do_make(&r);
	case MODALFS_CTL_LIST:
		return modalfs_ctl_do_list(&r);
	case MODALFS_CTL_DELETE:
	case MODALFS_CTL_APP_STOP:
		return modalfs_ctl_do_delete(&r);
	case MODALFS_CTL_APP_CREATE:
		return modalfs_ctl_do_app_create(&r);
	case MODALFS_CTL_EPHEMERAL:
		return modalfs_ctl_do_ephemeral(&r);
	case MODALFS_CTL_LS:
		return modalfs_ctl_do_ls(&r);
	case MODALFS_CTL_GET:
		return modalfs_ctl_do_get(&r);
	case MODALFS_CTL_PUT:
		return modalfs_ctl_do_put(&r);
	case MODALFS_CTL_MKDIR:
		return modalfs_ctl_do_mkdir(&r);
	case MODALFS_CTL_RM:
		return modalfs_ctl_do_rm(&r);
	case MODALFS_CTL_STATS:
		return do_stats(&r);
	default:
		return modalfs_ctl_error(&r, EOPNOTSUPP, "unknown command %u",
					 r.cmd);
	}
}

/* Refuses a request of a peer that is neither root nor in the group. */
static int refuse(struct modalfs_ctl_conn *conn, void *buf, size_t len)
{
	struct nlmsghdr *nlh = buf;
	struct modalfs_ctl_req r = { .st = conn->st, .conn = conn,
				     .fd = conn->fd, .cred = &conn->cred };

	if (len < NLMSG_HDRLEN + GENL_HDRLEN || nlh->nlmsg_len != len ||
	    nlh->nlmsg_type != MODALFS_CTL_NLMSG_TYPE)
		return -EINVAL;
	r.cmd = ((struct genlmsghdr *)nlmsg_data(nlh))->cmd;
	r.seq = nlh->nlmsg_seq;
	return modalfs_ctl_error(&r, EACCES,
				 "permission denied: modalfsd serves root and the members of the '%s' group%s",
				 GROUP_NAME, srv.have_group ? "" :
				 " (this host has no such group: root only)");
}

int modalfs_ctl_handle_peer(struct modalfs_store *st, int fd, void *buf,
			    size_t len, pid_t pid, uid_t uid, gid_t gid)
{
	struct modalfs_ctl_conn *conn = calloc(1, sizeof(*conn));
	int rc;

	if (!conn)
		return -ENOMEM;
	conn->st = st;
	conn->fd = fd;
	conn->cred.pid = pid;
	conn->cred.uid = uid;
	conn->cred.gid = gid;
	rc = modalfs_ctl_dispatch(conn, buf, len);
	modalfs_ctl_stage_abort(conn);
	free(conn);
	return rc;
}

int modalfs_ctl_handle(struct modalfs_store *st, int fd, void *buf,
		       size_t len, uid_t uid)
{
	return modalfs_ctl_handle_peer(st, fd, buf, len, 0, uid, 0);
}

/* SO_PEERCRED and SO_PEERGROUPS of fd into c; 0 or an errno. */
static int peer_cred(int fd, struct modalfs_ctl_cred *c)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	gid_t *g = NULL;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len))
		return errno;
	c->pid = uc.pid;
	c->uid = uc.uid;
	c->gid = uc.gid;
	c->groups = NULL;
	c->ngroups = 0;
	len = 0;
	/* The first call says how much room the groups need (ERANGE). */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, NULL, &len) &&
	    errno != ERANGE)
		return errno;
	if (!len)
		return 0;
	if (len > NGROUPS_MAX * sizeof(gid_t))
		return E2BIG;
	g = malloc(len);
	if (!g)
		return ENOMEM;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len)) {
		free(g);
		return errno;
	}
	c->groups = g;
	c->ngroups = len / sizeof(gid_t);
	return 0;
}

static void conn_remove(struct modalfs_ctl_conn *conn)
{
	pthread_mutex_lock(&srv.lock);
	for (int i = 0; i < srv.nconns; i++) {
		if (srv.conns[i] == conn) {
			srv.conns[i] = srv.conns[--srv.nconns];
			break;
		}
	}
	pthread_cond_broadcast(&srv.gone);
	pthread_mutex_unlock(&srv.lock);
}

static void *client(void *arg)
{
	struct modalfs_ctl_conn *conn = arg;
	void *buf = malloc(MODALFS_CTL_DGRAM_MAX);
	bool ok = authorized(&conn->cred);
	struct pollfd p[2] = {
		{ .fd = conn->fd, .events = POLLIN },
		{ .fd = srv.stop_pipe[0], .events = POLLIN },
	};

	while (buf) {
		ssize_t n;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		n = recv(conn->fd, buf, MODALFS_CTL_DGRAM_MAX,
			 MSG_TRUNC | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0 || n > MODALFS_CTL_DGRAM_MAX)
			break;
		/* A failed send (the client stopped reading) ends it. */
		if (ok ? modalfs_ctl_dispatch(conn, buf, n) :
			 refuse(conn, buf, n))
			break;
	}
	free(buf);
	modalfs_ctl_stage_abort(conn);
	conn_remove(conn);
	close(conn->fd);
	free(conn->cred.groups);
	free(conn);
	return NULL;
}

/* Whether one more connection of uid is allowed; call with srv.lock. */
static bool conn_room(uid_t uid)
{
	int mine = 0;

	if (srv.nconns >= srv.conn_root_max)
		return false;
	if (uid == 0)
		return true;
	if (srv.nconns >= srv.conn_max)
		return false;
	for (int i = 0; i < srv.nconns; i++)
		mine += srv.conns[i]->cred.uid == uid;
	return mine < CONN_PER_UID;
}

static void log_refusal(const char *fmt, unsigned long arg)
{
	time_t now = time(NULL);

	/* Once a minute at most: a flood must not flood the log too. */
	if (now - srv.last_refusal_log < 60)
		return;
	srv.last_refusal_log = now;
	modalfs_warn(fmt, arg);
}

/* Out of descriptors: take the waiting connection with the spare, drop it. */
static void shed_one(void)
{
	int fd;

	if (srv.spare_fd >= 0) {
		close(srv.spare_fd);
		srv.spare_fd = -1;
		fd = accept4(srv.lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		srv.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	log_refusal("control socket: out of file descriptors (%lu); refusing connections",
		    (unsigned long)EMFILE);
}

static void start_client(int fd)
{
	struct modalfs_ctl_conn *conn = calloc(1, sizeof(*conn));
	struct timeval tv = { .tv_sec = SEND_TIMEOUT_S };
	pthread_attr_t attr;
	pthread_t t;
	bool room;

	if (!conn || peer_cred(fd, &conn->cred) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))) {
		if (conn)
			free(conn->cred.groups);
		free(conn);
		close(fd);
		return;
	}
	conn->st = srv.st;
	conn->fd = fd;
	pthread_mutex_lock(&srv.lock);
	room = conn_room(conn->cred.uid);
	if (room)
		srv.conns[srv.nconns++] = conn;
	pthread_mutex_unlock(&srv.lock);
	if (!room) {
		log_refusal("control socket: too many connections; refusing uid %lu",
			    (unsigned long)conn->cred.uid);
		free(conn->cred.groups);
		free(conn);
		close(fd);
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, client, conn)) {
		conn_remove(conn);
		free(conn->cred.groups);
		free(conn);
		close(fd);
	}
	pthread_attr_destroy(&attr);
}

static void *acceptor(void *arg)
{
	struct pollfd p[2] = {
		{ .fd = srv.lfd, .events = POLLIN },
		{ .fd = srv.stop_pipe[0], .events = POLLIN },
	};

	(void)arg;
	for (;;) {
		int fd;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(srv.lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) {
			start_client(fd);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE)
			shed_one();
		else if (errno == EINTR || errno == EAGAIN ||
			 errno == ECONNABORTED)
			continue;
		/* Still failing (no spare left, ENOMEM, ...): pause, not spin. */
		if (poll(&p[1], 1, 100) > 0)
			break;
	}
	return NULL;
}

static void *reaper(void *arg)
{
	struct pollfd p = { .fd = srv.stop_pipe[0], .events = POLLIN };
	int err;

	(void)arg;
	/* Deletions a crash interrupted, then apps whose owner is gone. */
	err = modalfs_store_vol_purge_pending(srv.st);
	if (err)
		modalfs_warn("cannot finish interrupted volume deletions: %s",
			     strerror(err));
	for (;;) {
		err = modalfs_ctl_reap(srv.st);
		if (err < 0)
			modalfs_warn("reaping apps: %s", strerror(-err));
		if (poll(&p, 1, REAP_INTERVAL_MS) > 0)
			break;
	}
	return NULL;
}

/*
 * The connection caps, so that they run out before the descriptors do:
 * the soft RLIMIT_NOFILE is raised to the hard one, and what the daemon
 * does not use yet, less some headroom, is shared out, a quarter of it
 * kept for root.
 */
static void fd_budget(void)
{
	struct rlimit rl = { 0 };
	long budget = CONN_MAX + CONN_ROOT_RESERVE, reserve;
	int used = 0;

	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
		for (int fd = 0; fd < 1024; fd++)
			used += fcntl(fd, F_GETFD) >= 0;
		if (rl.rlim_cur != RLIM_INFINITY &&
		    (long)rl.rlim_cur - used - FD_HEADROOM < budget)
			budget = (long)rl.rlim_cur - used - FD_HEADROOM;
	}
	if (budget < 2)
		budget = 2;
	reserve = budget / 4 + 1 < CONN_ROOT_RESERVE ? budget / 4 + 1 :
		  CONN_ROOT_RESERVE;
	srv.conn_root_max = budget;
	srv.conn_max = budget - reserve;
	if (budget < CONN_MAX + CONN_ROOT_RESERVE)
		modalfs_info("control socket: at most %d connections (%ld more for root) within RLIMIT_NOFILE %lu",
			     srv.conn_max, reserve,
			     (unsigned long)rl.rlim_cur);
}

/* root:modalfs 0660, or root-only 0600 without the group. */
static int socket_owner(const char *path)
{
	struct group gr, *g = NULL;
	char buf[4096];

	/* The owner stays the daemon's uid: root, as a rule. */
	if (!getgrnam_r(GROUP_NAME, &gr, buf, sizeof(buf), &g) && g) {
		if (!chown(path, (uid_t)-1, g->gr_gid)) {
			srv.have_group = true;
			srv.group = g->gr_gid;
			return chmod(path, 0660) ? errno : 0;
		}
		modalfs_warn("cannot give the control socket to the '%s' group: %s; it is for its owner only",
			     GROUP_NAME, strerror(errno));
	} else {
		modalfs_warn("no '%s' group on this host: the control socket is for root only",
			     GROUP_NAME);
	}
	srv.have_group = false;
	return chmod(path, 0600) ? errno : 0;
}

int modalfs_ctl_start(struct modalfs_store *st, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[PATH_MAX];
	char *slash;
	mode_t um;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		err = modalfs_mkdir_p(dir, 0755);
		if (err)
			return err;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	/* A live socket means another daemon; a dead one is left over. */
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return EADDRINUSE;
	}
	unlink(path);
	/* Nobody may connect in the moment between bind and chmod. */
	um = umask(0177);
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
	umask(um);
	if (!err)
		err = socket_owner(path);
	if (!err && listen(fd, 64))
		err = errno;
	if (!err && pipe2(srv.stop_pipe, O_CLOEXEC))
		err = errno;
	if (err) {
		close(fd);
		return err;
	}
	srv.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fd_budget();
	srv.st = st;
	srv.lfd = fd;
	snprintf(srv.path, sizeof(srv.path), "%s", path);
	err = pthread_create(&srv.acceptor, NULL, acceptor, NULL);
	if (err) {
		close(fd);
		srv.lfd = -1;
		return err;
	}
	err = pthread_create(&srv.reaper, NULL, reaper, NULL);
	if (err)
		modalfs_warn("cannot start the app reaper: %s", strerror(err));
	else
		srv.reaper_running = true;
	return 0;
}

void modalfs_ctl_stop(void)
{
	if (srv.lfd < 0)
		return;
	if (write(srv.stop_pipe[1], "x", 1) != 1)
		modalfs_err("cannot stop the control socket threads");
	pthread_join(srv.acceptor, NULL);
	if (srv.reaper_running)
		pthread_join(srv.reaper, NULL);
	srv.reaper_running = false;
	pthread_mutex_lock(&srv.lock);
	/* Wakes a thread blocked sending to a client that does not read. */
	for (int i = 0; i < srv.nconns; i++)
		shutdown(srv.conns[i]->fd, SHUT_RDWR);
	while (srv.nconns)
		pthread_cond_wait(&srv.gone, &srv.lock);
	pthread_mutex_unlock(&srv.lock);
	close(srv.lfd);
	srv.lfd = -1;
	if (srv.spare_fd >= 0)
		close(srv.spare_fd);
	srv.spare_fd = -1;
	unlink(srv.path);
	close(srv.stop_pipe[0]);
	close(srv.stop_pipe[1]);
}
