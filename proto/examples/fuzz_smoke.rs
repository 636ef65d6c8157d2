// SPDX-License-Identifier: GPL-2.0

//! Stable-toolchain random-input harness for every decoder of `dxg-proto`.
//!
//! Feeds seeded pseudo-random bytes and mutated valid messages (from
//! `dxg_proto::samples`) to `dxg_proto::decode_any`, which runs every
//! decoder, and counts panics with `catch_unwind`. Exits non-zero if any
//! input panicked.
//!
//! ```text
//! CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true \
//!   cargo run -p dxg-proto --example fuzz_smoke --release -- --seconds 20 --seed 1
//! ```
//!
//! Options: `--seconds S` (default 10), `--iterations N` (default
//! unlimited, whichever limit is hit first ends the run), `--seed X`
//! (default 0x5eed), `--write-seeds DIR` (also write the valid samples to
//! DIR as a cargo-fuzz seed corpus). The environment variable above turns on overflow
//! checks as in the kernel build; the harness reports whether they are on.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dxg_proto::samples::{for_each_sample, Sample};
use dxg_proto::vmbus::{encode_packet, PacketType};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Values that tend to break length and count checks.
const INTERESTING32: [u32; 12] = [
    0,
    1,
    2,
    7,
    8,
    0x20,
    0x21,
    0x400,
    0x401,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], out: &mut Vec<u8>) {
    let base = &seeds[rng.below(seeds.len())];
    out.clear();
    out.extend_from_slice(base);
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        match rng.below(9) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.next() as u8;
            }
            2 if out.len() >= 4 => {
                // An interesting dword at a 4-aligned offset (counts, sizes).
                let i = rng.below(out.len() / 4) * 4;
                let v = INTERESTING32[rng.below(INTERESTING32.len())];
                out[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
            3 => {
                let n = rng.below(out.len() + 1);
                out.truncate(n);
            }
            4 => {
                let extra = rng.below(64);
                for _ in 0..extra {
                    out.push(rng.next() as u8);
                }
            }
            5 => {
                // Splice the tail of another sample.
                let other = &seeds[rng.below(seeds.len())];
                let at = rng.below(out.len() + 1);
                let from = rng.below(other.len() + 1);
                out.truncate(at);
                out.extend_from_slice(&other[from..]);
            }
            6 if out.len() >= 8 => {
                let i = rng.below(out.len() - 7);
                out[i..i + 8].copy_from_slice(&rng.next().to_le_bytes());
            }
            7 => {
                // Wrap in a VMBus packet, then maybe corrupt its descriptor.
                let mut buf = vec![0u8; out.len() + 32];
                let ty = if rng.below(2) == 0 {
                    PacketType::DataInband
                } else {
                    PacketType::Completion
                };
                if let Ok(n) = encode_packet(&mut buf, ty, 1, rng.next(), out, 0) {
                    buf.truncate(n);
                    if rng.below(2) == 0 {
                        let i = rng.below(8);
                        buf[i] = rng.next() as u8;
                    }
                    *out = buf;
                }
            }
            _ => {
                let n = rng.below(1024);
                out.clear();
                out.extend((0..n).map(|_| rng.next() as u8));
            }
        }
    }
}

fn overflow_checks_on() -> bool {
    let x = std::hint::black_box(u8::MAX);
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    #[allow(arithmetic_overflow, clippy::arithmetic_side_effects)]
    let r = catch_unwind(|| x + std::hint::black_box(1u8)).is_err();
    std::panic::set_hook(prev);
    r
}

fn main() -> ExitCode {
    let mut seconds = 10u64;
    let mut iterations = u64::MAX;
    let mut seed = 0x5eedu64;
    let mut seed_dir: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--write-seeds" {
            seed_dir = args.next();
            if seed_dir.is_none() {
                eprintln!("fuzz_smoke: --write-seeds needs a directory");
                return ExitCode::from(2);
            }
            continue;
        }
        let v = args.next().and_then(|v| {
            let v = v.trim();
            match v.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16).ok(),
                None => v.parse().ok(),
            }
        });
        match (a.as_str(), v) {
            ("--seconds", Some(v)) => seconds = v,
            ("--iterations", Some(v)) => iterations = v,
            ("--seed", Some(v)) => seed = v,
            _ => {
                eprintln!(
                    "usage: fuzz_smoke [--seconds S] [--iterations N] [--seed X] [--write-seeds DIR]"
                );
                return ExitCode::from(2);
            }
        }
    }

    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for_each_sample(&mut |s: Sample<'_>| seeds.push(s.bytes.to_vec()));
    if let Some(dir) = seed_dir {
        // A seed corpus for cargo-fuzz.
        let dir = std::path::Path::new(&dir);
        let written = std::fs::create_dir_all(dir).and_then(|()| {
            for (i, s) in seeds.iter().enumerate() {
                std::fs::write(dir.join(format!("sample-{i:03}.bin")), s)?;
            }
            Ok(())
        });
        if let Err(e) = written {
            eprintln!("fuzz_smoke: writing seeds to {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
        println!(
            "fuzz-smoke: wrote {} seeds to {}",
            seeds.len(),
            dir.display()
        );
    }

    static PANICS_SHOWN: AtomicUsize = AtomicUsize::new(0);
    std::panic::set_hook(Box::new(|info| {
        if PANICS_SHOWN.fetch_add(1, Ordering::Relaxed) < 5 {
            eprintln!("fuzz-smoke: panic: {info}");
        }
    }));
    let checks = overflow_checks_on();

    let mut rng = Rng(seed | 1);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut input = Vec::with_capacity(2048);
    let (mut inputs, mut panics, mut accepted) = (0u64, 0u64, 0u64);
    // Every seed as is first, then mutations and pure noise.
    let mut pending: Vec<Vec<u8>> = seeds.clone();
    while inputs < iterations {
        if inputs % 256 == 0 && Instant::now() >= deadline {
            break;
        }
        match pending.pop() {
            Some(s) => input = s,
            None => mutate(&mut rng, &seeds, &mut input),
        }
        inputs += 1;
        match catch_unwind(AssertUnwindSafe(|| dxg_proto::decode_any(&input))) {
            Ok(n) => accepted += n as u64,
            Err(_) => {
                panics += 1;
                if panics <= 5 {
                    let hex: String = input.iter().map(|b| format!("{b:02x}")).collect();
                    eprintln!("fuzz-smoke: panicking input ({} bytes): {hex}", input.len());
                }
            }
        }
    }
    println!(
        "fuzz-smoke: {} seeds, {accepted} decoder accepts, seed {seed:#x}, overflow checks {}",
        seeds.len(),
        if checks { "on" } else { "off" }
    );
    println!("fuzz-smoke: {inputs} inputs, {panics} panics");
    if panics == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
