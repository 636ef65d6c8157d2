// SPDX-License-Identifier: GPL-2.0

//! `dxg-proto`: the Hyper-V GPU-PV ("dxgkrnl") guest/host wire protocol.
//!
//! This crate is the userspace face of `src/protocol.rs`, which the dxg
//! kernel module includes as source (`#[path = "../proto/src/protocol.rs"]
//! mod proto;`). All code lives there; see `Documentation/protocol.rst`.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs, rust_2018_idioms)]
#![warn(
    clippy::cast_lossless,
    clippy::ptr_as_ptr,
    clippy::undocumented_unsafe_blocks,
    clippy::float_arithmetic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::arithmetic_side_effects
)]
#![cfg_attr(
    test,
    allow(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::arithmetic_side_effects
    )
)]

#[cfg(test)]
extern crate std;

mod protocol;
pub use protocol::*;
