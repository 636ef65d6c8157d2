/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dma_fence glue (sys/fence.rs): the kernel crate has no dma_fence
 * abstraction yet.
 */
#ifndef DXG_SYS_FENCE_HELPERS_H
#define DXG_SYS_FENCE_HELPERS_H

#include <linux/types.h>

struct dma_fence;
struct dma_fence_chain;

/*
 * A minimal dma_fence (the kernel crate has no dma_fence abstraction):
 * signalled by dxg when the host's monitored fence passes its value.
 */
u64 dxg_fence_context_alloc(void);
struct dma_fence *dxg_fence_create(u64 context, u64 seqno);
void dxg_fence_signal(struct dma_fence *fence, int error);
struct dma_fence *dxg_fence_get(struct dma_fence *fence);
void dxg_fence_put(struct dma_fence *fence);
bool dxg_fence_is_signaled(struct dma_fence *fence);

/* A timeline point for dxg_syncobj_install() (static inlines). */
struct dma_fence_chain *dxg_fence_chain_alloc(void);
void dxg_fence_chain_free(struct dma_fence_chain *chain);

#endif /* DXG_SYS_FENCE_HELPERS_H */
