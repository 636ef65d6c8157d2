// SPDX-License-Identifier: GPL-2.0
/*
 * VMBus glue of dxg.ko: thin wrappers of the VMBus channel API (static
 * inlines, macros and structures the kernel crate does not bind) for the
 * VMBus link. Everything with a policy lives in Rust (vmbus/hv.rs); this
 * file only forwards. The hv_driver itself is in bind/hv_driver.c.
 */
#include <linux/err.h>
#include <linux/hyperv.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "hv_helpers.h"

struct device *dxg_hv_device(struct hv_device *hdev)
{
	return &hdev->device;
}

void dxg_hv_instance(struct hv_device *hdev, u8 *guid)
{
	memcpy(guid, &hdev->dev_instance, 16);
}

u64 dxg_hv_mmio_size(struct hv_device *hdev)
{
	return (u64)hdev->channel->offermsg.offer.mmio_megabytes << 20;
}

int dxg_hv_open(struct hv_device *hdev, u32 ring_size, u32 max_pkt_size,
		void (*callback)(void *context), void *context)
{
	/*
	 * Before vmbus_open(): it sizes the inbound packet buffer from it, and
	 * the 4 KiB default would truncate every larger packet read.
	 */
	hdev->channel->max_pkt_size = max_pkt_size;
	return vmbus_open(hdev->channel, ring_size, ring_size, NULL, 0,
			  callback, context);
}

void dxg_hv_close(struct hv_device *hdev)
{
	vmbus_close(hdev->channel);
}

int dxg_hv_send(struct hv_device *hdev, const void *buf, u32 len,
		u64 trans_id, bool completion)
{
	return vmbus_sendpacket(hdev->channel, (void *)buf, len, trans_id,
				VM_PKT_DATA_INBAND,
				completion ? VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED : 0);
}

int dxg_hv_recv(struct hv_device *hdev, void *buf, u32 len, u32 *actual)
{
	u64 request_id;

	return vmbus_recvpacket_raw(hdev->channel, buf, len, actual, &request_id);
}

struct vmbus_gpadl *dxg_hv_gpadl_establish(struct hv_device *hdev,
					   void *kbuffer, u32 size)
{
	struct vmbus_gpadl *gpadl = kzalloc(sizeof(*gpadl), GFP_KERNEL);
	int ret;

	if (!gpadl)
		return ERR_PTR(-ENOMEM);
	ret = vmbus_establish_gpadl(hdev->channel, kbuffer, size, gpadl);
	if (ret) {
		kfree(gpadl);
		return ERR_PTR(ret);
	}
	return gpadl;
}

u32 dxg_hv_gpadl_handle(const struct vmbus_gpadl *gpadl)
{
	return gpadl->gpadl_handle;
}

int dxg_hv_gpadl_teardown(struct hv_device *hdev, struct vmbus_gpadl *gpadl)
{
	int ret = vmbus_teardown_gpadl(hdev->channel, gpadl);

	if (ret)
		return ret;
	kfree(gpadl);
	return 0;
}

int dxg_hv_mmio_alloc(struct hv_device *hdev, u64 size, u64 *start,
		      void **vaddr)
{
	struct resource *res;
	int ret;

	/* 64 KiB aligned, as dxgkrnl's dxgglobal_getiospace() asks. */
	ret = vmbus_allocate_mmio(&res, hdev, 0, -1, size, SZ_64K, false);
	if (ret)
		return ret;
	*start = res->start;
	*vaddr = memremap(res->start, size, MEMREMAP_WB);
	if (!*vaddr) {
		vmbus_free_mmio(res->start, size);
		return -ENOMEM;
	}
	return 0;
}

void dxg_hv_mmio_free(u64 start, u64 size, void *vaddr)
{
	memunmap(vaddr);
	vmbus_free_mmio(start, size);
}
