// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cmocka tests of the ordering gate of ASYNC requests (userd/order.c,
 * netlink/modalfs.h section 3b): what runs at once, what is held, and
 * what a finished request releases, then a random run checked against
 * the rule itself rather than against the gate's own bookkeeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../../userd/order.h"

#define A true		/* carries MODALFS_A_ASYNC */
#define S false

static void item(struct modalfs_order_item *it, bool async)
{
	it->next = (struct modalfs_order_item *)0x1;	/* must be overwritten */
	it->async = async;
	it->fence = false;
}

/* ASYNC and FENCE: waits like a request without ASYNC, then is a barrier. */
static void fenced(struct modalfs_order_item *it)
{
	item(it, A);
	it->fence = true;
}

/* got is exactly want[0..n), chained by next and NULL-terminated. */
static void chain_is(struct modalfs_order_item *got,
		     struct modalfs_order_item *const *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_ptr_equal(got, want[i]);
		got = got->next;
	}
	assert_null(got);
}

#define CHAIN_IS(got, ...) \
	chain_is(got, (struct modalfs_order_item *const[]){ __VA_ARGS__ }, \
		 sizeof((struct modalfs_order_item *const[]){ __VA_ARGS__ }) / \
		 sizeof(struct modalfs_order_item *))

static void t_sync_runs(void **state)
{
	struct modalfs_order o;
	struct modalfs_order_item s1, s2;

	(void)state;
	modalfs_order_init(&o);
	item(&s1, S);
	item(&s2, S);
	assert_true(modalfs_order_admit(&o, &s1));
	assert_true(modalfs_order_admit(&o, &s2));
	assert_int_equal(o.async_open, 0);
	assert_null(o.held_head);
	assert_null(modalfs_order_done(&o, &s2));
	assert_null(modalfs_order_done(&o, &s1));
	assert_int_equal(o.async_open, 0);
}

static void t_async_runs(void **state)
{
	struct modalfs_order o;
	struct modalfs_order_item a1;

	(void)state;
	modalfs_order_init(&o);
	item(&a1, A);
	assert_true(modalfs_order_admit(&o, &a1));
	assert_int_equal(o.async_open, 1);
	assert_null(o.held_head);
	assert_null(modalfs_order_done(&o, &a1));
	assert_int_equal(o.async_open, 0);
}

static void t_sync_held_behind_async(void **state)
{
	struct modalfs_order o;
	struct modalfs_order_item a1, s2;

	(void)state;
	modalfs_order_init(&o);
	item(&a1, A);
	item(&s2, S);
	assert_true(modalfs_order_admit(&o, &a1));
	assert_false(modalfs_order_admit(&o, &s2));
	assert_ptr_equal(o.held_head, &s2);
	assert_int_equal(o.async_open, 1);
	CHAIN_IS(modalfs_order_done(&o, &a1), &s2);
	assert_null(o.held_head);
	assert_null(o.held_tail);
	assert_int_equal(o.async_open, 0);
	assert_null(modalfs_order_done(&o, &s2));
}

/* ASYNC ones behind a held one wait too: arrival order is kept. */
static void t_held_keeps_order(void **state)
{
	struct modalfs_order o;
	struct modalfs_order_item a1, s2, a3, s4, a5;

	(void)state;
	modalfs_order_init(&o);
	item(&a1, A);
	item(&s2, S);
	item(&a3, A);
	item(&s4, S);
	item(&a5, A);
	assert_true(modalfs_order_admit(&o, &a1));
	assert_false(modalfs_order_admit(&o, &s2));
	assert_false(modalfs_order_admit(&o, &a3));
	assert_false(modalfs_order_admit(&o, &s4));
	assert_false(modalfs_order_admit(&o, &a5));
	/* Held ASYNC ones are not open yet. */
	assert_int_equal(o.async_open, 1);
	CHAIN_IS(o.held_head, &s2, &a3, &s4, &a5);
	assert_ptr_equal(o.held_tail, &a5);
}

/*
 * The last open ASYNC one finishing releases the held ones in order, up
 * to the first non-ASYNC one that must wait for an ASYNC one released
 * with it; that one goes when those are done.
 */
static void t_release_stops_at_sync(void **state)
{
	struct modalfs_order o;
	struct modalfs_order_item a1, s2, a3, a4, s5, a6, s7, s8;

	(void)state;
	modalfs_order_init(&o);
	item(&a1, A);
	item(&s2, S);
	item(&a3, A);
	item(&a4, A);
	item(&s5, S);
	item(&a6, A);
	item(&s7, S);
	item(&s8, S);
	assert_true(modalfs_order_admit(&o, &a1));
	assert_false(modalfs_order_admit(&o, &s2));
	assert_false(modalfs_order_admit(&o, &a3));
	assert_false(modalfs_order_admit(&o, &a4));
	assert_false(modalfs_order_admit(&o, &s5));
	assert_false(modalfs_order_admit(&o, &a6));

	CHAIN_IS(modalfs_order_done(&o, &a1), &s2, &a3, &a4);
	assert_int_equal(o.async_open, 2);
	CHAIN_IS(o.held_head, &s5, &a6);
	assert_ptr_equal(o.held_tail, &a6);
	/* Arrivals now still queue behind s5, after a6. */
	assert_false(modalfs_order_admit(&o, &s7));
	CHAIN_IS(o.held_head, &s5, &a6, &s7);

	assert_null(modalfs_order_done(&o, &s2));
	assert_null(modalfs_order_done(&o, &a4));
	assert_int_equal(o.async_open, 1);
	CHAIN_IS(o.held_head, &s5, &a6, &s7);
	/* s5 and a6 go together; s7 must wait for a6. */
	CHAIN_IS(modalfs_order_done(&o, &a3), &s5, &a6);
	assert_int_equal(o.async_open, 1);
	CHAIN_IS(o.held_head, &s7);
	assert_ptr_equal(o.held_tail, &s7);

	CHAIN_IS(modalfs_order_done(&o, &a6), &s7);
	assert_null(o.held_head);
	assert_null(o.held_tail);
	assert_int_equal(o.async_open, 0);
	/* The emptied list takes new arrivals again: nothing open, so s8 runs. */
	assert_true(modalfs_order_admit(&o, &s8));
	assert_null(modalfs_order_done(&o, &s5));
	assert_null(modalfs_order_done(&o, &s7));
	assert_null(modalfs_order_done(&o, &s8));
}

static void t_back_to_back_async(void **state)
{
	struct modalfs_order o;
	struct modalfs_order_item a1, a2, a3, s4;

	(void)state;
	modalfs_order_init(&o);
	item(&a1, A);
	item(&a2, A);
	item(&a3, A);
	item(&s4, S);
	assert_true(modalfs_order_admit(&o, &a1));
	assert_true(modalfs_order_admit(&o, &a2));
	assert_true(modalfs_order_admit(&o, &a3));
	assert_int_equal(o.async_open, 3);
	assert_false(modalfs_order_admit(&o, &s4));
	/* Any order of completion; only the last releases s4. */
	assert_null(modalfs_order_done(&o, &a2));
	assert_null(modalfs_order_done(&o, &a3));
	CHAIN_IS(modalfs_order_done(&o, &a1), &s4);
}

/* One ASYNC request done while others are open releases nothing. */
static void t_async_done_while_open(void **state)
{
	struct modalfs_order o;
	struct modalfs_order_item a1, a2, s3, a4;

	(void)state;
	modalfs_order_init(&o);
	item(&a1, A);
	item(&a2, A);
	item(&s3, S);
	item(&a4, A);
	assert_true(modalfs_order_admit(&o, &a1));
	assert_true(modalfs_order_admit(&o, &a2));
	assert_false(modalfs_order_admit(&o, &s3));
	assert_false(modalfs_order_admit(&o, &a4));
	assert_null(modalfs_order_done(&o, &a1));
	assert_int_equal(o.async_open, 1);
	CHAIN_IS(o.held_head, &s3, &a4);
	CHAIN_IS(modalfs_order_done(&o, &a2), &s3, &a4);
	assert_int_equal(o.async_open, 1);
}

/* A non-ASYNC one finishing never releases anything nor changes the count. */
static void t_sync_done_releases_nothing(void **state)
{
	struct modalfs_order o;
	struct modalfs_order_item s1, a2, s3;

	(void)state;
	modalfs_order_init(&o);
	item(&s1, S);
	item(&a2, A);
	item(&s3, S);
	assert_true(modalfs_order_admit(&o, &s1));
	assert_true(modalfs_order_admit(&o, &a2));
	assert_false(modalfs_order_admit(&o, &s3));
	assert_null(modalfs_order_done(&o, &s1));
	assert_int_equal(o.async_open, 1);
	assert_ptr_equal(o.held_head, &s3);
	CHAIN_IS(modalfs_order_done(&o, &a2), &s3);
}

/*
 * A fenced ASYNC item waits for the open ASYNC ones before it, holds what
 * follows it like any ASYNC one, and ASYNC ones right after it run
 * together with it once it is released.
 */
static void t_fenced(void **state)
{
	struct modalfs_order o;
	struct modalfs_order_item a1, f2, a3, f4, s5;

	(void)state;
	modalfs_order_init(&o);
	item(&a1, A);
	fenced(&f2);
	item(&a3, A);
	fenced(&f4);
	item(&s5, S);
	assert_true(modalfs_order_admit(&o, &a1));
	assert_false(modalfs_order_admit(&o, &f2));
	assert_false(modalfs_order_admit(&o, &a3));
	assert_false(modalfs_order_admit(&o, &f4));
	assert_false(modalfs_order_admit(&o, &s5));
	/* a1 done: f2 and a3 run together; f4 waits for both. */
	CHAIN_IS(modalfs_order_done(&o, &a1), &f2, &a3);
	assert_int_equal(o.async_open, 2);
	assert_null(modalfs_order_done(&o, &a3));
	CHAIN_IS(modalfs_order_done(&o, &f2), &f4);
	assert_int_equal(o.async_open, 1);
	CHAIN_IS(modalfs_order_done(&o, &f4), &s5);
	assert_null(modalfs_order_done(&o, &s5));
	assert_int_equal(o.async_open, 0);
	/* With nothing open, a fenced item runs at once. */
	fenced(&f2);
	assert_true(modalfs_order_admit(&o, &f2));
	assert_int_equal(o.async_open, 1);
	assert_null(modalfs_order_done(&o, &f2));
}

/*
 * Random arrivals and completions, as a worker pool would make them,
 * checked against section 3b directly: items start in arrival order,
 * an item starts only when every earlier ASYNC one is done or belongs
 * to the run of back-to-back unfenced ASYNC ones the item itself ends
 * (a fenced one starts a new run), and once everything started is done
 * nothing is left held.
 */
#define RN 4000

struct ritem {
	struct modalfs_order_item it;
	bool started, done;
};

static void start(struct ritem *v, int x, int *next_start)
{
	assert_false(v[x].started);
	assert_int_equal(x, *next_start);
	for (int y = 0; y < x; y++) {
		if (!v[y].it.async || v[y].done)
			continue;
		/* y open: x may start only in y's back-to-back run. */
		for (int z = y; z <= x; z++)
			assert_true(v[z].it.async && (z == y || !v[z].it.fence));
	}
	v[x].started = true;
	(*next_start)++;
}

static void t_random_against_rule(void **state)
{
	static struct ritem v[RN];
	struct modalfs_order o;
	int running[RN], nrun = 0, arrived = 0, next_start = 0;
	unsigned int seed = 11;

	(void)state;
	modalfs_order_init(&o);
	while (arrived < RN || nrun) {
		if (arrived < RN && (!nrun || rand_r(&seed) % 2)) {
			struct ritem *r = &v[arrived];

			item(&r->it, rand_r(&seed) % 3 == 0);
			r->it.fence = r->it.async && rand_r(&seed) % 3 == 0;
			r->started = r->done = false;
			if (modalfs_order_admit(&o, &r->it)) {
				start(v, arrived, &next_start);
				running[nrun++] = arrived;
			}
			arrived++;
		} else {
			int k = rand_r(&seed) % nrun, x = running[k];
			struct modalfs_order_item *it;

			running[k] = running[--nrun];
			v[x].done = true;
			for (it = modalfs_order_done(&o, &v[x].it); it;
			     it = it->next) {
				int y = (struct ritem *)it - v;

				start(v, y, &next_start);
				running[nrun++] = y;
			}
		}
	}
	assert_int_equal(next_start, RN);
	assert_null(o.held_head);
	assert_int_equal(o.async_open, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_sync_runs),
		cmocka_unit_test(t_async_runs),
		cmocka_unit_test(t_sync_held_behind_async),
		cmocka_unit_test(t_held_keeps_order),
		cmocka_unit_test(t_release_stops_at_sync),
		cmocka_unit_test(t_back_to_back_async),
		cmocka_unit_test(t_async_done_while_open),
		cmocka_unit_test(t_sync_done_releases_nothing),
		cmocka_unit_test(t_fenced),
		cmocka_unit_test(t_random_against_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
