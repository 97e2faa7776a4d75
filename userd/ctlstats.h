/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The CTL_STATS reply (protocol header, enum modalfs_stats_attr): encoded
 * by modalfsd from a stats snapshot, decoded by modalfsctl.
 */
#ifndef MODALFS_CTLSTATS_H
#define MODALFS_CTLSTATS_H

#include <stdint.h>
#include <netlink/msg.h>

#include "attrs.h"
#include "stats.h"

extern const struct modalfs_pol modalfs_stats_policy[MODALFS_STATS_MAX + 1];
extern const struct modalfs_pol
	modalfs_stats_op_policy[MODALFS_STATS_OP_MAX + 1];

/* What crosses the wire: the snapshot's summary, not its histograms. */
struct modalfs_ctl_stats_op {
	uint64_t requests, errors, mean_ns, p99_ns, max_ns;
};

struct modalfs_ctl_stats {
	int64_t started;
	uint64_t commits, syncs, block_bytes, meta_bytes;
	uint64_t batches, batch_ops, batch_p99, batch_max;
	struct modalfs_ctl_stats_op op[MODALFS_OP_MAX + 1];	/* [0] unused */
};

/* Adds MODALFS_A_STATS for snap to msg; 0 or -EMSGSIZE. */
int modalfs_ctl_put_stats(struct nl_msg *msg,
			  const struct modalfs_stats_snapshot *snap);
/* Decodes a MODALFS_A_STATS nest; 0 or -EINVAL. */
int modalfs_ctl_get_stats(struct nlattr *nest, struct modalfs_ctl_stats *out);

#endif
