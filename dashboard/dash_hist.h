/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The last minutes of the daemon's numbers, for the charts: a sampler
 * thread adds a sample (every volume's size, the summed request count)
 * every few seconds; pages read series out of it.
 */
#ifndef MODALFS_DASH_HIST_H
#define MODALFS_DASH_HIST_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "dash_ctl.h"

#define DASH_HIST_SAMPLES 60

struct dash_sample {
	int64_t t;			/* seconds since the epoch */
	uint64_t requests;		/* all kernel ops since daemon start */
	int64_t started;		/* the daemon's start (restart = reset) */
	size_t nvols;
	struct { char name[MODALFS_VOL_NAME_MAX + 1]; uint64_t bytes; } *vols;
};

struct dash_hist {
	pthread_mutex_t lock;
	struct dash_sample s[DASH_HIST_SAMPLES];
	size_t head, n;			/* oldest at head, n valid */
	unsigned interval;		/* seconds between samples */
};

void dash_hist_init(struct dash_hist *h, unsigned interval);
void dash_hist_destroy(struct dash_hist *h);
/* Samples the daemon now; 0 or an errno (err set). */
int dash_hist_sample(struct dash_hist *h, char *err);
/*
 * Series, oldest first, into out (at most DASH_HIST_SAMPLES): a volume's
 * size in bytes, or the daemon's requests per second between samples.
 * Returns the number of points.
 */
size_t dash_hist_sizes(struct dash_hist *h, const char *vol, double *out);
size_t dash_hist_rates(struct dash_hist *h, double *out);

#endif
