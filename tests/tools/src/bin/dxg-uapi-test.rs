// SPDX-License-Identifier: GPL-2.0

//! `dxg-uapi-test SCENARIO [ARGS]`: checks of the dxg UAPI against the
//! software host (`dxg-host`), one subcommand per scenario. Every check is
//! printed as it runs (`check: ...`); the first failed one ends the program
//! with exit status 1 and a message naming it (`FAIL: ...`); `PASS` and exit
//! status 0 otherwise.
//!
//! * `errors NODE`: every dxg ioctl's success path and each documented
//!   error (size, flags, reserved, unknown ids, limits, bad pointers), the
//!   escape round trip, use after DEVICE_DESTROY, and that failed calls
//!   lose nothing.
//! * `prime NODE`: two processes (fork, own DRM files) share a buffer by
//!   PRIME fd and fences by syncobj fd and sync_file (SCM_RIGHTS); each
//!   fills the buffer on the GPU and the other sees it.
//! * `threads NODE...`: 16 threads per opened NODE submit concurrently
//!   (own and shared contexts); all fences signal, data verified.
//! * `close-inflight NODE`: close the DRM file, exit, and get SIGKILLed
//!   with submissions in flight (run the host with latencies); the fences
//!   complete, the adapter works afterwards.
//! * `engine NODE`: fdinfo `drm-engine-gpu` grows while a job is in flight
//!   (host held), counts overlapping contexts once, stops when idle;
//! * `unplug rescind|pci --gone CMD --back CMD`: with open files, live
//!   mappings and pending fences on every dxg node, run CMD (`sh -c`) to
//!   take one adapter away: its pending fences complete with an error, its
//!   mappings stay usable, every ioctl on its files fails with ENODEV, the
//!   other adapter keeps working; then `--back` brings it back and it
//!   works. For `pci`, `--gone`/`--back` may be `unbind`/`bind` (sysfs
//!   write of the first node's PCI function, done here with a timeout).
//! * `egl`: EGL device enumeration (libEGL via dlopen) lists every dxg
//!   render node.
//!
//! Buffers use the software host's conventions (`dxg_proto::model`,
//! `dxg_proto::cmdbuf`), so this only works against `dxg-host`.

use std::ffi::{c_char, c_void, CStr, CString};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use drm::control::Device as _;
use dxg_proto::cmdbuf::{Cmd, CmdWriter};
use dxg_proto::model::{ModelAllocPriv, ESCAPE_XOR, QAI_ADAPTERTYPE};
use dxg_proto::U64;
use dxg_uapi::*;
use nix::errno::Errno;
use zerocopy::IntoBytes;

type R<T = ()> = Result<T, String>;

/// GPU VAs: the host model accepts VAs from 4 GiB.
const VA_BASE: u64 = 0x1_0000_0000;
/// How long any fence may take (debug kernel under TCG is slow).
const TIMEOUT: Duration = Duration::from_secs(60);
/// An address no process has mapped (below mmap_min_addr).
const BAD_PTR: u64 = 0x1000;

// ---------------------------------------------------------------- output

fn check(what: &str) {
    println!("check: {what}");
}

fn note(what: &str) {
    println!("  -- {what}");
}

fn ename(e: i32) -> String {
    format!("{:?}", Errno::from_raw(e))
}

fn io_errno(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(0)
}

/// `what` must fail with `want`.
fn expect_err<T>(what: &str, r: io::Result<T>, want: i32) -> R {
    match r {
        Ok(_) => Err(format!("{what}: succeeded, expected {}", ename(want))),
        Err(e) if io_errno(&e) == want => {
            println!("  ok: {what} -> {}", ename(want));
            Ok(())
        }
        Err(e) => Err(format!(
            "{what}: got {} ({e}), expected {}",
            ename(io_errno(&e)),
            ename(want)
        )),
    }
}

/// A call that must fail: what it is, the call, the errno it must fail with.
type Call<'a> = (&'a str, &'a dyn Fn() -> io::Result<()>, i32);

/// Each call in turn must fail with its errno.
fn expect_calls(calls: &[Call<'_>]) -> R {
    for (what, f, want) in calls {
        expect_err(what, f(), *want)?;
    }
    Ok(())
}

/// `cases![T, base; (what, {field: value, ...}, ERRNO), ...]`: the rows of
/// an error table, `(what, args, errno)`, each `base` with those fields
/// changed (for [`expect_cases`]).
macro_rules! cases {
    ($t:ident, $base:expr; $(($what:expr, {$($f:ident: $v:expr),*}, $want:ident)),* $(,)?) => {
        [$(($what.to_string(), $t { $($f: $v,)* ..$base }, libc::$want)),*]
    };
}

/// Each row of `rows` in turn: `call(args)` must fail with its errno
/// (reported as `{ioctl} {what}`).
fn expect_cases<A, T>(
    ioctl: &str,
    rows: impl IntoIterator<Item = (String, A, i32)>,
    mut call: impl FnMut(A) -> io::Result<T>,
) -> R {
    for (what, a, want) in rows {
        expect_err(&format!("{ioctl} {what}"), call(a), want)?;
    }
    Ok(())
}

/// `what` must succeed.
fn expect_ok<T>(what: &str, r: io::Result<T>) -> R<T> {
    match r {
        Ok(v) => {
            println!("  ok: {what}");
            Ok(v)
        }
        Err(e) => Err(format!("{what}: failed with {} ({e})", ename(io_errno(&e)))),
    }
}

fn ensure(cond: bool, what: impl FnOnce() -> String) -> R {
    if cond {
        Ok(())
    } else {
        Err(what())
    }
}

fn nixr(r: nix::Result<i32>) -> io::Result<()> {
    r.map(|_| ()).map_err(io::Error::from)
}

// ---------------------------------------------------------------- GPU helpers

fn alloc_priv(size: u64) -> ModelAllocPriv {
    ModelAllocPriv {
        size: U64::new(size),
    }
}

fn create_bo<'n>(dev: &Device<'n>, size: u64) -> R<Bo<'n>> {
    dev.create_bo(size, alloc_priv(size).as_bytes())
        .map_err(|e| format!("GEM_CREATE {size} bytes: {e}"))
}

/// Writes `cmds` at `off` of the command buffer mapping; returns the length.
fn write_cmds(mc: &mut Mapping, off: usize, cmds: &[Cmd]) -> R<u64> {
    let buf = &mut mc.as_mut_slice()[off..];
    let mut w = CmdWriter::new(buf);
    for c in cmds {
        w.push(c).map_err(|e| format!("command buffer: {e:?}"))?;
    }
    Ok(w.len() as u64)
}

fn fill(va: u64, length: u64, value: u8) -> Cmd {
    Cmd::Fill {
        gpu_va: va,
        length,
        value,
    }
}

/// First offset where `bytes` differs from `want`.
fn verify(what: &str, bytes: &[u8], want: u8) -> R {
    match bytes.iter().position(|&b| b != want) {
        None => Ok(()),
        Some(i) => Err(format!(
            "{what}: byte {i:#x} of {} is {:#04x}, expected {want:#04x}",
            bytes.len(),
            bytes[i]
        )),
    }
}

/// A device, a context, a data buffer and a command buffer, bound and
/// mapped: enough to run FILLs and check them.
struct Rig<'n> {
    node: &'n Node,
    dev: &'n Device<'n>,
    ctx: Context<'n>,
    data: Bo<'n>,
    md: Mapping,
    cmd: Bo<'n>,
    mc: Mapping,
    data_va: u64,
    cmd_va: u64,
}

const RIG_DATA: u64 = 64 * 1024;
const RIG_CMD: u64 = 4096;

impl<'n> Rig<'n> {
    fn new(dev: &'n Device<'n>, va: u64) -> R<Self> {
        let node = dev.node();
        let ctx = dev
            .create_context(0, &[])
            .map_err(|e| format!("CONTEXT_CREATE: {e}"))?;
        let data = create_bo(dev, RIG_DATA)?;
        let cmd = create_bo(dev, RIG_CMD)?;
        let md = data.map().map_err(|e| format!("mmap data: {e}"))?;
        let mut mc = cmd.map().map_err(|e| format!("mmap cmd: {e}"))?;
        mc.as_mut_slice().fill(0);
        let data_va = va;
        let cmd_va = va + RIG_DATA;
        dev.vm_bind_map(&data, 0, data.size(), data_va)
            .map_err(|e| format!("VM_BIND data: {e}"))?;
        dev.vm_bind_map(&cmd, 0, cmd.size(), cmd_va)
            .map_err(|e| format!("VM_BIND cmd: {e}"))?;
        Ok(Rig {
            node,
            dev,
            ctx,
            data,
            md,
            cmd,
            mc,
            data_va,
            cmd_va,
        })
    }

    /// Submits FILL(data, value) in command slot `slot` (of 16) with
    /// out fences `signal`; does not wait.
    fn submit_fill(&mut self, slot: usize, value: u8, signal: &[SyncPoint]) -> io::Result<()> {
        let off = slot * 256;
        let len = write_cmds(&mut self.mc, off, &[fill(self.data_va, RIG_DATA, value)])
            .map_err(io::Error::other)?;
        self.ctx
            .submit(self.cmd_va + off as u64, len, &[], &[], signal)
    }

    /// FILL(data, value), wait, verify through the mapping.
    fn fill_check(&mut self, value: u8) -> R {
        let s = self
            .node
            .create_syncobj(false)
            .map_err(|e| format!("syncobj create: {e}"))?;
        self.submit_fill(0, value, &[s.binary()])
            .map_err(|e| format!("SUBMIT FILL {value:#x}: {e}"))?;
        s.wait(TIMEOUT)
            .map_err(|e| format!("wait for FILL {value:#x}: {e}"))?;
        verify("data after FILL", self.md.as_slice(), value)
    }
}

/// A whole FILL round trip on a fresh device of `node`.
fn node_works(node: &Node, value: u8) -> R {
    let dev = node
        .create_device()
        .map_err(|e| format!("DEVICE_CREATE: {e}"))?;
    let mut rig = Rig::new(&dev, VA_BASE)?;
    rig.fill_check(value)?;
    drop(rig);
    Ok(())
}

// ---------------------------------------------------------------- sync_file, fds

#[repr(C)]
#[derive(Default)]
struct SyncobjHandleArgs {
    handle: u32,
    flags: u32,
    fd: i32,
    pad: u32,
    point: u64,
}
nix::ioctl_readwrite!(drm_syncobj_fd_to_handle, b'd', 0xc2, SyncobjHandleArgs);
const DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE: u32 = 1;

/// Imports a sync_file into the existing syncobj `h` (replacing its fence).
fn import_sync_file(node: &Node, h: u32, fd: BorrowedFd<'_>) -> io::Result<()> {
    let mut a = SyncobjHandleArgs {
        handle: h,
        flags: DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE,
        fd: fd.as_raw_fd(),
        ..Default::default()
    };
    // SAFETY: a valid argument struct without pointers.
    nixr(unsafe { drm_syncobj_fd_to_handle(node.as_fd().as_raw_fd(), &mut a) })
}

#[repr(C)]
struct SyncFileInfo {
    name: [u8; 32],
    status: i32,
    flags: u32,
    num_fences: u32,
    pad: u32,
    sync_fence_info: u64,
}
nix::ioctl_readwrite!(sync_ioc_file_info, b'>', 4, SyncFileInfo);

/// The status of a sync_file's fence: 1 signaled, 0 pending, <0 error.
fn sync_file_status(fd: BorrowedFd<'_>) -> io::Result<i32> {
    let mut i = SyncFileInfo {
        name: [0; 32],
        status: 0,
        flags: 0,
        num_fences: 0,
        pad: 0,
        sync_fence_info: 0,
    };
    // SAFETY: num_fences 0: the kernel writes only the struct.
    nixr(unsafe { sync_ioc_file_info(fd.as_raw_fd(), &mut i) })?;
    Ok(i.status)
}

/// poll() `fd` for POLLIN up to `timeout`; true if readable.
fn poll_in(fd: BorrowedFd<'_>, timeout: Duration) -> io::Result<bool> {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut p, 1, ms) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r == 1 && p.revents & libc::POLLIN != 0)
}

/// Waits for a sync_file to signal; returns its final status.
fn sync_file_wait(fd: BorrowedFd<'_>, timeout: Duration) -> R<i32> {
    match poll_in(fd, timeout) {
        Ok(true) => sync_file_status(fd).map_err(|e| format!("SYNC_IOC_FILE_INFO: {e}")),
        Ok(false) => Err(format!("sync_file did not signal within {timeout:?}")),
        Err(e) => Err(format!("poll sync_file: {e}")),
    }
}

/// Sends `fd` with a one-byte `tag` over a unix socket (SCM_RIGHTS).
fn send_fd(sock: &UnixStream, tag: u8, fd: BorrowedFd<'_>) -> io::Result<()> {
    let mut b = [tag];
    let mut iov = libc::iovec {
        iov_base: b.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut cbuf = [0u64; 8];
    // SAFETY: msghdr is plain data; zero is a valid empty value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    // SAFETY: CMSG_SPACE is a pure computation.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(4) } as _;
    // SAFETY: msg_control points to cbuf (64 bytes, 8-aligned), larger
    // than CMSG_SPACE(4); the header and data written stay inside it.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(4) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<RawFd>(), fd.as_raw_fd());
    }
    // SAFETY: msg and everything it points to are live for the call.
    if unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, 0) } != 1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Receives a tagged fd sent by `send_fd`; checks the tag.
fn recv_fd(sock: &UnixStream, want_tag: u8) -> R<OwnedFd> {
    let mut b = [0u8];
    let mut iov = libc::iovec {
        iov_base: b.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut cbuf = [0u64; 8];
    // SAFETY: as in send_fd.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&cbuf) as _;
    // SAFETY: msg points to live buffers of the sizes it gives.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n != 1 {
        return Err(format!(
            "recvmsg for fd {want_tag:?}: {}",
            if n == 0 {
                "peer closed".to_string()
            } else {
                io::Error::last_os_error().to_string()
            }
        ));
    }
    if b[0] != want_tag {
        return Err(format!("expected fd tag {want_tag}, got {}", b[0]));
    }
    // SAFETY: the kernel filled the control buffer; CMSG_FIRSTHDR/DATA
    // stay within it, and an SCM_RIGHTS message carries a new fd we own.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        if c.is_null() || (*c).cmsg_type != libc::SCM_RIGHTS {
            return Err(format!("message {want_tag} carried no fd"));
        }
        let fd = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<RawFd>());
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

fn send_byte(sock: &mut UnixStream, b: u8) -> R {
    sock.write_all(&[b]).map_err(|e| format!("send {b}: {e}"))
}

fn recv_byte(sock: &mut UnixStream, want: u8) -> R {
    let mut b = [0u8];
    sock.read_exact(&mut b)
        .map_err(|e| format!("waiting for message {want}: {e}"))?;
    ensure(b[0] == want, || {
        format!("expected message {want}, got {}", b[0])
    })
}

// ---------------------------------------------------------------- processes

/// Forks; the child runs `f` and exits 0 on Ok, 1 (printing why) on Err.
fn fork_child(name: &str, f: impl FnOnce() -> R) -> R<libc::pid_t> {
    io::stdout().flush().ok();
    // SAFETY: the program is single-threaded when it forks (scenarios
    // fork before starting threads); the child only runs `f` and _exits.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", io::Error::last_os_error()));
    }
    if pid == 0 {
        let code = match f() {
            Ok(()) => 0,
            Err(e) => {
                println!("FAIL ({name}): {e}");
                1
            }
        };
        io::stdout().flush().ok();
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    Ok(pid)
}

/// Waits for `pid` up to `timeout`; returns the raw wait status.
fn wait_child(pid: libc::pid_t, timeout: Duration) -> R<i32> {
    let t0 = Instant::now();
    loop {
        let mut st = 0;
        // SAFETY: plain syscall on our child.
        let r = unsafe { libc::waitpid(pid, &mut st, libc::WNOHANG) };
        if r == pid {
            return Ok(st);
        }
        if r < 0 {
            return Err(format!("waitpid {pid}: {}", io::Error::last_os_error()));
        }
        if t0.elapsed() > timeout {
            return Err(format!("child {pid} did not exit within {timeout:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn child_ok(name: &str, st: i32) -> R {
    ensure(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0, || {
        format!("{name} failed (wait status {st:#x})")
    })
}

/// Runs `f` in a thread; fails if it does not finish within `timeout`.
fn with_timeout<T: Send + 'static>(
    what: &str,
    timeout: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> R<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(timeout)
        .map_err(|_| format!("{what}: did not return within {timeout:?} (hang)"))
}

// ---------------------------------------------------------------- errors

fn scenario_errors(path: &str) -> R {
    let node = Node::open(path).map_err(|e| format!("open {path}: {e}"))?;
    let fd = node.as_fd().as_raw_fd();

    check("QUERY_ADAPTER: success, size/flags/reserved");
    let mut q = DrmDxgQueryAdapter::default();
    expect_ok("QUERY_ADAPTER", node.query_adapter_raw(&mut q))?;
    ensure(q.uapi_version == DXG_UAPI_VERSION, || {
        format!("uapi_version {}", q.uapi_version)
    })?;
    let qs = q.size;
    #[rustfmt::skip]
    let rows = cases![DrmDxgQueryAdapter, DrmDxgQueryAdapter::default();
        ("size 0", {size: 0}, EINVAL),
        (format!("size {}", qs - 4), {size: qs - 4}, EINVAL),
        (format!("size {}", qs + 8), {size: qs + 8}, EINVAL),
        ("flags 1", {flags: 1}, EINVAL),
        ("reserved 1", {reserved: 1}, EINVAL),
    ];
    expect_cases("QUERY_ADAPTER", rows, |mut a| {
        node.query_adapter_raw(&mut a)
    })?;

    check("QUERY_ADAPTER_INFO: success and errors");
    let mut ty = [0u8; 4];
    expect_ok(
        "QUERY_ADAPTER_INFO adapter type",
        node.query_adapter_info(QAI_ADAPTERTYPE, &mut ty),
    )?;
    let good = std::mem::size_of::<DrmDxgQueryAdapterInfo>() as u32;
    let qibase = DrmDxgQueryAdapterInfo {
        size: good,
        type_: QAI_ADAPTERTYPE,
        data: ty.as_mut_ptr() as u64,
        data_size: 4,
        reserved: 0,
    };
    #[rustfmt::skip]
    let rows = cases![DrmDxgQueryAdapterInfo, qibase;
        ("size 0", {size: 0}, EINVAL),
        ("size+8", {size: good + 8}, EINVAL),
        ("reserved 1", {reserved: 1}, EINVAL),
        ("data_size DXG_QUERY_MAX+1", {data_size: DXG_QUERY_MAX as u32 + 1}, E2BIG),
        ("bad data pointer", {data: BAD_PTR}, EFAULT),
    ];
    expect_cases("QUERY_ADAPTER_INFO", rows, |mut a| {
        node.query_adapter_info_raw(&mut a)
    })?;
    expect_ok(
        "QUERY_ADAPTER_INFO still works",
        node.query_adapter_info(QAI_ADAPTERTYPE, &mut ty),
    )?;

    check("DEVICE_CREATE: success, size/flags/reserved");
    let dev = expect_ok("DEVICE_CREATE", node.create_device())?;
    let dsize = DrmDxgDeviceCreate::default().size;
    #[rustfmt::skip]
    let rows = cases![DrmDxgDeviceCreate, DrmDxgDeviceCreate::default();
        ("size 0", {size: 0}, EINVAL),
        ("size+4", {size: dsize + 4}, EINVAL),
        ("flags 1", {flags: 1}, EINVAL),
        ("reserved 1", {reserved: 1}, EINVAL),
    ];
    expect_cases("DEVICE_CREATE", rows, |mut a| {
        // SAFETY: a plain struct without pointers.
        nixr(unsafe { ioctl_device_create(fd, &mut a) })
    })?;

    check("DEVICE_DESTROY: unknown device, reserved");
    let dd = |device: u32, reserved: u32| {
        let a = DrmDxgDeviceDestroy { device, reserved };
        // SAFETY: a plain struct without pointers.
        nixr(unsafe { ioctl_device_destroy(fd, &a) })
    };
    expect_calls(&[
        (
            "DEVICE_DESTROY device 0xdead",
            &|| dd(0xdead, 0),
            libc::ENOENT,
        ),
        ("DEVICE_DESTROY device 0", &|| dd(0, 0), libc::ENOENT),
        (
            "DEVICE_DESTROY reserved 1 (live device)",
            &|| dd(dev.id(), 1),
            libc::EINVAL,
        ),
    ])?;

    check("CONTEXT_CREATE: success and errors");
    let ctx = expect_ok("CONTEXT_CREATE", dev.create_context(0, &[1, 2, 3, 4]))?;
    let cc = |a: DrmDxgContextCreate| {
        let mut a = a;
        // SAFETY: priv_data pointers are either live or deliberately bad
        // (the kernel must fail with EFAULT, it only reads them).
        nixr(unsafe { ioctl_context_create(fd, &mut a) })
    };
    let cbase = DrmDxgContextCreate {
        device: dev.id(),
        ..Default::default()
    };
    let big = vec![0u8; DXG_PRIV_MAX + 1];
    #[rustfmt::skip]
    let rows = cases![DrmDxgContextCreate, cbase;
        ("size 0", {size: 0}, EINVAL),
        ("size+8", {size: cbase.size + 8}, EINVAL),
        ("flags 1", {flags: 1}, EINVAL),
        ("reserved 1", {reserved: 1}, EINVAL),
        ("device 0xdead", {device: 0xdead}, ENOENT),
        ("priv_size DXG_PRIV_MAX+1", {priv_data: big.as_ptr() as u64, priv_size: big.len() as u32}, E2BIG),
        ("bad priv_data pointer", {priv_data: BAD_PTR, priv_size: 16}, EFAULT),
    ];
    expect_cases("CONTEXT_CREATE", rows, cc)?;

    check("CONTEXT_DESTROY: unknown context, reserved");
    let cd = |context: u32, reserved: u32| {
        let a = DrmDxgContextDestroy { context, reserved };
        // SAFETY: a plain struct without pointers.
        nixr(unsafe { ioctl_context_destroy(fd, &a) })
    };
    expect_calls(&[
        ("CONTEXT_DESTROY 0xdead", &|| cd(0xdead, 0), libc::ENOENT),
        (
            "CONTEXT_DESTROY reserved 1 (live context)",
            &|| cd(ctx.id(), 1),
            libc::EINVAL,
        ),
    ])?;

    check("GEM_CREATE: success and errors");
    let a = expect_ok(
        "GEM_CREATE A 64 KiB",
        dev.create_bo(RIG_DATA, alloc_priv(RIG_DATA).as_bytes()),
    )?;
    let cmd = expect_ok(
        "GEM_CREATE cmd 4 KiB",
        dev.create_bo(RIG_CMD, alloc_priv(RIG_CMD).as_bytes()),
    )?;
    let pr = alloc_priv(4096);
    let gbase = DrmDxgGemCreate {
        bo_size: 4096,
        device: dev.id(),
        priv_data: pr.as_bytes().as_ptr() as u64,
        priv_size: 8,
        ..Default::default()
    };
    let gc = |a: DrmDxgGemCreate| {
        let mut a = a;
        // SAFETY: as for CONTEXT_CREATE: pointers live or deliberately bad.
        let r = nixr(unsafe { ioctl_gem_create(fd, &mut a) });
        if r.is_ok() {
            let _ = node.close_buffer(drm::control::from_u32(a.handle).unwrap());
        }
        r
    };
    expect_ok("GEM_CREATE raw (then closed)", gc(gbase))?;
    #[rustfmt::skip]
    let rows = cases![DrmDxgGemCreate, gbase;
        ("size 0", {size: 0}, EINVAL),
        ("size+8", {size: gbase.size + 8}, EINVAL),
        ("flags 1", {flags: 1}, EINVAL),
        ("reserved 1", {reserved: 1}, EINVAL),
        ("bo_size 0", {bo_size: 0}, EINVAL),
        ("device 0xdead", {device: 0xdead}, ENOENT),
        ("priv_size DXG_PRIV_MAX+1", {priv_data: big.as_ptr() as u64, priv_size: big.len() as u32}, E2BIG),
        ("bad priv_data pointer", {priv_data: BAD_PTR}, EFAULT),
        ("bo_size 2^62", {bo_size: 1 << 62}, E2BIG),
    ];
    expect_cases("GEM_CREATE", rows, gc)?;

    check("GEM_MMAP_OFFSET: success, flags, unknown handle");
    expect_ok("GEM_MMAP_OFFSET A", node.gem_mmap_offset(a.handle()))?;
    let mo = |handle: u32, flags: u32| {
        let mut m = DrmDxgGemMmapOffset {
            handle,
            flags,
            offset: 0,
        };
        // SAFETY: a plain struct without pointers.
        nixr(unsafe { ioctl_gem_mmap_offset(fd, &mut m) })
    };
    expect_calls(&[
        (
            "GEM_MMAP_OFFSET flags 1",
            &|| mo(a.handle(), 1),
            libc::EINVAL,
        ),
        (
            "GEM_MMAP_OFFSET handle 0xdead",
            &|| mo(0xdead, 0),
            libc::ENOENT,
        ),
    ])?;
    let mut ma = expect_ok("mmap A", a.map())?;
    let mut mc = expect_ok("mmap cmd", cmd.map())?;
    ma.as_mut_slice().fill(0x11);
    mc.as_mut_slice().fill(0);

    check("VM_BIND: success and errors");
    let va_a = VA_BASE;
    let va_cmd = VA_BASE + 0x10_0000;
    expect_ok("VM_BIND MAP A", dev.vm_bind_map(&a, 0, a.size(), va_a))?;
    expect_ok(
        "VM_BIND MAP cmd",
        dev.vm_bind_map(&cmd, 0, cmd.size(), va_cmd),
    )?;
    let vbase = DrmDxgVmBind {
        op: DXG_VM_BIND_MAP,
        device: dev.id(),
        handle: a.handle(),
        offset: 0,
        range: 4096,
        va: VA_BASE + 0x20_0000,
        ..Default::default()
    };
    #[rustfmt::skip]
    let rows = cases![DrmDxgVmBind, vbase;
        ("size 0", {size: 0}, EINVAL),
        ("size+8", {size: vbase.size + 8}, EINVAL),
        ("flags 1", {flags: 1}, EINVAL),
        ("reserved 1", {reserved: 1}, EINVAL),
        ("op 7", {op: 7}, EINVAL),
        ("unaligned va", {va: vbase.va + 8}, EINVAL),
        ("unaligned offset", {offset: 512}, EINVAL),
        ("unaligned range", {range: 4095}, EINVAL),
        ("range 0", {range: 0}, EINVAL),
        ("range past the object", {offset: 4096, range: RIG_DATA}, EINVAL),
        ("device 0xdead", {device: 0xdead}, ENOENT),
        ("handle 0xdead", {handle: 0xdead}, ENOENT),
        ("UNMAP with a handle", {op: DXG_VM_BIND_UNMAP}, EINVAL),
    ];
    expect_cases("VM_BIND", rows, |b| dev.vm_bind_raw(&b))?;
    // A second mapping and its unmap succeed.
    expect_ok("VM_BIND MAP A again elsewhere", dev.vm_bind_raw(&vbase))?;
    expect_ok("VM_BIND UNMAP it", dev.vm_bind_unmap(vbase.va, vbase.range))?;

    check("SUBMIT: success and errors");
    let s_ok = expect_ok("syncobj create", node.create_syncobj(false))?;
    let len = write_cmds(&mut mc, 0, &[fill(va_a, RIG_DATA, 0x22)])?;
    expect_ok(
        "SUBMIT FILL(A, 0x22)",
        ctx.submit(va_cmd, len, &[], &[], &[s_ok.binary()]),
    )?;
    expect_ok("wait for it", s_ok.wait(TIMEOUT))?;
    verify("A after FILL 0x22", ma.as_slice(), 0x22)?;
    let s2 = expect_ok("syncobj create (fresh)", node.create_syncobj(false))?;
    let sync = |handle: u32, flags: u32| DrmDxgSync {
        handle,
        flags,
        point: 0,
    };
    let out_ok = [sync(s2.raw(), 0)];
    let out_mixed = [sync(s2.raw(), 0), sync(0xdead, 0)];
    let out_flags = [sync(s2.raw(), 1)];
    let in_bad = [sync(0xdead, 0)];
    let many: Vec<DrmDxgSync> = vec![out_ok[0]; DXG_MAX_SYNCS + 1];
    let sbase = DrmDxgSubmit {
        context: ctx.id(),
        cmd_va: va_cmd,
        cmd_size: len,
        num_out_syncs: 1,
        out_syncs: out_ok.as_ptr() as u64,
        ..Default::default()
    };
    let sub = |a: &DrmDxgSubmit| {
        // SAFETY: every pointer below is live or deliberately bad; the
        // kernel only reads through them.
        nixr(unsafe { ioctl_submit(fd, a) })
    };
    #[rustfmt::skip]
    let rows = cases![DrmDxgSubmit, sbase;
        ("size 0", {size: 0}, EINVAL),
        ("size+8", {size: sbase.size + 8}, EINVAL),
        ("flags 1", {flags: 1}, EINVAL),
        ("reserved 1", {reserved: 1}, EINVAL),
        ("reserved2 1", {reserved2: 1}, EINVAL),
        ("context 0xdead", {context: 0xdead}, ENOENT),
        ("priv_size DXG_PRIV_MAX+1", {priv_data: big.as_ptr() as u64, priv_size: big.len() as u32}, E2BIG),
        ("bad priv_data pointer", {priv_data: BAD_PTR, priv_size: 16}, EFAULT),
        ("num_out_syncs DXG_MAX_SYNCS+1", {num_out_syncs: many.len() as u32, out_syncs: many.as_ptr() as u64}, E2BIG),
        ("num_in_syncs DXG_MAX_SYNCS+1", {num_in_syncs: many.len() as u32, in_syncs: many.as_ptr() as u64}, E2BIG),
        ("bad out_syncs pointer", {out_syncs: BAD_PTR}, EFAULT),
        ("bad in_syncs pointer", {num_in_syncs: 1, in_syncs: BAD_PTR}, EFAULT),
        ("out sync flags 1", {out_syncs: out_flags.as_ptr() as u64}, EINVAL),
        ("out syncs [good, 0xdead]", {num_out_syncs: 2, out_syncs: out_mixed.as_ptr() as u64}, ENOENT),
        ("in sync 0xdead", {num_in_syncs: 1, in_syncs: in_bad.as_ptr() as u64}, ENOENT),
    ];
    expect_cases("SUBMIT", rows, |a| sub(&a))?;
    check("a failed SUBMIT attached no fence to its good out syncobj");
    match wait_no_submit(&node, &s2).map_err(|e| io_errno(&e)) {
        Err(libc::EINVAL) => note("fresh syncobj still has no fence (wait: EINVAL)"),
        Err(e) => return Err(format!("syncobj of failed submits: wait gave {}", ename(e))),
        Ok(()) => return Err("syncobj of failed submits got a (signaled) fence".into()),
    }

    check("ESCAPE: XOR round trip (adapter, device, context) and errors");
    for (what, r) in [("adapter", 0), ("device", 1), ("context", 2)] {
        let orig: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
        let mut buf = orig.clone();
        let res = match r {
            0 => node.escape(0, &mut buf),
            1 => dev.escape(0, &mut buf),
            _ => ctx.escape(0, &mut buf),
        };
        expect_ok(&format!("ESCAPE {what}"), res)?;
        ensure(
            buf.iter().zip(&orig).all(|(b, o)| *b == o ^ ESCAPE_XOR),
            || format!("ESCAPE {what}: reply is not the data XOR {ESCAPE_XOR:#x}"),
        )?;
    }
    let mut ebuf = [0u8; 16];
    let ebase = DrmDxgEscape {
        device: dev.id(),
        context: ctx.id(),
        data: ebuf.as_mut_ptr() as u64,
        data_size: 16,
        ..Default::default()
    };
    let esc = |a: &DrmDxgEscape| {
        // SAFETY: data is ebuf/big (live) or deliberately bad.
        nixr(unsafe { ioctl_escape(fd, a) })
    };
    let mut bigm = vec![0u8; DXG_PRIV_MAX + 1];
    #[rustfmt::skip]
    let rows = cases![DrmDxgEscape, ebase;
        ("size 0", {size: 0}, EINVAL),
        ("size+8", {size: ebase.size + 8}, EINVAL),
        ("flags 1", {flags: 1}, EINVAL),
        ("data_size 0", {data_size: 0}, EINVAL),
        ("data_size DXG_PRIV_MAX+1", {data: bigm.as_mut_ptr() as u64, data_size: bigm.len() as u32}, E2BIG),
        ("bad data pointer", {data: BAD_PTR}, EFAULT),
        ("device 0xdead", {device: 0xdead, context: 0}, ENOENT),
        ("context 0xdead", {context: 0xdead}, ENOENT),
    ];
    expect_cases("ESCAPE", rows, |a| esc(&a))?;

    check("RESIDENCY: success and errors");
    expect_ok(
        "RESIDENCY make resident A, cmd",
        dev.make_resident(&[&a, &cmd]),
    )?;
    expect_ok("RESIDENCY evict A, cmd", dev.evict(&[&a, &cmd]))?;
    let hs = [a.handle()];
    let bad_h = [0xdeadu32];
    let many_h = vec![a.handle(); DXG_MAX_RESIDENCY + 1];
    let rbase = DrmDxgResidency {
        device: dev.id(),
        count: 1,
        handles: hs.as_ptr() as u64,
        ..Default::default()
    };
    let res = |a: &DrmDxgResidency| {
        // SAFETY: handles live or deliberately bad; only read.
        nixr(unsafe { ioctl_residency(fd, a) })
    };
    let dev2 = expect_ok("DEVICE_CREATE second device", node.create_device())?;
    #[rustfmt::skip]
    let rows = cases![DrmDxgResidency, rbase;
        ("size 0", {size: 0}, EINVAL),
        ("size+8", {size: rbase.size + 8}, EINVAL),
        ("reserved 1", {reserved: 1}, EINVAL),
        ("op 9", {op: 9}, EINVAL),
        ("count 0", {count: 0}, EINVAL),
        ("count DXG_MAX_RESIDENCY+1", {count: many_h.len() as u32, handles: many_h.as_ptr() as u64}, E2BIG),
        ("bad handles pointer", {handles: BAD_PTR}, EFAULT),
        ("device 0xdead", {device: 0xdead}, ENOENT),
        ("GEM handle 0xdead", {handles: bad_h.as_ptr() as u64}, ENOENT),
        ("object without an allocation in that device", {device: dev2.id()}, ENOENT),
    ];
    expect_cases("RESIDENCY", rows, |a| res(&a))?;

    check("DEVICE_DESTROY, then everything naming it fails with ENOENT");
    let d2 = dev2.id();
    let c2 = {
        let mut a = DrmDxgContextCreate {
            device: d2,
            ..Default::default()
        };
        // SAFETY: a plain struct, no private data.
        expect_ok(
            "CONTEXT_CREATE in device 2",
            nixr(unsafe { ioctl_context_create(fd, &mut a) }),
        )?;
        a.context
    };
    let b2 = {
        let mut a = DrmDxgGemCreate {
            device: d2,
            ..gbase
        };
        // SAFETY: priv_data points to `pr` (8 bytes).
        expect_ok(
            "GEM_CREATE in device 2",
            nixr(unsafe { ioctl_gem_create(fd, &mut a) }),
        )?;
        a.handle
    };
    expect_ok(
        "VM_BIND MAP in device 2",
        dev2.vm_bind_raw(&DrmDxgVmBind {
            device: d2,
            handle: b2,
            // GPU VA spaces are per host process (DRM file), not device.
            va: VA_BASE + 0x80_0000,
            ..vbase
        }),
    )?;
    expect_ok("DEVICE_DESTROY device 2", dd(d2, 0))?;
    let b2s = [b2];
    let e = libc::ENOENT;
    #[rustfmt::skip]
    expect_calls(&[
        ("DEVICE_DESTROY device 2 again", &|| dd(d2, 0), e),
        ("CONTEXT_CREATE in destroyed device", &|| cc(DrmDxgContextCreate { device: d2, ..cbase }), e),
        ("GEM_CREATE in destroyed device", &|| gc(DrmDxgGemCreate { device: d2, ..gbase }), e),
        ("VM_BIND in destroyed device", &|| {
            dev.vm_bind_raw(&DrmDxgVmBind { device: d2, handle: b2, va: VA_BASE + 0x40_0000, ..vbase })
        }, e),
        ("SUBMIT on context of destroyed device", &|| sub(&DrmDxgSubmit { context: c2, ..sbase }), e),
        ("CONTEXT_DESTROY context of destroyed device", &|| cd(c2, 0), e),
        ("ESCAPE in destroyed device", &|| esc(&DrmDxgEscape { device: d2, context: 0, ..ebase }), e),
        ("RESIDENCY in destroyed device", &|| {
            res(&DrmDxgResidency { device: d2, handles: b2s.as_ptr() as u64, ..rbase })
        }, e),
    ])?;
    // The GEM object of the destroyed device stays (it belongs to the file).
    let off = expect_ok(
        "GEM_MMAP_OFFSET of device 2's object still works",
        node.gem_mmap_offset(b2),
    )?;
    let _ = off;
    expect_ok(
        "GEM_CLOSE device 2's object",
        node.close_buffer(drm::control::from_u32(b2).unwrap()),
    )?;
    std::mem::forget(dev2); // already destroyed

    check("after all those failures the device, context and objects still work");
    let s3 = expect_ok("syncobj create", node.create_syncobj(false))?;
    let len = write_cmds(
        &mut mc,
        0,
        &[
            fill(va_a, RIG_DATA / 2, 0x44),
            Cmd::Copy {
                src_va: va_a,
                dst_va: va_a + RIG_DATA / 2,
                length: RIG_DATA / 2,
            },
        ],
    )?;
    expect_ok(
        "SUBMIT FILL+COPY",
        ctx.submit(va_cmd, len, &[], &[], &[s3.binary()]),
    )?;
    expect_ok("wait", s3.wait(TIMEOUT))?;
    verify("A after FILL+COPY", ma.as_slice(), 0x44)?;
    // And the syncobj of the failed submissions is usable.
    expect_ok(
        "SUBMIT with the failed submissions' syncobj",
        ctx.submit(va_cmd, len, &[], &[], &[s2.binary()]),
    )?;
    expect_ok("wait", s2.wait(TIMEOUT))?;
    let mut e = [5u8; 8];
    expect_ok("ESCAPE", ctx.escape(0, &mut e))?;
    ensure(e == [5 ^ ESCAPE_XOR; 8], || "ESCAPE reply".into())?;

    check("CONTEXT_DESTROY and GEM_CLOSE, then the ids are gone");
    let cid = ctx.id();
    drop(ctx);
    #[rustfmt::skip]
    expect_calls(&[
        ("CONTEXT_DESTROY destroyed context", &|| cd(cid, 0), libc::ENOENT),
        ("SUBMIT on destroyed context", &|| sub(&DrmDxgSubmit { context: cid, ..sbase }), libc::ENOENT),
    ])?;
    let ah = a.handle();
    expect_ok("VM_BIND UNMAP A", dev.vm_bind_unmap(va_a, RIG_DATA))?;
    drop(a);
    expect_err("GEM_MMAP_OFFSET of closed object", mo(ah, 0), libc::ENOENT)?;
    // The CPU mapping outlives the handle.
    ma.as_mut_slice()[0] = 0x99;
    ensure(ma.as_slice()[0] == 0x99, || "mapping after close".into())?;
    expect_err(
        "RESIDENCY closed object",
        res(&DrmDxgResidency {
            handles: [ah].as_ptr() as u64,
            ..rbase
        }),
        libc::ENOENT,
    )?;
    drop((ma, mc, cmd));
    drop(dev);
    Ok(())
}

/// Waits with timeout 0 and without WAIT_FOR_SUBMIT: EINVAL if the
/// syncobj has no fence.
fn wait_no_submit(node: &Node, s: &Syncobj<'_>) -> io::Result<()> {
    node.syncobj_wait(&[s.handle()], 0, true, false).map(|_| ())
}

// ---------------------------------------------------------------- prime

fn scenario_prime(path: &str) -> R {
    let (mut ps, mut cs) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
    const X_VA: u64 = VA_BASE;
    let child_path = path.to_string();
    let child = fork_child("prime child", move || {
        let node = Node::open(&child_path).map_err(|e| format!("child open: {e}"))?;
        let dev = node
            .create_device()
            .map_err(|e| format!("child DEVICE_CREATE: {e}"))?;
        let mut rig = Rig::new(&dev, VA_BASE + 0x100_0000)?;
        check("[child] import the PRIME fd, map it, see the parent's bytes");
        let xfd = recv_fd(&cs, 1)?;
        let x = expect_ok("[child] PRIME import", node.import_bo(xfd.as_fd()))?;
        ensure(x.size() == RIG_DATA, || {
            format!("imported size {}", x.size())
        })?;
        let mx = expect_ok("[child] mmap imported object", x.map())?;
        verify("[child] imported object", mx.as_slice(), 0x11)?;
        expect_ok(
            "[child] VM_BIND MAP imported object in own device",
            dev.vm_bind_map(&x, 0, x.size(), X_VA),
        )?;
        check("[child] import the syncobj fd; FILL(X, 0x77) signals it");
        let sfd = recv_fd(&cs, 2)?;
        let s = expect_ok(
            "[child] syncobj fd import",
            node.fd_to_syncobj(sfd.as_fd(), false),
        )?;
        let len = write_cmds(&mut rig.mc, 0, &[fill(X_VA, RIG_DATA, 0x77)])?;
        expect_ok(
            "[child] SUBMIT FILL(X, 0x77) -> shared syncobj",
            rig.ctx.submit(
                rig.cmd_va,
                len,
                &[],
                &[],
                &[SyncPoint {
                    handle: s.into(),
                    point: 0,
                }],
            ),
        )?;
        send_byte(&mut cs, 3)?;
        check("[child] import the parent's sync_file, wait, see FILL(X, 0x33)");
        let ffd = recv_fd(&cs, 4)?;
        let st = sync_file_wait(ffd.as_fd(), TIMEOUT)?;
        ensure(st == 1, || {
            format!("[child] parent's sync_file status {st}")
        })?;
        let u = expect_ok("[child] syncobj create", node.create_syncobj(false))?;
        expect_ok(
            "[child] import sync_file into syncobj",
            import_sync_file(&node, u.raw(), ffd.as_fd()),
        )?;
        expect_ok("[child] wait imported fence", u.wait(TIMEOUT))?;
        verify("[child] X after parent's FILL", mx.as_slice(), 0x33)?;
        check("[child] FILL(X, 0x55); export its fence as sync_file to the parent");
        let v = expect_ok("[child] syncobj create", node.create_syncobj(false))?;
        let len = write_cmds(&mut rig.mc, 256, &[fill(X_VA, RIG_DATA, 0x55)])?;
        expect_ok(
            "[child] SUBMIT FILL(X, 0x55)",
            rig.ctx
                .submit(rig.cmd_va + 256, len, &[], &[], &[v.binary()]),
        )?;
        let vf = expect_ok("[child] export sync_file", v.to_fd(true))?;
        send_fd(&cs, 5, vf.as_fd()).map_err(|e| format!("[child] send sync_file: {e}"))?;
        recv_byte(&mut cs, 6)?;
        rig.fill_check(0x66)?; // own buffer, still fine
        dev.vm_bind_unmap(X_VA, RIG_DATA)
            .map_err(|e| format!("[child] unmap X: {e}"))?;
        Ok(())
    })?;

    let node = Node::open(path).map_err(|e| format!("open {path}: {e}"))?;
    let dev = node
        .create_device()
        .map_err(|e| format!("DEVICE_CREATE: {e}"))?;
    let mut rig = Rig::new(&dev, VA_BASE)?;
    check("export the buffer by PRIME and a syncobj by fd to the other process");
    rig.md.as_mut_slice().fill(0x11);
    let xfd = expect_ok("PRIME export", rig.data.export())?;
    send_fd(&ps, 1, xfd.as_fd()).map_err(|e| format!("send PRIME fd: {e}"))?;
    let s = expect_ok("syncobj create", node.create_syncobj(false))?;
    let sfd = expect_ok("syncobj export (fd)", s.to_fd(false))?;
    send_fd(&ps, 2, sfd.as_fd()).map_err(|e| format!("send syncobj fd: {e}"))?;
    check("wait on the shared syncobj: the other process's FILL is in our mmap");
    recv_byte(&mut ps, 3)?;
    expect_ok("wait shared syncobj", s.wait(TIMEOUT))?;
    verify("X after child's FILL 0x77", rig.md.as_slice(), 0x77)?;
    check("FILL(X, 0x33) here, its fence to the other process as sync_file");
    let t = expect_ok("syncobj create", node.create_syncobj(false))?;
    rig.submit_fill(1, 0x33, &[t.binary()])
        .map_err(|e| format!("SUBMIT FILL 0x33: {e}"))?;
    let tf = expect_ok("export sync_file", t.to_fd(true))?;
    send_fd(&ps, 4, tf.as_fd()).map_err(|e| format!("send sync_file: {e}"))?;
    check("import the other process's sync_file, wait for it");
    let vf = recv_fd(&ps, 5)?;
    let st = sync_file_wait(vf.as_fd(), TIMEOUT)?;
    ensure(st == 1, || format!("child's sync_file status {st}"))?;
    let w = expect_ok("syncobj create", node.create_syncobj(false))?;
    expect_ok(
        "import sync_file into syncobj",
        import_sync_file(&node, w.raw(), vf.as_fd()),
    )?;
    expect_ok("wait imported fence", w.wait(TIMEOUT))?;
    verify("X after child's FILL 0x55", rig.md.as_slice(), 0x55)?;
    check("submit that waits on the imported foreign fence (in-sync)");
    let z = expect_ok("syncobj create", node.create_syncobj(false))?;
    let len = write_cmds(&mut rig.mc, 512, &[fill(rig.data_va, RIG_DATA, 0x3c)])?;
    expect_ok(
        "SUBMIT with in-sync from the other process",
        rig.ctx
            .submit(rig.cmd_va + 512, len, &[], &[w.binary()], &[z.binary()]),
    )?;
    expect_ok("wait", z.wait(TIMEOUT))?;
    verify("X after FILL 0x3c", rig.md.as_slice(), 0x3c)?;
    send_byte(&mut ps, 6)?;
    child_ok("prime child", wait_child(child, TIMEOUT)?)?;
    drop(rig);
    Ok(())
}

// ---------------------------------------------------------------- threads

const THREADS: usize = 16;
const SLOTS: usize = 8;
const ROUNDS: usize = 3;

fn thread_work(dev: &Device<'_>, shared: &Context<'_>, fdi: usize, t: usize) -> R<usize> {
    let node = dev.node();
    let own;
    let ctx = if t.is_multiple_of(2) {
        own = dev
            .create_context(0, &[])
            .map_err(|e| format!("fd {fdi} thread {t}: CONTEXT_CREATE: {e}"))?;
        &own
    } else {
        shared
    };
    let size = SLOTS as u64 * 4096;
    let data = create_bo(dev, size)?;
    let cmd = create_bo(dev, 4096)?;
    let va = VA_BASE + t as u64 * 0x10_0000;
    let cva = va + 0x8_0000;
    dev.vm_bind_map(&data, 0, size, va)
        .map_err(|e| format!("fd {fdi} thread {t}: VM_BIND: {e}"))?;
    dev.vm_bind_map(&cmd, 0, 4096, cva)
        .map_err(|e| format!("fd {fdi} thread {t}: VM_BIND cmd: {e}"))?;
    let md = data.map().map_err(|e| format!("mmap: {e}"))?;
    let mut mc = cmd.map().map_err(|e| format!("mmap: {e}"))?;
    let s = node
        .create_syncobj(false)
        .map_err(|e| format!("syncobj: {e}"))?;
    let mut point = 0;
    let mut n = 0;
    for round in 0..ROUNDS {
        let val = |k: usize| (fdi * 64 + t * 4 + round * 17 + k * 29) as u8;
        for k in 0..SLOTS {
            let len = write_cmds(
                &mut mc,
                k * 256,
                &[fill(va + k as u64 * 4096, 4096, val(k))],
            )?;
            point += 1;
            ctx.submit(cva + k as u64 * 256, len, &[], &[], &[s.at(point)])
                .map_err(|e| format!("fd {fdi} thread {t} round {round} slot {k}: SUBMIT: {e}"))?;
            n += 1;
        }
        for p in point + 1 - SLOTS as u64..=point {
            s.wait_point(p, TIMEOUT)
                .map_err(|e| format!("fd {fdi} thread {t} round {round}: wait point {p}: {e}"))?;
        }
        for k in 0..SLOTS {
            verify(
                &format!("fd {fdi} thread {t} round {round} slot {k}"),
                &md.as_slice()[k * 4096..(k + 1) * 4096],
                val(k),
            )?;
        }
    }
    let q = s.query().map_err(|e| format!("query: {e}"))?;
    ensure(q >= point, || {
        format!("fd {fdi} thread {t}: timeline at {q}, below {point}")
    })?;
    dev.vm_bind_unmap(va, size)
        .map_err(|e| format!("unmap: {e}"))?;
    dev.vm_bind_unmap(cva, 4096)
        .map_err(|e| format!("unmap: {e}"))?;
    Ok(n)
}

fn scenario_threads(paths: &[String]) -> R {
    let nodes: Vec<Node> = paths
        .iter()
        .map(|p| Node::open(p).map_err(|e| format!("open {p}: {e}")))
        .collect::<R<_>>()?;
    let devs: Vec<Device<'_>> = nodes
        .iter()
        .map(|n| n.create_device().map_err(|e| format!("DEVICE_CREATE: {e}")))
        .collect::<R<_>>()?;
    let shared: Vec<Context<'_>> = devs
        .iter()
        .map(|d| {
            d.create_context(0, &[])
                .map_err(|e| format!("CONTEXT_CREATE: {e}"))
        })
        .collect::<R<_>>()?;
    check(&format!(
        "{THREADS} threads on each of {} fds ({}), even threads with own contexts, odd ones sharing one; {ROUNDS} rounds of {SLOTS} FILL submissions each, all fences waited and data verified",
        nodes.len(),
        paths.join(" ")
    ));
    let t0 = Instant::now();
    let results: Vec<R<usize>> = std::thread::scope(|sc| {
        let mut hs = Vec::new();
        for (fdi, (d, c)) in devs.iter().zip(&shared).enumerate() {
            for t in 0..THREADS {
                hs.push(sc.spawn(move || thread_work(d, c, fdi, t)));
            }
        }
        hs.into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("thread panicked".into())))
            .collect()
    });
    let mut total = 0;
    for r in results {
        total += r?;
    }
    note(&format!(
        "{total} submissions by {} threads in {:.1} s",
        THREADS * nodes.len(),
        t0.elapsed().as_secs_f64()
    ));
    check("each fd still works after the storm");
    for (d, n) in devs.iter().zip(paths) {
        let mut rig = Rig::new(d, VA_BASE + 0x1000_0000)?;
        rig.fill_check(0xe1).map_err(|e| format!("{n}: {e}"))?;
    }
    Ok(())
}

// ---------------------------------------------------------------- close-inflight

/// Sets up and submits `n` FILLs on a fresh device of `node`, without
/// waiting; returns a sync_file of the last one.
fn inflight<'n>(rig: &mut Rig<'n>, n: usize) -> R<OwnedFd> {
    let s = rig
        .node
        .create_syncobj(false)
        .map_err(|e| format!("syncobj: {e}"))?;
    for k in 0..n {
        rig.submit_fill(k, 0x40 + k as u8, &[s.at(k as u64 + 1)])
            .map_err(|e| format!("SUBMIT {k}: {e}"))?;
    }
    // The export takes the fence of the last point (the chain head).
    let f = s
        .to_fd(true)
        .map_err(|e| format!("sync_file export: {e}"))?;
    std::mem::forget(s);
    Ok(f)
}

/// `drm-engine-gpu` of the DRM file `node`, in ns.
fn engine_ns(node: &Node) -> Result<u64, String> {
    let fd = node.as_fd().as_raw_fd();
    let text = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}"))
        .map_err(|e| format!("reading fdinfo: {e}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix("drm-engine-gpu:"))
        .and_then(|v| v.trim().strip_suffix("ns"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("fdinfo has no drm-engine-gpu in ns:\n{text}"))
}

/// Send one control command to the host model.
fn host_ctl(cmd: &str) -> R {
    let sock = std::env::var("DXG_HOST_SOCK").unwrap_or_else(|_| "/run/dxg-host.sock".into());
    let out = std::process::Command::new("dxg-host")
        .args(["ctl", "--control", &sock])
        .args(cmd.split_whitespace())
        .output()
        .map_err(|e| format!("dxg-host ctl {cmd}: {e}"))?;
    ensure(out.status.success(), || {
        format!(
            "dxg-host ctl {cmd}: {}",
            String::from_utf8_lossy(&out.stdout).trim()
        )
    })
}

/// `engine NODE`: fdinfo's drm-engine-gpu as gputop reads it. With the
/// host held, one job in flight makes the engine time grow (a client
/// with a long job is not idle); two contexts with a job each make it
/// grow no faster than wall-clock time (overlap counts once); once the
/// work is done it stops growing.
fn scenario_engine(path: &str) -> R {
    let node = Node::open(path).map_err(|e| format!("open: {e}"))?;
    let dev = node
        .create_device()
        .map_err(|e| format!("DEVICE_CREATE: {e}"))?;
    let mut a = Rig::new(&dev, VA_BASE)?;
    let mut b = Rig::new(&dev, VA_BASE + 0x100_0000)?;
    a.fill_check(0x11)?;
    let idle0 = engine_ns(&node)?;
    std::thread::sleep(Duration::from_millis(300));
    let idle1 = engine_ns(&node)?;
    ensure(idle1 == idle0, || {
        format!("engine time grew while idle: {idle0} -> {idle1} ns")
    })?;

    check("one job held on the host: the engine is busy");
    host_ctl("hold")?;
    let sa = node.create_syncobj(false).map_err(|e| format!("syncobj: {e}"))?;
    let r = a.submit_fill(1, 0x22, &[sa.binary()]);
    if let Err(e) = r {
        let _ = host_ctl("release");
        return Err(format!("SUBMIT: {e}"));
    }
    std::thread::sleep(Duration::from_millis(500));
    let busy0 = engine_ns(&node)?;
    std::thread::sleep(Duration::from_millis(500));
    let busy1 = engine_ns(&node)?;
    note(&format!("engine ns while held: {idle1} -> {busy0} -> {busy1}"));
    if busy1 <= busy0 || busy0 <= idle1 {
        let _ = host_ctl("release");
        return Err(format!(
            "engine time does not grow while a job is in flight: {idle1} -> {busy0} -> {busy1}"
        ));
    }

    check("a second context's job overlaps: counted once");
    let sb = node.create_syncobj(false).map_err(|e| format!("syncobj: {e}"))?;
    let r = b.submit_fill(1, 0x33, &[sb.binary()]);
    if let Err(e) = r {
        let _ = host_ctl("release");
        return Err(format!("SUBMIT on the second context: {e}"));
    }
    let (t0, e0) = (Instant::now(), engine_ns(&node)?);
    std::thread::sleep(Duration::from_millis(1000));
    let (e1, wall) = (engine_ns(&node)?, t0.elapsed());
    host_ctl("release")?;
    let wall_ns = wall.as_nanos() as u64;
    note(&format!(
        "two contexts busy: engine +{} ns in {} ns of wall-clock time",
        e1 - e0,
        wall_ns
    ));
    ensure(e1 - e0 <= wall_ns, || {
        format!(
            "engine time grew by {} ns in {} ns: overlapping jobs counted twice",
            e1 - e0,
            wall_ns
        )
    })?;
    sa.wait(TIMEOUT).map_err(|e| format!("wait A: {e}"))?;
    sb.wait(TIMEOUT).map_err(|e| format!("wait B: {e}"))?;

    check("after the work is done the engine time stops growing");
    let d0 = engine_ns(&node)?;
    std::thread::sleep(Duration::from_millis(300));
    let d1 = engine_ns(&node)?;
    ensure(d1 == d0 && d0 >= e1, || {
        format!("engine time after completion: {e1} -> {d0} -> {d1}")
    })?;
    Ok(())
}

fn scenario_close_inflight(path: &str) -> R {
    check("close the DRM file with submissions in flight (no destroy ioctls first)");
    // Nothing here is dropped: the kernel objects die with the file, which
    // is closed by fd; the Rust wrappers are leaked.
    let node = std::mem::ManuallyDrop::new(Node::open(path).map_err(|e| format!("open: {e}"))?);
    let dev = std::mem::ManuallyDrop::new(
        node.create_device()
            .map_err(|e| format!("DEVICE_CREATE: {e}"))?,
    );
    let mut rig = Rig::new(&dev, VA_BASE)?;
    let f = inflight(&mut rig, 4)?;
    let st = sync_file_status(f.as_fd()).map_err(|e| format!("FILE_INFO: {e}"))?;
    note(&format!(
        "last fence status before close: {st} (0 = pending)"
    ));
    let Rig {
        ctx,
        data,
        md,
        cmd,
        mc,
        ..
    } = rig;
    std::mem::forget((ctx, data, cmd));
    let raw = node.as_fd().as_raw_fd();
    let t0 = Instant::now();
    // SAFETY: closes the DRM file's fd; nothing uses it afterwards (the
    // wrappers holding it are leaked).
    let r = with_timeout("close(DRM fd)", TIMEOUT, move || unsafe {
        libc::close(raw)
    })?;
    ensure(r == 0, || format!("close: {}", io::Error::last_os_error()))?;
    note(&format!(
        "close returned after {:.2} s",
        t0.elapsed().as_secs_f64()
    ));
    let st = sync_file_wait(f.as_fd(), TIMEOUT)?;
    note(&format!(
        "the in-flight fence completed after close with status {st}{}",
        if st < 0 {
            format!(" ({})", ename(-st))
        } else {
            String::new()
        }
    ));
    ensure(st != 0, || "fence still pending".into())?;
    check("the mappings of the closed file stay usable");
    let mut md = md;
    let b = md.as_slice()[100];
    md.as_mut_slice()[100] = b ^ 1;
    ensure(md.as_slice()[100] == b ^ 1, || {
        "write through mapping lost".into()
    })?;
    drop((md, mc));

    check("a process exits with submissions in flight (and one in the SUBMIT ioctl)");
    let (mut ps, mut cs) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
    let p = path.to_string();
    let child = fork_child("exiting child", move || {
        let node = Node::open(&p).map_err(|e| format!("open: {e}"))?;
        let dev = node
            .create_device()
            .map_err(|e| format!("DEVICE_CREATE: {e}"))?;
        let mut rig = Rig::new(&dev, VA_BASE)?;
        let f = inflight(&mut rig, 4)?;
        send_fd(&cs, 1, f.as_fd()).map_err(|e| format!("send: {e}"))?;
        // One more submission from a second thread, blocked in the ioctl
        // by the host's reply latency while the process exits.
        let ctx_id = rig.ctx.id();
        let cmd_va = rig.cmd_va;
        let fd = node.as_fd().as_raw_fd();
        std::thread::spawn(move || loop {
            let a = DrmDxgSubmit {
                context: ctx_id,
                cmd_va,
                cmd_size: 32,
                ..Default::default()
            };
            // SAFETY: no pointers in `a`; the fd stays open until exit.
            let _ = unsafe { ioctl_submit(fd, &a) };
        });
        std::thread::sleep(Duration::from_millis(100));
        send_byte(&mut cs, 2)?;
        io::stdout().flush().ok();
        // SAFETY: exit the whole process now, submissions in flight.
        unsafe { libc::_exit(0) };
    })?;
    let f = recv_fd(&ps, 1)?;
    recv_byte(&mut ps, 2)?;
    let st = wait_child(child, TIMEOUT)?;
    child_ok("exiting child", st)?;
    let st = sync_file_wait(f.as_fd(), TIMEOUT)?;
    note(&format!("its in-flight fence completed with status {st}"));

    check("a process is SIGKILLed while in SUBMIT with submissions in flight");
    let (mut ps, mut cs) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
    let p = path.to_string();
    let child = fork_child("killed child", move || {
        let node = Node::open(&p).map_err(|e| format!("open: {e}"))?;
        let dev = node
            .create_device()
            .map_err(|e| format!("DEVICE_CREATE: {e}"))?;
        let mut rig = Rig::new(&dev, VA_BASE)?;
        let f = inflight(&mut rig, 2)?;
        send_fd(&cs, 1, f.as_fd()).map_err(|e| format!("send: {e}"))?;
        send_byte(&mut cs, 2)?;
        let mut k = 0;
        loop {
            let _ = rig.submit_fill(k % 16, k as u8, &[]);
            k += 1;
        }
    })?;
    let f = recv_fd(&ps, 1)?;
    recv_byte(&mut ps, 2)?;
    std::thread::sleep(Duration::from_millis(150));
    // SAFETY: plain syscall on our child.
    unsafe { libc::kill(child, libc::SIGKILL) };
    let st = wait_child(child, TIMEOUT)?;
    ensure(libc::WIFSIGNALED(st), || {
        format!("killed child: wait status {st:#x}")
    })?;
    let st = sync_file_wait(f.as_fd(), TIMEOUT)?;
    note(&format!("its in-flight fence completed with status {st}"));

    check("the adapter still works");
    let node = Node::open(path).map_err(|e| format!("open: {e}"))?;
    node_works(&node, 0x7e)
}

// ---------------------------------------------------------------- unplug

struct Live<'n> {
    path: PathBuf,
    luid: u64,
    rig: Rig<'n>,
    fences: Vec<(Syncobj<'n>, OwnedFd)>,
}

fn adapter_gone(node: &Node) -> bool {
    matches!(node.query_adapter(), Err(e) if io_errno(&e) == libc::ENODEV)
}

fn pci_of(path: &Path) -> R<String> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let l = std::fs::read_link(format!("/sys/class/drm/{name}/device"))
        .map_err(|e| format!("{name}: device link: {e}"))?;
    Ok(l.file_name().unwrap().to_string_lossy().into_owned())
}

fn run_action(what: &str, action: &str, pci: &str) -> R {
    let action = action.to_string();
    let pci = pci.to_string();
    let a2 = action.clone();
    let t0 = Instant::now();
    let r = with_timeout(what, TIMEOUT, move || match a2.as_str() {
        "unbind" | "bind" => std::fs::write(format!("/sys/bus/pci/drivers/dxg/{a2}"), &pci)
            .map_err(|e| format!("write {pci} to /sys/bus/pci/drivers/dxg/{a2}: {e}")),
        cmd => match std::process::Command::new("sh").arg("-c").arg(cmd).status() {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(format!("{cmd}: {s}")),
            Err(e) => Err(format!("{cmd}: {e}")),
        },
    })?;
    note(&format!(
        "{what} ({action}) returned after {:.2} s",
        t0.elapsed().as_secs_f64()
    ));
    r
}

fn ioctls_enodev(l: &Live<'_>) -> R {
    let node = l.rig.node;
    let fd = node.as_fd().as_raw_fd();
    let (rig, e) = (&l.rig, libc::ENODEV);
    let dd = DrmDxgDeviceDestroy {
        device: rig.dev.id(),
        reserved: 0,
    };
    let cd = DrmDxgContextDestroy {
        context: rig.ctx.id(),
        reserved: 0,
    };
    #[rustfmt::skip]
    expect_calls(&[
        ("QUERY_ADAPTER", &|| node.query_adapter().map(drop), e),
        ("QUERY_ADAPTER_INFO", &|| node.query_adapter_info(QAI_ADAPTERTYPE, &mut [0u8; 4]).map(drop), e),
        ("DEVICE_CREATE", &|| node.create_device().map(drop), e),
        ("CONTEXT_CREATE", &|| rig.dev.create_context(0, &[]).map(drop), e),
        ("GEM_CREATE", &|| rig.dev.create_bo(4096, alloc_priv(4096).as_bytes()).map(drop), e),
        ("VM_BIND MAP", &|| rig.dev.vm_bind_map(&rig.data, 0, 4096, VA_BASE + 0x100_0000).map(drop), e),
        ("VM_BIND UNMAP", &|| rig.dev.vm_bind_unmap(rig.data_va, RIG_DATA).map(drop), e),
        ("SUBMIT", &|| rig.ctx.submit(rig.cmd_va, 32, &[], &[], &[]).map(drop), e),
        ("ESCAPE", &|| rig.ctx.escape(0, &mut [1u8; 4]), e),
        ("RESIDENCY", &|| rig.dev.make_resident(&[&rig.data]).map(drop), e),
        // SAFETY: plain structs.
        ("CONTEXT_DESTROY", &|| nixr(unsafe { ioctl_context_destroy(fd, &cd) }), e),
        ("DEVICE_DESTROY", &|| nixr(unsafe { ioctl_device_destroy(fd, &dd) }), e),
        ("GEM_MMAP_OFFSET", &|| node.gem_mmap_offset(rig.data.handle()).map(drop), e),
    ])?;
    // Core DRM ioctls: report what they do.
    match node.create_syncobj(false) {
        Ok(_) => note("core SYNCOBJ_CREATE on the unplugged file: succeeds"),
        Err(x) => note(&format!(
            "core SYNCOBJ_CREATE on the unplugged file: {}",
            ename(io_errno(&x))
        )),
    }
    Ok(())
}

fn scenario_unplug(kind: &str, gone_cmd: &str, back_cmd: &str) -> R {
    let paths = find_render_nodes().map_err(|e| format!("list nodes: {e}"))?;
    ensure(paths.len() >= 2, || {
        format!("need 2 dxg render nodes, found {paths:?}")
    })?;
    let nodes: Vec<Node> = paths
        .iter()
        .map(|p| Node::open(p).map_err(|e| format!("open {p:?}: {e}")))
        .collect::<R<_>>()?;
    let devs: Vec<Device<'_>> = nodes
        .iter()
        .map(|n| n.create_device().map_err(|e| format!("DEVICE_CREATE: {e}")))
        .collect::<R<_>>()?;
    check("on every dxg node: a device, context, mapped buffers, pending fences");
    let mut lives = Vec::new();
    for (p, d) in paths.iter().zip(&devs) {
        let luid = d
            .node()
            .query_adapter()
            .map_err(|e| format!("QUERY_ADAPTER: {e}"))?
            .luid;
        let mut rig = Rig::new(d, VA_BASE)?;
        rig.fill_check(0x21)?;
        let mut fences = Vec::new();
        for k in 0..3 {
            let s = d
                .node()
                .create_syncobj(false)
                .map_err(|e| format!("syncobj: {e}"))?;
            rig.submit_fill(k + 1, 0x30 + k as u8, &[s.binary()])
                .map_err(|e| format!("{p:?}: SUBMIT: {e}"))?;
            let f = s.to_fd(true).map_err(|e| format!("sync_file: {e}"))?;
            fences.push((s, f));
        }
        let sts: Vec<i32> = fences
            .iter()
            .map(|(_, f)| sync_file_status(f.as_fd()).unwrap_or(-999))
            .collect();
        note(&format!(
            "{p:?} luid {luid:#x}: fence status {sts:?} (0 pending)"
        ));
        lives.push(Live {
            path: p.clone(),
            luid,
            rig,
            fences,
        });
    }
    let target_pci = pci_of(&paths[0])?;
    check(&format!("take one adapter away: {gone_cmd}"));
    run_action("gone", gone_cmd, &target_pci)?;
    let t0 = Instant::now();
    let gone_idx = loop {
        let g: Vec<usize> = (0..lives.len())
            .filter(|&i| adapter_gone(lives[i].rig.node))
            .collect();
        if g.len() == 1 {
            break g[0];
        }
        ensure(g.len() <= 1, || format!("{} adapters went away", g.len()))?;
        if t0.elapsed() > TIMEOUT {
            return Err("no open file reports ENODEV after the adapter went away".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let gone = &lives[gone_idx];
    note(&format!("{:?} (luid {:#x}) is gone", gone.path, gone.luid));
    if kind == "pci" {
        ensure(gone_idx == 0, || {
            "the unbound function's node is not the one gone".into()
        })?;
    }

    if kind == "pci" {
        check("the unbound adapter's pending fences complete (wait returns): the live host finishes them");
    } else {
        check("the gone adapter's pending fences complete (wait returns), with an error");
    }
    for (k, (s, f)) in gone.fences.iter().enumerate() {
        let t = Instant::now();
        let w = s.wait(TIMEOUT);
        let st = sync_file_wait(f.as_fd(), TIMEOUT)?;
        note(&format!(
            "fence {k}: syncobj wait {:?} after {:.2} s; sync_file status {st}{}",
            w.as_ref().map_err(|e| ename(io_errno(e))),
            t.elapsed().as_secs_f64(),
            if st < 0 {
                format!(" ({})", ename(-st))
            } else {
                String::new()
            }
        ));
        // DRM core refuses every ioctl of an unplugged device (ENODEV):
        // the wait returning is what counts.
        match w {
            Ok(()) => {}
            Err(e) if io_errno(&e) == libc::ENODEV => {}
            Err(e) => return Err(format!("fence {k}: syncobj wait failed: {e}")),
        }
    }
    let (_, lf) = gone.fences.last().unwrap();
    let st = sync_file_status(lf.as_fd()).map_err(|e| format!("FILE_INFO: {e}"))?;
    if kind == "pci" {
        // The host is alive: unbind gives it time to complete what it was
        // sent before anything fails (Documentation/dxg.rst, "Fence rules").
        ensure(st == 1, || {
            format!(
                "the last pending fence of the unbound adapter completed with status {st}, \
                 not success (the host was alive)"
            )
        })?;
    } else {
        ensure(st < 0, || {
            format!(
                "the last pending fence of the gone adapter completed with status {st}, not an error"
            )
        })?;
    }
    if st < 0 && st != -libc::ENODEV {
        note(&format!(
            "NOTE: fence error is {} while the UAPI documents ENODEV",
            ename(-st)
        ));
    }

    check("the gone adapter's CPU mappings stay readable and writable");
    // SAFETY-free: the mapping is ours; read then write through it.
    {
        let l = &mut lives[gone_idx];
        let b0 = l.rig.md.as_slice()[0];
        l.rig.md.as_mut_slice().fill(0xc5);
        verify("mapping after unplug", l.rig.md.as_slice(), 0xc5)?;
        note(&format!("first byte before the write: {b0:#04x}"));
        let mc0 = l.rig.mc.as_slice()[0];
        l.rig.mc.as_mut_slice()[4000] = mc0;
    }

    check("every dxg ioctl on the gone adapter's file fails with ENODEV");
    ioctls_enodev(&lives[gone_idx])?;
    match lives[gone_idx].rig.data.map() {
        Ok(_) => note("a new mmap of the old file: succeeds"),
        Err(e) => note(&format!(
            "a new mmap of the old file: {}",
            ename(io_errno(&e))
        )),
    }

    check("the other adapter keeps working");
    for (i, l) in lives.iter_mut().enumerate() {
        if i == gone_idx {
            continue;
        }
        for (k, (s, f)) in l.fences.iter().enumerate() {
            expect_ok(&format!("{:?} fence {k}", l.path), s.wait(TIMEOUT))?;
            let st = sync_file_status(f.as_fd()).map_err(|e| format!("FILE_INFO: {e}"))?;
            ensure(st == 1, || format!("{:?} fence {k} status {st}", l.path))?;
        }
        l.rig.fill_check(0x5e)?;
    }

    check(&format!("bring it back: {back_cmd}"));
    run_action("back", back_cmd, &target_pci)?;
    let t0 = Instant::now();
    let gluid = lives[gone_idx].luid;
    let back = loop {
        let mut found = None;
        for p in find_render_nodes().unwrap_or_default() {
            if let Ok(n) = Node::open(&p) {
                let same = if kind == "pci" {
                    pci_of(&p).ok().as_deref() == Some(target_pci.as_str())
                } else {
                    n.query_adapter().is_ok_and(|i| i.luid == gluid)
                };
                if same {
                    found = Some((p, n));
                    break;
                }
            }
        }
        if let Some(f) = found {
            break f;
        }
        if t0.elapsed() > TIMEOUT {
            return Err("the adapter did not come back".into());
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    note(&format!("back as {:?}", back.0));
    check("the returned adapter works (new file); the old file still says ENODEV");
    node_works(&back.1, 0x6b)?;
    expect_err(
        "QUERY_ADAPTER on the old file",
        lives[gone_idx].rig.node.query_adapter(),
        libc::ENODEV,
    )?;
    check("close everything (old file of the gone adapter last)");
    let l = lives.remove(gone_idx);
    drop(lives);
    drop(l);
    drop(devs);
    drop(nodes);
    Ok(())
}

// ---------------------------------------------------------------- egl

type EglGetProcAddress = unsafe extern "C" fn(*const c_char) -> *mut c_void;
type EglQueryString = unsafe extern "C" fn(*mut c_void, i32) -> *const c_char;
type EglQueryDevices = unsafe extern "C" fn(i32, *mut *mut c_void, *mut i32) -> u32;
type EglQueryDeviceString = unsafe extern "C" fn(*mut c_void, i32) -> *const c_char;
type EglGetError = unsafe extern "C" fn() -> i32;

const EGL_EXTENSIONS: i32 = 0x3055;
const EGL_DRM_DEVICE_FILE_EXT: i32 = 0x3233;
const EGL_DRM_RENDER_NODE_FILE_EXT: i32 = 0x3377;

fn cstr(p: *const c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        // SAFETY: EGL returns NUL-terminated static strings.
        Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }
}

fn scenario_egl() -> R {
    let want = find_render_nodes().map_err(|e| format!("list nodes: {e}"))?;
    let want: Vec<String> = want
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    note(&format!("dxg render nodes: {want:?}"));
    check("dlopen libEGL.so.1");
    let lib = CString::new("libEGL.so.1").unwrap();
    // SAFETY: dlopen of a system library by name.
    let h = unsafe { libc::dlopen(lib.as_ptr(), libc::RTLD_NOW) };
    if h.is_null() {
        return Err(format!(
            "dlopen libEGL.so.1: {:?}",
            cstr(unsafe { libc::dlerror() })
        ));
    }
    let sym = |n: &str| {
        let c = CString::new(n).unwrap();
        // SAFETY: dlsym on a live handle.
        unsafe { libc::dlsym(h, c.as_ptr()) }
    };
    let gpa = sym("eglGetProcAddress");
    let qs = sym("eglQueryString");
    let ge = sym("eglGetError");
    ensure(!gpa.is_null() && !qs.is_null() && !ge.is_null(), || {
        "libEGL lacks eglGetProcAddress/eglQueryString/eglGetError".into()
    })?;
    // SAFETY: the symbols have these EGL 1.5 signatures.
    let (gpa, qs, ge): (EglGetProcAddress, EglQueryString, EglGetError) = unsafe {
        (
            std::mem::transmute::<*mut c_void, EglGetProcAddress>(gpa),
            std::mem::transmute::<*mut c_void, EglQueryString>(qs),
            std::mem::transmute::<*mut c_void, EglGetError>(ge),
        )
    };
    // SAFETY: EGL_NO_DISPLAY + EGL_EXTENSIONS: client extensions.
    let client = cstr(unsafe { qs(std::ptr::null_mut(), EGL_EXTENSIONS) }).unwrap_or_default();
    println!("  client extensions: {client}");
    for e in ["EGL_EXT_device_enumeration", "EGL_EXT_device_query"] {
        ensure(client.split(' ').any(|x| x == e), || format!("no {e}"))?;
    }
    let p = |n: &str| {
        let c = CString::new(n).unwrap();
        // SAFETY: eglGetProcAddress with a NUL-terminated name.
        unsafe { gpa(c.as_ptr()) }
    };
    let qd = p("eglQueryDevicesEXT");
    let qds = p("eglQueryDeviceStringEXT");
    ensure(!qd.is_null() && !qds.is_null(), || {
        "eglGetProcAddress gave no eglQueryDevicesEXT/eglQueryDeviceStringEXT".into()
    })?;
    // SAFETY: EXT_device_enumeration/EXT_device_query signatures.
    let (qd, qds): (EglQueryDevices, EglQueryDeviceString) = unsafe {
        (
            std::mem::transmute::<*mut c_void, EglQueryDevices>(qd),
            std::mem::transmute::<*mut c_void, EglQueryDeviceString>(qds),
        )
    };
    check("eglQueryDevicesEXT lists every dxg render node");
    let mut devs = [std::ptr::null_mut::<c_void>(); 32];
    let mut n = 0;
    // SAFETY: 32 slots for the devices, n written.
    let ok = unsafe { qd(32, devs.as_mut_ptr(), &mut n) };
    // SAFETY: plain call.
    let err = unsafe { ge() };
    println!("  eglQueryDevicesEXT: returned {ok}, {n} devices, eglGetError {err:#x}");
    ensure(ok == 1, || format!("eglQueryDevicesEXT failed: {err:#x}"))?;
    let mut renders = Vec::new();
    for (i, &d) in devs[..n as usize].iter().enumerate() {
        // SAFETY: d is a device EGL returned.
        let ext = cstr(unsafe { qds(d, EGL_EXTENSIONS) }).unwrap_or_default();
        let has = |e: &str| ext.split(' ').any(|x| x == e);
        let file = if has("EGL_EXT_device_drm") {
            // SAFETY: as above.
            cstr(unsafe { qds(d, EGL_DRM_DEVICE_FILE_EXT) })
        } else {
            None
        };
        let render = if has("EGL_EXT_device_drm_render_node") {
            // SAFETY: as above.
            cstr(unsafe { qds(d, EGL_DRM_RENDER_NODE_FILE_EXT) })
        } else {
            None
        };
        println!("  device {i}: extensions [{ext}] drm file {file:?} render node {render:?}");
        if let Some(r) = render {
            renders.push(r);
        }
    }
    let missing: Vec<&String> = want.iter().filter(|w| !renders.contains(w)).collect();
    ensure(missing.is_empty(), || {
        format!("EGL does not list the dxg render nodes {missing:?} (it lists render nodes {renders:?})")
    })?;
    Ok(())
}

// ---------------------------------------------------------------- main

const USAGE: &str = "usage: dxg-uapi-test errors NODE | prime NODE | threads NODE... |
       close-inflight NODE | engine NODE | unplug rescind|pci --gone CMD --back CMD | egl";

fn run(args: &[String]) -> R {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["errors", n] => scenario_errors(n),
        ["prime", n] => scenario_prime(n),
        ["threads", ns @ ..] if !ns.is_empty() => scenario_threads(&args[1..]),
        ["close-inflight", n] => scenario_close_inflight(n),
        ["engine", n] => scenario_engine(n),
        ["unplug", kind @ ("rescind" | "pci"), "--gone", g, "--back", b] => {
            scenario_unplug(kind, g, b)
        }
        ["egl"] => scenario_egl(),
        _ => Err(USAGE.to_string()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().cloned().unwrap_or_default();
    match run(&args) {
        Ok(()) => {
            println!("PASS: dxg-uapi-test {name}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("FAIL: dxg-uapi-test {name}: {e}");
            io::stdout().flush().ok();
            ExitCode::FAILURE
        }
    }
}
