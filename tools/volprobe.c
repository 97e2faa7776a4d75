// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "volprobe.h"
#include "../userd/ctlmsg.h"

/* errno of a CTL_LS of name:path, or -1 when modalfsd cannot be asked. */
static int ls_errno(const char *sock_path, const char *name, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	struct nlattr *tb[MODALFS_A_MAX + 1];
	struct nlmsghdr *nlh;
	struct nl_msg *m = NULL;
	char *buf = NULL;
	int fd = -1, rc = -1;
	uint8_t cmd;
	ssize_t len;

	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, sock_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		goto out;
	m = modalfs_ctlmsg_new(MODALFS_CTL_LS, 1, true);
	buf = malloc(MODALFS_CTL_DGRAM_MAX);
	if (!m || !buf || nla_put_string(m, MODALFS_A_VOL_NAME, name) ||
	    nla_put_string(m, MODALFS_A_PATH, path) ||
	    modalfs_ctlmsg_send(fd, m))
		goto out;
	len = recv(fd, buf, MODALFS_CTL_DGRAM_MAX, MSG_TRUNC);
	if (len <= 0 || len > MODALFS_CTL_DGRAM_MAX ||
	    modalfs_ctlmsg_parse(buf, len, &nlh, &cmd, tb) ||
	    cmd != MODALFS_CTL_LS || !tb[MODALFS_A_ERRNO])
		goto out;
	rc = nla_get_u32(tb[MODALFS_A_ERRNO]);
out:
	if (m)
		nlmsg_free(m);
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

int volprobe_exists(const char *sock_path, const char *name)
{
	int e = ls_errno(sock_path, name, "/");

	return e < 0 ? -1 : e == ENOENT ? 0 : 1;
}

void volprobe_explain(const char *sock_path, const char *src,
		      const char *dir, char *msg, size_t n)
{
	char name[MODALFS_VOL_NAME_MAX + 1];
	const char *colon = strchr(src, ':');
	const char *path = colon ? colon + 1 : "/";
	size_t len = colon ? (size_t)(colon - src) : strlen(src);
	struct stat sb;

	if (stat(dir, &sb)) {
		snprintf(msg, n, "mount point %s does not exist", dir);
		return;
	}
	if (len > MODALFS_VOL_NAME_MAX) {
		snprintf(msg, n, "no volume named \"%.*s\"", (int)len, src);
		return;
	}
	memcpy(name, src, len);
	name[len] = '\0';
	switch (volprobe_exists(sock_path, name)) {
	case 0:
		snprintf(msg, n, "no volume named \"%s\" ('modalfsctl list' shows the volumes there are)",
			 name);
		break;
	case 1:
		snprintf(msg, n, "volume \"%s\" has no directory %s ('modalfsctl ls %s' shows what it has)",
			 name, path, name);
		break;
	default:
		snprintf(msg, n, "the volume \"%s\" or the path %s in it does not exist",
			 name, path);
	}
}
