// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The Prometheus endpoint. Format: Prometheus's "text-based exposition
 * format" 0.0.4: a # HELP and # TYPE line per family, counters named
 * *_total, latencies as histograms in seconds with cumulative buckets and
 * +Inf, _sum and _count.
 */
#include <dirent.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "store.h"

#define SYSFS_VOLUMES	"/sys/fs/modalfs/volumes"
/* Scrapes are small and rare; keep a stuck scraper from holding more. */
#define MAX_CONNECTIONS	16
#define CONN_TIMEOUT_S	10

struct modalfs_metrics {
	struct MHD_Daemon *httpd;
	struct modalfs_store *st;
};

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * The stats histograms have four buckets per power of two; Prometheus
 * gets one per power of two from 1 us to about 69 s, which the bucket
 * bounds 2^k - 1 ns hit exactly (values are whole nanoseconds).
 */
static void latency_hist(FILE *f, const char *op,
			 const struct modalfs_stats_hist *h)
{
	uint64_t cum = 0;
	unsigned int i = 0;

	for (int k = 10; k <= 36; k++) {
		uint64_t bound = (1ULL << k) - 1;

		while (i < MODALFS_STATS_BUCKETS &&
		       modalfs_stats_bucket_le(i) <= bound)
			cum += h->bucket[i++];
		fprintf(f, "modalfsd_request_duration_seconds_bucket{op=\"%s\",le=\"%.9g\"} %llu\n",
			op, bound / 1e9, (unsigned long long)cum);
	}
	fprintf(f, "modalfsd_request_duration_seconds_bucket{op=\"%s\",le=\"+Inf\"} %llu\n",
		op, (unsigned long long)h->count);
	fprintf(f, "modalfsd_request_duration_seconds_sum{op=\"%s\"} %.9f\n",
		op, h->sum / 1e9);
	fprintf(f, "modalfsd_request_duration_seconds_count{op=\"%s\"} %llu\n",
		op, (unsigned long long)h->count);
}

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	family(f, name, "counter", help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

int modalfs_metrics_render(const struct modalfs_stats_snapshot *s,
			   const struct modalfs_metrics_gauges *g,
			   char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);
	uint32_t op;

	if (!f)
		return errno;
	family(f, "modalfsd_requests_total", "counter",
	       "Kernel requests answered, by operation.");
	for (op = 1; op <= MODALFS_OP_MAX; op++)
		fprintf(f, "modalfsd_requests_total{op=\"%s\"} %llu\n",
			modalfs_stats_op_name(op),
			(unsigned long long)s->op[op].requests);
	family(f, "modalfsd_request_errors_total", "counter",
	       "Kernel requests answered with an error, by operation.");
	for (op = 1; op <= MODALFS_OP_MAX; op++)
		fprintf(f, "modalfsd_request_errors_total{op=\"%s\"} %llu\n",
			modalfs_stats_op_name(op),
			(unsigned long long)s->op[op].errors);
	family(f, "modalfsd_request_duration_seconds", "histogram",
	       "Time from a kernel request's arrival to its reply.");
	for (op = 1; op <= MODALFS_OP_MAX; op++)
		latency_hist(f, modalfs_stats_op_name(op),
			     &s->op[op].latency_ns);
	counter(f, "modalfsd_commits_total",
		"Metadata-store write transactions committed.", s->commits);
	counter(f, "modalfsd_syncs_total",
		"Times the store was made durable.", s->syncs);
	counter(f, "modalfsd_block_bytes_written_total",
		"Bytes written to the block store.", s->block_bytes);
	counter(f, "modalfsd_meta_bytes_written_total",
		"Bytes written to the metadata store.", s->meta_bytes);
	family(f, "modalfsd_volumes", "gauge", "Volumes, by kind.");
	fprintf(f, "modalfsd_volumes{kind=\"persisted\"} %llu\n",
		(unsigned long long)g->persisted);
	fprintf(f, "modalfsd_volumes{kind=\"ephemeral\"} %llu\n",
		(unsigned long long)g->ephemeral);
	family(f, "modalfsd_mounted_volumes", "gauge",
	       "Volumes mounted at least once on this host.");
	fprintf(f, "modalfsd_mounted_volumes %llu\n",
		(unsigned long long)g->mounted);
	family(f, "modalfsd_start_time_seconds", "gauge",
	       "When the daemon started, in seconds since the epoch.");
	fprintf(f, "modalfsd_start_time_seconds %lld\n", (long long)s->started);
	if (fclose(f))
		return errno;
	return 0;
}

static int count_kind(const struct modalfs_volinfo *vi, void *arg)
{
	struct modalfs_metrics_gauges *g = arg;

	if (vi->kind == MODALFS_KIND_EPHEMERAL)
		g->ephemeral++;
	else
		g->persisted++;
	return 0;
}

/* The kernel keeps /sys/fs/modalfs/volumes/<id> while a superblock lives. */
static uint64_t mounted_volumes(void)
{
	DIR *d = opendir(SYSFS_VOLUMES);
	struct dirent *de;
	uint64_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int code,
			     const char *type, void *body, size_t len,
			     enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, mode);
	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_len, void **req)
{
	static const char text[] = "text/plain; charset=utf-8";
	static char not_found[] = "not found: try /metrics\n";
	static char bad_method[] = "only GET and HEAD\n";
	static char failed[] = "cannot gather the metrics\n";
	struct modalfs_metrics *m = cls;
	struct modalfs_stats_snapshot *snap;
	struct modalfs_metrics_gauges g = { 0 };
	char *body = NULL;
	size_t len = 0;
	int err;

	(void)version;
	(void)upload;
	/* First call: headers only. Nothing to wait for on GET. */
	if (!*req) {
		*req = m;
		return MHD_YES;
	}
	if (*upload_len)
		return MHD_NO;
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, text,
			     bad_method, strlen(bad_method),
			     MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, text, not_found,
			     strlen(not_found), MHD_RESPMEM_PERSISTENT);
	/* The snapshot holds every histogram: ~30 KiB, too big for a stack. */
	snap = malloc(sizeof(*snap));
	err = snap ? 0 : ENOMEM;
	if (!err) {
		modalfs_stats_snapshot(modalfs_store_stats(m->st), snap);
		err = modalfs_store_vol_each(m->st, count_kind, &g);
	}
	if (!err) {
		g.mounted = mounted_volumes();
		err = modalfs_metrics_render(snap, &g, &body, &len);
	}
	free(snap);
	if (err) {
		free(body);
		modalfs_warn("metrics: %s", strerror(err));
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, text,
			     failed, strlen(failed), MHD_RESPMEM_PERSISTENT);
	}
	return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
		     body, len, MHD_RESPMEM_MUST_FREE);
}

/* "1.2.3.4:9101" or "[::1]:9101" into a numeric sockaddr. */
static int parse_listen(const char *listen, struct addrinfo **ai)
{
	struct addrinfo hints = {
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
		.ai_socktype = SOCK_STREAM,
	};
	char host[64];
	const char *port;
	size_t n;

	if (listen[0] == '[') {
		const char *end = strchr(listen, ']');

		if (!end || end[1] != ':')
			return EINVAL;
		n = end - listen - 1;
		port = end + 2;
		listen++;
	} else {
		port = strrchr(listen, ':');
		if (!port)
			return EINVAL;
		n = port - listen;
		port++;
	}
	if (!n || n >= sizeof(host) || !*port)
		return EINVAL;
	memcpy(host, listen, n);
	host[n] = '\0';
	return getaddrinfo(host, port, &hints, ai) ? EINVAL : 0;
}

int modalfs_metrics_start(struct modalfs_metrics **out,
			  struct modalfs_store *st, const char *listen)
{
	struct modalfs_metrics *m;
	struct addrinfo *ai;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int err = parse_listen(listen, &ai);

	if (err)
		return err;
	m = calloc(1, sizeof(*m));
	if (!m) {
		freeaddrinfo(ai);
		return ENOMEM;
	}
	m->st = st;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	m->httpd = MHD_start_daemon(flags, 0, NULL, NULL, handle, m,
				    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT_S,
				    MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!m->httpd) {
		err = errno ? errno : EADDRNOTAVAIL;
		free(m);
		return err;
	}
	*out = m;
	return 0;
}

void modalfs_metrics_stop(struct modalfs_metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->httpd);
	free(m);
}
