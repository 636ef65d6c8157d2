// SPDX-License-Identifier: GPL-2.0

//! GEM objects: guest pages (shmem) that the host sees.

use kernel::{drm::gem, prelude::*};

use crate::drm::driver::{DxgDevice, DxgDriver};

/// The driver part of a dxg GEM object.
#[pin_data]
pub(crate) struct DxgObject {}

impl gem::DriverObject for DxgObject {
    type Driver = DxgDriver;
    type Args = ();

    fn new(_dev: &DxgDevice, _size: usize, _args: ()) -> impl PinInit<Self, Error> {
        try_pin_init!(DxgObject {})
    }
}
