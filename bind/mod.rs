// SPDX-License-Identifier: GPL-2.0

//! Binding: the drivers that make adapters appear and go.
//!
//! - [`pci`]: the vGPU PCI function driver, which opens an adapter once
//!   its function and channels are paired;
//! - [`chandev`]: the driver of channel devices (loopback offers) and
//!   [`BoundChannel`](chandev::BoundChannel), which both transports' channel
//!   devices end in;
//! - [`hv`]: the VMBus driver of the channels real Hyper-V offers;
//! - [`directory`]: where PCI functions find their channels (pairing).
//!
//! The top layer: it may use every layer below (`drm`, `host`, `vmbus`,
//! `sys`), and nothing below names it. What a lower layer must report up
//! (a channel whose host stopped answering) goes through a hook this layer
//! installs.

pub(crate) mod chandev;
pub(crate) mod directory;
pub(crate) mod hv;
pub(crate) mod pci;
