// SPDX-License-Identifier: GPL-2.0
/*
 * Complete directories (issue 11): a directory this kernel created, or
 * listed to the end with READDIR, and has held in memory since, has all
 * its names known here, so a LOOKUP of any other name would say ENOENT
 * and is answered with a negative dentry without asking.
 *
 * The names live in a per-directory set, not in the dcache: READDIR
 * returns no attributes, so listed names have no dentries, and the dcache
 * may drop any dentry under memory pressure. Every change of a
 * directory's entries goes through this kernel (one superblock per volume
 * and host, so all mounts share these sets) and is applied to the set by
 * the op that made it, under the directory's i_rwsem. What can change the
 * volume behind the kernel's back moves the volume's *epoch*, and a set
 * is trusted only while the epoch is the one it was built at:
 *  - NOTIFY for the volume (modalfsctl put/rm, VOL_GONE): sbi->notified;
 *  - a request whose outcome the caches did not follow (a killed
 *    caller's, channel.c's modalfs_conn_inval): conn->inval;
 *  - a daemon restart (its store may differ from what it answered, and
 *    a NOTIFY may have been lost with the old one): chan->gen.
 * The epoch is sampled before the MKDIR or the first READDIR that builds
 * a set, so a NOTIFY racing with the reply voids the set too. An error
 * of an op that changes a directory forgets the set unless it is a
 * refusal the set agrees with (modalfs_dir_op_failed), and so does a
 * LOOKUP that contradicts it. Sets are bounded per directory
 * and in total; a directory over the bound is simply not complete.
 */
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/stringhash.h>

#include "modalfs_i.h"

/* Names of one directory, and of all complete directories together. */
#define MODALFS_NAMES_DIR_MAX	8192
#define MODALFS_NAMES_ALL_MAX	(1L << 20)
#define MODALFS_NAMES_BITS_MIN	4

static atomic_long_t modalfs_names_total = ATOMIC_LONG_INIT(0);

struct modalfs_name {
	struct hlist_node node;
	u32 hash;
	u8 len;			/* names are at most MODALFS_NAME_MAX bytes */
	char name[];
};

struct modalfs_names {
	unsigned int epoch;	/* modalfs_dir_epoch() it was built at */
	unsigned int count;
	unsigned int bits;
	struct hlist_head *buckets;
};

unsigned int modalfs_dir_epoch(struct super_block *sb)
{
	struct modalfs_sb_info *sbi = MODALFS_SB(sb);

	/* Each only grows, so the sum moves whenever one of them does. */
	return (unsigned int)atomic_read(&sbi->conn->inval) +
	       (unsigned int)atomic_read(&sbi->notified) +
	       READ_ONCE(modalfs_chan.gen);
}

static struct hlist_head *modalfs_buckets_alloc(unsigned int bits, gfp_t gfp)
{
	struct hlist_head *b;
	unsigned int i;

	b = kvmalloc_array(1U << bits, sizeof(*b), gfp);
	if (b)
		for (i = 0; i < (1U << bits); i++)
			INIT_HLIST_HEAD(&b[i]);
	return b;
}

struct modalfs_names *modalfs_names_new(unsigned int epoch)
{
	struct modalfs_names *n = kmalloc(sizeof(*n), GFP_KERNEL);

	if (!n)
		return NULL;
	n->epoch = epoch;
	n->count = 0;
	n->bits = MODALFS_NAMES_BITS_MIN;
	n->buckets = modalfs_buckets_alloc(n->bits, GFP_KERNEL);
	if (!n->buckets) {
		kfree(n);
		return NULL;
	}
	return n;
}

void modalfs_names_free(struct modalfs_names *n)
{
	struct modalfs_name *e;
	struct hlist_node *tmp;
	unsigned int i;

	if (!n)
		return;
	for (i = 0; i < (1U << n->bits); i++)
		hlist_for_each_entry_safe(e, tmp, &n->buckets[i], node)
			kfree(e);
	atomic_long_sub(n->count, &modalfs_names_total);
	kvfree(n->buckets);
	kfree(n);
}

static struct modalfs_name *modalfs_names_find(struct modalfs_names *n,
					       u32 hash, const char *name,
					       size_t len)
{
	struct modalfs_name *e;

	hlist_for_each_entry(e, &n->buckets[hash_32(hash, n->bits)], node)
		if (e->hash == hash && e->len == len &&
		    !memcmp(e->name, name, len))
			return e;
	return NULL;
}

/* Twice the buckets once there are two names per bucket (no allocation). */
static void modalfs_names_rehash(struct modalfs_names *n,
				 struct hlist_head *nb, unsigned int bits)
{
	struct modalfs_name *e;
	struct hlist_node *tmp;
	unsigned int i;

	for (i = 0; i < (1U << n->bits); i++)
		hlist_for_each_entry_safe(e, tmp, &n->buckets[i], node) {
			hlist_del(&e->node);
			hlist_add_head(&e->node, &nb[hash_32(e->hash, bits)]);
		}
	kvfree(n->buckets);
	n->buckets = nb;
	n->bits = bits;
}

static bool modalfs_names_want_grow(const struct modalfs_names *n)
{
	return n->count >= (2U << n->bits);
}

/* A new entry for name, counted against the bounds; NULL over them. */
static struct modalfs_name *modalfs_name_new(const char *name, size_t len)
{
	struct modalfs_name *e;

	if (len > MODALFS_NAME_MAX)
		return NULL;
	if (atomic_long_inc_return(&modalfs_names_total) >
	    MODALFS_NAMES_ALL_MAX) {
		atomic_long_dec(&modalfs_names_total);
		return NULL;
	}
	e = kmalloc(struct_size(e, name, len), GFP_KERNEL);
	if (!e) {
		atomic_long_dec(&modalfs_names_total);
		return NULL;
	}
	e->hash = full_name_hash(NULL, name, len);
	e->len = len;
	memcpy(e->name, name, len);
	return e;
}

static void modalfs_name_free(struct modalfs_name *e)
{
	kfree(e);
	atomic_long_dec(&modalfs_names_total);
}

/*
 * Adds name to a set nobody else sees yet (a READDIR being collected).
 * -ENOSPC: the directory is too big to be kept complete.
 */
int modalfs_names_add(struct modalfs_names *n, const char *name, size_t len)
{
	struct modalfs_name *e;

	if (n->count >= MODALFS_NAMES_DIR_MAX)
		return -ENOSPC;
	if (modalfs_names_find(n, full_name_hash(NULL, name, len), name, len))
		return 0;
	if (modalfs_names_want_grow(n)) {
		struct hlist_head *nb;

		nb = modalfs_buckets_alloc(n->bits + 1, GFP_KERNEL);
		if (!nb)
			return -ENOMEM;
		modalfs_names_rehash(n, nb, n->bits + 1);
	}
	e = modalfs_name_new(name, len);
	if (!e)
		return -ENOSPC;
	hlist_add_head(&e->node, &n->buckets[hash_32(e->hash, n->bits)]);
	n->count++;
	return 0;
}

/* The directory's set if it is still valid; a stale one is detached. */
static struct modalfs_names *modalfs_dir_names(struct inode *dir,
					       struct modalfs_names **stale)
{
	struct modalfs_inode_info *mi = MODALFS_I(dir);
	struct modalfs_names *n = mi->names;

	lockdep_assert_held(&mi->names_lock);
	if (n && n->epoch != modalfs_dir_epoch(dir->i_sb)) {
		mi->names = NULL;
		*stale = n;
		return NULL;
	}
	return n;
}

bool modalfs_dir_absent(struct inode *dir, const struct qstr *name)
{
	struct modalfs_inode_info *mi = MODALFS_I(dir);
	struct modalfs_names *n, *stale = NULL;
	bool absent = false;

	if (!READ_ONCE(mi->names))
		return false;
	spin_lock(&mi->names_lock);
	n = modalfs_dir_names(dir, &stale);
	if (n)
		absent = !modalfs_names_find(n, full_name_hash(NULL, name->name,
							       name->len),
					     name->name, name->len);
	spin_unlock(&mi->names_lock);
	modalfs_names_free(stale);
	return absent;
}

/*
 * The entries of dir changed here: sets being collected by READDIR
 * since then are not installed (modalfs_dir_install).
 */
static void modalfs_dir_bump(struct modalfs_inode_info *mi)
{
	lockdep_assert_held(&mi->names_lock);
	mi->dir_version++;
}

u64 modalfs_dir_version(struct inode *dir)
{
	struct modalfs_inode_info *mi = MODALFS_I(dir);
	u64 v;

	spin_lock(&mi->names_lock);
	v = mi->dir_version;
	spin_unlock(&mi->names_lock);
	return v;
}

void modalfs_dir_forget(struct inode *dir)
{
	struct modalfs_inode_info *mi = MODALFS_I(dir);
	struct modalfs_names *n;

	spin_lock(&mi->names_lock);
	n = mi->names;
	mi->names = NULL;
	modalfs_dir_bump(mi);
	spin_unlock(&mi->names_lock);
	modalfs_names_free(n);
}

/*
 * An op of this kernel that would have changed name in dir failed with
 * err. A refusal the set does not contradict leaves it: the daemon runs
 * each op in one transaction, so a refused op changed nothing. EEXIST
 * contradicts a set without the name; any other error (ENOENT for a name
 * the VFS had a dentry for, EIO, ENOSPC, a soft mount's timeout, after
 * which the op may still happen) may mean the daemon knows better.
 */
void modalfs_dir_op_failed(struct inode *dir, const struct qstr *name,
			   int err)
{
	switch (err) {
	case -EEXIST:
		if (name && !modalfs_dir_absent(dir, name))
			return;
		break;
	case -ENOTEMPTY:
	case -ENOTDIR:
	case -EISDIR:
	case -EINVAL:
	case -EPERM:
	case -EACCES:
	case -EMLINK:
	case -ENAMETOOLONG:
		return;
	}
	modalfs_dir_forget(dir);
}

/*
 * A READDIR walk from offset 0 to EOF collected n while the directory's
 * entries were at version: it becomes the directory's set unless the
 * epoch moved, a local op changed an entry meanwhile, or a set is there
 * already. Consumes n.
 */
void modalfs_dir_install(struct inode *dir, struct modalfs_names *n,
			 u64 version)
{
	struct modalfs_inode_info *mi = MODALFS_I(dir);
	struct modalfs_names *stale = NULL;

	spin_lock(&mi->names_lock);
	if (!modalfs_dir_names(dir, &stale) && mi->dir_version == version &&
	    n->epoch == modalfs_dir_epoch(dir->i_sb)) {
		mi->names = n;
		n = NULL;
	}
	spin_unlock(&mi->names_lock);
	modalfs_names_free(stale);
	modalfs_names_free(n);
}

/* dir was just made by this kernel's MKDIR, sent at epoch: it is empty. */
void modalfs_dir_made(struct inode *dir, unsigned int epoch)
{
	struct modalfs_names *n = modalfs_names_new(epoch);

	if (n)
		modalfs_dir_install(dir, n, modalfs_dir_version(dir));
}

/* name now exists in dir (create, mkdir, link, rename's target). */
void modalfs_dir_add(struct inode *dir, const struct qstr *q)
{
	struct modalfs_inode_info *mi = MODALFS_I(dir);
	struct modalfs_names *n, *stale = NULL;
	struct modalfs_name *e = NULL;
	struct hlist_head *nb = NULL;
	unsigned int bits = 0;

	if (!READ_ONCE(mi->names)) {
		spin_lock(&mi->names_lock);
		modalfs_dir_bump(mi);
		spin_unlock(&mi->names_lock);
		return;
	}
	/* Allocated before the lock; the i_rwsem keeps the set as it is. */
	e = modalfs_name_new(q->name, q->len);
	spin_lock(&mi->names_lock);
	n = mi->names;
	if (n && modalfs_names_want_grow(n))
		bits = n->bits + 1;
	spin_unlock(&mi->names_lock);
	if (bits)
		nb = modalfs_buckets_alloc(bits, GFP_KERNEL);

	spin_lock(&mi->names_lock);
	modalfs_dir_bump(mi);
	n = modalfs_dir_names(dir, &stale);
	if (!n)
		goto out;
	if (!e || n->count >= MODALFS_NAMES_DIR_MAX) {
		/* Too big to keep (or no memory): no longer complete. */
		mi->names = NULL;
		stale = n;
		goto out;
	}
	if (modalfs_names_find(n, e->hash, e->name, e->len))
		goto out;
	if (nb && n->bits + 1 == bits) {
		modalfs_names_rehash(n, nb, bits);
		nb = NULL;
	}
	hlist_add_head(&e->node, &n->buckets[hash_32(e->hash, n->bits)]);
	n->count++;
	e = NULL;
out:
	spin_unlock(&mi->names_lock);
	if (e)
		modalfs_name_free(e);
	kvfree(nb);
	modalfs_names_free(stale);
}

/* name no longer exists in dir (unlink, rmdir, rename's source). */
void modalfs_dir_del(struct inode *dir, const struct qstr *q)
{
	struct modalfs_inode_info *mi = MODALFS_I(dir);
	struct modalfs_names *n, *stale = NULL;
	struct modalfs_name *e = NULL;

	spin_lock(&mi->names_lock);
	modalfs_dir_bump(mi);
	n = modalfs_dir_names(dir, &stale);
	if (n) {
		e = modalfs_names_find(n, full_name_hash(NULL, q->name, q->len),
				       q->name, q->len);
		if (e) {
			hlist_del(&e->node);
			n->count--;
		}
	}
	spin_unlock(&mi->names_lock);
	if (e)
		modalfs_name_free(e);
	modalfs_names_free(stale);
}

/* The inode leaves memory: it is no longer held, so no longer complete. */
void modalfs_dir_evict(struct inode *dir)
{
	struct modalfs_inode_info *mi = MODALFS_I(dir);

	modalfs_names_free(mi->names);
	mi->names = NULL;
}

/* True if dir is complete now (READDIR then has nothing to collect). */
bool modalfs_dir_complete(struct inode *dir)
{
	struct modalfs_inode_info *mi = MODALFS_I(dir);
	struct modalfs_names *n, *stale = NULL;

	if (!READ_ONCE(mi->names))
		return false;
	spin_lock(&mi->names_lock);
	n = modalfs_dir_names(dir, &stale);
	spin_unlock(&mi->names_lock);
	modalfs_names_free(stale);
	return n != NULL;
}

/* True if dir is complete and has no entries. */
bool modalfs_dir_known_empty(struct inode *dir)
{
	struct modalfs_inode_info *mi = MODALFS_I(dir);
	struct modalfs_names *n, *stale = NULL;
	bool empty;

	if (!READ_ONCE(mi->names))
		return false;
	spin_lock(&mi->names_lock);
	n = modalfs_dir_names(dir, &stale);
	empty = n && n->count == 0;
	spin_unlock(&mi->names_lock);
	modalfs_names_free(stale);
	return empty;
}

/* Adds the names of a checked READDIR reply's entries to n. */
int modalfs_names_collect(struct modalfs_names *n, const struct nlattr *head,
			  int len)
{
	const struct nlattr *nla;
	struct modalfs_dirent_val d;
	int rem, err;

	nla_for_each_attr(nla, head, len, rem) {
		if (nla_type(nla) != MODALFS_A_DIRENT)
			continue;
		err = modalfs_dirent_decode(nla, &d);
		if (!err)
			err = modalfs_names_add(n, d.name, d.namelen);
		if (err)
			return err;
	}
	return 0;
}
