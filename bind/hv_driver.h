/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMBus driver of dxg's channel classes (bind/hv.rs): registration,
 * the probe/remove trampolines and the driver data.
 */
#ifndef DXG_BIND_HV_DRIVER_H
#define DXG_BIND_HV_DRIVER_H

#include <linux/types.h>

struct hv_device;
struct hv_driver;

/* hv_vmbus_device_id.driver_data: which channel class a device is. */
#define DXG_HV_CHANNEL_VM	0
#define DXG_HV_CHANNEL_VGPU	1

/*
 * Register the VMBus driver of both channel classes; its probe and remove
 * call dxg_hv_probe()/dxg_hv_remove() (Rust, bind/hv.rs). ERR_PTR(-ENODEV)
 * when the machine has no VMBus.
 */
struct hv_driver *dxg_hv_driver_register(void);
void dxg_hv_driver_unregister(struct hv_driver *drv);
/* Whether Microsoft's dxgkrnl driver is registered on the bus of @hdev. */
bool dxg_hv_dxgkrnl_present(struct hv_device *hdev);

void dxg_hv_set_drvdata(struct hv_device *hdev, void *data);
void *dxg_hv_get_drvdata(struct hv_device *hdev);

/* Implemented in Rust (bind/hv.rs). */
int dxg_hv_probe(struct hv_device *hdev, unsigned long kind);
void dxg_hv_remove(struct hv_device *hdev);

#endif /* DXG_BIND_HV_DRIVER_H */
