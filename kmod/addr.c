// SPDX-License-Identifier: GPL-2.0
/*
 * Address space operations: the page cache holds file data; READ fills it
 * (readahead in batches of up to MODALFS_IO_MAX, 1 MiB, asynchronously,
 * several in flight), WRITE empties it (writeback of contiguous dirty
 * pages in batches of up to MODALFS_IO_MAX, all in flight at once, within
 * the background cap for background writeback; the pages stay under writeback until the daemon
 * answers, and writepages waits for that before it returns, so that the
 * write_inode that follows reaches the daemon after the data).
 *
 * Folios are single pages: the mapping does not enable large folios.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/writeback.h>

#include "modalfs_i.h"

#define MODALFS_IO_PAGES (MODALFS_IO_MAX / PAGE_SIZE)

/*
 * debugfs modalfs/fail_write_alloc: that many WRITE message allocations
 * fail as if memory ran out (tests/vm/tests/65-write-enomem.sh); the
 * kernel has no fault injection to do it otherwise.
 */
atomic_t modalfs_fail_write_alloc = ATOMIC_INIT(0);

static bool modalfs_inject_write_enomem(void)
{
	return atomic_add_unless(&modalfs_fail_write_alloc, -1, 0);
}

/* One READ or WRITE of contiguous pages. */
struct modalfs_io {
	struct inode *inode;
	loff_t pos;
	unsigned int nr;
	unsigned int len;	/* WRITE: bytes, the last page may be partial */
	/*
	 * WRITE: it carries the inode's times and pending chmod/chown
	 * (modalfs_write_meta), taken at meta_seq; it holds META_BUSY.
	 */
	bool meta;
	int meta_seq;
	unsigned long pending;
	/*
	 * WRITE with MODALFS_WRITE_STABLE (modalfs_write_stable): where its
	 * end reports 1 (durable) or the error; NULL otherwise.
	 */
	int *stable_res;
	struct page *pages[MODALFS_IO_PAGES];
};

static struct modalfs_req *modalfs_read_req(struct inode *inode, loff_t pos,
					    u32 size)
{
	struct modalfs_req *req;

	req = modalfs_new_req(inode->i_sb, MODALFS_OP_READ, inode->i_ino, 32);
	if (IS_ERR(req))
		return req;
	if (modalfs_put_u64(req->msg, MODALFS_A_OFFSET, pos) ||
	    nla_put_u32(req->msg, MODALFS_A_SIZE, size)) {
		modalfs_req_put(req);
		return ERR_PTR(-ENOMEM);
	}
	req->exp.size = size;
	req->bg_units = DIV_ROUND_UP(size, MODALFS_BG_UNIT);
	return req;
}

/*
 * Copies the reply's data into the pages; a short reply is the end of the
 * file, so the rest reads as zeros. The reply was checked to be no longer
 * than nr pages.
 */
static void modalfs_fill_pages(struct modalfs_req *req, struct page **pages,
			       unsigned int nr)
{
	const struct nlattr *nla;
	size_t off = 0, end = (size_t)nr << PAGE_SHIFT;
	int rem;

	nla_for_each_attr(nla, req->head, req->len, rem) {
		const char *data = nla_data(nla);
		size_t n = nla_len(nla);

		if (nla_type(nla) != MODALFS_A_DATA)
			continue;
		while (n && off < end) {
			size_t in = off & ~PAGE_MASK;
			size_t c = min_t(size_t, n, PAGE_SIZE - in);

			memcpy_to_page(pages[off >> PAGE_SHIFT], in, data, c);
			off += c;
			data += c;
			n -= c;
		}
	}
	while (off < end) {
		size_t in = off & ~PAGE_MASK;

		zero_user_segment(pages[off >> PAGE_SHIFT], in, PAGE_SIZE);
		off += PAGE_SIZE - in;
	}
}

/* Synchronous read of one locked page; leaves it locked. */
static int modalfs_read_page(struct inode *inode, struct page *page)
{
	loff_t pos = page_offset(page);
	struct modalfs_req *req;
	int err;

	if (pos >= i_size_read(inode)) {
		zero_user_segment(page, 0, PAGE_SIZE);
		SetPageUptodate(page);
		return 0;
	}
	req = modalfs_read_req(inode, pos, PAGE_SIZE);
	if (IS_ERR(req))
		return PTR_ERR(req);
	err = modalfs_req_call(req);
	if (!err) {
		modalfs_fill_pages(req, &page, 1);
		SetPageUptodate(page);
	}
	modalfs_req_put(req);
	return err;
}

static int modalfs_read_folio(struct file *file, struct folio *folio)
{
	int err = modalfs_read_page(folio->mapping->host, &folio->page);

	folio_unlock(folio);
	return err;
}

/*
 * Ends a readahead batch: unlocks its pages and drops the reference
 * readahead gave us with each.
 */
static void modalfs_ra_release(struct modalfs_io *io)
{
	unsigned int i;

	for (i = 0; i < io->nr; i++) {
		unlock_page(io->pages[i]);
		put_page(io->pages[i]);
	}
	kfree(io);
}

static void modalfs_read_end(struct modalfs_req *req)
{
	struct modalfs_io *io = req->priv;
	unsigned int i;

	/* On error the pages stay !uptodate; read_folio retries them. */
	if (!req->error) {
		modalfs_fill_pages(req, io->pages, io->nr);
		for (i = 0; i < io->nr; i++)
			SetPageUptodate(io->pages[i]);
	}
	modalfs_ra_release(io);
}

static void modalfs_readahead(struct readahead_control *ractl)
{
	struct inode *inode = ractl->mapping->host;
	struct modalfs_req *req;
	struct modalfs_io *io;
	unsigned int i;

	for (;;) {
		io = kmalloc(sizeof(*io), GFP_NOFS);
		if (!io)
			return;	/* read_pages() unlocks what is left */
		io->inode = inode;
		/*
		 * Each page comes locked and with a reference of its own,
		 * which we drop once it is read (or given up), as
		 * readahead_page_batch() says.
		 */
		io->nr = __readahead_batch(ractl, io->pages, MODALFS_IO_PAGES);
		if (!io->nr) {
			kfree(io);
			return;
		}
		/* readahead_pos() only moves at the next batch. */
		io->pos = page_offset(io->pages[0]);
		if (io->pos >= i_size_read(inode)) {
			for (i = 0; i < io->nr; i++) {
				zero_user_segment(io->pages[i], 0, PAGE_SIZE);
				SetPageUptodate(io->pages[i]);
			}
			modalfs_ra_release(io);
			continue;
		}
		req = modalfs_read_req(inode, io->pos, io->nr << PAGE_SHIFT);
		if (IS_ERR(req)) {
			modalfs_ra_release(io);
			return;
		}
		/*
		 * Readahead is optional: with no daemon, or the background
		 * cap reached, the pages stay unread (read_folio reads them
		 * when needed).
		 */
		if (modalfs_req_async_try(req, modalfs_read_end, io)) {
			modalfs_req_put(req);
			modalfs_ra_release(io);
			return;
		}
	}
}

/*
 * The WRITE that carried the times is done (err 0) or was not sent:
 * before its pages leave writeback, so that write_inode, which waits for
 * them, finds the outcome.
 */
static void modalfs_write_meta_end(struct modalfs_io *io, int err)
{
	struct inode *inode = io->inode;

	if (!io->meta)
		return;
	io->meta = false;
	if (err) {
		modalfs_restore_pending(inode, io->pending);
	} else {
		modalfs_meta_sent(inode, io->meta_seq);
		/* The daemon has the data now: no more deferring (inode.c). */
		clear_bit(MODALFS_I_NEW, &MODALFS_I(inode)->flags);
	}
	modalfs_meta_unlock(inode);
}

/* io leaves the inode's count of WRITEs (struct modalfs_inode_info). */
static void modalfs_io_put_write(struct modalfs_io *io)
{
	atomic_dec(&MODALFS_I(io->inode)->writes);
}

static void modalfs_write_end_io(struct modalfs_req *req)
{
	struct modalfs_io *io = req->priv;
	unsigned int i;

	/* Before the pages leave writeback, so fsync sees the new count. */
	if (!req->error)
		modalfs_attr_blocks_to_inode(io->inode, req->tb[MODALFS_A_ATTR]);
	modalfs_write_meta_end(io, req->error);
	if (io->stable_res)
		WRITE_ONCE(*io->stable_res, req->error ?: 1);
	modalfs_io_put_write(io);
	/* Older GETATTR answers must not undo what this WRITE did. */
	modalfs_attr_changed(io->inode);
	for (i = 0; i < io->nr; i++) {
		struct page *page = io->pages[i];

		if (req->error) {
			SetPageError(page);
			mapping_set_error(page->mapping, req->error);
		}
		end_page_writeback(page);
		put_page(page);
	}
	kfree(io);
}

/*
 * A WRITE that holds the whole file also carries what write_inode would
 * send after it (the times and a deferred chmod/chown), so that a small
 * file written back costs one request, not two (tar: CREATE, WRITE). Only
 * then, or when fsync found it the only WRITE of the file (alone): the
 * daemon stamps mtime on every WRITE, so the times must come with the
 * last one, and with a single WRITE no other is in flight (its pages are
 * all under writeback). Not while write_inode's SETATTR or another such
 * WRITE is in flight (MODALFS_I_META_BUSY): the daemon must apply them in
 * the order their values were read.
 */
static bool modalfs_write_meta(struct modalfs_io *io, bool alone)
{
	struct inode *inode = io->inode;

	if ((!alone && (io->pos || io->len != i_size_read(inode))) ||
	    test_and_set_bit_lock(MODALFS_I_META_BUSY,
				  &MODALFS_I(inode)->flags))
		return false;
	io->meta = true;
	io->meta_seq = modalfs_meta_seq(inode);
	io->pending = modalfs_take_pending(inode);
	return true;
}

/*
 * Builds the WRITE for io: OFFSET, the times when meta_ok allows it
 * (modalfs_write_meta), FLAGS for a stable one, then the data in
 * DATA_CHUNK pieces in page fragments (modalfs_put_data_pages: no
 * high-order allocation).
 */
static struct modalfs_req *modalfs_write_req(struct modalfs_io *io,
					     bool meta_ok, bool stable)
{
	struct inode *inode = io->inode;
	struct modalfs_req *req;

	io->meta = false;
	if (modalfs_inject_write_enomem())
		return ERR_PTR(-ENOMEM);
	req = modalfs_new_req(inode->i_sb, MODALFS_OP_WRITE, inode->i_ino,
			      72 + (meta_ok ? 160 : 0));
	if (IS_ERR(req))
		return req;
	if (modalfs_put_u64(req->msg, MODALFS_A_OFFSET, io->pos) ||
	    (meta_ok && modalfs_write_meta(io, stable) &&
	     modalfs_put_inode_setattr(req->msg, inode, io->pending)) ||
	    (stable && nla_put_u32(req->msg, MODALFS_A_FLAGS,
				   MODALFS_WRITE_STABLE)) ||
	    modalfs_put_data_pages(req->msg, io->pages, io->len, GFP_NOFS)) {
		modalfs_write_meta_end(io, -ENOMEM);
		modalfs_req_put(req);
		return ERR_PTR(-ENOMEM);
	}
	req->exp.size = io->len;
	req->bg_units = DIV_ROUND_UP(io->len, MODALFS_BG_UNIT);
	req->exp.ino = inode->i_ino;
	req->exp.type = S_IFREG;
	return req;
}

struct modalfs_wb {
	struct writeback_control *wbc;
	struct modalfs_io *io;
	loff_t start, end;	/* byte range sent, end exclusive */
	/*
	 * The rest of this pass stays dirty: no daemon, too many WRITEs in
	 * flight, or no memory for the message.
	 */
	bool deferred;
	int err;
	/* fsync's pass (modalfs_write_stable): what it may and did send. */
	bool stable_ok;
	unsigned int flushed;	/* WRITEs built so far */
	int stable_res;		/* 0, 1 once durable, or -errno */
};

/*
 * The WRITE for io could not be queued: its pages become dirty again, so
 * the data stays in the page cache (and is never taken for clean) until
 * a later writeback sends it, as a failed allocation on the per-page
 * path in modalfs_writepage_cb already does.
 */
static void modalfs_io_redirty(struct modalfs_io *io,
			       struct writeback_control *wbc)
{
	unsigned int i;

	modalfs_io_put_write(io);
	for (i = 0; i < io->nr; i++) {
		redirty_page_for_writepage(wbc, io->pages[i]);
		end_page_writeback(io->pages[i]);
		put_page(io->pages[i]);
	}
	kfree(io);
}

/*
 * fsync's last WRITE may be stable (MODALFS_WRITE_STABLE: durable when
 * answered, no FSYNC after it) when it is the pass's only one and no
 * other WRITE of the file is in flight, so that every byte written before
 * is acknowledged already.
 */
static bool modalfs_wb_stable(struct modalfs_wb *wb, struct modalfs_io *io,
			      bool last)
{
	return wb->stable_ok && last && !wb->flushed &&
	       atomic_read(&MODALFS_I(io->inode)->writes) == 1;
}

static void modalfs_wb_flush(struct modalfs_wb *wb, bool last)
{
	struct writeback_control *wbc = wb->wbc;
	struct modalfs_io *io = wb->io;
	struct modalfs_req *req;
	bool stable;

	wb->io = NULL;
	if (!io)
		return;
	stable = modalfs_wb_stable(wb, io, last);
	wb->flushed++;
	/*
	 * sync(2) with no daemon: sync_fs waits for the next one and
	 * writes back again then, so nothing waits here, unkillably.
	 */
	if (wbc->for_sync && !modalfs_chan_connected(&modalfs_chan) &&
	    !READ_ONCE(MODALFS_SB(io->inode->i_sb)->dying)) {
		modalfs_io_redirty(io, wbc);
		wb->deferred = true;
		return;
	}
	req = modalfs_write_req(io, true, stable);
	if (IS_ERR(req)) {
		modalfs_io_redirty(io, wbc);
		wb->deferred = true;
		wb->err = PTR_ERR(req);
		return;
	}
	/*
	 * Without the times it owes, fsync still sends them and an FSYNC
	 * after it (modalfs_fsync): the sync was early, not wrong.
	 */
	if (stable)
		io->stable_res = &wb->stable_res;
	if (wbc->sync_mode == WB_SYNC_NONE) {
		/* Background writeback can wait; data-integrity writes not. */
		if (modalfs_req_async_try(req, modalfs_write_end_io, io)) {
			modalfs_req_put(req);
			modalfs_write_meta_end(io, -EAGAIN);
			modalfs_io_redirty(io, wbc);
			wb->deferred = true;
		}
		return;
	}
	/*
	 * sync(2) sends every inode's data before it waits for any
	 * (wait_sb_inodes), so its WRITEs are pipelined, paced by the
	 * background cap; fsync's are one file's.
	 */
	if (wbc->for_sync)
		modalfs_chan_wait_background(&modalfs_chan);
	modalfs_req_async(req, modalfs_write_end_io, io);
}

/* write_cache_pages() callback: page is locked and no longer dirty. */
static int modalfs_writepage_cb(struct page *page,
				struct writeback_control *wbc, void *data)
{
	struct modalfs_wb *wb = data;
	struct inode *inode = page->mapping->host;
	loff_t isize = i_size_read(inode);
	loff_t pos = page_offset(page);
	struct modalfs_io *io = wb->io;
	unsigned int len;

	if (wb->deferred) {
		/* Stops write_cache_pages (WB_SYNC_NONE) or skips the page. */
		redirty_page_for_writepage(wbc, page);
		unlock_page(page);
		return -EAGAIN;
	}
	if (pos >= isize) {
		/* Truncated meanwhile: nothing of it belongs to the file. */
		unlock_page(page);
		return 0;
	}
	len = min_t(loff_t, PAGE_SIZE, isize - pos);
	/*
	 * Bytes past EOF in the last page (stores through mmap) are not
	 * file data: they must read as zeros if the file grows later.
	 */
	if (len < PAGE_SIZE)
		zero_user_segment(page, len, PAGE_SIZE);
	if (io && (io->pos + io->len != pos || io->nr == MODALFS_IO_PAGES ||
		   (io->len & ~PAGE_MASK))) {
		modalfs_wb_flush(wb, false);
		io = NULL;
	}
	if (!io) {
		io = kmalloc(sizeof(*io), GFP_NOFS);
		if (!io) {
			redirty_page_for_writepage(wbc, page);
			unlock_page(page);
			return -ENOMEM;
		}
		io->inode = inode;
		io->pos = pos;
		io->nr = 0;
		io->len = 0;
		io->stable_res = NULL;
		/* Before its first page is under writeback (modalfs_wb_stable). */
		atomic_inc(&MODALFS_I(inode)->writes);
		wb->io = io;
	}
	get_page(page);
	set_page_writeback(page);
	unlock_page(page);
	io->pages[io->nr++] = page;
	io->len += len;
	if (wb->end <= wb->start) {
		wb->start = pos;
		wb->end = pos + len;
	} else {
		wb->start = min(wb->start, pos);
		wb->end = max_t(loff_t, wb->end, pos + len);
	}
	return 0;
}

/*
 * The daemon stamps mtime on every WRITE with its own clock, and its
 * workers may run a WRITE after a SETATTR sent later. The kernel owns the
 * times of a file it writes back, and write_inode (which sends them) runs
 * right after writepages, so writepages returns only once the daemon has
 * answered its WRITEs; errors stay in the mapping for fsync to report.
 */
static void modalfs_wb_wait(struct address_space *mapping,
			    struct modalfs_wb *wb)
{
	if (wb->end > wb->start)
		filemap_fdatawait_range_keep_errors(mapping, wb->start,
						    wb->end - 1);
}

/*
 * A pass that left pages dirty on purpose is no failure, except for
 * data-integrity writeback that ran out of memory (fsync reports it).
 */
static int modalfs_wb_result(struct modalfs_wb *wb, int err)
{
	if (err == -EAGAIN)
		err = 0;
	if (!err && wb->wbc->sync_mode == WB_SYNC_ALL && !wb->wbc->for_sync)
		err = wb->err;
	return err;
}

static int modalfs_writepage(struct page *page, struct writeback_control *wbc)
{
	struct modalfs_wb wb = { .wbc = wbc };
	int err;

	err = modalfs_writepage_cb(page, wbc, &wb);
	modalfs_wb_flush(&wb, true);
	return modalfs_wb_result(&wb, err);
}

/* One writeback pass over mapping's dirty pages, as wb->wbc says. */
static int modalfs_wb_pages(struct address_space *mapping,
			    struct modalfs_wb *wb)
{
	int err = write_cache_pages(mapping, wb->wbc, modalfs_writepage_cb, wb);

	modalfs_wb_flush(wb, true);
	return modalfs_wb_result(wb, err);
}

static int modalfs_writepages(struct address_space *mapping,
			      struct writeback_control *wbc)
{
	struct modalfs_wb wb = { .wbc = wbc };
	int err;

	err = modalfs_wb_pages(mapping, &wb);
	/*
	 * Only fsync's writeback waits: the flusher holds s_umount, and
	 * waiting there for an absent daemon would block umount -l (and end
	 * in a hung task); sync(2) waits for all of the volume's pages at
	 * once, later. Their write_inode defers the times while WRITEs are
	 * in flight instead (super.c).
	 */
	if (wbc->sync_mode == WB_SYNC_ALL && !wbc->for_sync)
		modalfs_wb_wait(mapping, &wb);
	return err;
}

/*
 * fsync's writeback of [start, end]: as modalfs_writepages, but a pass
 * that is one WRITE, alone in flight for the file, sends it stable
 * (modalfs_wb_stable). Returns 1 when that WRITE was answered, so that
 * everything of the file written before it is durable, 0 when an FSYNC
 * is still needed, or -errno.
 */
int modalfs_write_stable(struct inode *inode, loff_t start, loff_t end)
{
	struct address_space *mapping = inode->i_mapping;
	struct writeback_control wbc = {
		.sync_mode = WB_SYNC_ALL,
		.nr_to_write = LONG_MAX,
		.range_start = start,
		.range_end = end,
	};
	struct modalfs_wb wb = {
		.wbc = &wbc,
		.stable_ok = true,
	};
	int err;

	if (!mapping->nrpages)
		return 0;
	err = modalfs_wb_pages(mapping, &wb);
	modalfs_wb_wait(mapping, &wb);
	if (err)
		return err;
	return READ_ONCE(wb.stable_res) == 1;
}

/* Writes one locked, dirty-cleared folio and waits for the daemon. */
int modalfs_write_folio_sync(struct folio *folio)
{
	struct inode *inode = folio->mapping->host;
	loff_t isize = i_size_read(inode);
	struct modalfs_io *io;
	struct modalfs_req *req;
	int err;

	if (folio_pos(folio) >= isize)
		return 0;
	io = kmalloc(sizeof(*io), GFP_NOFS);
	if (!io)
		return -ENOMEM;
	io->inode = inode;
	io->pos = folio_pos(folio);
	io->nr = 1;
	io->pages[0] = &folio->page;
	io->len = min_t(loff_t, PAGE_SIZE, isize - io->pos);
	io->stable_res = NULL;
	req = modalfs_write_req(io, false, false);
	kfree(io);
	if (IS_ERR(req))
		return PTR_ERR(req);
	atomic_inc(&MODALFS_I(inode)->writes);
	err = modalfs_req_call(req);
	atomic_dec(&MODALFS_I(inode)->writes);
	if (!err)
		modalfs_attr_blocks_to_inode(inode, req->tb[MODALFS_A_ATTR]);
	modalfs_req_put(req);
	return err;
}

static int modalfs_launder_folio(struct folio *folio)
{
	int err = 0;

	if (folio_clear_dirty_for_io(folio)) {
		err = modalfs_write_folio_sync(folio);
		if (err)
			folio_mark_dirty(folio);
	}
	return err;
}

/*
 * Reads the page only when the write leaves part of its existing data in
 * place: never for a full-page overwrite, nor for a page at or past EOF,
 * nor when the write covers everything from the page start to EOF.
 */
static int modalfs_write_begin(struct file *file, struct address_space *mapping,
			       loff_t pos, unsigned int len,
			       struct page **pagep, void **fsdata)
{
	struct inode *inode = mapping->host;
	pgoff_t index = pos >> PAGE_SHIFT;
	unsigned int from = pos & ~PAGE_MASK;
	loff_t isize = i_size_read(inode);
	loff_t pstart = (loff_t)index << PAGE_SHIFT;
	struct page *page;
	int err;

	page = grab_cache_page_write_begin(mapping, index);
	if (!page)
		return -ENOMEM;
	*pagep = page;
	if (PageUptodate(page) || len == PAGE_SIZE)
		return 0;
	if (pstart >= isize || (from == 0 && pos + len >= isize)) {
		zero_user_segments(page, 0, from, from + len, PAGE_SIZE);
		return 0;
	}
	err = modalfs_read_page(inode, page);
	if (err) {
		unlock_page(page);
		put_page(page);
		return err;
	}
	return 0;
}

static int modalfs_write_end(struct file *file, struct address_space *mapping,
			     loff_t pos, unsigned int len, unsigned int copied,
			     struct page *page, void *fsdata)
{
	struct inode *inode = mapping->host;
	loff_t last = pos + copied;

	if (!PageUptodate(page)) {
		/*
		 * The rest of the page was not read: a short copy would leave
		 * garbage in it, so make the caller retry the whole write.
		 */
		if (copied < len) {
			copied = 0;
			goto out;
		}
		SetPageUptodate(page);
	}
	if (last > i_size_read(inode)) {
		i_size_write(inode, last);
		modalfs_attr_changed(inode);
	}
	set_page_dirty(page);
out:
	unlock_page(page);
	put_page(page);
	return copied;
}

static void modalfs_invalidate_folio(struct folio *folio, size_t offset,
				     size_t length)
{
	/* No private state is attached to our folios. */
}

static bool modalfs_release_folio(struct folio *folio, gfp_t gfp)
{
	return !folio_test_private(folio);
}

const struct address_space_operations modalfs_aops = {
	.read_folio	  = modalfs_read_folio,
	.readahead	  = modalfs_readahead,
	.writepage	  = modalfs_writepage,
	.writepages	  = modalfs_writepages,
	.dirty_folio	  = filemap_dirty_folio,
	.write_begin	  = modalfs_write_begin,
	.write_end	  = modalfs_write_end,
	.invalidate_folio = modalfs_invalidate_folio,
	.release_folio	  = modalfs_release_folio,
	.launder_folio	  = modalfs_launder_folio,
};
