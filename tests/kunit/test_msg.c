// SPDX-License-Identifier: GPL-2.0
/* Included by modalfs_kunit.c: request encoding, reply policies and checks. */

static struct sk_buff *tmsg_new(struct kunit *test, u8 cmd, u64 id, u32 op)
{
	/* Version 2's message size: room for every test, order-0 friendly. */
	struct sk_buff *skb = nlmsg_new(MODALFS_CTL_MSG_MAX, GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, skb);
	KUNIT_ASSERT_EQ(test, modalfs_msg_init(skb, 0x20, cmd, id, op), 0);
	return skb;
}

static struct sk_buff *treply(struct kunit *test, u64 id, u32 err)
{
	struct sk_buff *skb = tmsg_new(test, MODALFS_CMD_REPLY, id, 0);

	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_ERRNO, err), 0);
	return skb;
}

static int tparse(struct sk_buff *skb, struct nlattr **tb)
{
	nlmsg_end(skb, nlmsg_hdr(skb));
	return modalfs_msg_parse(nlmsg_hdr(skb), tb, NULL);
}

static const struct modalfs_attr_val tattr_default = {
	.ino = 42, .mode = S_IFREG | 0644, .nlink = 1, .uid = 1000,
	.gid = 1001, .rdev = 0, .size = 12345, .blocks = 24,
	.atime = { 1700000000, 1 }, .mtime = { 1700000001, 2 },
	.ctime = { 1700000002, 999999999 },
};

/* Puts a nested attribute set, leaving out member omit (0: none). */
static void tput_attr(struct kunit *test, struct sk_buff *skb, int type,
		      const struct modalfs_attr_val *v, int omit)
{
	struct nlattr *nest = nla_nest_start(skb, type);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, nest);
	for (i = 1; i <= MODALFS_ATTR_MAX; i++) {
		int err = 0;

		if (i == omit)
			continue;
		switch (i) {
		case MODALFS_ATTR_INO:
			err = modalfs_put_u64(skb, i, v->ino);
			break;
		case MODALFS_ATTR_MODE:
			err = nla_put_u32(skb, i, v->mode);
			break;
		case MODALFS_ATTR_NLINK:
			err = nla_put_u32(skb, i, v->nlink);
			break;
		case MODALFS_ATTR_UID:
			err = nla_put_u32(skb, i, v->uid);
			break;
		case MODALFS_ATTR_GID:
			err = nla_put_u32(skb, i, v->gid);
			break;
		case MODALFS_ATTR_RDEV:
			err = nla_put_u32(skb, i, v->rdev);
			break;
		case MODALFS_ATTR_SIZE:
			err = modalfs_put_u64(skb, i, v->size);
			break;
		case MODALFS_ATTR_BLOCKS:
			err = modalfs_put_u64(skb, i, v->blocks);
			break;
		case MODALFS_ATTR_ATIME_SEC:
			err = nla_put_s64(skb, i, v->atime.tv_sec, 0);
			break;
		case MODALFS_ATTR_ATIME_NSEC:
			err = nla_put_u32(skb, i, v->atime.tv_nsec);
			break;
		case MODALFS_ATTR_MTIME_SEC:
			err = nla_put_s64(skb, i, v->mtime.tv_sec, 0);
			break;
		case MODALFS_ATTR_MTIME_NSEC:
			err = nla_put_u32(skb, i, v->mtime.tv_nsec);
			break;
		case MODALFS_ATTR_CTIME_SEC:
			err = nla_put_s64(skb, i, v->ctime.tv_sec, 0);
			break;
		case MODALFS_ATTR_CTIME_NSEC:
			err = nla_put_u32(skb, i, v->ctime.tv_nsec);
			break;
		}
		KUNIT_ASSERT_EQ(test, err, 0);
	}
	nla_nest_end(skb, nest);
}

static void tput_dirent(struct kunit *test, struct sk_buff *skb, u64 ino,
			u64 cookie, const char *name)
{
	struct nlattr *nest = nla_nest_start(skb, MODALFS_A_DIRENT);

	KUNIT_ASSERT_NOT_NULL(test, nest);
	KUNIT_ASSERT_EQ(test, modalfs_put_u64(skb, MODALFS_DIRENT_INO, ino), 0);
	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_DIRENT_TYPE, DT_REG), 0);
	KUNIT_ASSERT_EQ(test, modalfs_put_u64(skb, MODALFS_DIRENT_COOKIE, cookie), 0);
	KUNIT_ASSERT_EQ(test, nla_put_string(skb, MODALFS_DIRENT_NAME, name), 0);
	nla_nest_end(skb, nest);
}

static void tput_data(struct kunit *test, struct sk_buff *skb, size_t len)
{
	struct nlattr *nla = nla_reserve(skb, MODALFS_A_DATA, len);

	KUNIT_ASSERT_NOT_NULL(test, nla);
	memset(nla_data(nla), 0xab, len);
}

/* Parses skb as genetlink would, then runs the per-op check. */
static int tcheck(struct kunit *test, struct sk_buff *skb, u32 op,
		  const struct modalfs_expect *exp)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	const struct nlmsghdr *nlh;
	int err;

	err = tparse(skb, tb);
	KUNIT_ASSERT_EQ(test, err, 0);
	nlh = nlmsg_hdr(skb);
	err = modalfs_reply_check(op, exp, tb, nlmsg_attrdata(nlh, GENL_HDRLEN),
				  nlmsg_attrlen(nlh, GENL_HDRLEN));
	kfree_skb(skb);
	return err;
}

/* Policy verdict alone (0 or a negative errno). */
static int tpolicy(struct sk_buff *skb)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	int err = tparse(skb, tb);

	kfree_skb(skb);
	return err;
}

static void msg_request_roundtrip(struct kunit *test)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	struct sk_buff *skb = tmsg_new(test, MODALFS_CMD_REQUEST, 77,
				       MODALFS_OP_LOOKUP);
	struct genlmsghdr *g;

	KUNIT_ASSERT_EQ(test, modalfs_put_u64(skb, MODALFS_A_VOL_ID, 5), 0);
	KUNIT_ASSERT_EQ(test, modalfs_put_u64(skb, MODALFS_A_INO, 1), 0);
	KUNIT_ASSERT_EQ(test, modalfs_put_name(skb, MODALFS_A_NAME, "hello.txtXX", 9), 0);
	KUNIT_ASSERT_EQ(test, tparse(skb, tb), 0);
	g = nlmsg_data(nlmsg_hdr(skb));
	KUNIT_EXPECT_EQ(test, g->cmd, MODALFS_CMD_REQUEST);
	KUNIT_EXPECT_EQ(test, g->version, MODALFS_GENL_VERSION);
	KUNIT_EXPECT_EQ(test, nlmsg_hdr(skb)->nlmsg_type, 0x20);
	KUNIT_EXPECT_EQ(test, nla_get_u64(tb[MODALFS_A_REQ_ID]), 77ULL);
	KUNIT_EXPECT_EQ(test, nla_get_u32(tb[MODALFS_A_OP]), (u32)MODALFS_OP_LOOKUP);
	KUNIT_EXPECT_EQ(test, nla_get_u64(tb[MODALFS_A_VOL_ID]), 5ULL);
	KUNIT_EXPECT_EQ(test, nla_get_u64(tb[MODALFS_A_INO]), 1ULL);
	KUNIT_EXPECT_STREQ(test, (char *)nla_data(tb[MODALFS_A_NAME]), "hello.txt");
	KUNIT_EXPECT_EQ(test, nla_len(tb[MODALFS_A_NAME]), 10);
	kfree_skb(skb);
}

static void msg_request_setattr_times(struct kunit *test)
{
	struct nlattr *tb[MODALFS_A_MAX + 1], *at[MODALFS_ATTR_MAX + 1];
	struct sk_buff *skb = tmsg_new(test, MODALFS_CMD_REQUEST, 3,
				       MODALFS_OP_SETATTR);
	struct timespec64 ts = { -5, 123 };
	struct nlattr *nest;

	nest = nla_nest_start(skb, MODALFS_A_SETATTR);
	KUNIT_ASSERT_EQ(test, modalfs_put_ts(skb, MODALFS_ATTR_MTIME_SEC,
					     MODALFS_ATTR_MTIME_NSEC, &ts), 0);
	nla_nest_end(skb, nest);
	KUNIT_ASSERT_EQ(test, tparse(skb, tb), 0);
	KUNIT_ASSERT_NOT_NULL(test, tb[MODALFS_A_SETATTR]);
	KUNIT_EXPECT_TRUE(test, tb[MODALFS_A_SETATTR]->nla_type & NLA_F_NESTED);
	KUNIT_ASSERT_EQ(test, nla_parse_nested(at, MODALFS_ATTR_MAX,
					       tb[MODALFS_A_SETATTR],
					       modalfs_attr_policy, NULL), 0);
	KUNIT_EXPECT_EQ(test, nla_get_s64(at[MODALFS_ATTR_MTIME_SEC]), -5LL);
	KUNIT_EXPECT_EQ(test, nla_get_u32(at[MODALFS_ATTR_MTIME_NSEC]), 123U);
	KUNIT_EXPECT_NULL(test, at[MODALFS_ATTR_SIZE]);
	kfree_skb(skb);
}

static void msg_errno_reply_ok(struct kunit *test)
{
	struct modalfs_expect exp = { 0 };

	/* An errno reply needs nothing else, whatever the op. */
	KUNIT_EXPECT_EQ(test, tcheck(test, treply(test, 1, ENOENT),
				     MODALFS_OP_LOOKUP, &exp), 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, treply(test, 1, EIO),
				     MODALFS_OP_READ, &exp), 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, treply(test, 1, 0),
				     MODALFS_OP_UNLINK, &exp), 0);
}

static void msg_policy_bad_errno(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, tpolicy(treply(test, 1, 4095)), 0);
	KUNIT_EXPECT_NE(test, tpolicy(treply(test, 1, 4096)), 0);
	KUNIT_EXPECT_NE(test, tpolicy(treply(test, 1, 0xffffffff)), 0);
}

static void msg_policy_wrong_length(struct kunit *test)
{
	struct sk_buff *skb = treply(test, 1, 0);

	/* SIZE is a u32; eight bytes are refused by the strict parse. */
	KUNIT_ASSERT_EQ(test, nla_put_u64_64bit(skb, MODALFS_A_SIZE, 1, 0), 0);
	KUNIT_EXPECT_NE(test, tpolicy(skb), 0);

	skb = treply(test, 1, 0);
	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_VOL_ID, 1), 0);
	KUNIT_EXPECT_NE(test, tpolicy(skb), 0);
}

static void msg_policy_unterminated_string(struct kunit *test)
{
	struct sk_buff *skb = treply(test, 1, 0);

	KUNIT_ASSERT_EQ(test, nla_put(skb, MODALFS_A_TARGET, 3, "abc"), 0);
	KUNIT_EXPECT_NE(test, tpolicy(skb), 0);

	/* Longer than NAME_MAX. */
	skb = treply(test, 1, 0);
	{
		char *s = kunit_kzalloc(test, MODALFS_NAME_MAX + 2, GFP_KERNEL);

		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
		memset(s, 'n', MODALFS_NAME_MAX + 1);
		KUNIT_ASSERT_EQ(test, nla_put_string(skb, MODALFS_A_NAME, s), 0);
	}
	KUNIT_EXPECT_NE(test, tpolicy(skb), 0);
}

static void msg_policy_unknown_attr(struct kunit *test)
{
	struct sk_buff *skb = treply(test, 1, 0);

	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_MAX + 1, 0), 0);
	KUNIT_EXPECT_NE(test, tpolicy(skb), 0);

	/* Control-channel attributes are not for the kernel family. */
	skb = treply(test, 1, 0);
	KUNIT_ASSERT_EQ(test, nla_put_string(skb, MODALFS_A_APP_ID, "ap-x"), 0);
	KUNIT_EXPECT_NE(test, tpolicy(skb), 0);

	/* REQ_ID 0 is never valid. */
	skb = tmsg_new(test, MODALFS_CMD_REPLY, 0, 0);
	KUNIT_EXPECT_NE(test, tpolicy(skb), 0);
}

static void msg_policy_data_size(struct kunit *test)
{
	struct sk_buff *skb = treply(test, 1, 0);

	tput_data(test, skb, MODALFS_DATA_CHUNK);
	KUNIT_EXPECT_EQ(test, tpolicy(skb), 0);

	skb = treply(test, 1, 0);
	tput_data(test, skb, MODALFS_DATA_CHUNK + 1);
	KUNIT_EXPECT_NE(test, tpolicy(skb), 0);

	skb = treply(test, 1, 0);
	KUNIT_ASSERT_EQ(test, nla_put(skb, MODALFS_A_DATA, 0, NULL), 0);
	KUNIT_EXPECT_NE(test, tpolicy(skb), 0);
}

static void msg_policy_nested(struct kunit *test)
{
	struct modalfs_attr_val v = tattr_default;
	struct sk_buff *skb;

	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &v, 0);
	KUNIT_EXPECT_EQ(test, tpolicy(skb), 0);

	v.mtime.tv_nsec = NSEC_PER_SEC;
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &v, 0);
	KUNIT_EXPECT_NE(test, tpolicy(skb), 0);

	v = tattr_default;
	v.size = (u64)S64_MAX + 1;
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &v, 0);
	KUNIT_EXPECT_NE(test, tpolicy(skb), 0);

	/* ATTR as a flat u32 instead of a nest. */
	skb = treply(test, 1, 0);
	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_ATTR, 1), 0);
	KUNIT_EXPECT_NE(test, tpolicy(skb), 0);
}

static void msg_attr_decode_good(struct kunit *test)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	struct modalfs_attr_val v;
	struct sk_buff *skb = treply(test, 1, 0);

	tput_attr(test, skb, MODALFS_A_ATTR, &tattr_default, 0);
	KUNIT_ASSERT_EQ(test, tparse(skb, tb), 0);
	KUNIT_ASSERT_EQ(test, modalfs_attr_decode(tb[MODALFS_A_ATTR], &v), 0);
	KUNIT_EXPECT_EQ(test, v.ino, 42ULL);
	KUNIT_EXPECT_EQ(test, v.mode, (u32)(S_IFREG | 0644));
	KUNIT_EXPECT_EQ(test, v.nlink, 1U);
	KUNIT_EXPECT_EQ(test, v.uid, 1000U);
	KUNIT_EXPECT_EQ(test, v.gid, 1001U);
	KUNIT_EXPECT_EQ(test, v.size, 12345ULL);
	KUNIT_EXPECT_EQ(test, v.blocks, 24ULL);
	KUNIT_EXPECT_EQ(test, v.atime.tv_sec, 1700000000LL);
	KUNIT_EXPECT_EQ(test, v.mtime.tv_nsec, 2L);
	KUNIT_EXPECT_EQ(test, v.ctime.tv_nsec, 999999999L);
	kfree_skb(skb);
}

static void msg_attr_decode_missing(struct kunit *test)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	struct modalfs_attr_val v;
	int omit;

	KUNIT_EXPECT_EQ(test, modalfs_attr_decode(NULL, &v), -EIO);
	for (omit = 1; omit <= MODALFS_ATTR_MAX; omit++) {
		struct sk_buff *skb = treply(test, 1, 0);

		tput_attr(test, skb, MODALFS_A_ATTR, &tattr_default, omit);
		KUNIT_ASSERT_EQ(test, tparse(skb, tb), 0);
		KUNIT_EXPECT_EQ_MSG(test, modalfs_attr_decode(tb[MODALFS_A_ATTR], &v),
				    -EIO, "member %d omitted", omit);
		kfree_skb(skb);
	}
}

static void msg_attr_decode_bad_mode(struct kunit *test)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	struct modalfs_attr_val v = tattr_default;
	static const u32 bad[] = { 0644, S_IFMT | 0644, S_IFREG | 010000000 };
	int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct sk_buff *skb = treply(test, 1, 0);

		v.mode = bad[i];
		tput_attr(test, skb, MODALFS_A_ATTR, &v, 0);
		KUNIT_ASSERT_EQ(test, tparse(skb, tb), 0);
		KUNIT_EXPECT_EQ(test, modalfs_attr_decode(tb[MODALFS_A_ATTR], &v),
				-EIO);
		kfree_skb(skb);
	}
}

static void msg_check_attr_ops(struct kunit *test)
{
	struct modalfs_expect exp = { .ino = 42, .type = S_IFREG };
	struct sk_buff *skb;

	/* Missing ATTR. */
	KUNIT_EXPECT_EQ(test, tcheck(test, treply(test, 1, 0),
				     MODALFS_OP_LOOKUP, &exp), -EIO);
	KUNIT_EXPECT_EQ(test, tcheck(test, treply(test, 1, 0),
				     MODALFS_OP_CREATE, &exp), -EIO);

	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &tattr_default, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_GETATTR, &exp), 0);

	/* Another inode than the one asked about. */
	exp.ino = 43;
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &tattr_default, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_SETATTR, &exp), -EIO);

	/* MKDIR answered with a regular file. */
	exp.ino = 0;
	exp.type = S_IFDIR;
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &tattr_default, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_MKDIR, &exp), -EIO);
}

/*
 * The changed directories' attributes of namespace ops (DIR_ATTR,
 * RENAME's NEW_DIR_ATTR): optional, but when present a directory and the
 * one the request changed.
 */
static void msg_check_dir_attr(struct kunit *test)
{
	struct modalfs_attr_val file = tattr_default, dir = tattr_default;
	struct modalfs_expect exp = { .dir_ino = 7, .new_dir_ino = 8 };
	struct sk_buff *skb;

	dir.ino = 7;
	dir.mode = S_IFDIR | 0755;
	dir.nlink = 3;
	/* Absent: today's replies stay valid. */
	KUNIT_EXPECT_EQ(test, tcheck(test, treply(test, 1, 0),
				     MODALFS_OP_UNLINK, &exp), 0);
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &file, 0);
	tput_attr(test, skb, MODALFS_A_DIR_ATTR, &dir, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_CREATE, &exp), 0);
	/* Another directory than the request's. */
	exp.dir_ino = 9;
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_DIR_ATTR, &dir, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_RMDIR, &exp), -EIO);
	/* Not a directory. */
	exp.dir_ino = 42;
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_DIR_ATTR, &file, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_UNLINK, &exp), -EIO);
	/* Incomplete. */
	exp.dir_ino = 7;
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_DIR_ATTR, &dir, MODALFS_ATTR_MTIME_SEC);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_UNLINK, &exp), -EIO);
	/* RENAME's second directory, which only RENAME has. */
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_DIR_ATTR, &dir, 0);
	dir.ino = 8;
	tput_attr(test, skb, MODALFS_A_NEW_DIR_ATTR, &dir, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_RENAME, &exp), 0);
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_NEW_DIR_ATTR, &dir, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_UNLINK, &exp), -EIO);
	exp.new_dir_ino = 10;
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_NEW_DIR_ATTR, &dir, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_RENAME, &exp), -EIO);
}

/*
 * An entry names a linked inode: nlink 0 in LOOKUP, CREATE, LINK... is a
 * lie (dir.c's link counting would WARN); GETATTR may say 0 (an open,
 * unlinked file).
 */
static void msg_check_nlink_zero(struct kunit *test)
{
	static const u32 linked_ops[] = {
		MODALFS_OP_LOOKUP, MODALFS_OP_CREATE, MODALFS_OP_MKDIR,
		MODALFS_OP_SYMLINK, MODALFS_OP_LINK,
	};
	struct modalfs_attr_val v = tattr_default;
	struct modalfs_expect exp = { 0 };
	struct sk_buff *skb;
	int i;

	v.nlink = 0;
	for (i = 0; i < ARRAY_SIZE(linked_ops); i++) {
		skb = treply(test, 1, 0);
		tput_attr(test, skb, MODALFS_A_ATTR, &v, 0);
		KUNIT_EXPECT_EQ_MSG(test, tcheck(test, skb, linked_ops[i], &exp),
				    -EIO, "op %u", linked_ops[i]);
	}
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &v, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_GETATTR, &exp), 0);
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &v, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_SETATTR, &exp), 0);
}

/*
 * WRITE data in page fragments: after linearizing, the message parses as
 * DATA chunks carrying exactly the source bytes (two pages, one and a
 * half chunks' worth; the last chunk short and padded).
 */
static void tdata_pages(struct kunit *test, const size_t len)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	unsigned int npages = DIV_ROUND_UP(len, PAGE_SIZE), i;
	struct page **src;
	struct sk_buff *skb;
	struct nlmsghdr *nlh;
	char *want, *got, *lin;

	src = kunit_kcalloc(test, npages, sizeof(*src), GFP_KERNEL);
	want = kunit_kmalloc(test, len, GFP_KERNEL);
	got = kunit_kzalloc(test, len, GFP_KERNEL);
	lin = kvmalloc(MODALFS_MSG_MAX, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, lin);
	KUNIT_ASSERT_NOT_NULL(test, src);
	KUNIT_ASSERT_NOT_NULL(test, want);
	KUNIT_ASSERT_NOT_NULL(test, got);
	for (i = 0; i < npages; i++) {
		src[i] = alloc_page(GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, src[i]);
	}
	for (i = 0; i < len; i++)
		want[i] = (char)(i * 7 + i / 4096);
	for (i = 0; i < npages; i++)
		memcpy_to_page(src[i], 0, want + i * PAGE_SIZE,
			       min_t(size_t, PAGE_SIZE, len - i * PAGE_SIZE));
	skb = tmsg_new(test, MODALFS_CMD_REQUEST, 5, MODALFS_OP_WRITE);
	KUNIT_ASSERT_EQ(test, modalfs_put_u64(skb, MODALFS_A_OFFSET, 0), 0);
	KUNIT_ASSERT_EQ(test, modalfs_put_data_pages(skb, src, len, GFP_KERNEL), 0);
	KUNIT_EXPECT_GT(test, skb_shinfo(skb)->nr_frags, 0);
	/* No high-order buffer: the linear part stays small. */
	KUNIT_EXPECT_LT(test, skb_headlen(skb), 1024U);
	/* Past MAX_SKB_FRAGS pages the rest hangs on the frag_list. */
	if (DIV_ROUND_UP(modalfs_data_space(len), PAGE_SIZE) > MAX_SKB_FRAGS)
		KUNIT_EXPECT_NOT_NULL(test, skb_shinfo(skb)->frag_list);
	nlmsg_hdr(skb)->nlmsg_len = skb->len;
	KUNIT_ASSERT_LE(test, skb->len, (unsigned int)MODALFS_MSG_MAX);
	/* What netlink's recvmsg copies out, without a linear copy here. */
	KUNIT_ASSERT_EQ(test, skb_copy_bits(skb, 0, lin, skb->len), 0);
	nlh = (struct nlmsghdr *)lin;
	KUNIT_ASSERT_EQ(test, modalfs_msg_parse(nlh, tb, NULL), 0);
	KUNIT_EXPECT_EQ(test, modalfs_get_data(nlmsg_attrdata(nlh, GENL_HDRLEN),
					       nlmsg_attrlen(nlh, GENL_HDRLEN),
					       got, len), len);
	KUNIT_EXPECT_EQ(test, memcmp(want, got, len), 0);
	kfree_skb(skb);
	kvfree(lin);
	for (i = 0; i < npages; i++)
		__free_page(src[i]);
}

static void msg_data_pages(struct kunit *test)
{
	tdata_pages(test, MODALFS_DATA_CHUNK + 4099);
}

/* A full MODALFS_IO_MAX WRITE: 257 pages, most of them on the frag_list. */
static void msg_data_pages_io_max(struct kunit *test)
{
	tdata_pages(test, MODALFS_IO_MAX);
}

static void msg_check_mount(struct kunit *test)
{
	struct modalfs_attr_val dir = tattr_default;
	struct modalfs_expect exp = { .type = S_IFDIR };
	struct sk_buff *skb;

	dir.ino = MODALFS_ROOT_INO;
	dir.mode = S_IFDIR | 0755;
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &dir, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_MOUNT, &exp), -EIO);

	skb = treply(test, 1, 0);
	KUNIT_ASSERT_EQ(test, modalfs_put_u64(skb, MODALFS_A_VOL_ID, 9), 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &dir, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_MOUNT, &exp), 0);
}

/* INO_RANGE: the count asked for, from above the root, without wrapping. */
static struct sk_buff *tino_range(struct kunit *test, u64 first, u32 n)
{
	struct sk_buff *skb = treply(test, 1, 0);

	KUNIT_ASSERT_EQ(test, modalfs_put_u64(skb, MODALFS_A_INO, first), 0);
	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_SIZE, n), 0);
	return skb;
}

static void msg_check_ino_range(struct kunit *test)
{
	struct modalfs_expect exp = { .size = 1024 };
	struct sk_buff *skb;

	KUNIT_EXPECT_EQ(test, tcheck(test, tino_range(test, 100, 1024),
				     MODALFS_OP_INO_RANGE, &exp), 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, tino_range(test, 100, 512),
				     MODALFS_OP_INO_RANGE, &exp), -EIO);
	KUNIT_EXPECT_EQ(test, tcheck(test, tino_range(test, MODALFS_ROOT_INO,
						      1024),
				     MODALFS_OP_INO_RANGE, &exp), -EIO);
	KUNIT_EXPECT_EQ(test, tcheck(test, tino_range(test, U64_MAX - 10, 1024),
				     MODALFS_OP_INO_RANGE, &exp), -EIO);
	skb = treply(test, 1, 0);
	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_SIZE, 1024), 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_INO_RANGE, &exp),
			-EIO);
}

static void msg_check_read(struct kunit *test)
{
	struct modalfs_expect exp = { .size = MODALFS_IO_MAX };
	struct sk_buff *skb;

	/* Nothing: end of file. */
	KUNIT_EXPECT_EQ(test, tcheck(test, treply(test, 1, 0), MODALFS_OP_READ,
				     &exp), 0);

	skb = treply(test, 1, 0);
	tput_data(test, skb, MODALFS_DATA_CHUNK);
	tput_data(test, skb, 100);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_READ, &exp), 0);

	/* More than asked for. */
	exp.size = 4096;
	skb = treply(test, 1, 0);
	tput_data(test, skb, 4097);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_READ, &exp), -EIO);

	/* A short chunk that is not the last one. */
	exp.size = MODALFS_IO_MAX;
	skb = treply(test, 1, 0);
	tput_data(test, skb, 100);
	tput_data(test, skb, 100);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_READ, &exp), -EIO);

	/* Three full chunks exceed a two-chunk SIZE. */
	exp.size = 2 * MODALFS_DATA_CHUNK;
	skb = treply(test, 1, 0);
	tput_data(test, skb, MODALFS_DATA_CHUNK);
	tput_data(test, skb, MODALFS_DATA_CHUNK);
	tput_data(test, skb, MODALFS_DATA_CHUNK);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_READ, &exp), -EIO);
}

static void msg_check_write(struct kunit *test)
{
	struct modalfs_expect exp = { .size = 8192 };
	struct sk_buff *skb;

	KUNIT_EXPECT_EQ(test, tcheck(test, treply(test, 1, 0), MODALFS_OP_WRITE,
				     &exp), -EIO);
	skb = treply(test, 1, 0);
	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_SIZE, 4096), 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_WRITE, &exp), -EIO);
	skb = treply(test, 1, 0);
	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_SIZE, 8192), 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_WRITE, &exp), 0);
}

/* WRITE replies carry the inode after the write; older daemons omit it. */
static void msg_check_write_attr(struct kunit *test)
{
	struct modalfs_expect exp = { .size = 8192, .ino = 42,
				      .type = S_IFREG };
	struct modalfs_attr_val other = tattr_default;
	struct sk_buff *skb;

	/* SIZE only (a daemon from before ATTR): still a good reply. */
	skb = treply(test, 1, 0);
	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_SIZE, 8192), 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_WRITE, &exp), 0);

	skb = treply(test, 1, 0);
	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_SIZE, 8192), 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &tattr_default, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_WRITE, &exp), 0);

	/* ATTR does not make up for a missing or wrong SIZE. */
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &tattr_default, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_WRITE, &exp), -EIO);
	skb = treply(test, 1, 0);
	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_SIZE, 4096), 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &tattr_default, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_WRITE, &exp), -EIO);

	/* Another inode than the one written. */
	other.ino = 43;
	skb = treply(test, 1, 0);
	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_SIZE, 8192), 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &other, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_WRITE, &exp), -EIO);

	/* The right inode, but not a regular file. */
	other.ino = 42;
	other.mode = S_IFDIR | 0755;
	skb = treply(test, 1, 0);
	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_SIZE, 8192), 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &other, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_WRITE, &exp), -EIO);

	/* Present but incomplete: no BLOCKS. */
	skb = treply(test, 1, 0);
	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_SIZE, 8192), 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &tattr_default,
		  MODALFS_ATTR_BLOCKS);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_WRITE, &exp), -EIO);
}

static void msg_check_readdir(struct kunit *test)
{
	struct modalfs_expect exp = { .size = 2, .offset = 0 };
	struct sk_buff *skb;

	skb = treply(test, 1, 0);
	tput_dirent(test, skb, 5, 3, "a");
	tput_dirent(test, skb, 6, 9, "b");
	KUNIT_ASSERT_EQ(test, nla_put_flag(skb, MODALFS_A_EOF), 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_READDIR, &exp), 0);

	/* Cookies must grow, or readdir could loop forever. */
	skb = treply(test, 1, 0);
	tput_dirent(test, skb, 5, 9, "a");
	tput_dirent(test, skb, 6, 9, "b");
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_READDIR, &exp), -EIO);

	exp.offset = 10;
	skb = treply(test, 1, 0);
	tput_dirent(test, skb, 5, 10, "a");
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_READDIR, &exp), -EIO);

	/* More entries than asked for. */
	exp.offset = 0;
	skb = treply(test, 1, 0);
	tput_dirent(test, skb, 5, 3, "a");
	tput_dirent(test, skb, 6, 4, "b");
	tput_dirent(test, skb, 7, 5, "c");
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_READDIR, &exp), -EIO);

	/* Names the VFS must never see. */
	skb = treply(test, 1, 0);
	tput_dirent(test, skb, 5, 3, "..");
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_READDIR, &exp), -EIO);
	skb = treply(test, 1, 0);
	tput_dirent(test, skb, 5, 3, "a/b");
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_READDIR, &exp), -EIO);
}

/* One READDIRPLUS entry: a regular file's DIRENT with v as its ATTR. */
static void tput_dirent_plus(struct kunit *test, struct sk_buff *skb,
			     u64 ino, u64 cookie, const char *name,
			     const struct modalfs_attr_val *v)
{
	struct nlattr *nest = nla_nest_start(skb, MODALFS_A_DIRENT);

	KUNIT_ASSERT_NOT_NULL(test, nest);
	KUNIT_ASSERT_EQ(test, modalfs_put_u64(skb, MODALFS_DIRENT_INO, ino), 0);
	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_DIRENT_TYPE, DT_REG), 0);
	KUNIT_ASSERT_EQ(test, modalfs_put_u64(skb, MODALFS_DIRENT_COOKIE, cookie), 0);
	KUNIT_ASSERT_EQ(test, nla_put_string(skb, MODALFS_DIRENT_NAME, name), 0);
	tput_attr(test, skb, MODALFS_DIRENT_ATTR, v, 0);
	nla_nest_end(skb, nest);
}

static void msg_check_readdir_plus(struct kunit *test)
{
	struct modalfs_expect exp = { .size = 2, .offset = 0 };
	struct modalfs_attr_val v = tattr_default;
	struct modalfs_dirent_val d;
	struct nlattr *tb[MODALFS_A_MAX + 1];
	struct sk_buff *skb;

	/* An entry with its inode, and one without (a LOOKUP gets it). */
	v.ino = 5;
	skb = treply(test, 1, 0);
	tput_dirent_plus(test, skb, 5, 3, "a", &v);
	tput_dirent(test, skb, 6, 9, "b");
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_READDIR, &exp), 0);
	skb = treply(test, 1, 0);
	tput_dirent_plus(test, skb, 5, 3, "a", &v);
	KUNIT_ASSERT_EQ(test, tparse(skb, tb), 0);
	KUNIT_ASSERT_EQ(test, modalfs_dirent_decode(tb[MODALFS_A_DIRENT], &d), 0);
	KUNIT_EXPECT_NOT_NULL(test, d.attr);
	kfree_skb(skb);

	/* The ATTR of another inode. */
	v.ino = 6;
	skb = treply(test, 1, 0);
	tput_dirent_plus(test, skb, 5, 3, "a", &v);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_READDIR, &exp), -EIO);

	/* A type other than the entry's (a directory's mode, DT_REG). */
	v.ino = 5;
	v.mode = S_IFDIR | 0755;
	skb = treply(test, 1, 0);
	tput_dirent_plus(test, skb, 5, 3, "a", &v);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_READDIR, &exp), -EIO);

	/* An ATTR with a member missing. */
	v.mode = S_IFREG | 0644;
	skb = treply(test, 1, 0);
	{
		struct nlattr *nest = nla_nest_start(skb, MODALFS_A_DIRENT);

		KUNIT_ASSERT_NOT_NULL(test, nest);
		KUNIT_ASSERT_EQ(test, modalfs_put_u64(skb, MODALFS_DIRENT_INO, 5), 0);
		KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_DIRENT_TYPE, DT_REG), 0);
		KUNIT_ASSERT_EQ(test, modalfs_put_u64(skb, MODALFS_DIRENT_COOKIE, 3), 0);
		KUNIT_ASSERT_EQ(test, nla_put_string(skb, MODALFS_DIRENT_NAME, "a"), 0);
		tput_attr(test, skb, MODALFS_DIRENT_ATTR, &v, MODALFS_ATTR_NLINK);
		nla_nest_end(skb, nest);
	}
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_READDIR, &exp), -EIO);
}

static void msg_check_statfs(struct kunit *test)
{
	struct modalfs_expect exp = { 0 };
	u64 vals[] = { 100, 50, 40, 10, 5 };
	struct sk_buff *skb;
	struct nlattr *nest;
	int round, i;

	KUNIT_EXPECT_EQ(test, tcheck(test, treply(test, 1, 0),
				     MODALFS_OP_STATFS, &exp), -EIO);
	for (round = 0; round < 2; round++) {
		if (round == 1)
			vals[1] = 200;	/* more free than total */
		skb = treply(test, 1, 0);
		nest = nla_nest_start(skb, MODALFS_A_STATFS);
		KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_STATFS_BSIZE, 4096), 0);
		for (i = 0; i < 5; i++)
			KUNIT_ASSERT_EQ(test, modalfs_put_u64(skb,
					MODALFS_STATFS_BLOCKS + i, vals[i]), 0);
		KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_STATFS_NAMELEN, 255), 0);
		nla_nest_end(skb, nest);
		KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_STATFS, &exp),
				round ? -EIO : 0);
	}
}

static void msg_check_readlink(struct kunit *test)
{
	struct modalfs_expect exp = { 0 };
	struct sk_buff *skb;

	KUNIT_EXPECT_EQ(test, tcheck(test, treply(test, 1, 0),
				     MODALFS_OP_READLINK, &exp), -EIO);
	skb = treply(test, 1, 0);
	KUNIT_ASSERT_EQ(test, nla_put_string(skb, MODALFS_A_TARGET, ""), 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_READLINK, &exp), -EIO);
	skb = treply(test, 1, 0);
	KUNIT_ASSERT_EQ(test, nla_put_string(skb, MODALFS_A_TARGET, "../x"), 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_READLINK, &exp), 0);
}

static void msg_mode_valid(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, modalfs_mode_valid(S_IFREG | 04755));
	KUNIT_EXPECT_TRUE(test, modalfs_mode_valid(S_IFDIR | 01777));
	KUNIT_EXPECT_TRUE(test, modalfs_mode_valid(S_IFLNK | 0777));
	KUNIT_EXPECT_TRUE(test, modalfs_mode_valid(S_IFSOCK));
	KUNIT_EXPECT_FALSE(test, modalfs_mode_valid(0));
	KUNIT_EXPECT_FALSE(test, modalfs_mode_valid(0170000));
	KUNIT_EXPECT_FALSE(test, modalfs_mode_valid(S_IFREG | 0200000));
}

static struct kunit_case modalfs_msg_cases[] = {
	KUNIT_CASE(msg_request_roundtrip),
	KUNIT_CASE(msg_request_setattr_times),
	KUNIT_CASE(msg_errno_reply_ok),
	KUNIT_CASE(msg_policy_bad_errno),
	KUNIT_CASE(msg_policy_wrong_length),
	KUNIT_CASE(msg_policy_unterminated_string),
	KUNIT_CASE(msg_policy_unknown_attr),
	KUNIT_CASE(msg_policy_data_size),
	KUNIT_CASE(msg_policy_nested),
	KUNIT_CASE(msg_attr_decode_good),
	KUNIT_CASE(msg_attr_decode_missing),
	KUNIT_CASE(msg_attr_decode_bad_mode),
	KUNIT_CASE(msg_check_attr_ops),
	KUNIT_CASE(msg_check_nlink_zero),
	KUNIT_CASE(msg_check_dir_attr),
	KUNIT_CASE(msg_data_pages),
	KUNIT_CASE(msg_data_pages_io_max),
	KUNIT_CASE(msg_check_mount),
	KUNIT_CASE(msg_check_ino_range),
	KUNIT_CASE(msg_check_read),
	KUNIT_CASE(msg_check_write),
	KUNIT_CASE(msg_check_write_attr),
	KUNIT_CASE(msg_check_readdir),
	KUNIT_CASE(msg_check_readdir_plus),
	KUNIT_CASE(msg_check_statfs),
	KUNIT_CASE(msg_check_readlink),
	KUNIT_CASE(msg_mode_valid),
	{}
};

static struct kunit_suite modalfs_msg_suite = {
	.name = "modalfs_msg",
	.test_cases = modalfs_msg_cases,
};
