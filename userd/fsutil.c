// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

int modalfs_mkdir_p(const char *dir, mode_t leaf_mode)
{
	char tmp[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0)
		return ENOENT;
	if (n >= sizeof(tmp))
		return ENAMETOOLONG;
	memcpy(tmp, dir, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(tmp, leaf_mode) && errno != EEXIST)
		return errno;
	return 0;
}

uint64_t modalfs_proc_wchar_fd(int fd)
{
	char buf[1024], *p;
	ssize_t n;

	/* A seq_file: a read at offset 0 generates the counts afresh. */
	n = fd < 0 ? -1 : pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, "wchar:");
	return p ? strtoull(p + 6, NULL, 10) : 0;
}

uint64_t modalfs_proc_wchar(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t w = modalfs_proc_wchar_fd(fd);

	if (fd >= 0)
		close(fd);
	return w;
}
