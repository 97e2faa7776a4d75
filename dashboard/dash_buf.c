// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dash_buf.h"

void dash_buf_free(struct dash_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static bool grow(struct dash_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1, cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->oom)
		return false;
	if (need <= b->cap)
		return true;
	while (cap < need)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void dash_buf_put(struct dash_buf *b, const char *s, size_t n)
{
	if (!grow(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void dash_buf_puts(struct dash_buf *b, const char *s)
{
	dash_buf_put(b, s, strlen(s));
}

void dash_buf_printf(struct dash_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Length of a valid UTF-8 sequence at s, or 0. */
static int utf8_len(const unsigned char *s)
{
	int n;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void dash_buf_html(struct dash_buf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		int n;

		switch (*s) {
		case '&': dash_buf_puts(b, "&amp;"); s++; continue;
		case '<': dash_buf_puts(b, "&lt;"); s++; continue;
		case '>': dash_buf_puts(b, "&gt;"); s++; continue;
		case '"': dash_buf_puts(b, "&quot;"); s++; continue;
		case '\'': dash_buf_puts(b, "&#39;"); s++; continue;
		}
		if (*s < 0x20) {
			dash_buf_puts(b, "\xef\xbf\xbd");
			s++;
			continue;
		}
		n = utf8_len(s);
		if (!n) {
			dash_buf_puts(b, "\xef\xbf\xbd");
			s++;
			continue;
		}
		dash_buf_put(b, (const char *)s, (size_t)n);
		s += n;
	}
}

void dash_buf_url(struct dash_buf *b, const char *str, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str;

	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~", *s) ||
		    (keep_slash && *s == '/')) {
			dash_buf_put(b, (const char *)s, 1);
		} else {
			char e[3] = { '%', hex[*s >> 4], hex[*s & 15] };

			dash_buf_put(b, e, 3);
		}
	}
}

void dash_buf_size(struct dash_buf *b, uint64_t bytes)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		dash_buf_printf(b, "%llu B", (unsigned long long)bytes);
		return;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	dash_buf_printf(b, v < 10 ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

void dash_buf_time(struct dash_buf *b, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char out[32];

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(out, sizeof(out), "%Y-%m-%d %H:%M UTC", &tm))
		snprintf(out, sizeof(out), "%lld", (long long)t);
	dash_buf_puts(b, out);
}
