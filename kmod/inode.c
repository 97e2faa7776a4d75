// SPDX-License-Identifier: GPL-2.0
/*
 * Inodes: allocation, conversion from the daemon's MODALFS_A_ATTR,
 * getattr and setattr.
 *
 * This kernel is the only writer of a volume for now, so the attributes it
 * caches are trusted and never revalidated; serving a volume to other hosts
 * (and modalfsctl put while mounted) will need invalidation later.
 */
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/iversion.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>

#include "modalfs_i.h"

static struct kmem_cache *modalfs_inode_cachep;

/*
 * Orders the kernel's own changes to a file's size and data against
 * GETATTR answers, as FUSE's fc->attr_version does: the answer to a
 * GETATTR sent before a change is older than the change.
 */
static atomic64_t modalfs_attr_version = ATOMIC64_INIT(0);

u64 modalfs_attr_version_now(void)
{
	return atomic64_read(&modalfs_attr_version);
}

void modalfs_attr_changed(struct inode *inode)
{
	WRITE_ONCE(MODALFS_I(inode)->attr_version,
		   atomic64_inc_return(&modalfs_attr_version));
}

static void modalfs_inode_init_once(void *p)
{
	struct modalfs_inode_info *mi = p;

	inode_init_once(&mi->vfs_inode);
	spin_lock_init(&mi->names_lock);
}

int modalfs_inode_cache_init(void)
{
	modalfs_inode_cachep = kmem_cache_create("modalfs_inode",
			sizeof(struct modalfs_inode_info), 0,
			SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
			modalfs_inode_init_once);
	return modalfs_inode_cachep ? 0 : -ENOMEM;
}

void modalfs_inode_cache_exit(void)
{
	/* free_inode runs after an RCU grace period. */
	rcu_barrier();
	kmem_cache_destroy(modalfs_inode_cachep);
}

struct inode *modalfs_alloc_inode(struct super_block *sb)
{
	struct modalfs_inode_info *mi;

	mi = alloc_inode_sb(sb, modalfs_inode_cachep, GFP_KERNEL);
	if (!mi)
		return NULL;
	mi->link = NULL;
	mi->flags = 0;
	mi->inval_seen = atomic_read(&MODALFS_SB(sb)->conn->inval);
	mi->attr_version = 0;
	mi->names = NULL;
	mi->dir_version = 0;
	/* Unequal: a new inode's first write_inode is never skipped. */
	atomic_set(&mi->meta_seq, 1);
	mi->meta_sent = 0;
	atomic_set(&mi->writes, 0);
	atomic_set(&mi->dirops, 0);
	atomic_set(&mi->removes, 0);
	atomic_set(&mi->lookups, 0);
	return &mi->vfs_inode;
}

void modalfs_free_inode(struct inode *inode)
{
	struct modalfs_inode_info *mi = MODALFS_I(inode);

	kfree(mi->link);
	kmem_cache_free(modalfs_inode_cachep, mi);
}

/*
 * Finds or creates the inode v describes. must_be_new: the daemon has
 * just created it, so a cached inode with that number means the daemon
 * reused a number, which the protocol forbids.
 */
struct inode *modalfs_iget(struct super_block *sb,
			   const struct modalfs_attr_val *v, bool must_be_new)
{
	struct inode *inode;

	inode = iget_locked(sb, v->ino);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (!(inode->i_state & I_NEW)) {
		if (must_be_new ||
		    (inode->i_mode & S_IFMT) != (v->mode & S_IFMT)) {
			pr_warn_ratelimited("modalfs: daemon sent inode %llu with a conflicting identity\n",
					    v->ino);
			iput(inode);
			return ERR_PTR(-EIO);
		}
		/* A NOTIFY said it changed: take the daemon's attributes. */
		if (test_bit(MODALFS_I_STALE, &MODALFS_I(inode)->flags)) {
			int err = modalfs_revalidate_inode(inode);

			if (err) {
				iput(inode);
				return ERR_PTR(err);
			}
		}
		return inode;
	}

	modalfs_attr_to_inode(inode, v);
	/* Just created by this kernel: no xattrs until one is set here. */
	if (must_be_new) {
		set_bit(MODALFS_I_NOXATTR, &MODALFS_I(inode)->flags);
		if (S_ISREG(v->mode))
			set_bit(MODALFS_I_NEW, &MODALFS_I(inode)->flags);
	}
	switch (v->mode & S_IFMT) {
	case S_IFREG:
		inode->i_op = &modalfs_file_iops;
		inode->i_fop = &modalfs_file_fops;
		inode->i_mapping->a_ops = &modalfs_aops;
		break;
	case S_IFDIR:
		inode->i_op = &modalfs_dir_iops;
		inode->i_fop = &modalfs_dir_fops;
		break;
	case S_IFLNK:
		inode->i_op = &modalfs_symlink_iops;
		inode_nohighmem(inode);
		break;
	default:
		inode->i_op = &modalfs_special_iops;
		init_special_inode(inode, inode->i_mode,
				   new_decode_dev(v->rdev));
		break;
	}
	unlock_new_inode(inode);
	return inode;
}

/* Sends req, waits for it, decodes its ATTR into v, and drops req. */
int modalfs_req_call_attr(struct modalfs_req *req, struct modalfs_attr_val *v)
{
	int err = modalfs_req_call(req);

	if (!err)
		err = modalfs_attr_decode(req->tb[MODALFS_A_ATTR], v);
	modalfs_req_put(req);
	return err;
}

int modalfs_getattr(struct user_namespace *mnt_userns, const struct path *path,
		    struct kstat *stat, u32 request_mask, unsigned int flags)
{
	struct inode *inode = d_inode(path->dentry);
	int err;

	/* Stale after a NOTIFY (or the volume is gone): ask the daemon. */
	if (!(flags & AT_STATX_DONT_SYNC) ||
	    modalfs_sb_gone(inode->i_sb)) {
		err = modalfs_revalidate_inode(inode);
		if (err)
			return err;
	}
	generic_fillattr(mnt_userns, inode, stat);
	return 0;
}

/* What a deferred setattr may change: no size, nothing but these. */
#define MODALFS_DEFER_VALID \
	(ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_ATIME | ATTR_MTIME | \
	 ATTR_CTIME | ATTR_ATIME_SET | ATTR_MTIME_SET | ATTR_TIMES_SET | \
	 ATTR_FORCE | ATTR_KILL_SUID | ATTR_KILL_SGID | ATTR_KILL_PRIV | \
	 ATTR_OPEN | ATTR_FILE | ATTR_TOUCH)

/*
 * A chown, chmod or utimes of a new regular file (MODALFS_I_NEW: created
 * here, never written back) with dirty pages, or WRITEs in flight, is
 * applied here and sent with the times by the write_inode that follows
 * the writeback of those pages anyway (super.c): tar's fchown, fchmod and
 * futimens of a file it has just written then cost one SETATTR, not three
 * plus the write_inode. The daemon has none of the file's data before
 * that writeback, so a chmod that narrows access exposes nothing to those
 * who read through the daemon meanwhile (modalfsctl get). The permission
 * checks are the kernel's (setattr_prepare, setattr_copy's S_ISGID rule),
 * as for a sent change; the daemon does not check them. Everything else
 * stays synchronous: its change reaches the daemon before the call
 * returns, as modalfsctl expects.
 */
static bool modalfs_setattr_defer(struct inode *inode, unsigned int valid)
{
	return test_bit(MODALFS_I_NEW, &MODALFS_I(inode)->flags) &&
	       !(valid & ~MODALFS_DEFER_VALID) &&
	       (mapping_tagged(inode->i_mapping, PAGECACHE_TAG_DIRTY) ||
		mapping_tagged(inode->i_mapping, PAGECACHE_TAG_WRITEBACK)) &&
	       !modalfs_sb_gone(inode->i_sb);
}

static void modalfs_setattr_pending(struct inode *inode, unsigned int valid)
{
	struct modalfs_inode_info *mi = MODALFS_I(inode);

	/* The values first; write_inode clears a bit, then reads its value. */
	smp_mb__before_atomic();
	if (valid & ATTR_MODE)
		set_bit(MODALFS_I_DIRTY_MODE, &mi->flags);
	if (valid & ATTR_UID)
		set_bit(MODALFS_I_DIRTY_UID, &mi->flags);
	if (valid & ATTR_GID)
		set_bit(MODALFS_I_DIRTY_GID, &mi->flags);
	modalfs_attr_changed(inode);
	modalfs_meta_changed(inode);
	mark_inode_dirty_sync(inode);
}

static int modalfs_do_setattr(struct user_namespace *mnt_userns,
			      struct dentry *dentry, struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	unsigned int valid = attr->ia_valid;
	struct modalfs_req *req;
	struct sk_buff *msg;
	struct nlattr *nest;
	int err;

	if (modalfs_sb_gone(inode->i_sb))
		return -ESTALE;
	err = setattr_prepare(mnt_userns, dentry, attr);
	if (err)
		return err;
	/*
	 * truncate(2) sends ATTR_SIZE without times (ftruncate and O_TRUNC
	 * add them); like ext4 and shmem, a size change stamps mtime/ctime.
	 */
	if ((attr->ia_valid & ATTR_SIZE) && !(attr->ia_valid & ATTR_MTIME) &&
	    attr->ia_size != i_size_read(inode)) {
		attr->ia_mtime = attr->ia_ctime = current_time(inode);
		attr->ia_valid |= ATTR_MTIME | ATTR_CTIME;
	}
	valid = attr->ia_valid;
	if (valid & ATTR_MODE) {
		kgid_t gid = (valid & ATTR_GID) ? attr->ia_gid : inode->i_gid;

		/* What setattr_copy() does locally, for the daemon too. */
		if (!in_group_p(gid) &&
		    !capable_wrt_inode_uidgid(mnt_userns, inode, CAP_FSETID))
			attr->ia_mode &= ~S_ISGID;
	}

	if (modalfs_setattr_defer(inode, valid)) {
		setattr_copy(mnt_userns, inode, attr);
		modalfs_setattr_pending(inode, valid);
		return 0;
	}

	if (valid & ATTR_SIZE) {
		/*
		 * In-flight WRITEs past the new size would grow the file again
		 * on the daemon after the SETATTR; flush them first.
		 */
		inode_dio_wait(inode);
		err = filemap_write_and_wait(inode->i_mapping);
		if (err)
			return err;
	}

	req = modalfs_new_req(inode->i_sb, MODALFS_OP_SETATTR, inode->i_ino,
			      256);
	if (IS_ERR(req))
		return PTR_ERR(req);
	msg = req->msg;
	err = -EMSGSIZE;
	nest = nla_nest_start(msg, MODALFS_A_SETATTR);
	if (!nest)
		goto out;
	/* The type never changes: SETATTR carries permission bits. */
	if ((valid & ATTR_MODE) &&
	    nla_put_u32(msg, MODALFS_ATTR_MODE, attr->ia_mode & S_IALLUGO))
		goto out;
	if ((valid & ATTR_UID) &&
	    nla_put_u32(msg, MODALFS_ATTR_UID,
			from_kuid(&init_user_ns, attr->ia_uid)))
		goto out;
	if ((valid & ATTR_GID) &&
	    nla_put_u32(msg, MODALFS_ATTR_GID,
			from_kgid(&init_user_ns, attr->ia_gid)))
		goto out;
	if ((valid & ATTR_SIZE) &&
	    nla_put_u64_64bit(msg, MODALFS_ATTR_SIZE, attr->ia_size,
			      MODALFS_ATTR_UNSPEC))
		goto out;
	if ((valid & ATTR_ATIME) &&
	    modalfs_put_ts(msg, MODALFS_ATTR_ATIME_SEC,
			   MODALFS_ATTR_ATIME_NSEC, &attr->ia_atime))
		goto out;
	if ((valid & ATTR_MTIME) &&
	    modalfs_put_ts(msg, MODALFS_ATTR_MTIME_SEC,
			   MODALFS_ATTR_MTIME_NSEC, &attr->ia_mtime))
		goto out;
	if ((valid & ATTR_CTIME) &&
	    modalfs_put_ts(msg, MODALFS_ATTR_CTIME_SEC,
			   MODALFS_ATTR_CTIME_NSEC, &attr->ia_ctime))
		goto out;
	nla_nest_end(msg, nest);

	req->exp.ino = inode->i_ino;
	req->exp.type = inode->i_mode & S_IFMT;
	err = modalfs_req_call(req);
	if (err)
		goto out;

	if ((valid & ATTR_SIZE) && attr->ia_size != i_size_read(inode))
		truncate_setsize(inode, attr->ia_size);
	setattr_copy(mnt_userns, inode, attr);
	modalfs_attr_changed(inode);
	/*
	 * Only a size change moves blocks; the flush above keeps the replies
	 * of earlier WRITEs, with older counts, from landing after this one.
	 */
	if (valid & ATTR_SIZE)
		modalfs_attr_blocks_to_inode(inode, req->tb[MODALFS_A_ATTR]);
out:
	modalfs_req_put(req);
	return err;
}

/*
 * A size change holds the mapping's invalidate lock from the flush to the
 * page-cache truncation, as ext4 does: page_mkwrite takes it too, so no
 * store through mmap can dirty a page past the new size in between, whose
 * WRITE would grow the file again on the daemon after the SETATTR.
 */
int modalfs_setattr(struct user_namespace *mnt_userns, struct dentry *dentry,
		    struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	int err;

	if (!(attr->ia_valid & ATTR_SIZE) || !S_ISREG(inode->i_mode))
		return modalfs_do_setattr(mnt_userns, dentry, attr);
	filemap_invalidate_lock(inode->i_mapping);
	err = modalfs_do_setattr(mnt_userns, dentry, attr);
	filemap_invalidate_unlock(inode->i_mapping);
	return err;
}

/*
 * An atime-only update is lazytime-style: the inode is only marked
 * I_DIRTY_TIME, so no read ever waits for the daemon. The atime reaches
 * it with the next write_inode for another reason (write_inode always
 * sends all three times), at sync/syncfs/umount, when the inode is
 * evicted, or after dirtytime_expire_seconds. relatime decisions are
 * made on the in-memory value, so stat() shows relatime semantics.
 */
int modalfs_update_time(struct inode *inode, struct timespec64 *time,
			int flags)
{
	int dirty = 0;

	/*
	 * generic_update_time(), with the count of unsent changes moved
	 * between the new values and the dirtying (modalfs_meta_changed).
	 */
	if (flags & S_ATIME)
		inode->i_atime = *time;
	if (flags & S_CTIME)
		inode->i_ctime = *time;
	if (flags & S_MTIME)
		inode->i_mtime = *time;
	if (flags & (S_ATIME | S_CTIME | S_MTIME)) {
		modalfs_meta_changed(inode);
		dirty = flags == S_ATIME ||
			(inode->i_sb->s_flags & SB_LAZYTIME) ?
			I_DIRTY_TIME : I_DIRTY_SYNC;
	}
	if ((flags & S_VERSION) && inode_maybe_inc_iversion(inode, false))
		dirty |= I_DIRTY_SYNC;
	if (dirty)
		__mark_inode_dirty(inode, dirty);
	return 0;
}

static const char *modalfs_get_link(struct dentry *dentry, struct inode *inode,
				    struct delayed_call *done)
{
	struct modalfs_inode_info *mi = MODALFS_I(inode);
	struct modalfs_req *req;
	const char *target;
	char *copy;
	int err;

	target = READ_ONCE(mi->link);
	if (target)
		return target;
	if (!dentry)
		return ERR_PTR(-ECHILD);

	req = modalfs_new_req(inode->i_sb, MODALFS_OP_READLINK, inode->i_ino, 0);
	if (IS_ERR(req))
		return ERR_CAST(req);
	err = modalfs_req_call(req);
	copy = err ? NULL : kstrdup(nla_data(req->tb[MODALFS_A_TARGET]),
				    GFP_KERNEL);
	modalfs_req_put(req);
	if (err)
		return ERR_PTR(err);
	if (!copy)
		return ERR_PTR(-ENOMEM);
	/* Targets never change, so the first answer is cached for good. */
	if (cmpxchg(&mi->link, NULL, copy) != NULL)
		kfree(copy);
	return mi->link;
}

const struct inode_operations modalfs_symlink_iops = {
	.get_link	= modalfs_get_link,
	.getattr	= modalfs_getattr,
	.setattr	= modalfs_setattr,
	.update_time	= modalfs_update_time,
	.listxattr	= modalfs_listxattr,
};

const struct inode_operations modalfs_special_iops = {
	.getattr	= modalfs_getattr,
	.setattr	= modalfs_setattr,
	.update_time	= modalfs_update_time,
	.listxattr	= modalfs_listxattr,
};
