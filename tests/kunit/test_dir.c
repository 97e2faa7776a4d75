// SPDX-License-Identifier: GPL-2.0
/* Included by modalfs_kunit.c: directory positions and READDIR cookies. */

struct tdir {
	struct dir_context ctx;
	int room;		/* entries the "user buffer" still takes */
	int n;
	char names[8][8];
	loff_t pos[8];		/* ctx->pos when each entry was offered */
};

static bool tdir_actor(struct dir_context *ctx, const char *name, int len,
		       loff_t pos, u64 ino, unsigned int type)
{
	struct tdir *t = container_of(ctx, struct tdir, ctx);

	if (!t->room)
		return false;
	t->room--;
	if (t->n < ARRAY_SIZE(t->names) && len < sizeof(t->names[0])) {
		memcpy(t->names[t->n], name, len);
		t->names[t->n][len] = '\0';
		t->pos[t->n] = pos;
	}
	t->n++;
	return true;
}

/* A checked READDIR reply with entries a..e at cookies 3, 4, 9, 10, 20. */
static struct sk_buff *tdir_reply(struct kunit *test,
				  const struct nlattr **head, int *len)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	struct sk_buff *skb = treply(test, 1, 0);

	tput_dirent(test, skb, 100, 3, "a");
	tput_dirent(test, skb, 101, 4, "b");
	tput_dirent(test, skb, 102, 9, "c");
	tput_dirent(test, skb, 103, 10, "d");
	tput_dirent(test, skb, 104, 20, "e");
	KUNIT_ASSERT_EQ(test, tparse(skb, tb), 0);
	*head = nlmsg_attrdata(nlmsg_hdr(skb), GENL_HDRLEN);
	*len = nlmsg_attrlen(nlmsg_hdr(skb), GENL_HDRLEN);
	return skb;
}

static void dir_pos_offset(struct kunit *test)
{
	/* Before, at and right after the dots: from the start. */
	KUNIT_EXPECT_EQ(test, modalfs_dir_pos_to_offset(0), 0ULL);
	KUNIT_EXPECT_EQ(test, modalfs_dir_pos_to_offset(1), 0ULL);
	KUNIT_EXPECT_EQ(test, modalfs_dir_pos_to_offset(2), 0ULL);
	/* Cookies are positions as they are. */
	KUNIT_EXPECT_EQ(test, modalfs_dir_pos_to_offset(MODALFS_DIR_COOKIE_FIRST),
			MODALFS_DIR_COOKIE_FIRST);
	KUNIT_EXPECT_EQ(test, modalfs_dir_pos_to_offset(123456789012LL),
			123456789012ULL);
	KUNIT_EXPECT_EQ(test, modalfs_dir_pos_to_offset(S64_MAX), (u64)S64_MAX);
	/* Below every cookie so that positions cannot collide. */
	KUNIT_EXPECT_GT(test, MODALFS_DIR_COOKIE_FIRST, 2ULL);
}

static void dir_emit_all(struct kunit *test)
{
	struct tdir t = { .ctx.actor = tdir_actor, .ctx.pos = 2, .room = 100 };
	const struct nlattr *head;
	struct sk_buff *skb = tdir_reply(test, &head, &t.n);
	int len = t.n;

	t.n = 0;
	KUNIT_EXPECT_EQ(test, modalfs_dir_emit_reply(&t.ctx, head, len), 0);
	KUNIT_EXPECT_EQ(test, t.n, 5);
	KUNIT_EXPECT_STREQ(test, t.names[0], "a");
	KUNIT_EXPECT_STREQ(test, t.names[4], "e");
	/*
	 * getdents reports each entry's d_off as the position after it, which
	 * is the pos offered with the next one: a's is 3, b's 4, d's 10.
	 */
	KUNIT_EXPECT_EQ(test, t.pos[0], 2LL);
	KUNIT_EXPECT_EQ(test, t.pos[1], 3LL);
	KUNIT_EXPECT_EQ(test, t.pos[2], 4LL);
	KUNIT_EXPECT_EQ(test, t.pos[4], 10LL);
	KUNIT_EXPECT_EQ(test, t.ctx.pos, 20LL);
	KUNIT_EXPECT_EQ(test, modalfs_dir_reply_last(head, len, 0), 20ULL);
	kfree_skb(skb);
}

/* A full buffer stops emission; the position is the last entry taken. */
static void dir_emit_buffer_full(struct kunit *test)
{
	struct tdir t = { .ctx.actor = tdir_actor, .ctx.pos = 2, .room = 2 };
	const struct nlattr *head;
	struct sk_buff *skb;
	int len;

	skb = tdir_reply(test, &head, &len);
	KUNIT_EXPECT_EQ(test, modalfs_dir_emit_reply(&t.ctx, head, len), 1);
	KUNIT_EXPECT_EQ(test, t.n, 2);
	KUNIT_EXPECT_EQ(test, t.ctx.pos, 4LL);

	/* The next getdents resumes from the same (cached) reply. */
	t.room = 100;
	t.n = 0;
	KUNIT_EXPECT_EQ(test, modalfs_dir_emit_reply(&t.ctx, head, len), 0);
	KUNIT_EXPECT_EQ(test, t.n, 3);
	KUNIT_EXPECT_STREQ(test, t.names[0], "c");
	KUNIT_EXPECT_EQ(test, t.ctx.pos, 20LL);
	kfree_skb(skb);
}

/* seekdir() to any cookie continues after it, even one nobody has. */
static void dir_emit_after_seek(struct kunit *test)
{
	struct tdir t = { .ctx.actor = tdir_actor, .room = 100 };
	const struct nlattr *head;
	struct sk_buff *skb;
	int len;

	skb = tdir_reply(test, &head, &len);
	t.ctx.pos = 9;		/* telldir() after "c" */
	KUNIT_EXPECT_EQ(test, modalfs_dir_emit_reply(&t.ctx, head, len), 0);
	KUNIT_EXPECT_EQ(test, t.n, 2);
	KUNIT_EXPECT_STREQ(test, t.names[0], "d");

	t.n = 0;
	t.ctx.pos = 5;		/* between b (4) and c (9): c is next */
	KUNIT_EXPECT_EQ(test, modalfs_dir_emit_reply(&t.ctx, head, len), 0);
	KUNIT_EXPECT_EQ(test, t.n, 3);
	KUNIT_EXPECT_STREQ(test, t.names[0], "c");

	t.n = 0;
	t.ctx.pos = 20;		/* after the last one: nothing */
	KUNIT_EXPECT_EQ(test, modalfs_dir_emit_reply(&t.ctx, head, len), 0);
	KUNIT_EXPECT_EQ(test, t.n, 0);
	KUNIT_EXPECT_EQ(test, t.ctx.pos, 20LL);

	t.ctx.pos = S64_MAX;
	KUNIT_EXPECT_EQ(test, modalfs_dir_emit_reply(&t.ctx, head, len), 0);
	KUNIT_EXPECT_EQ(test, t.n, 0);
	kfree_skb(skb);
}

/* When a cached batch can answer a read from a position. */
static void dir_reply_covers(struct kunit *test)
{
	/* Batch asked at 0, last cookie 20, more follow. */
	KUNIT_EXPECT_TRUE(test, modalfs_dir_reply_covers(0, 20, false, 0));
	KUNIT_EXPECT_TRUE(test, modalfs_dir_reply_covers(0, 20, false, 19));
	/* At its last cookie the next batch is needed... */
	KUNIT_EXPECT_FALSE(test, modalfs_dir_reply_covers(0, 20, false, 20));
	KUNIT_EXPECT_FALSE(test, modalfs_dir_reply_covers(0, 20, false, 99));
	/* ...unless it was the end of the directory. */
	KUNIT_EXPECT_TRUE(test, modalfs_dir_reply_covers(0, 20, true, 20));
	KUNIT_EXPECT_TRUE(test, modalfs_dir_reply_covers(0, 20, true, 99));
	/* Before where the batch starts it knows nothing. */
	KUNIT_EXPECT_FALSE(test, modalfs_dir_reply_covers(10, 20, true, 9));
	KUNIT_EXPECT_TRUE(test, modalfs_dir_reply_covers(10, 20, false, 10));
	/* An empty EOF batch answers "nothing more" from its offset on. */
	KUNIT_EXPECT_TRUE(test, modalfs_dir_reply_covers(30, 30, true, 30));
	KUNIT_EXPECT_FALSE(test, modalfs_dir_reply_covers(30, 30, true, 29));
}

static void dir_reply_last_empty(struct kunit *test)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	struct sk_buff *skb = treply(test, 1, 0);

	KUNIT_ASSERT_EQ(test, nla_put_flag(skb, MODALFS_A_EOF), 0);
	KUNIT_ASSERT_EQ(test, tparse(skb, tb), 0);
	KUNIT_EXPECT_EQ(test, modalfs_dir_reply_last(
				nlmsg_attrdata(nlmsg_hdr(skb), GENL_HDRLEN),
				nlmsg_attrlen(nlmsg_hdr(skb), GENL_HDRLEN), 77),
			77ULL);
	kfree_skb(skb);
}

/* A malformed entry is EIO, after the good ones before it went out. */
static void dir_emit_bad_entry(struct kunit *test)
{
	struct tdir t = { .ctx.actor = tdir_actor, .ctx.pos = 2, .room = 100 };
	struct sk_buff *skb = treply(test, 1, 0);
	struct nlattr *nest;

	tput_dirent(test, skb, 100, 3, "a");
	nest = nla_nest_start(skb, MODALFS_A_DIRENT);
	KUNIT_ASSERT_EQ(test, modalfs_put_u64(skb, MODALFS_DIRENT_INO, 5), 0);
	nla_nest_end(skb, nest);
	nlmsg_end(skb, nlmsg_hdr(skb));
	KUNIT_EXPECT_EQ(test, modalfs_dir_emit_reply(
				&t.ctx, nlmsg_attrdata(nlmsg_hdr(skb), GENL_HDRLEN),
				nlmsg_attrlen(nlmsg_hdr(skb), GENL_HDRLEN)),
			-EIO);
	KUNIT_EXPECT_EQ(test, t.n, 1);
	kfree_skb(skb);
}

static struct kunit_case modalfs_dir_cases[] = {
	KUNIT_CASE(dir_pos_offset),
	KUNIT_CASE(dir_emit_all),
	KUNIT_CASE(dir_emit_buffer_full),
	KUNIT_CASE(dir_emit_after_seek),
	KUNIT_CASE(dir_reply_covers),
	KUNIT_CASE(dir_reply_last_empty),
	KUNIT_CASE(dir_emit_bad_entry),
	{}
};

static struct kunit_suite modalfs_dir_suite = {
	.name = "modalfs_dir",
	.test_cases = modalfs_dir_cases,
};
