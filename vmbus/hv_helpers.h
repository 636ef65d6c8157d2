/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMBus channel glue of the VMBus link (vmbus/hv.rs): thin wrappers of
 * the VMBus channel API (static inlines, macros and structures the kernel
 * crate does not bind).
 */
#ifndef DXG_VMBUS_HV_HELPERS_H
#define DXG_VMBUS_HV_HELPERS_H

#include <linux/types.h>

struct device;
struct hv_device;
struct vmbus_gpadl;

struct device *dxg_hv_device(struct hv_device *hdev);
/* The channel instance GUID, 16 bytes as on the wire. */
void dxg_hv_instance(struct hv_device *hdev, u8 *guid);
/* The size of the MMIO range the offer asks for (VM-level channel). */
u64 dxg_hv_mmio_size(struct hv_device *hdev);

/*
 * Open the channel with rings of @ring_size bytes each way, reading host
 * packets of up to @max_pkt_size bytes (the channel's max_pkt_size, as
 * dxgkrnl's dxgvmbuschannel_init() sets it).
 */
int dxg_hv_open(struct hv_device *hdev, u32 ring_size, u32 max_pkt_size,
		void (*callback)(void *context), void *context);
void dxg_hv_close(struct hv_device *hdev);
/* One in-band packet (-EAGAIN: ring full). */
int dxg_hv_send(struct hv_device *hdev, const void *buf, u32 len,
		u64 trans_id, bool completion);
/* The next packet, raw (descriptor included): *actual 0 when none. */
int dxg_hv_recv(struct hv_device *hdev, void *buf, u32 len, u32 *actual);
struct vmbus_gpadl *dxg_hv_gpadl_establish(struct hv_device *hdev,
					   void *kbuffer, u32 size);
u32 dxg_hv_gpadl_handle(const struct vmbus_gpadl *gpadl);
/*
 * Tear @gpadl down and free it; on failure (the host may still reach the
 * pages) it is kept, and the error returned: the caller then never frees
 * the pages either (as netvsc does).
 */
int dxg_hv_gpadl_teardown(struct hv_device *hdev, struct vmbus_gpadl *gpadl);
/* Allocate and map (write-back) the IO space from the VMBus MMIO range. */
int dxg_hv_mmio_alloc(struct hv_device *hdev, u64 size, u64 *start,
		      void **vaddr);
void dxg_hv_mmio_free(u64 start, u64 size, void *vaddr);

#endif /* DXG_VMBUS_HV_HELPERS_H */
