/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dxg's channel device drivers (bind/channel_drivers.c): the VMBus driver
 * dxg_vmbus (bind/hv.rs) and the loopback channel driver (auxiliary bus,
 * bind/chandev.rs), and the driver-core lookup of the channel devices
 * bound to them (bind/lookup.rs).
 */
#ifndef DXG_BIND_CHANNEL_DRIVERS_H
#define DXG_BIND_CHANNEL_DRIVERS_H

#include <linux/types.h>

struct device;
struct hv_device;

/* hv_vmbus_device_id.driver_data: which channel class a device is. */
#define DXG_HV_CHANNEL_VM	0
#define DXG_HV_CHANNEL_VGPU	1

/*
 * Register the VMBus driver of both channel classes; -ENODEV when the
 * machine has no VMBus. Register it before anything may look channels
 * up (dxg_channels_for_each()), unregister it after.
 */
int dxg_hv_driver_register(void);
void dxg_hv_driver_unregister(void);
/* Whether Microsoft's dxgkrnl driver is registered on the bus of @hdev. */
bool dxg_hv_dxgkrnl_present(struct hv_device *hdev);

#ifdef DXG_TEST
/*
 * Test build: register the loopback channel driver ("dxg.dxg", binds
 * dxg.channel.N).
 */
int dxg_loop_driver_register(void);
void dxg_loop_driver_unregister(void);
#endif

/*
 * Call @fn(bound, @ctx) for every channel device bound to one of the two
 * drivers whose device lock is free, with that lock held; @bound is the
 * device's driver data (a BoundChannel). Never waits for a device lock:
 * a device whose lock is taken (its bind or unbind is in progress) is
 * skipped and counted. Returns the number skipped, or the first negative
 * value @fn returned (which stops the walk).
 */
int dxg_channels_for_each(int (*fn)(void *bound, void *ctx), void *ctx);

/*
 * Implemented in Rust. The probes store the new BoundChannel in *@bound
 * (the device's driver data until remove); remove hands it back.
 */
int dxg_hv_probe(struct hv_device *hdev, unsigned long kind, void **bound);
#ifdef DXG_TEST
int dxg_loop_probe(struct device *dev, void *link, void **bound);
#endif
void dxg_channel_remove(void *bound);

#endif /* DXG_BIND_CHANNEL_DRIVERS_H */
