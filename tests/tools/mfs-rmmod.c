// SPDX-License-Identifier: GPL-2.0
/*
 * mfs-rmmod NAME: delete_module(2) as rmmod(8) does (O_NONBLOCK) and print
 * "OK" or the errno name, so tests can tell "in use" from other failures.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *n;

	if (argc != 2) {
		fprintf(stderr, "usage: %s MODULE\n", argv[0]);
		return 2;
	}
	if (syscall(SYS_delete_module, argv[1], O_NONBLOCK) == 0) {
		printf("OK\n");
		return 0;
	}
	n = strerrorname_np(errno);
	printf("%s\n", n ? n : "E?");
	return 1;
}
