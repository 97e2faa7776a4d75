// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cmocka tests of the Prometheus rendering (userd/metrics.c): counters
 * and gauges carry the values counted, latency histograms are
 * cumulative with exact power-of-two bounds, and +Inf equals _count.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../userd/metrics.h"
#include "../../userd/stats.h"

static char *render(void)
{
	struct modalfs_stats *s = modalfs_stats_new();
	struct modalfs_stats_snapshot *snap = malloc(sizeof(*snap));
	struct modalfs_metrics_gauges g = {
		.persisted = 3, .ephemeral = 1, .mounted = 2,
	};
	char *out = NULL;
	size_t len = 0;

	assert_non_null(s);
	assert_non_null(snap);
	modalfs_stats_op(s, MODALFS_OP_LOOKUP, 0, 1500);
	modalfs_stats_op(s, MODALFS_OP_LOOKUP, ENOENT, 3000000);
	modalfs_stats_commit(s, 4);
	modalfs_stats_sync(s);
	modalfs_stats_block_bytes(s, 65536);
	modalfs_stats_snapshot(s, snap);
	assert_int_equal(modalfs_metrics_render(snap, &g, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	free(snap);
	modalfs_stats_free(s);
	return out;
}

static void expect_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p++;
	}
	fail_msg("missing line: %s", line);
}

static void t_counters_and_gauges(void **state)
{
	char *m = render();

	(void)state;
	expect_line(m, "# TYPE modalfsd_requests_total counter");
	expect_line(m, "modalfsd_requests_total{op=\"LOOKUP\"} 2");
	expect_line(m, "modalfsd_requests_total{op=\"WRITE\"} 0");
	expect_line(m, "modalfsd_request_errors_total{op=\"LOOKUP\"} 1");
	expect_line(m, "modalfsd_commits_total 1");
	expect_line(m, "modalfsd_syncs_total 1");
	expect_line(m, "modalfsd_block_bytes_written_total 65536");
	expect_line(m, "modalfsd_volumes{kind=\"persisted\"} 3");
	expect_line(m, "modalfsd_volumes{kind=\"ephemeral\"} 1");
	expect_line(m, "modalfsd_mounted_volumes 2");
	free(m);
}

static void t_histogram(void **state)
{
	char *m = render();

	(void)state;
	expect_line(m, "# TYPE modalfsd_request_duration_seconds histogram");
	/* 1,500 ns lies above 2^10 - 1 and below 2^11 - 1 ns. */
	expect_line(m, "modalfsd_request_duration_seconds_bucket{op=\"LOOKUP\",le=\"1.023e-06\"} 0");
	expect_line(m, "modalfsd_request_duration_seconds_bucket{op=\"LOOKUP\",le=\"2.047e-06\"} 1");
	/* 3 ms lies between 2^21 - 1 and 2^22 - 1 ns. */
	expect_line(m, "modalfsd_request_duration_seconds_bucket{op=\"LOOKUP\",le=\"0.002097151\"} 1");
	expect_line(m, "modalfsd_request_duration_seconds_bucket{op=\"LOOKUP\",le=\"0.004194303\"} 2");
	expect_line(m, "modalfsd_request_duration_seconds_bucket{op=\"LOOKUP\",le=\"+Inf\"} 2");
	expect_line(m, "modalfsd_request_duration_seconds_count{op=\"LOOKUP\"} 2");
	expect_line(m, "modalfsd_request_duration_seconds_sum{op=\"LOOKUP\"} 0.003001500");
	expect_line(m, "modalfsd_request_duration_seconds_count{op=\"READ\"} 0");
	free(m);
}

/* Every bucket series is cumulative: never decreasing along le. */
static void t_cumulative(void **state)
{
	char *m = render(), *save = NULL;
	char op[32] = "", prev_op[32] = "";
	unsigned long long prev = 0, v;
	int series = 0;

	(void)state;
	for (char *l = strtok_r(m, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (sscanf(l, "modalfsd_request_duration_seconds_bucket{op=\"%31[A-Z_]\",le=\"%*[^\"]\"} %llu",
			   op, &v) != 2)
			continue;
		if (strcmp(op, prev_op)) {
			strcpy(prev_op, op);
			prev = 0;
			series++;
		}
		assert_true(v >= prev);
		prev = v;
	}
	assert_int_equal(series, MODALFS_OP_MAX);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_counters_and_gauges),
		cmocka_unit_test(t_histogram),
		cmocka_unit_test(t_cumulative),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
