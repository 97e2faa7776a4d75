// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

int modalfs_log_level = MODALFS_LOG_INFO;

/*
 * Under systemd, stderr is a journal stream and JOURNAL_STREAM names it
 * ("device:inode"). Lines then carry the sd-daemon(3) "<N>" priority
 * prefix instead of "modalfsd: ", which the journal adds by itself.
 * Checked per line, not cached, so that a redirected stderr is honoured
 * and no global needs setting up.
 */
static int to_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat sb;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(2, &sb))
		return 0;
	return sb.st_dev == dev && sb.st_ino == ino;
}

/* syslog(3) priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. */
static const int journal_prio[] = {
	[MODALFS_LOG_ERR] = 3, [MODALFS_LOG_WARN] = 4,
	[MODALFS_LOG_INFO] = 6, [MODALFS_LOG_DEBUG] = 7,
};

void modalfs_log(int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (level > modalfs_log_level)
		return;
	/* Build the whole line first so concurrent threads never interleave. */
	if (to_journal())
		n = snprintf(line, sizeof(line), "<%d>", journal_prio[level]);
	else
		n = snprintf(line, sizeof(line), "modalfsd: ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n = strlen(line);
	line[n++] = '\n';
	fwrite(line, 1, n, stderr);
	fflush(stderr);
}
