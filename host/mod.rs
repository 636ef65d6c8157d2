// SPDX-License-Identifier: GPL-2.0

//! Guest proxies of host objects.
//!
//! - [`adapter`]: an open adapter (one vGPU, as the host sees it);
//! - [`vm`]: the per-VM object (VM-level channel, IO space, guest events);
//! - [`process`]: host processes (one per DRM file);
//! - [`device`]: host devices, with their paging queue and allocations;
//! - [`context`]: host contexts, submissions and their fences;
//! - [`request`]: the one way to send the host a request and read its
//!   answer (encoding, status checks, errno mapping).
//!
//! Below `drm` and `bind`, above `vmbus` (the channels these objects speak
//! over) and `sys`.

pub(crate) mod adapter;
pub(crate) mod context;
pub(crate) mod device;
pub(crate) mod health;
pub(crate) mod process;
pub(crate) mod request;
pub(crate) mod vm;
