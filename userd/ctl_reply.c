// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Control replies: an error with a message for people, or ERRNO 0. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl_priv.h"

int modalfs_ctl_error(const struct modalfs_ctl_req *r, int err,
		      const char *fmt, ...)
{
	char text[MODALFS_ERRMSG_MAX + 1];
	struct nl_msg *m = modalfs_ctlmsg_new(r->cmd, r->seq, false);
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
		rc = modalfs_ctlmsg_send(r->fd, m);
	nlmsg_free(m);
	return rc;
}

struct nl_msg *modalfs_ctl_ok_msg(const struct modalfs_ctl_req *r)
{
	struct nl_msg *m = modalfs_ctlmsg_new(r->cmd, r->seq, false);

	if (m && nla_put_u32(m, MODALFS_A_ERRNO, 0)) {
		nlmsg_free(m);
		m = NULL;
	}
	return m;
}

int modalfs_ctl_send(const struct modalfs_ctl_req *r, struct nl_msg *m)
{
	int rc;

	if (!m)
		return -ENOMEM;
	rc = modalfs_ctlmsg_send(r->fd, m);
	nlmsg_free(m);
	return rc;
}

int modalfs_ctl_send_ok(const struct modalfs_ctl_req *r)
{
	return modalfs_ctl_send(r, modalfs_ctl_ok_msg(r));
}

int modalfs_ctl_grow(void *vp, size_t n, size_t *cap, size_t size,
		     size_t first)
{
	void **v = vp;
	size_t c;
	void *p;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : first;
	p = realloc(*v, c * size);
	if (!p)
		return ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}
