// SPDX-License-Identifier: GPL-2.0
/*
 * Extended attributes in the user., trusted. and security. namespaces,
 * kept by the daemon (GETXATTR, SETXATTR, LISTXATTR, REMOVEXATTR).
 *
 * The VFS does the permission checks before a handler runs (trusted.*
 * needs CAP_SYS_ADMIN, user.* only on regular files and directories,
 * sticky directories), so the handlers only move names and values.
 * The only thing cached is the absence of any xattr on an inode this
 * kernel created (MODALFS_I_NOXATTR): the security.capability lookups
 * that every write and chown make (file_remove_privs, notify_change)
 * then cost no request. Everything else asks the daemon. The kernel, not
 * the daemon, answers size queries and ERANGE, from the value's real size.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/xattr.h>

#include "modalfs_i.h"

static struct modalfs_req *modalfs_xattr_req(struct inode *inode, u32 op,
					     const char *name, size_t extra)
{
	struct modalfs_req *req;
	size_t len = name ? strlen(name) : 0;

	if (name && !modalfs_xattr_name_ok(name))
		return ERR_PTR(len > MODALFS_NAME_MAX ? -ERANGE : -EOPNOTSUPP);
	req = modalfs_new_req(inode->i_sb, op, inode->i_ino, len + 16 + extra);
	if (IS_ERR(req))
		return req;
	if (name && modalfs_put_name(req->msg, MODALFS_A_NAME, name, len)) {
		modalfs_req_put(req);
		return ERR_PTR(-ENOMEM);
	}
	return req;
}

/*
 * True while the inode is known to have no xattrs: set when this kernel
 * created it, dropped by any change of its xattrs (all of which pass
 * through here: every mount of a volume shares the superblock), by a
 * NOTIFY for it (notify.c), and when the volume's invalidation count
 * moved on (a killed caller's SETXATTR may have reached the daemon).
 */
static bool modalfs_xattr_none(struct inode *inode)
{
	struct modalfs_inode_info *mi = MODALFS_I(inode);

	if (!test_bit(MODALFS_I_NOXATTR, &mi->flags))
		return false;
	if (READ_ONCE(mi->inval_seen) !=
	    (unsigned int)atomic_read(&MODALFS_SB(inode->i_sb)->conn->inval)) {
		clear_bit(MODALFS_I_NOXATTR, &mi->flags);
		return false;
	}
	return !modalfs_sb_gone(inode->i_sb);
}

static int modalfs_getxattr(struct inode *inode, const char *name,
			    void *buffer, size_t size)
{
	struct modalfs_req *req;
	ssize_t ret;

	if (modalfs_xattr_name_ok(name) && modalfs_xattr_none(inode))
		return -ENODATA;
	req = modalfs_xattr_req(inode, MODALFS_OP_GETXATTR, name, 0);
	if (IS_ERR(req))
		return PTR_ERR(req);
	req->exp.size = MODALFS_XATTR_SIZE_MAX;
	ret = modalfs_req_call(req);
	if (!ret) {
		ret = modalfs_xattr_result(nla_get_u32(req->tb[MODALFS_A_SIZE]),
					   size);
		if (ret > 0 && size)
			modalfs_get_data(req->head, req->len, buffer, ret);
	}
	modalfs_req_put(req);
	return ret;
}

/* value NULL: remove the attribute (that is how the VFS asks for it). */
static int modalfs_setxattr(struct inode *inode, const char *name,
			    const void *value, size_t size, int flags)
{
	u32 op = value ? MODALFS_OP_SETXATTR : MODALFS_OP_REMOVEXATTR;
	struct modalfs_attr_val v;
	struct modalfs_req *req;
	u32 wflags = 0;
	int err;

	if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
		return -EINVAL;
	if (value && size > MODALFS_XATTR_SIZE_MAX)
		return -E2BIG;
	if (flags & XATTR_CREATE)
		wflags |= MODALFS_XATTR_CREATE;
	if (flags & XATTR_REPLACE)
		wflags |= MODALFS_XATTR_REPLACE;
	/* Before the request: whatever its outcome, ask from now on. */
	clear_bit(MODALFS_I_NOXATTR, &MODALFS_I(inode)->flags);
	smp_mb__after_atomic();
	req = modalfs_xattr_req(inode, op, name,
				value ? modalfs_data_space(size) + 8 : 0);
	if (IS_ERR(req))
		return PTR_ERR(req);
	if (value && (modalfs_put_data(req->msg, value, size) ||
		      (wflags &&
		       nla_put_u32(req->msg, MODALFS_A_FLAGS, wflags)))) {
		modalfs_req_put(req);
		return -ENOMEM;
	}
	req->exp.ino = inode->i_ino;
	req->exp.type = inode->i_mode & S_IFMT;
	err = modalfs_req_call_attr(req, &v);
	if (err)
		return err;
	/* The daemon stamped the change; its ctime is the one to show. */
	inode->i_ctime = v.ctime;
	return 0;
}

ssize_t modalfs_listxattr(struct dentry *dentry, char *buffer, size_t size)
{
	struct inode *inode = d_inode(dentry);
	struct modalfs_req *req;
	ssize_t ret;
	size_t have;
	char *list;

	if (modalfs_xattr_none(inode))
		return 0;
	req = modalfs_xattr_req(inode, MODALFS_OP_LISTXATTR, NULL, 0);
	if (IS_ERR(req))
		return PTR_ERR(req);
	req->exp.size = MODALFS_XATTR_LIST_MAX;
	ret = modalfs_req_call(req);
	if (ret)
		goto out;
	have = nla_get_u32(req->tb[MODALFS_A_SIZE]);
	if (!have)
		goto out;	/* ret is 0: no names */
	/*
	 * The names the caller may not see must not count towards the size,
	 * so filter a copy first and only then compare with the buffer.
	 */
	list = kvmalloc(have, GFP_KERNEL);
	if (!list) {
		ret = -ENOMEM;
		goto out;
	}
	modalfs_get_data(req->head, req->len, list, have);
	ret = modalfs_xattr_list_filter(list, have, capable(CAP_SYS_ADMIN));
	if (ret > 0) {
		ret = modalfs_xattr_result(ret, size);
		if (ret > 0 && size)
			memcpy(buffer, list, ret);
	}
	kvfree(list);
out:
	modalfs_req_put(req);
	return ret;
}

static int modalfs_xattr_get(const struct xattr_handler *handler,
			     struct dentry *dentry, struct inode *inode,
			     const char *name, void *buffer, size_t size)
{
	return modalfs_getxattr(inode, xattr_full_name(handler, name), buffer,
				size);
}

static int modalfs_xattr_set(const struct xattr_handler *handler,
			     struct user_namespace *mnt_userns,
			     struct dentry *dentry, struct inode *inode,
			     const char *name, const void *value, size_t size,
			     int flags)
{
	return modalfs_setxattr(inode, xattr_full_name(handler, name), value,
				size, flags);
}

static const struct xattr_handler modalfs_xattr_user_handler = {
	.prefix	= XATTR_USER_PREFIX,
	.get	= modalfs_xattr_get,
	.set	= modalfs_xattr_set,
};

static bool modalfs_xattr_trusted_list(struct dentry *dentry)
{
	return capable(CAP_SYS_ADMIN);
}

static const struct xattr_handler modalfs_xattr_trusted_handler = {
	.prefix	= XATTR_TRUSTED_PREFIX,
	.list	= modalfs_xattr_trusted_list,
	.get	= modalfs_xattr_get,
	.set	= modalfs_xattr_set,
};

static const struct xattr_handler modalfs_xattr_security_handler = {
	.prefix	= XATTR_SECURITY_PREFIX,
	.get	= modalfs_xattr_get,
	.set	= modalfs_xattr_set,
};

const struct xattr_handler *modalfs_xattr_handlers[] = {
	&modalfs_xattr_user_handler,
	&modalfs_xattr_trusted_handler,
	&modalfs_xattr_security_handler,
	NULL,
};
