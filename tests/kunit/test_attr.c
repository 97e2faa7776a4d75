// SPDX-License-Identifier: GPL-2.0
/* Included by modalfs_kunit.c: conversion between inodes and ATTR. */

struct tinode {
	struct super_block sb;
	struct inode inode;
};

static struct inode *tinode_new(struct kunit *test)
{
	struct tinode *ti = kunit_kzalloc(test, sizeof(*ti), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ti);
	/* set_nlink() accounts in the superblock. */
	ti->inode.i_sb = &ti->sb;
	ti->sb.s_user_ns = &init_user_ns;
	spin_lock_init(&ti->inode.i_lock);
	return &ti->inode;
}

static void attr_to_inode_new(struct kunit *test)
{
	struct inode *inode = tinode_new(test);

	modalfs_attr_to_inode(inode, &tattr_default);
	KUNIT_EXPECT_EQ(test, inode->i_mode, (umode_t)(S_IFREG | 0644));
	KUNIT_EXPECT_EQ(test, inode->i_nlink, 1U);
	KUNIT_EXPECT_EQ(test, i_uid_read(inode), 1000U);
	KUNIT_EXPECT_EQ(test, i_gid_read(inode), 1001U);
	KUNIT_EXPECT_EQ(test, i_size_read(inode), 12345LL);
	KUNIT_EXPECT_EQ(test, inode->i_blocks, (blkcnt_t)24);
	KUNIT_EXPECT_EQ(test, inode->i_atime.tv_sec, 1700000000LL);
	KUNIT_EXPECT_EQ(test, inode->i_mtime.tv_nsec, 2L);
	KUNIT_EXPECT_EQ(test, inode->i_ctime.tv_sec, 1700000002LL);
	KUNIT_EXPECT_EQ(test, inode->i_ctime.tv_nsec, 999999999L);
}

static void attr_to_inode_ids(struct kunit *test)
{
	struct modalfs_attr_val v = tattr_default;
	struct inode *inode = tinode_new(test);

	/* Ids are in the initial user namespace, up to 2^32 - 2. */
	v.uid = 4000000000U;
	v.gid = 65534;
	v.nlink = 3;
	v.mode = S_IFDIR | 02775;
	modalfs_attr_to_inode(inode, &v);
	KUNIT_EXPECT_TRUE(test, uid_eq(inode->i_uid,
				       make_kuid(&init_user_ns, 4000000000U)));
	KUNIT_EXPECT_EQ(test, from_kgid(&init_user_ns, inode->i_gid), 65534U);
	KUNIT_EXPECT_EQ(test, inode->i_nlink, 3U);
	KUNIT_EXPECT_TRUE(test, S_ISDIR(inode->i_mode));
	KUNIT_EXPECT_EQ(test, inode->i_mode & 07777, 02775);
}

static void attr_put_times_roundtrip(struct kunit *test)
{
	struct nlattr *tb[MODALFS_A_MAX + 1], *at[MODALFS_ATTR_MAX + 1];
	struct inode *inode = tinode_new(test);
	struct sk_buff *skb;
	struct nlattr *nest;

	inode->i_mtime.tv_sec = 1234567890;
	inode->i_mtime.tv_nsec = 5;
	inode->i_ctime.tv_sec = -1;
	inode->i_ctime.tv_nsec = 999999999;
	inode->i_atime.tv_sec = 77;
	skb = tmsg_new(test, MODALFS_CMD_REQUEST, 1, MODALFS_OP_SETATTR);
	nest = nla_nest_start(skb, MODALFS_A_SETATTR);
	KUNIT_ASSERT_EQ(test, modalfs_put_times(skb, inode), 0);
	nla_nest_end(skb, nest);
	KUNIT_ASSERT_EQ(test, tparse(skb, tb), 0);
	KUNIT_ASSERT_EQ(test, nla_parse_nested(at, MODALFS_ATTR_MAX,
					       tb[MODALFS_A_SETATTR],
					       modalfs_attr_policy, NULL), 0);
	KUNIT_EXPECT_EQ(test, nla_get_s64(at[MODALFS_ATTR_MTIME_SEC]), 1234567890LL);
	KUNIT_EXPECT_EQ(test, nla_get_u32(at[MODALFS_ATTR_MTIME_NSEC]), 5U);
	KUNIT_EXPECT_EQ(test, nla_get_s64(at[MODALFS_ATTR_CTIME_SEC]), -1LL);
	KUNIT_EXPECT_EQ(test, nla_get_u32(at[MODALFS_ATTR_CTIME_NSEC]), 999999999U);
	/* atime rides along (it is memory-only otherwise). */
	KUNIT_EXPECT_EQ(test, nla_get_s64(at[MODALFS_ATTR_ATIME_SEC]), 77LL);
	KUNIT_EXPECT_EQ(test, nla_get_u32(at[MODALFS_ATTR_ATIME_NSEC]), 0U);
	/* Nothing but the times is sent. */
	KUNIT_EXPECT_NULL(test, at[MODALFS_ATTR_SIZE]);
	KUNIT_EXPECT_NULL(test, at[MODALFS_ATTR_MODE]);
	kfree_skb(skb);
}

/*
 * What write_inode owes the daemon, as one SETATTR nest (also carried by
 * a whole-file WRITE): the pending chmod/chown members only, and the
 * times; taking the pending bits clears them, restoring sets them again.
 */
static void attr_put_inode_setattr_pending(struct kunit *test)
{
	struct nlattr *tb[MODALFS_A_MAX + 1], *at[MODALFS_ATTR_MAX + 1];
	struct modalfs_inode_info *mi;
	struct inode *inode;
	struct sk_buff *skb;
	unsigned long pending;

	mi = kunit_kzalloc(test, sizeof(*mi), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mi);
	inode = &mi->vfs_inode;
	inode->i_sb = tinode_new(test)->i_sb;
	inode->i_mode = S_IFREG | 02640;
	inode->i_uid = make_kuid(&init_user_ns, 1234);
	inode->i_gid = make_kgid(&init_user_ns, 5678);
	inode->i_mtime.tv_sec = 1600000000;
	set_bit(MODALFS_I_DIRTY_MODE, &mi->flags);
	set_bit(MODALFS_I_DIRTY_GID, &mi->flags);
	set_bit(MODALFS_I_NEW, &mi->flags);

	pending = modalfs_take_pending(inode);
	KUNIT_EXPECT_EQ(test, pending, BIT(MODALFS_I_DIRTY_MODE) |
				       BIT(MODALFS_I_DIRTY_GID));
	KUNIT_EXPECT_EQ(test, mi->flags, BIT(MODALFS_I_NEW));
	skb = tmsg_new(test, MODALFS_CMD_REQUEST, 1, MODALFS_OP_WRITE);
	KUNIT_ASSERT_EQ(test, modalfs_put_inode_setattr(skb, inode, pending), 0);
	KUNIT_ASSERT_EQ(test, tparse(skb, tb), 0);
	KUNIT_ASSERT_EQ(test, nla_parse_nested(at, MODALFS_ATTR_MAX,
					       tb[MODALFS_A_SETATTR],
					       modalfs_attr_policy, NULL), 0);
	/* Permission bits only: SETATTR never carries the type. */
	KUNIT_EXPECT_EQ(test, nla_get_u32(at[MODALFS_ATTR_MODE]), 02640U);
	KUNIT_EXPECT_EQ(test, nla_get_u32(at[MODALFS_ATTR_GID]), 5678U);
	KUNIT_EXPECT_NULL(test, at[MODALFS_ATTR_UID]);
	KUNIT_EXPECT_NULL(test, at[MODALFS_ATTR_SIZE]);
	KUNIT_EXPECT_EQ(test, nla_get_s64(at[MODALFS_ATTR_MTIME_SEC]),
			1600000000LL);
	KUNIT_EXPECT_NOT_NULL(test, at[MODALFS_ATTR_ATIME_SEC]);
	KUNIT_EXPECT_NOT_NULL(test, at[MODALFS_ATTR_CTIME_NSEC]);
	kfree_skb(skb);

	/* Nothing pending: the times alone. */
	skb = tmsg_new(test, MODALFS_CMD_REQUEST, 1, MODALFS_OP_WRITE);
	KUNIT_ASSERT_EQ(test, modalfs_put_inode_setattr(skb, inode, 0), 0);
	KUNIT_ASSERT_EQ(test, tparse(skb, tb), 0);
	KUNIT_ASSERT_EQ(test, nla_parse_nested(at, MODALFS_ATTR_MAX,
					       tb[MODALFS_A_SETATTR],
					       modalfs_attr_policy, NULL), 0);
	KUNIT_EXPECT_NULL(test, at[MODALFS_ATTR_MODE]);
	KUNIT_EXPECT_NULL(test, at[MODALFS_ATTR_GID]);
	KUNIT_EXPECT_NOT_NULL(test, at[MODALFS_ATTR_MTIME_SEC]);
	kfree_skb(skb);

	/* A message that was not sent gives the changes back. */
	modalfs_restore_pending(inode, pending);
	KUNIT_EXPECT_EQ(test, mi->flags, BIT(MODALFS_I_NEW) |
				       BIT(MODALFS_I_DIRTY_MODE) |
				       BIT(MODALFS_I_DIRTY_GID));
}

static void attr_decode_to_inode(struct kunit *test)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	struct modalfs_attr_val v = tattr_default, out;
	struct inode *inode = tinode_new(test);
	struct sk_buff *skb = treply(test, 1, 0);

	v.mode = S_IFCHR | 0600;
	v.rdev = new_encode_dev(MKDEV(4, 64));
	tput_attr(test, skb, MODALFS_A_ATTR, &v, 0);
	KUNIT_ASSERT_EQ(test, tparse(skb, tb), 0);
	KUNIT_ASSERT_EQ(test, modalfs_attr_decode(tb[MODALFS_A_ATTR], &out), 0);
	KUNIT_EXPECT_EQ(test, new_decode_dev(out.rdev), MKDEV(4, 64));
	modalfs_attr_to_inode(inode, &out);
	KUNIT_EXPECT_TRUE(test, S_ISCHR(inode->i_mode));
	kfree_skb(skb);
}

/* After a WRITE or truncate only i_blocks comes from the daemon. */
static void attr_blocks_to_inode(struct kunit *test)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	struct modalfs_attr_val v = tattr_default;
	struct inode *inode = tinode_new(test);
	struct sk_buff *skb;

	inode->i_ino = 42;
	i_size_write(inode, 3 << 20);
	inode->i_mtime.tv_sec = 5;
	inode->i_blocks = 0;

	/* No ATTR (an older daemon's WRITE reply): nothing changes. */
	modalfs_attr_blocks_to_inode(inode, NULL);
	KUNIT_EXPECT_EQ(test, inode->i_blocks, (blkcnt_t)0);

	v.blocks = 6144;
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &v, 0);
	KUNIT_ASSERT_EQ(test, tparse(skb, tb), 0);
	modalfs_attr_blocks_to_inode(inode, tb[MODALFS_A_ATTR]);
	KUNIT_EXPECT_EQ(test, inode->i_blocks, (blkcnt_t)6144);
	/* The kernel's size and times stay, the daemon's lag behind. */
	KUNIT_EXPECT_EQ(test, i_size_read(inode), 3LL << 20);
	KUNIT_EXPECT_EQ(test, inode->i_mtime.tv_sec, 5LL);
	kfree_skb(skb);

	/* Another inode's ATTR is not taken. */
	v.ino = 43;
	v.blocks = 8;
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &v, 0);
	KUNIT_ASSERT_EQ(test, tparse(skb, tb), 0);
	modalfs_attr_blocks_to_inode(inode, tb[MODALFS_A_ATTR]);
	KUNIT_EXPECT_EQ(test, inode->i_blocks, (blkcnt_t)6144);
	kfree_skb(skb);
}

/* Sizes past 4 GiB and up to the protocol's limit survive conversion. */
static void attr_to_inode_large_and_old(struct kunit *test)
{
	struct modalfs_attr_val v = tattr_default;
	struct inode *inode = tinode_new(test);

	v.size = (5ULL << 30) + 1;
	v.blocks = 1ULL << 40;
	/* Before 1970 and in 2106+: s64 seconds, not u32. */
	v.atime.tv_sec = -86400;
	v.mtime.tv_sec = 5000000000LL;
	v.mtime.tv_nsec = 999999999;
	modalfs_attr_to_inode(inode, &v);
	KUNIT_EXPECT_EQ(test, i_size_read(inode), (5LL << 30) + 1);
	KUNIT_EXPECT_EQ(test, inode->i_blocks, (blkcnt_t)(1ULL << 40));
	KUNIT_EXPECT_EQ(test, inode->i_atime.tv_sec, -86400LL);
	KUNIT_EXPECT_EQ(test, inode->i_mtime.tv_sec, 5000000000LL);
	KUNIT_EXPECT_EQ(test, inode->i_mtime.tv_nsec, 999999999L);

	v.size = S64_MAX;
	modalfs_attr_to_inode(inode, &v);
	KUNIT_EXPECT_EQ(test, i_size_read(inode), S64_MAX);
}

/* Decoding refuses what conversion could not represent. */
static void attr_decode_limits(struct kunit *test)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	struct modalfs_attr_val v = tattr_default, out;
	struct sk_buff *skb;

	/* Size 2^63: over the policy's range. */
	v.size = 1ULL << 63;
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &v, 0);
	KUNIT_EXPECT_LT(test, tparse(skb, tb), 0);
	kfree_skb(skb);

	/* nlink that would wrap in inc_nlink(). */
	v = tattr_default;
	v.nlink = 0xffffffffU;
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &v, 0);
	KUNIT_ASSERT_EQ(test, tparse(skb, tb), 0);
	KUNIT_EXPECT_EQ(test, modalfs_attr_decode(tb[MODALFS_A_ATTR], &out),
			-EIO);
	kfree_skb(skb);

	/* No file type at all. */
	v = tattr_default;
	v.mode = 0644;
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &v, 0);
	KUNIT_ASSERT_EQ(test, tparse(skb, tb), 0);
	KUNIT_EXPECT_EQ(test, modalfs_attr_decode(tb[MODALFS_A_ATTR], &out),
			-EIO);
	kfree_skb(skb);

	/* Negative times are fine (s64). */
	v = tattr_default;
	v.ctime.tv_sec = -1;
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &v, 0);
	KUNIT_ASSERT_EQ(test, tparse(skb, tb), 0);
	KUNIT_EXPECT_EQ(test, modalfs_attr_decode(tb[MODALFS_A_ATTR], &out), 0);
	KUNIT_EXPECT_EQ(test, out.ctime.tv_sec, -1LL);
	kfree_skb(skb);
}

/* write_inode sends exactly the three times, with nanoseconds. */
static void attr_put_ts_values(struct kunit *test)
{
	struct nlattr *tb[MODALFS_A_MAX + 1], *at[MODALFS_ATTR_MAX + 1];
	struct timespec64 ts = { .tv_sec = -5, .tv_nsec = 123 };
	struct sk_buff *skb;
	struct nlattr *nest;

	skb = tmsg_new(test, MODALFS_CMD_REQUEST, 1, MODALFS_OP_SETATTR);
	nest = nla_nest_start(skb, MODALFS_A_SETATTR);
	KUNIT_ASSERT_EQ(test, modalfs_put_ts(skb, MODALFS_ATTR_ATIME_SEC,
					     MODALFS_ATTR_ATIME_NSEC, &ts), 0);
	nla_nest_end(skb, nest);
	KUNIT_ASSERT_EQ(test, tparse(skb, tb), 0);
	KUNIT_ASSERT_EQ(test, nla_parse_nested(at, MODALFS_ATTR_MAX,
					       tb[MODALFS_A_SETATTR],
					       modalfs_attr_policy, NULL), 0);
	KUNIT_EXPECT_EQ(test, nla_get_s64(at[MODALFS_ATTR_ATIME_SEC]), -5LL);
	KUNIT_EXPECT_EQ(test, nla_get_u32(at[MODALFS_ATTR_ATIME_NSEC]), 123U);
	KUNIT_EXPECT_NULL(test, at[MODALFS_ATTR_MTIME_SEC]);
	kfree_skb(skb);
}

static struct kunit_case modalfs_attr_cases[] = {
	KUNIT_CASE(attr_to_inode_large_and_old),
	KUNIT_CASE(attr_decode_limits),
	KUNIT_CASE(attr_put_ts_values),
	KUNIT_CASE(attr_to_inode_new),
	KUNIT_CASE(attr_to_inode_ids),
	KUNIT_CASE(attr_put_times_roundtrip),
	KUNIT_CASE(attr_put_inode_setattr_pending),
	KUNIT_CASE(attr_decode_to_inode),
	KUNIT_CASE(attr_blocks_to_inode),
	{}
};

static struct kunit_suite modalfs_attr_suite = {
	.name = "modalfs_attr",
	.test_cases = modalfs_attr_cases,
};
