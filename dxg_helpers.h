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

/* Whether a PCI driver called @drv_name is registered (e.g. dxgkrnl). */
bool dxg_pci_driver_present(const char *drv_name);

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

/*
 * Make the fresh shmem object @obj use the shmem file (the pages) of
 * @src, a dxg object of another adapter of the same size (PRIME import
 * across adapters, decisions.md #8).
 */
int dxg_gem_share_backing(struct drm_gem_object *obj,
			  struct drm_gem_object *src);
/* Implemented in Rust (drm/gem.rs): the import itself; ERR_PTR on error. */
struct drm_device;
struct drm_gem_object *dxg_gem_import_sibling(struct drm_device *dev,
					      struct drm_gem_object *src);

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

/* --- VMBus (dxg_hv.c) --- */

struct device;
struct hv_device;
struct hv_driver;
struct vmbus_gpadl;

/* hv_vmbus_device_id.driver_data: which channel class a device is. */
#define DXG_HV_CHANNEL_VM	0
#define DXG_HV_CHANNEL_VGPU	1

/*
 * Register the VMBus driver of both channel classes; its probe and remove
 * call dxg_hv_probe()/dxg_hv_remove() (Rust, vmbus/hv.rs). ERR_PTR(-ENODEV)
 * when the machine has no VMBus.
 */
struct hv_driver *dxg_hv_driver_register(void);
void dxg_hv_driver_unregister(struct hv_driver *drv);
/* Whether Microsoft's dxgkrnl driver is registered on the bus of @hdev. */
bool dxg_hv_dxgkrnl_present(struct hv_device *hdev);

struct device *dxg_hv_device(struct hv_device *hdev);
void dxg_hv_set_drvdata(struct hv_device *hdev, void *data);
void *dxg_hv_get_drvdata(struct hv_device *hdev);
/* The channel instance GUID, 16 bytes as on the wire. */
void dxg_hv_instance(struct hv_device *hdev, u8 *guid);
/* The size of the MMIO range the offer asks for (VM-level channel). */
u64 dxg_hv_mmio_size(struct hv_device *hdev);

int dxg_hv_open(struct hv_device *hdev, u32 ring_size,
		void (*callback)(void *context), void *context);
void dxg_hv_close(struct hv_device *hdev);
/* One in-band packet (-EAGAIN: ring full). */
int dxg_hv_send(struct hv_device *hdev, const void *buf, u32 len,
		u64 trans_id, bool completion);
/* The next packet, raw (descriptor included): *actual 0 when none. */
int dxg_hv_recv(struct hv_device *hdev, void *buf, u32 len, u32 *actual);
struct vmbus_gpadl *dxg_hv_gpadl_establish(struct hv_device *hdev,
					   void *kbuffer, u32 size);
u32 dxg_hv_gpadl_handle(const struct vmbus_gpadl *gpadl);
void dxg_hv_gpadl_teardown(struct hv_device *hdev, struct vmbus_gpadl *gpadl);
/* Allocate and map (write-back) the IO space from the VMBus MMIO range. */
int dxg_hv_mmio_alloc(struct hv_device *hdev, u64 size, u64 *start,
		      void **vaddr);
void dxg_hv_mmio_free(u64 start, u64 size, void *vaddr);

/* Implemented in Rust (vmbus/hv.rs). */
int dxg_hv_probe(struct hv_device *hdev, unsigned long kind);
void dxg_hv_remove(struct hv_device *hdev);

/* Implemented in Rust (drm/file.rs): GPU time of a dxg DRM file, in ns. */
u64 dxg_file_engine_ns(struct drm_file *file);

#endif /* DXG_HELPERS_H */
