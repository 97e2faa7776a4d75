// SPDX-License-Identifier: GPL-2.0
/*
 * Conversion between struct inode and the protocol's inode attributes.
 * Pure functions (no requests), compiled into the KUnit module too.
 */
#include <linux/fs.h>
#include <linux/uidgid.h>
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

int modalfs_put_ts(struct sk_buff *skb, int sec, int nsec,
		   const struct timespec64 *ts)
{
	if (nla_put_s64(skb, sec, ts->tv_sec, MODALFS_ATTR_UNSPEC) ||
	    nla_put_u32(skb, nsec, ts->tv_nsec))
		return -EMSGSIZE;
	return 0;
}

/* mtime and ctime, which writes through the page cache change. */
int modalfs_put_times(struct sk_buff *skb, struct inode *inode)
{
	if (modalfs_put_ts(skb, MODALFS_ATTR_MTIME_SEC, MODALFS_ATTR_MTIME_NSEC,
			   &inode->i_mtime) ||
	    modalfs_put_ts(skb, MODALFS_ATTR_CTIME_SEC, MODALFS_ATTR_CTIME_NSEC,
			   &inode->i_ctime))
		return -EMSGSIZE;
	return 0;
}
