// SPDX-License-Identifier: GPL-2.0
/*
 * Regular files: everything goes through the page cache (addr.c); fsync
 * pushes data, then metadata, then asks the daemon to make it durable.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/writeback.h>

#include "modalfs_i.h"

int modalfs_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	struct inode *inode = file_inode(file);
	struct modalfs_req *req;
	int err;

	err = file_write_and_wait_range(file, start, end);
	if (err)
		return err;
	err = sync_inode_metadata(inode, 1);
	if (err)
		return err;
	req = modalfs_new_req(inode->i_sb, MODALFS_OP_FSYNC, inode->i_ino, 8);
	if (IS_ERR(req))
		return PTR_ERR(req);
	if (datasync &&
	    nla_put_u32(req->msg, MODALFS_A_FLAGS, MODALFS_FSYNC_DATASYNC)) {
		modalfs_req_put(req);
		return -ENOMEM;
	}
	err = modalfs_req_call(req);
	modalfs_req_put(req);
	return err;
}

const struct file_operations modalfs_file_fops = {
	.llseek		= generic_file_llseek,
	.read_iter	= generic_file_read_iter,
	.write_iter	= generic_file_write_iter,
	.mmap		= generic_file_mmap,
	.open		= generic_file_open,
	.fsync		= modalfs_fsync,
	.splice_read	= generic_file_splice_read,
	.splice_write	= iter_file_splice_write,
};

const struct inode_operations modalfs_file_iops = {
	.getattr	= modalfs_getattr,
	.setattr	= modalfs_setattr,
	.update_time	= modalfs_update_time,
	.listxattr	= modalfs_listxattr,
};
