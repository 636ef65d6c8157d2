/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The loopback transport's channel devices (vmbus/loopback.rs): auxiliary
 * devices "dxg.channel.N" that carry the channel's link, made here so
 * that the channel driver's probe (bind/channel_drivers.c) finds the link
 * without any kernel-crate internal.
 */
#ifndef DXG_VMBUS_LOOPBACK_HELPERS_H
#define DXG_VMBUS_LOOPBACK_HELPERS_H

#include <linux/types.h>

struct auxiliary_device;
struct device;

/*
 * Add the channel device "dxg.channel.@id" under @parent, carrying @link
 * (a reference to a LoopLink, Arc::into_raw()). The device owns that
 * reference from now on, also when this fails: its release callback drops
 * it (dxg_loop_link_put()). The channel driver may bind it before this
 * returns. ERR_PTR() on failure.
 */
struct auxiliary_device *dxg_loop_channel_add(struct device *parent, u32 id,
					      void *link);
/* Delete a device made by dxg_loop_channel_add() (unbinding it first). */
void dxg_loop_channel_del(struct auxiliary_device *adev);
/* The link of a device made by dxg_loop_channel_add(). */
void *dxg_loop_channel_link(struct auxiliary_device *adev);

/* Implemented in Rust (vmbus/loopback.rs): drop the reference to @link. */
void dxg_loop_link_put(void *link);

#endif /* DXG_VMBUS_LOOPBACK_HELPERS_H */
