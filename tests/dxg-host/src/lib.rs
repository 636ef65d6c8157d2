// SPDX-License-Identifier: GPL-2.0

//! `dxg-host`: a software Hyper-V GPU-PV host for dxg tests. See
//! `Documentation/host-model.rst`.

#![deny(missing_docs, rust_2018_idioms)]

pub mod config;
pub mod conform;
pub mod control;
pub mod engine;
pub mod exec;
pub mod fault;
pub mod loopback;
pub mod mem;
pub mod pci;
pub mod state;
pub mod transport;

#[cfg(test)]
mod tests;
