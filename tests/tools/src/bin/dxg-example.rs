// SPDX-License-Identifier: GPL-2.0

//! `dxg-example [--resident] [--fdinfo] [NODE]`: the whole submission path on one
//! adapter against the software host (`dxg-host`), checked end to end.
//!
//! Opens NODE (default: the first dxg render node), creates a device and a
//! context on engine 0, two 64 KiB buffers A and B and a command buffer,
//! binds them at fixed GPU VAs, writes a command stream in the host
//! model's format (`dxg_proto::cmdbuf`) through a CPU mapping —
//! FILL(A, 0x5a) then COPY(A -> B) — submits it with a timeline syncobj
//! point as the out fence, waits for that point, and checks A and B
//! through their CPU mappings. `--resident` also makes the three buffers
//! resident before the submission and evicts them afterwards.
//! `dxg-example --cross NODE0 NODE1` shares a buffer between two adapters
//! instead: created on NODE0, exported by PRIME, imported on NODE1 (the
//! kernel re-wraps the same pages as an allocation of the second adapter),
//! filled by the second adapter, and checked through both CPU mappings.
//! `--fdinfo` then prints the DRM file's fdinfo (drm-usage-stats) and
//! checks the keys dxg must report: driver, client id, PCI device, the
//! three buffers' memory, and non-zero GPU time.
//!
//! The stream has no SIGNAL: that command names a host monitored fence
//! handle, which userspace never sees; the kernel signals the syncobj from
//! the context's own monitored fence. Allocation private data is a
//! `ModelAllocPriv` (the host model takes the allocation size from it), so
//! this program only works against the software host: a real host runs
//! the vendor's command buffers. Exit status 0 if B holds the expected
//! bytes, 1 otherwise.

use std::os::fd::{AsFd, AsRawFd};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use dxg_proto::cmdbuf::{Cmd, CmdWriter};
use dxg_proto::model::ModelAllocPriv;
use dxg_proto::U64;
use dxg_uapi::{Bo, Device, Node};
use zerocopy::IntoBytes;

/// Size of buffers A and B.
const BUF_SIZE: u64 = 64 * 1024;
/// Size of the command buffer.
const CMD_SIZE: u64 = 4096;
/// The fill byte.
const VALUE: u8 = 0x5a;
/// What B holds before the copy (written by the CPU).
const B_BEFORE: u8 = 0xa5;
/// GPU VAs: the host model hands out and accepts VAs from 4 GiB
/// (`dxg-host` `VA_BASE`), below 2^47.
const VA_A: u64 = 0x1_0000_0000;
const VA_B: u64 = 0x1_0010_0000;
const VA_CMD: u64 = 0x1_0020_0000;
const _: () = assert!(VA_A >= 1 << 32 && VA_A + BUF_SIZE <= VA_B && VA_B + BUF_SIZE <= VA_CMD);
const _: () = assert!(VA_CMD + CMD_SIZE < 1 << 47);
/// How long the fence may take.
const TIMEOUT: Duration = Duration::from_secs(30);

fn alloc_priv(size: u64) -> ModelAllocPriv {
    ModelAllocPriv {
        size: U64::new(size),
    }
}

fn create_bo<'n>(dev: &Device<'n>, size: u64, what: &str) -> Result<Bo<'n>, String> {
    dev.create_bo(size, alloc_priv(size).as_bytes())
        .map_err(|e| format!("GEM_CREATE {what} ({size} bytes): {e}"))
}

/// First offset where `bytes` differs from `want`, and the byte there.
fn first_mismatch(bytes: &[u8], want: u8) -> Option<(usize, u8)> {
    bytes.iter().position(|&b| b != want).map(|i| (i, bytes[i]))
}

fn check(name: &str, bytes: &[u8], want: u8) -> bool {
    match first_mismatch(bytes, want) {
        None => {
            println!("  {name}: all {} bytes are {want:#04x}", bytes.len());
            true
        }
        Some((at, got)) => {
            let bad = bytes.iter().filter(|&&b| b != want).count();
            println!(
                "  {name}: MISMATCH: {bad} of {} bytes differ from {want:#04x}, first at offset {at:#x} ({got:#04x})",
                bytes.len()
            );
            false
        }
    }
}

/// Builds the command stream into `buf`; returns its length.
fn build_stream(buf: &mut [u8]) -> Result<usize, String> {
    let mut w = CmdWriter::new(buf);
    let cmds = [
        Cmd::Fill {
            gpu_va: VA_A,
            length: BUF_SIZE,
            value: VALUE,
        },
        Cmd::Copy {
            src_va: VA_A,
            dst_va: VA_B,
            length: BUF_SIZE,
        },
    ];
    for c in &cmds {
        w.push(c).map_err(|e| format!("command buffer: {e:?}"))?;
    }
    Ok(w.len())
}

/// Print the fdinfo of `node` and check the drm-usage-stats keys.
fn check_fdinfo(node: &Node, min_memory: u64) -> Result<(), String> {
    let fd = node.as_fd().as_raw_fd();
    let text = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}"))
        .map_err(|e| format!("reading fdinfo: {e}"))?;
    print!("{text}");
    let key = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k).map(|v| v.trim().to_string()))
            .ok_or(format!("fdinfo has no {k:?}"))
    };
    let kib = |k: &str| -> Result<u64, String> {
        let v = key(k)?;
        let (n, unit) = v.split_once(' ').unwrap_or((v.as_str(), ""));
        let n: u64 = n
            .parse()
            .map_err(|_| format!("{k} {v:?} is not a number"))?;
        Ok(match unit {
            "KiB" => n * 1024,
            "MiB" => n << 20,
            "GiB" => n << 30,
            _ => n,
        })
    };
    if key("drm-driver:")? != "dxg" {
        return Err("drm-driver is not dxg".into());
    }
    key("drm-client-id:")?;
    key("drm-pdev:")?;
    for k in ["drm-total-memory:", "drm-resident-memory:"] {
        let v = kib(k)?;
        if v < min_memory {
            return Err(format!("{k} {v} bytes, expected at least {min_memory}"));
        }
    }
    let busy = key("drm-engine-gpu:")?;
    let ns: u64 = busy
        .trim_end_matches("ns")
        .trim()
        .parse()
        .map_err(|_| format!("drm-engine-gpu {busy:?} is not a number"))?;
    if ns == 0 {
        return Err("drm-engine-gpu is 0 after a submission".into());
    }
    Ok(())
}

fn run(path: &str, resident: bool, fdinfo: bool) -> Result<bool, String> {
    let node = Node::open(path).map_err(|e| format!("cannot open {path}: {e}"))?;
    let driver = node.driver_name().map_err(|e| format!("{path}: {e}"))?;
    if driver != "dxg" {
        return Err(format!("{path}: driver is {driver:?}, not dxg"));
    }
    let info = node
        .query_adapter()
        .map_err(|e| format!("{path}: QUERY_ADAPTER: {e}"))?;
    println!(
        "dxg-example: {path}: luid {:#018x} {:?}",
        info.luid, info.description
    );
    let dev = node
        .create_device()
        .map_err(|e| format!("DEVICE_CREATE: {e}"))?;
    let ctx = dev
        .create_context(0, &[])
        .map_err(|e| format!("CONTEXT_CREATE: {e}"))?;
    println!("  device {}, context {} on engine 0", dev.id(), ctx.id());

    let a = create_bo(&dev, BUF_SIZE, "A")?;
    let b = create_bo(&dev, BUF_SIZE, "B")?;
    let cmd = create_bo(&dev, CMD_SIZE, "command buffer")?;
    let mut ma = a.map().map_err(|e| format!("mmap A: {e}"))?;
    let mut mb = b.map().map_err(|e| format!("mmap B: {e}"))?;
    let mut mc = cmd.map().map_err(|e| format!("mmap command buffer: {e}"))?;
    ma.as_mut_slice().fill(0);
    mb.as_mut_slice().fill(B_BEFORE);
    mc.as_mut_slice().fill(0);

    for (bo, va, name) in [(&a, VA_A, "A"), (&b, VA_B, "B"), (&cmd, VA_CMD, "cmd")] {
        dev.vm_bind_map(bo, 0, bo.size(), va)
            .map_err(|e| format!("VM_BIND map {name} at {va:#x}: {e}"))?;
        println!(
            "  {name:>3}: GEM handle {}, {} bytes at GPU VA {va:#x}",
            bo.handle(),
            bo.size()
        );
    }
    if resident {
        dev.make_resident(&[&a, &b, &cmd])
            .map_err(|e| format!("RESIDENCY make resident: {e}"))?;
        println!("  made A, B and cmd resident");
    }

    let len = build_stream(mc.as_mut_slice())?;
    println!(
        "  command buffer: {len} bytes: FILL(A, {VALUE:#04x}, {BUF_SIZE}) COPY(A -> B, {BUF_SIZE})"
    );

    let sync = node
        .create_syncobj(false)
        .map_err(|e| format!("syncobj create: {e}"))?;
    let point = 1;
    let t0 = Instant::now();
    ctx.submit(VA_CMD, len as u64, &[], &[], &[sync.at(point)])
        .map_err(|e| format!("SUBMIT: {e}"))?;
    sync.wait_point(point, TIMEOUT)
        .map_err(|e| format!("waiting for syncobj {} point {point}: {e}", sync.raw()))?;
    let took = t0.elapsed();
    let value = sync.query().map_err(|e| format!("syncobj query: {e}"))?;
    println!(
        "  submitted with out fence syncobj {} point {point}; signaled after {:.1} ms (timeline at {value})",
        sync.raw(),
        took.as_secs_f64() * 1000.0
    );
    if value < point {
        return Err(format!(
            "timeline value {value} below the waited point {point}"
        ));
    }

    let ok = check("A", ma.as_slice(), VALUE) & check("B", mb.as_slice(), VALUE);
    if fdinfo {
        check_fdinfo(&node, 2 * BUF_SIZE + CMD_SIZE)?;
        println!("  fdinfo: drm-usage-stats keys present and plausible");
    }

    if resident {
        dev.evict(&[&a, &b, &cmd])
            .map_err(|e| format!("RESIDENCY evict: {e}"))?;
    }
    for (bo, va, name) in [(&a, VA_A, "A"), (&b, VA_B, "B"), (&cmd, VA_CMD, "cmd")] {
        dev.vm_bind_unmap(va, bo.size())
            .map_err(|e| format!("VM_BIND unmap {name} at {va:#x}: {e}"))?;
    }
    Ok(ok)
}

/// The buffer of `--cross`, and its fill byte.
const CROSS_VALUE: u8 = 0x3c;

/// `--cross`: PRIME from the adapter of `p0` to the adapter of `p1`.
fn cross(p0: &str, p1: &str) -> Result<bool, String> {
    let n0 = Node::open(p0).map_err(|e| format!("cannot open {p0}: {e}"))?;
    let n1 = Node::open(p1).map_err(|e| format!("cannot open {p1}: {e}"))?;
    let l0 = n0.query_adapter().map_err(|e| format!("{p0}: {e}"))?.luid;
    let l1 = n1.query_adapter().map_err(|e| format!("{p1}: {e}"))?.luid;
    if l0 == l1 {
        return Err(format!("{p0} and {p1} are the same adapter"));
    }
    println!("dxg-example: PRIME from {p0} (luid {l0:#x}) to {p1} (luid {l1:#x})");
    let d0 = n0
        .create_device()
        .map_err(|e| format!("{p0}: DEVICE_CREATE: {e}"))?;
    let x = create_bo(&d0, BUF_SIZE, "X")?;
    let mut m0 = x.map().map_err(|e| format!("mmap X on {p0}: {e}"))?;
    m0.as_mut_slice().fill(0);
    let fd = x.export().map_err(|e| format!("PRIME export of X: {e}"))?;
    let y = n1
        .import_bo(fd.as_fd())
        .map_err(|e| format!("PRIME import into {p1}: {e}"))?;
    println!(
        "  X: GEM handle {} on {p0}, imported as handle {} on {p1}",
        x.handle(),
        y.handle()
    );
    let mut m1 = y.map().map_err(|e| format!("mmap Y on {p1}: {e}"))?;
    // The CPU sees one buffer through both mappings.
    m1.as_mut_slice()[0] = 0x77;
    if m0.as_slice()[0] != 0x77 {
        return Err(
            "a CPU write through the importer's mapping is not visible to the exporter".into(),
        );
    }
    let d1 = n1
        .create_device()
        .map_err(|e| format!("{p1}: DEVICE_CREATE: {e}"))?;
    let ctx = d1
        .create_context(0, &[])
        .map_err(|e| format!("{p1}: CONTEXT_CREATE: {e}"))?;
    let cmd = create_bo(&d1, CMD_SIZE, "command buffer")?;
    let mut mc = cmd.map().map_err(|e| format!("mmap command buffer: {e}"))?;
    d1.vm_bind_map(&y, 0, BUF_SIZE, VA_A)
        .map_err(|e| format!("VM_BIND of the imported buffer on {p1}: {e}"))?;
    d1.vm_bind_map(&cmd, 0, CMD_SIZE, VA_CMD)
        .map_err(|e| format!("VM_BIND of the command buffer on {p1}: {e}"))?;
    let mut w = CmdWriter::new(mc.as_mut_slice());
    w.push(&Cmd::Fill {
        gpu_va: VA_A,
        length: BUF_SIZE,
        value: CROSS_VALUE,
    })
    .map_err(|e| format!("command buffer: {e:?}"))?;
    let len = w.len() as u64;
    let sync = n1
        .create_syncobj(false)
        .map_err(|e| format!("syncobj: {e}"))?;
    ctx.submit(VA_CMD, len, &[], &[], &[sync.binary()])
        .map_err(|e| format!("SUBMIT on {p1}: {e}"))?;
    sync.wait(TIMEOUT)
        .map_err(|e| format!("waiting for the fill: {e}"))?;
    println!("  {p1} filled the imported buffer with {CROSS_VALUE:#04x}");
    Ok(
        check(&format!("X through {p0}"), m0.as_slice(), CROSS_VALUE)
            & check(&format!("Y through {p1}"), m1.as_slice(), CROSS_VALUE),
    )
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().map(String::as_str) == Some("--cross") {
        let [_, p0, p1] = argv.as_slice() else {
            eprintln!("usage: dxg-example --cross NODE0 NODE1");
            return ExitCode::from(2);
        };
        return verdict(cross(p0, p1), "both adapters see the same bytes");
    }
    let mut resident = false;
    let mut fdinfo = false;
    let mut path = None;
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--resident" => resident = true,
            "--fdinfo" => fdinfo = true,
            s if !s.starts_with('-') && path.is_none() => path = Some(a),
            _ => {
                eprintln!(
                    "usage: dxg-example [--resident] [--fdinfo] [NODE] | --cross NODE0 NODE1"
                );
                return ExitCode::from(2);
            }
        }
    }
    let path = match path {
        Some(p) => p,
        None => match dxg_uapi::find_render_nodes() {
            Ok(v) if !v.is_empty() => v[0].to_string_lossy().into_owned(),
            Ok(_) => {
                eprintln!("dxg-example: no dxg render node found");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("dxg-example: cannot list /dev/dri: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    verdict(run(&path, resident, fdinfo), "B holds the copy of A")
}

/// Print the outcome of a run and turn it into the exit status.
fn verdict(r: Result<bool, String>, pass: &str) -> ExitCode {
    match r {
        Ok(true) => {
            println!("PASS: {pass}");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            println!("FAIL: wrong bytes");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("dxg-example: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dxg_proto::cmdbuf::CmdIter;

    #[test]
    fn stream_decodes_as_fill_then_copy() {
        let mut buf = [0u8; 128];
        let n = build_stream(&mut buf).unwrap();
        assert_eq!(n, 64);
        let cmds: Vec<Cmd> = CmdIter::new(&buf[..n]).map(|r| r.unwrap().1).collect();
        assert_eq!(
            cmds,
            [
                Cmd::Fill {
                    gpu_va: VA_A,
                    length: BUF_SIZE,
                    value: VALUE
                },
                Cmd::Copy {
                    src_va: VA_A,
                    dst_va: VA_B,
                    length: BUF_SIZE
                }
            ]
        );
    }

    #[test]
    fn allocation_private_data_is_the_size() {
        assert_eq!(alloc_priv(BUF_SIZE).as_bytes(), BUF_SIZE.to_le_bytes());
    }

    #[test]
    fn mismatch_finder() {
        assert_eq!(first_mismatch(&[1, 1, 2], 1), Some((2, 2)));
        assert_eq!(first_mismatch(&[1, 1], 1), None);
    }
}
