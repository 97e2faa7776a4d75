// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

int modalfs_log_level = MODALFS_LOG_INFO;

void modalfs_log(int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (level > modalfs_log_level)
		return;
	/* Build the whole line first so concurrent threads never interleave. */
	n = snprintf(line, sizeof(line), "modalfsd: ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n = strlen(line);
	line[n++] = '\n';
	fwrite(line, 1, n, stderr);
	fflush(stderr);
}
