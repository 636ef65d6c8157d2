// SPDX-License-Identifier: GPL-2.0

//! The DRM side: one DRM device per adapter.
//!
//! - [`driver`]: the `drm::Driver`, per-device data, registration;
//! - [`file`]: per-open-file state;
//! - [`gem`]: GEM objects (shmem pages the host sees);
//! - [`features`]: what the kernel crate cannot set yet (syncobj, fdinfo);
//! - [`syncobj`]: `drm_syncobj` glue (the `dma_fence` glue is in
//!   `sys/fence.rs`, as host contexts make fences too);
//! - `ioctl`: the ioctl table macro.
//!
//! Below `bind`, above `host`, `vmbus` and `sys`.

#[macro_use]
mod ioctl;

pub(crate) mod driver;
pub(crate) mod features;
pub(crate) mod file;
pub(crate) mod gem;
pub(crate) mod syncobj;
