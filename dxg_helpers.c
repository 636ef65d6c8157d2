// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of dxg.ko; see dxg_helpers.h for why each one exists.
 */
#include <linux/device/driver.h>
#include <linux/pci.h>

#include "dxg_helpers.h"

int dxg_pci_add_dynid(const char *drv_name, u32 vendor, u32 device)
{
	struct device_driver *drv = driver_find(drv_name, &pci_bus_type);

	if (!drv)
		return -ENODEV;
	return pci_add_dynid(to_pci_driver(drv), vendor, device, PCI_ANY_ID,
			     PCI_ANY_ID, 0, 0, 0);
}
