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
//! - submit -> signal latency: a tiny FILL submitted with a timeline
//!   syncobj point as out fence, then waited for, against the raw host
//!   round trip of `loopback` (QUERY_ADAPTER_INFO) on the same node.
//!
//! It ends with one table of all of them.

use std::hint::black_box;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
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

/// One line of the final table: a dxg measurement against its baseline.
struct Row {
    case: String,
    dxg: Stats,
    baseline: String,
    base: Stats,
    /// Bandwidth rows print MB/s (from the median and p99 durations of
    /// copying `bytes`), and their ratio is dxg bandwidth / baseline's.
    bytes: Option<usize>,
}

impl Row {
    fn ratio(&self) -> f64 {
        let r = self.dxg.median.as_secs_f64() / self.base.median.as_secs_f64();
        if self.bytes.is_some() {
            1.0 / r
        } else {
            r
        }
    }

    /// Median and p99 of `s` in this row's unit.
    fn values(&self, s: &Stats) -> (f64, f64) {
        match self.bytes {
            Some(b) => (
                b as f64 / s.median.as_secs_f64() / 1e6,
                b as f64 / s.p99.as_secs_f64() / 1e6,
            ),
            None => (us(s.median), us(s.p99)),
        }
    }

    fn unit(&self) -> &'static str {
        if self.bytes.is_some() {
            "MB/s"
        } else {
            "us"
        }
    }
}

fn print_header() {
    println!(
        "{:<32} {:>5} {:>10} {:>10} | {:<28} {:>10} {:>10} | {:>7}",
        "case (dxg)", "unit", "median", "p99", "baseline", "median", "p99", "ratio"
    );
}

fn print_row(r: &Row) {
    let (dm, dp) = r.values(&r.dxg);
    let (bm, bp) = r.values(&r.base);
    println!(
        "{:<32} {:>5} {:>10.1} {:>10.1} | {:<28} {:>10.1} {:>10.1} | {:>7.2}",
        r.case,
        r.unit(),
        dm,
        dp,
        r.baseline,
        bm,
        bp,
        r.ratio()
    );
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

/// Submit -> signal latency of a tiny FILL on `dev`, timeline point per
/// submission. Checks once at the end that the FILL ran.
fn submit_bench(node: &Node, dev: &dxg_uapi::Device<'_>, iters: usize) -> Result<Stats, String> {
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
    let mut point = 0;
    let mut one = || -> io::Result<()> {
        point += 1;
        ctx.submit(VA_CMD, len, &[], &[], &[sync.at(point)])?;
        sync.wait_point(point, TIMEOUT)
    };
    for _ in 0..iters.div_ceil(10) {
        one().map_err(|e| format!("submit/wait (warm-up): {e}"))?;
    }
    let s = time(iters, one).map_err(|e| format!("submit/wait: {e}"))?;
    if md.as_slice()[..FILL_LEN as usize]
        .iter()
        .any(|&b| b != FILL_VALUE)
    {
        return Err("the FILL did not reach the destination buffer".into());
    }
    for (bo, va) in [(&cmd, VA_CMD), (&dst, VA_DST)] {
        dev.vm_bind_unmap(va, bo.size())
            .map_err(|e| format!("VM_BIND unmap {va:#x}: {e}"))?;
    }
    Ok(s)
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
    rows.push(Row {
        case: "DRM_IOCTL_VERSION".into(),
        dxg: dver,
        baseline: format!("{vn} DRM_IOCTL_VERSION"),
        base: vver,
        bytes: None,
    });
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
        rows.push(Row {
            case: name.into(),
            dxg: ds[i],
            baseline,
            base,
            bytes: None,
        });
    }
    print_header();
    rows.iter().for_each(print_row);

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
        rows.push(Row {
            case: format!("GEM {sn} ({iters}x)"),
            dxg: d,
            baseline: format!("{vn} dumb {sn}"),
            base: v,
            bytes: None,
        });
    }
    print_header();
    rows[first..].iter().for_each(print_row);

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
    rows.push(Row {
        case: format!("mmap write, GEM ({reps}x)"),
        dxg: d,
        baseline: "memcpy to anonymous memory".into(),
        base: a,
        bytes: Some(BW_SIZE),
    });
    print_header();
    rows[first..].iter().for_each(print_row);

    section("submit -> signal against the raw host round trip");
    let first = rows.len();
    let iters = n / 4;
    let rt = time(iters, || round_trip(&dxg)).map_err(io("host round trip"))?;
    let sub = submit_bench(&dxg, &dev, iters)?;
    rows.push(Row {
        case: format!("submit FILL {FILL_LEN} B -> signal"),
        dxg: sub,
        baseline: "host round trip (loopback)".into(),
        base: rt,
        bytes: None,
    });
    print_header();
    rows[first..].iter().for_each(print_row);
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
            print_header();
            rows.iter().for_each(print_row);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dxg-bench drm: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("loopback") => loopback_main(&args[2..]),
        Some("drm") => drm_main(&args[2..]),
        _ => {
            eprintln!("usage: dxg-bench loopback NODE [ITERATIONS] [THREADS]");
            eprintln!(
                "       dxg-bench drm --node DXG_RENDER --baseline VGEM_RENDER [--baseline-card VGEM_CARD] [--iterations N]"
            );
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

    #[test]
    fn ratios_and_units() {
        let s = |ms| Stats {
            median: Duration::from_millis(ms),
            p99: Duration::from_millis(ms),
            per_sec: 0.0,
        };
        let mut r = Row {
            case: String::new(),
            dxg: s(20),
            baseline: String::new(),
            base: s(10),
            bytes: None,
        };
        assert!((r.ratio() - 2.0).abs() < 1e-9);
        assert_eq!(r.values(&r.dxg).0, 20_000.0);
        r.bytes = Some(1_000_000);
        // Twice the time is half the bandwidth.
        assert!((r.ratio() - 0.5).abs() < 1e-9);
        assert_eq!(r.values(&r.base).0, 100.0);
        assert_eq!(r.unit(), "MB/s");
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
