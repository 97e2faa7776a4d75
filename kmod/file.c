// SPDX-License-Identifier: GPL-2.0
/*
 * Regular files: everything goes through the page cache (addr.c); fsync
 * pushes data, then metadata (not for fdatasync), then asks the daemon to
 * make it durable.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/writeback.h>

#include "modalfs_i.h"

int modalfs_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	struct inode *inode = file_inode(file);
	struct modalfs_req *req;
	int stable, sent, err;

	/*
	 * As file_write_and_wait_range, but one dirty range alone in flight
	 * goes as a stable WRITE, durable when answered (addr.c): then no
	 * FSYNC follows unless a SETATTR did.
	 */
	stable = modalfs_write_stable(inode, start, end);
	if (stable >= 0)
		filemap_fdatawait_range_keep_errors(inode->i_mapping, start,
						    end);
	err = file_check_and_advance_wb_err(file);
	if (stable < 0)
		return stable;
	if (err)
		return err;
	/*
	 * fdatasync needs no SETATTR: the size reaches the daemon with the
	 * WRITEs (and truncation synchronously), and times, owner and mode
	 * are not needed to read the data back. They go with the next fsync,
	 * sync or writeback of the inode.
	 */
	if (!datasync) {
		sent = READ_ONCE(MODALFS_I(inode)->meta_sent);
		err = sync_inode_metadata(inode, 1);
		if (err)
			return err;
		if (READ_ONCE(MODALFS_I(inode)->meta_sent) != sent)
			stable = 0;
	}
	if (stable > 0) {
		modalfs_stats_stable();
		return 0;
	}
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
	/*
	 * The daemon answered FSYNC after every asynchronous dirop sent
	 * before it (protocol section 3b); their errors are in errseq now.
	 */
	if (!err)
		err = file_check_and_advance_wb_err(file);
	return err;
}

/*
 * A shared writable mapping dirties pages behind write(2)'s back: the
 * first store to a clean page lands here, which stamps mtime/ctime and
 * dirties the folio so that writeback (and msync, which is fsync) sends
 * it. A folio truncated away meanwhile is refused; the retried fault then
 * sees the new size (SIGBUS past EOF).
 */
static vm_fault_t modalfs_page_mkwrite(struct vm_fault *vmf)
{
	struct folio *folio = page_folio(vmf->page);
	struct inode *inode = file_inode(vmf->vma->vm_file);
	vm_fault_t ret = VM_FAULT_LOCKED;

	if (modalfs_sb_gone(inode->i_sb))
		return VM_FAULT_SIGBUS;
	sb_start_pagefault(inode->i_sb);
	file_update_time(vmf->vma->vm_file);
	/* Excludes a truncate in progress (see modalfs_setattr). */
	filemap_invalidate_lock_shared(inode->i_mapping);
	folio_lock(folio);
	if (folio->mapping != inode->i_mapping ||
	    folio_pos(folio) >= i_size_read(inode)) {
		folio_unlock(folio);
		ret = VM_FAULT_NOPAGE;
		goto out;
	}
	folio_mark_dirty(folio);
	/* Writeback copies the page into the message before it ends. */
	folio_wait_stable(folio);
out:
	filemap_invalidate_unlock_shared(inode->i_mapping);
	sb_end_pagefault(inode->i_sb);
	return ret;
}

/* Cached pages of a deleted volume are not served either. */
static vm_fault_t modalfs_fault(struct vm_fault *vmf)
{
	if (modalfs_sb_gone(file_inode(vmf->vma->vm_file)->i_sb))
		return VM_FAULT_SIGBUS;
	return filemap_fault(vmf);
}

static const struct vm_operations_struct modalfs_file_vm_ops = {
	.fault		= modalfs_fault,
	.map_pages	= filemap_map_pages,
	.page_mkwrite	= modalfs_page_mkwrite,
};

static int modalfs_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (modalfs_sb_gone(file_inode(file)->i_sb))
		return -ESTALE;
	file_accessed(file);
	vma->vm_ops = &modalfs_file_vm_ops;
	return 0;
}

/*
 * Entry points that could answer from the page cache check first whether
 * the volume was deleted (modalfs_sb_gone): then everything is ESTALE.
 */
static int modalfs_file_open(struct inode *inode, struct file *file)
{
	/*
	 * ESTALE for a deleted volume; fresh attributes (i_size above all)
	 * after a NOTIFY said someone else changed the file.
	 */
	int err = modalfs_revalidate_inode(inode);

	if (err)
		return err;
	return generic_file_open(inode, file);
}

static ssize_t modalfs_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	if (modalfs_sb_gone(file_inode(iocb->ki_filp)->i_sb))
		return -ESTALE;
	return generic_file_read_iter(iocb, to);
}

static ssize_t modalfs_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	if (modalfs_sb_gone(file_inode(iocb->ki_filp)->i_sb))
		return -ESTALE;
	return generic_file_write_iter(iocb, from);
}

const struct file_operations modalfs_file_fops = {
	.llseek		= generic_file_llseek,
	.read_iter	= modalfs_read_iter,
	.write_iter	= modalfs_write_iter,
	.mmap		= modalfs_file_mmap,
	.open		= modalfs_file_open,
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
