// SPDX-License-Identifier: GPL-2.0
/*
 * dma_fence glue of dxg.ko; see fence_helpers.h.
 */
#include <linux/dma-fence.h>
#include <linux/dma-fence-chain.h>
#include <linux/slab.h>

#include "fence_helpers.h"

struct dxg_fence {
	struct dma_fence base;
	spinlock_t lock;
};

static const char *dxg_fence_driver_name(struct dma_fence *f)
{
	return "dxg";
}

static const char *dxg_fence_timeline_name(struct dma_fence *f)
{
	return "context";
}

static const struct dma_fence_ops dxg_fence_ops = {
	.get_driver_name = dxg_fence_driver_name,
	.get_timeline_name = dxg_fence_timeline_name,
};

u64 dxg_fence_context_alloc(void)
{
	return dma_fence_context_alloc(1);
}

struct dma_fence *dxg_fence_create(u64 context, u64 seqno)
{
	struct dxg_fence *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return NULL;
	spin_lock_init(&f->lock);
	dma_fence_init(&f->base, &dxg_fence_ops, &f->lock, context, seqno);
	return &f->base;
}

void dxg_fence_signal(struct dma_fence *fence, int error)
{
	if (error)
		dma_fence_set_error(fence, error);
	dma_fence_signal(fence);
}

void dxg_fence_put(struct dma_fence *fence)
{
	dma_fence_put(fence);
}

struct dma_fence *dxg_fence_get(struct dma_fence *fence)
{
	return dma_fence_get(fence);
}

bool dxg_fence_is_signaled(struct dma_fence *fence)
{
	return dma_fence_is_signaled(fence);
}

struct dma_fence_chain *dxg_fence_chain_alloc(void)
{
	return dma_fence_chain_alloc();
}

void dxg_fence_chain_free(struct dma_fence_chain *chain)
{
	dma_fence_chain_free(chain);
}
