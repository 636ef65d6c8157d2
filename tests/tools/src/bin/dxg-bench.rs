// SPDX-License-Identifier: GPL-2.0

//! Benchmarks, as ratios against baselines measured in the same run; never
//! absolute pass/fail thresholds (the guest runs under TCG on a debug
//! kernel, so absolute times say little).
//!
//! `dxg-bench loopback NODE [ITERATIONS] [THREADS]`: host round-trip cost.
//! Measures DRM_IOCTL_DXG_QUERY_ADAPTER_INFO (one request to the host and
//! its reply, through the transport) against DRM_IOCTL_VERSION on the same
//! node (no host involved), single-threaded and with THREADS threads on
//! one fd each. Prints median and p99 latency, messages per second, and
//! the ratios against the baseline.
//!
//! `dxg-bench drm --node DXG --baseline VGEM [--baseline-card CARD]
//! [--iterations N]`: dxg as a DRM driver against vgem in the same guest.
//! DXG is a dxg render node (its adapter's host must be `dxg-host`, whose
//! allocation private data and command buffers it uses), VGEM vgem's
//! render node. Measured, each as median and p99 and a ratio:
//!
//! - DRM_IOCTL_VERSION, and syncobj create+destroy, signal and wait on an
//!   already signalled syncobj: core DRM ioctls, the same calls on both
//!   nodes. vgem does not set DRIVER_SYNCOBJ; where the baseline refuses a
//!   call the row's baseline is DRM_IOCTL_VERSION on VGEM instead (the
//!   ratio then says how many null ioctls the call costs on dxg);
//! - GEM create + mmap + one write per page + munmap + close, at 4 KiB,
//!   1 MiB and 64 MiB: DRM_IOCTL_DXG_GEM_CREATE (with a host allocation)
//!   and DRM_IOCTL_DXG_GEM_MMAP_OFFSET on DXG; DRM_IOCTL_MODE_CREATE_DUMB,
//!   MAP_DUMB and DESTROY_DUMB on vgem's primary node (dumb buffers are
//!   not allowed on render nodes; CARD, found through sysfs by default);
//! - write bandwidth (memcpy) into a CPU mapping of a 64 MiB dxg GEM
//!   object against memcpy into anonymous memory;
//! - submit -> out-fence signalled: a tiny FILL submitted with a timeline
//!   syncobj point as out fence, then waited for, against the raw host
//!   round trip of `loopback` (QUERY_ADAPTER_INFO) on the same node.
//!
//! It ends with one table of all of them.
//!
//! `dxg-bench queue --node DXG [--iterations N] [--depth D] [--control
//! SOCK] [--messages-only]`: the queued submission path on one context of
//! DXG (a render node of `dxg-host`, controlled through SOCK, by default
//! `/run/dxg-host.sock`, with `dxg-host ctl`). Measured:
//!
//! - host messages per submission: `stats reset`, N/4 submissions of the
//!   FILL each waited for, `stats`; per submission, the sync and async
//!   count of each submission command (SUBMITCOMMAND, SIGNALSYNCOBJECT,
//!   WAITFORSYNCOBJECTFROMCPU, WAITFORSYNCOBJECTFROMGPU) and of any other
//!   command seen, and of all of them; against the same counts per
//!   QUERY_ADAPTER_INFO (one host round trip) counted the same way. These
//!   are counts, not times: no p99. A host without `stats reset` is
//!   counted by the difference of two `stats`;
//! - submit -> out-fence signalled against the raw host round trip, as in
//!   `drm`, and the same with a binary syncobj as out fence (a timeline
//!   point's `dma_fence_chain` signals its waiter through `irq_work`, a
//!   binary syncobj's fence is the job's own);
//! - pipelined submissions: D (64) submissions queued back to back, each
//!   with its own timeline point, then one wait for the last point; the
//!   submissions per second of a round against those of submit, wait,
//!   submit, wait on the same context;
//! - the raw host round trip (QUERY_ADAPTER_INFO) against a pipe ping-pong
//!   between two processes (one byte each way through two pipes), the
//!   floor of any userspace round trip.
//!
//! `--messages-only` measures the messages per submission alone (a second
//! host configuration, e.g. `dxg-host --async-msg`). It ends with one table
//! of all of them.

use std::collections::BTreeMap;
use std::fs::File;
use std::hint::black_box;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::{Duration, Instant};

use drm::buffer::DrmFourcc;
use drm::control::Device as _;
use dxg_proto::cmdbuf::{Cmd, CmdWriter};
use dxg_proto::model::ModelAllocPriv;
use dxg_proto::U64;
use dxg_uapi::{deadline_ns, Node, PAGE_SIZE};
use zerocopy::IntoBytes;

/// KMTQAITYPE_ADAPTERTYPE.
const QAI_ADAPTERTYPE: u32 = 15;
/// How long a fence may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// GPU VAs for the submission benchmark (`dxg-host` hands out VAs from
/// 4 GiB).
const VA_CMD: u64 = 0x1_0000_0000;
const VA_DST: u64 = 0x1_0010_0000;
/// Bytes the benchmark's FILL writes.
const FILL_LEN: u64 = 64;
const FILL_VALUE: u8 = 0x3c;
const MIB: u64 = 1 << 20;
/// Size of the bandwidth benchmark's buffers.
const BW_SIZE: usize = 64 << 20;

#[derive(Clone, Copy, Debug)]
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

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Runs `op` `n` times, timing each call.
fn time(n: usize, mut op: impl FnMut() -> io::Result<()>) -> io::Result<Stats> {
    let mut v = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        op()?;
        v.push(t.elapsed());
    }
    Ok(stats(v, start.elapsed()))
}

// --- loopback ----------------------------------------------------------

fn run_threads(
    path: &str,
    iterations: usize,
    threads: usize,
    op: fn(&Node) -> io::Result<()>,
) -> io::Result<Stats> {
    let path = Arc::new(path.to_string());
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || -> io::Result<Vec<Duration>> {
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
                .map_err(|_| io::Error::other("thread panicked"))??,
        );
    }
    Ok(stats(all, start.elapsed()))
}

fn round_trip(n: &Node) -> io::Result<()> {
    let mut ty = [0u8; 4];
    n.query_adapter_info(QAI_ADAPTERTYPE, &mut ty)
}

/// The null ioctl: DRM_IOCTL_VERSION (twice, as libdrm does it).
fn local(n: &Node) -> io::Result<()> {
    n.driver_name().map(|_| ())
}

fn loopback_main(args: &[String]) -> ExitCode {
    let Some(node) = args.first() else {
        eprintln!("usage: dxg-bench loopback NODE [ITERATIONS] [THREADS]");
        return ExitCode::from(2);
    };
    let parse = |i: usize, d: usize| args.get(i).map_or(Ok(d), |s| s.parse::<usize>());
    let (Ok(iterations), Ok(threads)) = (parse(1, 2000), parse(2, 4)) else {
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
        let base = run_threads(node, iterations, t, local);
        let rt = run_threads(node, iterations, t, round_trip);
        match (base, rt) {
            (Ok(b), Ok(r)) => {
                for (name, s) in [
                    (format!("DRM_IOCTL_VERSION, {t} thread(s)"), &b),
                    (format!("host round trip, {t} thread(s)"), &r),
                ] {
                    println!(
                        "{:<34} {:>10.1} {:>10.1} {:>10.0} {:>8.1}",
                        name,
                        us(s.median),
                        us(s.p99),
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

// --- drm ---------------------------------------------------------------

/// One line of the final table: a dxg measurement against its baseline,
/// in the row's unit.
struct Row {
    case: String,
    unit: &'static str,
    /// Median and p99 (none for counts) of dxg.
    dxg: (f64, Option<f64>),
    baseline: String,
    base: (f64, Option<f64>),
    /// Digits after the point.
    prec: usize,
    /// Latency: dxg / baseline time. Bandwidth and rates: dxg / baseline
    /// per second. Counts: dxg / baseline count (none against 0).
    ratio: f64,
}

impl Row {
    /// Latency rows, in µs.
    fn time(
        case: impl Into<String>,
        dxg: &Stats,
        baseline: impl Into<String>,
        base: &Stats,
    ) -> Row {
        let v = |s: &Stats| (us(s.median), Some(us(s.p99)));
        Row {
            case: case.into(),
            unit: "us",
            dxg: v(dxg),
            baseline: baseline.into(),
            base: v(base),
            prec: 1,
            ratio: dxg.median.as_secs_f64() / base.median.as_secs_f64(),
        }
    }

    /// Throughput rows: each sample of `dxg` did `dxg_amount` (of `unit`
    /// per second), each of `base` `base_amount`. The p99 column is the
    /// throughput of the p99 (slow) sample.
    fn throughput(
        case: impl Into<String>,
        unit: &'static str,
        dxg_amount: f64,
        dxg: &Stats,
        baseline: impl Into<String>,
        base_amount: f64,
        base: &Stats,
    ) -> Row {
        let v = |a: f64, s: &Stats| (a / s.median.as_secs_f64(), Some(a / s.p99.as_secs_f64()));
        let (d, b) = (v(dxg_amount, dxg), v(base_amount, base));
        Row {
            case: case.into(),
            unit,
            dxg: d,
            baseline: baseline.into(),
            base: b,
            prec: 1,
            ratio: d.0 / b.0,
        }
    }

    /// Bandwidth rows: each sample copied `bytes`; MB/s.
    fn bandwidth(
        case: impl Into<String>,
        bytes: usize,
        dxg: &Stats,
        baseline: impl Into<String>,
        base: &Stats,
    ) -> Row {
        let mb = bytes as f64 / 1e6;
        Row::throughput(case, "MB/s", mb, dxg, baseline, mb, base)
    }

    /// Count rows (no distribution, so no p99).
    fn count(
        case: impl Into<String>,
        unit: &'static str,
        dxg: f64,
        baseline: impl Into<String>,
        base: f64,
    ) -> Row {
        Row {
            case: case.into(),
            unit,
            dxg: (dxg, None),
            baseline: baseline.into(),
            base: (base, None),
            prec: 2,
            ratio: if base > 0.0 { dxg / base } else { f64::NAN },
        }
    }
}

/// Prints `rows` under a header, the text columns as wide as needed.
fn print_table(rows: &[Row]) {
    let w = |f: fn(&Row) -> usize, min: usize| rows.iter().map(f).max().unwrap_or(0).max(min);
    let (cw, uw, bw) = (
        w(|r| r.case.len(), 32),
        w(|r| r.unit.len(), 5),
        w(|r| r.baseline.len(), 28),
    );
    println!(
        "{:<cw$} {:>uw$} {:>10} {:>10} | {:<bw$} {:>10} {:>10} | {:>7}",
        "case (dxg)", "unit", "median", "p99", "baseline", "median", "p99", "ratio"
    );
    for r in rows {
        let n = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.p$}", p = r.prec));
        let ratio = if r.ratio.is_finite() {
            format!("{:.2}", r.ratio)
        } else {
            "-".into()
        };
        println!(
            "{:<cw$} {:>uw$} {:>10} {:>10} | {:<bw$} {:>10} {:>10} | {:>7}",
            r.case,
            r.unit,
            n(Some(r.dxg.0)),
            n(r.dxg.1),
            r.baseline,
            n(Some(r.base.0)),
            n(r.base.1),
            ratio
        );
    }
}

struct Opts {
    node: PathBuf,
    baseline: PathBuf,
    card: Option<PathBuf>,
    iterations: usize,
}

fn parse_drm_args(args: &[String]) -> Result<Opts, String> {
    let (mut node, mut baseline, mut card, mut iterations) = (None, None, None, 1000);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--node" => node = Some(PathBuf::from(val()?)),
            "--baseline" => baseline = Some(PathBuf::from(val()?)),
            "--baseline-card" => card = Some(PathBuf::from(val()?)),
            "--iterations" => {
                iterations = val()?
                    .parse()
                    .map_err(|_| "--iterations must be a number".to_string())?;
                if iterations < 10 {
                    return Err("--iterations must be at least 10".into());
                }
            }
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    Ok(Opts {
        node: node.ok_or("--node is required")?,
        baseline: baseline.ok_or("--baseline is required")?,
        card,
        iterations,
    })
}

/// The primary node (`/dev/dri/cardN`) of the DRM device whose render
/// node is `render`, from sysfs.
fn card_of(render: &Path) -> Result<PathBuf, String> {
    let name = render
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{}: not a device path", render.display()))?;
    let dir = format!("/sys/class/drm/{name}/device/drm");
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{dir}: {e}"))?;
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.strip_prefix("card")
            .is_some_and(|m| m.parse::<u32>().is_ok())
        {
            return Ok(Path::new("/dev/dri").join(n));
        }
    }
    Err(format!("{dir}: no primary node"))
}

fn alloc_priv(size: u64) -> ModelAllocPriv {
    ModelAllocPriv {
        size: U64::new(size),
    }
}

/// Writes one byte in every page of `m`.
fn touch_pages(m: &mut [u8], v: u8) {
    for i in (0..m.len()).step_by(PAGE_SIZE as usize) {
        m[i] = v;
    }
    black_box(&m[0]);
}

/// The same syncobj calls on `n`: create+destroy, signal, wait.
fn syncobj_benches(n: &Node, iters: usize) -> io::Result<[Stats; 3]> {
    let create = time(iters, || {
        let h = drm::control::Device::create_syncobj(n, false)?;
        n.destroy_syncobj(h)
    })?;
    let s = drm::control::Device::create_syncobj(n, false)?;
    let signal = time(iters, || n.syncobj_signal(&[s]));
    let deadline = deadline_ns(Duration::from_secs(3600))?;
    let wait = time(iters, || {
        n.syncobj_wait(&[s], deadline, true, false).map(|_| ())
    });
    let _ = n.destroy_syncobj(s);
    Ok([create, signal?, wait?])
}

/// dxg GEM object of `size`: create, map, touch, unmap, close.
fn dxg_gem_cycle(dev: &dxg_uapi::Device<'_>, size: u64) -> io::Result<()> {
    let bo = dev.create_bo(size, alloc_priv(size).as_bytes())?;
    let mut m = bo.map()?;
    touch_pages(m.as_mut_slice(), 1);
    drop(m);
    drop(bo);
    Ok(())
}

/// vgem dumb buffer of `size` (1024 pixels of 32 bits per row).
fn dumb_cycle(card: &Node, size: u64) -> io::Result<()> {
    let rows = (size / 4096).max(1) as u32;
    let mut db = card.create_dumb_buffer((1024, rows), DrmFourcc::Xrgb8888, 32)?;
    let mut m = card.map_dumb_buffer(&mut db)?;
    touch_pages(&mut m, 1);
    drop(m);
    card.destroy_dumb_buffer(db)
}

fn size_name(size: u64) -> String {
    if size >= MIB {
        format!("{} MiB", size / MIB)
    } else {
        format!("{} KiB", size / 1024)
    }
}

/// Times copying `src` into `dst` `reps` times (after one untimed copy).
fn copy_bench(src: &[u8], dst: &mut [u8], reps: usize) -> Stats {
    dst.copy_from_slice(src);
    let mut v = Vec::with_capacity(reps);
    let start = Instant::now();
    for _ in 0..reps {
        let t = Instant::now();
        dst.copy_from_slice(black_box(src));
        black_box(&dst[dst.len() - 1]);
        v.push(t.elapsed());
    }
    stats(v, start.elapsed())
}

/// A tiny FILL on one context of a device, submitted with a point of one
/// timeline syncobj as out fence (a new point per submission).
struct FillJob<'a> {
    dev: &'a dxg_uapi::Device<'a>,
    ctx: dxg_uapi::Context<'a>,
    cmd: dxg_uapi::Bo<'a>,
    dst: dxg_uapi::Bo<'a>,
    /// CPU mapping of `dst`.
    md: dxg_uapi::Mapping,
    /// Bytes of commands.
    len: u64,
    sync: dxg_uapi::Syncobj<'a>,
    /// A binary syncobj, the out fence of [`FillJob::submit_wait_binary`].
    bin: dxg_uapi::Syncobj<'a>,
    /// The last point submitted.
    point: u64,
}

impl<'a> FillJob<'a> {
    /// A context, a command buffer with the FILL and its destination, both
    /// bound at `VA_CMD` and `VA_DST`, and the timeline syncobj.
    fn new(node: &'a Node, dev: &'a dxg_uapi::Device<'a>) -> Result<Self, String> {
        let ctx = dev
            .create_context(0, &[])
            .map_err(|e| format!("CONTEXT_CREATE: {e}"))?;
        let cmd = dev
            .create_bo(PAGE_SIZE, alloc_priv(PAGE_SIZE).as_bytes())
            .map_err(|e| format!("GEM_CREATE cmd: {e}"))?;
        let dst = dev
            .create_bo(PAGE_SIZE, alloc_priv(PAGE_SIZE).as_bytes())
            .map_err(|e| format!("GEM_CREATE dst: {e}"))?;
        let mut mc = cmd.map().map_err(|e| format!("mmap cmd: {e}"))?;
        let mut md = dst.map().map_err(|e| format!("mmap dst: {e}"))?;
        mc.as_mut_slice().fill(0);
        md.as_mut_slice().fill(0);
        dev.vm_bind_map(&cmd, 0, PAGE_SIZE, VA_CMD)
            .map_err(|e| format!("VM_BIND cmd: {e}"))?;
        dev.vm_bind_map(&dst, 0, PAGE_SIZE, VA_DST)
            .map_err(|e| format!("VM_BIND dst: {e}"))?;
        let mut w = CmdWriter::new(mc.as_mut_slice());
        w.push(&Cmd::Fill {
            gpu_va: VA_DST,
            length: FILL_LEN,
            value: FILL_VALUE,
        })
        .map_err(|e| format!("command buffer: {e:?}"))?;
        let len = w.len() as u64;
        let sync = node
            .create_syncobj(false)
            .map_err(|e| format!("syncobj: {e}"))?;
        let bin = node
            .create_syncobj(false)
            .map_err(|e| format!("syncobj: {e}"))?;
        Ok(FillJob {
            dev,
            ctx,
            cmd,
            dst,
            md,
            len,
            sync,
            bin,
            point: 0,
        })
    }

    /// Submits the FILL with the next timeline point as out fence; returns
    /// the point.
    fn submit(&mut self) -> io::Result<u64> {
        let point = self.point + 1;
        self.ctx
            .submit(VA_CMD, self.len, &[], &[], &[self.sync.at(point)])?;
        self.point = point;
        Ok(point)
    }

    /// Waits until `point` has signalled.
    fn wait(&self, point: u64) -> io::Result<()> {
        self.sync.wait_point(point, TIMEOUT)
    }

    /// Submits and waits for that submission.
    fn submit_wait(&mut self) -> io::Result<()> {
        let p = self.submit()?;
        self.wait(p)
    }

    /// Submits with the binary syncobj as out fence and waits for it (the
    /// syncobj then holds the job's fence itself, no timeline chain).
    fn submit_wait_binary(&mut self) -> io::Result<()> {
        self.ctx
            .submit(VA_CMD, self.len, &[], &[], &[self.bin.binary()])?;
        self.bin.wait(TIMEOUT)
    }

    /// `depth` submissions back to back, then a wait for the last one.
    fn pipelined(&mut self, depth: usize) -> io::Result<()> {
        let mut last = self.point;
        for _ in 0..depth {
            last = self.submit()?;
        }
        self.wait(last)
    }

    /// Checks that the FILL ran (after waiting for the last point) and
    /// unbinds the buffers.
    fn finish(self) -> Result<(), String> {
        self.wait(self.point)
            .map_err(|e| format!("wait for point {}: {e}", self.point))?;
        if self.md.as_slice()[..FILL_LEN as usize]
            .iter()
            .any(|&b| b != FILL_VALUE)
        {
            return Err("the FILL did not reach the destination buffer".into());
        }
        for (bo, va) in [(&self.cmd, VA_CMD), (&self.dst, VA_DST)] {
            self.dev
                .vm_bind_unmap(va, bo.size())
                .map_err(|e| format!("VM_BIND unmap {va:#x}: {e}"))?;
        }
        Ok(())
    }
}

/// Submit -> out-fence signalled latency of the FILL on `job`, after
/// `iters / 10` untimed rounds.
fn submit_latency(job: &mut FillJob<'_>, iters: usize) -> Result<Stats, String> {
    for _ in 0..iters.div_ceil(10) {
        job.submit_wait()
            .map_err(|e| format!("submit/wait (warm-up): {e}"))?;
    }
    time(iters, || job.submit_wait()).map_err(|e| format!("submit/wait: {e}"))
}

/// Submit -> binary out-fence signalled latency of the FILL on `job`,
/// after `iters / 10` untimed rounds.
fn submit_latency_binary(job: &mut FillJob<'_>, iters: usize) -> Result<Stats, String> {
    for _ in 0..iters.div_ceil(10) {
        job.submit_wait_binary()
            .map_err(|e| format!("submit/wait binary (warm-up): {e}"))?;
    }
    time(iters, || job.submit_wait_binary()).map_err(|e| format!("submit/wait binary: {e}"))
}

/// The submit -> out-fence row.
fn submit_row(sub: &Stats, rt: &Stats) -> Row {
    Row::time(
        format!("submit FILL {FILL_LEN} B -> out-fence"),
        sub,
        "raw host round trip (QAI)",
        rt,
    )
}

/// The submit -> binary out-fence row.
fn submit_row_binary(sub: &Stats, rt: &Stats) -> Row {
    Row::time(
        format!("submit FILL {FILL_LEN} B -> binary fence"),
        sub,
        "raw host round trip (QAI)",
        rt,
    )
}

fn section(title: &str) {
    println!("\n== {title}");
}

fn drm_bench(o: &Opts) -> Result<Vec<Row>, String> {
    let n = o.iterations;
    let disp = |p: &Path| p.display().to_string();
    let dxg = Node::open(&o.node).map_err(|e| format!("{}: {e}", disp(&o.node)))?;
    let vgem = Node::open(&o.baseline).map_err(|e| format!("{}: {e}", disp(&o.baseline)))?;
    let names = (dxg.driver_name(), vgem.driver_name());
    let (Ok(dn), Ok(vn)) = names else {
        return Err("DRM_IOCTL_VERSION failed".into());
    };
    if dn != "dxg" {
        return Err(format!("{}: driver is {dn:?}, not dxg", disp(&o.node)));
    }
    let card_path = match &o.card {
        Some(c) => c.clone(),
        None => card_of(&o.baseline)?,
    };
    let card = Node::open(&card_path).map_err(|e| format!("{}: {e}", disp(&card_path)))?;
    println!(
        "dxg-bench drm: dxg {} against {vn} {} (dumb buffers on {}), {n} iterations",
        disp(&o.node),
        disp(&o.baseline),
        disp(&card_path)
    );
    let mut rows = Vec::new();
    let io = |what: &str| {
        let what = what.to_string();
        move |e: io::Error| format!("{what}: {e}")
    };

    section("core DRM ioctls (same calls on both nodes)");
    let dver = time(n, || local(&dxg)).map_err(io("dxg DRM_IOCTL_VERSION"))?;
    let vver = time(n, || local(&vgem)).map_err(io("vgem DRM_IOCTL_VERSION"))?;
    rows.push(Row::time(
        "DRM_IOCTL_VERSION",
        &dver,
        format!("{vn} DRM_IOCTL_VERSION"),
        &vver,
    ));
    let ds = syncobj_benches(&dxg, n).map_err(io("dxg syncobj"))?;
    let vs = match syncobj_benches(&vgem, n) {
        Ok(v) => Some(v),
        Err(e) => {
            println!(
                "-- {vn} refuses syncobj ioctls ({e}): those rows compare against {vn} DRM_IOCTL_VERSION"
            );
            None
        }
    };
    for (i, name) in [
        "syncobj create+destroy",
        "syncobj signal",
        "syncobj wait (signalled)",
    ]
    .into_iter()
    .enumerate()
    {
        let (baseline, base) = match &vs {
            Some(v) => (format!("{vn} {name}"), v[i]),
            None => (format!("{vn} DRM_IOCTL_VERSION"), vver),
        };
        rows.push(Row::time(name, &ds[i], baseline, &base));
    }
    print_table(&rows);

    section("GEM create + mmap + write a byte per page + munmap + close");
    let dev = dxg
        .create_device()
        .map_err(|e| format!("DEVICE_CREATE: {e}"))?;
    let first = rows.len();
    for (size, iters) in [(4096, n / 5), (MIB, n / 20), (64 * MIB, (n / 200).max(3))] {
        let sn = size_name(size);
        // One untimed round each to fault in the paths.
        dxg_gem_cycle(&dev, size).map_err(io(&format!("dxg GEM {sn}")))?;
        dumb_cycle(&card, size).map_err(io(&format!("{vn} dumb {sn}")))?;
        let d = time(iters, || dxg_gem_cycle(&dev, size)).map_err(io(&format!("dxg GEM {sn}")))?;
        let v = time(iters, || dumb_cycle(&card, size)).map_err(io(&format!("{vn} dumb {sn}")))?;
        rows.push(Row::time(
            format!("GEM {sn} ({iters}x)"),
            &d,
            format!("{vn} dumb {sn}"),
            &v,
        ));
    }
    print_table(&rows[first..]);

    section("write bandwidth: memcpy of 64 MiB");
    let first = rows.len();
    let src: Vec<u8> = (0..BW_SIZE).map(|i| i as u8).collect();
    let mut anon = vec![0u8; BW_SIZE];
    touch_pages(&mut anon, 1);
    let reps = (n / 100).clamp(3, 20);
    let a = copy_bench(&src, &mut anon, reps);
    drop(anon);
    let bo = dev
        .create_bo(BW_SIZE as u64, alloc_priv(BW_SIZE as u64).as_bytes())
        .map_err(io("dxg GEM 64 MiB"))?;
    let mut m = bo.map().map_err(io("dxg mmap 64 MiB"))?;
    touch_pages(m.as_mut_slice(), 1);
    let d = copy_bench(&src, m.as_mut_slice(), reps);
    if m.as_slice() != &src[..] {
        return Err("the GEM mapping does not hold what was copied".into());
    }
    drop(m);
    drop(bo);
    rows.push(Row::bandwidth(
        format!("mmap write, GEM ({reps}x)"),
        BW_SIZE,
        &d,
        "memcpy to anonymous memory",
        &a,
    ));
    print_table(&rows[first..]);

    section("submit -> out-fence signalled against the raw host round trip");
    let first = rows.len();
    let iters = n / 4;
    let rt = time(iters, || round_trip(&dxg)).map_err(io("host round trip"))?;
    let mut job = FillJob::new(&dxg, &dev)?;
    let sub = submit_latency(&mut job, iters)?;
    job.finish()?;
    rows.push(submit_row(&sub, &rt));
    print_table(&rows[first..]);
    Ok(rows)
}

fn drm_main(args: &[String]) -> ExitCode {
    let o = match parse_drm_args(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("dxg-bench drm: {e}");
            eprintln!(
                "usage: dxg-bench drm --node DXG_RENDER --baseline VGEM_RENDER [--baseline-card VGEM_CARD] [--iterations N]"
            );
            return ExitCode::from(2);
        }
    };
    match drm_bench(&o) {
        Ok(rows) => {
            section("summary: dxg against the baselines (ratio: dxg/baseline time; bandwidth: dxg/baseline)");
            print_table(&rows);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dxg-bench drm: {e}");
            ExitCode::FAILURE
        }
    }
}

// --- queue -------------------------------------------------------------

/// The host's control socket in the guest tests (tests/guest/lib.sh).
const CONTROL: &str = "/run/dxg-host.sock";
/// Commands the driver may send for a submission, as `dxg-host stats`
/// names them (upper case, no separators).
const SUBMIT_CMDS: [&str; 4] = [
    "SUBMITCOMMAND",
    "SIGNALSYNCOBJECT",
    "WAITFORSYNCOBJECTFROMCPU",
    "WAITFORSYNCOBJECTFROMGPU",
];
/// Most submissions queued at once (the driver refuses more than 1024
/// pending on a context).
const MAX_DEPTH: usize = 1000;

struct QueueOpts {
    node: PathBuf,
    iterations: usize,
    depth: usize,
    control: String,
    messages_only: bool,
}

fn parse_queue_args(args: &[String]) -> Result<QueueOpts, String> {
    let (mut node, mut iterations, mut depth) = (None, 500, 64);
    let (mut control, mut messages_only) = (CONTROL.to_string(), false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--node" => node = Some(PathBuf::from(val()?)),
            "--control" => control = val()?.clone(),
            "--messages-only" => messages_only = true,
            "--iterations" => {
                iterations = val()?
                    .parse()
                    .map_err(|_| "--iterations must be a number".to_string())?;
                if iterations < 40 {
                    return Err("--iterations must be at least 40".into());
                }
            }
            "--depth" => {
                depth = val()?
                    .parse()
                    .map_err(|_| "--depth must be a number".to_string())?;
                if !(2..=MAX_DEPTH).contains(&depth) {
                    return Err(format!("--depth must be 2..={MAX_DEPTH}"));
                }
            }
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    Ok(QueueOpts {
        node: node.ok_or("--node is required")?,
        iterations,
        depth,
        control,
        messages_only,
    })
}

/// Messages the host counted for one command.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Msgs {
    /// Sent with a completion requested (the sender waits for the reply).
    sync: u64,
    /// Sent without one.
    async_: u64,
}

/// What `dxg-host ctl stats` reported.
#[derive(Debug, Default, PartialEq)]
struct HostStats {
    /// Per command, by upper-case name.
    cmds: BTreeMap<String, Msgs>,
    /// The totals (`requests`, `errors`, `submissions`, ...).
    totals: BTreeMap<String, u64>,
    /// Whether the host split its counts into sync and async (a host
    /// without the split prints `NAME N`: counted as sync here).
    split: bool,
}

/// `sync` and `async_` messages.
const fn msgs(sync: u64, async_: u64) -> Msgs {
    Msgs { sync, async_ }
}

impl HostStats {
    /// Parses `stats` output: `NAME sync=N async=M` (or `NAME N`) per
    /// command, `total N` per lower-case total, then `ok`.
    fn parse(out: &str) -> Result<HostStats, String> {
        let mut h = HostStats::default();
        for line in out.lines() {
            let w: Vec<&str> = line.split_whitespace().collect();
            match w.as_slice() {
                [] | ["ok"] => {}
                [e, ..] if e.starts_with("error:") => return Err(line.to_string()),
                [name, v] if v.parse::<u64>().is_ok() => {
                    let v = v.parse().unwrap_or(0);
                    if name.chars().all(|c| !c.is_ascii_uppercase()) {
                        h.totals.insert(name.to_string(), v);
                    } else {
                        h.cmds.insert(normalize(name), msgs(v, 0));
                    }
                }
                [name, kv @ ..] => {
                    let mut m = Msgs::default();
                    let mut seen = 0;
                    for f in kv {
                        let (slot, n) = match f.split_once('=') {
                            Some(("sync", n)) => (&mut m.sync, n),
                            Some(("async", n)) => (&mut m.async_, n),
                            _ => continue,
                        };
                        *slot = n
                            .parse()
                            .map_err(|_| format!("bad count in stats line {line:?}"))?;
                        seen += 1;
                    }
                    if seen > 0 {
                        h.split = true;
                        h.cmds.insert(normalize(name), m);
                    }
                }
            }
        }
        Ok(h)
    }

    /// The counts of `self` less those of `before`.
    fn since(&self, before: &HostStats) -> HostStats {
        let cmds = self
            .cmds
            .iter()
            .map(|(k, m)| {
                let b = before.cmds.get(k).copied().unwrap_or_default();
                let d = msgs(
                    m.sync.saturating_sub(b.sync),
                    m.async_.saturating_sub(b.async_),
                );
                (k.clone(), d)
            })
            .filter(|(_, d)| *d != Msgs::default())
            .collect();
        let totals = self
            .totals
            .iter()
            .map(|(k, v)| {
                let b = before.totals.get(k).copied().unwrap_or(0);
                (k.clone(), v.saturating_sub(b))
            })
            .collect();
        HostStats {
            cmds,
            totals,
            split: self.split,
        }
    }

    fn cmd(&self, name: &str) -> Msgs {
        self.cmds.get(name).copied().unwrap_or_default()
    }

    fn all(&self) -> Msgs {
        let add = |a: Msgs, m: &Msgs| msgs(a.sync + m.sync, a.async_ + m.async_);
        self.cmds.values().fold(Msgs::default(), add)
    }
}

/// A command name as `dxg-host` prints it (`SubmitCommand` and
/// `SUBMITCOMMAND` are the same).
fn normalize(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Runs `dxg-host ctl --control CONTROL CMD...`; its output.
fn host_ctl(control: &str, cmd: &[&str]) -> Result<String, String> {
    let out = Command::new("dxg-host")
        .args(["ctl", "--control", control])
        .args(cmd)
        .output()
        .map_err(|e| format!("dxg-host ctl: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "dxg-host ctl {}: {} {}{}",
            cmd.join(" "),
            out.status,
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(stdout)
}

/// The host's counts over `iters` calls of `op`: `stats reset`, the calls,
/// `stats` (a host that refuses the reset: the difference of two `stats`).
fn count_messages(
    control: &str,
    iters: usize,
    mut op: impl FnMut() -> io::Result<()>,
) -> Result<HostStats, String> {
    if let Err(e) = host_ctl(control, &["stats", "reset"]) {
        println!("-- {e}: counting the difference of two `stats`");
    }
    let before = HostStats::parse(&host_ctl(control, &["stats"])?)?;
    for i in 0..iters {
        op().map_err(|e| format!("call {i} of {iters}: {e}"))?;
    }
    let after = HostStats::parse(&host_ctl(control, &["stats"])?)?;
    Ok(after.since(&before))
}

/// Rows of host messages per submission (`sub`, over `n_sub` submissions)
/// against those per host round trip (`rt`, over `n_rt` calls): sync and
/// async of each submission command and of any other command the
/// submissions caused, then of all of them.
fn message_rows(sub: &HostStats, n_sub: usize, rt: &HostStats, n_rt: usize) -> Vec<Row> {
    let (ns, nr) = (n_sub as f64, n_rt as f64);
    let rta = rt.all();
    let others = sub
        .cmds
        .keys()
        .filter(|k| !SUBMIT_CMDS.contains(&k.as_str()));
    let names: Vec<String> = SUBMIT_CMDS
        .iter()
        .map(|s| s.to_string())
        .chain(others.cloned())
        .collect();
    let mut rows = Vec::new();
    let mut two = |case: String, m: Msgs| {
        for (u, v, b) in [("sync", m.sync, rta.sync), ("async", m.async_, rta.async_)] {
            rows.push(Row::count(
                case.clone(),
                u,
                v as f64 / ns,
                "msgs/host round trip (QAI)",
                b as f64 / nr,
            ));
        }
    };
    for name in &names {
        two(format!("msgs/submit {name}"), sub.cmd(name));
    }
    let all = sub.all();
    two("msgs/submit, all commands".into(), all);
    rows.push(Row::count(
        "msgs/submit, all commands",
        "total",
        (all.sync + all.async_) as f64 / ns,
        "msgs/host round trip (QAI)",
        (rta.sync + rta.async_) as f64 / nr,
    ));
    rows
}

/// Median round trip of one byte through two pipes between this process
/// and a child, `iters` times (after `iters / 10` untimed ones).
fn pipe_ping_pong(iters: usize) -> io::Result<Stats> {
    use nix::sys::wait::{waitpid, WaitStatus};
    use nix::unistd::{fork, pipe, ForkResult};
    let (down_r, down_w) = pipe()?;
    let (up_r, up_w) = pipe()?;
    // SAFETY: the child only makes system calls (close, read, write,
    // _exit): nothing that allocates or takes a lock another thread of the
    // parent may have held (dxg-bench queue forks before it starts any).
    match unsafe { fork() }? {
        ForkResult::Child => {
            drop(down_w);
            drop(up_r);
            let (mut r, mut w) = (File::from(down_r), File::from(up_w));
            let mut b = [0u8; 1];
            let code = loop {
                match r.read(&mut b) {
                    Ok(1) => {}
                    Ok(_) => break 0,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => break 1,
                }
                if w.write_all(&b).is_err() {
                    break 1;
                }
            };
            // SAFETY: ends the child without running the parent's exit
            // handlers or destructors.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop(down_r);
            drop(up_w);
            let (mut w, mut r) = (File::from(down_w), File::from(up_r));
            let mut b = [0u8; 1];
            let mut one = || -> io::Result<()> {
                w.write_all(&b)?;
                r.read_exact(&mut b)
            };
            let s = (0..iters.div_ceil(10))
                .try_for_each(|_| one())
                .and_then(|_| time(iters, &mut one));
            drop(w);
            match waitpid(child, None)? {
                WaitStatus::Exited(_, 0) => s,
                st => Err(io::Error::other(format!("ping-pong child: {st:?}"))),
            }
        }
    }
}

fn queue_bench(o: &QueueOpts) -> Result<Vec<Row>, String> {
    let n = o.iterations;
    let disp = o.node.display().to_string();
    // Before anything opens the node (and before any thread).
    let pipe = if o.messages_only {
        None
    } else {
        Some(pipe_ping_pong(n).map_err(|e| format!("pipe ping-pong: {e}"))?)
    };
    let dxg = Node::open(&o.node).map_err(|e| format!("{disp}: {e}"))?;
    match dxg.driver_name() {
        Ok(d) if d == "dxg" => {}
        Ok(d) => return Err(format!("{disp}: driver is {d:?}, not dxg")),
        Err(e) => return Err(format!("{disp}: DRM_IOCTL_VERSION: {e}")),
    }
    println!(
        "dxg-bench queue: dxg {disp}, {n} iterations, depth {}, host control {}{}",
        o.depth,
        o.control,
        if o.messages_only {
            ", messages per submission only"
        } else {
            ""
        }
    );
    let dev = dxg
        .create_device()
        .map_err(|e| format!("DEVICE_CREATE: {e}"))?;
    let mut job = FillJob::new(&dxg, &dev)?;
    let iters = n / 4;
    // Warm-up (also whatever the first submission of a context sends once).
    for _ in 0..iters.div_ceil(10) {
        job.submit_wait()
            .map_err(|e| format!("submit/wait (warm-up): {e}"))?;
    }
    let mut rows = Vec::new();

    section("host messages per submission (each waited for) against those per host round trip");
    let rtm = count_messages(&o.control, iters, || round_trip(&dxg))
        .map_err(|e| format!("counting QUERY_ADAPTER_INFO: {e}"))?;
    let subm = count_messages(&o.control, iters, || job.submit_wait())
        .map_err(|e| format!("counting submissions: {e}"))?;
    if !subm.split {
        println!("-- the host does not split its counts into sync and async: all counted as sync");
    }
    let t = |k: &str| subm.totals.get(k).copied().unwrap_or(0);
    println!(
        "-- {iters} submissions: the host executed {}, answered {} with an error",
        t("submissions"),
        t("errors")
    );
    rows.extend(message_rows(&subm, iters, &rtm, iters));
    print_table(&rows);

    if let Some(pipe) = pipe {
        section("submit -> out-fence signalled against the raw host round trip");
        let first = rows.len();
        let rt = time(n, || round_trip(&dxg)).map_err(|e| format!("host round trip: {e}"))?;
        let serial = submit_latency(&mut job, iters)?;
        rows.push(submit_row(&serial, &rt));
        let binary = submit_latency_binary(&mut job, iters)?;
        rows.push(submit_row_binary(&binary, &rt));
        print_table(&rows[first..]);

        let rounds = (iters / o.depth).max(10);
        section(&format!(
            "pipelined: {} submissions then one wait, against submit+wait, one context",
            o.depth
        ));
        let first = rows.len();
        job.pipelined(o.depth)
            .map_err(|e| format!("pipelined (warm-up): {e}"))?;
        let piped =
            time(rounds, || job.pipelined(o.depth)).map_err(|e| format!("pipelined: {e}"))?;
        rows.push(Row::throughput(
            format!("pipelined submits, depth {} ({rounds}x)", o.depth),
            "sub/s",
            o.depth as f64,
            &piped,
            "submit+wait, same context",
            1.0,
            &serial,
        ));
        print_table(&rows[first..]);

        section("raw host round trip against a pipe ping-pong between two processes");
        let first = rows.len();
        rows.push(Row::time(
            "raw host round trip (QAI)",
            &rt,
            "pipe ping-pong, 2 processes",
            &pipe,
        ));
        print_table(&rows[first..]);
    }
    job.finish()?;
    Ok(rows)
}

const QUEUE_USAGE: &str = "usage: dxg-bench queue --node DXG_RENDER [--iterations N] [--depth D] [--control SOCK] [--messages-only]";

fn queue_main(args: &[String]) -> ExitCode {
    let o = match parse_queue_args(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("dxg-bench queue: {e}");
            eprintln!("{QUEUE_USAGE}");
            return ExitCode::from(2);
        }
    };
    match queue_bench(&o) {
        Ok(rows) => {
            section("summary: queued submission (ratio: dxg/baseline time; rates and counts: dxg/baseline)");
            print_table(&rows);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dxg-bench queue: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("loopback") => loopback_main(&args[2..]),
        Some("drm") => drm_main(&args[2..]),
        Some("queue") => queue_main(&args[2..]),
        _ => {
            eprintln!("usage: dxg-bench loopback NODE [ITERATIONS] [THREADS]");
            eprintln!(
                "       dxg-bench drm --node DXG_RENDER --baseline VGEM_RENDER [--baseline-card VGEM_CARD] [--iterations N]"
            );
            eprintln!("       {}", &QUEUE_USAGE["usage: ".len()..]);
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn drm_arguments() {
        let o = parse_drm_args(&args("--node /a --baseline /b --iterations 50")).unwrap();
        assert_eq!(
            (o.node, o.baseline, o.card),
            ("/a".into(), "/b".into(), None)
        );
        assert_eq!(o.iterations, 50);
        assert!(parse_drm_args(&args("--node /a")).is_err());
        assert!(parse_drm_args(&args("--node /a --baseline /b --iterations 5")).is_err());
        assert!(parse_drm_args(&args("--node /a --baseline /b --x")).is_err());
        assert!(parse_drm_args(&args("--node")).is_err());
    }

    fn st(ms: u64) -> Stats {
        Stats {
            median: Duration::from_millis(ms),
            p99: Duration::from_millis(2 * ms),
            per_sec: 0.0,
        }
    }

    #[test]
    fn ratios_and_units() {
        let r = Row::time("", &st(20), "", &st(10));
        assert!((r.ratio - 2.0).abs() < 1e-9);
        assert_eq!(r.dxg, (20_000.0, Some(40_000.0)));
        assert_eq!(r.unit, "us");
        // Twice the time is half the bandwidth.
        let r = Row::bandwidth("", 1_000_000, &st(20), "", &st(10));
        assert!((r.ratio - 0.5).abs() < 1e-9);
        assert_eq!(r.base, (100.0, Some(50.0)));
        assert_eq!(r.unit, "MB/s");
        // 64 in 20 ms against 1 in 1 ms: 3200/s against 1000/s.
        let r = Row::throughput("", "sub/s", 64.0, &st(20), "", 1.0, &st(1));
        assert!((r.dxg.0 - 3200.0).abs() < 1e-6);
        assert!((r.ratio - 3.2).abs() < 1e-9);
        let r = Row::count("", "sync", 3.0, "", 1.0);
        assert_eq!((r.dxg, r.ratio), ((3.0, None), 3.0));
        assert!(Row::count("", "async", 1.0, "", 0.0).ratio.is_nan());
    }

    const STATS: &str = "CREATEDEVICE sync=1 async=0\nSIGNALSYNCOBJECT sync=0 async=4\n\
        SUBMITCOMMAND sync=4 async=0\nrequests 9\nerrors 0\nbad 0\nfaults 0\n\
        submissions 4\nok\n";

    #[test]
    fn host_stats() {
        let h = HostStats::parse(STATS).unwrap();
        assert!(h.split);
        assert_eq!(h.cmd("SUBMITCOMMAND"), msgs(4, 0));
        assert_eq!(h.cmd("SIGNALSYNCOBJECT"), msgs(0, 4));
        assert_eq!(h.cmd("WAITFORSYNCOBJECTFROMGPU"), Msgs::default());
        assert_eq!(h.all(), msgs(5, 4));
        assert_eq!(h.totals["submissions"], 4);
        assert_eq!(h.totals.len(), 5);
        // The counts of a host without the split are sync; names are
        // normalized.
        let old = HostStats::parse("SubmitCommand 2\nrequests 2\nok\n").unwrap();
        assert!(!old.split);
        assert_eq!(old.cmd("SUBMITCOMMAND"), msgs(2, 0));
        assert!(HostStats::parse("error: unknown command\n").is_err());
        assert!(HostStats::parse("SUBMITCOMMAND sync=x async=0\n").is_err());
        // Differences drop commands that did not move.
        let d = h.since(&old);
        assert_eq!(d.cmd("SUBMITCOMMAND"), msgs(2, 0));
        assert!(d.cmds.contains_key("CREATEDEVICE"));
        assert_eq!(d.totals["requests"], 7);
        assert!(h.since(&h).cmds.is_empty());
    }

    #[test]
    fn message_table() {
        let sub = HostStats::parse(STATS).unwrap();
        let rt = HostStats::parse("QUERYADAPTERINFO sync=2 async=0\nok\n").unwrap();
        let rows = message_rows(&sub, 4, &rt, 2);
        // Four submission commands and CREATEDEVICE, sync and async each,
        // then all commands: sync, async, total.
        assert_eq!(rows.len(), 5 * 2 + 3);
        assert_eq!(rows[0].case, "msgs/submit SUBMITCOMMAND");
        assert_eq!(
            (rows[0].unit, rows[0].dxg.0, rows[0].ratio),
            ("sync", 1.0, 1.0)
        );
        assert_eq!((rows[3].unit, rows[3].dxg.0), ("async", 1.0));
        assert!(rows[3].ratio.is_nan());
        assert_eq!(rows[8].case, "msgs/submit CREATEDEVICE");
        let total = rows.last().unwrap();
        assert_eq!(
            (total.unit, total.dxg.0, total.base.0),
            ("total", 2.25, 1.0)
        );
    }

    #[test]
    fn queue_arguments() {
        let o = parse_queue_args(&args("--node /a --depth 8 --messages-only")).unwrap();
        assert_eq!((o.node, o.depth, o.iterations), ("/a".into(), 8, 500));
        assert_eq!(o.control, CONTROL);
        assert!(o.messages_only);
        let o = parse_queue_args(&args("--node /a --control /s --iterations 40")).unwrap();
        assert_eq!((o.control.as_str(), o.iterations), ("/s", 40));
        assert!(!o.messages_only);
        assert!(parse_queue_args(&args("--depth 8")).is_err());
        assert!(parse_queue_args(&args("--node /a --depth 1")).is_err());
        assert!(parse_queue_args(&args("--node /a --depth 5000")).is_err());
        assert!(parse_queue_args(&args("--node /a --iterations 10")).is_err());
    }

    #[test]
    fn pipe_round_trips() {
        let s = pipe_ping_pong(20).unwrap();
        assert!(s.median <= s.p99);
    }

    #[test]
    fn stats_median_and_p99() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        let s = stats(v, Duration::from_secs(1));
        assert_eq!(s.median, Duration::from_micros(50));
        assert_eq!(s.p99, Duration::from_micros(99));
        assert_eq!(s.per_sec, 100.0);
    }

    #[test]
    fn sizes() {
        assert_eq!(size_name(4096), "4 KiB");
        assert_eq!(size_name(64 * MIB), "64 MiB");
    }
}
