// SPDX-License-Identifier: GPL-2.0

//! Transports: how dxg reaches the Hyper-V host.
//!
//! - [`channel`]: the transport seam, request/reply over a packet link;
//! - [`chandev`]: the driver of channel devices (offers);
//! - [`directory`]: where PCI functions find their channels;
//! - [`hv`]: the VMBus transport (real Hyper-V);
//! - [`loopback`]: the test transport, the host in a user process;
//! - [`memory`]: guest pages shared with the host (GPADLs, IO space).

pub(crate) mod chandev;
pub(crate) mod channel;
pub(crate) mod directory;
pub(crate) mod hv;
pub(crate) mod loopback;
pub(crate) mod memory;
