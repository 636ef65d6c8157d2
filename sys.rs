// SPDX-License-Identifier: GPL-2.0

//! Module-local bindings: kernel C APIs the `kernel` crate does not bind yet,
//! the C helpers in `dxg_helpers.c`, and dxg's UAPI headers (all generated
//! by Kbuild at build time).
//!
//! The kernel API part is generated with `--no-recursive-allowlist`: every
//! type these functions mention is the `kernel::bindings` type, so values
//! flow between both sets of bindings without casts.

#[allow(
    dead_code,
    improper_ctypes,
    missing_docs,
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    unreachable_pub,
    clippy::all
)]
mod kapi {
    include!("dxg_kapi_generated.rs");
}

pub(crate) use kapi::*;

/// dxg's UAPI (`uapi/*.h`): argument structures and constants.
#[allow(
    dead_code,
    missing_docs,
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    unreachable_pub,
    clippy::all
)]
pub(crate) mod uapi {
    include!("dxg_uapi_generated.rs");

    use kernel::ioctl::{_IOW, _IOWR};

    const LOOPBACK_BASE: u32 = DXG_LOOPBACK_IOCTL_BASE as u32;

    /// `DRM_IOCTL_DXG_*` (bindgen cannot expand `DRM_IOWR()`).
    macro_rules! drm_ioctl {
        ($name:ident, $dir:ident, $nr:ident, $t:ty) => {
            pub(crate) const $name: u32 = kernel::ioctl::$dir::<$t>(
                kernel::uapi::DRM_IOCTL_BASE as u32,
                kernel::uapi::DRM_COMMAND_BASE + $nr,
            );
        };
    }
    drm_ioctl!(DRM_IOCTL_DXG_QUERY_ADAPTER, _IOWR, DRM_DXG_QUERY_ADAPTER, drm_dxg_query_adapter);
    drm_ioctl!(DRM_IOCTL_DXG_QUERY_ADAPTER_INFO, _IOWR, DRM_DXG_QUERY_ADAPTER_INFO, drm_dxg_query_adapter_info);
    drm_ioctl!(DRM_IOCTL_DXG_DEVICE_CREATE, _IOWR, DRM_DXG_DEVICE_CREATE, drm_dxg_device_create);
    drm_ioctl!(DRM_IOCTL_DXG_DEVICE_DESTROY, _IOW, DRM_DXG_DEVICE_DESTROY, drm_dxg_device_destroy);
    drm_ioctl!(DRM_IOCTL_DXG_CONTEXT_CREATE, _IOWR, DRM_DXG_CONTEXT_CREATE, drm_dxg_context_create);
    drm_ioctl!(DRM_IOCTL_DXG_CONTEXT_DESTROY, _IOW, DRM_DXG_CONTEXT_DESTROY, drm_dxg_context_destroy);
    drm_ioctl!(DRM_IOCTL_DXG_GEM_CREATE, _IOWR, DRM_DXG_GEM_CREATE, drm_dxg_gem_create);
    drm_ioctl!(DRM_IOCTL_DXG_GEM_MMAP_OFFSET, _IOWR, DRM_DXG_GEM_MMAP_OFFSET, drm_dxg_gem_mmap_offset);
    drm_ioctl!(DRM_IOCTL_DXG_VM_BIND, _IOW, DRM_DXG_VM_BIND, drm_dxg_vm_bind);
    drm_ioctl!(DRM_IOCTL_DXG_SUBMIT, _IOW, DRM_DXG_SUBMIT, drm_dxg_submit);
    drm_ioctl!(DRM_IOCTL_DXG_ESCAPE, _IOW, DRM_DXG_ESCAPE, drm_dxg_escape);
    drm_ioctl!(DRM_IOCTL_DXG_RESIDENCY, _IOW, DRM_DXG_RESIDENCY, drm_dxg_residency);

    /// `DXG_LOOPBACK_IOCTL_OFFER` (bindgen cannot expand `_IOWR()`).
    pub(crate) const DXG_LOOPBACK_IOCTL_OFFER: u32 =
        _IOWR::<dxg_loopback_offer>(LOOPBACK_BASE, 0x40);
    /// `DXG_LOOPBACK_IOCTL_RESCIND`.
    pub(crate) const DXG_LOOPBACK_IOCTL_RESCIND: u32 =
        _IOW::<dxg_loopback_rescind>(LOOPBACK_BASE, 0x41);

    // The layouts userspace relies on (uapi/dxg_loopback.h).
    const _: () = assert!(core::mem::size_of::<dxg_loopback_offer>() == 48);
    const _: () = assert!(core::mem::size_of::<dxg_loopback_rescind>() == 8);
    const _: () = assert!(core::mem::size_of::<dxg_loopback_record>() == 8);

    // SAFETY: plain C structs of integers without padding (sizes asserted
    // above): any byte pattern is a valid value, and no byte is
    // uninitialised.
    unsafe impl kernel::transmute::FromBytes for dxg_loopback_offer {}
    // SAFETY: see above.
    unsafe impl kernel::transmute::AsBytes for dxg_loopback_offer {}
    // SAFETY: see above.
    unsafe impl kernel::transmute::FromBytes for dxg_loopback_rescind {}
    // SAFETY: see above.
    unsafe impl kernel::transmute::AsBytes for dxg_loopback_record {}

    const _: () = assert!(core::mem::size_of::<drm_dxg_sync>() == 16);
    // SAFETY: a plain C struct of integers without padding (size asserted
    // above): any byte pattern is a valid value.
    unsafe impl kernel::transmute::FromBytes for drm_dxg_sync {}
}
