// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_client.h"
#include "../userd/names.h"

const char *ctl_sock_path = MODALFS_CTL_SOCKET;

int ctl_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("modalfsctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_RUNTIME;
}

bool ctl_name_ok(const char *name)
{
	if (modalfs_vol_name_valid(name))
		return true;
	fprintf(stderr, "modalfsctl: invalid volume name '%s': %s\n", name,
		MODALFS_VOL_NAME_RULE);
	return false;
}

bool ctl_root_ok(const char *cmd)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr, "modalfsctl: %s must be run as root (it calls mount(2))\n",
		cmd);
	return false;
}

int ctl_open(struct ctl_conn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->seq = (uint32_t)getpid() << 8;
	if (strlen(ctl_sock_path) >= sizeof(sa.sun_path))
		return ctl_fail("cannot reach modalfsd at %s: %s",
				ctl_sock_path, strerror(ENAMETOOLONG));
	strcpy(sa.sun_path, ctl_sock_path);
	c->buf = malloc(MODALFS_CTL_DGRAM_MAX);
	if (!c->buf)
		return ctl_fail("out of memory");
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		ctl_close(c);
		if (e == EACCES || e == EPERM) {
			struct passwd *pw = getpwuid(getuid());

			return ctl_fail("permission denied: modalfsd's socket %s is for root and the members of the '%s' group (ask an administrator: adduser %s %s)",
					ctl_sock_path, MODALFS_CTL_GROUP,
					pw ? pw->pw_name : "USER",
					MODALFS_CTL_GROUP);
		}
		return ctl_fail("cannot reach modalfsd at %s: %s%s",
				ctl_sock_path, strerror(e),
				e == ENOENT || e == ECONNREFUSED ?
				" (is modalfsd running?)" : "");
	}
	return 0;
}

void ctl_close(struct ctl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
}

struct nl_msg *ctl_request(struct ctl_conn *c, uint8_t cmd)
{
	struct nl_msg *m = modalfs_ctlmsg_new(cmd, ++c->seq, true);

	if (!m)
		ctl_fail("out of memory");
	return m;
}

int ctl_next(struct ctl_conn *c, uint8_t want)
{
	uint8_t cmd;
	ssize_t n;

	n = recv(c->fd, c->buf, MODALFS_CTL_DGRAM_MAX, MSG_TRUNC);
	if (n < 0 && errno == ECONNRESET)
		n = 0;	/* closed at once: over its connection limit */
	if (n < 0)
		return ctl_fail("reading from modalfsd at %s: %s",
				ctl_sock_path, strerror(errno));
	if (n == 0)
		return ctl_fail("modalfsd at %s closed the connection (it limits how many connections one user may have open)",
				ctl_sock_path);
	if (n > MODALFS_CTL_DGRAM_MAX ||
	    modalfs_ctlmsg_parse(c->buf, n, &c->nlh, &cmd, c->tb) ||
	    cmd != want || c->nlh->nlmsg_seq != c->seq ||
	    !c->tb[MODALFS_A_ERRNO])
		return ctl_fail("malformed reply from modalfsd at %s",
				ctl_sock_path);
	return 0;
}

int ctl_call(struct ctl_conn *c, uint8_t cmd, struct nl_msg *m)
{
	int rc;

	if (!m)
		return EXIT_RUNTIME;
	rc = modalfs_ctlmsg_send(c->fd, m);
	nlmsg_free(m);
	if (rc)
		return ctl_fail("sending to modalfsd at %s: %s", ctl_sock_path,
				strerror(-rc));
	return ctl_next(c, cmd);
}

int ctl_errno(const struct ctl_conn *c)
{
	return nla_get_u32(c->tb[MODALFS_A_ERRNO]);
}

int ctl_report(const struct ctl_conn *c, const char *what)
{
	const struct nlattr *msg = c->tb[MODALFS_A_ERRMSG];

	if (msg && *(const char *)nla_data(msg))
		return ctl_fail("%s", (const char *)nla_data(msg));
	return ctl_fail("%s: %s", what, strerror(ctl_errno(c)));
}

/* ---- progress ---- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void progress_draw(struct progress *p)
{
	int pct = p->total ? (int)(p->done * 100 / p->total) : 100;
	int bar = pct / 5;

	fprintf(stderr, "\r%-30.30s [%-20.*s%*s] %3d%% %8.1f MiB", p->label,
		bar, "====================", 20 - bar, "", pct,
		p->done / 1048576.0);
}

void progress_start(struct progress *p, const char *label, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->on = isatty(STDERR_FILENO);
	p->label = label;
	p->total = total;
	if (p->on) {
		p->last_ms = now_ms();
		progress_draw(p);
	}
}

void progress_add(struct progress *p, uint64_t n)
{
	long long t;

	p->done += n;
	if (!p->on)
		return;
	t = now_ms();
	if (t - p->last_ms >= 100) {
		p->last_ms = t;
		progress_draw(p);
	}
}

void progress_end(struct progress *p)
{
	if (!p->on)
		return;
	progress_draw(p);
	fputc('\n', stderr);
}

/* ---- output ---- */

/* Length of a valid UTF-8 sequence at s, or 0. */
static int utf8_len(const unsigned char *s)
{
	int n;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void json_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	while (*s) {
		int n;

		if (*s == '"' || *s == '\\') {
			fprintf(f, "\\%c", *s++);
			continue;
		}
		if (*s < 0x20) {
			fprintf(f, "\\u%04x", *s++);
			continue;
		}
		n = utf8_len(s);
		if (!n) {
			fputs("\\ufffd", f);
			s++;
			continue;
		}
		fwrite(s, 1, n, f);
		s += n;
	}
	fputc('"', f);
}

void fmt_time(int64_t t, char *out, size_t n)
{
	time_t tt = t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, n, "%lld", (long long)t);
}
