/* SPDX-License-Identifier: GPL-2.0 */
/*
 * drm_syncobj glue (drm/syncobj.rs): lookup, fence read and fence install
 * (static inlines).
 */
#ifndef DXG_DRM_SYNCOBJ_HELPERS_H
#define DXG_DRM_SYNCOBJ_HELPERS_H

#include <linux/types.h>

struct dma_fence;
struct dma_fence_chain;
struct drm_file;
struct drm_syncobj;

struct drm_syncobj *dxg_syncobj_lookup(struct drm_file *file, u32 handle);
void dxg_syncobj_put(struct drm_syncobj *syncobj);
int dxg_syncobj_fence(struct drm_file *file, u32 handle, u64 point,
		      struct dma_fence **fence);
/* @chain: from dxg_fence_chain_alloc() when @point != 0 (consumed), else NULL */
void dxg_syncobj_install(struct drm_syncobj *syncobj, u64 point,
			 struct dma_fence *fence, struct dma_fence_chain *chain);

#endif /* DXG_DRM_SYNCOBJ_HELPERS_H */
