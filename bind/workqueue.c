// SPDX-License-Identifier: GPL-2.0
/*
 * The module's workqueue; see workqueue.h.
 */
#include <linux/workqueue.h>

#include "workqueue.h"

struct workqueue_struct *dxg_wq_alloc(void)
{
	return alloc_workqueue("dxg", WQ_UNBOUND, 0);
}

void dxg_wq_destroy(struct workqueue_struct *wq)
{
	destroy_workqueue(wq);
}
