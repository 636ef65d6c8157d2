/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module's own workqueue, held by the channel directory
 * (bind/directory.rs).
 */
#ifndef DXG_BIND_WORKQUEUE_H
#define DXG_BIND_WORKQUEUE_H

struct workqueue_struct;

/*
 * The module's own workqueue (alloc_workqueue() is a macro): deferred
 * unbinds run on it, and destroying it at module exit waits for them.
 */
struct workqueue_struct *dxg_wq_alloc(void);
void dxg_wq_destroy(struct workqueue_struct *wq);

#endif /* DXG_BIND_WORKQUEUE_H */
