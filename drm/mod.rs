// SPDX-License-Identifier: GPL-2.0

//! The DRM side: one DRM device per adapter, a thin layer over the
//! kernel crate's `drm`, `dma_fence` and `drm::syncobj` abstractions.
//!
//! - [`driver`]: the `drm::Driver` (features, ioctl table, fdinfo, PRIME
//!   import across adapters), per-device data, registration;
//! - [`file`]: per-open-file state and the ioctls;
//! - [`gem`]: GEM objects (shmem pages the host sees).
//!
//! Below `bind`, above `host`, `vmbus` and `sys`.

pub(crate) mod driver;
pub(crate) mod file;
pub(crate) mod gem;
