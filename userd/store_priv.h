/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The LMDB backend's private header: shared by the store_*.c units and
 * nothing else (the rest of the daemon sees store.h). The schema is
 * described in store_txn.c, next to the table of databases.
 */
#ifndef MODALFS_STORE_PRIV_H
#define MODALFS_STORE_PRIV_H

#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "store.h"

#define REC_VERSION 1
#define MAX_DEPTH 65536

/* Bound of the duplicate-request cache (see store_txn.c). */
#define DRC_MAX 65536
/* How far past its bound max the cache grows before it is cut back. */
#define DRC_SLACK(max) ((max) / 128)
#define DRC_VERSION 3

/* The databases of the environment; store_dbs[] names them. */
enum store_db {
	DB_META,
	DB_VOLUMES,
	DB_VOLIDS,
	DB_INODES,
	DB_DIRENTS,
	DB_DCOOKIES,
	DB_BLOCKMAP,
	DB_SYMLINKS,
	DB_ORPHANS,
	DB_XATTRS,
	DB_DRC,
	DB_DRCSEQ,
	DB_VOLSTATS,
	NDBS
};

/* Keys of this database start with be64 vol (purge, check's strays). */
#define DBF_PER_VOL	(1u << 0)
/* Added after the first release: an old store may lack it. */
#define DBF_LATER	(1u << 1)

struct store_db_desc {
	const char *name;
	unsigned int flags;	/* DBF_* */
	const char *what;	/* per-volume records, for --check */
};

extern const struct store_db_desc store_dbs[NDBS];

/* Reset read transactions kept for reuse, one per reader thread or so. */
#define RPOOL 32

struct modalfs_blocks;
struct cuts;
struct ilog_rec;
struct ilog_ovl;

/*
 * The intent log (store_ilog.c): overwrites that change no block map
 * entry are appended here instead of committed to LMDB, and folded into
 * the next LMDB write transaction.
 */
struct ilog {
	int fd;			/* -1: none (a read-only store) */
	/* The overlay and the pending list; readers take it briefly. */
	pthread_mutex_t lock;
	/* Held from a fold until its transaction ended (ilog_fold_done). */
	pthread_mutex_t fold_lock;
	bool folding;		/* fold_lock is held, by folder */
	pthread_t folder;
	uint64_t gen, lsn;	/* of the last record appended */
	uint64_t size;		/* bytes in the file */
	uint64_t appended, synced;	/* records appended, covered by a sync */
	struct ilog_rec *pend;	/* appended, not yet committed to LMDB */
	size_t npend, cap, nfolding;	/* the first nfolding are folding */
	int64_t pend_dblocks, folding_dblocks;	/* their data_blocks growth */
	struct ilog_ovl **tab;	/* (vol, ino, idx) -> what readers see */
	size_t tabsz, novl;
	struct ilog_ovl *deferred;	/* folded, waiting for the readers */
	uint64_t logged, folds;	/* logged at stop */
};

struct modalfs_store {
	MDB_env *env;
	MDB_dbi db[NDBS];	/* (MDB_dbi)-1: absent (read-only check) */
	uint64_t map_size;
	uint64_t reserve;	/* bytes only space-freeing ops may use */
	size_t drc_max;		/* DRC_MAX; smaller in tests */
	unsigned int psize;
	bool rdonly;		/* opened by modalfs_store_check */
	int lock_fd;

	/* The writer thread (group commit), see store_writer.c. */
	bool group;		/* it runs */
	bool wbusy;		/* it runs a batch */
	pthread_t writer;
	pthread_mutex_t wlock;
	pthread_cond_t wmore, wdone;
	struct modalfs_batch_req *whead, *wtail;
	uint64_t wbatches, wops;	/* logged at stop */
	int wmax;
	bool wstop;
	char *dir;
	struct modalfs_stats *stats;
	struct modalfs_blocks *blocks;	/* file data (blocks.h) */
	/*
	 * Commits made (commit_gen) and the count the last metadata sync
	 * covered (synced_gen): an FSYNC with nothing committed since skips
	 * the sync. commit_gen starts at 1, so the first FSYNC also syncs
	 * what an earlier daemon committed without syncing (kill -9).
	 */
	uint64_t commit_gen, synced_gen;
	bool was_clean;		/* the last daemon stopped cleanly */
	bool ready;		/* opened completely (close marks it clean) */

	/* Read transactions kept for reuse (txn_begin, txn_read_end). */
	pthread_mutex_t rlock;
	MDB_txn *rpool[RPOOL];
	unsigned int rn;
	/*
	 * Readers in a transaction now (counted in txn_read_reuse, before
	 * their snapshot, out in txn_read_end), and the reader epoch: quiet is the
	 * epoch at the last moment no reader was in one (under rlock). A
	 * folded overlay entry stamped with epoch e may go once quiet >= e:
	 * no reader can still hold a snapshot from before its fold.
	 */
	unsigned int ractive;
	uint64_t epoch, quiet;

	struct ilog ilog;
	bool wchanged;		/* the writer's batch changed LMDB */
};

struct volrec {
	uint32_t version;
	uint32_t kind;
	uint64_t vol_id;
	int64_t created;
	uint64_t next_ino;
	char app_id[MODALFS_APP_ID_MAX + 1];
	char pad[7];
};

struct inorec {
	uint32_t version;
	uint32_t mode, uid, gid, nlink, rdev;
	uint64_t size, blocks;
	int64_t atime_sec, mtime_sec, ctime_sec;
	uint32_t atime_nsec, mtime_nsec, ctime_nsec, pad;
	uint64_t next_cookie;	/* directories */
	uint64_t parent;	/* directories */
};

struct maprec {
	uint32_t version;
	uint32_t len;		/* valid bytes of the object */
	uint64_t alloc;		/* 512-byte units it takes in the block store */
};

struct dentrec {
	uint64_t cookie;
	uint64_t ino;
	uint32_t type;
	uint32_t pad;
};

/* ---- store_txn.c: errors, keys, records, transactions ---- */

int store_errno(int rc);

struct key {
	unsigned char b[24 + MODALFS_NAME_MAX + 1];
	MDB_val v;
};

void be64(unsigned char *p, uint64_t x);
uint64_t get_be64(const unsigned char *p);
MDB_val *key1(struct key *k, uint64_t a);
MDB_val *key2(struct key *k, uint64_t a, uint64_t b);
MDB_val *key3(struct key *k, uint64_t a, uint64_t b, uint64_t c);
MDB_val *keyname(struct key *k, uint64_t a, uint64_t b, const char *name);
/* The 8-byte big-endian number at off in k, 0 if k is too short. */
uint64_t kget(const MDB_val *k, size_t off);

bool has_prefix(const MDB_val *k, const void *prefix, size_t plen);
int first_with_prefix(MDB_cursor *c, const MDB_val *start, size_t plen,
		      MDB_val *k, MDB_val *v);
int next_with_prefix(MDB_cursor *c, const void *prefix, size_t plen,
		     MDB_val *k, MDB_val *v);
int del_range(MDB_txn *t, MDB_dbi dbi, const MDB_val *start, size_t plen,
	      uint64_t *blocks);
int del_ignore_missing(MDB_txn *t, MDB_dbi dbi, MDB_val *k);

void now(int64_t *sec, uint32_t *nsec);
void touch_mc(struct inorec *r);
void touch_c(struct inorec *r);
/*
 * Sets what sa names except SIZE (the caller cuts or grows the file);
 * without a CTIME in sa, any change stamps ctime.
 */
void inorec_setattr(struct inorec *r, const struct modalfs_setattr *sa);
uint64_t blocks512(size_t len);

int rec_get_raw(MDB_txn *t, MDB_dbi dbi, MDB_val *key, void *out,
		size_t size);
int rec_get(MDB_txn *t, MDB_dbi dbi, MDB_val *key, void *out, size_t size,
	    int missing);

/*
 * Transactions. A write txn of a kernel op runs in the op's context tx
 * (NULL outside a group-commit batch): nested in the batch's txn, and
 * guarded by the op's duplicate-request cache entry, which txn_begin
 * looks up (MODALFS_DRC_HIT: nothing to do) and txn_end records.
 */
int txn_begin(struct modalfs_store *st, struct modalfs_txc *tx, bool write,
	      MDB_txn **t);
int txn_end(struct modalfs_store *st, struct modalfs_txc *tx, MDB_txn *t,
	    int err);
int commit_counted(struct modalfs_store *st, MDB_txn *t, uint32_t ops,
		   int iofd);
/* Ends a read transaction of txn_begin (kept, reset, for the next one). */
void txn_read_end(struct modalfs_store *st, MDB_txn *t);
void txn_read_pool_free(struct modalfs_store *st);

/* Looks tx's request up in the cache (t) and the intent log. */
int drc_check(struct modalfs_store *st, MDB_txn *t, struct modalfs_txc *tx);
int drc_record(struct modalfs_store *st, MDB_txn *t, struct modalfs_drc *d);

/* ---- store_ilog.c: the intent log ---- */
int ilog_open(struct modalfs_store *st);
void ilog_close(struct modalfs_store *st);
/* Applies what is logged for (vol, ino) that t cannot see yet. */
void ilog_overlay(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		  uint64_t ino, struct inorec *r);
/* The same for map entry idx: true if *m was set. */
bool ilog_map_overlay(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		      uint64_t ino, uint64_t idx, struct maprec *m);
/* data_blocks that pending records add (space_check, statfs). */
uint64_t ilog_pending_blocks(struct modalfs_store *st);
bool ilog_pending(struct modalfs_store *st);
/* Whether a WRITE may be logged now (a log, and room in it). */
bool ilog_may_log(struct modalfs_store *st);
/* A block map entry a logged WRITE sets. */
struct ilog_map {
	uint64_t idx;
	struct maprec m;
};
/*
 * Logs a WRITE of (vol, ino): r holds the inode after it, base_csec and
 * base_cnsec the ctime it had before, map the nmap (at most 2) entries it
 * set, dbytes and dblocks what the volume's bytes and data_blocks grew
 * by, d the op's cache entry (or NULL).
 */
int ilog_append(struct modalfs_store *st, uint64_t vol, uint64_t ino,
		int64_t base_csec, uint32_t base_cnsec,
		const struct inorec *r, const struct ilog_map *map,
		uint32_t nmap, int64_t dbytes, int64_t dblocks,
		const struct modalfs_drc *d);
/* A pending record of d's request: fills d->rep and returns true. */
bool ilog_drc_find(struct modalfs_store *st, struct modalfs_drc *d);
/*
 * Every LMDB write transaction folds the pending records in first (t is
 * a top-level write transaction); ilog_fold_done(ok) must follow once
 * it committed (ok) or was aborted.
 */
void ilog_begun(struct modalfs_store *st);
int ilog_fold(struct modalfs_store *st, MDB_txn *t);
void ilog_fold_done(struct modalfs_store *st, bool ok);
void ilog_maybe_cut(struct modalfs_store *st);
/* FSYNC's part: syncs the log if records were appended since. */
int ilog_sync(struct modalfs_store *st);

/* ---- store_writer.c ---- */
int writer_start(struct modalfs_store *st);
void writer_stop(struct modalfs_store *st);
void writer_pause(struct modalfs_store *st);
void writer_resume(struct modalfs_store *st);

/* ---- store_open.c: space ---- */
int free_pages(MDB_txn *t, uint64_t *pages, uint64_t *run);
int space_check(struct modalfs_store *st, struct modalfs_txc *tx, MDB_txn *t,
		uint64_t add, size_t value);
/*
 * Pages one op may add beyond what it frees: the largest value LMDB
 * holds, a full xattr (overflow pages), plus the copied tree paths of a
 * few DBIs. File data lives in the block store and is counted by
 * space_check itself, so this does not grow with MODALFS_IO_MAX.
 * space_check and statfs hold that much back.
 */
#define OP_SLACK_BYTES (2 * MODALFS_XATTR_SIZE_MAX + 64 * 4096)
int store_open(struct modalfs_store **out, const char *dir,
	       uint64_t map_size, bool rdonly, unsigned int *missing);

/* ---- store_ns.c: inodes and directory entries ---- */
int ino_get(struct modalfs_store *st, MDB_txn *t, uint64_t vol, uint64_t ino,
	    struct inorec *r);
int ino_put(struct modalfs_store *st, MDB_txn *t, uint64_t vol, uint64_t ino,
	    const struct inorec *r);
int reg_get(struct modalfs_store *st, MDB_txn *t, uint64_t vol, uint64_t ino,
	    struct inorec *r);
void to_attr(uint64_t ino, const struct inorec *r, struct modalfs_iattr *a);
int dent_get(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
	     uint64_t dir, const char *name, struct dentrec *d);
/* Deletes ino and its records; its objects go into c (cut after commit). */
int free_inode(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
	       uint64_t ino, struct cuts *c);

/*
 * The one path resolver: walks PATH from the root of volume volname.
 * With dotdot, ".." goes to the parent; without, it is EINVAL. On success
 * ino/r are the last component found; dir and name name the last
 * component and exists says whether it was found (a missing component
 * before the last is ENOENT; "/" is the root with name "").
 */
struct walk {
	uint64_t vol, ino, dir;
	struct inorec r;
	char name[MODALFS_NAME_MAX + 1];
	bool exists;
};
int walk_path(struct modalfs_store *st, MDB_txn *t, const char *volname,
	      const char *path, bool dotdot, struct walk *w);

/* ---- store_data.c: the block map ---- */

/* Objects to cut (len) or remove (len 0) once a transaction committed. */
struct cut {
	uint64_t vol, ino, idx;
	uint32_t len;
};
struct cuts {
	struct cut *v;
	size_t n, cap;
};
int cuts_add(struct cuts *c, uint64_t vol, uint64_t ino, uint64_t idx,
	     uint32_t len);
void cuts_apply(struct modalfs_store *st, struct cuts *c);
int map_get(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
	    uint64_t ino, uint64_t idx, struct maprec *m);
int map_put(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
	    uint64_t ino, uint64_t idx, const struct maprec *m);
int map_cut(struct modalfs_store *st, MDB_txn *t, uint64_t vol, uint64_t ino,
	    struct inorec *r, uint64_t size, struct cuts *c);
int data_blocks_get(struct modalfs_store *st, MDB_txn *t, uint64_t *n);
int data_blocks_add(struct modalfs_store *st, MDB_txn *t, int64_t delta);

/* ---- store_migrate.c ---- */
int store_migrate(struct modalfs_store *st);
int store_reconcile(struct modalfs_store *st);

/* ---- store_xattr.c ---- */
int xattr_usage(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		uint64_t ino, const char *skip, uint64_t *list,
		uint64_t *total);

/* ---- store_vol.c: volumes and apps ---- */
int volrec_by_id(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		 char *name, struct volrec *vr);
int volrec_put(struct modalfs_store *st, MDB_txn *t, const char *name,
	       const struct volrec *vr);
MDB_val *keydel(struct key *k, uint64_t vol);
int vol_make(struct modalfs_store *st, const char *name, uint32_t kind,
	     bool excl, struct modalfs_volinfo *out);
void make_app_id(char *out);
/*
 * A volume's counters (issue 12: `list` must not scan every inode): the
 * sum of its regular files' sizes and its number of inodes, kept in the
 * transaction of every op that changes them.
 */
struct volstat {
	uint64_t bytes;
	uint64_t files;
};
int volstat_get(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		struct volstat *vs);
int volstat_add(struct modalfs_store *st, MDB_txn *t, uint64_t vol,
		int64_t bytes, int64_t files);
int volstats_rebuild(struct modalfs_store *st, MDB_txn *t);

#endif
