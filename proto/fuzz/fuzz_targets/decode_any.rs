// SPDX-License-Identifier: GPL-2.0

//! Runs every dxg-proto decoder over libFuzzer's input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = dxg_proto::decode_any(data);
});
