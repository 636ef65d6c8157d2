// SPDX-License-Identifier: GPL-2.0

//! Binding: the drivers that make adapters appear and go.
//!
//! - [`pci`]: the vGPU PCI function driver, which opens an adapter once
//!   its function and channels are paired;
//! - [`chandev`]: what binding a channel device makes
//!   ([`BoundChannel`](chandev::BoundChannel), which both transports'
//!   channel devices end in), the loopback channel driver, and the
//!   unbinding of the adapters of a lost host;
//! - [`hv`]: the VMBus driver of the channels real Hyper-V offers;
//! - [`lookup`]: where PCI functions find their channels (pairing),
//!   through the driver core.
//!
//! Both channel drivers are static C driver structures
//! (`channel_drivers.c`), the module's only registrations besides its
//! Rust ones; dxg keeps no other driver state outside its devices.
//!
//! The top layer: it may use every layer below (`drm`, `host`, `vmbus`,
//! `sys`), and nothing below names it. What a lower layer must report up
//! (a channel whose host stopped answering) goes through a hook this layer
//! installs.

pub(crate) mod chandev;
pub(crate) mod hv;
pub(crate) mod lookup;
pub(crate) mod pci;
