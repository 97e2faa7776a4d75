// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * modalfsd: the modalfs daemon. Startup order: open the store, open the
 * control socket, then register with the kernel (genl.c retries while the
 * module is absent). SIGTERM/SIGINT stop it cleanly with status 0.
 *
 * `modalfsd --check` instead verifies the store and exits: 0 clean, 1
 * problems found (one line each on stdout), 2 usage error or unreadable
 * store.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "ctl.h"
#include "genl.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

/* debian/rules sets the package version. */
#ifndef MODALFS_VERSION
#define MODALFS_VERSION "0.1"
#endif

static volatile sig_atomic_t exit_code;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: modalfsd [OPTIONS]\n"
		"Serve modalfs volumes to the kernel module and to modalfsctl.\n"
		"\n"
		"  --state-dir DIR   where volumes are stored (default /var/lib/modalfs)\n"
		"  --socket PATH     control socket (default %s)\n"
		"  --threads N       worker threads for kernel requests (default 4)\n"
		"  --map-size BYTES  maximum store size (default 64G; K, M, G, T suffixes)\n"
		"  --group-commit    accepted for old scripts: group commit is always on\n"
		"  --metrics-listen ADDR:PORT\n"
		"                    serve Prometheus metrics on http://ADDR:PORT/metrics\n"
		"                    (numeric address, e.g. 127.0.0.1:9101 or [::1]:9101; off by default)\n"
		"  --check           verify the store's invariants and exit (0 clean, 1 problems)\n"
		"  --debug           log more\n"
		"  --help            show this help\n"
		"  --version         show the version\n",
		MODALFS_CTL_SOCKET);
}

/*
 * Called from the kernel-channel thread each time it has registered with
 * the kernel; the control socket is already served by then. Under
 * systemd (Type=notify) the first READY=1 ends "activating"; later ones
 * (re-registration after a module reload) are ignored by systemd.
 */
static void registered(void)
{
	sd_notify(0, "READY=1\nSTATUS=Serving volumes");
}

/* Called from the kernel-channel thread on unrecoverable errors. */
static void fatal(int code)
{
	exit_code = code;
	kill(getpid(), SIGTERM);
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'T': case 't': v <<= 10; /* fall through */
	case 'G': case 'g': v <<= 10; /* fall through */
	case 'M': case 'm': v <<= 10; /* fall through */
	case 'K': case 'k': v <<= 10; end++; break;
	case '\0': break;
	default: return -1;
	}
	if (*end || v < (1 << 20))
		return -1;
	*out = v & ~4095ULL;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "threads", required_argument, NULL, 't' },
		{ "map-size", required_argument, NULL, 'm' },
		{ "debug", no_argument, NULL, 'd' },
		{ "group-commit", no_argument, NULL, 'g' },
		{ "check", no_argument, NULL, 'c' },
		{ "metrics-listen", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state_dir = "/var/lib/modalfs";
	const char *sock_path = MODALFS_CTL_SOCKET;
	const char *metrics_listen = NULL;
	struct modalfs_metrics *metrics = NULL;
	struct modalfs_store *st;
	uint64_t map_size = 0;
	int threads = 4, c, err, sig;
	bool check = false;
	sigset_t set;
	char *end;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			state_dir = optarg;
			break;
		case 'S':
			sock_path = optarg;
			break;
		case 't':
			threads = strtol(optarg, &end, 10);
			if (*end || threads < 1 || threads > 256) {
				fprintf(stderr, "modalfsd: --threads takes a number from 1 to 256\n");
				return 2;
			}
			break;
		case 'm':
			if (parse_size(optarg, &map_size)) {
				fprintf(stderr, "modalfsd: --map-size takes a size of at least 1M, e.g. 64G\n");
				return 2;
			}
			break;
		case 'd':
			modalfs_log_level = MODALFS_LOG_DEBUG;
			break;
		case 'g':	/* always on now */
			break;
		case 'c':
			check = true;
			break;
		case 'M':
			metrics_listen = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("modalfsd %s (protocol %d)\n", MODALFS_VERSION,
			       MODALFS_GENL_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "modalfsd: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	if (check) {
		long n = modalfs_store_check(state_dir, stdout);

		if (n < 0) {
			fprintf(stderr, "modalfsd: cannot check the store in %s: %s\n",
				state_dir, strerror((int)-n));
			return 2;
		}
		fprintf(stderr, "modalfsd: %s: %ld problem%s\n", state_dir, n,
		       n == 1 ? "" : "s");
		return n ? 1 : 0;
	}

	/* Every thread inherits this mask; main collects signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	err = modalfs_store_open(&st, state_dir, map_size);
	if (err) {
		modalfs_err("cannot open the store in %s: %s%s", state_dir,
			    strerror(err),
			    err == EBUSY ? " (another modalfsd uses it)" : "");
		return 1;
	}
	modalfs_info("store opened in %s", state_dir);
	err = modalfs_ctl_start(st, sock_path);
	if (err) {
		modalfs_err("cannot serve the control socket %s: %s%s",
			    sock_path, strerror(err),
			    err == EADDRINUSE ? " (another modalfsd is running)" : "");
		modalfs_store_close(st);
		return 1;
	}
	modalfs_info("control socket at %s", sock_path);
	if (metrics_listen) {
		err = modalfs_metrics_start(&metrics, st, metrics_listen);
		if (err) {
			modalfs_err("cannot serve metrics on %s: %s%s",
				    metrics_listen, strerror(err),
				    err == EINVAL ? " (want a numeric ADDR:PORT, e.g. 127.0.0.1:9101)" : "");
			modalfs_ctl_stop();
			modalfs_store_close(st);
			return 1;
		}
		modalfs_info("metrics at http://%s/metrics", metrics_listen);
	}
	err = modalfs_genl_start(st, threads, fatal, registered);
	if (err) {
		modalfs_err("cannot start the kernel channel: %s",
			    strerror(err));
		modalfs_metrics_stop(metrics);
		modalfs_ctl_stop();
		modalfs_store_close(st);
		return 1;
	}

	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		if (sig == SIGHUP)
			continue;
		break;
	}
	if (!exit_code)
		modalfs_info("stopping on signal %d", sig);
	sd_notify(0, "STOPPING=1");
	modalfs_metrics_stop(metrics);
	modalfs_genl_stop();
	modalfs_ctl_stop();
	modalfs_store_close(st);
	if (!exit_code)
		modalfs_info("stopped");
	return exit_code;
}
