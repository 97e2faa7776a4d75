// SPDX-License-Identifier: GPL-2.0
/*
 * modalfs: a network filesystem whose storage is served by modalfsd over
 * generic netlink (see netlink/modalfs.h).
 */
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/module.h>

#include "modalfs_i.h"

static int __init modalfs_init(void)
{
	int err;

	err = modalfs_req_cache_init();
	if (err)
		return err;
	err = modalfs_inode_cache_init();
	if (err)
		goto out_req;
	err = modalfs_dirops_init();
	if (err)
		goto out_inode_cache;
	err = modalfs_sysfs_init();
	if (err)
		goto out_dirops;
	/* The channel, the genl family and the release notifier. */
	err = modalfs_netlink_init();
	if (err)
		goto out_sysfs;
	err = register_filesystem(&modalfs_fs_type);
	if (err)
		goto out_netlink;
	pr_info("modalfs: loaded, protocol version %d\n", MODALFS_GENL_VERSION);
	return 0;

out_netlink:
	modalfs_netlink_exit();
out_sysfs:
	modalfs_sysfs_exit();
out_dirops:
	modalfs_dirops_exit();
out_inode_cache:
	modalfs_inode_cache_exit();
out_req:
	modalfs_req_cache_exit();
	return err;
}

static void __exit modalfs_exit(void)
{
	/* The fs type's module reference means nothing is mounted now. */
	unregister_filesystem(&modalfs_fs_type);
	/* Fails whatever is still queued (EVICT, UMOUNT) with ENODEV. */
	modalfs_netlink_exit();
	modalfs_sysfs_exit();
	modalfs_dirops_exit();
	modalfs_inode_cache_exit();
	modalfs_req_cache_exit();
}

module_init(modalfs_init);
module_exit(modalfs_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modalfs network filesystem");
MODULE_AUTHOR("modalfs developers");
