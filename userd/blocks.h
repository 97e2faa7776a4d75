/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The block store: file data, outside the metadata store.
 *
 * Data lives in objects named by (volume, inode, index), each holding
 * bytes [index * MODALFS_OBJ_SIZE, (index + 1) * MODALFS_OBJ_SIZE) of one
 * file, written in place at any offset and sparse where never written.
 * The metadata store's block map says which objects exist and how many
 * bytes of each are valid; the block store knows nothing about files,
 * sizes or transactions.
 *
 * Writes are not durable until sync() returns (NFS's UNSTABLE write plus
 * COMMIT); they survive a kill of the daemon, since they are in the host's
 * page cache or the cluster's memory once write() returns. remove and
 * truncate are idempotent, so an interrupted cleanup can simply run again.
 *
 * A backend fills in struct modalfs_blocks_ops. local (blocks_local.c)
 * keeps one sparse file per object under the state directory; a Ceph
 * RADOS backend maps an object to the RADOS object "INO.INDEX" in the
 * namespace "vVOL" of one pool (rados_write/rados_read/rados_trunc/
 * rados_remove, whole namespaces listed and removed for a deleted volume,
 * sync waiting for outstanding aio), see Documentation/storage.md.
 *
 * Every function returns 0 or a positive errno.
 */
#ifndef MODALFS_BLOCKS_H
#define MODALFS_BLOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of a file per object (RADOS's default object size). */
#define MODALFS_OBJ_SIZE	(4u << 20)

struct modalfs_blocks;

struct modalfs_blocks_ops {
	const char *name;
	/*
	 * len bytes at off of the object, created if missing; *alloc gets
	 * the 512-byte units the object now takes (holes take none).
	 */
	int (*write)(struct modalfs_blocks *b, uint64_t vol, uint64_t ino,
		     uint64_t idx, uint32_t off, const void *buf, size_t len,
		     uint64_t *alloc);
	/*
	 * len bytes at off; what the object does not hold (a hole, past its
	 * end, or no object at all) reads as zeros.
	 */
	int (*read)(struct modalfs_blocks *b, uint64_t vol, uint64_t ino,
		    uint64_t idx, uint32_t off, void *buf, size_t len);
	/* Cuts the object to len bytes; len 0 removes it. No object: 0. */
	int (*truncate)(struct modalfs_blocks *b, uint64_t vol, uint64_t ino,
			uint64_t idx, uint32_t len);
	/*
	 * Removes up to budget objects of volume vol; *done once none is
	 * left (then the volume holds nothing in the block store).
	 */
	int (*remove_volume)(struct modalfs_blocks *b, uint64_t vol,
			     uint32_t budget, bool *done);
	/* Every earlier write, truncate and remove is on stable storage. */
	int (*sync)(struct modalfs_blocks *b);
	/*
	 * Calls cb for each object (any order); cb returning non-zero stops
	 * the walk and is returned. For --check and start-up reconciliation.
	 */
	int (*walk)(struct modalfs_blocks *b,
		    int (*cb)(uint64_t vol, uint64_t ino, uint64_t idx,
			      uint64_t len, void *arg),
		    void *arg);
	/* Bytes the backend holds for all objects (statfs, tests). */
	int (*usage)(struct modalfs_blocks *b, uint64_t *bytes);
	void (*close)(struct modalfs_blocks *b);
};

struct modalfs_blocks {
	const struct modalfs_blocks_ops *ops;
};

/* The local backend: objects under DIR (created unless rdonly). */
int modalfs_blocks_local_open(const char *dir, bool rdonly,
			      struct modalfs_blocks **out);

#endif
