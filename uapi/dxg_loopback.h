/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * dxg loopback transport: the Hyper-V host side of dxg's VMBus channels,
 * in a user process (the host model, tests/dxg-host).
 *
 * Real Hyper-V cannot run under TCG, so tests move the host into a process
 * that opens /dev/dxg-loopback (root only; the module creates it when
 * loaded with loopback=1; one host at a time: open fails with EBUSY
 * while another host is attached). The process offers and rescinds channels exactly
 * as the Hyper-V host would: every offered channel becomes a device that a
 * dxg driver binds, like a VMBus channel device. The bytes it reads and
 * writes are the bytes a VMBus ring buffer would carry.
 *
 * Records: read() returns and write() takes exactly one record:
 *
 *	struct dxg_loopback_record hdr;  (hdr.len bytes follow)
 *	__u8 packet[hdr.len];            one VMBus ring packet: vmpacket_descriptor,
 *	                                 payload, padding to 8 bytes, and the
 *	                                 8-byte trailer the ring stores
 *
 * read() blocks until the guest sends a packet on any channel of this
 * session (O_NONBLOCK: -EAGAIN), fails with -EMSGSIZE and consumes nothing
 * if the buffer is too small for the next record. write() fails with
 * -EINVAL on a malformed record or packet and -ENOENT for a channel that
 * is not offered.
 *
 * Memory the guest shares with the host is mapped by mmap(), shared and
 * without a copy: the IO space of the VM-level channel at offset 0, the
 * pages of a GPADL at offset (gpadl_handle << PAGE_SHIFT), from its first
 * page, at most its length (-EINVAL beyond; -ENXIO for an unknown GPADL
 * or no IO space). A mapping keeps its pages after the GPADL is torn
 * down. write() also fails with -ENOTCONN for an offered channel that no
 * driver has bound.
 *
 * Closing the file rescinds every channel it offered, after failing every
 * request still waiting for a reply on any of them.
 *
 * OFFER and RESCIND may wait for the driver: a rescind unplugs the
 * adapter's DRM device, which waits for DRM ioctls in progress, and those
 * may wait for this host's replies on other channels. A host must keep
 * serving read()/write() on another thread while it offers or rescinds.
 */
#ifndef _UAPI_DXG_LOOPBACK_H_
#define _UAPI_DXG_LOOPBACK_H_

#include <linux/ioctl.h>
#include <linux/types.h>

/* Channel kinds (Hyper-V channel class GUIDs, dxgkrnl dxgmodule.c id_table). */
#define DXG_LOOPBACK_CHANNEL_VM		0	/* VM-level ("global") channel */
#define DXG_LOOPBACK_CHANNEL_VGPU	1	/* per-vGPU channel */

/**
 * struct dxg_loopback_offer - offer a channel (DXG_LOOPBACK_IOCTL_OFFER)
 * @size: sizeof(struct dxg_loopback_offer), for extension
 * @kind: DXG_LOOPBACK_CHANNEL_*
 * @instance: channel instance GUID (bytes as on the wire); a vGPU function
 *	names its channel by this GUID in its config-space mailbox
 * @vgpu_luid: vGPU channels: the adapter LUID the host assigned. On
 *	Hyper-V the guest reads it from the PCI mailbox at 0xD4; the QEMU
 *	stand-in's mailbox is plain memory that the guest's capability write
 *	overwrites, so the loopback carries it in the offer.
 * @channel_id: out: the session-local id used in records and RESCIND
 * @mmio_size: VM-level channel: size in bytes of the IO space the host
 *	offers (Hyper-V: the channel offer's MMIO size); 0 otherwise
 */
struct dxg_loopback_offer {
	__u32 size;
	__u32 kind;
	__u8 instance[16];
	__u64 vgpu_luid;
	__u32 channel_id;
	__u32 reserved;
	__u64 mmio_size;
};

/**
 * struct dxg_loopback_rescind - rescind a channel (DXG_LOOPBACK_IOCTL_RESCIND)
 * @channel_id: as returned by OFFER
 * @reserved: must be zero
 */
struct dxg_loopback_rescind {
	__u32 channel_id;
	__u32 reserved;
};

/**
 * struct dxg_loopback_record - header of one packet in read()/write()
 * @channel_id: the channel the packet travels on
 * @len: length in bytes of the VMBus ring packet that follows
 */
struct dxg_loopback_record {
	__u32 channel_id;
	__u32 len;
};

#define DXG_LOOPBACK_IOCTL_BASE		'x'
#define DXG_LOOPBACK_IOCTL_OFFER	_IOWR(DXG_LOOPBACK_IOCTL_BASE, 0x40, struct dxg_loopback_offer)
#define DXG_LOOPBACK_IOCTL_RESCIND	_IOW(DXG_LOOPBACK_IOCTL_BASE, 0x41, struct dxg_loopback_rescind)

/*
 * Largest packet a record may carry: the largest VMBus packet of the
 * protocol (dxgkrnl opens its channels with a max_pkt_size of 128 KiB), so
 * every request the dxg UAPI allows, and its reply, fits.
 */
#define DXG_LOOPBACK_MAX_PACKET		(128 * 1024)

#endif /* _UAPI_DXG_LOOPBACK_H_ */
