// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <stdint.h>

#include "dash_chart.h"

static void value(struct dash_buf *b, double v, bool sizes)
{
	if (sizes)
		dash_buf_size(b, (uint64_t)v);
	else
		dash_buf_printf(b, v < 10 ? "%.1f/s" : "%.0f/s", v);
}

void dash_chart(struct dash_buf *b, const double *v, size_t n, int w, int h,
		const char *title, bool sizes, bool labels)
{
	double max = 0, min = 0;
	const int pad = 2;

	for (size_t i = 0; i < n; i++) {
		if (v[i] > max)
			max = v[i];
		if (!i || v[i] < min)
			min = v[i];
	}
	/* A flat series sits at the bottom (sizes: mid-height). */
	if (max == min)
		min = sizes && max > 0 ? max / 2 : 0;
	dash_buf_printf(b, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"",
			w, h, w, h);
	dash_buf_html(b, title);
	dash_buf_puts(b, "\"><title>");
	dash_buf_html(b, title);
	dash_buf_puts(b, "</title>");
	dash_buf_printf(b, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" class=\"bg\"/>",
			w, h);
	if (n >= 2) {
		dash_buf_puts(b, "<polyline class=\"line\" points=\"");
		for (size_t i = 0; i < n; i++) {
			double x = pad + (double)(w - 2 * pad) * i / (n - 1);
			double y = h - pad - (max > min ?
				(double)(h - 2 * pad) * (v[i] - min) / (max - min) : 0);

			dash_buf_printf(b, "%s%.1f,%.1f", i ? " " : "", x, y);
		}
		dash_buf_puts(b, "\"/>");
	} else {
		dash_buf_printf(b, "<text x=\"4\" y=\"%d\" class=\"note\">collecting…</text>",
				h / 2 + 4);
	}
	dash_buf_puts(b, "</svg>");
	if (labels && n) {
		dash_buf_puts(b, "<span class=\"chartlabel\">now ");
		value(b, v[n - 1], sizes);
		dash_buf_puts(b, ", peak ");
		value(b, max > v[n - 1] ? max : v[n - 1], sizes);
		dash_buf_puts(b, "</span>");
	}
}
