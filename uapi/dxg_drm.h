/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * dxg: Hyper-V GPU-PV virtual GPUs as DRM devices. UAPI.
 *
 * Every adapter is a DRM device (driver name "dxg") with a render node.
 * Core DRM ioctls work as usual (version, GEM close, PRIME, syncobj with
 * timelines); the driver's own ioctls are below. Every extensible struct
 * starts with its size as the caller knows it; reserved fields and unknown
 * flags must be zero (-EINVAL otherwise).
 */
#ifndef _UAPI_DXG_DRM_H_
#define _UAPI_DXG_DRM_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

/*
 * The UAPI version reported by DRM_IOCTL_DXG_QUERY_ADAPTER.
 * 2: queued submission, DRM_IOCTL_DXG_QUERY_STATE.
 */
#define DXG_UAPI_VERSION		2

#define DRM_DXG_QUERY_ADAPTER		0x00
#define DRM_DXG_QUERY_ADAPTER_INFO	0x01
#define DRM_DXG_DEVICE_CREATE		0x02
#define DRM_DXG_DEVICE_DESTROY		0x03
#define DRM_DXG_CONTEXT_CREATE		0x04
#define DRM_DXG_CONTEXT_DESTROY		0x05
#define DRM_DXG_GEM_CREATE		0x06
#define DRM_DXG_GEM_MMAP_OFFSET		0x07
#define DRM_DXG_VM_BIND			0x08
#define DRM_DXG_SUBMIT			0x09
#define DRM_DXG_ESCAPE			0x0a
#define DRM_DXG_RESIDENCY		0x0b
#define DRM_DXG_QUERY_STATE		0x0c

/*
 * Largest private driver data blob (context, allocation, submission,
 * escape). The blob is the user-mode driver's business; the kernel only
 * carries it to the host.
 */
#define DXG_PRIV_MAX			4096

/*
 * drm_dxg_query_adapter.adapter_flags. COMPUTE_ONLY: no graphics engines
 * (a 1414:008A function; for a function whose PCI id cannot tell, the
 * host's adapter type says).
 */
#define DXG_ADAPTER_COMPUTE_ONLY	(1 << 0)

/* Length of drm_dxg_query_adapter.description, NUL included. */
#define DXG_DESCRIPTION_LEN		128

/**
 * struct drm_dxg_query_adapter - what the host says about the adapter
 * @size: in: sizeof(struct drm_dxg_query_adapter)
 * @flags: in: must be zero
 * @luid: out: the adapter LUID (high << 32 | low), as Windows names it
 * @uapi_version: out: DXG_UAPI_VERSION of the kernel
 * @host_version: out: the negotiated host protocol version
 * @adapter_flags: out: DXG_ADAPTER_*
 * @reserved: must be zero
 * @description: out: the host's description, UTF-8, NUL-terminated
 *
 * Errors: -EINVAL (size, flags or reserved), -ENODEV (adapter gone).
 */
struct drm_dxg_query_adapter {
	__u32 size;
	__u32 flags;
	__u64 luid;
	__u32 uapi_version;
	__u32 host_version;
	__u32 adapter_flags;
	__u32 reserved;
	char description[DXG_DESCRIPTION_LEN];
};

/* Largest drm_dxg_query_adapter_info.data_size. */
#define DXG_QUERY_MAX			(64 * 1024)

/**
 * struct drm_dxg_query_adapter_info - ask the host (QUERYADAPTERINFO)
 * @size: in: sizeof(struct drm_dxg_query_adapter_info)
 * @type: in: the host's query type (KMTQUERYADAPTERINFOTYPE, e.g. 15 for
 *	the adapter type, 0 for the user-mode driver's private data)
 * @data: in: user pointer to the query buffer; in and out
 * @data_size: in: its size in bytes, at most DXG_QUERY_MAX
 * @reserved: must be zero
 *
 * Sent with the host process of this DRM file. Errors: -EINVAL (size,
 * reserved), -E2BIG (data_size), -EFAULT (data), -ENODEV (adapter gone),
 * -ETIMEDOUT (host lost), -EPROTO (malformed host reply), or the errno
 * the host's status maps to (Documentation/uapi.rst).
 */
struct drm_dxg_query_adapter_info {
	__u32 size;
	__u32 type;
	__u64 data;
	__u32 data_size;
	__u32 reserved;
};

/**
 * struct drm_dxg_device_create - create a host device (CREATEDEVICE)
 * @size: in: sizeof(struct drm_dxg_device_create)
 * @flags: in: must be zero
 * @device: out: the device id, valid in this DRM file only
 * @reserved: must be zero
 *
 * A device is the scope of contexts and host allocations (the D3DKMT
 * device). Ids of devices and contexts are never 0 and never reused while
 * the DRM file is open. The kernel also creates the device's
 * paging queue (CREATEPAGINGQUEUE), which orders GPU VA updates. Devices
 * die with the DRM file. Errors: -EINVAL, -ENOSPC (too many devices in
 * this file), -ENODEV, -ETIMEDOUT, host errors.
 */
struct drm_dxg_device_create {
	__u32 size;
	__u32 flags;
	__u32 device;
	__u32 reserved;
};

/**
 * struct drm_dxg_device_destroy - destroy a device (DESTROYDEVICE)
 * @device: in: as returned by DRM_IOCTL_DXG_DEVICE_CREATE
 * @reserved: must be zero
 *
 * Its contexts, GPU VA mappings and host allocations go with it; GEM
 * objects stay (they belong to the DRM file). Errors: -EINVAL, -ENOENT.
 */
struct drm_dxg_device_destroy {
	__u32 device;
	__u32 reserved;
};

/**
 * struct drm_dxg_context_create - create a context (CREATECONTEXTVIRTUAL)
 * @size: in: sizeof(struct drm_dxg_context_create)
 * @flags: in: must be zero
 * @device: in: the device
 * @node: in: the engine (node ordinal) the context runs on
 * @engine_affinity: in: physical engine mask (0: any)
 * @context: out: the context id, valid in this DRM file only
 * @priv_data: in: user pointer to private driver data for the host
 * @priv_size: in: its size, at most DXG_PRIV_MAX
 * @reserved: must be zero
 *
 * The kernel gives every context a host monitored fence; submissions
 * signal it and drm_syncobj fences follow it. Errors: -EINVAL, -ENOENT
 * (device), -E2BIG (priv_size), -EFAULT, -ENOSPC, -ENODEV, host errors.
 */
struct drm_dxg_context_create {
	__u32 size;
	__u32 flags;
	__u32 device;
	__u32 node;
	__u32 engine_affinity;
	__u32 context;
	__u64 priv_data;
	__u32 priv_size;
	__u32 reserved;
};

/**
 * struct drm_dxg_context_destroy - destroy a context (DESTROYCONTEXT)
 * @context: in: the context id
 * @reserved: must be zero
 *
 * Queued work still waiting for an in-fence fails with -ECANCELED (the
 * rest is sent); the host gets up to the module's timeout_ms to complete
 * what it was sent (the ioctl waits), whose fences then signal; what is
 * left fails with -ETIME.
 * Errors: -EINVAL, -ENOENT.
 */
struct drm_dxg_context_destroy {
	__u32 context;
	__u32 reserved;
};

/**
 * struct drm_dxg_gem_create - allocate guest memory the host sees
 * @size: in: sizeof(struct drm_dxg_gem_create)
 * @flags: in: must be zero
 * @bo_size: in: size in bytes, rounded up to pages
 * @device: in: the device that owns the host allocation
 * @handle: out: the GEM handle
 * @priv_data: in: user pointer to the allocation's private driver data
 * @priv_size: in: its size, at most DXG_PRIV_MAX (it also describes the
 *	allocation when another device maps the object, e.g. after PRIME)
 * @reserved: must be zero
 *
 * Creates a shmem GEM object, shares its pages with the host (a GPADL on
 * Hyper-V) and creates the host allocation backed by them in @device
 * (CREATEALLOCATION + SETEXISTINGSYSMEMSTORE). The object is an ordinary
 * GEM object: mmap through DRM_IOCTL_DXG_GEM_MMAP_OFFSET, close with
 * DRM_IOCTL_GEM_CLOSE, share with PRIME. Its pages are pinned while it
 * exists and charged to the caller's memory cgroup. Errors: -EINVAL (size
 * 0, flags, reserved), -E2BIG (priv_size or bo_size), -ENOENT (device),
 * -ENOMEM (also when pinning the pages would leave less than 1/8 of the
 * guest's RAM available), -EFAULT, -ENODEV, host errors.
 */
struct drm_dxg_gem_create {
	__u32 size;
	__u32 flags;
	__u64 bo_size;
	__u32 device;
	__u32 handle;
	__u64 priv_data;
	__u32 priv_size;
	__u32 reserved;
};

/**
 * struct drm_dxg_gem_mmap_offset - fake offset for mmap() of a GEM object
 * @handle: in: the GEM handle
 * @flags: in: must be zero
 * @offset: out: pass to mmap() on the DRM file
 *
 * Errors: -EINVAL (flags), -ENOENT (handle).
 */
struct drm_dxg_gem_mmap_offset {
	__u32 handle;
	__u32 flags;
	__u64 offset;
};

/* drm_dxg_vm_bind.op */
#define DXG_VM_BIND_MAP			0	/* map @range bytes of the object at @va */
#define DXG_VM_BIND_UNMAP		1	/* unmap [@va, @va + @range) */

/**
 * struct drm_dxg_vm_bind - map or unmap GEM memory in a device's GPU VA space
 * @size: in: sizeof(struct drm_dxg_vm_bind)
 * @op: in: DXG_VM_BIND_*
 * @device: in: the device whose address space changes
 * @handle: in: MAP: the GEM handle; UNMAP: must be zero
 * @offset: in: MAP: byte offset into the object (page aligned); UNMAP:
 *	must be zero
 * @range: in: length in bytes (page aligned, not zero)
 * @va: in: GPU virtual address (page aligned); UNMAP: exactly a range an
 *	earlier MAP created. The GPU VA space belongs to the DRM file and
 *	the adapter (the host keys it by host process): all devices of one
 *	file share it; @device picks the paging queue and the allocation.
 * @flags: in: must be zero
 * @reserved: must be zero
 *
 * MAP creates the object's host allocation in @device if it has none yet
 * (an imported object), then MAPGPUVIRTUALADDRESS on the device's paging
 * queue and returns once the paging queue has executed it, so a following
 * submission sees it; @va must not be 0. UNMAP is FREEGPUVIRTUALADDRESS.
 * Errors: -EINVAL (alignment, bounds, op, flags), -ENOENT (device or
 * handle), -ENODEV, -ETIMEDOUT, host errors (e.g. -EINVAL for an
 * overlapping or unmapped range).
 */
struct drm_dxg_vm_bind {
	__u32 size;
	__u32 op;
	__u32 device;
	__u32 handle;
	__u64 offset;
	__u64 range;
	__u64 va;
	__u32 flags;
	__u32 reserved;
};

/**
 * struct drm_dxg_sync - a drm_syncobj and a timeline point
 * @handle: the syncobj handle
 * @flags: must be zero
 * @point: the timeline point; 0 for a binary syncobj
 */
struct drm_dxg_sync {
	__u32 handle;
	__u32 flags;
	__u64 point;
};

/* Most in or out syncobjs of one submission. */
#define DXG_MAX_SYNCS			64

/**
 * struct drm_dxg_submit - run a command buffer (SUBMITCOMMAND)
 * @size: in: sizeof(struct drm_dxg_submit)
 * @flags: in: must be zero
 * @context: in: the context
 * @reserved: must be zero
 * @cmd_va: in: GPU VA of the command buffer (mapped with VM_BIND)
 * @cmd_size: in: its length in bytes, not zero (-E2BIG beyond 32 bits)
 * @priv_data: in: user pointer to the submission's private driver data
 * @priv_size: in: its size, at most DXG_PRIV_MAX
 * @num_in_syncs: in: entries in @in_syncs, at most DXG_MAX_SYNCS
 * @in_syncs: in: user pointer to struct drm_dxg_sync[]: fences the work
 *	waits for (the host waits for fences of other contexts of this file;
 *	the kernel waits, without blocking the caller, for any other fence)
 * @num_out_syncs: in: entries in @out_syncs, at most DXG_MAX_SYNCS
 * @reserved2: must be zero
 * @out_syncs: in: user pointer to struct drm_dxg_sync[]: syncobjs (and
 *	timeline points) that get the submission's fence
 *
 * Queues the work and returns: it never waits for a fence or for the host.
 * The out-syncobjs have the submission's fence when it returns. The fence
 * signals when the host has run the work, or fails with
 * -ETIME (the context was lost: a job of it did not complete within the
 * module's job_timeout_ms), -EIO (the host reported the device lost),
 * -ENODEV (the host or the adapter went away), -ECANCELED (the work was
 * never sent: its context was destroyed while it waited for an in-fence), an in-fence's error (the
 * work is then not sent), or a host error. Errors: -EINVAL (also an
 * in-syncobj without a fence), -ENOENT (context or syncobj), -E2BIG
 * (counts, sizes), -EFAULT, -ENODEV, -ECANCELED (the context or its
 * device is lost), -EBUSY (1024 submissions of the context pending).
 */
struct drm_dxg_submit {
	__u32 size;
	__u32 flags;
	__u32 context;
	__u32 reserved;
	__u64 cmd_va;
	__u64 cmd_size;
	__u64 priv_data;
	__u32 priv_size;
	__u32 num_in_syncs;
	__u64 in_syncs;
	__u32 num_out_syncs;
	__u32 reserved2;
	__u64 out_syncs;
};

/**
 * struct drm_dxg_escape - private driver data round trip (ESCAPE)
 * @size: in: sizeof(struct drm_dxg_escape)
 * @flags: in: must be zero
 * @device: in: a device, or 0 for the adapter
 * @context: in: a context of @device, or 0
 * @data: in: user pointer to the escape buffer; in and out
 * @data_size: in: its size, 1..DXG_PRIV_MAX
 * @type: in: the host's escape type (D3DKMT_ESCAPETYPE)
 *
 * Errors: -EINVAL, -ENOENT, -E2BIG, -EFAULT, -ENODEV, host errors.
 */
struct drm_dxg_escape {
	__u32 size;
	__u32 flags;
	__u32 device;
	__u32 context;
	__u64 data;
	__u32 data_size;
	__u32 type;
};

/* drm_dxg_residency.op */
#define DXG_RESIDENCY_MAKE_RESIDENT	0	/* MAKERESIDENT on the paging queue */
#define DXG_RESIDENCY_EVICT		1	/* EVICT */

/* Most GEM handles of one DRM_IOCTL_DXG_RESIDENCY. */
#define DXG_MAX_RESIDENCY		1024

/**
 * struct drm_dxg_residency - make GEM objects resident or evict them
 * @size: in: sizeof(struct drm_dxg_residency)
 * @op: in: DXG_RESIDENCY_*
 * @device: in: the device
 * @count: in: entries in @handles, 1..DXG_MAX_RESIDENCY
 * @handles: in: user pointer to __u32 GEM handles, each with a host
 *	allocation in @device
 * @reserved: must be zero
 *
 * MAKE_RESIDENT returns once the paging queue has made them resident.
 * Errors: -EINVAL, -ENOENT (device, handle, or no allocation in
 * @device), -E2BIG, -EFAULT, -ENODEV, -ETIMEDOUT, host errors.
 */
struct drm_dxg_residency {
	__u32 size;
	__u32 op;
	__u32 device;
	__u32 count;
	__u64 handles;
	__u64 reserved;
};

/* drm_dxg_query_state.state */
#define DXG_STATE_ACTIVE		0	/* takes work */
#define DXG_STATE_CONTEXT_LOST		1	/* a job timed out (-ETIME) */
#define DXG_STATE_DEVICE_LOST		2	/* the host reported a device error (-EIO) */
#define DXG_STATE_HOST_GONE		3	/* the host or adapter went away (-ENODEV) */

/**
 * struct drm_dxg_query_state - is a device or context still usable
 * @size: in: sizeof(struct drm_dxg_query_state)
 * @flags: in: must be zero
 * @device: in: the device
 * @context: in: a context of @device, or 0 for the device alone
 * @state: out: DXG_STATE_*, of the context if given (a context of a lost
 *	device is DXG_STATE_DEVICE_LOST)
 * @error: out: the (negative) errno its lost work failed with; 0 if active
 * @submitted: out: the sequence number of the context's last submission
 *	(its fences' seqno), 0 without a context
 * @completed: out: the highest sequence number the host completed
 *
 * Sends nothing to the host. Errors: -EINVAL, -ENOENT.
 */
struct drm_dxg_query_state {
	__u32 size;
	__u32 flags;
	__u32 device;
	__u32 context;
	__u32 state;
	__s32 error;
	__u64 submitted;
	__u64 completed;
};

#define DRM_IOCTL_DXG_QUERY_ADAPTER	DRM_IOWR(DRM_COMMAND_BASE + DRM_DXG_QUERY_ADAPTER, struct drm_dxg_query_adapter)
#define DRM_IOCTL_DXG_QUERY_ADAPTER_INFO	DRM_IOWR(DRM_COMMAND_BASE + DRM_DXG_QUERY_ADAPTER_INFO, struct drm_dxg_query_adapter_info)
#define DRM_IOCTL_DXG_DEVICE_CREATE	DRM_IOWR(DRM_COMMAND_BASE + DRM_DXG_DEVICE_CREATE, struct drm_dxg_device_create)
#define DRM_IOCTL_DXG_DEVICE_DESTROY	DRM_IOW(DRM_COMMAND_BASE + DRM_DXG_DEVICE_DESTROY, struct drm_dxg_device_destroy)
#define DRM_IOCTL_DXG_CONTEXT_CREATE	DRM_IOWR(DRM_COMMAND_BASE + DRM_DXG_CONTEXT_CREATE, struct drm_dxg_context_create)
#define DRM_IOCTL_DXG_CONTEXT_DESTROY	DRM_IOW(DRM_COMMAND_BASE + DRM_DXG_CONTEXT_DESTROY, struct drm_dxg_context_destroy)
#define DRM_IOCTL_DXG_GEM_CREATE	DRM_IOWR(DRM_COMMAND_BASE + DRM_DXG_GEM_CREATE, struct drm_dxg_gem_create)
#define DRM_IOCTL_DXG_GEM_MMAP_OFFSET	DRM_IOWR(DRM_COMMAND_BASE + DRM_DXG_GEM_MMAP_OFFSET, struct drm_dxg_gem_mmap_offset)
#define DRM_IOCTL_DXG_VM_BIND	DRM_IOW(DRM_COMMAND_BASE + DRM_DXG_VM_BIND, struct drm_dxg_vm_bind)
#define DRM_IOCTL_DXG_SUBMIT	DRM_IOW(DRM_COMMAND_BASE + DRM_DXG_SUBMIT, struct drm_dxg_submit)
#define DRM_IOCTL_DXG_ESCAPE	DRM_IOW(DRM_COMMAND_BASE + DRM_DXG_ESCAPE, struct drm_dxg_escape)
#define DRM_IOCTL_DXG_RESIDENCY	DRM_IOW(DRM_COMMAND_BASE + DRM_DXG_RESIDENCY, struct drm_dxg_residency)
#define DRM_IOCTL_DXG_QUERY_STATE	DRM_IOWR(DRM_COMMAND_BASE + DRM_DXG_QUERY_STATE, struct drm_dxg_query_state)

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_DXG_DRM_H_ */
