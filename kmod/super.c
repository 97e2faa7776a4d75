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
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/statfs.h>
#include <linux/writeback.h>

#include "modalfs_i.h"

struct modalfs_fs_context {
	char vol[MODALFS_VOL_NAME_MAX + 1];
	char *path;
};

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

/*
 * The kernel is the only writer of a volume for now, so cached attributes
 * are authoritative; only the timestamps dirtied by writes need sending.
 * Size needs no SETATTR: writeback stops at i_size and truncation is sent
 * synchronously by setattr.
 */
static int modalfs_write_inode(struct inode *inode,
			       struct writeback_control *wbc)
{
	struct modalfs_req *req;
	struct nlattr *nest;
	int err;

	req = modalfs_new_req(inode->i_sb, MODALFS_OP_SETATTR, inode->i_ino,
			      128);
	if (IS_ERR(req))
		return PTR_ERR(req);
	nest = nla_nest_start(req->msg, MODALFS_A_SETATTR);
	if (!nest || modalfs_put_times(req->msg, inode)) {
		modalfs_req_put(req);
		return -ENOMEM;
	}
	nla_nest_end(req->msg, nest);
	req->exp.ino = inode->i_ino;
	req->exp.type = inode->i_mode & S_IFMT;
	/* Unmounting without a daemon: queue the times, do not wait. */
	if (READ_ONCE(MODALFS_SB(inode->i_sb)->dying) &&
	    !modalfs_chan_connected(&modalfs_chan)) {
		modalfs_req_async(req, NULL, NULL);
		return 0;
	}
	err = modalfs_req_call(req);
	modalfs_req_put(req);
	return err;
}

static void modalfs_evict_inode(struct inode *inode)
{
	struct modalfs_req *req;

	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	if (inode->i_nlink || is_bad_inode(inode))
		return;
	/* Never waits: eviction must not depend on the daemon being up. */
	req = modalfs_new_req(inode->i_sb, MODALFS_OP_EVICT, inode->i_ino, 0);
	if (!IS_ERR(req))
		modalfs_req_async(req, NULL, NULL);
}

/*
 * sync(2) and syncfs(2): data and inodes were written back before this
 * runs; make the volume durable. Skipped while no daemon is registered so
 * that unmounting never waits for one.
 */
static int modalfs_sync_fs(struct super_block *sb, int wait)
{
	struct modalfs_req *req;
	int err;

	if (!wait || !modalfs_chan_connected(&modalfs_chan))
		return 0;
	req = modalfs_new_req(sb, MODALFS_OP_FSYNC, MODALFS_ROOT_INO, 0);
	if (IS_ERR(req))
		return PTR_ERR(req);
	err = modalfs_req_call(req);
	modalfs_req_put(req);
	return err;
}

static int modalfs_show_options(struct seq_file *m, struct dentry *root)
{
	return 0;
}

static const struct super_operations modalfs_sops = {
	.alloc_inode	= modalfs_alloc_inode,
	.free_inode	= modalfs_free_inode,
	.write_inode	= modalfs_write_inode,
	.evict_inode	= modalfs_evict_inode,
	.sync_fs	= modalfs_sync_fs,
	.statfs		= modalfs_statfs,
	.show_options	= modalfs_show_options,
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
	sb->s_xattr = modalfs_xattr_handlers;
	sb->s_magic = MODALFS_MAGIC;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_time_gran = 1;

	/* Our own bdi: the default one does no writeback accounting. */
	err = super_setup_bdi(sb);
	if (err)
		return err;
	/* Readahead of 1 MiB = 16 READs of MODALFS_IO_MAX in flight. */
	sb->s_bdi->ra_pages = (1024 * 1024) / PAGE_SIZE;
	sb->s_bdi->io_pages = MODALFS_IO_MAX / PAGE_SIZE;

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

static int modalfs_get_tree(struct fs_context *fc)
{
	struct modalfs_fs_context *ctx = fc->fs_private;
	struct modalfs_attr_val v;
	struct modalfs_sb_info *sbi;
	struct modalfs_req *req;
	struct super_block *sb;
	struct dentry *root;
	struct inode *inode;
	u64 vol_id = 0;
	int err;

	if (!ctx->path)
		return invalfc(fc, "no source given; use VOLUME:/path");
	if (!modalfs_chan_connected(&modalfs_chan)) {
		errorfc(fc, "cannot mount %s: no modalfsd is registered",
			ctx->vol);
		return -ECONNREFUSED;
	}

	req = modalfs_req_new(&modalfs_chan, MODALFS_OP_MOUNT,
			      strlen(ctx->path) + 128, GFP_KERNEL);
	if (IS_ERR(req))
		return PTR_ERR(req);
	if (nla_put_string(req->msg, MODALFS_A_VOL_NAME, ctx->vol) ||
	    nla_put_string(req->msg, MODALFS_A_PATH, ctx->path)) {
		modalfs_req_put(req);
		return -ENOMEM;
	}
	req->exp.type = S_IFDIR;
	err = modalfs_req_call(req);
	if (!err) {
		vol_id = nla_get_u64(req->tb[MODALFS_A_VOL_ID]);
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

	sbi = kzalloc(sizeof(*sbi), GFP_KERNEL);
	if (!sbi)
		return -ENOMEM;
	sbi->vol_id = vol_id;
	spin_lock_init(&sbi->lock);
	strscpy(sbi->vol_name, ctx->vol, sizeof(sbi->vol_name));
	fc->s_fs_info = sbi;

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

static const struct fs_parameter_spec modalfs_fs_params[] = {
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
	return err < 0 ? err : 0;
}

static void modalfs_free_fc(struct fs_context *fc)
{
	struct modalfs_fs_context *ctx = fc->fs_private;

	if (ctx) {
		kfree(ctx->path);
		kfree(ctx);
	}
	kfree(fc->s_fs_info);
}

static const struct fs_context_operations modalfs_context_ops = {
	.free		= modalfs_free_fc,
	.parse_param	= modalfs_parse_param,
	.get_tree	= modalfs_get_tree,
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

	if (sbi)
		WRITE_ONCE(sbi->dying, true);
	kill_anon_super(sb);
	if (!sbi)
		return;
	/* Asynchronous: unmount must work with the daemon gone. */
	req = modalfs_req_new(&modalfs_chan, MODALFS_OP_UMOUNT, 64, GFP_KERNEL);
	if (!IS_ERR(req)) {
		if (modalfs_put_u64(req->msg, MODALFS_A_VOL_ID, sbi->vol_id))
			modalfs_req_put(req);
		else
			modalfs_req_async(req, NULL, NULL);
	}
	kfree(sbi);
}

struct file_system_type modalfs_fs_type = {
	.owner			= THIS_MODULE,
	.name			= "modalfs",
	.init_fs_context	= modalfs_init_fs_context,
	.parameters		= modalfs_fs_params,
	.kill_sb		= modalfs_kill_sb,
};
MODULE_ALIAS_FS("modalfs");
