// SPDX-License-Identifier: GPL-2.0
/*
 * mfs-mount: mount(2) or umount2(2) and print "OK" or the errno name, so
 * tests can assert exact error codes; mount(8) only shows messages.
 *
 *   mfs-mount SOURCE TARGET [OPTIONS]   mount -t modalfs
 *   mfs-mount -u TARGET                 umount
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

static int report(int rc)
{
	const char *n;

	if (rc == 0) {
		printf("OK\n");
		return 0;
	}
	n = strerrorname_np(errno);
	printf("%s\n", n ? n : "E?");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "-u"))
		return report(umount2(argv[2], 0));
	if (argc == 3 || argc == 4)
		return report(mount(argv[1], argv[2], "modalfs", 0,
				    argc == 4 ? argv[3] : NULL));
	fprintf(stderr, "usage: %s SOURCE TARGET [OPTIONS] | -u TARGET\n", argv[0]);
	return 2;
}
