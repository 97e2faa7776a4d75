/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What the two halves of the ops layer share: ops.c runs each op against
 * the store and encodes its reply; ops_call.c takes a request from its
 * decoding to its answer (checks, reply buffer, the writer, counters).
 */
#ifndef MODALFS_OPS_PRIV_H
#define MODALFS_OPS_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/genetlink.h>
#include <netlink/genl/genl.h>

#include "attrs.h"
#include "ops.h"

#define STR(min_, max_) { .type = MODALFS_PT_STRING, .min = min_, .max = max_ }
#define U32 { .type = MODALFS_PT_U32 }
#define U64 { .type = MODALFS_PT_U64 }
#define S64 { .type = MODALFS_PT_S64 }

struct req {
	struct modalfs_store *st;
	struct modalfs_txc *tx;	/* write ops: their context; else NULL */
	const struct nlmsghdr *nlh;
	struct nlattr *tb[MODALFS_A_MAX + 1];
	uint64_t id, vol, ino;
	uint32_t op;
	struct nl_msg *out;
	/* Reply values of DRC ops, which the store records at commit. */
	struct modalfs_iattr a;
	uint32_t size;
	struct modalfs_drc drc;
	/* The directories a namespace op changed (store.h, dir_out). */
	struct modalfs_iattr dir_a, new_dir_a;
	/*
	 * Worked out before a write op goes to the writer thread, which
	 * runs one op at a time: the DRC fingerprint, and a WRITE's bytes
	 * (gathered from their DATA chunks, or the errno that failed).
	 */
	uint64_t fp;
	char *wbuf;
	size_t wlen;
	int werr;
};
static inline const char *str(struct req *r, int type)
{
	return r->tb[type] ? nla_data(r->tb[type]) : NULL;
}

static inline uint32_t u32(struct req *r, int type)
{
	return nla_get_u32(r->tb[type]);
}

static inline uint64_t u64(struct req *r, int type)
{
	return nla_get_u64(r->tb[type]);
}

/* The non-idempotent ops of header section 2: run at most once per id. */
bool ops_drc_op(uint32_t op);

/*
 * Runs r's op and puts its reply values in r->out; write ops on the
 * thread that owns their write txn (r->tx, group commit).
 */
int ops_run(struct req *r);

/*
 * Concatenates r's DATA chunks into a malloc'd buffer of at most max
 * bytes; too_big is the errno for a payload over max.
 */
int ops_gather_data(struct req *r, size_t max, int too_big, char **out,
		    size_t *lenp);

#endif
