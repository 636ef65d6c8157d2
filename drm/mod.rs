// SPDX-License-Identifier: GPL-2.0

//! The DRM side: one DRM device per adapter.
//!
//! - [`driver`]: the `drm::Driver`, per-device data, registration;
//! - [`file`]: per-open-file state;
//! - [`gem`]: GEM objects (shmem pages the host sees);
//! - [`features`]: what the kernel crate cannot set yet (syncobj, fdinfo);
//! - [`fence`]: `dma_fence` and `drm_syncobj` glue;
//! - `ioctl`: the ioctl table macro.

#[macro_use]
mod ioctl;

pub(crate) mod driver;
pub(crate) mod features;
pub(crate) mod fence;
pub(crate) mod file;
pub(crate) mod gem;
