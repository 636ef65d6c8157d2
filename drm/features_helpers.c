// SPDX-License-Identifier: GPL-2.0
/*
 * The module's drm_driver copy; see features_helpers.h.
 */
#include <linux/mutex.h>
#include <drm/drm_device.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_prime.h>
#include <drm/drm_print.h>
#include <linux/dma-buf.h>

#include "features_helpers.h"

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
