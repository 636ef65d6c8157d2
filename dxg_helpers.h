/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers linked into dxg.ko. Each exists because Rust cannot reach the
 * API directly (static inline functions, macros, or structures the kernel
 * crate keeps private) and is shaped so it can be dropped once rust/kernel
 * grows the matching abstraction.
 */
#ifndef DXG_HELPERS_H
#define DXG_HELPERS_H

#include <linux/types.h>

/*
 * pci_add_dynid() for the registered PCI driver called @drv_name: what
 * writing "VVVV DDDD" to its sysfs new_id does, which the Rust PCI
 * abstraction refuses (its driver_data is a pointer). A dynamic ID belongs
 * to the driver, so it survives PCI remove + rescan.
 */
int dxg_pci_add_dynid(const char *drv_name, u32 vendor, u32 device);

struct drm_device;

/*
 * Give @dev (not registered yet) the module's copy of its Rust-generated
 * struct drm_driver, with @features added and fops.show_fdinfo set to the
 * core's drm_show_fdinfo(). The kernel crate offers neither yet.
 */
int dxg_drm_add_features(struct drm_device *dev, u32 features);

struct dma_fence;
struct dma_fence_chain;
struct drm_file;
struct drm_gem_object;
struct drm_syncobj;
struct page;

/*
 * The pages of a dxg shmem GEM object (obj->size >> PAGE_SHIFT entries),
 * populated and kept until the object is freed, or an ERR_PTR. Callers
 * that share them with the host take their own page references. The Rust
 * shmem helper only offers a DMA-mapped sg_table (which needs the bound
 * parent device) and no page array.
 */
struct page **dxg_gem_pages(struct drm_gem_object *obj);

/* get_page()/put_page() are static inline. */
void dxg_page_get(struct page *page);
void dxg_page_put(struct page *page);

/* vmap()/vunmap() of whole pages (not in the kernel crate's bindings). */
void *dxg_vmap_pages(struct page **pages, unsigned int count);
void dxg_vunmap(const void *addr);

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

/* drm_syncobj lookup, fence read and fence install (static inlines). */
struct drm_syncobj *dxg_syncobj_lookup(struct drm_file *file, u32 handle);
void dxg_syncobj_put(struct drm_syncobj *syncobj);
int dxg_syncobj_fence(struct drm_file *file, u32 handle, u64 point,
		      struct dma_fence **fence);
struct dma_fence_chain *dxg_fence_chain_alloc(void);
void dxg_fence_chain_free(struct dma_fence_chain *chain);
/* @chain: from dxg_fence_chain_alloc() when @point != 0 (consumed), else NULL */
void dxg_syncobj_install(struct drm_syncobj *syncobj, u64 point,
			 struct dma_fence *fence, struct dma_fence_chain *chain);

struct workqueue_struct;

/*
 * The module's own workqueue (alloc_workqueue() is a macro): deferred
 * unbinds run on it, and destroying it at module exit waits for them.
 */
struct workqueue_struct *dxg_wq_alloc(void);
void dxg_wq_destroy(struct workqueue_struct *wq);

/* Implemented in Rust (drm/file.rs): GPU time of a dxg DRM file, in ns. */
u64 dxg_file_engine_ns(struct drm_file *file);

#endif /* DXG_HELPERS_H */
