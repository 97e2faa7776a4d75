// SPDX-License-Identifier: GPL-2.0
/*
 * mfs-errno: run one file operation and print "OK" or the errno name, so
 * tests can assert exact error codes (and start in milliseconds, unlike
 * python under TCG).
 *
 *   mfs-errno stat|open|read|listdir PATH
 *   mfs-errno mount SOURCE TARGET [OPTIONS]     mount(2), type modalfs
 *   mfs-errno umount TARGET [force|detach]      umount2(2)
 *
 * "read" reads the whole file; with MFS_ERRNO_SHOW=1 the bytes read are
 * written to stderr. With MFS_ERRNO_TIME=FILE the milliseconds the
 * operation took (not counting process start-up) are written to FILE.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct timespec t0;

static int report(int rc)
{
	const char *tf = getenv("MFS_ERRNO_TIME");
	struct timespec t1;
	const char *n;
	int e = errno;
	FILE *f;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (tf && (f = fopen(tf, "w"))) {
		fprintf(f, "%lld\n", (long long)(t1.tv_sec - t0.tv_sec) * 1000 +
			(t1.tv_nsec - t0.tv_nsec) / 1000000);
		fclose(f);
	}
	errno = e;
	if (rc == 0) {
		printf("OK\n");
		return 0;
	}
	n = strerrorname_np(errno);
	printf("%s\n", n ? n : "E?");
	return 1;
}

static int do_read(const char *path)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (getenv("MFS_ERRNO_SHOW"))
			fwrite(buf, 1, n, stderr);
	if (n < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

static int do_listdir(const char *path)
{
	DIR *d = opendir(path);

	if (!d)
		return -1;
	errno = 0;
	while (readdir(d))
		;
	if (errno) {
		int e = errno;

		closedir(d);
		errno = e;
		return -1;
	}
	return closedir(d);
}

int main(int argc, char **argv)
{
	struct stat st;
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (argc < 3)
		goto usage;
	if (!strcmp(argv[1], "stat"))
		return report(stat(argv[2], &st));
	if (!strcmp(argv[1], "open")) {
		fd = open(argv[2], O_RDONLY);
		return report(fd < 0 ? -1 : close(fd));
	}
	if (!strcmp(argv[1], "read"))
		return report(do_read(argv[2]));
	if (!strcmp(argv[1], "listdir"))
		return report(do_listdir(argv[2]));
	if (!strcmp(argv[1], "mount") && (argc == 4 || argc == 5))
		return report(mount(argv[2], argv[3], "modalfs", 0,
				    argc == 5 ? argv[4] : NULL));
	if (!strcmp(argv[1], "umount")) {
		int flags = 0;

		if (argc == 4 && !strcmp(argv[3], "force"))
			flags = MNT_FORCE;
		else if (argc == 4 && !strcmp(argv[3], "detach"))
			flags = MNT_DETACH;
		return report(umount2(argv[2], flags));
	}
usage:
	fprintf(stderr, "usage: %s stat|open|read|listdir PATH | mount SRC TGT [OPTS] | umount TGT [force|detach]\n",
		argv[0]);
	return 2;
}
