// SPDX-License-Identifier: GPL-2.0
/* Included by modalfs_kunit.c: xattr payloads, limits and list filtering. */

/* SETXATTR values are split into full DATA chunks and a short last one. */
static void xattr_put_data_chunks(struct kunit *test)
{
	static const size_t sizes[] = {
		1, MODALFS_DATA_CHUNK - 1, MODALFS_DATA_CHUNK,
		MODALFS_DATA_CHUNK + 1, MODALFS_XATTR_SIZE_MAX,
	};
	struct nlattr *tb[MODALFS_A_MAX + 1];
	const struct nlattr *head, *nla;
	char *val, *back;
	int i, rem, len;

	val = kunit_kmalloc(test, MODALFS_XATTR_SIZE_MAX, GFP_KERNEL);
	back = kunit_kzalloc(test, MODALFS_XATTR_SIZE_MAX, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, val);
	KUNIT_ASSERT_NOT_NULL(test, back);
	for (i = 0; i < MODALFS_XATTR_SIZE_MAX; i++)
		val[i] = (char)(i * 7 + i / 251);

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct sk_buff *skb = tmsg_new(test, MODALFS_CMD_REQUEST, 1,
					       MODALFS_OP_SETXATTR);
		size_t before = skb->len, got = 0;
		int chunks = 0;

		KUNIT_ASSERT_EQ(test, modalfs_put_data(skb, val, sizes[i]), 0);
		/* The space estimate used to size the message holds. */
		KUNIT_EXPECT_LE(test, skb->len - before,
				modalfs_data_space(sizes[i]));
		KUNIT_ASSERT_EQ(test, tparse(skb, tb), 0);
		head = nlmsg_attrdata(nlmsg_hdr(skb), GENL_HDRLEN);
		len = nlmsg_attrlen(nlmsg_hdr(skb), GENL_HDRLEN);
		nla_for_each_attr(nla, head, len, rem) {
			if (nla_type(nla) != MODALFS_A_DATA)
				continue;
			chunks++;
			got += nla_len(nla);
			if (got < sizes[i])
				KUNIT_EXPECT_EQ(test, nla_len(nla),
						MODALFS_DATA_CHUNK);
		}
		KUNIT_EXPECT_EQ(test, got, sizes[i]);
		KUNIT_EXPECT_EQ(test, chunks,
				(int)DIV_ROUND_UP(sizes[i], MODALFS_DATA_CHUNK));
		memset(back, 0, MODALFS_XATTR_SIZE_MAX);
		KUNIT_EXPECT_EQ(test, modalfs_get_data(head, len, back,
						       MODALFS_XATTR_SIZE_MAX),
				sizes[i]);
		KUNIT_EXPECT_EQ(test, memcmp(back, val, sizes[i]), 0);
		/* A smaller buffer gets a prefix, never an overrun. */
		memset(back, 0x5a, MODALFS_XATTR_SIZE_MAX);
		KUNIT_EXPECT_EQ(test, modalfs_get_data(head, len, back, 3),
				min_t(size_t, 3, sizes[i]));
		KUNIT_EXPECT_EQ(test, back[3], (char)0x5a);
		kfree_skb(skb);
	}
}

/* An empty value is no DATA at all (the protocol's "empty value"). */
static void xattr_put_data_empty(struct kunit *test)
{
	struct sk_buff *skb = tmsg_new(test, MODALFS_CMD_REQUEST, 1,
				       MODALFS_OP_SETXATTR);
	size_t before = skb->len;

	KUNIT_EXPECT_EQ(test, modalfs_put_data(skb, "", 0), 0);
	KUNIT_EXPECT_EQ(test, skb->len, before);
	KUNIT_EXPECT_EQ(test, modalfs_data_space(0), (size_t)0);
	kfree_skb(skb);
}

/* A request can never exceed the message limit, even at the value limit. */
static void xattr_max_fits_message(struct kunit *test)
{
	KUNIT_EXPECT_LE(test, modalfs_data_space(MODALFS_XATTR_SIZE_MAX) +
			MODALFS_NAME_MAX + 256, (size_t)MODALFS_MSG_MAX);
}

static void xattr_result(struct kunit *test)
{
	/* Size query. */
	KUNIT_EXPECT_EQ(test, modalfs_xattr_result(0, 0), 0L);
	KUNIT_EXPECT_EQ(test, modalfs_xattr_result(17, 0), 17L);
	/* Too small. */
	KUNIT_EXPECT_EQ(test, modalfs_xattr_result(17, 16), (ssize_t)-ERANGE);
	KUNIT_EXPECT_EQ(test, modalfs_xattr_result(65536, 65535),
			(ssize_t)-ERANGE);
	/* Exactly enough and more than enough. */
	KUNIT_EXPECT_EQ(test, modalfs_xattr_result(17, 17), 17L);
	KUNIT_EXPECT_EQ(test, modalfs_xattr_result(0, 5), 0L);
	KUNIT_EXPECT_EQ(test, modalfs_xattr_result(17, 65536), 17L);
}

static void xattr_name_ok(struct kunit *test)
{
	char *long_name = kunit_kzalloc(test, 300, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, long_name);
	KUNIT_EXPECT_TRUE(test, modalfs_xattr_name_ok("user.a"));
	KUNIT_EXPECT_TRUE(test, modalfs_xattr_name_ok("trusted.overlay.x"));
	KUNIT_EXPECT_TRUE(test, modalfs_xattr_name_ok("security.capability"));
	/* Prefix alone, other namespaces, no namespace. */
	KUNIT_EXPECT_FALSE(test, modalfs_xattr_name_ok("user."));
	KUNIT_EXPECT_FALSE(test, modalfs_xattr_name_ok("system.posix_acl_access"));
	KUNIT_EXPECT_FALSE(test, modalfs_xattr_name_ok("foo"));
	KUNIT_EXPECT_FALSE(test, modalfs_xattr_name_ok("User.a"));
	KUNIT_EXPECT_FALSE(test, modalfs_xattr_name_ok(""));
	/* 255 bytes is the limit, 256 is over. */
	memcpy(long_name, "user.", 5);
	memset(long_name + 5, 'x', 250);
	KUNIT_EXPECT_TRUE(test, modalfs_xattr_name_ok(long_name));
	long_name[255] = 'x';
	KUNIT_EXPECT_FALSE(test, modalfs_xattr_name_ok(long_name));
}

static void xattr_list_filter(struct kunit *test)
{
	static const char all[] = "user.a\0trusted.t1\0security.s\0trusted.t2\0user.b";
	char buf[sizeof(all)];

	/* Privileged: everything, unchanged. */
	memcpy(buf, all, sizeof(all));
	KUNIT_EXPECT_EQ(test, modalfs_xattr_list_filter(buf, sizeof(all), true),
			(ssize_t)sizeof(all));
	KUNIT_EXPECT_EQ(test, memcmp(buf, all, sizeof(all)), 0);

	/* Unprivileged: trusted.* gone, the rest in order and compacted. */
	memcpy(buf, all, sizeof(all));
	KUNIT_EXPECT_EQ(test, modalfs_xattr_list_filter(buf, sizeof(all), false),
			(ssize_t)sizeof("user.a\0security.s\0user.b"));
	KUNIT_EXPECT_EQ(test, memcmp(buf, "user.a\0security.s\0user.b",
				     sizeof("user.a\0security.s\0user.b")), 0);

	/* Only trusted names: nothing left. */
	memcpy(buf, "trusted.x", sizeof("trusted.x"));
	KUNIT_EXPECT_EQ(test, modalfs_xattr_list_filter(buf, sizeof("trusted.x"),
							false), 0L);
	/* Empty list. */
	KUNIT_EXPECT_EQ(test, modalfs_xattr_list_filter(buf, 0, false), 0L);
}

static void xattr_list_malformed(struct kunit *test)
{
	char buf[32];

	/* Not NUL-terminated. */
	memcpy(buf, "user.a\0user.b", 13);
	KUNIT_EXPECT_EQ(test, modalfs_xattr_list_filter(buf, 13, true),
			(ssize_t)-EIO);
	/* An empty name. */
	memcpy(buf, "user.a\0\0", 8);
	KUNIT_EXPECT_EQ(test, modalfs_xattr_list_filter(buf, 8, true),
			(ssize_t)-EIO);
	/* A namespace the protocol does not have. */
	memcpy(buf, "system.x\0", 9);
	KUNIT_EXPECT_EQ(test, modalfs_xattr_list_filter(buf, 9, true),
			(ssize_t)-EIO);
}

/* GETXATTR/LISTXATTR replies: SIZE must match the DATA exactly. */
static void xattr_check_get_reply(struct kunit *test)
{
	struct modalfs_expect exp = { .size = MODALFS_XATTR_SIZE_MAX };
	static const u32 ops[] = { MODALFS_OP_GETXATTR, MODALFS_OP_LISTXATTR };
	struct sk_buff *skb;
	int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		u32 op = ops[i];

		/* Empty value: SIZE 0, no DATA. */
		skb = treply(test, 1, 0);
		KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_SIZE, 0), 0);
		KUNIT_EXPECT_EQ(test, tcheck(test, skb, op, &exp), 0);

		/* No SIZE. */
		skb = treply(test, 1, 0);
		tput_data(test, skb, 10);
		KUNIT_EXPECT_EQ(test, tcheck(test, skb, op, &exp), -EIO);

		/* SIZE and DATA disagree. */
		skb = treply(test, 1, 0);
		KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_SIZE, 11), 0);
		tput_data(test, skb, 10);
		KUNIT_EXPECT_EQ(test, tcheck(test, skb, op, &exp), -EIO);

		/* The largest value: two full chunks. */
		skb = treply(test, 1, 0);
		KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_SIZE,
						  MODALFS_XATTR_SIZE_MAX), 0);
		tput_data(test, skb, MODALFS_DATA_CHUNK);
		tput_data(test, skb, MODALFS_DATA_CHUNK);
		KUNIT_EXPECT_EQ(test, tcheck(test, skb, op, &exp), 0);

		/* A short chunk before the last one. */
		skb = treply(test, 1, 0);
		KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_SIZE,
						  MODALFS_DATA_CHUNK + 1), 0);
		tput_data(test, skb, 1);
		tput_data(test, skb, MODALFS_DATA_CHUNK);
		KUNIT_EXPECT_EQ(test, tcheck(test, skb, op, &exp), -EIO);
	}

	/* Over the limit the caller expects. */
	exp.size = 100;
	skb = treply(test, 1, 0);
	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_SIZE, 101), 0);
	tput_data(test, skb, 101);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_GETXATTR, &exp),
			-EIO);

	/* An error reply needs nothing else. */
	KUNIT_EXPECT_EQ(test, tcheck(test, treply(test, 1, ENODATA),
				     MODALFS_OP_GETXATTR, &exp), 0);
}

/* SETXATTR/REMOVEXATTR replies carry the inode's ATTR (for ctime). */
static void xattr_check_set_reply(struct kunit *test)
{
	struct modalfs_expect exp = { .ino = 42, .type = S_IFREG };
	struct modalfs_attr_val other = tattr_default;
	struct sk_buff *skb;

	KUNIT_EXPECT_EQ(test, tcheck(test, treply(test, 1, 0),
				     MODALFS_OP_SETXATTR, &exp), -EIO);
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &tattr_default, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_SETXATTR, &exp), 0);
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &tattr_default, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_REMOVEXATTR, &exp),
			0);
	other.ino = 43;
	skb = treply(test, 1, 0);
	tput_attr(test, skb, MODALFS_A_ATTR, &other, 0);
	KUNIT_EXPECT_EQ(test, tcheck(test, skb, MODALFS_OP_REMOVEXATTR, &exp),
			-EIO);
}

/* FLAGS of SETXATTR pass the policy; other bits do not. */
static void xattr_flags_policy(struct kunit *test)
{
	struct sk_buff *skb;

	skb = tmsg_new(test, MODALFS_CMD_REQUEST, 1, MODALFS_OP_SETXATTR);
	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_FLAGS,
					  MODALFS_XATTR_FLAGS), 0);
	KUNIT_EXPECT_EQ(test, tpolicy(skb), 0);
	skb = tmsg_new(test, MODALFS_CMD_REQUEST, 1, MODALFS_OP_SETXATTR);
	KUNIT_ASSERT_EQ(test, nla_put_u32(skb, MODALFS_A_FLAGS, 1U << 5), 0);
	KUNIT_EXPECT_LT(test, tpolicy(skb), 0);
}

static struct kunit_case modalfs_xattr_cases[] = {
	KUNIT_CASE(xattr_put_data_chunks),
	KUNIT_CASE(xattr_put_data_empty),
	KUNIT_CASE(xattr_max_fits_message),
	KUNIT_CASE(xattr_result),
	KUNIT_CASE(xattr_name_ok),
	KUNIT_CASE(xattr_list_filter),
	KUNIT_CASE(xattr_list_malformed),
	KUNIT_CASE(xattr_check_get_reply),
	KUNIT_CASE(xattr_check_set_reply),
	KUNIT_CASE(xattr_flags_policy),
	{}
};

static struct kunit_suite modalfs_xattr_suite = {
	.name = "modalfs_xattr",
	.test_cases = modalfs_xattr_cases,
};
