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

#include "dxg_helpers.h"

int dxg_pci_add_dynid(const char *drv_name, u32 vendor, u32 device)
{
	struct device_driver *drv = driver_find(drv_name, &pci_bus_type);

	if (!drv)
		return -ENODEV;
	return pci_add_dynid(to_pci_driver(drv), vendor, device, PCI_ANY_ID,
			     PCI_ANY_ID, 0, 0, 0);
}

/*
 * One copy for the module, shared by all dxg DRM devices (they all have the
 * same features). It is filled once, from the first device's Rust vtable,
 * under the mutex, and never rewritten: later devices, possibly probed while
 * earlier ones are open, only get their pointer swapped. Open devices keep
 * the module (fops.owner), so the copy outlives them.
 */
static struct drm_driver dxg_drm_driver;
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
