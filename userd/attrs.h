/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Strict netlink attribute validation (header section 1): unknown or
 * out-of-range types, wrong fixed lengths, unterminated or over-long
 * strings, stray bytes and unexpected repeats all reject the message.
 * libnl's nla_parse() silently skips types above the maximum and only
 * checks minimum lengths, so it is not strict enough on its own.
 */
#ifndef MODALFS_ATTRS_H
#define MODALFS_ATTRS_H

#include <stdbool.h>
#include <stdint.h>
#include <netlink/attr.h>

enum modalfs_pt {
	MODALFS_PT_REJECT = 0,	/* not allowed at this level */
	MODALFS_PT_U32,
	MODALFS_PT_U64,
	MODALFS_PT_S64,
	MODALFS_PT_STRING,	/* NUL-terminated, strlen in [min, max] */
	MODALFS_PT_BINARY,	/* length in [min, max] */
	MODALFS_PT_NESTED,
	MODALFS_PT_FLAG,
};

struct modalfs_pol {
	uint8_t type;
	bool multi;		/* may repeat; tb[] holds the first one */
	uint16_t min, max;
};

/* Returns 0 or -EINVAL; tb must have maxtype + 1 slots. */
int modalfs_attrs_parse(struct nlattr **tb, int maxtype,
			const struct modalfs_pol *pol,
			struct nlattr *head, int len);
int modalfs_attrs_parse_nested(struct nlattr **tb, int maxtype,
			       const struct modalfs_pol *pol,
			       struct nlattr *nest);

struct modalfs_iattr;
struct nl_msg;
/*
 * Encodes every member of a as the nested attribute `type` (MODALFS_A_ATTR
 * in REPLYs and control replies, MODALFS_ENTRY_ATTR in ENTRY). 0 or
 * -EMSGSIZE.
 */
int modalfs_attrs_put_iattr(struct nl_msg *m, int type,
			    const struct modalfs_iattr *a);

#endif
