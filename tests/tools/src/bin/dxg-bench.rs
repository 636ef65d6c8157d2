// SPDX-License-Identifier: GPL-2.0

//! `dxg-bench loopback NODE [ITERATIONS] [THREADS]`: host round-trip cost.
//!
//! Measures DRM_IOCTL_DXG_QUERY_ADAPTER_INFO (one request to the host and
//! its reply, through the transport) against DRM_IOCTL_VERSION on the same
//! node (no host involved) in the same run, single-threaded and with
//! THREADS threads on one fd each. Prints median and p99 latency, messages
//! per second, and the ratios against the baseline; never absolute
//! pass/fail thresholds.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dxg_uapi::Node;

/// KMTQAITYPE_ADAPTERTYPE.
const QAI_ADAPTERTYPE: u32 = 15;

struct Stats {
    median: Duration,
    p99: Duration,
    per_sec: f64,
}

fn stats(mut samples: Vec<Duration>, wall: Duration) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    Stats {
        median: at(0.5),
        p99: at(0.99),
        per_sec: samples.len() as f64 / wall.as_secs_f64(),
    }
}

fn run(
    path: &str,
    iterations: usize,
    threads: usize,
    op: fn(&Node) -> std::io::Result<()>,
) -> std::io::Result<Stats> {
    let path = Arc::new(path.to_string());
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || -> std::io::Result<Vec<Duration>> {
                let node = Node::open(path.as_str())?;
                let mut v = Vec::with_capacity(iterations);
                for _ in 0..iterations {
                    let t = Instant::now();
                    op(&node)?;
                    v.push(t.elapsed());
                }
                Ok(v)
            })
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        all.extend(
            h.join()
                .map_err(|_| std::io::Error::other("thread panicked"))??,
        );
    }
    Ok(stats(all, start.elapsed()))
}

fn round_trip(n: &Node) -> std::io::Result<()> {
    let mut ty = [0u8; 4];
    n.query_adapter_info(QAI_ADAPTERTYPE, &mut ty)
}

fn local(n: &Node) -> std::io::Result<()> {
    n.driver_name().map(|_| ())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 || args[1] != "loopback" {
        eprintln!("usage: dxg-bench loopback NODE [ITERATIONS] [THREADS]");
        return ExitCode::from(2);
    }
    let node = &args[2];
    let parse = |i: usize, d: usize| args.get(i).map_or(Ok(d), |s| s.parse::<usize>());
    let (Ok(iterations), Ok(threads)) = (parse(3, 2000), parse(4, 4)) else {
        eprintln!("dxg-bench: ITERATIONS and THREADS must be numbers");
        return ExitCode::from(2);
    };
    if iterations == 0 || threads == 0 {
        eprintln!("dxg-bench: ITERATIONS and THREADS must be at least 1");
        return ExitCode::from(2);
    }
    println!(
        "{:<34} {:>10} {:>10} {:>10} {:>8}",
        "case", "median us", "p99 us", "msgs/s", "ratio"
    );
    for t in [1, threads] {
        let base = run(node, iterations, t, local);
        let rt = run(node, iterations, t, round_trip);
        match (base, rt) {
            (Ok(b), Ok(r)) => {
                for (name, s) in [
                    (format!("DRM_IOCTL_VERSION, {t} thread(s)"), &b),
                    (format!("host round trip, {t} thread(s)"), &r),
                ] {
                    println!(
                        "{:<34} {:>10.1} {:>10.1} {:>10.0} {:>8.1}",
                        name,
                        s.median.as_secs_f64() * 1e6,
                        s.p99.as_secs_f64() * 1e6,
                        s.per_sec,
                        s.median.as_secs_f64() / b.median.as_secs_f64()
                    );
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("dxg-bench: {node}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
