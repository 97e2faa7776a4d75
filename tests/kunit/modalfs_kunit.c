// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites for the pure logic of modalfs: names, message encoding and
 * reply validation, the request table, attribute conversion, xattr
 * payloads and directory positions.
 *
 * The kmod sources under test are compiled into this translation unit, so
 * the suites can reach their static helpers and the module does not share
 * an object file with kmod/modalfs.ko. Our kunit.ko is built out of tree
 * without the module notifier, so module_init runs the suites itself.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "../../kmod/name.c"
#include "../../kmod/msg.c"
#include "../../kmod/attr.c"
#include "../../kmod/channel.c"
#include "../../kmod/stats.c"

#include "test_name.c"
#include "test_msg.c"
#include "test_channel.c"
#include "test_attr.c"
#include "test_xattr.c"
#include "test_dir.c"

static struct kunit_suite *modalfs_suites[] = {
	&modalfs_name_suite,
	&modalfs_msg_suite,
	&modalfs_channel_suite,
	&modalfs_attr_suite,
	&modalfs_xattr_suite,
	&modalfs_dir_suite,
};

static int __init modalfs_kunit_init(void)
{
	int err = modalfs_req_cache_init();

	if (err)
		return err;
	return __kunit_test_suites_init(modalfs_suites,
					ARRAY_SIZE(modalfs_suites));
}

static void __exit modalfs_kunit_exit(void)
{
	__kunit_test_suites_exit(modalfs_suites, ARRAY_SIZE(modalfs_suites));
	modalfs_req_cache_exit();
}

module_init(modalfs_kunit_init);
module_exit(modalfs_kunit_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit suites for modalfs");
