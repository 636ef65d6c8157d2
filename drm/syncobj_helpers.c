// SPDX-License-Identifier: GPL-2.0
/*
 * drm_syncobj glue of dxg.ko; see syncobj_helpers.h.
 */
#include <drm/drm_syncobj.h>
#include <linux/dma-fence-chain.h>

#include "syncobj_helpers.h"

struct drm_syncobj *dxg_syncobj_lookup(struct drm_file *file, u32 handle)
{
	return drm_syncobj_find(file, handle);
}

void dxg_syncobj_put(struct drm_syncobj *syncobj)
{
	drm_syncobj_put(syncobj);
}

int dxg_syncobj_fence(struct drm_file *file, u32 handle, u64 point,
		      struct dma_fence **fence)
{
	return drm_syncobj_find_fence(file, handle, point, 0, fence);
}

void dxg_syncobj_install(struct drm_syncobj *syncobj, u64 point,
			 struct dma_fence *fence, struct dma_fence_chain *chain)
{
	if (point)
		drm_syncobj_add_point(syncobj, chain, fence, point);
	else
		drm_syncobj_replace_fence(syncobj, fence);
}
