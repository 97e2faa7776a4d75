// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Control socket server (header section 5). One thread accepts; each
 * connection gets a thread that answers its requests in order. Requests
 * are short store transactions, so no further pooling is needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <netlink/genl/genl.h>

#include "ctl.h"
#include "ctlmsg.h"
#include "fsutil.h"
#include "log.h"
#include "names.h"

static struct {
	struct modalfs_store *st;
	int lfd;
	int stop_pipe[2];
	pthread_t acceptor;
	char path[PATH_MAX];
	pthread_mutex_t lock;
	pthread_cond_t gone;
	int clients;
} srv = {
	.lfd = -1,
	.stop_pipe = { -1, -1 },
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.gone = PTHREAD_COND_INITIALIZER,
};

static int send_error(int fd, uint8_t cmd, uint32_t seq, int err,
		      const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int send_error(int fd, uint8_t cmd, uint32_t seq, int err,
		      const char *fmt, ...)
{
	char text[MODALFS_ERRMSG_MAX + 1];
	struct nl_msg *m = modalfs_ctlmsg_new(cmd, seq, false);
	va_list ap;
	int rc;

	if (!m)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (nla_put_u32(m, MODALFS_A_ERRNO, err) ||
	    nla_put_string(m, MODALFS_A_ERRMSG, text))
		rc = -EMSGSIZE;
	else
		rc = modalfs_ctlmsg_send(fd, m);
	nlmsg_free(m);
	return rc;
}

static int do_make(struct modalfs_store *st, int fd, uint8_t cmd,
		   uint32_t seq, struct nlattr **tb, uid_t uid)
{
	struct modalfs_volinfo vi;
	const char *name;
	struct nl_msg *m;
	int err, rc;

	if (!tb[MODALFS_A_VOL_NAME])
		return send_error(fd, cmd, seq, EINVAL,
				  "missing volume name");
	name = nla_data(tb[MODALFS_A_VOL_NAME]);
	if (!modalfs_vol_name_valid(name))
		return send_error(fd, cmd, seq, EINVAL,
				  "invalid volume name '%s': %s", name,
				  MODALFS_VOL_NAME_RULE);
	if (uid != 0)
		return send_error(fd, cmd, seq, EPERM,
				  "creating volume '%s' requires root", name);
	if (cmd == MODALFS_CTL_CREATE)
		err = modalfs_store_vol_create(st, name,
					       MODALFS_KIND_PERSISTED, &vi);
	else
		err = modalfs_store_vol_persisted(st, name, &vi);
	if (err == EEXIST)
		return send_error(fd, cmd, seq, err,
				  "volume '%s' already exists", name);
	if (err == ENOSPC)
		return send_error(fd, cmd, seq, err,
				  "cannot create volume '%s': the store is full",
				  name);
	if (err)
		return send_error(fd, cmd, seq, err,
				  "cannot create volume '%s': %s", name,
				  strerror(err));
	m = modalfs_ctlmsg_new(cmd, seq, false);
	if (!m)
		return -ENOMEM;
	if (nla_put_u32(m, MODALFS_A_ERRNO, 0) ||
	    nla_put_u64(m, MODALFS_A_VOL_ID, vi.vol_id) ||
	    nla_put_string(m, MODALFS_A_APP_ID, vi.app_id) ||
	    modalfs_ctl_put_volume(m, &vi))
		rc = -EMSGSIZE;
	else
		rc = modalfs_ctlmsg_send(fd, m);
	nlmsg_free(m);
	if (!rc && cmd == MODALFS_CTL_CREATE)
		modalfs_info("created volume '%s' (id %llu)", name,
			     (unsigned long long)vi.vol_id);
	return rc;
}

struct vol_array {
	struct modalfs_volinfo *v;
	size_t n, cap;
};

static int collect_cb(const struct modalfs_volinfo *vi, void *arg)
{
	struct vol_array *a = arg;

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		void *p = realloc(a->v, cap * sizeof(*a->v));

		if (!p)
			return ENOMEM;
		a->v = p;
		a->cap = cap;
	}
	a->v[a->n++] = *vi;
	return 0;
}

static struct nl_msg *list_msg(uint32_t seq)
{
	struct nl_msg *m = modalfs_ctlmsg_new(MODALFS_CTL_LIST, seq, false);

	if (m && nla_put_u32(m, MODALFS_A_ERRNO, 0)) {
		nlmsg_free(m);
		m = NULL;
	}
	return m;
}

/*
 * Volumes are collected first and sent afterwards, so a slow reader never
 * holds a store read transaction open (which would stop LMDB from reusing
 * freed pages).
 */
static int do_list(struct modalfs_store *st, int fd, uint32_t seq)
{
	struct vol_array a = { 0 };
	struct nl_msg *m;
	int err, rc = 0;

	err = modalfs_store_vol_list(st, collect_cb, &a);
	if (err) {
		free(a.v);
		return send_error(fd, MODALFS_CTL_LIST, seq, err,
				  "cannot list volumes: %s", strerror(err));
	}
	m = list_msg(seq);
	for (size_t i = 0; m && !rc && i < a.n; i++) {
		if (nlmsg_hdr(m)->nlmsg_len > MODALFS_CTL_LIST_CHUNK) {
			rc = modalfs_ctlmsg_send(fd, m);
			nlmsg_free(m);
			m = rc ? NULL : list_msg(seq);
		}
		if (m && modalfs_ctl_put_volume(m, &a.v[i]))
			rc = -EMSGSIZE;
	}
	free(a.v);
	if (!m)
		return rc ? rc : -ENOMEM;
	if (!rc && nla_put_flag(m, MODALFS_A_EOF))
		rc = -EMSGSIZE;
	if (!rc)
		rc = modalfs_ctlmsg_send(fd, m);
	nlmsg_free(m);
	return rc;
}

int modalfs_ctl_handle(struct modalfs_store *st, int fd, void *buf,
		       size_t len, uid_t uid)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	struct nlmsghdr *nlh = buf;
	struct genlmsghdr *g;
	uint8_t cmd;

	if (modalfs_ctlmsg_parse(buf, len, &nlh, &cmd, tb)) {
		/* Answer what can be named; drop the rest. */
		if (len < NLMSG_HDRLEN + GENL_HDRLEN ||
		    nlh->nlmsg_len != len ||
		    nlh->nlmsg_type != MODALFS_CTL_NLMSG_TYPE)
			return -EINVAL;
		g = nlmsg_data(nlh);
		return send_error(fd, g->cmd, nlh->nlmsg_seq, EINVAL,
				  "malformed request (protocol version %d expected)",
				  MODALFS_GENL_VERSION);
	}
	switch (cmd) {
	case MODALFS_CTL_PERSISTED:
	case MODALFS_CTL_CREATE:
		return do_make(st, fd, cmd, nlh->nlmsg_seq, tb, uid);
	case MODALFS_CTL_LIST:
		return do_list(st, fd, nlh->nlmsg_seq);
	default:
		return send_error(fd, cmd, nlh->nlmsg_seq, EOPNOTSUPP,
				  "unknown command %u", cmd);
	}
}

static void *client(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	void *buf = malloc(MODALFS_CTL_DGRAM_MAX);
	struct pollfd p[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = srv.stop_pipe[0], .events = POLLIN },
	};

	if (buf && !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl)) {
		for (;;) {
			ssize_t n;

			if (poll(p, 2, -1) < 0 && errno != EINTR)
				break;
			if (p[1].revents)
				break;
			n = recv(fd, buf, MODALFS_CTL_DGRAM_MAX, MSG_TRUNC);
			if (n <= 0 || n > MODALFS_CTL_DGRAM_MAX)
				break;
			if (modalfs_ctl_handle(srv.st, fd, buf, n, cred.uid))
				break;
		}
	}
	free(buf);
	close(fd);
	pthread_mutex_lock(&srv.lock);
	srv.clients--;
	pthread_cond_broadcast(&srv.gone);
	pthread_mutex_unlock(&srv.lock);
	return NULL;
}

static void *acceptor(void *arg)
{
	struct pollfd p[2] = {
		{ .fd = srv.lfd, .events = POLLIN },
		{ .fd = srv.stop_pipe[0], .events = POLLIN },
	};

	(void)arg;
	for (;;) {
		pthread_attr_t attr;
		pthread_t t;
		int fd;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(srv.lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&srv.lock);
		srv.clients++;
		pthread_mutex_unlock(&srv.lock);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, client, (void *)(intptr_t)fd)) {
			close(fd);
			pthread_mutex_lock(&srv.lock);
			srv.clients--;
			pthread_mutex_unlock(&srv.lock);
		}
		pthread_attr_destroy(&attr);
	}
	return NULL;
}

int modalfs_ctl_start(struct modalfs_store *st, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[PATH_MAX];
	char *slash;
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
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(path, 0666) || listen(fd, 64)) {
		err = errno;
		close(fd);
		return err;
	}
	if (pipe2(srv.stop_pipe, O_CLOEXEC)) {
		err = errno;
		close(fd);
		return err;
	}
	srv.st = st;
	srv.lfd = fd;
	snprintf(srv.path, sizeof(srv.path), "%s", path);
	err = pthread_create(&srv.acceptor, NULL, acceptor, NULL);
	if (err) {
		close(fd);
		srv.lfd = -1;
	}
	return err;
}

void modalfs_ctl_stop(void)
{
	if (srv.lfd < 0)
		return;
	if (write(srv.stop_pipe[1], "x", 1) != 1)
		modalfs_err("cannot stop the control socket threads");
	pthread_join(srv.acceptor, NULL);
	pthread_mutex_lock(&srv.lock);
	while (srv.clients)
		pthread_cond_wait(&srv.gone, &srv.lock);
	pthread_mutex_unlock(&srv.lock);
	close(srv.lfd);
	srv.lfd = -1;
	unlink(srv.path);
	close(srv.stop_pipe[0]);
	close(srv.stop_pipe[1]);
}
