// SPDX-License-Identifier: GPL-2.0
/*
 * PCI helpers of the vGPU function driver; see pci_helpers.h.
 */
#include <linux/device/driver.h>
#include <linux/pci.h>

#include "pci_helpers.h"

#ifdef DXG_TEST
int dxg_pci_add_dynid(const char *drv_name, u32 vendor, u32 device)
{
	struct device_driver *drv = driver_find(drv_name, &pci_bus_type);

	if (!drv)
		return -ENODEV;
	return pci_add_dynid(to_pci_driver(drv), vendor, device, PCI_ANY_ID,
			     PCI_ANY_ID, 0, 0, 0);
}
#endif /* DXG_TEST */

bool dxg_pci_driver_present(const char *drv_name)
{
	return driver_find(drv_name, &pci_bus_type) != NULL;
}
