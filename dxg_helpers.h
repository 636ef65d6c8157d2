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

#endif /* DXG_HELPERS_H */
