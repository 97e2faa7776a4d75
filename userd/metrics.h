/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * modalfsd --metrics-listen ADDR:PORT: the counters of `modalfsctl stats`
 * in Prometheus's text exposition format (version 0.0.4), served over
 * HTTP by libmicrohttpd on GET /metrics. Off unless asked for; nothing
 * here can change the daemon's state.
 */
#ifndef MODALFS_METRICS_H
#define MODALFS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"

struct modalfs_store;
struct modalfs_metrics;

/* What the counters do not hold, gathered per scrape. */
struct modalfs_metrics_gauges {
	uint64_t persisted;	/* volumes by kind */
	uint64_t ephemeral;
	uint64_t mounted;	/* volumes with a live superblock (sysfs) */
};

/*
 * Renders one scrape into a malloc'ed buffer (*out, *len; the caller
 * frees it). Returns 0 or an errno.
 */
int modalfs_metrics_render(const struct modalfs_stats_snapshot *s,
			   const struct modalfs_metrics_gauges *g,
			   char **out, size_t *len);

/*
 * Starts serving on listen ("IPv4:PORT" or "[IPv6]:PORT", numeric only).
 * Returns 0, EINVAL for a malformed address, or the errno of the bind.
 */
int modalfs_metrics_start(struct modalfs_metrics **out,
			  struct modalfs_store *st, const char *listen);
void modalfs_metrics_stop(struct modalfs_metrics *m);

#endif
