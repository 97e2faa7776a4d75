// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <string.h>
#include <netlink/attr.h>

#include "ctlstats.h"

#define U64 { .type = MODALFS_PT_U64 }

const struct modalfs_pol modalfs_stats_policy[MODALFS_STATS_MAX + 1] = {
	[MODALFS_STATS_STARTED] = { .type = MODALFS_PT_S64 },
	[MODALFS_STATS_COMMITS] = U64,
	[MODALFS_STATS_SYNCS] = U64,
	[MODALFS_STATS_BLOCK_BYTES] = U64,
	[MODALFS_STATS_META_BYTES] = U64,
	[MODALFS_STATS_BATCHES] = U64,
	[MODALFS_STATS_BATCH_OPS] = U64,
	[MODALFS_STATS_BATCH_P99] = U64,
	[MODALFS_STATS_BATCH_MAX] = U64,
	[MODALFS_STATS_OP] = { .type = MODALFS_PT_NESTED, .multi = true },
};

const struct modalfs_pol modalfs_stats_op_policy[MODALFS_STATS_OP_MAX + 1] = {
	[MODALFS_STATS_OP_OP] = { .type = MODALFS_PT_U32 },
	[MODALFS_STATS_OP_REQUESTS] = U64,
	[MODALFS_STATS_OP_ERRORS] = U64,
	[MODALFS_STATS_OP_MEAN_NS] = U64,
	[MODALFS_STATS_OP_P99_NS] = U64,
	[MODALFS_STATS_OP_MAX_NS] = U64,
};

int modalfs_ctl_put_stats(struct nl_msg *m,
			  const struct modalfs_stats_snapshot *s)
{
	const struct modalfs_stats_hist *b = &s->batch_ops;
	struct nlattr *nest = nla_nest_start(m, MODALFS_A_STATS);

	if (!nest ||
	    nla_put_s64(m, MODALFS_STATS_STARTED, s->started) ||
	    nla_put_u64(m, MODALFS_STATS_COMMITS, s->commits) ||
	    nla_put_u64(m, MODALFS_STATS_SYNCS, s->syncs) ||
	    nla_put_u64(m, MODALFS_STATS_BLOCK_BYTES, s->block_bytes) ||
	    nla_put_u64(m, MODALFS_STATS_META_BYTES, s->meta_bytes) ||
	    nla_put_u64(m, MODALFS_STATS_BATCHES, b->count) ||
	    nla_put_u64(m, MODALFS_STATS_BATCH_OPS, b->sum) ||
	    nla_put_u64(m, MODALFS_STATS_BATCH_P99,
			modalfs_stats_percentile(b, 99)) ||
	    nla_put_u64(m, MODALFS_STATS_BATCH_MAX, b->max))
		return -EMSGSIZE;
	for (uint32_t op = 1; op <= MODALFS_OP_MAX; op++) {
		const struct modalfs_stats_op *o = &s->op[op];
		struct nlattr *n;

		if (!o->requests)
			continue;
		n = nla_nest_start(m, MODALFS_STATS_OP);
		if (!n ||
		    nla_put_u32(m, MODALFS_STATS_OP_OP, op) ||
		    nla_put_u64(m, MODALFS_STATS_OP_REQUESTS, o->requests) ||
		    nla_put_u64(m, MODALFS_STATS_OP_ERRORS, o->errors) ||
		    nla_put_u64(m, MODALFS_STATS_OP_MEAN_NS,
				modalfs_stats_mean(&o->latency_ns)) ||
		    nla_put_u64(m, MODALFS_STATS_OP_P99_NS,
				modalfs_stats_percentile(&o->latency_ns, 99)) ||
		    nla_put_u64(m, MODALFS_STATS_OP_MAX_NS,
				o->latency_ns.max))
			return -EMSGSIZE;
		nla_nest_end(m, n);
	}
	nla_nest_end(m, nest);
	return 0;
}

int modalfs_ctl_get_stats(struct nlattr *nest, struct modalfs_ctl_stats *out)
{
	struct nlattr *tb[MODALFS_STATS_MAX + 1], *a;
	int rem;

	if (modalfs_attrs_parse_nested(tb, MODALFS_STATS_MAX,
				       modalfs_stats_policy, nest))
		return -EINVAL;
	for (int i = 1; i < MODALFS_STATS_OP; i++)
		if (!tb[i])
			return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->started = nla_get_s64(tb[MODALFS_STATS_STARTED]);
	out->commits = nla_get_u64(tb[MODALFS_STATS_COMMITS]);
	out->syncs = nla_get_u64(tb[MODALFS_STATS_SYNCS]);
	out->block_bytes = nla_get_u64(tb[MODALFS_STATS_BLOCK_BYTES]);
	out->meta_bytes = nla_get_u64(tb[MODALFS_STATS_META_BYTES]);
	out->batches = nla_get_u64(tb[MODALFS_STATS_BATCHES]);
	out->batch_ops = nla_get_u64(tb[MODALFS_STATS_BATCH_OPS]);
	out->batch_p99 = nla_get_u64(tb[MODALFS_STATS_BATCH_P99]);
	out->batch_max = nla_get_u64(tb[MODALFS_STATS_BATCH_MAX]);
	nla_for_each_nested(a, nest, rem) {
		struct nlattr *ot[MODALFS_STATS_OP_MAX + 1];
		struct modalfs_ctl_stats_op *o;
		uint32_t op;

		if (nla_type(a) != MODALFS_STATS_OP)
			continue;
		if (modalfs_attrs_parse_nested(ot, MODALFS_STATS_OP_MAX,
					       modalfs_stats_op_policy, a))
			return -EINVAL;
		for (int i = 1; i <= MODALFS_STATS_OP_MAX; i++)
			if (!ot[i])
				return -EINVAL;
		op = nla_get_u32(ot[MODALFS_STATS_OP_OP]);
		if (op < 1 || op > MODALFS_OP_MAX)
			continue;	/* an op newer than this client */
		o = &out->op[op];
		o->requests = nla_get_u64(ot[MODALFS_STATS_OP_REQUESTS]);
		o->errors = nla_get_u64(ot[MODALFS_STATS_OP_ERRORS]);
		o->mean_ns = nla_get_u64(ot[MODALFS_STATS_OP_MEAN_NS]);
		o->p99_ns = nla_get_u64(ot[MODALFS_STATS_OP_P99_NS]);
		o->max_ns = nla_get_u64(ot[MODALFS_STATS_OP_MAX_NS]);
	}
	return 0;
}
