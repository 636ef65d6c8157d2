/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PCI helpers of the vGPU function driver (bind/pci.rs, and the module
 * init in dxg_main.rs).
 */
#ifndef DXG_BIND_PCI_HELPERS_H
#define DXG_BIND_PCI_HELPERS_H

#include <linux/types.h>

#ifdef DXG_TEST
/*
 * Test build: pci_add_dynid() for the registered PCI driver called @drv_name: what
 * writing "VVVV DDDD" to its sysfs new_id does, which the Rust PCI
 * abstraction refuses (its driver_data is a pointer). A dynamic ID belongs
 * to the driver, so it survives PCI remove + rescan.
 */
int dxg_pci_add_dynid(const char *drv_name, u32 vendor, u32 device);
#endif /* DXG_TEST */

/* Whether a PCI driver called @drv_name is registered (e.g. dxgkrnl). */
bool dxg_pci_driver_present(const char *drv_name);

#endif /* DXG_BIND_PCI_HELPERS_H */
