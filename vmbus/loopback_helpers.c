// SPDX-License-Identifier: GPL-2.0
/*
 * The loopback transport's channel devices; see loopback_helpers.h.
 */
#include <linux/auxiliary_bus.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "loopback_helpers.h"

/* A loopback channel device: an auxiliary device and the channel's link. */
struct dxg_loop_channel {
	struct auxiliary_device adev;
	/* One reference to the LoopLink, dropped when the device is freed. */
	void *link;
};

static struct dxg_loop_channel *to_loop_channel(struct auxiliary_device *adev)
{
	return container_of(adev, struct dxg_loop_channel, adev);
}

static void dxg_loop_channel_release(struct device *dev)
{
	struct dxg_loop_channel *ch = to_loop_channel(to_auxiliary_dev(dev));

	dxg_loop_link_put(ch->link);
	kfree(ch);
}

struct auxiliary_device *dxg_loop_channel_add(struct device *parent, u32 id,
					      void *link)
{
	struct dxg_loop_channel *ch = kzalloc(sizeof(*ch), GFP_KERNEL);
	int ret;

	if (!ch) {
		dxg_loop_link_put(link);
		return ERR_PTR(-ENOMEM);
	}
	ch->link = link;
	ch->adev.name = "channel";
	ch->adev.id = id;
	ch->adev.dev.parent = parent;
	ch->adev.dev.release = dxg_loop_channel_release;
	ret = auxiliary_device_init(&ch->adev);
	if (ret) {
		/* Not initialised: the release callback will not run. */
		dxg_loop_link_put(link);
		kfree(ch);
		return ERR_PTR(ret);
	}
	/* "dxg.channel.N": the module name, as the channel driver matches. */
	ret = __auxiliary_device_add(&ch->adev, KBUILD_MODNAME);
	if (ret) {
		/* Drops the last reference: the release callback frees it. */
		auxiliary_device_uninit(&ch->adev);
		return ERR_PTR(ret);
	}
	return &ch->adev;
}

void dxg_loop_channel_del(struct auxiliary_device *adev)
{
	auxiliary_device_delete(adev);
	auxiliary_device_uninit(adev);
}

void *dxg_loop_channel_link(struct auxiliary_device *adev)
{
	return to_loop_channel(adev)->link;
}

static vm_fault_t dxg_loop_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;

	return dxg_loop_fault(vma->vm_file->private_data, vma, vmf->address,
			      vmf->pgoff - vma->vm_pgoff);
}

static const struct vm_operations_struct dxg_loop_vm_ops = {
	.fault = dxg_loop_vm_fault,
};

void dxg_loop_vma_init(struct vm_area_struct *vma)
{
	vma->vm_ops = &dxg_loop_vm_ops;
}

struct inode *dxg_loop_inode_get(struct file *file)
{
	struct inode *inode = file->f_mapping->host;

	ihold(inode);
	return inode;
}

void dxg_loop_inode_put(struct inode *inode)
{
	iput(inode);
}

void dxg_loop_zap(struct inode *inode, unsigned long pgoff,
		  unsigned long count)
{
	unmap_mapping_pages(inode->i_mapping, pgoff, count, true);
}
