/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Small inline SVG line charts (no script, no external file). */
#ifndef MODALFS_DASH_CHART_H
#define MODALFS_DASH_CHART_H

#include <stdbool.h>
#include <stddef.h>

#include "dash_buf.h"

/*
 * A line chart of n values (oldest first) in a w x h box. title is the
 * chart's accessible name; with labels, the latest and the largest value
 * are written beside it (as sizes when sizes, else as "N/s").
 */
void dash_chart(struct dash_buf *b, const double *v, size_t n, int w, int h,
		const char *title, bool sizes, bool labels);

#endif
