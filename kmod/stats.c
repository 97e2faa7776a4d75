// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs modalfs/stats: requests submitted per op, answered, answered
 * with an errno, and their round-trip time (submission to reply).
 *
 * Per-CPU counters touched only where a request is submitted and where
 * its reply arrives, so the page-cache and dcache hit paths pay nothing.
 * A reader sums the CPUs without stopping the writers: the numbers of
 * one op may be a request apart from each other, never more.
 */
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/timekeeping.h>

#include "modalfs_i.h"

struct modalfs_op_stats {
	u64 sent[MODALFS_OP_MAX + 1];
	u64 answered[MODALFS_OP_MAX + 1];
	u64 errors[MODALFS_OP_MAX + 1];
	u64 rtt_ns[MODALFS_OP_MAX + 1];		/* sum over answered */
	u64 avoided;		/* LOOKUPs a complete directory answered */
	u64 async_queued;	/* dirops.c: sent without waiting */
	u64 async_refused;	/* dirops.c: went synchronous (table full) */
	u64 fills;		/* dir.c: lookups that listed a directory */
	u64 fill_batches;	/* ... and the READDIRs they sent */
	u64 evicted;		/* evict.c: inodes that batched EVICTs carried */
	u64 stable;		/* file.c: fsyncs a stable WRITE made durable */
};


static DEFINE_PER_CPU(struct modalfs_op_stats, modalfs_op_stats);

static const char *const modalfs_op_names[MODALFS_OP_MAX + 1] = {
	[MODALFS_OP_MOUNT]	= "MOUNT",
	[MODALFS_OP_UMOUNT]	= "UMOUNT",
	[MODALFS_OP_STATFS]	= "STATFS",
	[MODALFS_OP_LOOKUP]	= "LOOKUP",
	[MODALFS_OP_GETATTR]	= "GETATTR",
	[MODALFS_OP_SETATTR]	= "SETATTR",
	[MODALFS_OP_READDIR]	= "READDIR",
	[MODALFS_OP_CREATE]	= "CREATE",
	[MODALFS_OP_MKDIR]	= "MKDIR",
	[MODALFS_OP_SYMLINK]	= "SYMLINK",
	[MODALFS_OP_READLINK]	= "READLINK",
	[MODALFS_OP_LINK]	= "LINK",
	[MODALFS_OP_UNLINK]	= "UNLINK",
	[MODALFS_OP_RMDIR]	= "RMDIR",
	[MODALFS_OP_RENAME]	= "RENAME",
	[MODALFS_OP_READ]	= "READ",
	[MODALFS_OP_WRITE]	= "WRITE",
	[MODALFS_OP_FSYNC]	= "FSYNC",
	[MODALFS_OP_EVICT]	= "EVICT",
	[MODALFS_OP_GETXATTR]	= "GETXATTR",
	[MODALFS_OP_SETXATTR]	= "SETXATTR",
	[MODALFS_OP_LISTXATTR]	= "LISTXATTR",
	[MODALFS_OP_REMOVEXATTR] = "REMOVEXATTR",
	[MODALFS_OP_INO_RANGE]	= "INO_RANGE",
};

/* A request entered the table (resends after a daemon restart do not count). */
void modalfs_stats_sent(struct modalfs_req *req)
{
	req->submit_ns = ktime_get_ns();
	if (req->op <= MODALFS_OP_MAX)
		this_cpu_inc(modalfs_op_stats.sent[req->op]);
}

/* The daemon answered req (error: the errno it answered, or 0). */
void modalfs_stats_answered(struct modalfs_req *req, int error)
{
	u32 op = req->op;

	if (op > MODALFS_OP_MAX)
		return;
	this_cpu_inc(modalfs_op_stats.answered[op]);
	if (error)
		this_cpu_inc(modalfs_op_stats.errors[op]);
	if (req->submit_ns)
		this_cpu_add(modalfs_op_stats.rtt_ns[op],
			     ktime_get_ns() - req->submit_ns);
}

/* A complete directory answered a lookup without a request (complete.c). */
void modalfs_stats_avoided(void)
{
	this_cpu_inc(modalfs_op_stats.avoided);
}

/* A lookup listed its directory in batches READDIRs (dir.c). */
void modalfs_stats_fill(unsigned int batches)
{
	this_cpu_inc(modalfs_op_stats.fills);
	this_cpu_add(modalfs_op_stats.fill_batches, batches);
}

/* A batched EVICT carries n inodes (evict.c). */
void modalfs_stats_evict_batch(unsigned int n)
{
	this_cpu_add(modalfs_op_stats.evicted, n);
}

/*
 * One line per op that was ever sent, then the total:
 *   op sent answered errors mean_rtt_us
 * then "avoided N": the LOOKUPs not sent because a complete directory
 * knew the name was absent; the asynchronous dirops' counters; and
 * "lookup_fills N" and "lookup_fill_batches N": the lookups that listed
 * their directory instead of a LOOKUP, and the READDIRs they sent; and
 * "evicted_batched N": the inodes that batched EVICTs released.
 */
/* Asynchronous dirops in flight on all volumes (dirops.c caps them). */
static atomic_t modalfs_async_inflight = ATOMIC_INIT(0);

/* One more in flight unless max are: true if it was counted. */
bool modalfs_stats_async_take(int max)
{
	if (atomic_inc_return(&modalfs_async_inflight) > max) {
		atomic_dec(&modalfs_async_inflight);
		this_cpu_inc(modalfs_op_stats.async_refused);
		return false;
	}
	return true;
}

void modalfs_stats_async_put(void)
{
	atomic_dec(&modalfs_async_inflight);
}

void modalfs_stats_async_queued(void)
{
	this_cpu_inc(modalfs_op_stats.async_queued);
}

/* An fsync that its stable WRITE made durable, without an FSYNC. */
void modalfs_stats_stable(void)
{
	this_cpu_inc(modalfs_op_stats.stable);
}

void modalfs_stats_show(struct seq_file *m)
{
	u64 queued = 0, refused = 0, fills = 0, fill_batches = 0, evicted = 0;
	u64 stable = 0;
	u64 tot_sent = 0, tot_ans = 0, tot_err = 0, tot_ns = 0;
	unsigned int op;
	int cpu;

	seq_puts(m, "op sent answered errors mean_rtt_us\n");
	for (op = 1; op <= MODALFS_OP_MAX; op++) {
		u64 sent = 0, ans = 0, err = 0, ns = 0;

		for_each_possible_cpu(cpu) {
			struct modalfs_op_stats *s =
				per_cpu_ptr(&modalfs_op_stats, cpu);

			sent += READ_ONCE(s->sent[op]);
			ans += READ_ONCE(s->answered[op]);
			err += READ_ONCE(s->errors[op]);
			ns += READ_ONCE(s->rtt_ns[op]);
		}
		tot_sent += sent;
		tot_ans += ans;
		tot_err += err;
		tot_ns += ns;
		if (!sent && !ans)
			continue;
		seq_printf(m, "%s %llu %llu %llu %llu\n",
			   modalfs_op_names[op] ?: "?", sent, ans, err,
			   ans ? div64_u64(ns, ans * NSEC_PER_USEC) : 0);
	}
	seq_printf(m, "total %llu %llu %llu %llu\n", tot_sent, tot_ans,
		   tot_err,
		   tot_ans ? div64_u64(tot_ns, tot_ans * NSEC_PER_USEC) : 0);
	tot_sent = 0;
	for_each_possible_cpu(cpu)
		tot_sent += READ_ONCE(per_cpu_ptr(&modalfs_op_stats,
						  cpu)->avoided);
	seq_printf(m, "avoided %llu\n", tot_sent);
	for_each_possible_cpu(cpu) {
		struct modalfs_op_stats *s = per_cpu_ptr(&modalfs_op_stats, cpu);

		queued += READ_ONCE(s->async_queued);
		refused += READ_ONCE(s->async_refused);
		fills += READ_ONCE(s->fills);
		fill_batches += READ_ONCE(s->fill_batches);
		evicted += READ_ONCE(s->evicted);
		stable += READ_ONCE(s->stable);
	}
	seq_printf(m, "async_queued %llu\nasync_refused %llu\nasync_inflight %d\n",
		   queued, refused, atomic_read(&modalfs_async_inflight));
	seq_printf(m, "lookup_fills %llu\nlookup_fill_batches %llu\nevicted_batched %llu\n",
		   fills, fill_batches, evicted);
	seq_printf(m, "fsync_stable %llu\n", stable);
}
