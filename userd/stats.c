// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The daemon's counters (stats.h). Every field is updated with relaxed
 * atomic adds: counting must cost a request nothing measurable, and no
 * reader needs the fields to agree with each other to the last request.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"

struct modalfs_stats {
	struct modalfs_stats_snapshot c;
};

#define ADD(field, n)	__atomic_fetch_add(&(field), (n), __ATOMIC_RELAXED)
#define GET(field)	__atomic_load_n(&(field), __ATOMIC_RELAXED)

struct modalfs_stats *modalfs_stats_new(void)
{
	struct modalfs_stats *s = calloc(1, sizeof(*s));

	if (s)
		s->c.started = time(NULL);
	return s;
}

void modalfs_stats_free(struct modalfs_stats *s)
{
	free(s);
}

static unsigned int bucket_of(uint64_t v)
{
	unsigned int e, i;

	if (v < 4)
		return v;
	e = 63 - __builtin_clzll(v);
	i = 4 * (e - 1) + ((v >> (e - 2)) & 3);
	return i < MODALFS_STATS_BUCKETS ? i : MODALFS_STATS_BUCKETS - 1;
}

uint64_t modalfs_stats_bucket_le(unsigned int i)
{
	unsigned int e = i / 4 + 1, m = i % 4;

	if (i >= MODALFS_STATS_BUCKETS - 1)
		return UINT64_MAX;
	if (i < 4)
		return i;
	return ((uint64_t)(5 + m) << (e - 2)) - 1;
}

static void hist_add(struct modalfs_stats_hist *h, uint64_t v)
{
	uint64_t max = GET(h->max);

	ADD(h->count, 1);
	ADD(h->sum, v);
	ADD(h->bucket[bucket_of(v)], 1);
	while (v > max && !__atomic_compare_exchange_n(&h->max, &max, v, true,
						       __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		;
}

static void hist_copy(struct modalfs_stats_hist *dst,
		      const struct modalfs_stats_hist *src)
{
	dst->count = GET(src->count);
	dst->sum = GET(src->sum);
	dst->max = GET(src->max);
	for (unsigned int i = 0; i < MODALFS_STATS_BUCKETS; i++)
		dst->bucket[i] = GET(src->bucket[i]);
}

void modalfs_stats_op(struct modalfs_stats *s, uint32_t op, int err,
		      uint64_t ns)
{
	if (!s || op < 1 || op > MODALFS_OP_MAX)
		return;
	ADD(s->c.op[op].requests, 1);
	if (err)
		ADD(s->c.op[op].errors, 1);
	hist_add(&s->c.op[op].latency_ns, ns);
}

void modalfs_stats_commit(struct modalfs_stats *s, uint32_t ops)
{
	if (!s)
		return;
	ADD(s->c.commits, 1);
	if (ops)
		hist_add(&s->c.batch_ops, ops);
}

void modalfs_stats_sync(struct modalfs_stats *s)
{
	if (s)
		ADD(s->c.syncs, 1);
}

void modalfs_stats_block_bytes(struct modalfs_stats *s, uint64_t n)
{
	if (s)
		ADD(s->c.block_bytes, n);
}

void modalfs_stats_meta_bytes(struct modalfs_stats *s, uint64_t n)
{
	if (s)
		ADD(s->c.meta_bytes, n);
}

void modalfs_stats_snapshot(struct modalfs_stats *s,
			    struct modalfs_stats_snapshot *out)
{
	memset(out, 0, sizeof(*out));
	if (!s)
		return;
	out->started = s->c.started;
	for (unsigned int i = 1; i <= MODALFS_OP_MAX; i++) {
		out->op[i].requests = GET(s->c.op[i].requests);
		out->op[i].errors = GET(s->c.op[i].errors);
		hist_copy(&out->op[i].latency_ns, &s->c.op[i].latency_ns);
	}
	out->commits = GET(s->c.commits);
	out->syncs = GET(s->c.syncs);
	out->block_bytes = GET(s->c.block_bytes);
	out->meta_bytes = GET(s->c.meta_bytes);
	hist_copy(&out->batch_ops, &s->c.batch_ops);
}

uint64_t modalfs_stats_percentile(const struct modalfs_stats_hist *h,
				  double p)
{
	uint64_t want, seen = 0;

	if (!h->count || p <= 0)
		return 0;
	/* The smallest value with at least p% of the samples at or below. */
	want = (uint64_t)((double)h->count * p / 100.0 + 0.999999);
	if (want < 1)
		want = 1;
	for (unsigned int i = 0; i < MODALFS_STATS_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= want) {
			uint64_t le = modalfs_stats_bucket_le(i);

			return le < h->max ? le : h->max;
		}
	}
	return h->max;
}

uint64_t modalfs_stats_mean(const struct modalfs_stats_hist *h)
{
	return h->count ? h->sum / h->count : 0;
}

const char *modalfs_stats_op_name(uint32_t op)
{
	static const char *const names[MODALFS_OP_MAX + 1] = {
		[MODALFS_OP_MOUNT] = "MOUNT",
		[MODALFS_OP_UMOUNT] = "UMOUNT",
		[MODALFS_OP_STATFS] = "STATFS",
		[MODALFS_OP_LOOKUP] = "LOOKUP",
		[MODALFS_OP_GETATTR] = "GETATTR",
		[MODALFS_OP_SETATTR] = "SETATTR",
		[MODALFS_OP_READDIR] = "READDIR",
		[MODALFS_OP_CREATE] = "CREATE",
		[MODALFS_OP_MKDIR] = "MKDIR",
		[MODALFS_OP_SYMLINK] = "SYMLINK",
		[MODALFS_OP_READLINK] = "READLINK",
		[MODALFS_OP_LINK] = "LINK",
		[MODALFS_OP_UNLINK] = "UNLINK",
		[MODALFS_OP_RMDIR] = "RMDIR",
		[MODALFS_OP_RENAME] = "RENAME",
		[MODALFS_OP_READ] = "READ",
		[MODALFS_OP_WRITE] = "WRITE",
		[MODALFS_OP_FSYNC] = "FSYNC",
		[MODALFS_OP_EVICT] = "EVICT",
		[MODALFS_OP_GETXATTR] = "GETXATTR",
		[MODALFS_OP_SETXATTR] = "SETXATTR",
		[MODALFS_OP_LISTXATTR] = "LISTXATTR",
		[MODALFS_OP_REMOVEXATTR] = "REMOVEXATTR",
		[MODALFS_OP_INO_RANGE] = "INO_RANGE",
	};

	return op <= MODALFS_OP_MAX && names[op] ? names[op] : "?";
}
