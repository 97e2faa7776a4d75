// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dash_ctl.h"

void dash_ctl_socket(const char *path)
{
	ctl_sock_path = path;
}

static int unreachable(char *err)
{
	snprintf(err, DASH_ERR_MAX, "cannot reach modalfsd at %s",
		 ctl_sock_path);
	return ECONNREFUSED;
}

static int malformed(char *err)
{
	snprintf(err, DASH_ERR_MAX, "malformed reply from modalfsd at %s",
		 ctl_sock_path);
	return EPROTO;
}

/* The reply's errno, with its sentence (or strerror) in err. */
static int reply_error(const struct ctl_conn *c, char *err)
{
	int e = ctl_errno(c);
	const struct nlattr *msg = c->tb[MODALFS_A_ERRMSG];

	if (!e)
		return 0;
	if (msg && *(const char *)nla_data(msg))
		snprintf(err, DASH_ERR_MAX, "%s", (const char *)nla_data(msg));
	else
		snprintf(err, DASH_ERR_MAX, "%s", strerror(e));
	return e;
}

/* Sends m and checks the first reply; 0, an errno, with err set. */
static int call(struct ctl_conn *c, uint8_t cmd, struct nl_msg *m, char *err)
{
	if (ctl_call(c, cmd, m))
		return malformed(err);
	return reply_error(c, err);
}

static int next(struct ctl_conn *c, uint8_t cmd, char *err)
{
	if (ctl_next(c, cmd))
		return malformed(err);
	return reply_error(c, err);
}

static int grow(void **v, size_t n, size_t *cap, size_t size)
{
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*v, (*cap ? *cap * 2 : 16) * size);
	if (!p)
		return ENOMEM;
	*v = p;
	*cap = *cap ? *cap * 2 : 16;
	return 0;
}

int dash_ctl_list(struct dash_vol **out, size_t *n, char *err)
{
	struct dash_vol *v = NULL;
	size_t cap = 0;
	struct ctl_conn c;
	int rc;

	*n = 0;
	if (ctl_open(&c))
		return unreachable(err);
	rc = call(&c, MODALFS_CTL_LIST, ctl_request(&c, MODALFS_CTL_LIST), err);
	while (!rc) {
		struct nlattr *a;
		int rem;

		nlmsg_for_each_attr(a, c.nlh, GENL_HDRLEN, rem) {
			struct modalfs_ctl_volume cv;
			struct dash_vol *d;

			if (nla_type(a) != MODALFS_A_VOLUME)
				continue;
			if (modalfs_ctl_get_volume(a, &cv)) {
				rc = malformed(err);
				break;
			}
			if (grow((void **)&v, *n, &cap, sizeof(*v))) {
				rc = ENOMEM;
				snprintf(err, DASH_ERR_MAX, "out of memory");
				break;
			}
			d = &v[(*n)++];
			memset(d, 0, sizeof(*d));
			snprintf(d->name, sizeof(d->name), "%s", cv.vi.name);
			snprintf(d->app_id, sizeof(d->app_id), "%s", cv.vi.app_id);
			snprintf(d->app_name, sizeof(d->app_name), "%s",
				 cv.app_name);
			d->kind = cv.vi.kind;
			d->mounts = cv.mounts;
			d->created = cv.vi.created;
			d->bytes = cv.vi.bytes;
			d->files = cv.vi.files;
		}
		if (rc || c.tb[MODALFS_A_EOF])
			break;
		rc = next(&c, MODALFS_CTL_LIST, err);
	}
	ctl_close(&c);
	if (rc) {
		free(v);
		v = NULL;
		*n = 0;
	}
	*out = v;
	return rc;
}

static struct nl_msg *path_req(struct ctl_conn *c, uint8_t cmd,
			       const char *vol, const char *path)
{
	struct nl_msg *m = ctl_request(c, cmd);

	if (m && (nla_put_string(m, MODALFS_A_VOL_NAME, vol) ||
		  (path && nla_put_string(m, MODALFS_A_PATH, path)))) {
		nlmsg_free(m);
		m = NULL;
	}
	return m;
}

int dash_ctl_ls(const char *vol, const char *path, struct dash_entry **out,
		size_t *n, char *err)
{
	struct dash_entry *e = NULL;
	size_t cap = 0;
	struct ctl_conn c;
	int rc;

	*n = 0;
	if (ctl_open(&c))
		return unreachable(err);
	rc = call(&c, MODALFS_CTL_LS, path_req(&c, MODALFS_CTL_LS, vol, path),
		  err);
	while (!rc) {
		struct nlattr *a;
		int rem;

		nlmsg_for_each_attr(a, c.nlh, GENL_HDRLEN, rem) {
			if (nla_type(a) != MODALFS_A_ENTRY)
				continue;
			if (grow((void **)&e, *n, &cap, sizeof(*e))) {
				rc = ENOMEM;
				snprintf(err, DASH_ERR_MAX, "out of memory");
				break;
			}
			if (modalfs_ctl_get_entry(a, e[*n].name, &e[*n].attr)) {
				rc = malformed(err);
				break;
			}
			(*n)++;
		}
		if (rc || c.tb[MODALFS_A_EOF])
			break;
		rc = next(&c, MODALFS_CTL_LS, err);
	}
	ctl_close(&c);
	if (rc) {
		free(e);
		e = NULL;
		*n = 0;
	}
	*out = e;
	return rc;
}

int dash_ctl_delete(const char *vol, bool force, char *err)
{
	struct ctl_conn c;
	struct nl_msg *m;
	int rc;

	if (ctl_open(&c))
		return unreachable(err);
	m = path_req(&c, MODALFS_CTL_DELETE, vol, NULL);
	if (m && force && nla_put_u32(m, MODALFS_A_FLAGS, MODALFS_CTL_F_FORCE)) {
		nlmsg_free(m);
		m = NULL;
	}
	rc = call(&c, MODALFS_CTL_DELETE, m, err);
	ctl_close(&c);
	return rc;
}

int dash_ctl_stats(struct modalfs_ctl_stats *s, char *err)
{
	struct ctl_conn c;
	int rc;

	if (ctl_open(&c))
		return unreachable(err);
	rc = call(&c, MODALFS_CTL_STATS, ctl_request(&c, MODALFS_CTL_STATS),
		  err);
	if (!rc && (!c.tb[MODALFS_A_STATS] ||
		    modalfs_ctl_get_stats(c.tb[MODALFS_A_STATS], s)))
		rc = malformed(err);
	ctl_close(&c);
	return rc;
}

int dash_get_read(struct dash_get *g, uint64_t off, char *buf, size_t max,
		  size_t *got, char *err)
{
	struct nl_msg *m = path_req(&g->c, MODALFS_CTL_GET, g->vol, g->path);
	struct modalfs_iattr attr;
	struct nlattr *a;
	int rem, rc;

	*got = 0;
	if (max > MODALFS_CTL_IO_MAX)
		max = MODALFS_CTL_IO_MAX;
	if (m && (nla_put_u64(m, MODALFS_A_OFFSET, off) ||
		  nla_put_u32(m, MODALFS_A_SIZE, (uint32_t)max))) {
		nlmsg_free(m);
		m = NULL;
	}
	rc = call(&g->c, MODALFS_CTL_GET, m, err);
	if (rc)
		return rc;
	if (!g->c.tb[MODALFS_A_ATTR] ||
	    modalfs_ctl_get_attr(g->c.tb[MODALFS_A_ATTR], &attr))
		return malformed(err);
	g->size = attr.size;
	nlmsg_for_each_attr(a, g->c.nlh, GENL_HDRLEN, rem) {
		size_t n = (size_t)nla_len(a);

		if (nla_type(a) != MODALFS_A_DATA)
			continue;
		if (*got + n > max)
			return malformed(err);
		memcpy(buf + *got, nla_data(a), n);
		*got += n;
	}
	return 0;
}

int dash_get_open(struct dash_get *g, const char *vol, const char *path,
		  char *err)
{
	char one;
	size_t got;
	int rc;

	memset(g, 0, sizeof(*g));
	g->c.fd = -1;
	snprintf(g->vol, sizeof(g->vol), "%s", vol);
	snprintf(g->path, sizeof(g->path), "%s", path);
	if (ctl_open(&g->c))
		return unreachable(err);
	/* One byte tells whether it is a readable file, and its size. */
	rc = dash_get_read(g, 0, &one, 1, &got, err);
	if (rc)
		dash_get_close(g);
	return rc;
}

void dash_get_close(struct dash_get *g)
{
	if (g->c.fd >= 0 || g->c.buf)
		ctl_close(&g->c);
}
