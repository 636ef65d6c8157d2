// SPDX-License-Identifier: GPL-2.0
/*
 * The channel device drivers of dxg.ko, registered as static driver
 * structures: dxg_vmbus for the VM-level and vGPU channel classes Hyper-V
 * offers, and the loopback channel driver for the auxiliary devices of
 * the loopback transport (vmbus/loopback_helpers.c). Everything with a
 * policy lives in Rust (bind/chandev.rs, bind/hv.rs); probe and remove
 * only forward, and the driver data of a bound device is the Rust
 * BoundChannel its probe returned, taken back in remove.
 *
 * dxg_channels_for_each() is how a vGPU PCI function finds its channels
 * (bind/lookup.rs): through the devices bound to these two drivers.
 *
 * Lock order: a channel device's lock before a PCI function's lock (the
 * unbind of a channel reprobes the functions that use it, with
 * device_reprobe(), while it holds its own device lock). Anything that
 * may run under a PCI function's lock - its probe - or that an unbind
 * may wait for therefore only ever trylocks a channel device, here.
 *
 * The channel API wrappers are in vmbus/hv_helpers.c.
 */
#include <linux/auxiliary_bus.h>
#include <linux/device.h>
#include <linux/device/driver.h>
#include <linux/hyperv.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>

#include "channel_drivers.h"
#ifdef DXG_TEST
#include "vmbus/loopback_helpers.h"
#endif

/* --- VMBus ------------------------------------------------------------- */

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
	void *bound;
	int ret;

	ret = dxg_hv_probe(hdev, id->driver_data, &bound);
	if (ret)
		return ret;
	hv_set_drvdata(hdev, bound);
	return 0;
}

static void dxg_hv_remove_cb(struct hv_device *hdev)
{
	void *bound = hv_get_drvdata(hdev);

	hv_set_drvdata(hdev, NULL);
	dxg_channel_remove(bound);
}

/* A module registration: registered at module init, unregistered at exit. */
static struct hv_driver dxg_hv_driver = {
	.name = "dxg_vmbus",
	.id_table = dxg_hv_ids,
	.probe = dxg_hv_probe_cb,
	.remove = dxg_hv_remove_cb,
	.driver = {
		.probe_type = PROBE_PREFER_ASYNCHRONOUS,
	},
};

int dxg_hv_driver_register(void)
{
	return vmbus_driver_register(&dxg_hv_driver);
}

void dxg_hv_driver_unregister(void)
{
	vmbus_driver_unregister(&dxg_hv_driver);
}

bool dxg_hv_dxgkrnl_present(struct hv_device *hdev)
{
	return driver_find("dxgkrnl", hdev->device.bus) != NULL;
}

/* --- loopback (auxiliary bus; test build) ------------------------------ */

#ifdef DXG_TEST

static const struct auxiliary_device_id dxg_loop_ids[] = {
	{ .name = KBUILD_MODNAME ".channel" },
	{ },
};
MODULE_DEVICE_TABLE(auxiliary, dxg_loop_ids);

static int dxg_loop_probe_cb(struct auxiliary_device *adev,
			     const struct auxiliary_device_id *id)
{
	void *bound;
	int ret;

	ret = dxg_loop_probe(&adev->dev, dxg_loop_channel_link(adev), &bound);
	if (ret)
		return ret;
	auxiliary_set_drvdata(adev, bound);
	return 0;
}

static void dxg_loop_remove_cb(struct auxiliary_device *adev)
{
	void *bound = auxiliary_get_drvdata(adev);

	auxiliary_set_drvdata(adev, NULL);
	dxg_channel_remove(bound);
}

/* A module registration: registered at module init, unregistered at exit. */
static struct auxiliary_driver dxg_loop_driver = {
	/* The driver is "dxg.dxg" (module name, then this). */
	.name = KBUILD_MODNAME,
	.id_table = dxg_loop_ids,
	.probe = dxg_loop_probe_cb,
	.remove = dxg_loop_remove_cb,
};

int dxg_loop_driver_register(void)
{
	return auxiliary_driver_register(&dxg_loop_driver);
}

void dxg_loop_driver_unregister(void)
{
	auxiliary_driver_unregister(&dxg_loop_driver);
}
#endif /* DXG_TEST */

/* --- the lookup ---------------------------------------------------------- */

struct dxg_each {
	const struct device_driver *drv;
	int (*fn)(void *bound, void *ctx);
	void *ctx;
	int busy;
};

static int dxg_each_device(struct device *dev, void *data)
{
	struct dxg_each *e = data;
	void *bound;
	int ret = 0;

	/*
	 * No reference on @dev is needed for the call: the driver's device
	 * list has no get/put (bus_add_driver()), but the iterator holds the
	 * device's node in it, and an unbind waits for that node in
	 * klist_remove() (__device_release_driver()), so @dev stays bound,
	 * hence allocated, until this returns. Nothing is kept afterwards.
	 *
	 * Trylock only: an unbind holding this lock may be waiting for the
	 * caller (see the lock order at the top).
	 */
	if (!device_trylock(dev)) {
		e->busy++;
		return 0;
	}
	/* Bound to our driver and not being unbound: the data is ours. */
	bound = dev_get_drvdata(dev);
	if (dev->driver == e->drv && bound)
		ret = e->fn(bound, e->ctx);
	device_unlock(dev);
	return ret < 0 ? ret : 0;
}

int dxg_channels_for_each(int (*fn)(void *bound, void *ctx), void *ctx)
{
	struct dxg_each e = { .fn = fn, .ctx = ctx };
	int ret;

	ret = 0;
#ifdef DXG_TEST
	e.drv = &dxg_loop_driver.driver;
	ret = driver_for_each_device(&dxg_loop_driver.driver, NULL, &e,
				     dxg_each_device);
#endif
	/*
	 * With VMBus, dxg_vmbus is registered while anything looks up: the
	 * module registers it before the PCI driver, or fails to load.
	 */
	if (!ret && hv_vmbus_exists()) {
		e.drv = &dxg_hv_driver.driver;
		ret = driver_for_each_device(&dxg_hv_driver.driver, NULL, &e,
					     dxg_each_device);
	}
	return ret < 0 ? ret : e.busy;
}
