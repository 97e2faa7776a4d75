// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dash_hist.h"

void dash_hist_init(struct dash_hist *h, unsigned interval)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	h->interval = interval;
}

void dash_hist_destroy(struct dash_hist *h)
{
	for (size_t i = 0; i < DASH_HIST_SAMPLES; i++)
		free(h->s[i].vols);
	pthread_mutex_destroy(&h->lock);
}

int dash_hist_sample(struct dash_hist *h, char *err)
{
	struct modalfs_ctl_stats *st = malloc(sizeof(*st));
	struct dash_vol *v = NULL;
	struct dash_sample s = { .t = time(NULL) };
	size_t n = 0;
	int rc;

	if (!st)
		return ENOMEM;
	rc = dash_ctl_stats(st, err);
	if (!rc)
		rc = dash_ctl_list(&v, &n, err);
	if (!rc && n) {
		s.vols = calloc(n, sizeof(*s.vols));
		if (!s.vols)
			rc = ENOMEM;
	}
	if (!rc) {
		for (uint32_t op = 1; op <= MODALFS_OP_MAX; op++)
			s.requests += st->op[op].requests;
		s.started = st->started;
		s.nvols = n;
		for (size_t i = 0; i < n; i++) {
			memcpy(s.vols[i].name, v[i].name, sizeof(s.vols[i].name));
			s.vols[i].bytes = v[i].bytes;
		}
		pthread_mutex_lock(&h->lock);
		if (h->n == DASH_HIST_SAMPLES) {
			free(h->s[h->head].vols);
			h->s[h->head] = s;
			h->head = (h->head + 1) % DASH_HIST_SAMPLES;
		} else {
			h->s[(h->head + h->n) % DASH_HIST_SAMPLES] = s;
			h->n++;
		}
		pthread_mutex_unlock(&h->lock);
	}
	free(v);
	free(st);
	return rc;
}

size_t dash_hist_sizes(struct dash_hist *h, const char *vol, double *out)
{
	size_t k = 0;

	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < h->n; i++) {
		const struct dash_sample *s =
			&h->s[(h->head + i) % DASH_HIST_SAMPLES];

		for (size_t j = 0; j < s->nvols; j++) {
			if (!strcmp(s->vols[j].name, vol)) {
				out[k++] = (double)s->vols[j].bytes;
				break;
			}
		}
	}
	pthread_mutex_unlock(&h->lock);
	return k;
}

size_t dash_hist_rates(struct dash_hist *h, double *out)
{
	size_t k = 0;

	pthread_mutex_lock(&h->lock);
	for (size_t i = 1; i < h->n; i++) {
		const struct dash_sample *a =
			&h->s[(h->head + i - 1) % DASH_HIST_SAMPLES];
		const struct dash_sample *b =
			&h->s[(h->head + i) % DASH_HIST_SAMPLES];
		int64_t dt = b->t - a->t;

		/* A restarted daemon counts from zero again. */
		if (dt <= 0 || a->started != b->started ||
		    b->requests < a->requests)
			out[k++] = 0;
		else
			out[k++] = (double)(b->requests - a->requests) / dt;
	}
	pthread_mutex_unlock(&h->lock);
	return k;
}
