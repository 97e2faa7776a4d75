/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A growable text buffer for the dashboard's pages, with the escapes a
 * page needs: HTML text and attributes, URL components, and sizes for
 * people. Out of memory is remembered and reported once, at the end.
 */
#ifndef MODALFS_DASH_BUF_H
#define MODALFS_DASH_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dash_buf {
	char *p;
	size_t len, cap;
	bool oom;
};

void dash_buf_free(struct dash_buf *b);
void dash_buf_put(struct dash_buf *b, const char *s, size_t n);
void dash_buf_puts(struct dash_buf *b, const char *s);
void dash_buf_printf(struct dash_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* HTML-escaped text; bytes that are not UTF-8 become U+FFFD. */
void dash_buf_html(struct dash_buf *b, const char *s);
/* Percent-encoded URL component ('/' kept when keep_slash). */
void dash_buf_url(struct dash_buf *b, const char *s, bool keep_slash);
/* "1.5 MiB", "0 B", "999 B". */
void dash_buf_size(struct dash_buf *b, uint64_t bytes);
/* Seconds since the epoch as "2026-12-05 08:01 UTC". */
void dash_buf_time(struct dash_buf *b, int64_t t);

#endif
