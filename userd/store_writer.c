// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The writer: group commit, always on.
 *
 * Every commit of a write transaction syncs LMDB's data file, which bounds
 * write ops per second by the disk's sync rate. So the kernel's write ops
 * are run one batch at a time, each op as a nested transaction of one
 * batch transaction (so each op is still atomic and a failing op is
 * rolled back alone), and the batch is committed with one sync. Callers
 * get their result only after the batch committed, so no reply ever
 * reveals uncommitted state. Reads never wait for it: they run on the
 * callers' threads on LMDB snapshots.
 *
 * There is no writer thread: the caller that finds no batch running
 * becomes the leader, takes every op queued so far (its own included, up
 * to BATCH_MAX), runs and commits them on its own thread, and then wakes
 * the others; one of those whose op is still queued leads the next
 * batch. An op on an idle store is so committed without any hand-off
 * between threads (two futex round trips and two context switches per
 * op with a writer thread), and ops that arrive during a commit still
 * share the next one.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_priv.h"

struct batch_req {
	int (*fn)(struct modalfs_txc *tx, void *arg);
	void *arg;
	int err;
	bool done;
	struct batch_req *next;
};

#define BATCH_MAX 64

/*
 * Leads one batch: the first BATCH_MAX queued ops. Called and returns
 * with wlock held, and wbusy clear; drops the lock while it works.
 */
static void run_batch(struct modalfs_store *st)
{
	struct batch_req *batch, *r, *last;
	MDB_txn *parent = NULL;
	int n, perr;

	st->wbusy = true;
	batch = last = st->whead;
	for (n = 1; n < BATCH_MAX && last->next; n++)
		last = last->next;
	st->whead = last->next;
	if (!st->whead)
		st->wtail = NULL;
	last->next = NULL;
	pthread_mutex_unlock(&st->wlock);

	perr = store_errno(mdb_txn_begin(st->env, NULL, 0, &parent));
	for (r = batch, n = 0; r; r = r->next, n++) {
		struct modalfs_txc tx = { .batch = parent, .index = n };

		r->err = perr;
		if (!perr)
			r->fn(&tx, r->arg);
	}
	if (!perr) {
		perr = store_errno(commit_counted(st, parent, n));
		for (r = batch; r && perr; r = r->next)
			r->err = perr;
	}
	pthread_mutex_lock(&st->wlock);
	st->wbusy = false;
	for (r = batch; r; r = r->next)
		r->done = true;
	pthread_cond_broadcast(&st->wdone);
}

int writer_start(struct modalfs_store *st)
{
	pthread_mutex_init(&st->wlock, NULL);
	pthread_cond_init(&st->wdone, NULL);
	st->wstop = false;
	st->group = true;
	return 0;
}

/* Waits for the batches queued or running; later ops get EROFS. */
void writer_stop(struct modalfs_store *st)
{
	if (!st->group)
		return;
	pthread_mutex_lock(&st->wlock);
	st->wstop = true;
	while (st->wbusy || st->whead)
		pthread_cond_wait(&st->wdone, &st->wlock);
	pthread_mutex_unlock(&st->wlock);
	pthread_cond_destroy(&st->wdone);
	pthread_mutex_destroy(&st->wlock);
	st->group = false;
}

/*
 * Holds the writer between batches (every batch committed, none started),
 * so that a check sees the newest state; writer_resume lets it go on.
 */
void writer_pause(struct modalfs_store *st)
{
	if (!st->group)
		return;
	pthread_mutex_lock(&st->wlock);
	while (st->wbusy || st->whead)
		pthread_cond_wait(&st->wdone, &st->wlock);
}

void writer_resume(struct modalfs_store *st)
{
	if (st->group)
		pthread_mutex_unlock(&st->wlock);
}

int modalfs_store_batch(struct modalfs_store *st,
			int (*fn)(struct modalfs_txc *tx, void *arg),
			void *arg)
{
	struct batch_req r = { .fn = fn, .arg = arg };

	if (!st->group)
		return EROFS;	/* a read-only store (--check) */
	pthread_mutex_lock(&st->wlock);
	if (st->wstop) {
		pthread_mutex_unlock(&st->wlock);
		return EROFS;
	}
	if (st->wtail)
		st->wtail->next = &r;
	else
		st->whead = &r;
	st->wtail = &r;
	while (!r.done) {
		if (!st->wbusy)
			run_batch(st);
		else
			pthread_cond_wait(&st->wdone, &st->wlock);
	}
	pthread_mutex_unlock(&st->wlock);
	return r.err;
}
