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
struct file;
struct inode;
struct vm_area_struct;

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

/*
 * The host's mappings of /dev/dxg-loopback are filled on demand: make
 * @vma's page faults call dxg_loop_fault() with the session in the
 * file's private data. Called from the file's mmap().
 */
void dxg_loop_vma_init(struct vm_area_struct *vma);
/*
 * Implemented in Rust (vmbus/loopback.rs): map page @index of what @vma
 * maps (from its vm_pgoff) at @addr; a vm_fault_t.
 */
unsigned int dxg_loop_fault(void *session, struct vm_area_struct *vma,
			    unsigned long addr, unsigned long index);
/*
 * The inode whose mappings are those of the open file @file, with a
 * reference (dxg_loop_inode_put() drops it).
 */
struct inode *dxg_loop_inode_get(struct file *file);
void dxg_loop_inode_put(struct inode *inode);
/*
 * Remove every mapping of file pages [@pgoff, @pgoff + @count) of
 * @inode's files from the page tables of the processes that map them.
 */
void dxg_loop_zap(struct inode *inode, unsigned long pgoff,
		  unsigned long count);

#endif /* DXG_VMBUS_LOOPBACK_HELPERS_H */
