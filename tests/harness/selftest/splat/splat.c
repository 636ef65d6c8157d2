// SPDX-License-Identifier: GPL-2.0
/*
 * dxg_splat: a deliberately broken module for the harness's own tests. It
 * proves that a WARN or a leak during a guest test fails that test, naming
 * the splat. Never loaded outside tests/harness/selftest.
 */
#include <linux/bug.h>
#include <linux/module.h>
#include <linux/slab.h>

static bool warn;
module_param(warn, bool, 0444);
MODULE_PARM_DESC(warn, "WARN_ON in init");
static bool leak;
module_param(leak, bool, 0444);
MODULE_PARM_DESC(leak, "leak kmalloc'ed buffers in init");

static int __init dxg_splat_init(void)
{
	WARN_ON(warn);
	if (leak) {
		int i;

		/*
		 * Several objects: the last pointer may survive in a stale
		 * stack slot that kmemleak scans, the others cannot.
		 */
		for (i = 0; i < 64; i++)
			if (!kzalloc(128, GFP_KERNEL))
				return -ENOMEM;
		pr_info("dxg_splat: leaked 64 objects\n");
	}
	return 0;
}

static void __exit dxg_splat_exit(void)
{
}

module_init(dxg_splat_init);
module_exit(dxg_splat_exit);
MODULE_DESCRIPTION("deliberately broken module for dxg harness self-tests");
MODULE_LICENSE("GPL");
