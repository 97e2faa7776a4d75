// SPDX-License-Identifier: GPL-2.0
/*
 * No-op replacements for the module notifier calls of lib/kunit/test.c:
 * the notifier would read struct module fields this kernel lacks.
 */
#include <linux/module.h>
#include <linux/notifier.h>

int kunit_stub_register_module_notifier(struct notifier_block *nb)
{
	return 0;
}

int kunit_stub_unregister_module_notifier(struct notifier_block *nb)
{
	return 0;
}
