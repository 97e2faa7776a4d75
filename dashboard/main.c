// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * modalfs-dashboard: the volumes, their files, apps and the daemon's
 * counters as a local web page, with a trash icon to delete a volume.
 * It talks to modalfsd over the control socket like modalfsctl, so it
 * needs the same rights (root, to delete).
 *
 * It listens on 127.0.0.1 unless --listen says otherwise. The access
 * token is random per start, printed as a link on stdout and written to
 * a root-only file (--token-file), which is removed at exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>

#include "dash.h"

#define DEFAULT_TOKEN_FILE "/run/modalfs/dashboard.token"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: modalfs-dashboard [OPTIONS]\n"
		"Serve a web page of modalfs volumes (see Documentation/dashboard.md).\n"
		"\n"
		"  --listen ADDR       address to listen on (default 127.0.0.1)\n"
		"  --port N            TCP port (default 8765; 0 picks a free one)\n"
		"  --socket PATH       modalfsd control socket (default %s)\n"
		"  --token-file PATH   write the access token here, mode 0600\n"
		"                      (default %s; '' for none)\n"
		"  --interval SECS     seconds between chart samples (default 5)\n"
		"  --help              show this help\n",
		MODALFS_CTL_SOCKET, DEFAULT_TOKEN_FILE);
}

static int random_hex(char *out, size_t bytes)
{
	unsigned char r[64];
	size_t got = 0;

	if (bytes > sizeof(r))
		return EINVAL;
	while (got < bytes) {
		ssize_t n = getrandom(r + got, bytes - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		got += (size_t)n;
	}
	for (size_t i = 0; i < bytes; i++)
		sprintf(out + 2 * i, "%02x", r[i]);
	return 0;
}

static int write_token(const char *path, const char *token)
{
	char tmp[4096];
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return ENAMETOOLONG;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	if (fchmod(fd, 0600) || dprintf(fd, "%s\n", token) < 0 || fsync(fd))
		err = errno;
	close(fd);
	if (!err && rename(tmp, path))
		err = errno;
	if (err)
		unlink(tmp);
	return err;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 'S' },
		{ "token-file", required_argument, NULL, 't' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *addr = "127.0.0.1", *token_file = DEFAULT_TOKEN_FILE;
	static struct dash d;
	struct MHD_Daemon *httpd;
	const union MHD_DaemonInfo *info;
	unsigned long port = 8765, interval = 5;
	char err[DASH_ERR_MAX], *end;
	struct sigaction sa = { .sa_handler = on_signal };
	int o, e;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'l': addr = optarg; break;
		case 'S': dash_ctl_socket(optarg); break;
		case 't': token_file = optarg; break;
		case 'p':
			errno = 0;
			port = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || port > 65535) {
				fprintf(stderr, "modalfs-dashboard: bad port '%s'\n", optarg);
				return 2;
			}
			break;
		case 'i':
			errno = 0;
			interval = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || !interval || interval > 3600) {
				fprintf(stderr, "modalfs-dashboard: bad interval '%s' (1 to 3600 s)\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if ((e = random_hex(d.token, DASH_TOKEN_LEN / 2)) ||
	    (e = random_hex(d.csrf, DASH_TOKEN_LEN / 2))) {
		fprintf(stderr, "modalfs-dashboard: no randomness: %s\n", strerror(e));
		return 1;
	}
	dash_hist_init(&d.hist, (unsigned)interval);
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	httpd = dash_http_start(&d, addr, (unsigned)port);
	if (!httpd) {
		fprintf(stderr, "modalfs-dashboard: cannot listen on %s port %lu: %s\n",
			addr, port, strerror(errno));
		return 1;
	}
	info = MHD_get_daemon_info(httpd, MHD_DAEMON_INFO_BIND_PORT);
	if (info && info->port)
		port = info->port;
	if (*token_file && (e = write_token(token_file, d.token))) {
		fprintf(stderr, "modalfs-dashboard: cannot write the token to %s: %s\n",
			token_file, strerror(e));
		MHD_stop_daemon(httpd);
		return 1;
	}
	printf("modalfs-dashboard: listening on http://%s%s%s:%lu/\n"
	       "modalfs-dashboard: open http://%s%s%s:%lu/?token=%s\n",
	       strchr(addr, ':') ? "[" : "", addr, strchr(addr, ':') ? "]" : "", port,
	       strchr(addr, ':') ? "[" : "", addr, strchr(addr, ':') ? "]" : "", port,
	       d.token);
	if (*token_file)
		printf("modalfs-dashboard: token in %s\n", token_file);
	fflush(stdout);
	/* The sampler: this thread, every interval seconds. */
	while (!stop) {
		time_t next = time(NULL) + (time_t)interval;

		if (dash_hist_sample(&d.hist, err))
			fprintf(stderr, "modalfs-dashboard: sampling: %s\n", err);
		while (!stop && time(NULL) < next)
			usleep(100000);
	}
	MHD_stop_daemon(httpd);
	if (*token_file)
		unlink(token_file);
	dash_hist_destroy(&d.hist);
	return 0;
}
