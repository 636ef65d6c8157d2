// SPDX-License-Identifier: GPL-2.0
/*
 * VMBus glue of dxg.ko: the hv_driver for the VM-level and vGPU channel
 * classes, and thin wrappers of the VMBus channel API (static inlines,
 * macros and structures the kernel crate does not bind). Everything with
 * a policy lives in Rust (vmbus/hv.rs); this file only forwards.
 */
#include <linux/device/driver.h>
#include <linux/err.h>
#include <linux/hyperv.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/slab.h>

#include "dxg_helpers.h"

/* dxgkrnl-protocol.md §2.1: the two channel classes. */
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

struct device *dxg_hv_device(struct hv_device *hdev)
{
	return &hdev->device;
}

void dxg_hv_set_drvdata(struct hv_device *hdev, void *data)
{
	hv_set_drvdata(hdev, data);
}

void *dxg_hv_get_drvdata(struct hv_device *hdev)
{
	return hv_get_drvdata(hdev);
}

void dxg_hv_instance(struct hv_device *hdev, u8 *guid)
{
	memcpy(guid, &hdev->dev_instance, 16);
}

u64 dxg_hv_mmio_size(struct hv_device *hdev)
{
	return (u64)hdev->channel->offermsg.offer.mmio_megabytes << 20;
}

int dxg_hv_open(struct hv_device *hdev, u32 ring_size,
		void (*callback)(void *context), void *context)
{
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

void dxg_hv_gpadl_teardown(struct hv_device *hdev, struct vmbus_gpadl *gpadl)
{
	vmbus_teardown_gpadl(hdev->channel, gpadl);
	kfree(gpadl);
}

int dxg_hv_mmio_alloc(struct hv_device *hdev, u64 size, u64 *start,
		      void **vaddr)
{
	struct resource *res;
	int ret;

	ret = vmbus_allocate_mmio(&res, hdev, 0, -1, size, PAGE_SIZE, false);
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
