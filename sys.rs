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
