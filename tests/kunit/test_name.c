// SPDX-License-Identifier: GPL-2.0
/* Included by modalfs_kunit.c: volume names, file names, mount sources. */

static int vol(const char *s)
{
	return modalfs_valid_vol_name(s, strlen(s));
}

static int fname(const char *s)
{
	return modalfs_valid_file_name(s, strlen(s));
}

static void name_vol_valid(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, vol("v"), 0);
	KUNIT_EXPECT_EQ(test, vol("job-storage-vol"), 0);
	KUNIT_EXPECT_EQ(test, vol("A.b_C-9"), 0);
	KUNIT_EXPECT_EQ(test, vol("..."), 0);
}

static void name_vol_length(struct kunit *test)
{
	char buf[MODALFS_VOL_NAME_MAX + 2];

	memset(buf, 'a', sizeof(buf));
	KUNIT_EXPECT_EQ(test, modalfs_valid_vol_name(buf, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, modalfs_valid_vol_name(buf, 1), 0);
	KUNIT_EXPECT_EQ(test, modalfs_valid_vol_name(buf, MODALFS_VOL_NAME_MAX), 0);
	KUNIT_EXPECT_EQ(test, modalfs_valid_vol_name(buf, MODALFS_VOL_NAME_MAX + 1),
			-EINVAL);
}

static void name_vol_bad_chars(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, vol("a b"), -EINVAL);
	KUNIT_EXPECT_EQ(test, vol("a/b"), -EINVAL);
	KUNIT_EXPECT_EQ(test, vol("a:b"), -EINVAL);
	KUNIT_EXPECT_EQ(test, vol("caf\xc3\xa9"), -EINVAL);
	KUNIT_EXPECT_EQ(test, vol("a\nb"), -EINVAL);
	KUNIT_EXPECT_EQ(test, modalfs_valid_vol_name("a\0b", 3), -EINVAL);
}

static void name_file_valid(struct kunit *test)
{
	char buf[MODALFS_NAME_MAX + 1];

	memset(buf, 'x', sizeof(buf));
	KUNIT_EXPECT_EQ(test, fname("f"), 0);
	KUNIT_EXPECT_EQ(test, fname("..."), 0);
	KUNIT_EXPECT_EQ(test, fname(".hidden"), 0);
	KUNIT_EXPECT_EQ(test, fname("with space\xff"), 0);
	KUNIT_EXPECT_EQ(test, modalfs_valid_file_name(buf, MODALFS_NAME_MAX), 0);
	KUNIT_EXPECT_EQ(test, modalfs_valid_file_name(buf, MODALFS_NAME_MAX + 1),
			-ENAMETOOLONG);
}

static void name_file_bad(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, modalfs_valid_file_name("", 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, fname("a/b"), -EINVAL);
	KUNIT_EXPECT_EQ(test, fname("/"), -EINVAL);
	KUNIT_EXPECT_EQ(test, modalfs_valid_file_name("a\0b", 3), -EINVAL);
	KUNIT_EXPECT_EQ(test, fname("."), -EINVAL);
	KUNIT_EXPECT_EQ(test, fname(".."), -EINVAL);
}

static void name_source_ok(struct kunit *test)
{
	char v[MODALFS_VOL_NAME_MAX + 1];
	const char *path;

	KUNIT_ASSERT_EQ(test, modalfs_parse_source("v:/", v, sizeof(v), &path), 0);
	KUNIT_EXPECT_STREQ(test, v, "v");
	KUNIT_EXPECT_STREQ(test, path, "/");

	KUNIT_ASSERT_EQ(test, modalfs_parse_source("v:", v, sizeof(v), &path), 0);
	KUNIT_EXPECT_STREQ(test, path, "/");

	KUNIT_ASSERT_EQ(test, modalfs_parse_source("job-storage-vol:/sub//dir/",
						   v, sizeof(v), &path), 0);
	KUNIT_EXPECT_STREQ(test, v, "job-storage-vol");
	KUNIT_EXPECT_STREQ(test, path, "/sub//dir/");
}

static void name_source_bad(struct kunit *test)
{
	char v[MODALFS_VOL_NAME_MAX + 1];
	char *long_path;
	const char *path;
	char comp[MODALFS_NAME_MAX + 8];

	KUNIT_EXPECT_NE(test, modalfs_parse_source(NULL, v, sizeof(v), &path), 0);
	KUNIT_EXPECT_NE(test, modalfs_parse_source("v", v, sizeof(v), &path), 0);
	KUNIT_EXPECT_NE(test, modalfs_parse_source(":/", v, sizeof(v), &path), 0);
	KUNIT_EXPECT_NE(test, modalfs_parse_source("v:rel", v, sizeof(v), &path), 0);
	KUNIT_EXPECT_NE(test, modalfs_parse_source("v:/a/../b", v, sizeof(v), &path), 0);
	KUNIT_EXPECT_NE(test, modalfs_parse_source("v:/./b", v, sizeof(v), &path), 0);
	KUNIT_EXPECT_NE(test, modalfs_parse_source("b d:/", v, sizeof(v), &path), 0);

	/* One component of 256 bytes. */
	memset(comp, 'c', sizeof(comp));
	comp[0] = 'v';
	comp[1] = ':';
	comp[2] = '/';
	comp[3 + MODALFS_NAME_MAX + 1] = '\0';
	KUNIT_EXPECT_EQ(test, modalfs_parse_source(comp, v, sizeof(v), &path),
			-ENAMETOOLONG);

	/* A path over MODALFS_PATH_MAX made of short components. */
	long_path = kunit_kzalloc(test, MODALFS_PATH_MAX + 16, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, long_path);
	strcpy(long_path, "v:");
	while (strlen(long_path) < MODALFS_PATH_MAX + 4)
		strcat(long_path, "/a");
	KUNIT_EXPECT_EQ(test, modalfs_parse_source(long_path, v, sizeof(v), &path),
			-ENAMETOOLONG);
}

static struct kunit_case modalfs_name_cases[] = {
	KUNIT_CASE(name_vol_valid),
	KUNIT_CASE(name_vol_length),
	KUNIT_CASE(name_vol_bad_chars),
	KUNIT_CASE(name_file_valid),
	KUNIT_CASE(name_file_bad),
	KUNIT_CASE(name_source_ok),
	KUNIT_CASE(name_source_bad),
	{}
};

static struct kunit_suite modalfs_name_suite = {
	.name = "modalfs_name",
	.test_cases = modalfs_name_cases,
};
