// SPDX-License-Identifier: GPL-2.0
/*
 * Mounting: "mount -t modalfs NAME:/sub/dir MNT". All mounts of one volume
 * share one superblock (keyed by the daemon's volume id), hence one page
 * cache and one inode per file; a sub-path mount is just another root
 * dentry of that superblock.
 */
#include <linux/backing-dev.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/statfs.h>
#include <linux/wait_bit.h>
#include <linux/writeback.h>

#include "modalfs_i.h"

struct modalfs_fs_context {
	char vol[MODALFS_VOL_NAME_MAX + 1];
	char *path;
	bool soft;
	bool soft_set;			/* soft or hard was given */
	bool sync_dirops;
	bool sync_dirops_set;		/* sync_dirops or async_dirops given */
	bool nodirfill;
	bool nodirfill_set;		/* nodirfill or dirfill given */
	unsigned int timeo;		/* 0: not given */
};

/*
 * Mounted volumes, for NOTIFY. An entry leaves at the start of kill_sb;
 * the mutex keeps a notification from working on a superblock past that.
 */
static LIST_HEAD(modalfs_volumes);
static DEFINE_MUTEX(modalfs_volumes_lock);

static void modalfs_sbi_free(struct modalfs_sb_info *sbi)
{
	if (!sbi)
		return;
	modalfs_conn_put(sbi->conn);
	kfree(sbi);
}

struct modalfs_req *modalfs_new_req(struct super_block *sb, u32 op, u64 ino,
				    size_t payload)
{
	struct modalfs_req *req;

	req = modalfs_req_new(&modalfs_chan, op, payload + 64, GFP_NOFS);
	if (IS_ERR(req))
		return req;
	if (modalfs_put_u64(req->msg, MODALFS_A_VOL_ID, MODALFS_SB(sb)->vol_id) ||
	    (ino && modalfs_put_u64(req->msg, MODALFS_A_INO, ino))) {
		modalfs_req_put(req);
		return ERR_PTR(-ENOMEM);
	}
	req->ino = ino;
	modalfs_req_set_conn(req, MODALFS_SB(sb)->conn);
	return req;
}

/*
 * umount(8) and df call statfs on the way; with no daemon registered they
 * get the last answer (or zeros) instead of waiting for one.
 */
static int modalfs_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct super_block *sb = dentry->d_sb;
	struct modalfs_sb_info *sbi = MODALFS_SB(sb);
	struct modalfs_statfs_val v;
	struct modalfs_req *req;
	int err;

	if (modalfs_chan_connected(&modalfs_chan)) {
		req = modalfs_new_req(sb, MODALFS_OP_STATFS, 0, 0);
		if (IS_ERR(req))
			return PTR_ERR(req);
		err = modalfs_req_call(req);
		if (!err)
			err = modalfs_statfs_decode(req->tb[MODALFS_A_STATFS], &v);
		modalfs_req_put(req);
		if (err)
			return err;
		spin_lock(&sbi->lock);
		sbi->statfs = v;
		spin_unlock(&sbi->lock);
	} else {
		spin_lock(&sbi->lock);
		v = sbi->statfs;
		spin_unlock(&sbi->lock);
	}
	buf->f_type = MODALFS_MAGIC;
	buf->f_bsize = v.bsize ? v.bsize : PAGE_SIZE;
	buf->f_frsize = buf->f_bsize;
	buf->f_blocks = v.blocks;
	buf->f_bfree = v.bfree;
	buf->f_bavail = v.bavail;
	buf->f_files = v.files;
	buf->f_ffree = v.ffree;
	buf->f_namelen = v.namelen ? v.namelen : MODALFS_NAME_MAX;
	buf->f_fsid = u64_to_fsid(sbi->vol_id);
	return 0;
}

static void modalfs_evict_inode(struct inode *inode)
{
	struct modalfs_req *req;

	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	modalfs_dir_evict(inode);
	if (inode->i_nlink || is_bad_inode(inode))
		return;
	if (modalfs_evict_queue(inode->i_sb, inode->i_ino))
		return;
	/* Never waits: eviction must not depend on the daemon being up. */
	req = modalfs_new_req(inode->i_sb, MODALFS_OP_EVICT, inode->i_ino, 0);
	if (!IS_ERR(req))
		modalfs_req_async(req, NULL, NULL);
}

/*
 * How long a caller waits for a daemon to register: timeo on a soft
 * mount, for ever (until a signal) on a hard one.
 */
static long modalfs_daemon_wait_jiffies(struct super_block *sb)
{
	struct modalfs_conn *conn = MODALFS_SB(sb)->conn;

	return conn->soft ? (long)conn->timeo * HZ : 0;
}

/*
 * sync(2) and syncfs(2): data was written back before this runs, but not
 * the times (write_inode defers them so that no synchronous SETATTR holds
 * up the next inode's WRITEs): a second pass sends those, now that
 * wait_sb_inodes has waited for every page. Then make the volume
 * durable. With no daemon registered, what the dead one acknowledged may
 * not be durable: wait (interruptibly) for the next one first. Unmounting
 * waits for a daemon in kill_sb instead.
 */
static int modalfs_sync_fs(struct super_block *sb, int wait)
{
	struct modalfs_req *req;
	int err;

	if (!wait)
		return 0;
	if (!modalfs_chan_connected(&modalfs_chan)) {
		/* Unmounting: no inode may stay referenced (meta.c). */
		if (READ_ONCE(MODALFS_SB(sb)->dying)) {
			modalfs_meta_wait(sb);
			return 0;
		}
		err = modalfs_chan_wait_daemon(&modalfs_chan,
					       modalfs_daemon_wait_jiffies(sb));
		if (err)
			return err == -ETIMEDOUT ? -EIO : err;
	}
	err = modalfs_meta_sync(sb);
	if (err)
		return err;
	req = modalfs_new_req(sb, MODALFS_OP_FSYNC, MODALFS_ROOT_INO, 0);
	if (IS_ERR(req))
		return PTR_ERR(req);
	err = modalfs_req_call(req);
	modalfs_req_put(req);
	return err;
}

static int modalfs_show_options(struct seq_file *m, struct dentry *root)
{
	struct modalfs_conn *conn = MODALFS_SB(root->d_sb)->conn;

	seq_printf(m, ",%s,timeo=%u", conn->soft ? "soft" : "hard",
		   conn->timeo);
	if (READ_ONCE(conn->sync_dirops))
		seq_puts(m, ",sync_dirops");
	if (READ_ONCE(conn->nodirfill))
		seq_puts(m, ",nodirfill");
	return 0;
}

/*
 * umount -f. It runs before the VFS checks whether the mount is busy, and
 * every mount of the volume shares this superblock: while other mounts
 * exist, only the requests waiting now fail with EIO (as NFS kills its
 * RPCs), so stuck callers are freed but the volume keeps working for the
 * other mounts. The last mount aborts the volume as FUSE does: its
 * requests fail with EIO from now on.
 */
static void modalfs_umount_begin(struct super_block *sb)
{
	struct modalfs_sb_info *sbi = MODALFS_SB(sb);
	unsigned int n;

	if (atomic_read(&sb->s_active) > 1) {
		n = modalfs_conn_fail_waiting(&modalfs_chan, sbi->conn, -EIO);
		pr_info("modalfs: forced unmount of a mount of volume %s, which other mounts share: %u waiting requests failed with EIO\n",
			sbi->vol_name, n);
		return;
	}
	n = modalfs_conn_fail(&modalfs_chan, sbi->conn, -EIO);
	pr_info("modalfs: forced unmount of volume %s: connection aborted, %u waiting requests failed with EIO\n",
		sbi->vol_name, n);
}

static const struct super_operations modalfs_sops = {
	.alloc_inode	= modalfs_alloc_inode,
	.free_inode	= modalfs_free_inode,
	.write_inode	= modalfs_write_inode,
	.evict_inode	= modalfs_evict_inode,
	.sync_fs	= modalfs_sync_fs,
	.statfs		= modalfs_statfs,
	.show_options	= modalfs_show_options,
	.umount_begin	= modalfs_umount_begin,
};

static int modalfs_test_super(struct super_block *sb, struct fs_context *fc)
{
	struct modalfs_sb_info *want = fc->s_fs_info;

	return MODALFS_SB(sb)->vol_id == want->vol_id;
}

static int modalfs_set_super(struct super_block *sb, struct fs_context *fc)
{
	return set_anon_super_fc(sb, fc);
}

static int modalfs_getattr_ino(struct super_block *sb, u64 ino,
			       struct modalfs_attr_val *v)
{
	struct modalfs_req *req;

	req = modalfs_new_req(sb, MODALFS_OP_GETATTR, ino, 0);
	if (IS_ERR(req))
		return PTR_ERR(req);
	req->exp.ino = ino;
	return modalfs_req_call_attr(req, v);
}

static int modalfs_fill_super(struct super_block *sb,
			      const struct modalfs_attr_val *mnt)
{
	struct modalfs_attr_val rootv;
	struct inode *root;
	int err;

	sb->s_op = &modalfs_sops;
	/* Every dentry, the roots of sub-path mounts included. */
	sb->s_d_op = &modalfs_dentry_ops;
	sb->s_xattr = modalfs_xattr_handlers;
	/*
	 * Lets the VFS remember per inode that there is no security.*
	 * xattr to strip (S_NOSEC), instead of a GETXATTR on every write.
	 */
	sb->s_flags |= SB_NOSEC;
	sb->s_magic = MODALFS_MAGIC;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_time_gran = 1;

	/* Our own bdi: the default one does no writeback accounting. */
	err = super_setup_bdi(sb);
	if (err)
		return err;
	/*
	 * Readahead of 4 MiB = 4 READs of MODALFS_IO_MAX (1 MiB) in flight,
	 * as NFS with rsize=1M or FUSE with max_pages=256 would: enough to
	 * keep the daemon busy while the reader copies the previous window.
	 */
	sb->s_bdi->ra_pages = MODALFS_RA_BYTES / PAGE_SIZE;
	sb->s_bdi->io_pages = MODALFS_IO_MAX / PAGE_SIZE;
	/*
	 * As fuse_bdi_init: the daemon, not a disk, cleans our pages, and
	 * it may be gone or stuck. Without a per-bdi limit, writers could
	 * fill all of the global dirty allowance (and memory, with WRITEs
	 * waiting for it); strictlimit holds this volume to its own share.
	 * That share is 10% of the dirty threshold, not FUSE's 1%: with 1%
	 * every bulk write past a few MiB is paced by the bdi's bandwidth
	 * estimate, which small fsynced writes (SQLite) or one slow write
	 * leave at a few hundred kB/s, and the pacing keeps it there
	 * (Documentation/storage.md). Our daemon is root's, like an NFS
	 * server, not an unprivileged user's.
	 */
	sb->s_bdi->capabilities |= BDI_CAP_STRICTLIMIT;
	err = bdi_set_max_ratio(sb->s_bdi, MODALFS_BDI_MAX_RATIO);
	if (err)
		return err;

	if (mnt->ino == MODALFS_ROOT_INO) {
		rootv = *mnt;
	} else {
		err = modalfs_getattr_ino(sb, MODALFS_ROOT_INO, &rootv);
		if (err)
			return err;
	}
	if (!S_ISDIR(rootv.mode))
		return -EIO;
	root = modalfs_iget(sb, &rootv, false);
	if (IS_ERR(root))
		return PTR_ERR(root);
	sb->s_root = d_make_root(root);
	if (!sb->s_root)
		return -ENOMEM;
	return 0;
}

/* ---- /sys/fs/modalfs/volumes/<VOL_ID>/{name,waiting,abort} ---- */

static struct kobject *modalfs_sysfs_root;
static struct kobject *modalfs_sysfs_volumes;

struct modalfs_vol_kobj {
	struct kobject kobj;
	struct modalfs_conn *conn;
	char name[MODALFS_VOL_NAME_MAX + 1];
};

static struct modalfs_vol_kobj *to_vol_kobj(struct kobject *kobj)
{
	return container_of(kobj, struct modalfs_vol_kobj, kobj);
}

static ssize_t name_show(struct kobject *kobj, struct kobj_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n", to_vol_kobj(kobj)->name);
}

static ssize_t waiting_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	struct modalfs_conn *conn = to_vol_kobj(kobj)->conn;
	int n;

	spin_lock(&modalfs_chan.lock);
	n = conn->waiting;
	spin_unlock(&modalfs_chan.lock);
	return sysfs_emit(buf, "%d\n", n);
}

static ssize_t abort_store(struct kobject *kobj, struct kobj_attribute *attr,
			   const char *buf, size_t count)
{
	struct modalfs_vol_kobj *vk = to_vol_kobj(kobj);
	unsigned int v, n;

	if (kstrtouint(buf, 10, &v) || v != 1)
		return -EINVAL;
	n = modalfs_conn_fail(&modalfs_chan, vk->conn, -EIO);
	pr_info("modalfs: volume %s aborted through sysfs; %u waiting requests failed with EIO\n",
		vk->name, n);
	return count;
}

static struct kobj_attribute modalfs_name_attr = __ATTR_RO(name);
static struct kobj_attribute modalfs_waiting_attr = __ATTR(waiting, 0400,
							   waiting_show, NULL);
static struct kobj_attribute modalfs_abort_attr = __ATTR(abort, 0200, NULL,
							 abort_store);

static struct attribute *modalfs_vol_attrs[] = {
	&modalfs_name_attr.attr,
	&modalfs_waiting_attr.attr,
	&modalfs_abort_attr.attr,
	NULL,
};
ATTRIBUTE_GROUPS(modalfs_vol);

static void modalfs_vol_release(struct kobject *kobj)
{
	struct modalfs_vol_kobj *vk = to_vol_kobj(kobj);

	modalfs_conn_put(vk->conn);
	kfree(vk);
}

static struct kobj_type modalfs_vol_ktype = {
	.release	= modalfs_vol_release,
	.sysfs_ops	= &kobj_sysfs_ops,
	.default_groups	= modalfs_vol_groups,
};

/* A new superblock: visible to NOTIFY and in sysfs. */
static void modalfs_volume_add(struct super_block *sb)
{
	struct modalfs_sb_info *sbi = MODALFS_SB(sb);
	struct modalfs_vol_kobj *vk;

	sbi->sb = sb;
	mutex_lock(&modalfs_volumes_lock);
	list_add(&sbi->vol_node, &modalfs_volumes);
	mutex_unlock(&modalfs_volumes_lock);

	vk = kzalloc(sizeof(*vk), GFP_KERNEL);
	if (!vk)
		goto fail;
	modalfs_conn_get(sbi->conn);
	vk->conn = sbi->conn;
	strscpy(vk->name, sbi->vol_name, sizeof(vk->name));
	if (kobject_init_and_add(&vk->kobj, &modalfs_vol_ktype,
				 modalfs_sysfs_volumes, "%llu", sbi->vol_id)) {
		kobject_put(&vk->kobj);
		goto fail;
	}
	sbi->kobj = &vk->kobj;
	return;
fail:
	/* The mount works without its control files. */
	pr_warn("modalfs: no sysfs directory for volume %s\n", sbi->vol_name);
}

static void modalfs_volume_del(struct modalfs_sb_info *sbi)
{
	mutex_lock(&modalfs_volumes_lock);
	list_del_init(&sbi->vol_node);
	mutex_unlock(&modalfs_volumes_lock);
	if (sbi->kobj) {
		/* No show/store runs after this returns. */
		kobject_del(sbi->kobj);
		kobject_put(sbi->kobj);
		sbi->kobj = NULL;
	}
}

int modalfs_notify_volume(u64 vol_id, u32 what, u64 ino, const char *name,
			  size_t len)
{
	struct modalfs_sb_info *sbi;

	mutex_lock(&modalfs_volumes_lock);
	list_for_each_entry(sbi, &modalfs_volumes, vol_node) {
		if (sbi->vol_id == vol_id) {
			modalfs_notify_sb(sbi->sb, what, ino, name, len);
			break;
		}
	}
	mutex_unlock(&modalfs_volumes_lock);
	return 0;
}

int modalfs_sysfs_init(void)
{
	modalfs_sysfs_root = kobject_create_and_add("modalfs", fs_kobj);
	if (!modalfs_sysfs_root)
		return -ENOMEM;
	modalfs_sysfs_volumes = kobject_create_and_add("volumes",
						       modalfs_sysfs_root);
	if (!modalfs_sysfs_volumes) {
		kobject_put(modalfs_sysfs_root);
		return -ENOMEM;
	}
	return 0;
}

void modalfs_sysfs_exit(void)
{
	kobject_put(modalfs_sysfs_volumes);
	kobject_put(modalfs_sysfs_root);
}

static int modalfs_get_tree(struct fs_context *fc)
{
	struct modalfs_fs_context *ctx = fc->fs_private;
	struct modalfs_attr_val v;
	struct modalfs_sb_info *sbi;
	struct modalfs_conn *have;
	struct modalfs_req *req;
	struct super_block *sb;
	struct dentry *root;
	struct inode *inode;
	int err;

	if (!ctx->path)
		return invalfc(fc, "no source given; use VOLUME:/path");
	if (!modalfs_chan_connected(&modalfs_chan)) {
		errorfc(fc, "cannot mount %s: no modalfsd is registered",
			ctx->vol);
		return -ECONNREFUSED;
	}

	/* Freed by modalfs_free_fc unless a new superblock takes it. */
	sbi = kzalloc(sizeof(*sbi), GFP_KERNEL);
	if (!sbi)
		return -ENOMEM;
	fc->s_fs_info = sbi;
	spin_lock_init(&sbi->lock);
	modalfs_evict_init(sbi);
	modalfs_meta_init(sbi);
	INIT_LIST_HEAD(&sbi->vol_node);
	strscpy(sbi->vol_name, ctx->vol, sizeof(sbi->vol_name));
	sbi->conn = modalfs_conn_new(0, ctx->soft, ctx->timeo ? ctx->timeo :
				     MODALFS_TIMEO_DEFAULT);
	if (!sbi->conn)
		return -ENOMEM;
	sbi->conn->sync_dirops = ctx->sync_dirops;
	sbi->conn->nodirfill = ctx->nodirfill;

	req = modalfs_req_new(&modalfs_chan, MODALFS_OP_MOUNT,
			      strlen(ctx->path) + 128, GFP_KERNEL);
	if (IS_ERR(req))
		return PTR_ERR(req);
	/* A soft mount gives up on an unresponsive daemon here too. */
	modalfs_req_set_conn(req, sbi->conn);
	if (nla_put_string(req->msg, MODALFS_A_VOL_NAME, ctx->vol) ||
	    nla_put_string(req->msg, MODALFS_A_PATH, ctx->path)) {
		modalfs_req_put(req);
		return -ENOMEM;
	}
	req->exp.type = S_IFDIR;
	err = modalfs_req_call(req);
	if (!err) {
		sbi->vol_id = nla_get_u64(req->tb[MODALFS_A_VOL_ID]);
		sbi->conn->vol_id = sbi->vol_id;
		err = modalfs_attr_decode(req->tb[MODALFS_A_ATTR], &v);
	}
	modalfs_req_put(req);
	if (err == -ENOENT) {
		errorfc(fc, "cannot mount %s:%s: no such volume or path",
			ctx->vol, ctx->path);
		return err;
	} else if (err == -ENOTDIR) {
		errorfc(fc, "cannot mount %s:%s: not a directory", ctx->vol,
			ctx->path);
		return err;
	} else if (err) {
		errorfc(fc, "cannot mount %s: error %d", ctx->vol, err);
		return err;
	}

	sb = sget_fc(fc, modalfs_test_super, modalfs_set_super);
	if (IS_ERR(sb))
		return PTR_ERR(sb);
	if (!sb->s_root) {
		err = modalfs_fill_super(sb, &v);
		if (err) {
			deactivate_locked_super(sb);
			return err;
		}
		sb->s_flags |= SB_ACTIVE;
		modalfs_volume_add(sb);
	} else {
		/* One superblock per volume, so one set of options. */
		have = MODALFS_SB(sb)->conn;
		if (have->soft != ctx->soft ||
		    (ctx->timeo && ctx->timeo != have->timeo) ||
		    (ctx->sync_dirops_set &&
		     ctx->sync_dirops != READ_ONCE(have->sync_dirops)) ||
		    (ctx->nodirfill_set &&
		     ctx->nodirfill != READ_ONCE(have->nodirfill))) {
			errorfc(fc, "volume %s is already mounted with options %s,timeo=%u,%s,%s",
				ctx->vol, have->soft ? "soft" : "hard",
				have->timeo, READ_ONCE(have->sync_dirops) ?
				"sync_dirops" : "async_dirops",
				READ_ONCE(have->nodirfill) ? "nodirfill" :
				"dirfill");
			deactivate_locked_super(sb);
			return -EBUSY;
		}
		if (READ_ONCE(have->aborted) || READ_ONCE(have->gone)) {
			errorfc(fc, "volume %s is still mounted with an aborted connection; unmount it first",
				ctx->vol);
			deactivate_locked_super(sb);
			return -EBUSY;
		}
	}

	if (v.ino == MODALFS_ROOT_INO) {
		root = dget(sb->s_root);
	} else {
		inode = modalfs_iget(sb, &v, false);
		if (IS_ERR(inode)) {
			deactivate_locked_super(sb);
			return PTR_ERR(inode);
		}
		if (!S_ISDIR(inode->i_mode)) {
			iput(inode);
			deactivate_locked_super(sb);
			return -ENOTDIR;
		}
		/* Joins an already connected dentry of that directory if any. */
		root = d_obtain_root(inode);
		if (IS_ERR(root)) {
			deactivate_locked_super(sb);
			return PTR_ERR(root);
		}
	}
	fc->root = root;
	return 0;
}

enum { Opt_soft, Opt_hard, Opt_timeo, Opt_sync_dirops, Opt_async_dirops,
	Opt_dirfill, Opt_nodirfill };

/* Documented in mount.modalfs(8). */
static const struct fs_parameter_spec modalfs_fs_params[] = {
	fsparam_flag("soft", Opt_soft),
	fsparam_flag("hard", Opt_hard),
	fsparam_u32("timeo", Opt_timeo),
	fsparam_flag("sync_dirops", Opt_sync_dirops),
	fsparam_flag("async_dirops", Opt_async_dirops),
	fsparam_flag("dirfill", Opt_dirfill),
	fsparam_flag("nodirfill", Opt_nodirfill),
	{}
};

static int modalfs_parse_param(struct fs_context *fc,
			       struct fs_parameter *param)
{
	struct modalfs_fs_context *ctx = fc->fs_private;
	struct fs_parse_result result;
	const char *path;
	int err;

	if (strcmp(param->key, "source") == 0) {
		if (param->type != fs_value_is_string)
			return invalfc(fc, "source must be a string");
		if (fc->source)
			return invalfc(fc, "only one source allowed");
		err = modalfs_parse_source(param->string, ctx->vol,
					   sizeof(ctx->vol), &path);
		if (err)
			return invalfc(fc, "bad source '%s': expected VOLUME:/path with VOLUME matching [A-Za-z0-9._-]{1,64} and path components of 1..255 bytes",
				       param->string);
		ctx->path = kstrdup(path, GFP_KERNEL);
		if (!ctx->path)
			return -ENOMEM;
		fc->source = param->string;
		param->string = NULL;
		return 0;
	}
	err = fs_parse(fc, modalfs_fs_params, param, &result);
	if (err == -ENOPARAM)
		return invalfc(fc, "unknown option '%s'", param->key);
	if (err < 0)
		return err;
	switch (err) {
	case Opt_soft:
		ctx->soft = true;
		ctx->soft_set = true;
		break;
	case Opt_hard:
		ctx->soft = false;
		ctx->soft_set = true;
		break;
	case Opt_sync_dirops:
	case Opt_async_dirops:
		ctx->sync_dirops = err == Opt_sync_dirops;
		ctx->sync_dirops_set = true;
		break;
	case Opt_dirfill:
	case Opt_nodirfill:
		ctx->nodirfill = err == Opt_nodirfill;
		ctx->nodirfill_set = true;
		break;
	case Opt_timeo:
		if (result.uint_32 < 1 || result.uint_32 > MODALFS_TIMEO_MAX)
			return invalfc(fc, "timeo=%u out of range 1..%d (seconds)",
				       result.uint_32, MODALFS_TIMEO_MAX);
		ctx->timeo = result.uint_32;
		break;
	}
	return 0;
}

static void modalfs_free_fc(struct fs_context *fc)
{
	struct modalfs_fs_context *ctx = fc->fs_private;

	if (ctx) {
		kfree(ctx->path);
		kfree(ctx);
	}
	modalfs_sbi_free(fc->s_fs_info);
}

/*
 * remount: soft, hard and timeo live in the volume's connection, which
 * requests already carry, so they cannot change; repeating them is fine.
 * sync_dirops and async_dirops may be switched, and so may dirfill and
 * nodirfill.
 */
static int modalfs_reconfigure(struct fs_context *fc)
{
	struct modalfs_fs_context *ctx = fc->fs_private;
	struct modalfs_conn *conn = MODALFS_SB(fc->root->d_sb)->conn;

	if ((ctx->soft_set && ctx->soft != conn->soft) ||
	    (ctx->timeo && ctx->timeo != conn->timeo))
		return invalfc(fc, "soft, hard and timeo cannot be changed by remount");
	/* Checked per operation, so it may change at any time. */
	if (ctx->sync_dirops_set)
		WRITE_ONCE(conn->sync_dirops, ctx->sync_dirops);
	if (ctx->nodirfill_set)
		WRITE_ONCE(conn->nodirfill, ctx->nodirfill);
	return 0;
}

static const struct fs_context_operations modalfs_context_ops = {
	.free		= modalfs_free_fc,
	.parse_param	= modalfs_parse_param,
	.get_tree	= modalfs_get_tree,
	.reconfigure	= modalfs_reconfigure,
};

static int modalfs_init_fs_context(struct fs_context *fc)
{
	struct modalfs_fs_context *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	fc->fs_private = ctx;
	fc->ops = &modalfs_context_ops;
	return 0;
}

static void modalfs_kill_sb(struct super_block *sb)
{
	struct modalfs_sb_info *sbi = MODALFS_SB(sb);
	struct modalfs_req *req;

	if (sbi) {
		modalfs_volume_del(sbi);
		WRITE_ONCE(sbi->dying, true);
		/*
		 * The last unmount during a daemon restart (a container
		 * exiting, say): nobody answers writeback, and the teardown
		 * must not wait for that (umount -l, exiting tasks). Each
		 * WRITE's message holds a copy of its data, so the volume's
		 * WRITEs, queued or still to come from sync_filesystem(), are
		 * detached from the superblock instead: their pages are done
		 * now and the messages wait in the table for the next daemon,
		 * as the times, EVICTs and UMOUNT do.
		 */
		if (!modalfs_chan_connected(&modalfs_chan) &&
		    !READ_ONCE(sbi->conn->aborted) &&
		    !READ_ONCE(sbi->conn->gone)) {
			unsigned int n = modalfs_conn_detach(&modalfs_chan,
							     sbi->conn);

			pr_warn("modalfs: volume %s unmounted while no modalfsd is registered; its unwritten changes (%u so far) wait for the next one\n",
				sbi->vol_name, n);
		}
		/* They hold references to directories. */
		modalfs_dirops_drain(sb);
		/* Their replies use sbi. */
		modalfs_evict_drain(sbi);
	}
	kill_anon_super(sb);
	if (!sbi)
		return;
	/*
	 * Asynchronous and outside the volume's (maybe aborted) connection:
	 * unmount must work with the daemon gone, and a daemon that comes
	 * back must still learn that the volume is no longer mounted.
	 */
	req = modalfs_req_new(&modalfs_chan, MODALFS_OP_UMOUNT, 64, GFP_KERNEL);
	if (!IS_ERR(req)) {
		if (modalfs_put_u64(req->msg, MODALFS_A_VOL_ID, sbi->vol_id))
			modalfs_req_put(req);
		else
			modalfs_req_async(req, NULL, NULL);
	}
	modalfs_sbi_free(sbi);
}

struct file_system_type modalfs_fs_type = {
	.owner			= THIS_MODULE,
	.name			= "modalfs",
	.init_fs_context	= modalfs_init_fs_context,
	.parameters		= modalfs_fs_params,
	.kill_sb		= modalfs_kill_sb,
};
MODULE_ALIAS_FS("modalfs");
