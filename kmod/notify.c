// SPDX-License-Identifier: GPL-2.0
/*
 * MODALFS_CMD_NOTIFY: the daemon changed a volume on its own (modalfsctl
 * put/rm/delete) and tells us which caches to drop.
 *
 * The handler runs in the daemon's sendmsg(), so it must never wait for
 * the daemon: it only drops clean pages (no launder, no writeback), marks
 * attributes stale and invalidates dentries; the GETATTR that refreshes
 * stale attributes is sent later by whoever next asks for them
 * (modalfs_revalidate_inode, from getattr).
 */
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/pagemap.h>
#include <linux/writeback.h>
#include <net/genetlink.h>

#include "modalfs_i.h"

static void modalfs_inval_inode(struct inode *inode)
{
	/*
	 * Someone else may have set an xattr too (security.capability above
	 * all): ask the daemon again, and check again at the next write.
	 */
	clear_bit(MODALFS_I_NOXATTR, &MODALFS_I(inode)->flags);
	inode_set_flags(inode, 0, S_NOSEC);
	set_bit(MODALFS_I_STALE, &MODALFS_I(inode)->flags);
	/* Dirty pages stay: they are newer than what the daemon has. */
	invalidate_mapping_pages(inode->i_mapping, 0, -1);
}

static void modalfs_inval_entry(struct inode *dir, const char *name,
				size_t len)
{
	struct qstr q = QSTR_INIT(name, len);
	struct dentry *parent, *child;

	set_bit(MODALFS_I_STALE, &MODALFS_I(dir)->flags);
	parent = d_find_any_alias(dir);
	if (!parent)
		return;
	child = d_hash_and_lookup(parent, &q);
	if (!IS_ERR_OR_NULL(child)) {
		/* Positive or negative: the next walk asks the daemon. */
		d_invalidate(child);
		dput(child);
	}
	dput(parent);
}

/* Every cached inode of sb: attributes stale, clean pages dropped. */
static void modalfs_inval_all(struct super_block *sb)
{
	struct inode *inode, *toput = NULL;

	spin_lock(&sb->s_inode_list_lock);
	list_for_each_entry(inode, &sb->s_inodes, i_sb_list) {
		spin_lock(&inode->i_lock);
		if (inode->i_state & (I_FREEING | I_WILL_FREE | I_NEW)) {
			spin_unlock(&inode->i_lock);
			continue;
		}
		__iget(inode);
		spin_unlock(&inode->i_lock);
		spin_unlock(&sb->s_inode_list_lock);

		modalfs_inval_inode(inode);
		iput(toput);
		toput = inode;
		cond_resched();
		spin_lock(&sb->s_inode_list_lock);
	}
	spin_unlock(&sb->s_inode_list_lock);
	iput(toput);
}

/*
 * Called by modalfs_notify_volume with the volume registry locked, so sb
 * cannot reach kill_sb meanwhile.
 */
void modalfs_notify_sb(struct super_block *sb, u32 what, u64 ino,
		       const char *name, size_t len)
{
	struct modalfs_sb_info *sbi = MODALFS_SB(sb);
	struct inode *inode;

	/*
	 * Before anything is dropped: the volume changed behind the
	 * kernel's back, so no directory of it is complete any more
	 * (complete.c), also one whose MKDIR or READDIR is being answered.
	 */
	atomic_inc(&sbi->notified);
	smp_mb__after_atomic();
	switch (what) {
	case MODALFS_NOTIFY_INVAL_INODE:
		inode = ilookup(sb, ino);
		if (inode) {
			modalfs_inval_inode(inode);
			iput(inode);
		}
		break;
	case MODALFS_NOTIFY_INVAL_ENTRY:
		inode = ilookup(sb, ino);
		if (inode) {
			if (S_ISDIR(inode->i_mode))
				modalfs_inval_entry(inode, name, len);
			iput(inode);
		}
		break;
	case MODALFS_NOTIFY_VOL_GONE:
		if (READ_ONCE(sbi->conn->gone))
			break;
		modalfs_conn_fail(&modalfs_chan, sbi->conn, -ESTALE);
		pr_warn("modalfs: volume %s (id %llu) was deleted; its mounts fail with ESTALE until unmounted\n",
			sbi->vol_name, sbi->vol_id);
		shrink_dcache_sb(sb);
		modalfs_inval_all(sb);
		break;
	}
}

/* Only what NOTIFY carries; anything else makes it invalid. */
static const struct nla_policy modalfs_notify_policy[MODALFS_A_MAX + 1] = {
	[MODALFS_A_NOTIFY]	= NLA_POLICY_RANGE(NLA_U32, 1,
						   MODALFS_NOTIFY_MAX),
	[MODALFS_A_VOL_ID]	= NLA_POLICY_MIN(NLA_U64, 1),
	[MODALFS_A_INO]		= NLA_POLICY_MIN(NLA_U64, 1),
	[MODALFS_A_NAME]	= { .type = NLA_NUL_STRING,
				    .len = MODALFS_NAME_MAX },
};

/*
 * genetlink lets NOTIFY through unvalidated (netlink.c) so that the
 * strict parse here can answer EINVAL, as the protocol says, where the
 * generic validation would answer ERANGE for a value out of range.
 */
int modalfs_nl_notify(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *a[MODALFS_A_MAX + 1];
	const char *name = NULL;
	size_t len = 0;
	u64 ino = 0;
	u32 what;

	int err = modalfs_nl_check_daemon(skb, info);

	if (err)
		return err;
	if (__nla_parse(a, MODALFS_A_MAX, genlmsg_data(info->genlhdr),
			genlmsg_len(info->genlhdr), modalfs_notify_policy,
			NL_VALIDATE_STRICT, info->extack))
		return -EINVAL;
	if (!a[MODALFS_A_NOTIFY] || !a[MODALFS_A_VOL_ID]) {
		NL_SET_ERR_MSG(info->extack,
			       "modalfs: NOTIFY needs NOTIFY and VOL_ID");
		return -EINVAL;
	}
	what = nla_get_u32(a[MODALFS_A_NOTIFY]);
	if (a[MODALFS_A_INO])
		ino = nla_get_u64(a[MODALFS_A_INO]);
	if (a[MODALFS_A_NAME]) {
		name = nla_data(a[MODALFS_A_NAME]);
		len = strnlen(name, nla_len(a[MODALFS_A_NAME]));
	}
	/* Exactly the attributes the notification lists, no others. */
	switch (what) {
	case MODALFS_NOTIFY_INVAL_INODE:
		if (!ino || name)
			goto inval;
		break;
	case MODALFS_NOTIFY_INVAL_ENTRY:
		if (!ino || !name || modalfs_valid_file_name(name, len))
			goto inval;
		break;
	case MODALFS_NOTIFY_VOL_GONE:
		if (ino || name)
			goto inval;
		break;
	default:
		goto inval;
	}
	modalfs_notify_volume(nla_get_u64(a[MODALFS_A_VOL_ID]), what, ino,
			      name, len);
	return 0;
inval:
	NL_SET_ERR_MSG(info->extack,
		       "modalfs: NOTIFY attributes do not match its type");
	return -EINVAL;
}

/*
 * The daemon said inode's attributes changed: ask for them again. Size
 * and mtime are taken only while no local writes are pending (the kernel
 * owns them while it has dirty pages) and none happened since the
 * GETATTR was sent (its answer may have been overtaken by a WRITE's);
 * the type never changes.
 */
int modalfs_revalidate_inode(struct inode *inode)
{
	struct modalfs_inode_info *mi = MODALFS_I(inode);
	struct address_space *mapping = inode->i_mapping;
	struct modalfs_conn *conn = MODALFS_SB(inode->i_sb)->conn;
	struct modalfs_attr_val v;
	struct modalfs_req *req;
	unsigned int inval;
	bool kept = false;
	u64 version;
	int bit, err;

	if (modalfs_sb_gone(inode->i_sb))
		return -ESTALE;
	/* A change the caches did not follow (modalfs_conn_inval). */
	inval = atomic_read(&conn->inval);
	if (READ_ONCE(mi->inval_seen) != inval) {
		clear_bit(MODALFS_I_NOXATTR, &mi->flags);
		WRITE_ONCE(mi->inval_seen, inval);
		set_bit(MODALFS_I_STALE, &mi->flags);
	}
	/*
	 * Only a refinement of what the kernel set itself: not worth waiting
	 * for an absent daemon (the local values stand meanwhile).
	 */
	if (test_and_clear_bit(MODALFS_I_STALE, &mi->flags))
		bit = MODALFS_I_STALE;
	else if (test_bit(MODALFS_I_REFRESH, &mi->flags) &&
		 modalfs_chan_connected(&modalfs_chan))
		bit = MODALFS_I_REFRESH;
	else
		return 0;
	clear_bit(MODALFS_I_REFRESH, &mi->flags);
	version = modalfs_attr_version_now();
	req = modalfs_new_req(inode->i_sb, MODALFS_OP_GETATTR, inode->i_ino, 0);
	if (IS_ERR(req)) {
		set_bit(bit, &mi->flags);
		return PTR_ERR(req);
	}
	req->exp.ino = inode->i_ino;
	req->exp.type = inode->i_mode & S_IFMT;
	err = modalfs_req_call_attr(req, &v);
	if (err) {
		if (err != -ESTALE)
			set_bit(bit, &mi->flags);
		return err;
	}

	spin_lock(&inode->i_lock);
	/*
	 * A directory op's reply brought newer attributes meanwhile
	 * (dir.c, modalfs_dir_apply): this answer may predate that op.
	 */
	if (S_ISDIR(inode->i_mode) && READ_ONCE(mi->attr_version) > version) {
		spin_unlock(&inode->i_lock);
		return 0;
	}
	set_nlink(inode, v.nlink);
	/*
	 * A deferred chmod/chown (modalfs_setattr_defer) is newer than the
	 * answer; so are the times, which write_inode sends with it.
	 */
	if (READ_ONCE(mi->flags) & MODALFS_I_PENDING) {
		kept = true;
	} else {
		inode->i_mode = (inode->i_mode & S_IFMT) | (v.mode & ~S_IFMT);
		inode->i_uid = make_kuid(&init_user_ns, v.uid);
		inode->i_gid = make_kgid(&init_user_ns, v.gid);
		inode->i_ctime = v.ctime;
	}
	if (!kept && (!S_ISREG(inode->i_mode) ||
	    (!mapping_tagged(mapping, PAGECACHE_TAG_DIRTY) &&
	     !mapping_tagged(mapping, PAGECACHE_TAG_WRITEBACK) &&
	     READ_ONCE(mi->attr_version) <= version))) {
		inode->i_blocks = v.blocks;
		inode->i_mtime = v.mtime;
		i_size_write(inode, v.size);
	} else {
		kept = true;
	}
	spin_unlock(&inode->i_lock);
	/*
	 * Size and mtime stayed the kernel's because of local writes; once
	 * they reached the daemon its answer covers both, so ask again then.
	 */
	if (kept)
		set_bit(MODALFS_I_REFRESH, &mi->flags);
	/*
	 * Not in the NOTIFY handler: this may write back (launder) and wait,
	 * which the daemon's own thread must never do. Unlike
	 * invalidate_mapping_pages() it also drops pages that an LRU batch
	 * still holds.
	 */
	if (S_ISREG(inode->i_mode))
		invalidate_inode_pages2(mapping);
	return 0;
}
