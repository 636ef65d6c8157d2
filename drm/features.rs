// SPDX-License-Identifier: GPL-2.0

//! Driver features the `kernel` crate cannot set yet.
//!
//! `kernel::drm` hard-codes `DRIVER_GEM | DRIVER_RENDER` and a `drm_driver`
//! without fdinfo. dxg needs `DRIVER_SYNCOBJ | DRIVER_SYNCOBJ_TIMELINE`
//! and the core's `drm_show_fdinfo()`. Until rust/kernel grows these, a C
//! helper gives the device a copy of the Rust-generated `drm_driver` with
//! the extra bits, before the device is registered (see
//! drm/features_helpers.c).

use kernel::{bindings, drm, prelude::*};

use crate::drm::driver::DxgDriver;
use crate::sys;

/// The raw `struct drm_device` of `dev`.
///
/// `drm::Device::as_raw()` is crate-private; `drm::Device` is `#[repr(C)]`
/// with `struct drm_device` first (rust/kernel/drm/device.rs). Re-check on
/// every kernel update.
fn raw_drm<T: drm::Driver, C: drm::DeviceContext>(
    dev: &drm::Device<T, C>,
) -> *mut bindings::drm_device {
    core::ptr::from_ref(dev).cast_mut().cast()
}

/// Enable syncobjs (binary and timeline) and fdinfo on an unregistered device.
pub(crate) fn enable(dev: &drm::UnregisteredDevice<DxgDriver>) -> Result {
    let features = bindings::drm_driver_feature_DRIVER_SYNCOBJ
        | bindings::drm_driver_feature_DRIVER_SYNCOBJ_TIMELINE;
    // SAFETY: `dev` is a valid DRM device that is not registered yet.
    kernel::error::to_result(unsafe { sys::dxg_drm_add_features(raw_drm(dev), features) })
}
