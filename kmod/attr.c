// SPDX-License-Identifier: GPL-2.0
/*
 * Conversion between struct inode and the protocol's inode attributes.
 * Pure functions (no requests), compiled into the KUnit module too.
 */
#include <linux/fs.h>
#include <linux/uidgid.h>
#include <linux/wait_bit.h>
#include <net/netlink.h>

#include "modalfs_i.h"

/*
 * Only for a new inode: once cached, the kernel's attributes win (it is
 * the only writer; i_size in particular may be ahead of the daemon while
 * dirty pages wait for writeback).
 */
void modalfs_attr_to_inode(struct inode *inode,
			   const struct modalfs_attr_val *v)
{
	inode->i_mode = v->mode;
	set_nlink(inode, v->nlink);
	inode->i_uid = make_kuid(&init_user_ns, v->uid);
	inode->i_gid = make_kgid(&init_user_ns, v->gid);
	i_size_write(inode, v->size);
	inode->i_blocks = v->blocks;
	inode->i_atime = v->atime;
	inode->i_mtime = v->mtime;
	inode->i_ctime = v->ctime;
}

/*
 * The daemon allocates the blocks, so after a WRITE or a truncate only it
 * knows how many the file has; the rest of its ATTR is ignored (see
 * above). nest may be absent (a WRITE reply from an older daemon).
 */
void modalfs_attr_blocks_to_inode(struct inode *inode,
				  const struct nlattr *nest)
{
	struct modalfs_attr_val v;

	if (!nest || modalfs_attr_decode(nest, &v) || v.ino != inode->i_ino)
		return;
	/* i_lock, as inode_add_bytes() takes it for i_blocks. */
	spin_lock(&inode->i_lock);
	inode->i_blocks = v.blocks;
	spin_unlock(&inode->i_lock);
}

int modalfs_put_ts(struct sk_buff *skb, int sec, int nsec,
		   const struct timespec64 *ts)
{
	if (nla_put_s64(skb, sec, ts->tv_sec, MODALFS_ATTR_UNSPEC) ||
	    nla_put_u32(skb, nsec, ts->tv_nsec))
		return -EMSGSIZE;
	return 0;
}

/*
 * The times write_inode sends: mtime and ctime, which writes through the
 * page cache change, and atime, which reads change in memory only (see
 * modalfs_update_time) and which reaches the daemon this way whenever
 * the inode is written back for another reason.
 */
int modalfs_put_times(struct sk_buff *skb, struct inode *inode)
{
	if (modalfs_put_ts(skb, MODALFS_ATTR_ATIME_SEC, MODALFS_ATTR_ATIME_NSEC,
			   &inode->i_atime) ||
	    modalfs_put_ts(skb, MODALFS_ATTR_MTIME_SEC, MODALFS_ATTR_MTIME_NSEC,
			   &inode->i_mtime) ||
	    modalfs_put_ts(skb, MODALFS_ATTR_CTIME_SEC, MODALFS_ATTR_CTIME_NSEC,
			   &inode->i_ctime))
		return -EMSGSIZE;
	return 0;
}

/*
 * The chmod/chown that setattr deferred (inode.c, modalfs_setattr_defer).
 * Clears their bits before their values are read: a change made after
 * that sets its bit again and is sent the next time.
 */
unsigned long modalfs_take_pending(struct inode *inode)
{
	struct modalfs_inode_info *mi = MODALFS_I(inode);
	unsigned long pending = 0;
	int bit;

	for (bit = MODALFS_I_DIRTY_MODE; bit <= MODALFS_I_DIRTY_GID; bit++)
		if (test_and_clear_bit(bit, &mi->flags))
			pending |= BIT(bit);
	return pending;
}

/* A message that carried them was not sent, or failed. */
void modalfs_restore_pending(struct inode *inode, unsigned long pending)
{
	int bit;

	for (bit = MODALFS_I_DIRTY_MODE; bit <= MODALFS_I_DIRTY_GID; bit++)
		if (pending & BIT(bit))
			set_bit(bit, &MODALFS_I(inode)->flags);
}

/*
 * MODALFS_A_SETATTR with what write_inode owes the daemon: the pending
 * chmod/chown and the three times.
 */
int modalfs_put_inode_setattr(struct sk_buff *skb, struct inode *inode,
			      unsigned long pending)
{
	struct nlattr *nest = nla_nest_start(skb, MODALFS_A_SETATTR);

	if (!nest)
		return -EMSGSIZE;
	if ((pending & BIT(MODALFS_I_DIRTY_MODE)) &&
	    nla_put_u32(skb, MODALFS_ATTR_MODE,
			READ_ONCE(inode->i_mode) & S_IALLUGO))
		goto cancel;
	if ((pending & BIT(MODALFS_I_DIRTY_UID)) &&
	    nla_put_u32(skb, MODALFS_ATTR_UID,
			from_kuid(&init_user_ns, inode->i_uid)))
		goto cancel;
	if ((pending & BIT(MODALFS_I_DIRTY_GID)) &&
	    nla_put_u32(skb, MODALFS_ATTR_GID,
			from_kgid(&init_user_ns, inode->i_gid)))
		goto cancel;
	if (modalfs_put_times(skb, inode))
		goto cancel;
	nla_nest_end(skb, nest);
	return 0;
cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/* Ends what took MODALFS_I_META_BUSY (super.c, addr.c). */
void modalfs_meta_unlock(struct inode *inode)
{
	clear_bit_unlock(MODALFS_I_META_BUSY, &MODALFS_I(inode)->flags);
	smp_mb__after_atomic();
	wake_up_bit(&MODALFS_I(inode)->flags, MODALFS_I_META_BUSY);
}
