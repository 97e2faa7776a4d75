// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <string.h>

#include <netlink/msg.h>

#include "../netlink/modalfs.h"
#include "attrs.h"
#include "store.h"

static int check_one(const struct nlattr *a, const struct modalfs_pol *p)
{
	int len = nla_len(a);
	const char *s;
	size_t sl;

	switch (p->type) {
	case MODALFS_PT_U32:
		return len == 4 ? 0 : -EINVAL;
	case MODALFS_PT_U64:
	case MODALFS_PT_S64:
		return len == 8 ? 0 : -EINVAL;
	case MODALFS_PT_FLAG:
		return len == 0 ? 0 : -EINVAL;
	case MODALFS_PT_NESTED:
		return 0;
	case MODALFS_PT_BINARY:
		return len >= p->min && len <= p->max ? 0 : -EINVAL;
	case MODALFS_PT_STRING:
		if (len < 1)
			return -EINVAL;
		s = nla_data(a);
		sl = strnlen(s, len);
		/* Exactly one NUL, at the end. */
		if (sl != (size_t)len - 1)
			return -EINVAL;
		return sl >= p->min && sl <= p->max ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

int modalfs_attrs_parse(struct nlattr **tb, int maxtype,
			const struct modalfs_pol *pol,
			struct nlattr *head, int len)
{
	struct nlattr *a;
	int rem;

	memset(tb, 0, sizeof(*tb) * (maxtype + 1));
	if (len < 0)
		return -EINVAL;
	nla_for_each_attr(a, head, len, rem) {
		int type = nla_type(a);

		if (type <= 0 || type > maxtype)
			return -EINVAL;
		if (check_one(a, &pol[type]))
			return -EINVAL;
		if (tb[type]) {
			if (!pol[type].multi)
				return -EINVAL;
			continue;
		}
		tb[type] = a;
	}
	/* Trailing bytes that do not form an attribute. */
	if (rem > 0)
		return -EINVAL;
	return 0;
}

int modalfs_attrs_parse_nested(struct nlattr **tb, int maxtype,
			       const struct modalfs_pol *pol,
			       struct nlattr *nest)
{
	return modalfs_attrs_parse(tb, maxtype, pol, nla_data(nest),
				   nla_len(nest));
}

int modalfs_attrs_put_iattr(struct nl_msg *m, int type,
			    const struct modalfs_iattr *a)
{
	struct nlattr *nest = nla_nest_start(m, type);

	if (!nest ||
	    nla_put_u64(m, MODALFS_ATTR_INO, a->ino) ||
	    nla_put_u32(m, MODALFS_ATTR_MODE, a->mode) ||
	    nla_put_u32(m, MODALFS_ATTR_NLINK, a->nlink) ||
	    nla_put_u32(m, MODALFS_ATTR_UID, a->uid) ||
	    nla_put_u32(m, MODALFS_ATTR_GID, a->gid) ||
	    nla_put_u32(m, MODALFS_ATTR_RDEV, a->rdev) ||
	    nla_put_u64(m, MODALFS_ATTR_SIZE, a->size) ||
	    nla_put_u64(m, MODALFS_ATTR_BLOCKS, a->blocks) ||
	    nla_put_s64(m, MODALFS_ATTR_ATIME_SEC, a->atime_sec) ||
	    nla_put_u32(m, MODALFS_ATTR_ATIME_NSEC, a->atime_nsec) ||
	    nla_put_s64(m, MODALFS_ATTR_MTIME_SEC, a->mtime_sec) ||
	    nla_put_u32(m, MODALFS_ATTR_MTIME_NSEC, a->mtime_nsec) ||
	    nla_put_s64(m, MODALFS_ATTR_CTIME_SEC, a->ctime_sec) ||
	    nla_put_u32(m, MODALFS_ATTR_CTIME_NSEC, a->ctime_nsec))
		return -EMSGSIZE;
	nla_nest_end(m, nest);
	return 0;
}
