// SPDX-License-Identifier: GPL-2.0
/*
 * Directory operations. Dentries, positive and negative, are trusted
 * without asking the daemon (this kernel writes the volume; NOTIFY
 * invalidates what modalfsctl changes) until the volume's invalidation
 * count moves on (modalfs_d_revalidate) or the volume is deleted. A
 * directory an op changed refetches its times from the daemon at the next stat, so stat()
 * shows what the daemon keeps. Readdir positions are the daemon's cookies.
 */
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/namei.h>
#include <linux/slab.h>

#include "modalfs_i.h"

static int modalfs_check_name(const struct qstr *name)
{
	if (name->len > MODALFS_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static struct modalfs_req *modalfs_dir_req(struct inode *dir, u32 op,
					   const struct qstr *name,
					   size_t extra)
{
	struct modalfs_req *req;

	req = modalfs_new_req(dir->i_sb, op, dir->i_ino, name->len + 8 + extra);
	if (IS_ERR(req))
		return req;
	if (modalfs_put_name(req->msg, MODALFS_A_NAME, name->name, name->len)) {
		modalfs_req_put(req);
		return ERR_PTR(-ENOMEM);
	}
	return req;
}

/*
 * A directory the daemon just changed: it stamped mtime/ctime with its own
 * clock, which is what stat() shows after a remount, so the next stat
 * with a daemon registered fetches them instead of showing a local guess
 * forever. The local stamp covers AT_STATX_DONT_SYNC callers and the
 * time without a daemon meanwhile.
 */
static void modalfs_dir_touch(struct inode *dir)
{
	dir->i_mtime = dir->i_ctime = current_time(dir);
	set_bit(MODALFS_I_REFRESH, &MODALFS_I(dir)->flags);
}

/*
 * The daemon's attributes of a directory that an op of this kernel just
 * changed (DIR_ATTR, NEW_DIR_ATTR; the reply check made sure they are
 * dir's): taken instead of a GETATTR at the next stat. The op holds
 * dir's i_rwsem, so no other op of this kernel changed dir meanwhile; a
 * GETATTR answered before is older and is dropped by attr_version
 * (modalfs_revalidate_inode). A STALE mark (NOTIFY) stays: the daemon
 * may have changed dir again after this op. Without them, today's
 * local stamp and refresh.
 */
static void modalfs_dir_apply(struct inode *dir, const struct nlattr *nest)
{
	struct modalfs_attr_val v;

	if (!nest || modalfs_attr_decode(nest, &v) || v.ino != dir->i_ino) {
		modalfs_dir_touch(dir);
		return;
	}
	spin_lock(&dir->i_lock);
	/* A directory being changed has links; 0 would be the daemon's bug. */
	if (v.nlink)
		set_nlink(dir, v.nlink);
	dir->i_mode = (dir->i_mode & S_IFMT) | (v.mode & ~S_IFMT);
	dir->i_uid = make_kuid(&init_user_ns, v.uid);
	dir->i_gid = make_kgid(&init_user_ns, v.gid);
	i_size_write(dir, v.size);
	dir->i_blocks = v.blocks;
	dir->i_mtime = v.mtime;
	dir->i_ctime = v.ctime;
	spin_unlock(&dir->i_lock);
	modalfs_attr_changed(dir);
	clear_bit(MODALFS_I_REFRESH, &MODALFS_I(dir)->flags);
}

/*
 * Link counts mirror what the daemon did, but the daemon may have changed
 * them on its own (a GETATTR after NOTIFY can say 0), so, as FUSE does,
 * never drop below 0 (drop_nlink WARNs and wraps) nor raise from 0
 * (inc_nlink WARNs unless I_LINKABLE) or past U32_MAX.
 */
static void modalfs_drop_nlink(struct inode *inode)
{
	if (inode->i_nlink > 0)
		drop_nlink(inode);
}

static void modalfs_inc_nlink(struct inode *inode)
{
	if (inode->i_nlink > 0 && inode->i_nlink < U32_MAX)
		inc_nlink(inode);
}

/*
 * The daemon does not stamp the ctime of an inode that is linked,
 * unlinked or renamed in the same way, so the kernel's ctime is sent to
 * it with the next write_inode.
 */
static void modalfs_ctime_now(struct inode *inode)
{
	inode->i_ctime = current_time(inode);
	if (inode->i_nlink) {
		modalfs_meta_changed(inode);
		mark_inode_dirty_sync(inode);
	}
}

/* The volume's invalidation count, sampled before asking the daemon. */
static unsigned long modalfs_inval_now(struct super_block *sb)
{
	return (unsigned int)atomic_read(&MODALFS_SB(sb)->conn->inval);
}

/*
 * Cached dentries, positive and negative, are trusted (this kernel writes
 * the volume; NOTIFY invalidates what others change) as long as d_time,
 * the invalidation count of the volume when the daemon last vouched for
 * the entry, is current. When a change the caches did not follow may
 * have happened (a caller killed while the daemon held its request),
 * the count moves on and each entry is checked with a LOOKUP at its next
 * use, as FUSE's d_revalidate does once an entry times out. A deleted
 * volume's walk falls through to lookup, which says ESTALE.
 */
static int modalfs_d_revalidate(struct dentry *dentry, unsigned int flags)
{
	struct name_snapshot name;
	struct modalfs_attr_val v;
	struct modalfs_req *req;
	struct dentry *parent;
	struct inode *inode;
	unsigned long seen;
	int err, ret;

	if (modalfs_sb_gone(dentry->d_sb))
		return 0;
	seen = modalfs_inval_now(dentry->d_sb);
	if (READ_ONCE(dentry->d_time) == seen)
		return 1;
	if (flags & LOOKUP_RCU)
		return -ECHILD;
	parent = dget_parent(dentry);
	take_dentry_name_snapshot(&name, dentry);
	req = modalfs_dir_req(d_inode(parent), MODALFS_OP_LOOKUP, &name.name, 0);
	release_dentry_name_snapshot(&name);
	dput(parent);
	if (IS_ERR(req))
		return PTR_ERR(req);
	err = modalfs_req_call_attr(req, &v);
	inode = d_inode(dentry);
	if (err == -ENOENT)
		ret = !inode;
	else if (err == -EINTR || err == -ERESTARTSYS || err == -ENOMEM)
		return err;
	else if (err)
		ret = 0;
	else
		ret = inode && inode->i_ino == v.ino &&
		      (inode->i_mode & S_IFMT) == (v.mode & S_IFMT);
	if (ret)
		WRITE_ONCE(dentry->d_time, seen);
	return ret;
}

/* Every dentry of the volume has these (sb->s_d_op). */
const struct dentry_operations modalfs_dentry_ops = {
	.d_revalidate	= modalfs_d_revalidate,
};

/*
 * The name is absent: a negative dentry, trusted like a positive one. A
 * NOTIFY that came while the answer was being made may have been about
 * this very name and found no dentry to drop: then this one is unhashed,
 * and the next walk asks again.
 */
static struct dentry *modalfs_lookup_negative(struct dentry *dentry,
					      unsigned long seen,
					      unsigned int epoch)
{
	struct dentry *res;

	dentry->d_time = seen;
	res = d_splice_alias(NULL, dentry);
	if (modalfs_dir_epoch(dentry->d_sb) != epoch)
		d_drop(dentry);
	return res;
}

static int modalfs_dir_fill(struct dentry *parent, const struct qstr *name,
			    struct modalfs_attr_val *v);

static struct dentry *modalfs_lookup(struct inode *dir, struct dentry *dentry,
				     unsigned int flags)
{
	struct modalfs_attr_val v;
	struct modalfs_req *req;
	struct inode *inode = NULL;
	struct dentry *res;
	unsigned long seen;
	unsigned int epoch;
	int err;

	if (modalfs_sb_gone(dir->i_sb))
		return ERR_PTR(-ESTALE);
	err = modalfs_check_name(&dentry->d_name);
	if (err)
		return ERR_PTR(err);
	seen = modalfs_inval_now(dir->i_sb);
	epoch = modalfs_dir_epoch(dir->i_sb);
	/* A complete directory knows every name it has (complete.c). */
	if (modalfs_dir_absent(dir, &dentry->d_name)) {
		modalfs_stats_avoided();
		return modalfs_lookup_negative(dentry, seen, epoch);
	}
	err = modalfs_dir_fill(dentry->d_parent, &dentry->d_name, &v);
	if (err == 0)
		return modalfs_lookup_negative(dentry, seen, epoch);
	if (err > 0)
		goto found;
	req = modalfs_dir_req(dir, MODALFS_OP_LOOKUP, &dentry->d_name, 0);
	if (IS_ERR(req))
		return ERR_CAST(req);
	err = modalfs_req_call_attr(req, &v);
	if (err == -ENOENT) {
		/* Listed by the complete directory, yet gone: distrust it. */
		if (modalfs_dir_complete(dir))
			modalfs_dir_forget(dir);
		return modalfs_lookup_negative(dentry, seen, epoch);
	}
	if (err)
		return ERR_PTR(err);
found:
	inode = modalfs_iget(dir->i_sb, &v, false);
	if (IS_ERR(inode))
		return ERR_CAST(inode);
	dentry->d_time = seen;
	res = d_splice_alias(inode, dentry);
	/* An alias moved here (a sub-path mount's root): vouched for now. */
	if (!IS_ERR_OR_NULL(res))
		WRITE_ONCE(res->d_time, seen);
	return res;
}

/* Owner and mode of a new inode, as inode_init_owner() would set them. */
static void modalfs_new_owner(struct inode *dir, umode_t *mode, u32 *uid,
			      u32 *gid)
{
	*uid = from_kuid(&init_user_ns, current_fsuid());
	if (dir->i_mode & S_ISGID) {
		*gid = from_kgid(&init_user_ns, dir->i_gid);
		if (S_ISDIR(*mode))
			*mode |= S_ISGID;
	} else {
		*gid = from_kgid(&init_user_ns, current_fsgid());
	}
}

/*
 * The request for a new inode named by dentry in dir: NAME, the owner and,
 * except for symlinks (always 0777), MODE. *mode gets the setgid bit a
 * setgid directory passes on to subdirectories; v, if not NULL, the
 * owner and mode (an asynchronous create makes the inode from them).
 */
static struct modalfs_req *modalfs_new_node_req(struct inode *dir, u32 op,
						struct dentry *dentry,
						umode_t *mode, size_t extra,
						struct modalfs_attr_val *v)
{
	struct modalfs_req *req;
	u32 uid, gid;
	int err;

	err = modalfs_check_name(&dentry->d_name);
	if (err)
		return ERR_PTR(err);
	modalfs_new_owner(dir, mode, &uid, &gid);
	if (v) {
		v->uid = uid;
		v->gid = gid;
		v->mode = *mode;
	}
	req = modalfs_dir_req(dir, op, &dentry->d_name, extra + 64);
	if (IS_ERR(req))
		return req;
	if ((op != MODALFS_OP_SYMLINK &&
	     nla_put_u32(req->msg, MODALFS_A_MODE, *mode)) ||
	    nla_put_u32(req->msg, MODALFS_A_UID, uid) ||
	    nla_put_u32(req->msg, MODALFS_A_GID, gid)) {
		modalfs_req_put(req);
		return ERR_PTR(-ENOMEM);
	}
	return req;
}

/* A new inode for dentry, as of the volume's invalidation count seen. */
static void modalfs_instantiate(struct dentry *dentry, struct inode *inode,
				unsigned long seen)
{
	dentry->d_time = seen;
	/* Not looked up first (modalfs_atomic_open): hash it too. */
	if (d_in_lookup(dentry))
		d_add(dentry, inode);
	else
		d_instantiate(dentry, inode);
}

/* Sends a create-like request and instantiates the new inode. */
static int modalfs_create_common(struct inode *dir, struct dentry *dentry,
				 struct modalfs_req *req, umode_t type)
{
	struct modalfs_attr_val v;
	struct inode *inode;
	unsigned long seen = modalfs_inval_now(dir->i_sb);
	unsigned int epoch = modalfs_dir_epoch(dir->i_sb);
	int err;

	req->exp.type = type;
	req->exp.dir_ino = dir->i_ino;
	err = modalfs_req_call(req);
	if (err) {
		modalfs_dir_op_failed(dir, &dentry->d_name, err);
		goto out;
	}
	err = modalfs_attr_decode(req->tb[MODALFS_A_ATTR], &v);
	if (err) {
		/* Done, but not as expected: the daemon knows better. */
		modalfs_dir_forget(dir);
		goto out;
	}
	modalfs_dir_add(dir, &dentry->d_name);
	inode = modalfs_iget(dir->i_sb, &v, true);
	if (IS_ERR(inode)) {
		err = PTR_ERR(inode);
		goto out;
	}
	if (S_ISDIR(type)) {
		modalfs_inc_nlink(dir);
		/* Empty, and nothing but this kernel changes it from now. */
		modalfs_dir_made(inode, epoch);
	}
	modalfs_dir_apply(dir, req->tb[MODALFS_A_DIR_ATTR]);
	modalfs_req_put(req);
	req = NULL;
	modalfs_instantiate(dentry, inode, seen);
	return 0;
out:
	modalfs_req_put(req);
	return err;
}

/*
 * A regular file or a directory (mode's type) created in a complete
 * directory (dirops.c): the kernel takes the inode number from its range,
 * makes the inode and the entry now, and queues the CREATE or MKDIR. A
 * new directory is complete and empty at once. When dir's own MKDIR is
 * still in flight, the request carries FENCE, so that the daemon runs it
 * after that MKDIR (protocol section 3b). -EAGAIN: create it
 * synchronously.
 */
static int modalfs_create_async(struct inode *dir, struct dentry *dentry,
				umode_t mode)
{
	unsigned long seen = modalfs_inval_now(dir->i_sb);
	unsigned int epoch = modalfs_dir_epoch(dir->i_sb);
	bool is_dir = S_ISDIR(mode);
	struct modalfs_attr_val v = { .nlink = is_dir ? 2 : 1 };
	struct modalfs_dirop *op;
	struct modalfs_req *req;
	struct inode *inode;
	int err;

	if (!modalfs_dirop_may_create_async(dir, &dentry->d_name))
		return -EAGAIN;
	op = modalfs_dirop_begin();
	if (!op)
		return -EAGAIN;
	err = modalfs_ino_take(dir->i_sb, &v.ino);
	/* A refill waited for the daemon: completeness may have ended. */
	if (!err && !modalfs_dirop_may_create_async(dir, &dentry->d_name))
		err = -EAGAIN;
	if (err)
		goto cancel;
	req = modalfs_new_node_req(dir, is_dir ? MODALFS_OP_MKDIR :
				   MODALFS_OP_CREATE, dentry, &mode, 128, &v);
	if (IS_ERR(req)) {
		err = PTR_ERR(req);
		goto cancel;
	}
	req->exp.ino = v.ino;
	req->exp.type = mode & S_IFMT;
	req->exp.dir_ino = dir->i_ino;
	v.atime = v.mtime = v.ctime = current_time(dir);
	if (modalfs_put_u64(req->msg, MODALFS_A_NODE_INO, v.ino) ||
	    nla_put_flag(req->msg, MODALFS_A_ASYNC) ||
	    (test_bit(MODALFS_I_CREATING, &MODALFS_I(dir)->flags) &&
	     nla_put_flag(req->msg, MODALFS_A_FENCE))) {
		err = -ENOMEM;
		goto put;
	}
	inode = modalfs_iget(dir->i_sb, &v, true);
	if (IS_ERR(inode)) {
		err = PTR_ERR(inode);
		goto put;
	}
	/* The daemon stamps the new inode with the kernel's times. */
	if (modalfs_put_inode_setattr(req->msg, inode, 0)) {
		iput(inode);
		err = -ENOMEM;
		goto put;
	}
	if (is_dir) {
		modalfs_inc_nlink(dir);
		modalfs_dir_made(inode, epoch);
	}
	modalfs_dirop_commit(op, dir, inode, req);
	modalfs_dir_add(dir, &dentry->d_name);
	modalfs_dir_touch(dir);
	modalfs_instantiate(dentry, inode, seen);
	return 0;
put:
	modalfs_req_put(req);
cancel:
	modalfs_dirop_cancel(op);
	return err;
}

static int modalfs_mknod(struct user_namespace *mnt_userns, struct inode *dir,
			 struct dentry *dentry, umode_t mode, dev_t rdev)
{
	struct modalfs_req *req;
	int err;

	switch (mode & S_IFMT) {
	case S_IFREG:
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFCHR:
	case S_IFBLK:
		break;
	default:
		return -EINVAL;
	}
	if (S_ISREG(mode)) {
		err = modalfs_create_async(dir, dentry, mode);
		if (err != -EAGAIN)
			return err;
	}
	req = modalfs_new_node_req(dir, MODALFS_OP_CREATE, dentry, &mode, 8,
				   NULL);
	if (IS_ERR(req))
		return PTR_ERR(req);
	if ((S_ISCHR(mode) || S_ISBLK(mode)) &&
	    nla_put_u32(req->msg, MODALFS_A_RDEV, new_encode_dev(rdev))) {
		modalfs_req_put(req);
		return -ENOMEM;
	}
	return modalfs_create_common(dir, dentry, req, mode & S_IFMT);
}

static int modalfs_create(struct user_namespace *mnt_userns, struct inode *dir,
			  struct dentry *dentry, umode_t mode, bool excl)
{
	return modalfs_mknod(mnt_userns, dir, dentry, (mode & ~S_IFMT) | S_IFREG,
			     0);
}

/*
 * O_CREAT|O_EXCL (tar, cp, mkstemp): the CREATE alone answers, EEXIST
 * included, without the LOOKUP the VFS would send before ->create. The
 * VFS checked the permission to create first (may_o_create); when that
 * failed it passes no O_CREAT, and the lookup below decides between
 * EEXIST and that error, as on any filesystem. Other opens look up, and
 * create if the name is still free, as FUSE's atomic_open does.
 */
static int modalfs_atomic_open(struct inode *dir, struct dentry *dentry,
			       struct file *file, unsigned int flags,
			       umode_t mode)
{
	struct dentry *res = NULL;
	int err;

	if ((flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL)) {
		if (d_in_lookup(dentry)) {
			res = modalfs_lookup(dir, dentry, 0);
			if (IS_ERR(res))
				return PTR_ERR(res);
			if (res)
				dentry = res;
		}
		if (!(flags & O_CREAT) || d_really_is_positive(dentry))
			return finish_no_open(file, res);
	}
	err = modalfs_create(&init_user_ns, dir, dentry, mode,
			     flags & O_EXCL);
	if (!err) {
		file->f_mode |= FMODE_CREATED;
		err = finish_open(file, dentry, NULL);
	}
	dput(res);
	return err;
}

static int modalfs_mkdir(struct user_namespace *mnt_userns, struct inode *dir,
			 struct dentry *dentry, umode_t mode)
{
	struct modalfs_req *req;

	int err;

	mode = (mode & ~S_IFMT) | S_IFDIR;
	err = modalfs_create_async(dir, dentry, mode);
	if (err != -EAGAIN)
		return err;
	req = modalfs_new_node_req(dir, MODALFS_OP_MKDIR, dentry, &mode, 0,
				   NULL);
	if (IS_ERR(req))
		return PTR_ERR(req);
	return modalfs_create_common(dir, dentry, req, S_IFDIR);
}

static int modalfs_symlink(struct user_namespace *mnt_userns, struct inode *dir,
			   struct dentry *dentry, const char *target)
{
	struct modalfs_req *req;
	size_t len = strlen(target);
	umode_t mode = S_IFLNK | 0777;
	char *copy;
	int err;

	req = modalfs_new_node_req(dir, MODALFS_OP_SYMLINK, dentry, &mode,
				   len + 8, NULL);
	if (IS_ERR(req))
		return PTR_ERR(req);
	if (len == 0 || len > MODALFS_SYMLINK_MAX) {
		modalfs_req_put(req);
		return -ENAMETOOLONG;
	}
	copy = kstrdup(target, GFP_KERNEL);
	if (!copy || nla_put_string(req->msg, MODALFS_A_TARGET, target)) {
		modalfs_req_put(req);
		kfree(copy);
		return -ENOMEM;
	}
	err = modalfs_create_common(dir, dentry, req, S_IFLNK);
	if (err) {
		kfree(copy);
		return err;
	}
	/* A brand-new inode: nobody else can have set its target yet. */
	if (cmpxchg(&MODALFS_I(d_inode(dentry))->link, NULL, copy) != NULL)
		kfree(copy);
	return 0;
}

static int modalfs_link(struct dentry *old, struct inode *dir,
			struct dentry *dentry)
{
	struct inode *inode = d_inode(old);
	struct modalfs_attr_val v;
	struct modalfs_req *req;
	unsigned long seen;
	int err;

	err = modalfs_check_name(&dentry->d_name);
	if (err)
		return err;
	req = modalfs_new_req(dir->i_sb, MODALFS_OP_LINK, inode->i_ino,
			      dentry->d_name.len + 64);
	if (IS_ERR(req))
		return PTR_ERR(req);
	if (modalfs_put_u64(req->msg, MODALFS_A_NEW_INO, dir->i_ino) ||
	    modalfs_put_name(req->msg, MODALFS_A_NEW_NAME, dentry->d_name.name,
			     dentry->d_name.len)) {
		modalfs_req_put(req);
		return -ENOMEM;
	}
	req->exp.ino = inode->i_ino;
	req->exp.type = inode->i_mode & S_IFMT;
	req->exp.dir_ino = dir->i_ino;
	seen = modalfs_inval_now(dir->i_sb);
	err = modalfs_req_call(req);
	if (err) {
		modalfs_dir_op_failed(dir, &dentry->d_name, err);
	} else {
		err = modalfs_attr_decode(req->tb[MODALFS_A_ATTR], &v);
		if (err)
			modalfs_dir_forget(dir);
	}
	if (err) {
		modalfs_req_put(req);
		return err;
	}
	modalfs_dir_add(dir, &dentry->d_name);
	/*
	 * The daemon counts the links (flufl.lock relies on st_nlink); the
	 * reply check guarantees at least one.
	 */
	set_nlink(inode, v.nlink);
	/* The reply's ctime is the link's own stamp. */
	inode->i_ctime = v.ctime;
	modalfs_dir_apply(dir, req->tb[MODALFS_A_DIR_ATTR]);
	modalfs_req_put(req);
	ihold(inode);
	dentry->d_time = seen;
	d_instantiate(dentry, inode);
	return 0;
}

static int modalfs_remove(struct inode *dir, struct dentry *dentry, u32 op)
{
	struct inode *inode = d_inode(dentry);
	struct modalfs_req *req;
	bool fence;
	int err;

	req = modalfs_dir_req(dir, op, &dentry->d_name, 0);
	if (IS_ERR(req))
		return PTR_ERR(req);
	req->exp.dir_ino = dir->i_ino;
	if (modalfs_dirop_may_async(dir) &&
	    modalfs_dirop_may_remove_async(inode, &fence) &&
	    !modalfs_dirop_send(dir, req, fence)) {
		/* Known to succeed (dirops.c); the reply only confirms. */
		req = NULL;
	} else {
		err = modalfs_req_call(req);
		if (err) {
			modalfs_dir_op_failed(dir, &dentry->d_name, err);
			/* ENOTEMPTY contradicts a set of the victim's. */
			if (op == MODALFS_OP_RMDIR)
				modalfs_dir_forget(inode);
			modalfs_req_put(req);
			return err;
		}
	}
	modalfs_dir_del(dir, &dentry->d_name);
	if (op == MODALFS_OP_RMDIR) {
		clear_nlink(inode);
		modalfs_drop_nlink(dir);
	} else {
		modalfs_drop_nlink(inode);
	}
	modalfs_ctime_now(inode);
	if (req) {
		modalfs_dir_apply(dir, req->tb[MODALFS_A_DIR_ATTR]);
		modalfs_req_put(req);
	} else {
		modalfs_dir_touch(dir);
	}
	return 0;
}

static int modalfs_unlink(struct inode *dir, struct dentry *dentry)
{
	return modalfs_remove(dir, dentry, MODALFS_OP_UNLINK);
}

static int modalfs_rmdir(struct inode *dir, struct dentry *dentry)
{
	return modalfs_remove(dir, dentry, MODALFS_OP_RMDIR);
}

static int modalfs_rename(struct user_namespace *mnt_userns,
			  struct inode *old_dir, struct dentry *old_dentry,
			  struct inode *new_dir, struct dentry *new_dentry,
			  unsigned int flags)
{
	struct inode *old = d_inode(old_dentry);
	struct inode *target = d_inode(new_dentry);
	struct modalfs_req *req;
	u32 wflags = 0;
	int err;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	err = modalfs_check_name(&new_dentry->d_name);
	if (err)
		return err;
	if (flags & RENAME_NOREPLACE)
		wflags |= MODALFS_RENAME_NOREPLACE;
	if (flags & RENAME_EXCHANGE)
		wflags |= MODALFS_RENAME_EXCHANGE;

	req = modalfs_dir_req(old_dir, MODALFS_OP_RENAME, &old_dentry->d_name,
			      new_dentry->d_name.len + 64);
	if (IS_ERR(req))
		return PTR_ERR(req);
	if (modalfs_put_u64(req->msg, MODALFS_A_NEW_INO, new_dir->i_ino) ||
	    modalfs_put_name(req->msg, MODALFS_A_NEW_NAME,
			     new_dentry->d_name.name, new_dentry->d_name.len) ||
	    (wflags && nla_put_u32(req->msg, MODALFS_A_FLAGS, wflags))) {
		modalfs_req_put(req);
		return -ENOMEM;
	}
	req->exp.dir_ino = old_dir->i_ino;
	req->exp.new_dir_ino = new_dir->i_ino;
	err = modalfs_req_call(req);
	if (err) {
		/* EEXIST (RENAME_NOREPLACE) is about the new name. */
		modalfs_dir_op_failed(new_dir, &new_dentry->d_name, err);
		if (new_dir != old_dir)
			modalfs_dir_op_failed(old_dir, &old_dentry->d_name, err);
		/* ENOTEMPTY contradicts a set of the replaced directory's. */
		if (d_really_is_positive(new_dentry) &&
		    S_ISDIR(d_inode(new_dentry)->i_mode))
			modalfs_dir_forget(d_inode(new_dentry));
		modalfs_req_put(req);
		return err;
	}
	if (flags & RENAME_EXCHANGE) {
		modalfs_dir_add(old_dir, &old_dentry->d_name);
	} else {
		modalfs_dir_del(old_dir, &old_dentry->d_name);
	}
	modalfs_dir_add(new_dir, &new_dentry->d_name);

	/* Mirror the link counts the daemon now has. */
	if (flags & RENAME_EXCHANGE) {
		if (old_dir != new_dir && target &&
		    S_ISDIR(old->i_mode) != S_ISDIR(target->i_mode)) {
			if (S_ISDIR(old->i_mode)) {
				modalfs_drop_nlink(old_dir);
				modalfs_inc_nlink(new_dir);
			} else {
				modalfs_drop_nlink(new_dir);
				modalfs_inc_nlink(old_dir);
			}
		}
		if (target)
			modalfs_ctime_now(target);
	} else {
		if (target) {
			if (S_ISDIR(target->i_mode)) {
				clear_nlink(target);
				modalfs_drop_nlink(new_dir);
			} else {
				modalfs_drop_nlink(target);
			}
			modalfs_ctime_now(target);
		}
		if (S_ISDIR(old->i_mode) && old_dir != new_dir) {
			modalfs_drop_nlink(old_dir);
			modalfs_inc_nlink(new_dir);
		}
	}
	modalfs_ctime_now(old);
	modalfs_dir_apply(old_dir, req->tb[MODALFS_A_DIR_ATTR]);
	if (new_dir != old_dir)
		modalfs_dir_apply(new_dir, req->tb[MODALFS_A_NEW_DIR_ATTR]);
	modalfs_req_put(req);
	return 0;
}

/*
 * Per open directory: the last READDIR reply, so that a getdents() whose
 * buffer fills up in the middle of a batch continues from it instead of
 * asking again. Positions are cookies (see modalfs_dir_pos_to_offset).
 */
struct modalfs_dir_file {
	struct mutex lock;
	struct modalfs_req *req;	/* cached reply, or NULL */
	u64 req_off;			/* the OFFSET it answered */
	u64 last;			/* cookie of its last entry */
	bool eof;
	/*
	 * The names of a walk from offset 0, batch after batch, which make
	 * the directory complete at EOF (complete.c); NULL when the walk
	 * skipped or repeated a batch, or the directory is complete already.
	 */
	struct modalfs_names *build;
	u64 build_version;		/* modalfs_dir_version() at its start */
	u64 build_next;			/* the OFFSET that continues it */
};

static void modalfs_dir_build_drop(struct modalfs_dir_file *df)
{
	modalfs_names_free(df->build);
	df->build = NULL;
}

static void modalfs_dir_drop(struct modalfs_dir_file *df)
{
	if (df->req)
		modalfs_req_put(df->req);
	df->req = NULL;
}

static int modalfs_dir_fetch(struct inode *dir, struct modalfs_dir_file *df,
			     u64 offset)
{
	struct modalfs_req *req;
	int err;

	modalfs_dir_drop(df);
	if (offset == 0) {
		modalfs_dir_build_drop(df);
		/* Sampled before asking: a change meanwhile voids the walk. */
		if (!modalfs_dir_complete(dir)) {
			df->build_version = modalfs_dir_version(dir);
			df->build = modalfs_names_new(
					modalfs_dir_epoch(dir->i_sb));
		}
	} else if (df->build && offset != df->build_next) {
		modalfs_dir_build_drop(df);
	}
	req = modalfs_new_req(dir->i_sb, MODALFS_OP_READDIR, dir->i_ino, 32);
	if (IS_ERR(req)) {
		modalfs_dir_build_drop(df);
		return PTR_ERR(req);
	}
	if (modalfs_put_u64(req->msg, MODALFS_A_OFFSET, offset) ||
	    nla_put_u32(req->msg, MODALFS_A_SIZE, MODALFS_READDIR_MAX)) {
		modalfs_req_put(req);
		return -ENOMEM;
	}
	req->exp.size = MODALFS_READDIR_MAX;
	req->exp.offset = offset;
	err = modalfs_req_call(req);
	if (err) {
		modalfs_dir_build_drop(df);
		modalfs_req_put(req);
		return err;
	}
	df->req = req;
	df->req_off = offset;
	df->eof = req->tb[MODALFS_A_EOF] != NULL;
	df->last = modalfs_dir_reply_last(req->head, req->len, offset);
	/* A reply with no entry and no EOF would loop forever. */
	if (!df->eof && df->last == offset) {
		modalfs_dir_build_drop(df);
		modalfs_dir_drop(df);
		return -EIO;
	}
	if (df->build) {
		if (modalfs_names_collect(df->build, req->head, req->len)) {
			modalfs_dir_build_drop(df);
		} else if (df->eof) {
			modalfs_dir_install(dir, df->build, df->build_version);
			df->build = NULL;
		} else {
			df->build_next = df->last;
		}
	}
	return 0;
}

/*
 * READDIRPLUS: the entries of a fresh batch that the dcache does not hold
 * get their dentry and inode now, as a LOOKUP of each name would give
 * them, so that a cold `ls -l`, `find` or `rm -r` sends no LOOKUP per
 * name (as nfs_prime_dcache and fuse_direntplus_link do). Names the dcache
 * has, negative or positive, keep their own revalidation. seen was
 * sampled before the READDIR was sent: a NOTIFY since then leaves these
 * dentries to be checked at their next use. The directory's lock is held
 * shared (iterate_shared), as d_alloc_parallel wants.
 */
static bool modalfs_dir_prime(struct dentry *parent, struct modalfs_req *req,
			      unsigned long seen, const struct qstr *want,
			      struct modalfs_attr_val *want_v)
{
	const struct nlattr *nla;
	bool found = false;
	int rem;

	nla_for_each_attr(nla, req->head, req->len, rem) {
		DECLARE_WAIT_QUEUE_HEAD_ONSTACK(wq);
		struct modalfs_dirent_val d;
		struct modalfs_attr_val v;
		struct dentry *dentry, *alias;
		struct inode *inode;
		struct qstr name;

		if (nla_type(nla) != MODALFS_A_DIRENT ||
		    modalfs_dirent_decode(nla, &d) || !d.attr ||
		    modalfs_attr_decode(d.attr, &v))
			continue;
		/*
		 * The name a lookup is listing the directory for: its
		 * dentry is in-lookup, and d_alloc_parallel would wait for it.
		 */
		if (want && want->len == d.namelen &&
		    !memcmp(want->name, d.name, d.namelen)) {
			*want_v = v;
			found = true;
			continue;
		}
		name.name = d.name;
		name.len = d.namelen;
		name.hash = full_name_hash(parent, name.name, name.len);
		dentry = d_lookup(parent, &name);
		if (dentry) {
			dput(dentry);
			continue;
		}
		dentry = d_alloc_parallel(parent, &name, &wq);
		if (IS_ERR(dentry))
			break;
		/* A lookup of the same name got there first. */
		if (!d_in_lookup(dentry)) {
			dput(dentry);
			continue;
		}
		inode = modalfs_iget(parent->d_sb, &v, false);
		if (IS_ERR(inode)) {
			d_lookup_done(dentry);
			dput(dentry);
			continue;
		}
		dentry->d_time = seen;
		alias = d_splice_alias(inode, dentry);
		d_lookup_done(dentry);
		if (!IS_ERR_OR_NULL(alias)) {
			WRITE_ONCE(alias->d_time, seen);
			dput(alias);
		}
		dput(dentry);
	}
	return found;
}

/*
 * Lookups list a directory (as NFS's readdirplus after lookups and
 * CephFS's complete-directory caps do), so that a cold `stat *`, `ls -l`
 * or `rm *` costs one request per batch of entries: the second LOOKUP
 * this kernel would send for a name of a directory lists it instead
 * with READDIRPLUS, up to MODALFS_FILL_BATCHES batches. The walk makes
 * the directory complete at EOF, and gives the listed names dentries,
 * as readdir does; the name being looked up is answered from its entry,
 * or is absent. The first LOOKUP stays one, so a path walk lists
 * nothing, and a directory too big to list in that many batches is
 * never listed by a lookup again while its inode is in memory. Mount
 * option nodirfill turns this off.
 *
 * The caller holds its own dentry in-lookup, and priming waits in
 * d_alloc_parallel for other names' lookups: two lookups listing one
 * directory could wait for each other, so a lookup that finds a listing
 * running sends its LOOKUP instead (MODALFS_I_FILLING is tried, never
 * waited for), and the listing skips its caller's name.
 *
 * 1 and *v: the name exists; 0: the directory is complete without it;
 * -EAGAIN: send a LOOKUP.
 */
#define MODALFS_FILL_AFTER	2
#define MODALFS_FILL_BATCHES	8
/* LOOKUPs per batch listed before a listing that failed is tried again. */
#define MODALFS_FILL_BACKOFF	32

static int modalfs_dir_fill(struct dentry *parent, const struct qstr *name,
			    struct modalfs_attr_val *v)
{
	struct inode *dir = d_inode(parent);
	struct modalfs_inode_info *mi = MODALFS_I(dir);
	struct modalfs_dir_file *df;
	unsigned int batches = 0;
	bool found = false;
	u64 off = 0;
	int ret = -EAGAIN;

	if (READ_ONCE(MODALFS_SB(dir->i_sb)->conn->nodirfill) ||
	    test_bit(MODALFS_I_NOFILL, &mi->flags) ||
	    atomic_inc_return(&mi->lookups) < MODALFS_FILL_AFTER ||
	    test_and_set_bit_lock(MODALFS_I_FILLING, &mi->flags))
		return -EAGAIN;
	df = kzalloc(sizeof(*df), GFP_KERNEL);
	if (!df)
		goto out;
	while (batches < MODALFS_FILL_BATCHES) {
		unsigned long seen = modalfs_inval_now(dir->i_sb);

		if (modalfs_dir_fetch(dir, df, off))
			break;
		batches++;
		found |= modalfs_dir_prime(parent, df->req, seen, name, v);
		if (df->eof)
			break;
		off = df->last;
	}
	if (found)
		ret = 1;
	else if (df->req && df->eof && modalfs_dir_absent(dir, name))
		ret = 0;
	if (df->req && !df->eof && batches == MODALFS_FILL_BATCHES)
		set_bit(MODALFS_I_NOFILL, &mi->flags);
	else if (ret < 0)
		atomic_set(&mi->lookups, -(int)(batches * MODALFS_FILL_BACKOFF));
	else
		atomic_set(&mi->lookups, 0);
	modalfs_stats_fill(batches);
	modalfs_dir_drop(df);
	modalfs_dir_build_drop(df);
	kfree(df);
out:
	clear_bit_unlock(MODALFS_I_FILLING, &mi->flags);
	return ret;
}

static int modalfs_readdir(struct file *file, struct dir_context *ctx)
{
	struct modalfs_dir_file *df = file->private_data;
	struct inode *dir = file_inode(file);
	int err = 0;

	if (modalfs_sb_gone(dir->i_sb))
		return -ESTALE;
	/* rewinddir() asks for a fresh listing. */
	if (ctx->pos == 0) {
		mutex_lock(&df->lock);
		modalfs_dir_drop(df);
		mutex_unlock(&df->lock);
	}
	if (!dir_emit_dots(file, ctx))
		return 0;
	mutex_lock(&df->lock);
	for (;;) {
		u64 off = modalfs_dir_pos_to_offset(ctx->pos);

		if (!df->req ||
		    !modalfs_dir_reply_covers(df->req_off, df->last, df->eof,
					      off)) {
			unsigned long seen = modalfs_inval_now(dir->i_sb);

			err = modalfs_dir_fetch(dir, df, off);
			if (err)
				break;
			modalfs_dir_prime(file->f_path.dentry, df->req, seen,
					  NULL, NULL);
		}
		err = modalfs_dir_emit_reply(ctx, df->req->head, df->req->len);
		if (err) {
			if (err > 0)	/* the caller's buffer is full */
				err = 0;
			break;
		}
		if (df->eof)
			break;
	}
	mutex_unlock(&df->lock);
	return err;
}

static int modalfs_dir_open(struct inode *inode, struct file *file)
{
	struct modalfs_dir_file *df;

	if (modalfs_sb_gone(inode->i_sb))
		return -ESTALE;
	df = kzalloc(sizeof(*df), GFP_KERNEL);
	if (!df)
		return -ENOMEM;
	mutex_init(&df->lock);
	file->private_data = df;
	return 0;
}

static int modalfs_dir_release(struct inode *inode, struct file *file)
{
	struct modalfs_dir_file *df = file->private_data;

	modalfs_dir_drop(df);
	modalfs_dir_build_drop(df);
	kfree(df);
	return 0;
}

/*
 * Any cookie is a valid position (generic_file_llseek would do, since
 * s_maxbytes is above every cookie, but a seek must also forget the
 * cached batch so that seekdir() sees the directory as it is now). A
 * directory has no meaningful end, so SEEK_END and the hole/data
 * whences are EINVAL, as on NFS.
 */
static loff_t modalfs_dir_llseek(struct file *file, loff_t offset, int whence)
{
	struct modalfs_dir_file *df = file->private_data;

	if (whence != SEEK_SET && whence != SEEK_CUR)
		return -EINVAL;
	if (whence == SEEK_SET || offset) {
		mutex_lock(&df->lock);
		modalfs_dir_drop(df);
		mutex_unlock(&df->lock);
	}
	return generic_file_llseek_size(file, offset, whence, S64_MAX,
					S64_MAX);
}

const struct inode_operations modalfs_dir_iops = {
	.lookup		= modalfs_lookup,
	.create		= modalfs_create,
	.atomic_open	= modalfs_atomic_open,
	.mkdir		= modalfs_mkdir,
	.mknod		= modalfs_mknod,
	.symlink	= modalfs_symlink,
	.link		= modalfs_link,
	.unlink		= modalfs_unlink,
	.rmdir		= modalfs_rmdir,
	.rename		= modalfs_rename,
	.getattr	= modalfs_getattr,
	.setattr	= modalfs_setattr,
	.update_time	= modalfs_update_time,
	.listxattr	= modalfs_listxattr,
};

const struct file_operations modalfs_dir_fops = {
	.open		= modalfs_dir_open,
	.release	= modalfs_dir_release,
	.llseek		= modalfs_dir_llseek,
	.read		= generic_read_dir,
	.iterate_shared	= modalfs_readdir,
	.fsync		= modalfs_fsync,
};
