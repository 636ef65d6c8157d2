/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shmem GEM glue (drm/gem.rs): the pages of an object, and the shared
 * backing of a PRIME import across adapters.
 */
#ifndef DXG_DRM_GEM_HELPERS_H
#define DXG_DRM_GEM_HELPERS_H

struct drm_gem_object;
struct page;

/*
 * The pages of a dxg shmem GEM object (obj->size >> PAGE_SHIFT entries),
 * populated and kept until the object is freed, or an ERR_PTR. Callers
 * that share them with the host take their own page references. The Rust
 * shmem helper only offers a DMA-mapped sg_table (which needs the bound
 * parent device) and no page array.
 */
struct page **dxg_gem_pages(struct drm_gem_object *obj);

/*
 * Make the fresh shmem object @obj use the shmem file (the pages) of
 * @src, a dxg object of another adapter of the same size (PRIME import
 * across adapters: a re-wrap of the same pages, Documentation/dxg.rst).
 */
int dxg_gem_share_backing(struct drm_gem_object *obj,
			  struct drm_gem_object *src);

#endif /* DXG_DRM_GEM_HELPERS_H */
