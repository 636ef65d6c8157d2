// SPDX-License-Identifier: GPL-2.0
/*
 * The loopback transport's channel devices; see loopback_helpers.h.
 */
#include <linux/auxiliary_bus.h>
#include <linux/err.h>
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
