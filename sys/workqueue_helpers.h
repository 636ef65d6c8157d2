/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Workqueue glue of sys/workqueue.rs (OwnedQueue).
 */
#ifndef DXG_SYS_WORKQUEUE_HELPERS_H
#define DXG_SYS_WORKQUEUE_HELPERS_H

struct workqueue_struct;

/*
 * alloc_workqueue() is a macro: an unbound workqueue named @name (copied),
 * destroyed with destroy_workqueue(); NULL when out of memory.
 */
struct workqueue_struct *dxg_alloc_workqueue(const char *name);

#endif /* DXG_SYS_WORKQUEUE_HELPERS_H */
