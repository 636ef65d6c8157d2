// SPDX-License-Identifier: GPL-2.0
/*
 * The hv_driver of dxg.ko for the VM-level and vGPU channel classes.
 * Everything with a policy lives in Rust (bind/hv.rs); this file only
 * registers the driver and forwards. The channel API wrappers are in
 * vmbus/hv_helpers.c.
 */
#include <linux/device/driver.h>
#include <linux/err.h>
#include <linux/hyperv.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "hv_driver.h"

/* The two channel classes, as dxgkrnl names them (dxgmodule.c, id_table). */
static const struct hv_vmbus_device_id dxg_hv_ids[] = {
	/* VM-level ("global") channel */
	{ .guid = GUID_INIT(0xdde9cbc0, 0x5060, 0x4436, 0x94, 0x48,
			    0xea, 0x12, 0x54, 0xa5, 0xd1, 0x77),
	  .driver_data = DXG_HV_CHANNEL_VM },
	/* per-vGPU channel */
	{ .guid = GUID_INIT(0x6e382d18, 0x3336, 0x4f4b, 0xac, 0xc4,
			    0x2b, 0x77, 0x03, 0xd4, 0xdf, 0x4a),
	  .driver_data = DXG_HV_CHANNEL_VGPU },
	{ },
};
/* "vmbus:<guid>" aliases, so udev loads dxg for either offer. */
MODULE_DEVICE_TABLE(vmbus, dxg_hv_ids);

static int dxg_hv_probe_cb(struct hv_device *hdev,
			   const struct hv_vmbus_device_id *id)
{
	return dxg_hv_probe(hdev, id->driver_data);
}

static void dxg_hv_remove_cb(struct hv_device *hdev)
{
	dxg_hv_remove(hdev);
}

struct hv_driver *dxg_hv_driver_register(void)
{
	struct hv_driver *drv = kzalloc(sizeof(*drv), GFP_KERNEL);
	int ret;

	if (!drv)
		return ERR_PTR(-ENOMEM);
	drv->name = "dxg_vmbus";
	drv->id_table = dxg_hv_ids;
	drv->probe = dxg_hv_probe_cb;
	drv->remove = dxg_hv_remove_cb;
	drv->driver.probe_type = PROBE_PREFER_ASYNCHRONOUS;
	ret = vmbus_driver_register(drv);
	if (ret) {
		kfree(drv);
		return ERR_PTR(ret);
	}
	return drv;
}

void dxg_hv_driver_unregister(struct hv_driver *drv)
{
	vmbus_driver_unregister(drv);
	kfree(drv);
}

bool dxg_hv_dxgkrnl_present(struct hv_device *hdev)
{
	return driver_find("dxgkrnl", hdev->device.bus) != NULL;
}

void dxg_hv_set_drvdata(struct hv_device *hdev, void *data)
{
	hv_set_drvdata(hdev, data);
}

void *dxg_hv_get_drvdata(struct hv_device *hdev)
{
	return hv_get_drvdata(hdev);
}
