// SPDX-License-Identifier: GPL-2.0

//! Small glue the `kernel` crate does not offer (yet).

use kernel::{bindings, device::Device};

/// The C `struct device` behind `dev`.
///
/// `Device::as_raw()` is `pub(crate)` in the kernel crate; `Device` is a
/// `#[repr(transparent)]` wrapper of `Opaque<bindings::device>`
/// (rust/kernel/device.rs), so the cast is what `as_raw()` does. Re-check
/// on every kernel update.
pub(crate) fn raw_device<Ctx: kernel::device::DeviceContext>(
    dev: &Device<Ctx>,
) -> *mut bindings::device {
    core::ptr::from_ref(dev).cast_mut().cast()
}
