// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * modalfsctl stats [--json]: the daemon's counters (CTL_STATS). JSON is
 * built with json-c.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <json.h>

#include "ctl_client.h"
#include "modalfsctl.h"
#include "../userd/ctlstats.h"

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static void print_text(const struct modalfs_ctl_stats *s)
{
	char started[32];
	double mean = s->batches ? (double)s->batch_ops / s->batches : 0;

	fmt_time(s->started, started, sizeof(started));
	printf("modalfsd running since %s (%lld s)\n\n", started,
	       (long long)(time(NULL) - s->started));
	printf("%-12s %12s %10s %12s %12s %12s\n", "OP", "REQUESTS", "ERRORS",
	       "MEAN us", "P99 us", "MAX us");
	for (uint32_t op = 1; op <= MODALFS_OP_MAX; op++) {
		const struct modalfs_ctl_stats_op *o = &s->op[op];

		if (!o->requests)
			continue;
		printf("%-12s %12llu %10llu %12.1f %12.1f %12.1f\n",
		       modalfs_stats_op_name(op),
		       (unsigned long long)o->requests,
		       (unsigned long long)o->errors, us(o->mean_ns),
		       us(o->p99_ns), us(o->max_ns));
	}
	printf("\ncommits %llu, syncs %llu\n", (unsigned long long)s->commits,
	       (unsigned long long)s->syncs);
	printf("batches %llu: ops per batch mean %.2f, p99 %llu, max %llu\n",
	       (unsigned long long)s->batches, mean,
	       (unsigned long long)s->batch_p99,
	       (unsigned long long)s->batch_max);
	printf("bytes written: block store %llu, metadata store %llu\n",
	       (unsigned long long)s->block_bytes,
	       (unsigned long long)s->meta_bytes);
}

static json_object *u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

static void print_json(const struct modalfs_ctl_stats *s)
{
	json_object *root = json_object_new_object();
	json_object *ops = json_object_new_object();
	json_object *batch = json_object_new_object();

	json_object_object_add(root, "started_unix",
			       json_object_new_int64(s->started));
	json_object_object_add(root, "commits", u64(s->commits));
	json_object_object_add(root, "syncs", u64(s->syncs));
	json_object_object_add(root, "block_bytes", u64(s->block_bytes));
	json_object_object_add(root, "meta_bytes", u64(s->meta_bytes));
	json_object_object_add(batch, "count", u64(s->batches));
	json_object_object_add(batch, "ops", u64(s->batch_ops));
	json_object_object_add(batch, "p99", u64(s->batch_p99));
	json_object_object_add(batch, "max", u64(s->batch_max));
	json_object_object_add(root, "batches", batch);
	for (uint32_t op = 1; op <= MODALFS_OP_MAX; op++) {
		const struct modalfs_ctl_stats_op *o = &s->op[op];
		json_object *j;

		if (!o->requests)
			continue;
		j = json_object_new_object();
		json_object_object_add(j, "requests", u64(o->requests));
		json_object_object_add(j, "errors", u64(o->errors));
		json_object_object_add(j, "mean_ns", u64(o->mean_ns));
		json_object_object_add(j, "p99_ns", u64(o->p99_ns));
		json_object_object_add(j, "max_ns", u64(o->max_ns));
		json_object_object_add(ops, modalfs_stats_op_name(op), j);
	}
	json_object_object_add(root, "ops", ops);
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

int cmd_stats(int argc, char **argv)
{
	bool json = false;
	const struct flag flags[] = { { "json", 0, &json }, { NULL, 0, NULL } };
	struct modalfs_ctl_stats s;
	struct ctl_conn c;
	int rc;

	if (parse_flags(argc, argv, flags, NULL, 0, usage_stats) < 0)
		return EXIT_USAGE;
	if (ctl_open(&c))
		return EXIT_RUNTIME;
	rc = ctl_call(&c, MODALFS_CTL_STATS,
		      ctl_request(&c, MODALFS_CTL_STATS));
	if (!rc && ctl_errno(&c))
		rc = ctl_report(&c, "reading the daemon's counters");
	else if (!rc && (!c.tb[MODALFS_A_STATS] ||
			 modalfs_ctl_get_stats(c.tb[MODALFS_A_STATS], &s)))
		rc = ctl_fail("malformed counters in the reply from modalfsd at %s",
			      ctl_sock_path);
	if (!rc) {
		if (json)
			print_json(&s);
		else
			print_text(&s);
		fflush(stdout);
	}
	ctl_close(&c);
	return rc;
}
