// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of dxg.ko; see dxg_helpers.h for why each one exists.
 */
#include <linux/device/driver.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <drm/drm_device.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_prime.h>
#include <drm/drm_print.h>
#include <drm/drm_syncobj.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/file.h>
#include <linux/dma-fence-chain.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "dxg_helpers.h"

int dxg_pci_add_dynid(const char *drv_name, u32 vendor, u32 device)
{
	struct device_driver *drv = driver_find(drv_name, &pci_bus_type);

	if (!drv)
		return -ENODEV;
	return pci_add_dynid(to_pci_driver(drv), vendor, device, PCI_ANY_ID,
			     PCI_ANY_ID, 0, 0, 0);
}

bool dxg_pci_driver_present(const char *drv_name)
{
	return driver_find(drv_name, &pci_bus_type) != NULL;
}

static struct drm_driver dxg_drm_driver;

/*
 * PRIME import. A dma-buf exported by another dxg adapter is re-wrapped:
 * a new object of this device over the same shmem file, so both objects
 * have the same pages, with its own GPADL and host allocation
 * (dxg_gem_import_sibling(), Rust). Everything else takes the core path.
 */
static struct drm_gem_object *dxg_gem_prime_import(struct drm_device *dev,
						   struct dma_buf *dma_buf)
{
	/* A GEM export: priv is the exporter's object. */
	if (dma_buf->ops->release == drm_gem_dmabuf_release) {
		struct drm_gem_object *obj = dma_buf->priv;

		if (obj->dev != dev && obj->dev->driver == &dxg_drm_driver)
			return dxg_gem_import_sibling(dev, obj);
	}
	return drm_gem_prime_import(dev, dma_buf);
}

int dxg_gem_share_backing(struct drm_gem_object *obj,
			  struct drm_gem_object *src)
{
	struct drm_gem_shmem_object *shmem = to_drm_gem_shmem_obj(obj);

	/* Only a fresh object: no pages yet, nothing mapped. */
	if (!obj->filp || !src->filp || obj->size != src->size || shmem->pages)
		return -EINVAL;
	fput(obj->filp);
	obj->filp = get_file(src->filp);
	return 0;
}

/*
 * drm-usage-stats: memory of the file's GEM objects (all resident: their
 * pages stay populated while the host may use them) and the GPU time of
 * its submissions (dxg_file_engine_ns(), in drm/file.rs).
 */
static void dxg_show_fdinfo(struct drm_printer *p, struct drm_file *file)
{
	struct drm_memory_stats stats = {};
	struct drm_gem_object *obj;
	int id;

	spin_lock(&file->table_lock);
	idr_for_each_entry(&file->object_idr, obj, id) {
		if (drm_gem_object_is_shared_for_memory_stats(obj))
			stats.shared += obj->size;
		else
			stats.private += obj->size;
		stats.resident += obj->size;
	}
	spin_unlock(&file->table_lock);
	drm_print_memory_stats(p, &stats, DRM_GEM_OBJECT_RESIDENT, "system");
	drm_printf(p, "drm-engine-gpu:\t%llu ns\n", dxg_file_engine_ns(file));
}

/*
 * One copy for the module, shared by all dxg DRM devices (they all have the
 * same features). It is filled once, from the first device's Rust vtable,
 * under the mutex, and never rewritten: later devices, possibly probed while
 * earlier ones are open, only get their pointer swapped. Open devices keep
 * the module (fops.owner), so the copy outlives them. (dxg_drm_driver is
 * declared above, for dxg_gem_prime_import().)
 */
static struct file_operations dxg_drm_fops;
static const struct drm_driver *dxg_drm_driver_orig;
static DEFINE_MUTEX(dxg_drm_driver_lock);

int dxg_drm_add_features(struct drm_device *dev, u32 features)
{
	int ret = 0;

	if (dev->registered)
		return -EBUSY;
	mutex_lock(&dxg_drm_driver_lock);
	if (!dxg_drm_driver_orig) {
		dxg_drm_driver = *dev->driver;
		dxg_drm_driver.driver_features |= features;
		/*
		 * The Rust shmem GEM defaults create plain C shmem objects
		 * for dumb buffers and foreign dma-bufs, which are not the
		 * Rust Object<T> every callback expects. dxg has no dumb
		 * buffers; PRIME import of a non-dxg dma-buf fails (-EINVAL
		 * from the core) instead. Self-import, and import from
		 * another dxg adapter (dxg_gem_prime_import), work.
		 */
		dxg_drm_driver.dumb_create = NULL;
		dxg_drm_driver.gem_prime_import = dxg_gem_prime_import;
		dxg_drm_driver.show_fdinfo = dxg_show_fdinfo;
		dxg_drm_driver.gem_prime_import_sg_table = NULL;
		dxg_drm_fops = *dev->driver->fops;
		dxg_drm_fops.show_fdinfo = drm_show_fdinfo;
		dxg_drm_driver.fops = &dxg_drm_fops;
		dxg_drm_driver_orig = dev->driver;
	} else if (dev->driver != dxg_drm_driver_orig ||
		   (dxg_drm_driver.driver_features & features) != features) {
		ret = -EINVAL;
	}
	if (!ret)
		dev->driver = &dxg_drm_driver;
	mutex_unlock(&dxg_drm_driver_lock);
	return ret;
}

/* --- guest pages shared with the host ------------------------------------ */

struct page **dxg_gem_pages(struct drm_gem_object *obj)
{
	struct drm_gem_shmem_object *shmem = to_drm_gem_shmem_obj(obj);
	struct sg_table *sgt;

	if (drm_gem_is_imported(obj))
		return ERR_PTR(-EOPNOTSUPP);
	/*
	 * The sg_table holds one pages_use_count reference until
	 * drm_gem_shmem_release(), which drops exactly that one (a pin
	 * would trip its WARN); shmem->pages is valid until then.
	 */
	sgt = drm_gem_shmem_get_pages_sgt(shmem);
	if (IS_ERR(sgt))
		return ERR_CAST(sgt);
	return shmem->pages;
}

void dxg_page_get(struct page *page)
{
	get_page(page);
}

void dxg_page_put(struct page *page)
{
	put_page(page);
}

void *dxg_vmap_pages(struct page **pages, unsigned int count)
{
	return vmap(pages, count, VM_MAP, PAGE_KERNEL);
}

void dxg_vunmap(const void *addr)
{
	vunmap(addr);
}

/* --- fences ---------------------------------------------------------------- */

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

/* --- syncobjs ------------------------------------------------------------- */

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

struct dma_fence_chain *dxg_fence_chain_alloc(void)
{
	return dma_fence_chain_alloc();
}

void dxg_fence_chain_free(struct dma_fence_chain *chain)
{
	dma_fence_chain_free(chain);
}

void dxg_syncobj_install(struct drm_syncobj *syncobj, u64 point,
			 struct dma_fence *fence, struct dma_fence_chain *chain)
{
	if (point)
		drm_syncobj_add_point(syncobj, chain, fence, point);
	else
		drm_syncobj_replace_fence(syncobj, fence);
}

/* --- the module's workqueue -------------------------------------------------- */

struct workqueue_struct *dxg_wq_alloc(void)
{
	return alloc_workqueue("dxg", WQ_UNBOUND, 0);
}

void dxg_wq_destroy(struct workqueue_struct *wq)
{
	destroy_workqueue(wq);
}
