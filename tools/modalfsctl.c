// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * modalfsctl: command-line client of modalfsd's control socket.
 * Exit status: 0 success, 1 runtime error, 2 usage error; "run" exits with
 * its command's status. This file has the dispatcher, the usage texts and
 * the volume commands; ctl_files.c has ls/put/get/rm and ctl_run.c
 * run/mount.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_client.h"
#include "modalfsctl.h"
#include "../userd/names.h"

static void usage_main(FILE *f)
{
	fprintf(f,
		"Usage: modalfsctl [--socket PATH] COMMAND [ARGS]\n"
		"Manage modalfs volumes through modalfsd.\n"
		"\n"
		"Volumes:\n"
		"  persisted NAME                 create volume NAME if missing; print its app id\n"
		"  create NAME                    create volume NAME; fail if it exists\n"
		"  list [--json]                  list volumes\n"
		"  delete NAME|APP-ID [--force]   delete a volume and all its data\n"
		"  app stop APP [--force]         stop an app and delete its volumes\n"
		"  stats [--json]                 the daemon's counters (requests, latency, commits)\n"
		"Files (no mount needed):\n"
		"  ls NAME [PATH] [--json]        list a directory or file\n"
		"  put NAME LOCAL [REMOTE]        copy a local file or tree into the volume\n"
		"  get NAME REMOTE [DEST|-]       copy a file out of the volume\n"
		"  rm NAME PATH [-r]              remove a file or directory\n"
		"Mounting:\n"
		"  mount NAME[:/path] DIR [-o OPTIONS]\n"
		"                                 mount a volume (as mount -t modalfs)\n"
		"  run [--app NAME] --nfs DIR=NAME|new ... -- CMD [ARGS]\n"
		"                                 run CMD with volumes mounted privately\n"
		"\n"
		"Options:\n"
		"  --socket PATH    modalfsd control socket (default %s)\n"
		"  --help           show this help; COMMAND --help for a command\n"
		"\n"
		"Exit status: 0 success, 1 error, 2 bad usage.\n"
		"Volume names: %s.\n",
		MODALFS_CTL_SOCKET, MODALFS_VOL_NAME_RULE);
}

static void usage_persisted(FILE *f)
{
	fprintf(f,
		"Usage: modalfsctl persisted NAME\n"
		"Create the persisted volume NAME unless it exists, and print its\n"
		"app id. Safe to repeat. Requires root.\n"
		"NAME: %s.\n", MODALFS_VOL_NAME_RULE);
}

static void usage_create(FILE *f)
{
	fprintf(f,
		"Usage: modalfsctl create NAME\n"
		"Create the persisted volume NAME and print its app id; fails if\n"
		"it already exists. Requires root.\n"
		"NAME: %s.\n", MODALFS_VOL_NAME_RULE);
}

static void usage_list(FILE *f)
{
	fprintf(f,
		"Usage: modalfsctl list [--json]\n"
		"List volumes: NAME, APP ID (the volume's own for a persisted volume,\n"
		"its app's for an ephemeral one), KIND, APP (the owning app's name),\n"
		"CREATED (UTC), BYTES (file data), FILES (inodes) and MOUNTS (on this\n"
		"host, over all mount namespaces).\n"
		"  --json   print a JSON array of objects with the keys name, app_id,\n"
		"           vol_id, kind, app_name (null if none), created (ISO 8601),\n"
		"           created_unix, bytes, files and mounts\n");
}

static void usage_delete(FILE *f)
{
	fprintf(f,
		"Usage: modalfsctl delete NAME|APP-ID [--force]\n"
		"Delete a volume, by name or by app id (ap-...), and all its data; the\n"
		"space is freed. An app id of an app with ephemeral volumes stops that\n"
		"app (see app stop). Requires root.\n"
		"  --force  delete even while mounted; the mounts then fail every\n"
		"           operation with ESTALE until they are unmounted\n");
}

static void usage_app(FILE *f)
{
	fprintf(f,
		"Usage: modalfsctl app stop APP [--force]\n"
		"Stop the app APP (an app id ap-..., or the name given to run --app)\n"
		"and delete its ephemeral volumes. The app id of a persisted volume\n"
		"deletes that volume. Requires root.\n"
		"  --force  delete volumes even while mounted (mounts get ESTALE)\n");
}

void usage_ls(FILE *f)
{
	fprintf(f,
		"Usage: modalfsctl ls NAME [PATH] [--json]\n"
		"List directory PATH (default /) of volume NAME, or the file PATH,\n"
		"without mounting it: MODE, SIZE, MODIFIED (UTC) and NAME.\n"
		"  --json   a JSON array of objects with the keys name, type (file,\n"
		"           dir, symlink, fifo, socket, chardev, blockdev), mode,\n"
		"           size, nlink, uid, gid, ino, mtime (ISO 8601), mtime_unix\n");
}

void usage_put(FILE *f)
{
	fprintf(f,
		"Usage: modalfsctl put NAME LOCAL [REMOTE]\n"
		"Copy the local file or directory tree LOCAL into volume NAME, without\n"
		"mounting it. REMOTE is the destination path (default /BASENAME of\n"
		"LOCAL); a REMOTE ending in '/' is a directory that receives LOCAL\n"
		"under its own name. Missing parent directories are created, existing\n"
		"files are overwritten, and permission bits are kept. Symlinks and\n"
		"special files in a tree are skipped with a warning. A progress bar\n"
		"is shown when stderr is a terminal. Requires root.\n");
}

void usage_get(FILE *f)
{
	fprintf(f,
		"Usage: modalfsctl get NAME REMOTE [DEST|-] [--force]\n"
		"Copy the file REMOTE out of volume NAME, without mounting it, to DEST\n"
		"(default: its base name in the current directory; an existing\n"
		"directory receives it under its base name). '-' writes to stdout.\n"
		"The file is written to a temporary file and renamed into place. A\n"
		"progress bar is shown when stderr is a terminal.\n"
		"  --force  overwrite DEST if it exists\n");
}

void usage_rm(FILE *f)
{
	fprintf(f,
		"Usage: modalfsctl rm NAME PATH [-r]\n"
		"Remove the file, symlink or empty directory PATH from volume NAME,\n"
		"without mounting it. Requires root.\n"
		"  -r, --recursive  remove a directory and everything in it\n");
}

void usage_run(FILE *f)
{
	fprintf(f,
		"Usage: modalfsctl run [--app NAME] --nfs DIR=VOLUME|new [--nfs ...] -- CMD [ARGS]\n"
		"Run CMD in a private mount namespace with each VOLUME mounted at DIR\n"
		"(created if missing); nothing is mounted for other processes.\n"
		"'new' is an empty ephemeral volume that belongs to this run: it is\n"
		"deleted with all its data when CMD ends, also when CMD or modalfsctl\n"
		"is killed. With --app NAME the run belongs to the named app instead:\n"
		"its ephemeral volumes are shared by every run of that app (the first\n"
		"'new' of a run is the app's first ephemeral volume, and so on) and\n"
		"live until 'modalfsctl app stop NAME'.\n"
		"CMD sees MODALFS_APP_ID in its environment when there is an app.\n"
		"Exit status: CMD's, or 128+N when CMD was killed by signal N; 1 when\n"
		"setting up failed, 2 on bad usage. Requires root.\n");
}

void usage_mount(FILE *f)
{
	fprintf(f,
		"Usage: modalfsctl mount NAME[:/path] DIR [-o OPTIONS]\n"
		"Mount volume NAME, or the directory /path in it, at DIR, as\n"
		"'mount -t modalfs NAME:/path DIR -o OPTIONS' does. OPTIONS are\n"
		"mount flags (ro, nosuid, nodev, noexec, noatime, relatime, ...) and\n"
		"modalfs options (hard, soft, timeo=N); see mount.modalfs(8).\n"
		"Requires root.\n");
}

void usage_stats(FILE *f)
{
	fprintf(f,
		"Usage: modalfsctl stats [--json]\n"
		"Print modalfsd's counters since it started: per kernel operation\n"
		"the requests, the errors, and the mean, 99th-percentile and largest\n"
		"latency; then the store's commits, syncs, ops per batch (group\n"
		"commit) and the bytes written to its block and metadata stores.\n"
		"  --json   one JSON object: started_unix, commits, syncs,\n"
		"           block_bytes, meta_bytes, batches {count, ops, p99, max}\n"
		"           and ops {NAME: {requests, errors, mean_ns, p99_ns,\n"
		"           max_ns}} for every op with at least one request\n");
}

int usage_error(void (*usage)(FILE *), const char *fmt, ...)
{
	va_list ap;

	fputs("modalfsctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	return EXIT_USAGE;
}

bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return false;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	}
	return false;
}

int parse_flags(int argc, char **argv, const struct flag *flags,
		       char **pos, int maxpos, void (*usage)(FILE *))
{
	int n = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool matched = false;

		if (a[0] == '-' && a[1]) {
			for (const struct flag *f = flags; f && f->name; f++) {
				if ((a[1] == '-' && !strcmp(a + 2, f->name)) ||
				    (f->alias && a[1] == f->alias && !a[2])) {
					*f->set = true;
					matched = true;
				}
			}
			if (!matched) {
				usage_error(usage, "%s: unknown option '%s'",
					    argv[0], a);
				return -1;
			}
			continue;
		}
		if (n == maxpos) {
			usage_error(usage, "%s: unexpected argument '%s'",
				    argv[0], a);
			return -1;
		}
		pos[n++] = argv[i];
	}
	return n;
}

static int cmd_make(uint8_t cmd, int argc, char **argv)
{
	void (*usage)(FILE *) = cmd == MODALFS_CTL_PERSISTED ?
				usage_persisted : usage_create;
	struct ctl_conn c;
	struct nl_msg *m;
	char *pos[1], what[128];
	int rc, n;

	n = parse_flags(argc, argv, NULL, pos, 1, usage);

	if (n < 0)
		return EXIT_USAGE;
	if (n == 0)
		return usage_error(usage, "%s: missing NAME", argv[0]);
	if (!ctl_name_ok(pos[0]))
		return EXIT_USAGE;
	if (ctl_open(&c))
		return EXIT_RUNTIME;
	snprintf(what, sizeof(what), "volume '%s'", pos[0]);
	m = ctl_request(&c, cmd);
	if (m && nla_put_string(m, MODALFS_A_VOL_NAME, pos[0])) {
		nlmsg_free(m);
		m = NULL;
	}
	rc = ctl_call(&c, cmd, m);
	if (!rc && ctl_errno(&c))
		rc = ctl_report(&c, what);
	else if (!rc && !c.tb[MODALFS_A_APP_ID])
		rc = ctl_fail("malformed reply from modalfsd at %s",
			      ctl_sock_path);
	else if (!rc)
		printf("%s\n", (const char *)nla_data(c.tb[MODALFS_A_APP_ID]));
	ctl_close(&c);
	return rc;
}

static const char *kind_name(uint32_t kind)
{
	return kind == MODALFS_KIND_PERSISTED ? "persisted" :
	       kind == MODALFS_KIND_EPHEMERAL ? "ephemeral" : "unknown";
}

static void print_volume(const struct modalfs_ctl_volume *v, bool json,
			 bool first)
{
	const struct modalfs_volinfo *vi = &v->vi;
	char created[32];

	fmt_time(vi->created, created, sizeof(created));
	if (!json) {
		printf("%-26s %-26s %-10s %-16s %-20s %14llu %8llu %6u\n",
		       vi->name, vi->app_id, kind_name(vi->kind),
		       v->app_name[0] ? v->app_name : "-", created,
		       (unsigned long long)vi->bytes,
		       (unsigned long long)vi->files, v->mounts);
		return;
	}
	printf("%s\n  {\"name\": ", first ? "" : ",");
	json_string(stdout, vi->name);
	printf(", \"app_id\": ");
	json_string(stdout, vi->app_id);
	printf(", \"vol_id\": %llu, \"kind\": \"%s\", \"app_name\": ",
	       (unsigned long long)vi->vol_id, kind_name(vi->kind));
	if (v->app_name[0])
		json_string(stdout, v->app_name);
	else
		printf("null");
	printf(", \"created\": \"%s\", \"created_unix\": %lld, \"bytes\": %llu, "
	       "\"files\": %llu, \"mounts\": %u}",
	       created, (long long)vi->created,
	       (unsigned long long)vi->bytes, (unsigned long long)vi->files,
	       v->mounts);
}

static int cmd_list(int argc, char **argv)
{
	bool json = false, first = true;
	const struct flag flags[] = { { "json", 0, &json }, { NULL, 0, NULL } };
	struct ctl_conn c;
	int rc;

	if (parse_flags(argc, argv, flags, NULL, 0, usage_list) < 0)
		return EXIT_USAGE;
	if (ctl_open(&c))
		return EXIT_RUNTIME;
	rc = ctl_call(&c, MODALFS_CTL_LIST, ctl_request(&c, MODALFS_CTL_LIST));
	if (!rc && ctl_errno(&c))
		rc = ctl_report(&c, "listing volumes");
	if (rc)
		goto out;
	if (json)
		printf("[");
	else
		printf("%-26s %-26s %-10s %-16s %-20s %14s %8s %6s\n", "NAME",
		       "APP ID", "KIND", "APP", "CREATED", "BYTES", "FILES",
		       "MOUNTS");
	for (;;) {
		struct nlattr *a;
		int rem;

		nlmsg_for_each_attr(a, c.nlh, GENL_HDRLEN, rem) {
			struct modalfs_ctl_volume v;

			if (nla_type(a) != MODALFS_A_VOLUME)
				continue;
			if (modalfs_ctl_get_volume(a, &v)) {
				rc = ctl_fail("malformed volume in reply from modalfsd");
				goto out;
			}
			print_volume(&v, json, first);
			first = false;
		}
		if (c.tb[MODALFS_A_EOF])
			break;
		rc = ctl_next(&c, MODALFS_CTL_LIST);
		if (!rc && ctl_errno(&c))
			rc = ctl_report(&c, "listing volumes");
		if (rc)
			goto out;
	}
	if (json)
		printf("%s]\n", first ? "" : "\n");
out:
	fflush(stdout);
	ctl_close(&c);
	return rc;
}

/* delete NAME|APP-ID and app stop APP. */
static int cmd_delete(uint8_t cmd, int argc, char **argv, const char *label)
{
	void (*usage)(FILE *) = cmd == MODALFS_CTL_DELETE ? usage_delete :
							     usage_app;
	bool force = false;
	const struct flag flags[] = { { "force", 'f', &force },
				      { NULL, 0, NULL } };
	struct ctl_conn c;
	struct nl_msg *m;
	char *pos[1], what[160];
	bool by_id;
	int n, rc;

	n = parse_flags(argc, argv, flags, pos, 1, usage);
	if (n < 0)
		return EXIT_USAGE;
	if (n == 0)
		return usage_error(usage, "%s: missing %s", label,
				   cmd == MODALFS_CTL_DELETE ? "NAME or APP-ID" :
				   "APP");
	by_id = !strncmp(pos[0], "ap-", 3);
	if (!by_id && !modalfs_vol_name_valid(pos[0])) {
		fprintf(stderr, "modalfsctl: invalid %s '%s': %s (app ids are ap- followed by letters and digits)\n",
			cmd == MODALFS_CTL_DELETE ? "volume name" : "app name",
			pos[0], MODALFS_VOL_NAME_RULE);
		return EXIT_USAGE;
	}
	if (strlen(pos[0]) > MODALFS_APP_ID_MAX) {
		fprintf(stderr, "modalfsctl: '%s' is too long for an app id\n",
			pos[0]);
		return EXIT_USAGE;
	}
	if (ctl_open(&c))
		return EXIT_RUNTIME;
	snprintf(what, sizeof(what), "%s '%s'", label, pos[0]);
	m = ctl_request(&c, cmd);
	if (m && (nla_put_string(m, by_id ? MODALFS_A_APP_ID :
				 cmd == MODALFS_CTL_DELETE ? MODALFS_A_VOL_NAME :
				 MODALFS_A_APP_NAME, pos[0]) ||
		  (force && nla_put_u32(m, MODALFS_A_FLAGS,
					MODALFS_CTL_F_FORCE)))) {
		nlmsg_free(m);
		m = NULL;
	}
	rc = ctl_call(&c, cmd, m);
	if (!rc && ctl_errno(&c))
		rc = ctl_report(&c, what);
	ctl_close(&c);
	return rc;
}

static int cmd_app(int argc, char **argv)
{
	if (argc < 2)
		return usage_error(usage_app, "app: missing subcommand (stop)");
	if (!strcmp(argv[1], "stop"))
		return cmd_delete(MODALFS_CTL_APP_STOP, argc - 1, argv + 1,
				  "app stop");
	return usage_error(usage_app, "app: unknown subcommand '%s'",
			   argv[1]);
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	void (*usage)(FILE *f);
} simple_cmds[] = {
	{ "list", cmd_list, usage_list },
	{ "ls", cmd_ls, usage_ls },
	{ "put", cmd_put, usage_put },
	{ "get", cmd_get, usage_get },
	{ "rm", cmd_rm, usage_rm },
	{ "run", cmd_run, usage_run },
	{ "mount", cmd_mount, usage_mount },
	{ "app", cmd_app, usage_app },
	{ "stats", cmd_stats, usage_stats },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd;
	int c;

	/* Options end at the command name; the rest is the command's. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			ctl_sock_path = optarg;
			break;
		case 'h':
			usage_main(stdout);
			return 0;
		default:
			usage_main(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "modalfsctl: missing command\n");
		usage_main(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;

	if (!strcmp(cmd, "help")) {
		usage_main(stdout);
		return 0;
	}
	if (!strcmp(cmd, "persisted") || !strcmp(cmd, "create")) {
		bool p = cmd[0] == 'p';

		if (wants_help(argc, argv)) {
			(p ? usage_persisted : usage_create)(stdout);
			return 0;
		}
		return cmd_make(p ? MODALFS_CTL_PERSISTED : MODALFS_CTL_CREATE,
				argc, argv);
	}
	if (!strcmp(cmd, "delete")) {
		if (wants_help(argc, argv)) {
			usage_delete(stdout);
			return 0;
		}
		return cmd_delete(MODALFS_CTL_DELETE, argc, argv, "delete");
	}
	for (size_t i = 0; i < sizeof(simple_cmds) / sizeof(simple_cmds[0]);
	     i++) {
		if (strcmp(cmd, simple_cmds[i].name))
			continue;
		if (wants_help(argc, argv)) {
			simple_cmds[i].usage(stdout);
			return 0;
		}
		return simple_cmds[i].fn(argc, argv);
	}
	fprintf(stderr, "modalfsctl: unknown command '%s'\n", cmd);
	usage_main(stderr);
	return EXIT_USAGE;
}
