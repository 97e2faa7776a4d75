// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <string.h>

#include "attrs.h"

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
