// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * mount.modalfs: the helper mount(8) runs for "mount -t modalfs" and for
 * fstab entries of type modalfs:
 *
 *   mount.modalfs NAME[:/path] DIR [-sfnv] [-N NS] [-o OPTIONS]
 *
 * Exit status as mount(8) documents for helpers: 0 mounted, 1 bad usage
 * or permissions, 32 the mount failed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mountopts.h"
#include "volprobe.h"
#include "../netlink/modalfs.h"

#define EX_USAGE_MNT	1
#define EX_FAIL_MNT	32

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: mount.modalfs NAME[:/path] DIR [-sfnv] [-o OPTIONS]\n"
		"Mount the modalfs volume NAME (or the directory /path in it) at DIR.\n"
		"Normally run by mount(8): mount -t modalfs NAME:/path DIR -o OPTIONS\n"
		"\n"
		"  -o OPTIONS  comma-separated: ro, rw, nosuid, nodev, noexec, noatime,\n"
		"              relatime, ... (mount flags) and modalfs options such as\n"
		"              hard, soft, timeo=N, sync_dirops, nodirfill; see\n"
		"              mount.modalfs(8)\n"
		"  -f          do everything but the mount(2) call\n"
		"  -v          say what is mounted\n"
		"  -n, -s      accepted and ignored (no mtab; options are checked\n"
		"              by the kernel)\n"
		"  -h, --help  show this help\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mount_opts mo = { 0 };
	char src[MODALFS_VOL_NAME_MAX + MODALFS_PATH_MAX + 2];
	char err[512];
	bool fake = false, verbose = false;
	const char *spec, *dir;
	int c, e;

	while ((c = getopt_long(argc, argv, "sfnvho:t:N:", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
		case 'n':
		case 't':
		case 'N':
			break;
		case 'f':
			fake = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'o':
			if (mount_opts_parse(optarg, &mo, err, sizeof(err))) {
				fprintf(stderr, "mount.modalfs: %s\n", err);
				return EX_USAGE_MNT;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE_MNT;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "mount.modalfs: expected NAME[:/path] and DIR\n");
		usage(stderr);
		return EX_USAGE_MNT;
	}
	spec = argv[optind];
	dir = argv[optind + 1];
	if (mount_source(spec, src, sizeof(src), err, sizeof(err))) {
		fprintf(stderr, "mount.modalfs: %s\n", err);
		return EX_USAGE_MNT;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "mount.modalfs: mounting %s must be run as root\n",
			src);
		return EX_USAGE_MNT;
	}
	if (verbose)
		printf("mount.modalfs: mounting %s on %s (flags 0x%lx, options '%s')%s\n",
		       src, dir, mo.flags, mo.data, fake ? " [fake]" : "");
	if (fake)
		return 0;
	e = mount_volume(src, dir, &mo, err, sizeof(err));
	if (e == ENOENT) {
		/* mount(8) names the source a "special device": say what it is. */
		volprobe_explain(MODALFS_CTL_SOCKET, src, dir, err, sizeof(err));
		fprintf(stderr, "modalfs: %s\n", err);
		return EX_FAIL_MNT;
	}
	if (e) {
		fprintf(stderr, "mount.modalfs: mounting %s on %s failed: %s\n",
			src, dir, err);
		return EX_FAIL_MNT;
	}
	return 0;
}
