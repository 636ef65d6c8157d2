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

/* The UAPI version reported by DRM_IOCTL_DXG_QUERY_ADAPTER. */
#define DXG_UAPI_VERSION		1

#define DRM_DXG_QUERY_ADAPTER		0x00
#define DRM_DXG_QUERY_ADAPTER_INFO	0x01

/* drm_dxg_query_adapter.adapter_flags */
#define DXG_ADAPTER_COMPUTE_ONLY	(1 << 0)	/* no graphics engines */

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

/*
 * An enum (not #defines) so that bindgen evaluates the ioctl numbers: it
 * does not expand function-like macros such as DRM_IOWR().
 */
enum {
	DRM_IOCTL_DXG_QUERY_ADAPTER = DRM_IOWR(DRM_COMMAND_BASE + DRM_DXG_QUERY_ADAPTER,
					       struct drm_dxg_query_adapter),
	DRM_IOCTL_DXG_QUERY_ADAPTER_INFO = DRM_IOWR(DRM_COMMAND_BASE + DRM_DXG_QUERY_ADAPTER_INFO,
						    struct drm_dxg_query_adapter_info),
};

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_DXG_DRM_H_ */
