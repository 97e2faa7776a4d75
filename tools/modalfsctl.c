// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * modalfsctl: command-line client of modalfsd's control socket.
 * Exit status: 0 success, 1 runtime error, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <netlink/genl/genl.h>

#include "../userd/ctlmsg.h"
#include "../userd/names.h"

static const char *sock_path = MODALFS_CTL_SOCKET;

static void usage_main(FILE *f)
{
	fprintf(f,
		"Usage: modalfsctl [--socket PATH] COMMAND [ARGS]\n"
		"Manage modalfs volumes through modalfsd.\n"
		"\n"
		"Commands:\n"
		"  persisted NAME   create volume NAME if missing; print its app id\n"
		"  create NAME      create volume NAME; fail if it exists\n"
		"  list [--json]    list volumes\n"
		"\n"
		"Options:\n"
		"  --socket PATH    modalfsd control socket (default %s)\n"
		"  --help           show this help; COMMAND --help for a command\n",
		MODALFS_CTL_SOCKET);
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
		"List volumes: NAME, APP ID, KIND, CREATED (UTC), SIZE (bytes of\n"
		"file data), FILES (number of inodes).\n"
		"  --json   print a JSON array of objects instead of a table\n");
}

static int connect_daemon(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "modalfsctl: cannot reach modalfsd at %s: %s\n",
			sock_path, strerror(ENAMETOOLONG));
		return -1;
	}
	strcpy(sa.sun_path, sock_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "modalfsctl: cannot reach modalfsd at %s: %s\n",
			sock_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * Receives one reply datagram for (cmd, seq) into buf and parses it.
 * Returns 0, or 1 after printing an error.
 */
static int recv_reply(int fd, void *buf, uint8_t want_cmd, uint32_t seq,
		      struct nlattr **tb)
{
	struct nlmsghdr *nlh;
	uint8_t cmd;
	ssize_t n;

	n = recv(fd, buf, MODALFS_CTL_DGRAM_MAX, MSG_TRUNC);
	if (n < 0) {
		fprintf(stderr, "modalfsctl: reading from modalfsd at %s: %s\n",
			sock_path, strerror(errno));
		return 1;
	}
	if (n == 0) {
		fprintf(stderr, "modalfsctl: modalfsd at %s closed the connection\n",
			sock_path);
		return 1;
	}
	if (n > MODALFS_CTL_DGRAM_MAX ||
	    modalfs_ctlmsg_parse(buf, n, &nlh, &cmd, tb) || cmd != want_cmd ||
	    nlh->nlmsg_seq != seq || !tb[MODALFS_A_ERRNO]) {
		fprintf(stderr, "modalfsctl: malformed reply from modalfsd at %s\n",
			sock_path);
		return 1;
	}
	return 0;
}

static int report_error(struct nlattr **tb, const char *what)
{
	int err = nla_get_u32(tb[MODALFS_A_ERRNO]);

	if (tb[MODALFS_A_ERRMSG] &&
	    *(const char *)nla_data(tb[MODALFS_A_ERRMSG]))
		fprintf(stderr, "modalfsctl: %s\n",
			(const char *)nla_data(tb[MODALFS_A_ERRMSG]));
	else
		fprintf(stderr, "modalfsctl: %s: %s\n", what, strerror(err));
	return 1;
}

static int send_request(int fd, uint8_t cmd, uint32_t seq, const char *name)
{
	struct nl_msg *m = modalfs_ctlmsg_new(cmd, seq, true);
	int rc;

	if (!m || (name && nla_put_string(m, MODALFS_A_VOL_NAME, name))) {
		nlmsg_free(m);
		fprintf(stderr, "modalfsctl: out of memory\n");
		return 1;
	}
	rc = modalfs_ctlmsg_send(fd, m);
	nlmsg_free(m);
	if (rc) {
		fprintf(stderr, "modalfsctl: sending to modalfsd at %s: %s\n",
			sock_path, strerror(-rc));
		return 1;
	}
	return 0;
}

static int cmd_make(uint8_t cmd, const char *name)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	char what[128];
	void *buf;
	uint32_t seq = getpid();
	int fd, rc = 1;

	if (!modalfs_vol_name_valid(name)) {
		fprintf(stderr, "modalfsctl: invalid volume name '%s': %s\n",
			name, MODALFS_VOL_NAME_RULE);
		return 2;
	}
	fd = connect_daemon();
	if (fd < 0)
		return 1;
	buf = malloc(MODALFS_CTL_DGRAM_MAX);
	if (!buf)
		goto out;
	snprintf(what, sizeof(what), "volume '%s'", name);
	if (send_request(fd, cmd, seq, name) ||
	    recv_reply(fd, buf, cmd, seq, tb))
		goto out;
	if (nla_get_u32(tb[MODALFS_A_ERRNO])) {
		rc = report_error(tb, what);
		goto out;
	}
	if (!tb[MODALFS_A_APP_ID]) {
		fprintf(stderr, "modalfsctl: malformed reply from modalfsd at %s\n",
			sock_path);
		goto out;
	}
	printf("%s\n", (const char *)nla_data(tb[MODALFS_A_APP_ID]));
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

static const char *kind_name(uint32_t kind)
{
	return kind == MODALFS_KIND_PERSISTED ? "persisted" :
	       kind == MODALFS_KIND_EPHEMERAL ? "ephemeral" : "unknown";
}

static void fmt_time(int64_t t, char *out, size_t n)
{
	time_t tt = t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, n, "%lld", (long long)t);
}

/* Names are [A-Za-z0-9._-] and app ids alnum, so no JSON escaping needed. */
static void print_volume(const struct modalfs_volinfo *vi, bool json,
			 bool first)
{
	char created[32];

	fmt_time(vi->created, created, sizeof(created));
	if (json)
		printf("%s\n  {\"name\": \"%s\", \"app_id\": \"%s\", \"vol_id\": %llu, "
		       "\"kind\": \"%s\", \"created\": \"%s\", \"created_unix\": %lld, "
		       "\"size\": %llu, \"files\": %llu}",
		       first ? "" : ",", vi->name, vi->app_id,
		       (unsigned long long)vi->vol_id, kind_name(vi->kind),
		       created, (long long)vi->created,
		       (unsigned long long)vi->bytes,
		       (unsigned long long)vi->files);
	else
		printf("%-24s %-26s %-10s %-21s %14llu %10llu\n", vi->name,
		       vi->app_id, kind_name(vi->kind), created,
		       (unsigned long long)vi->bytes,
		       (unsigned long long)vi->files);
}

static int cmd_list(bool json)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	uint32_t seq = getpid();
	bool first = true;
	void *buf;
	int fd, rc = 1;

	fd = connect_daemon();
	if (fd < 0)
		return 1;
	buf = malloc(MODALFS_CTL_DGRAM_MAX);
	if (!buf || send_request(fd, MODALFS_CTL_LIST, seq, NULL))
		goto out;
	if (json)
		printf("[");
	else
		printf("%-24s %-26s %-10s %-21s %14s %10s\n", "NAME", "APP ID",
		       "KIND", "CREATED", "SIZE", "FILES");
	for (;;) {
		struct nlmsghdr *nlh = buf;
		struct nlattr *a;
		int rem;

		if (recv_reply(fd, buf, MODALFS_CTL_LIST, seq, tb))
			goto out;
		if (nla_get_u32(tb[MODALFS_A_ERRNO])) {
			rc = report_error(tb, "listing volumes");
			goto out;
		}
		nlmsg_for_each_attr(a, nlh, GENL_HDRLEN, rem) {
			struct modalfs_volinfo vi;

			if (nla_type(a) != MODALFS_A_VOLUME)
				continue;
			if (modalfs_ctl_get_volume(a, &vi)) {
				fprintf(stderr, "modalfsctl: malformed volume in reply from modalfsd\n");
				goto out;
			}
			print_volume(&vi, json, first);
			first = false;
		}
		if (tb[MODALFS_A_EOF])
			break;
	}
	if (json)
		printf("%s]\n", first ? "" : "\n");
	rc = 0;
out:
	fflush(stdout);
	free(buf);
	close(fd);
	return rc;
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

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
			sock_path = optarg;
			break;
		case 'h':
			usage_main(stdout);
			return 0;
		default:
			usage_main(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "modalfsctl: missing command\n");
		usage_main(stderr);
		return 2;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;

	if (!strcmp(cmd, "persisted") || !strcmp(cmd, "create")) {
		bool p = cmd[0] == 'p';

		if (wants_help(argc, argv)) {
			(p ? usage_persisted : usage_create)(stdout);
			return 0;
		}
		if (argc != 2 || argv[1][0] == '-') {
			(p ? usage_persisted : usage_create)(stderr);
			return 2;
		}
		return cmd_make(p ? MODALFS_CTL_PERSISTED : MODALFS_CTL_CREATE,
				argv[1]);
	}
	if (!strcmp(cmd, "list")) {
		bool json = false;

		if (wants_help(argc, argv)) {
			usage_list(stdout);
			return 0;
		}
		for (int i = 1; i < argc; i++) {
			if (!strcmp(argv[i], "--json")) {
				json = true;
			} else {
				fprintf(stderr, "modalfsctl: list: unexpected argument '%s'\n",
					argv[i]);
				usage_list(stderr);
				return 2;
			}
		}
		return cmd_list(json);
	}
	if (!strcmp(cmd, "help")) {
		usage_main(stdout);
		return 0;
	}
	fprintf(stderr, "modalfsctl: unknown command '%s'\n", cmd);
	usage_main(stderr);
	return 2;
}
