// SPDX-License-Identifier: GPL-2.0
/*
 * Workqueue glue of sys/workqueue.rs; see workqueue_helpers.h.
 */
#include <linux/workqueue.h>

#include "workqueue_helpers.h"

struct workqueue_struct *dxg_alloc_workqueue(const char *name)
{
	return alloc_workqueue("%s", WQ_UNBOUND, 0, name);
}
