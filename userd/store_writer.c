// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The writer: group commit, always on.
 *
 * Every commit of a write transaction syncs LMDB's data file, which bounds
 * write ops per second by the disk's sync rate. So the kernel's write ops
 * are run one after the other by a single writer thread, started at open,
 * each as a nested transaction of one batch transaction (so each op is
 * still atomic and a failing op is rolled back alone), and the batch is
 * committed with one sync. Callers get their result only after the batch
 * committed, so no reply ever reveals uncommitted state. Reads never wait
 * for it: they run on the callers' threads on LMDB snapshots.
 *
 * A caller either waits (modalfs_store_batch) or is called back
 * (modalfs_store_batch_submit). The kernel channel's workers submit, so
 * that while one batch commits they already parse the requests of the
 * next: with waiting workers, a batch held at most one op per worker and
 * the writer and the workers took turns instead of running side by side.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store_priv.h"

#define BATCH_MAX 64

/*
 * Idle for this long with intent-log records pending, the writer folds
 * them into LMDB: counters that only LMDB keeps (a volume's bytes) catch
 * up, and a restart has less to replay.
 */
#define IDLE_FOLD_SECS 1

static void idle_fold(struct modalfs_store *st, int iofd)
{
	MDB_txn *t;
	int err = store_errno(mdb_txn_begin(st->env, NULL, 0, &t));

	if (err)
		return;
	ilog_begun(st);
	err = ilog_fold(st, t);
	if (err)
		mdb_txn_abort(t);
	else
		err = store_errno(commit_counted(st, t, 0, iofd));
	ilog_fold_done(st, !err);
	ilog_maybe_cut(st);
}

static void *writer_main(void *p)
{
	struct modalfs_store *st = p;
	/* Read around every commit: one pread, not open + read + close. */
	int iofd = open("/proc/thread-self/io", O_RDONLY | O_CLOEXEC);

	for (;;) {
		struct modalfs_batch_req *batch, *r, *last, *nx, *cb = NULL;
		struct modalfs_batch_req **cbt = &cb;
		MDB_txn *parent = NULL;
		int n, perr;

		pthread_mutex_lock(&st->wlock);
		while (!st->whead && !st->wstop) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += IDLE_FOLD_SECS;
			if (pthread_cond_timedwait(&st->wmore, &st->wlock,
						   &ts) == ETIMEDOUT &&
			    !st->whead && ilog_pending(st)) {
				pthread_mutex_unlock(&st->wlock);
				idle_fold(st, iofd);
				pthread_mutex_lock(&st->wlock);
			}
		}
		if (!st->whead) {
			pthread_mutex_unlock(&st->wlock);
			if (iofd >= 0)
				close(iofd);
			return NULL;
		}
		st->wbusy = true;
		batch = last = st->whead;
		for (n = 1; n < BATCH_MAX && last->next; n++)
			last = last->next;
		st->wbatches++;
		st->wops += n;
		if (n > st->wmax)
			st->wmax = n;
		st->whead = last->next;
		if (!st->whead)
			st->wtail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&st->wlock);

		perr = store_errno(mdb_txn_begin(st->env, NULL, 0, &parent));
		if (!perr)
			ilog_begun(st);
		st->wchanged = false;
		for (r = batch, n = 0; r; r = r->next, n++) {
			struct modalfs_txc tx = { .batch = parent, .index = n };

			r->err = perr;
			if (!perr)
				r->fn(&tx, r->arg);
		}
		/*
		 * A batch of logged overwrites (store_ilog.c), failed ops or
		 * cache hits changed nothing: no commit, no sync.
		 */
		if (!perr && !st->wchanged) {
			mdb_txn_abort(parent);
		} else if (!perr) {
			perr = store_errno(commit_counted(st, parent, n, iofd));
			for (r = batch; r && perr; r = r->next)
				r->err = perr;
		}
		ilog_fold_done(st, !perr);
		ilog_maybe_cut(st);
		/*
		 * A waiter may return (and its request go) as soon as it sees
		 * finished, so the ones to call back are set apart first.
		 */
		pthread_mutex_lock(&st->wlock);
		st->wbusy = false;
		for (r = batch; r; r = nx) {
			nx = r->next;
			if (r->done) {
				*cbt = r;
				cbt = &r->next;
			} else {
				r->finished = true;
			}
		}
		*cbt = NULL;
		pthread_cond_broadcast(&st->wdone);
		pthread_mutex_unlock(&st->wlock);
		for (r = cb; r; r = nx) {
			nx = r->next;
			r->done(r, r->err);
		}
	}
}

int writer_start(struct modalfs_store *st)
{
	int err;

	pthread_mutex_init(&st->wlock, NULL);
	pthread_cond_init(&st->wmore, NULL);
	pthread_cond_init(&st->wdone, NULL);
	err = pthread_create(&st->writer, NULL, writer_main, st);
	if (!err)
		st->group = true;
	return err;
}

void writer_stop(struct modalfs_store *st)
{
	if (!st->group)
		return;
	pthread_mutex_lock(&st->wlock);
	st->wstop = true;
	pthread_cond_signal(&st->wmore);
	pthread_mutex_unlock(&st->wlock);
	pthread_join(st->writer, NULL);
	st->group = false;
	if (st->wbatches)
		modalfs_info("the writer committed %llu ops in %llu batches, at most %d in one",
			     (unsigned long long)st->wops,
			     (unsigned long long)st->wbatches, st->wmax);
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

/* Called with wlock held. */
static void queue_req(struct modalfs_store *st, struct modalfs_batch_req *r)
{
	r->next = NULL;
	r->finished = false;
	r->err = 0;
	if (st->wtail)
		st->wtail->next = r;
	else
		st->whead = r;
	st->wtail = r;
	pthread_cond_signal(&st->wmore);
}

int modalfs_store_batch(struct modalfs_store *st,
			int (*fn)(struct modalfs_txc *tx, void *arg),
			void *arg)
{
	struct modalfs_batch_req r = { .fn = fn, .arg = arg };

	if (!st->group)
		return EROFS;	/* a read-only store (--check) */
	pthread_mutex_lock(&st->wlock);
	queue_req(st, &r);
	while (!r.finished)
		pthread_cond_wait(&st->wdone, &st->wlock);
	pthread_mutex_unlock(&st->wlock);
	return r.err;
}

int modalfs_store_batch_submit(struct modalfs_store *st,
			       struct modalfs_batch_req *r)
{
	if (!st->group || !r->done)
		return EROFS;
	pthread_mutex_lock(&st->wlock);
	queue_req(st, r);
	pthread_mutex_unlock(&st->wlock);
	return 0;
}

