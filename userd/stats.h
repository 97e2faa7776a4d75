/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * modalfsd's counters: what `modalfsctl stats`, the Prometheus endpoint
 * and the dashboard show.
 *
 * One struct modalfs_stats per daemon. It lives in the store
 * (modalfs_store_stats(st) returns it), and whoever counts is handed it
 * explicitly: ops.c per kernel request, the store per commit, sync and
 * byte written. Recording is lock-free (relaxed atomics), so any thread
 * may count at any time; a snapshot copies everything at once, not as one
 * atomic view (a request counted in `requests` may not be in the latency
 * sum yet). Counters only grow, from daemon start.
 *
 * Latencies (per kernel op) and batch sizes go into log-linear histograms:
 * bucket i counts values v with bucket_le(i - 1) < v <= bucket_le(i), four
 * buckets per power of two, so a percentile read from it is at most 19%
 * above the true value. Use modalfs_stats_bucket_le() for the upper
 * bounds when exporting buckets (Prometheus's `le`).
 */
#ifndef MODALFS_STATS_H
#define MODALFS_STATS_H

#include <stdint.h>

#include "../netlink/modalfs.h"

/* Histogram buckets: 4 per power of two, up to 2^40 (ns: ~18 minutes). */
#define MODALFS_STATS_BUCKETS	164

struct modalfs_stats;

struct modalfs_stats_hist {
	uint64_t count;
	uint64_t sum;
	uint64_t max;
	uint64_t bucket[MODALFS_STATS_BUCKETS];	/* not cumulative */
};

/* One kernel op (enum modalfs_op). Latency in nanoseconds. */
struct modalfs_stats_op {
	uint64_t requests;
	uint64_t errors;	/* answered with a non-zero errno */
	struct modalfs_stats_hist latency_ns;
};

struct modalfs_stats_snapshot {
	int64_t started;	/* daemon start, seconds since the epoch */
	struct modalfs_stats_op op[MODALFS_OP_MAX + 1];	/* [0] unused */
	uint64_t commits;	/* metadata-store write transactions committed */
	uint64_t syncs;		/* times the store was made durable (fsync) */
	uint64_t block_bytes;	/* bytes written to the block store */
	uint64_t meta_bytes;	/* bytes written to the metadata store */
	/* Ops per commit of the writer thread (group commit). */
	struct modalfs_stats_hist batch_ops;
};

struct modalfs_stats *modalfs_stats_new(void);
void modalfs_stats_free(struct modalfs_stats *s);

/* One kernel request of op (1..MODALFS_OP_MAX): its errno and latency. */
void modalfs_stats_op(struct modalfs_stats *s, uint32_t op, int err,
		      uint64_t ns);
/* A committed write transaction holding ops operations (0: not an op). */
void modalfs_stats_commit(struct modalfs_stats *s, uint32_t ops);
void modalfs_stats_sync(struct modalfs_stats *s);
void modalfs_stats_block_bytes(struct modalfs_stats *s, uint64_t n);
void modalfs_stats_meta_bytes(struct modalfs_stats *s, uint64_t n);

void modalfs_stats_snapshot(struct modalfs_stats *s,
			    struct modalfs_stats_snapshot *out);

/* Upper bound (inclusive) of histogram bucket i; UINT64_MAX for the last. */
uint64_t modalfs_stats_bucket_le(unsigned int i);
/* The p-th percentile (0 < p <= 100) of h, as a bucket's upper bound
 * clamped to h->max; 0 when h is empty. */
uint64_t modalfs_stats_percentile(const struct modalfs_stats_hist *h,
				  double p);
/* h->sum / h->count, 0 when empty. */
uint64_t modalfs_stats_mean(const struct modalfs_stats_hist *h);
/* "LOOKUP", "WRITE", ...; "?" for anything else. */
const char *modalfs_stats_op_name(uint32_t op);

#endif
