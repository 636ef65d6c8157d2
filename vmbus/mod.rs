// SPDX-License-Identifier: GPL-2.0

//! Transports: how dxg reaches the Hyper-V host, below the channel seam.
//!
//! - [`channel`]: the transport seam, request/reply over a packet link;
//! - [`hv`]: the VMBus link (real Hyper-V);
//! - [`loopback`]: the test transport, the host in a user process;
//! - [`memory`]: guest pages shared with the host (GPADLs, IO space).
//!
//! Uses only `sys` below it. The drivers that bind channels (and own what
//! this layer creates) are in `bind`.

pub(crate) mod channel;
pub(crate) mod hv;
#[cfg(dxg_test)]
pub(crate) mod loopback;
pub(crate) mod memory;
