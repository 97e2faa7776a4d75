// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Test-only fault injection (see fault.h). Everything here acts on the
 * encoded request and reply, so the store and the op handlers stay free
 * of test hooks; the one caller is the worker loop in genl.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/genetlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include "fault.h"
#include "log.h"
#include "ops.h"
#include "../netlink/modalfs.h"

static const char *const op_names[] = {
	[MODALFS_OP_MOUNT] = "MOUNT",		[MODALFS_OP_UMOUNT] = "UMOUNT",
	[MODALFS_OP_STATFS] = "STATFS",		[MODALFS_OP_LOOKUP] = "LOOKUP",
	[MODALFS_OP_GETATTR] = "GETATTR",	[MODALFS_OP_SETATTR] = "SETATTR",
	[MODALFS_OP_READDIR] = "READDIR",	[MODALFS_OP_CREATE] = "CREATE",
	[MODALFS_OP_MKDIR] = "MKDIR",		[MODALFS_OP_SYMLINK] = "SYMLINK",
	[MODALFS_OP_READLINK] = "READLINK",	[MODALFS_OP_LINK] = "LINK",
	[MODALFS_OP_UNLINK] = "UNLINK",		[MODALFS_OP_RMDIR] = "RMDIR",
	[MODALFS_OP_RENAME] = "RENAME",		[MODALFS_OP_READ] = "READ",
	[MODALFS_OP_WRITE] = "WRITE",		[MODALFS_OP_FSYNC] = "FSYNC",
	[MODALFS_OP_EVICT] = "EVICT",		[MODALFS_OP_GETXATTR] = "GETXATTR",
	[MODALFS_OP_SETXATTR] = "SETXATTR",	[MODALFS_OP_LISTXATTR] = "LISTXATTR",
	[MODALFS_OP_REMOVEXATTR] = "REMOVEXATTR",
	[MODALFS_OP_INO_RANGE] = "INO_RANGE",
};

static uint32_t op_by_name(const char *s, size_t len)
{
	for (uint32_t op = 1; op <= MODALFS_OP_MAX; op++)
		if (op_names[op] && strlen(op_names[op]) == len &&
		    !strncmp(op_names[op], s, len))
			return op;
	return 0;
}

static int parse_one(struct modalfs_fault *f, const char *s, size_t len)
{
	const char *colon;
	size_t oplen;

	if (len == 9 && !strncmp(s, "READ_FLIP", 9)) {
		f->read_flip = true;
		return 0;
	}
	if (len == 12 && !strncmp(s, "READDIR_DROP", 12)) {
		f->readdir_drop = true;
		return 0;
	}
	if (len < 5 || strncmp(s, "EIO=", 4) || f->neio == MODALFS_FAULT_EIO_MAX)
		return EINVAL;
	s += 4;
	len -= 4;
	colon = memchr(s, ':', len);
	oplen = colon ? (size_t)(colon - s) : len;
	f->eio[f->neio].op = op_by_name(s, oplen);
	if (!f->eio[f->neio].op)
		return EINVAL;
	if (colon) {
		size_t nlen = len - oplen - 1;

		if (!nlen || nlen >= sizeof(f->eio[0].name))
			return EINVAL;
		memcpy(f->eio[f->neio].name, colon + 1, nlen);
		f->eio[f->neio].name[nlen] = '\0';
	}
	f->neio++;
	return 0;
}

int modalfs_fault_parse(struct modalfs_fault *f, const char *spec)
{
	memset(f, 0, sizeof(*f));
	if (!spec || !*spec)
		return 0;
	while (*spec) {
		size_t len = strcspn(spec, ",");

		if (parse_one(f, spec, len)) {
			memset(f, 0, sizeof(*f));
			return EINVAL;
		}
		spec += len;
		if (*spec == ',' && !*++spec) {	/* a trailing comma */
			memset(f, 0, sizeof(*f));
			return EINVAL;
		}
	}
	f->active = true;
	return 0;
}

static struct nlattr *req_attr(const struct nlmsghdr *req, int type)
{
	return nlmsg_find_attr((struct nlmsghdr *)req, GENL_HDRLEN, type);
}

static uint32_t req_op(const struct nlmsghdr *req)
{
	struct nlattr *a = req_attr(req, MODALFS_A_OP);

	return a && nla_len(a) == 4 ? nla_get_u32(a) : 0;
}

static bool name_is(const struct nlmsghdr *req, int type, const char *name)
{
	struct nlattr *a = req_attr(req, type);

	return a && nla_len(a) > 0 &&
	       strnlen(nla_data(a), nla_len(a)) == strlen(name) &&
	       !memcmp(nla_data(a), name, strlen(name));
}

struct nl_msg *modalfs_fault_request(const struct modalfs_fault *f,
				     const struct nlmsghdr *req, int family,
				     uint64_t *req_id)
{
	struct nlattr *id;
	uint32_t op;

	if (!f->active || !f->neio)
		return NULL;
	op = req_op(req);
	id = req_attr(req, MODALFS_A_REQ_ID);
	if (!op || !id || nla_len(id) != 8)
		return NULL;
	for (int i = 0; i < f->neio; i++) {
		if (f->eio[i].op != op)
			continue;
		if (f->eio[i].name[0] &&
		    !name_is(req, MODALFS_A_NAME, f->eio[i].name) &&
		    !name_is(req, MODALFS_A_NEW_NAME, f->eio[i].name))
			continue;
		*req_id = nla_get_u64(id);
		modalfs_warn("MODALFSD_FAULT: answering EIO to %s request %llu",
			     op_names[op], (unsigned long long)*req_id);
		return modalfs_ops_error_reply(family, *req_id, EIO);
	}
	return NULL;
}

static void flip_read(struct nl_msg *reply)
{
	struct nlattr *a = nlmsg_find_attr(nlmsg_hdr(reply), GENL_HDRLEN,
					   MODALFS_A_DATA);

	if (a && nla_len(a) > 0)
		((unsigned char *)nla_data(a))[nla_len(a) / 2] ^= 0x20;
}

/* A copy of reply without its first DIRENT, or reply if it has < 2. */
static struct nl_msg *drop_dirent(struct nl_msg *reply)
{
	struct nlmsghdr *h = nlmsg_hdr(reply);
	struct genlmsghdr *g = nlmsg_data(h);
	struct nlattr *a, *head = genlmsg_attrdata(g, 0);
	int rem, n = 0;
	bool dropped = false;
	struct nl_msg *out;

	nla_for_each_attr(a, head, genlmsg_attrlen(g, 0), rem)
		n += nla_type(a) == MODALFS_A_DIRENT;
	if (n < 2)
		return reply;
	out = nlmsg_alloc_size(h->nlmsg_len + NLMSG_HDRLEN);
	if (!out)
		return reply;
	if (!genlmsg_put(out, NL_AUTO_PORT, h->nlmsg_seq, h->nlmsg_type, 0,
			 h->nlmsg_flags, g->cmd, g->version))
		goto fail;
	nla_for_each_attr(a, head, genlmsg_attrlen(g, 0), rem) {
		if (!dropped && nla_type(a) == MODALFS_A_DIRENT) {
			dropped = true;
			continue;
		}
		if (nla_put(out, a->nla_type, nla_len(a), nla_data(a)))
			goto fail;
	}
	nlmsg_free(reply);
	return out;
fail:
	nlmsg_free(out);
	return reply;
}

struct nl_msg *modalfs_fault_reply(const struct modalfs_fault *f,
				   const struct nlmsghdr *req,
				   struct nl_msg *reply)
{
	uint32_t op;

	if (!f->active || !reply)
		return reply;
	op = req_op(req);
	if (op == MODALFS_OP_READ && f->read_flip)
		flip_read(reply);
	else if (op == MODALFS_OP_READDIR && f->readdir_drop)
		reply = drop_dirent(reply);
	return reply;
}
