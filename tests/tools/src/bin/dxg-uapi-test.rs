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
//! * `stopped NODE --kill PID`: SUBMIT returns with the host stopped
//!   (SIGSTOP), the wait times out with ETIME, SIGCONT completes it;
//! * `race NODE`: CONTEXT_CREATE racing DEVICE_DESTROY of its device
//!   leaves no context behind (in the file or on the host);
//! * `stalled NODE --kill PID`: with the host stopped while it maps GEM
//!   objects, a query times out and the client closes everything (the
//!   pages are taken back from the host's mappings before they are freed);
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
//! Scenarios of queued submission. They control the host themselves with
//! `dxg-host ctl` (socket: `--control SOCK`, `$DXG_HOST_SOCK`, or
//! `/run/dxg-host.sock`) and never assert on elapsed time: "did not
//! wait" is proven by returning while the host holds its work (`hold`),
//! and "not done yet" by a fence still pending while what it depends on
//! is.
//!
//! * `queue NODE`: with the host held, 64 jobs on context A (own out
//!   syncobjs) and jobs on context B waiting for them (and for a timeline
//!   point): every SUBMIT returns, no fence signals; after `release` all
//!   signal, B's after its in-fences. 64 vgem fences (and one at a
//!   timeline point) as in-fences: SUBMIT returns at once, the job waits
//!   for the last of them. QUERY_STATE's submitted/completed counts.
//!   Needs vgem loaded.
//! * `signals NODE SECONDS`: SUBMIT and GEM_CREATE/GEM_CLOSE (raw ioctls)
//!   under a SIGUSR1 (no SA_RESTART) every 1 ms never fail with EINTR or
//!   EAGAIN; resets the host's stats before and checks after that the
//!   host saw each successful call once; prints `submits=N allocations=M`.
//! * `inflight NODE destroy|close`: with the host held, CONTEXT_DESTROY or
//!   the DRM file's close waits for the 8 jobs the host was sent; after
//!   `release` it returns and every fence signalled without error.
//!   `inflight NODE dead --kill PID`: a waiting CONTEXT_DESTROY, then the
//!   host PID is SIGKILLed: every fence fails with ENODEV, the destroy
//!   returns.
//! * `lost NODE`: a job the host never completes (`stall-next 1`) loses
//!   its context after job_timeout_ms: its fences and the one queued
//!   behind fail with ETIME, QUERY_STATE says CONTEXT_LOST, SUBMIT fails
//!   with ECANCELED; a SUBMIT on another context with the failed fence as
//!   in-fence returns 0 and its fence fails with ETIME, the work unsent;
//!   that context keeps working.
//! * `device-lost NODE`: a GPU page fault on the host: the fence fails
//!   with EIO, the device and its contexts are DEVICE_LOST and refuse
//!   work (ECANCELED); a new device of the same file works.
//! * `count NODE N [--async]`: resets the host's stats, N submissions
//!   each waited for; the host's messages per submission: one
//!   SUBMITCOMMAND, no CPU wait, 2 synchronous messages (or, with
//!   `--async` for a host run with --async-msg, 2 asynchronous ones).
//!
//! Buffers use the software host's conventions (`dxg_proto::model`,
//! `dxg_proto::cmdbuf`), so this only works against `dxg-host`.

use std::collections::BTreeMap;
use std::ffi::{c_char, c_void, CStr, CString};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use drm::control::Device as _;
use dxg_proto::cmdbuf::{Cmd, CmdWriter};
use dxg_proto::model::{ModelAllocPriv, ESCAPE_XOR, QAI_ADAPTERTYPE, QAI_UMDRIVERPRIVATE};
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
    // The largest queries the UAPI allows fit both transports: the host
    // model answers UMDRIVERPRIVATE with as many bytes as asked for (the
    // reply of DXG_QUERY_MAX bytes is a 64 KiB+ VMBus packet).
    for size in [DXG_QUERY_MAX - 8, DXG_QUERY_MAX] {
        let mut big = vec![0u8; size];
        expect_ok(
            &format!("QUERY_ADAPTER_INFO UMDRIVERPRIVATE, data_size {size}"),
            node.query_adapter_info(QAI_UMDRIVERPRIVATE, &mut big),
        )?;
        if big[..4] == [0; 4] {
            return Err(format!(
                "UMDRIVERPRIVATE of {size} bytes: no model data in the reply"
            ));
        }
    }
    expect_ok(
        "QUERY_ADAPTER_INFO after the largest queries",
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
        ("bo_size 4 GiB (more than the guest can pin)", {bo_size: 1 << 32}, ENOMEM),
    ];
    expect_cases("GEM_CREATE", rows, gc)?;
    expect_ok("GEM_CREATE raw after the refused ones", gc(gbase))?;

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
    check("SYNCOBJ_WAIT with a huge handle count fails cleanly (no kernel WARNING)");
    for count in [1u32 << 20, 1 << 28, u32::MAX] {
        match syncobj_wait_count(&node, s2.handle().into(), count).map_err(|e| io_errno(&e)) {
            Err(libc::ENOMEM | libc::EFAULT) => {}
            Err(e) => return Err(format!("SYNCOBJ_WAIT of {count} handles: {}", ename(e))),
            Ok(()) => return Err(format!("SYNCOBJ_WAIT of {count} handles succeeded")),
        }
    }
    note("SYNCOBJ_WAIT of 2^20, 2^28 and 2^32-1 handles: ENOMEM or EFAULT");

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

nix::ioctl_readwrite!(syncobj_wait_raw, b'd', 0xC3, drm_ffi::drm_syncobj_wait);

/// DRM_IOCTL_SYNCOBJ_WAIT with `count` handles, of which only the first
/// is readable: the DRM core must fail the handle array's allocation
/// (or copy) without a page-allocator WARNING.
fn syncobj_wait_count(node: &Node, handle: u32, count: u32) -> io::Result<()> {
    let handles = [handle];
    let mut w = drm_ffi::drm_syncobj_wait {
        handles: handles.as_ptr() as u64,
        count_handles: count,
        ..Default::default()
    };
    // SAFETY: `w` is a valid drm_syncobj_wait; the kernel reads at most
    // `count` handles from `handles` and fails with EFAULT beyond it.
    unsafe { syncobj_wait_raw(node.as_fd().as_raw_fd(), &mut w) }
        .map(drop)
        .map_err(io::Error::from)
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

/// `stopped NODE --kill PID`: the host process PID is stopped (SIGSTOP)
/// with work queued: SUBMIT still returns, a wait for its fence times
/// out (ETIME), and after SIGCONT everything completes.
fn scenario_stopped(path: &str, pid: Option<i32>) -> R {
    let pid = pid.ok_or("stopped needs --kill PID (of the host, to stop and continue)")?;
    with_filled_rig(path, |node, rig| stopped_with(node, rig, pid))
}

/// Open `path`, create a device and a [`Rig`] whose buffers the host has
/// written through its mappings (one FILL, checked), and run `f` on them.
fn with_filled_rig(path: &str, f: impl FnOnce(&Node, Rig<'_>) -> R) -> R {
    let node = Node::open(path).map_err(|e| format!("open: {e}"))?;
    let dev = node
        .create_device()
        .map_err(|e| format!("DEVICE_CREATE: {e}"))?;
    let mut rig = Rig::new(&dev, VA_BASE)?;
    rig.fill_check(0x10)?;
    f(&node, rig)
}

fn stopped_with(node: &Node, mut rig: Rig<'_>, pid: i32) -> R {
    let t = node
        .create_syncobj(false)
        .map_err(|e| format!("syncobj: {e}"))?;
    check("host stopped: 8 SUBMITs return, their fence does not signal");
    // SAFETY: kill() has no memory effects.
    ensure(unsafe { libc::kill(pid, libc::SIGSTOP) } == 0, || {
        format!("SIGSTOP {pid}: {}", io::Error::last_os_error())
    })?;
    let cont = || {
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGCONT) };
    };
    let mut r = Ok(());
    for k in 0..8u64 {
        if let Err(e) = rig.submit_fill(k as usize + 1, 0x20 + k as u8, &[t.at(k + 1)]) {
            r = Err(format!("SUBMIT {k} with the host stopped: {e}"));
            break;
        }
    }
    if r.is_ok() {
        note("8 SUBMITs returned while the host was stopped");
        r = match t.wait_point(8, Duration::from_secs(2)) {
            Err(e) if io_errno(&e) == libc::ETIME => {
                note("wait for the last point: ETIME, as documented");
                Ok(())
            }
            Err(e) => Err(format!("wait with the host stopped: {e} (want ETIME)")),
            Ok(()) => Err("the fence signalled while the host was stopped".into()),
        };
    }
    cont();
    r?;
    check("SIGCONT: everything completes");
    t.wait_point(8, TIMEOUT)
        .map_err(|e| format!("wait after SIGCONT: {e}"))?;
    verify("data after the last FILL", rig.md.as_slice(), 0x27)?;
    Ok(())
}

/// `stalled NODE --kill PID`: the host process is stopped (SIGSTOP) while
/// it maps GEM objects it has written through its mappings, so it neither
/// answers nor unmaps. A request times out (`ETIMEDOUT`, the module's
/// `timeout_ms`), the host is declared lost, and the client closes its
/// objects and the node while the stopped host still maps them: their
/// pages must be taken back from the host's page tables before they are
/// freed (the kernel checks a freed page cache page is not mapped; a
/// splat fails the run). The host is killed at the end.
fn scenario_stalled(path: &str, pid: Option<i32>) -> R {
    let pid = pid.ok_or("stalled needs --kill PID (of the host, to stop and kill)")?;
    let r = with_filled_rig(path, |node, rig| stalled_with(node, rig, pid));
    if r.is_ok() {
        note("device and node closed while the host was stopped");
    }
    // SAFETY: kill() has no memory effects.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::kill(pid, libc::SIGCONT);
    }
    r
}

fn stalled_with(node: &Node, rig: Rig<'_>, pid: i32) -> R {
    check("host stopped: a query times out with ETIMEDOUT");
    // SAFETY: kill() has no memory effects.
    ensure(unsafe { libc::kill(pid, libc::SIGSTOP) } == 0, || {
        format!("SIGSTOP {pid}: {}", io::Error::last_os_error())
    })?;
    let mut ty = [0u8; 4];
    expect_err(
        "QUERY_ADAPTER_INFO with the host stopped",
        node.query_adapter_info(QAI_ADAPTERTYPE, &mut ty),
        libc::ETIMEDOUT,
    )?;
    check("the client closes its GEM objects, device and node; the host still maps the pages");
    drop(rig);
    note("GEM objects closed while the host was stopped");
    Ok(())
}

/// The host's live (devices, contexts), from `dxg-host ctl status`.
fn host_devices_contexts(ctl: &HostCtl) -> R<(u64, u64)> {
    let st = ctl.run("status")?;
    let get = |k: &str| {
        st.lines()
            .find_map(|l| l.strip_prefix(k)?.trim().parse::<u64>().ok())
            .ok_or_else(|| format!("host status has no `{k}` line: {st}"))
    };
    Ok((get("devices ")?, get("contexts ")?))
}

/// `race NODE`: CONTEXT_CREATE on a device that another thread destroys
/// at the same time (DEVICE_DESTROY), 40 times with varying delays. The
/// create fails with ENOENT, or it won and its context went with the
/// device: either way no context outlives its device (SUBMIT and
/// CONTEXT_DESTROY on it: ENOENT), and the host is left with as many
/// devices and contexts as before (no orphan).
fn scenario_race(path: &str, ctl: &HostCtl) -> R {
    const ROUNDS: u32 = 40;
    let node = Node::open(path).map_err(|e| format!("open: {e}"))?;
    let fd = node.as_fd().as_raw_fd();
    let before = host_devices_contexts(ctl)?;
    check(&format!(
        "{ROUNDS} rounds of CONTEXT_CREATE racing DEVICE_DESTROY of its device"
    ));
    let (mut won, mut lost) = (0, 0);
    for round in 0..ROUNDS {
        let mut dc = DrmDxgDeviceCreate {
            size: std::mem::size_of::<DrmDxgDeviceCreate>() as u32,
            ..Default::default()
        };
        // SAFETY: a plain struct without pointers.
        nixr(unsafe { ioctl_device_create(fd, &mut dc) })
            .map_err(|e| format!("DEVICE_CREATE: {e}"))?;
        let dev = dc.device;
        let (created, destroyed) = std::thread::scope(|sc| {
            let h = sc.spawn(|| {
                let mut cc = DrmDxgContextCreate {
                    size: std::mem::size_of::<DrmDxgContextCreate>() as u32,
                    device: dev,
                    ..Default::default()
                };
                // SAFETY: a plain struct without pointers (no private data).
                nixr(unsafe { ioctl_context_create(fd, &mut cc) }).map(|_| cc.context)
            });
            // Let the create get to the host, a little longer each round.
            let spin = Instant::now();
            while spin.elapsed() < Duration::from_micros(u64::from(round % 10) * 200) {
                std::hint::spin_loop();
            }
            let dd = DrmDxgDeviceDestroy {
                device: dev,
                reserved: 0,
            };
            // SAFETY: a plain struct without pointers.
            let destroyed = nixr(unsafe { ioctl_device_destroy(fd, &dd) });
            let created = h
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("panicked")));
            (created, destroyed)
        });
        destroyed.map_err(|e| format!("round {round}: DEVICE_DESTROY: {e}"))?;
        match created {
            Ok(cid) => {
                won += 1;
                let sub = DrmDxgSubmit {
                    size: std::mem::size_of::<DrmDxgSubmit>() as u32,
                    context: cid,
                    cmd_va: VA_BASE,
                    cmd_size: 16,
                    ..Default::default()
                };
                // SAFETY: a plain struct without pointers.
                expect_err_quiet(
                    &format!("round {round}: SUBMIT on the context of the destroyed device"),
                    nixr(unsafe { ioctl_submit(fd, &sub) }),
                    libc::ENOENT,
                )?;
                let cd = DrmDxgContextDestroy {
                    context: cid,
                    reserved: 0,
                };
                // SAFETY: a plain struct without pointers.
                expect_err_quiet(
                    &format!("round {round}: CONTEXT_DESTROY of it"),
                    nixr(unsafe { ioctl_context_destroy(fd, &cd) }),
                    libc::ENOENT,
                )?;
            }
            Err(e) if io_errno(&e) == libc::ENOENT => lost += 1,
            Err(e) => return Err(format!("round {round}: CONTEXT_CREATE: {e}")),
        }
    }
    note(&format!(
        "{won} creates finished first (their context went with the device), {lost} got ENOENT"
    ));
    let after = host_devices_contexts(ctl)?;
    ensure(after == before, || {
        format!("host (devices, contexts) {before:?} before, {after:?} after: orphans")
    })?;
    note(&format!("host devices and contexts as before: {after:?}"));
    Ok(())
}

/// [`expect_err`] without the line for a success.
fn expect_err_quiet<T>(what: &str, r: io::Result<T>, want: i32) -> R {
    match r {
        Err(e) if io_errno(&e) == want => Ok(()),
        r => expect_err(what, r, want),
    }
}

/// `engine NODE`: fdinfo's drm-engine-gpu as gputop reads it. With the
/// host held, one job in flight makes the engine time grow (a client
/// with a long job is not idle); two contexts with a job each make it
/// grow no faster than wall-clock time (overlap counts once); once the
/// work is done it stops growing.
fn scenario_engine(path: &str) -> R {
    let host = HostCtl::new(&Opts::default());
    let host_ctl = |c: &str| host.run(c).map(drop);
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
    let sa = node
        .create_syncobj(false)
        .map_err(|e| format!("syncobj: {e}"))?;
    let r = a.submit_fill(1, 0x22, &[sa.binary()]);
    if let Err(e) = r {
        let _ = host_ctl("release");
        return Err(format!("SUBMIT: {e}"));
    }
    std::thread::sleep(Duration::from_millis(500));
    let busy0 = engine_ns(&node)?;
    std::thread::sleep(Duration::from_millis(500));
    let busy1 = engine_ns(&node)?;
    note(&format!(
        "engine ns while held: {idle1} -> {busy0} -> {busy1}"
    ));
    if busy1 <= busy0 || busy0 <= idle1 {
        let _ = host_ctl("release");
        return Err(format!(
            "engine time does not grow while a job is in flight: {idle1} -> {busy0} -> {busy1}"
        ));
    }

    check("a second context's job overlaps: counted once");
    let sb = node
        .create_syncobj(false)
        .map_err(|e| format!("syncobj: {e}"))?;
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

// ---------------------------------------------------------------- host control

/// The software host's control socket, driven through
/// `dxg-host ctl --control SOCK CMD` (the program is `$DXG_HOST`, default
/// `dxg-host`; the socket is `--control SOCK`, else `$DXG_HOST_SOCK`, else
/// `/run/dxg-host.sock`, as tests/guest/lib.sh starts it).
struct HostCtl {
    bin: String,
    sock: String,
}

impl HostCtl {
    fn new(opts: &Opts) -> Self {
        let bin = std::env::var("DXG_HOST").unwrap_or_else(|_| "dxg-host".into());
        let sock = opts
            .control
            .clone()
            .or_else(|| std::env::var("DXG_HOST_SOCK").ok())
            .unwrap_or_else(|| "/run/dxg-host.sock".into());
        HostCtl { bin, sock }
    }

    /// Runs one control command; its answer (without the final `ok`).
    fn run(&self, cmd: &str) -> R<String> {
        let out = std::process::Command::new(&self.bin)
            .args(["ctl", "--control", &self.sock])
            .args(cmd.split_whitespace())
            .output()
            .map_err(|e| format!("{} ctl {cmd}: {e}", self.bin))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            return Err(format!(
                "host control `{cmd}` failed ({}): {}{}",
                out.status,
                text.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        println!("  host: {cmd}");
        Ok(text
            .lines()
            .filter(|l| *l != "ok")
            .map(|l| format!("{l}\n"))
            .collect())
    }

    fn stats(&self) -> R<HostStats> {
        Ok(HostStats::parse(&self.run("stats")?))
    }
}

/// The answer of `dxg-host ctl stats`: per command `NAME sync=N
/// async=M`, then totals `KEY N` (`requests`, `submissions`, ...).
#[derive(Debug, Default)]
struct HostStats {
    /// By normalised name (ASCII letters and digits, upper case).
    cmds: BTreeMap<String, (u64, u64)>,
    totals: BTreeMap<String, u64>,
}

/// A command name as the host's stats spell it (`SubmitCommand` and
/// `SUBMITCOMMAND` are the same command).
fn cmd_key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl HostStats {
    fn parse(text: &str) -> HostStats {
        let mut s = HostStats::default();
        for l in text.lines() {
            match l.split_whitespace().collect::<Vec<_>>().as_slice() {
                [name, sy, asy] => {
                    let n = |t: &str, p: &str| t.strip_prefix(p).and_then(|v| v.parse().ok());
                    if let (Some(a), Some(b)) = (n(sy, "sync="), n(asy, "async=")) {
                        s.cmds.insert(cmd_key(name), (a, b));
                    }
                }
                [key, v] => {
                    if let Ok(v) = v.parse() {
                        s.totals.insert(key.to_string(), v);
                    }
                }
                _ => {}
            }
        }
        s
    }

    /// (sync, async) messages of command `name` (0, 0 if none came).
    fn cmd(&self, name: &str) -> (u64, u64) {
        self.cmds.get(&cmd_key(name)).copied().unwrap_or((0, 0))
    }
}

/// The host's context workers held (`hold`) until [`Hold::release`] or
/// drop (so a failed check does not leave the host held).
struct Hold<'a> {
    ctl: &'a HostCtl,
    on: bool,
}

impl<'a> Hold<'a> {
    fn new(ctl: &'a HostCtl) -> R<Self> {
        ctl.run("hold")?;
        Ok(Hold { ctl, on: true })
    }

    fn release(&mut self) -> R {
        if std::mem::take(&mut self.on) {
            self.ctl.run("release")?;
        }
        Ok(())
    }

    /// The host is gone: nothing to release.
    fn disarm(&mut self) {
        self.on = false;
    }
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        if self.on {
            let _ = self.ctl.run("release");
        }
    }
}

/// `stall-next N` until `stall clear` (or drop).
struct Stall<'a> {
    ctl: &'a HostCtl,
    on: bool,
}

impl<'a> Stall<'a> {
    fn new(ctl: &'a HostCtl, n: u32) -> R<Self> {
        ctl.run(&format!("stall-next {n}"))?;
        Ok(Stall { ctl, on: true })
    }

    fn clear(&mut self) -> R<String> {
        self.on = false;
        self.ctl.run("stall clear")
    }
}

impl Drop for Stall<'_> {
    fn drop(&mut self) {
        if self.on {
            let _ = self.ctl.run("stall clear");
        }
    }
}

/// Runs `f`, which must not wait for the host, while `hold` holds it. If
/// `f` has not returned within [`TIMEOUT`] the host is released (so that
/// it can return) and the check fails: returning while held is the proof
/// that it did not wait.
fn while_held<T: Send>(hold: &mut Hold<'_>, what: &str, f: impl FnOnce() -> T + Send) -> R<T> {
    std::thread::scope(|sc| {
        let (tx, rx) = mpsc::channel();
        let h = sc.spawn(move || {
            let r = f();
            let _ = tx.send(());
            r
        });
        let returned = rx.recv_timeout(TIMEOUT).is_ok();
        if !returned {
            let _ = hold.release();
        }
        let r = h.join().map_err(|_| format!("{what}: panicked"))?;
        ensure(returned, || {
            format!("{what}: did not return within {TIMEOUT:?} while the host was held (it waits for the host)")
        })?;
        Ok(r)
    })
}

// ---------------------------------------------------------------- fences

/// Whether the syncobj's fence has signalled (a wait with timeout 0).
fn signalled(s: &Syncobj<'_>) -> R<bool> {
    match s.wait(Duration::ZERO) {
        Ok(()) => Ok(true),
        Err(e) if io_errno(&e) == libc::ETIME => Ok(false),
        Err(e) => Err(format!("syncobj wait (timeout 0): {e}")),
    }
}

/// The sync_file status of the syncobj's current fence: 1 signalled, 0
/// pending, < 0 its error.
fn fence_status(s: &Syncobj<'_>) -> R<i32> {
    let f = s
        .to_fd(true)
        .map_err(|e| format!("sync_file export: {e}"))?;
    sync_file_status(f.as_fd()).map_err(|e| format!("SYNC_IOC_FILE_INFO: {e}"))
}

fn status_name(st: i32) -> String {
    match st {
        1 => "signalled".into(),
        0 => "pending".into(),
        e => format!("error {}", ename(-e)),
    }
}

/// The syncobj's fence has signalled, without an error.
fn expect_signalled_ok(what: &str, s: &Syncobj<'_>) -> R {
    let st = fence_status(s)?;
    ensure(st == 1, || {
        format!(
            "{what}: fence is {}, expected signalled without error",
            status_name(st)
        )
    })
}

/// A short wait on the syncobj must time out (ETIME): its fence is pending.
fn expect_pending(what: &str, s: &Syncobj<'_>) -> R {
    match s.wait(Duration::from_millis(200)) {
        Err(e) if io_errno(&e) == libc::ETIME => {
            println!("  ok: {what}: wait (200 ms) -> ETIME");
            Ok(())
        }
        Ok(()) => Err(format!("{what}: signalled, expected pending")),
        Err(e) => Err(format!("{what}: wait failed with {e}, expected ETIME")),
    }
}

/// Waits for a sync_file and checks its final status.
fn expect_sync_file(what: &str, fd: BorrowedFd<'_>, timeout: Duration, want: i32) -> R {
    let st = sync_file_wait(fd, timeout).map_err(|e| format!("{what}: {e}"))?;
    ensure(st == want, || {
        format!(
            "{what}: fence is {}, expected {}",
            status_name(st),
            status_name(want)
        )
    })?;
    println!("  ok: {what}: {}", status_name(st));
    Ok(())
}

/// Writes `cmds` at byte `off` of the rig's command buffer; its GPU VA
/// and length.
fn cmd_at(rig: &mut Rig<'_>, off: usize, cmds: &[Cmd]) -> R<(u64, u64)> {
    let len = write_cmds(&mut rig.mc, off, cmds)?;
    Ok((rig.cmd_va + off as u64, len))
}

fn expect_state(what: &str, got: io::Result<State>, want: StateKind, error: i32) -> R<State> {
    let s = got.map_err(|e| format!("{what}: QUERY_STATE: {e}"))?;
    ensure(s.state == want && s.error == error, || {
        format!(
            "{what}: QUERY_STATE says {:?} error {} (submitted {}, completed {}), expected {want:?} error {error}",
            s.state, s.error, s.submitted, s.completed
        )
    })?;
    println!(
        "  ok: {what}: {:?} error {} submitted {} completed {}",
        s.state, s.error, s.submitted, s.completed
    );
    Ok(s)
}

// ---------------------------------------------------------------- vgem

#[repr(C)]
#[derive(Default)]
struct VgemFenceAttach {
    handle: u32,
    flags: u32,
    out_fence: u32,
    pad: u32,
}
#[repr(C)]
struct VgemFenceSignal {
    fence: u32,
    flags: u32,
}
nix::ioctl_readwrite!(vgem_fence_attach, b'd', 0x41, VgemFenceAttach);
nix::ioctl_write_ptr!(vgem_fence_signal, b'd', 0x42, VgemFenceSignal);
const VGEM_FENCE_WRITE: u32 = 1;

#[repr(C)]
#[derive(Default)]
struct DmaBufExportSyncFile {
    flags: u32,
    fd: i32,
}
nix::ioctl_readwrite!(dma_buf_export_sync_file, b'b', 2, DmaBufExportSyncFile);
const DMA_BUF_SYNC_RW: u32 = 3;

/// The primary node of vgem, if loaded (its dumb buffers need one).
fn find_vgem() -> Option<Node> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("/dev/dri")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("card"))
        })
        .collect();
    v.sort();
    v.into_iter().find_map(|p| {
        let n = Node::open(&p).ok()?;
        (n.driver_name().ok()? == "vgem").then(|| {
            note(&format!("vgem is {}", p.display()));
            n
        })
    })
}

/// A vgem fence (on its own small vgem buffer) and a sync_file of it.
struct VgemFence {
    id: u32,
    sync_file: OwnedFd,
}

fn vgem_fence(vg: &Node) -> R<VgemFence> {
    use drm::buffer::Buffer as _;
    let bo = vg
        .create_dumb_buffer((32, 32), drm::buffer::DrmFourcc::Xrgb8888, 32)
        .map_err(|e| format!("vgem dumb buffer: {e}"))?;
    let h = bo.handle();
    let dmabuf = vg
        .buffer_to_prime_fd(h, drm::CLOEXEC | drm::RDWR)
        .map_err(|e| format!("vgem PRIME export: {e}"))?;
    let mut a = VgemFenceAttach {
        handle: h.into(),
        flags: VGEM_FENCE_WRITE,
        ..Default::default()
    };
    // SAFETY: a plain struct without pointers.
    unsafe { vgem_fence_attach(vg.as_fd().as_raw_fd(), &mut a) }
        .map_err(|e| format!("VGEM_FENCE_ATTACH: {e}"))?;
    let mut x = DmaBufExportSyncFile {
        flags: DMA_BUF_SYNC_RW,
        fd: -1,
    };
    // SAFETY: a plain struct; the kernel writes a new fd we then own.
    unsafe { dma_buf_export_sync_file(dmabuf.as_raw_fd(), &mut x) }
        .map_err(|e| format!("DMA_BUF_IOCTL_EXPORT_SYNC_FILE: {e}"))?;
    // SAFETY: a new fd from the kernel, owned by nobody else.
    let sync_file = unsafe { OwnedFd::from_raw_fd(x.fd) };
    // The buffer's handle goes; the fence lives on in the sync_file.
    let _ = vg.close_buffer(h);
    Ok(VgemFence {
        id: a.out_fence,
        sync_file,
    })
}

fn vgem_signal(vg: &Node, f: &VgemFence) -> R {
    let a = VgemFenceSignal {
        fence: f.id,
        flags: 0,
    };
    // SAFETY: a plain struct without pointers.
    unsafe { vgem_fence_signal(vg.as_fd().as_raw_fd(), &a) }
        .map(drop)
        .map_err(|e| format!("VGEM_FENCE_SIGNAL {}: {e}", f.id))
}

/// vgem signals a fence by itself 10 s after attaching it. A check that
/// "X is still pending because vgem fence F is" only holds if F was still
/// pending when X was looked at: look at F afterwards.
fn vgem_still_pending(what: &str, f: &VgemFence) -> R {
    let st = sync_file_status(f.sync_file.as_fd()).map_err(|e| format!("FILE_INFO: {e}"))?;
    ensure(st == 0, || {
        format!(
            "inconclusive: {what}: the vgem fence held back is already {} (vgem's own 10 s fence timeout?); the check needs it pending",
            status_name(st)
        )
    })
}

// ---------------------------------------------------------------- queue

/// Jobs of context A in `queue` (i), and in-fences of the vgem part.
const QUEUE_N: usize = 64;

fn scenario_queue(path: &str, ctl: &HostCtl) -> R {
    let node = Node::open(path).map_err(|e| format!("open {path}: {e}"))?;
    let dev = node
        .create_device()
        .map_err(|e| format!("DEVICE_CREATE: {e}"))?;
    let mut rig = Rig::new(&dev, VA_BASE)?;
    let ctx_b = dev
        .create_context(0, &[])
        .map_err(|e| format!("CONTEXT_CREATE B: {e}"))?;
    rig.md.as_mut_slice().fill(0);
    let dva = rig.data_va;
    let q = RIG_DATA / 4; // 16 KiB quarters of the data buffer
    let chunk = q / QUEUE_N as u64;
    // A's job k fills chunk k of the first quarter with k + 1; A's last
    // job fills the third quarter; B's first job copies the first quarter
    // to the second, B's second the third to the fourth.
    let mut a_jobs = Vec::new();
    for k in 0..QUEUE_N {
        let c = fill(dva + k as u64 * chunk, chunk, k as u8 + 1);
        a_jobs.push(cmd_at(&mut rig, k * 32, &[c])?);
    }
    let a_last = cmd_at(&mut rig, 2048, &[fill(dva + 2 * q, q, 0xa5)])?;
    let copy = |from: u64, to: u64| Cmd::Copy {
        src_va: dva + from * q,
        dst_va: dva + to * q,
        length: q,
    };
    let b1 = cmd_at(&mut rig, 2080, &[copy(0, 1)])?;
    let b2 = cmd_at(&mut rig, 2112, &[copy(2, 3)])?;
    let sync = |what: &str| {
        node.create_syncobj(false)
            .map_err(|e| format!("syncobj create ({what}): {e}"))
    };
    let outs: Vec<Syncobj<'_>> = (0..QUEUE_N).map(|_| sync("A")).collect::<R<_>>()?;
    let tl = sync("timeline")?;
    let (ob1, ob2) = (sync("B1")?, sync("B2")?);
    let waits: Vec<SyncPoint> = outs.iter().map(Syncobj::binary).collect();

    check(&format!(
        "(i) host held: context A submits {QUEUE_N} jobs, each with its own out-syncobj, and one \
         with timeline point 5; context B (same file and device) one job waiting for the {QUEUE_N}, \
         one waiting for the point; every SUBMIT returns while the host is held"
    ));
    let mut hold = Hold::new(ctl)?;
    let ctx_a = &rig.ctx;
    let r = while_held(&mut hold, "SUBMITs", || -> R {
        for (k, &(va, len)) in a_jobs.iter().enumerate() {
            ctx_a
                .submit(va, len, &[], &[], &[outs[k].binary()])
                .map_err(|e| format!("SUBMIT A{k}: {e}"))?;
        }
        ctx_a
            .submit(a_last.0, a_last.1, &[], &[], &[tl.at(5)])
            .map_err(|e| format!("SUBMIT A (timeline point 5): {e}"))?;
        ctx_b
            .submit(b1.0, b1.1, &[], &waits, &[ob1.binary()])
            .map_err(|e| format!("SUBMIT B1 ({QUEUE_N} in-syncs): {e}"))?;
        ctx_b
            .submit(b2.0, b2.1, &[], &[tl.at(5)], &[ob2.binary()])
            .map_err(|e| format!("SUBMIT B2 (in-sync timeline point 5): {e}"))
    })?;
    r?;
    println!("  ok: {} SUBMITs returned with the host held", QUEUE_N + 3);

    check("while held: no fence signalled, nothing completed");
    expect_pending("B1's out-fence", &ob1)?;
    expect_pending("B2's out-fence", &ob2)?;
    for (k, s) in outs.iter().enumerate() {
        ensure(!signalled(s)?, || {
            format!("A{k}'s fence signalled while the host was held")
        })?;
    }
    let p = tl.query().map_err(|e| format!("timeline query: {e}"))?;
    ensure(p < 5, || {
        format!("timeline at point {p} while the host was held")
    })?;
    let n_a = QUEUE_N as u64 + 1;
    let s = expect_state("context A", ctx_a.query_state(), StateKind::Active, 0)?;
    ensure(s.submitted == n_a && s.completed == 0, || {
        format!(
            "context A: submitted {} completed {}, expected {n_a} and 0",
            s.submitted, s.completed
        )
    })?;
    let s = expect_state("context B", ctx_b.query_state(), StateKind::Active, 0)?;
    ensure(s.submitted == 2 && s.completed == 0, || {
        format!(
            "context B: submitted {} completed {}, expected 2 and 0",
            s.submitted, s.completed
        )
    })?;
    let s = expect_state("the device", dev.query_state(None), StateKind::Active, 0)?;
    ensure(s.submitted == 0, || {
        format!("device: submitted {}", s.submitted)
    })?;

    check("release: B's fences signal, and by then every fence they waited for has");
    hold.release()?;
    expect_ok("wait B1's out-fence", ob1.wait(TIMEOUT))?;
    for (k, s) in outs.iter().enumerate() {
        ensure(signalled(s)?, || {
            format!("B1 signalled before A{k}, one of its in-fences")
        })?;
        expect_signalled_ok(&format!("A{k}"), s)?;
    }
    expect_signalled_ok("B1", &ob1)?;
    expect_ok("wait B2's out-fence", ob2.wait(TIMEOUT))?;
    let p = tl.query().map_err(|e| format!("timeline query: {e}"))?;
    ensure(p >= 5, || {
        format!("B2 signalled with its in-point 5 at {p}")
    })?;
    expect_signalled_ok("B2", &ob2)?;
    println!("  ok: every fence signalled without error, B's after those it waited for");
    let md = rig.md.as_slice();
    let q = q as usize;
    for k in 0..QUEUE_N {
        let c = chunk as usize;
        verify(
            &format!("A{k}'s chunk"),
            &md[k * c..(k + 1) * c],
            k as u8 + 1,
        )?;
        verify(
            &format!("B1's copy of A{k}'s chunk"),
            &md[q + k * c..q + (k + 1) * c],
            k as u8 + 1,
        )?;
    }
    verify("A's last job", &md[2 * q..3 * q], 0xa5)?;
    verify("B2's copy of it", &md[3 * q..], 0xa5)?;
    println!("  ok: B's copies saw A's fills (the host ran them in fence order)");

    check(&format!(
        "(ii) {QUEUE_N} in-fences from vgem: SUBMIT returns at once, the out-fence waits for all of them"
    ));
    let Some(vg) = find_vgem() else {
        println!("SKIP-reason: no vgem device (modprobe vgem)");
        return Err("no vgem device: cannot check foreign in-fences".into());
    };
    let vfs: Vec<VgemFence> = (0..QUEUE_N).map(|_| vgem_fence(&vg)).collect::<R<_>>()?;
    let ins: Vec<Syncobj<'_>> = (0..QUEUE_N).map(|_| sync("vgem")).collect::<R<_>>()?;
    for (s, f) in ins.iter().zip(&vfs) {
        import_sync_file(&node, s.raw(), f.sync_file.as_fd())
            .map_err(|e| format!("import vgem sync_file: {e}"))?;
    }
    let last = vfs.last().unwrap();
    let wait_v: Vec<SyncPoint> = ins.iter().map(Syncobj::binary).collect();
    let ov = sync("vgem job")?;
    let (va, len) = cmd_at(&mut rig, 2144, &[fill(dva, 4096, 0x3c)])?;
    expect_ok(
        &format!("SUBMIT with {QUEUE_N} vgem in-fences"),
        rig.ctx.submit(va, len, &[], &wait_v, &[ov.binary()]),
    )?;
    vgem_still_pending("SUBMIT returned", last)?;
    println!("  ok: SUBMIT returned with the vgem fences unsignalled");
    expect_pending("out-fence, no vgem fence signalled", &ov)?;
    vgem_still_pending("out-fence pending", last)?;
    for f in &vfs[..QUEUE_N - 1] {
        vgem_signal(&vg, f)?;
    }
    note(&format!("signalled {} of the vgem fences", QUEUE_N - 1));
    expect_pending("out-fence, one vgem fence unsignalled", &ov)?;
    vgem_still_pending("out-fence pending", last)?;
    vgem_signal(&vg, last)?;
    expect_ok(
        "wait the out-fence after the last vgem fence",
        ov.wait(TIMEOUT),
    )?;
    expect_signalled_ok("the vgem-dependent job", &ov)?;
    verify(
        "data after the vgem-dependent FILL",
        &rig.md.as_slice()[..4096],
        0x3c,
    )?;

    check("an in-fence that is a timeline syncobj point (a vgem fence at point 3)");
    let vf = vgem_fence(&vg)?;
    let bin = sync("vgem binary")?;
    import_sync_file(&node, bin.raw(), vf.sync_file.as_fd())
        .map_err(|e| format!("import vgem sync_file: {e}"))?;
    let tl2 = sync("timeline 2")?;
    node.syncobj_timeline_transfer(bin.handle(), tl2.handle(), 0, 3)
        .map_err(|e| format!("SYNCOBJ_TRANSFER to point 3: {e}"))?;
    let ot = sync("timeline job")?;
    let (va, len) = cmd_at(&mut rig, 2176, &[fill(dva, 4096, 0x3d)])?;
    expect_ok(
        "SUBMIT with in-sync timeline point 3",
        rig.ctx.submit(va, len, &[], &[tl2.at(3)], &[ot.binary()]),
    )?;
    expect_pending("out-fence, point 3 unsignalled", &ot)?;
    vgem_still_pending("out-fence pending", &vf)?;
    vgem_signal(&vg, &vf)?;
    expect_ok("wait the out-fence after point 3", ot.wait(TIMEOUT))?;
    expect_signalled_ok("the timeline-dependent job", &ot)?;
    verify(
        "data after the timeline-dependent FILL",
        &rig.md.as_slice()[..4096],
        0x3d,
    )?;

    check("(iii) QUERY_STATE: submitted counts the submissions, completed reaches it");
    for (what, ctx, n) in [("A", &rig.ctx, n_a + 2), ("B", &ctx_b, 2)] {
        let t0 = Instant::now();
        let s = loop {
            let s = ctx
                .query_state()
                .map_err(|e| format!("QUERY_STATE {what}: {e}"))?;
            if s.completed >= s.submitted || t0.elapsed() > TIMEOUT {
                break s;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        ensure(
            s.state == StateKind::Active && s.submitted == n && s.completed == n,
            || {
                format!(
                    "context {what}: {:?} submitted {} completed {}, expected Active, {n} and {n}",
                    s.state, s.submitted, s.completed
                )
            },
        )?;
        println!("  ok: context {what}: submitted {n}, completed {n}");
    }
    drop(ctx_b);
    drop(rig);
    Ok(())
}

// ---------------------------------------------------------------- signals

static SIGUSR1_SEEN: AtomicU64 = AtomicU64::new(0);

extern "C" fn on_sigusr1(_: libc::c_int) {
    SIGUSR1_SEEN.fetch_add(1, Ordering::Relaxed);
}

/// A no-op SIGUSR1 handler without SA_RESTART: a blocking syscall the
/// signal interrupts returns EINTR instead of being restarted.
fn install_sigusr1() -> R {
    // SAFETY: a zeroed sigaction with an async-signal-safe handler (one
    // atomic add), an empty mask and no flags.
    let r = unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigusr1 as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        sa.sa_flags = 0;
        libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut())
    };
    ensure(r == 0, || {
        format!("sigaction: {}", io::Error::last_os_error())
    })
}

/// One raw ioctl(2), no retry: Ok, or the errno.
///
/// # Safety
///
/// `arg` must be what `code` expects.
unsafe fn raw_ioctl<T>(fd: RawFd, code: u64, arg: *mut T) -> Result<(), i32> {
    // SAFETY: the caller's promise.
    if unsafe { libc::ioctl(fd, code as libc::Ioctl, arg) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }
}

fn ioctl_code(name: &str) -> u64 {
    ioctl_codes()
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, c)| c)
        .unwrap_or_else(|| panic!("no ioctl {name}"))
}

#[repr(C)]
struct GemClose {
    handle: u32,
    pad: u32,
}

/// What the submitting thread of `signals` did.
#[derive(Debug, Default)]
struct SignalCounts {
    submits: u64,
    allocations: u64,
    last_point: u64,
    /// (ioctl, errno) of every EINTR or EAGAIN.
    interrupted: Vec<(&'static str, i32)>,
    /// The first other failure.
    error: Option<String>,
}

/// The ids the submitting thread of `signals` uses (a [`Rig`] holds
/// mappings, which cannot cross threads).
#[derive(Clone, Copy)]
struct SignalTarget {
    device: u32,
    context: u32,
    cmd_va: u64,
    timeline: u32,
}

fn signals_worker(node: &Node, t: SignalTarget, stop: &AtomicBool) -> SignalCounts {
    let fd = node.as_fd().as_raw_fd();
    let (submit, gem_create, query) = (
        ioctl_code("DRM_IOCTL_DXG_SUBMIT"),
        ioctl_code("DRM_IOCTL_DXG_GEM_CREATE"),
        ioctl_code("DRM_IOCTL_DXG_QUERY_STATE"),
    );
    let gem_close = nix::request_code_write!(b'd', 0x09, std::mem::size_of::<GemClose>()) as u64;
    let pr = alloc_priv(4096);
    let mut c = SignalCounts::default();
    let mut point = 0;
    let seen = |c: &mut SignalCounts, what: &'static str, e: i32| {
        if e == libc::EINTR || e == libc::EAGAIN {
            c.interrupted.push((what, e));
        } else if c.error.is_none() {
            c.error = Some(format!("{what}: {}", ename(e)));
        }
    };
    while !stop.load(Ordering::Relaxed) && c.error.is_none() {
        // At most 256 jobs pending (the kernel takes 1024).
        loop {
            let mut q = query_state_args(t.device, t.context);
            // SAFETY: a valid drm_dxg_query_state, no pointers.
            match unsafe { raw_ioctl(fd, query, &mut q) } {
                Ok(()) if q.submitted.saturating_sub(q.completed) > 256 => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Ok(()) => break,
                Err(e) => {
                    seen(&mut c, "QUERY_STATE", e);
                    break;
                }
            }
        }
        point += 1;
        let out = [DrmDxgSync {
            handle: t.timeline,
            flags: 0,
            point,
        }];
        let mut a = match submit_args(t.context, t.cmd_va, 32, &[], &[], &out) {
            Ok(a) => a,
            Err(e) => {
                c.error = Some(format!("submit args: {e}"));
                break;
            }
        };
        // SAFETY: `a` points to `out`, alive for the call.
        match unsafe { raw_ioctl(fd, submit, &mut a) } {
            Ok(()) => {
                c.submits += 1;
                c.last_point = point;
            }
            Err(e) => seen(&mut c, "SUBMIT", e),
        }
        let mut g = match gem_create_args(t.device, 4096, pr.as_bytes()) {
            Ok(g) => g,
            Err(e) => {
                c.error = Some(format!("GEM_CREATE args: {e}"));
                break;
            }
        };
        // SAFETY: `g.priv_data` points to `pr`, alive for the call.
        match unsafe { raw_ioctl(fd, gem_create, &mut g) } {
            Ok(()) => {
                c.allocations += 1;
                let mut cl = GemClose {
                    handle: g.handle,
                    pad: 0,
                };
                // SAFETY: a valid drm_gem_close.
                if let Err(e) = unsafe { raw_ioctl(fd, gem_close, &mut cl) } {
                    seen(&mut c, "GEM_CLOSE", e);
                }
            }
            Err(e) => seen(&mut c, "GEM_CREATE", e),
        }
    }
    c
}

/// `signals NODE SECONDS`. Resets the host's stats (`stats reset`) itself
/// before the loop and compares them after it, so the shell test need not;
/// it prints `submits=N allocations=M` and the host's counts
/// (`host SUBMITCOMMAND=N CREATEALLOCATION=M`) for the log.
fn scenario_signals(path: &str, secs: u64, ctl: &HostCtl) -> R {
    let node = Node::open(path).map_err(|e| format!("open {path}: {e}"))?;
    let dev = node
        .create_device()
        .map_err(|e| format!("DEVICE_CREATE: {e}"))?;
    let mut rig = Rig::new(&dev, VA_BASE)?;
    write_cmds(&mut rig.mc, 0, &[fill(rig.data_va, 4096, 0x5a)])?;
    let tl = node
        .create_syncobj(false)
        .map_err(|e| format!("syncobj: {e}"))?;
    install_sigusr1()?;
    check(&format!(
        "for {secs} s one thread SUBMITs and GEM_CREATEs + GEM_CLOSEs (raw ioctls, no retries) \
         while another sends it SIGUSR1 (handler without SA_RESTART) every 1 ms: no EINTR, no EAGAIN"
    ));
    ctl.run("stats reset")?;
    let stop = AtomicBool::new(false);
    let target = SignalTarget {
        device: dev.id(),
        context: rig.ctx.id(),
        cmd_va: rig.cmd_va,
        timeline: tl.raw(),
    };
    let (counts, sent) = std::thread::scope(|sc| {
        let (tx, rx) = mpsc::channel();
        let (node, stop) = (&node, &stop);
        let w = sc.spawn(move || {
            // SAFETY: no preconditions.
            let _ = tx.send(unsafe { libc::pthread_self() });
            signals_worker(node, target, stop)
        });
        let mut sent = 0u64;
        if let Ok(tid) = rx.recv() {
            let t0 = Instant::now();
            while t0.elapsed() < Duration::from_secs(secs) && !w.is_finished() {
                // SAFETY: the worker thread is alive until `stop` (it is
                // joined below).
                unsafe { libc::pthread_kill(tid, libc::SIGUSR1) };
                sent += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        stop.store(true, Ordering::Relaxed);
        (w.join(), sent)
    });
    let c = counts.map_err(|_| "the submitting thread panicked".to_string())?;
    let seen = SIGUSR1_SEEN.load(Ordering::Relaxed);
    println!("submits={} allocations={}", c.submits, c.allocations);
    println!("signals sent={sent} handled={seen}");
    ensure(c.interrupted.is_empty(), || {
        let mut by: BTreeMap<String, usize> = BTreeMap::new();
        for (w, e) in &c.interrupted {
            *by.entry(format!("{w} {}", ename(*e))).or_default() += 1;
        }
        format!("ioctls failed on a signal: {by:?}")
    })?;
    if let Some(e) = c.error {
        return Err(format!("the loop stopped: {e}"));
    }
    ensure(seen > 0 && c.submits > 0 && c.allocations > 0, || {
        format!(
            "nothing to check: {seen} signals handled, {} submits, {} allocations",
            c.submits, c.allocations
        )
    })?;
    println!("  ok: no ioctl failed with EINTR or EAGAIN");

    check("every submitted job completes");
    let mut tries = 0;
    loop {
        match tl.wait_point(c.last_point, TIMEOUT) {
            Ok(()) => break,
            // Core DRM's syncobj wait may see a last signal still pending.
            Err(e) if io_errno(&e) == libc::EINTR && tries < 10 => tries += 1,
            Err(e) => return Err(format!("wait for point {}: {e}", c.last_point)),
        }
    }
    expect_signalled_ok("the last job", &tl)?;
    let s = expect_state("the context", rig.ctx.query_state(), StateKind::Active, 0)?;
    ensure(
        s.submitted == c.submits && s.completed == s.submitted,
        || {
            format!(
                "context: submitted {} completed {}, but {} SUBMITs succeeded",
                s.submitted, s.completed, c.submits
            )
        },
    )?;

    check("the host saw each successful SUBMIT and GEM_CREATE exactly once");
    let st = ctl.stats()?;
    let (ss, sa) = st.cmd("SubmitCommand");
    let (cs, ca) = st.cmd("CreateAllocation");
    println!(
        "host SUBMITCOMMAND={} CREATEALLOCATION={}",
        ss + sa,
        cs + ca
    );
    ensure(ss + sa == c.submits, || {
        format!(
            "the host got {} SUBMITCOMMANDs for {} successful SUBMITs",
            ss + sa,
            c.submits
        )
    })?;
    ensure(cs == c.allocations && ca == 0, || {
        format!(
            "the host got CREATEALLOCATION sync={cs} async={ca} for {} successful GEM_CREATEs",
            c.allocations
        )
    })?;
    drop(rig);
    Ok(())
}

// ---------------------------------------------------------------- inflight

const INFLIGHT_N: usize = 8;

/// `inflight NODE destroy|close|dead [--kill PID]`: with the host held, 8
/// jobs are submitted; then CONTEXT_DESTROY (or close of the DRM file, in
/// another thread) must wait for them, and once released, they all
/// succeed. `dead`: a CONTEXT_DESTROY waits, then the host (PID) is
/// SIGKILLed: every fence fails with ENODEV and the destroy returns.
fn scenario_inflight(path: &str, mode: &str, kill: Option<i32>, ctl: &HostCtl) -> R {
    if mode == "dead" && kill.is_none() {
        return Err("inflight dead needs --kill PID (of the host)".into());
    }
    // Leaked: the thread below uses them, and after close nothing may drop.
    let node: &'static Node = Box::leak(Box::new(
        Node::open(path).map_err(|e| format!("open {path}: {e}"))?,
    ));
    let dev: &'static Device<'static> = Box::leak(Box::new(
        node.create_device()
            .map_err(|e| format!("DEVICE_CREATE: {e}"))?,
    ));
    let mut rig = Rig::new(dev, VA_BASE)?;
    let mut jobs = Vec::new();
    for k in 0..INFLIGHT_N {
        let c = fill(rig.data_va + k as u64 * 4096, 4096, 0x70 + k as u8);
        jobs.push(cmd_at(&mut rig, k * 32, &[c])?);
    }
    let outs: Vec<Syncobj<'static>> = (0..INFLIGHT_N)
        .map(|_| {
            node.create_syncobj(false)
                .map_err(|e| format!("syncobj: {e}"))
        })
        .collect::<R<_>>()?;
    let what = match mode {
        "destroy" => "CONTEXT_DESTROY",
        "close" => "close() of the DRM file",
        _ => "CONTEXT_DESTROY (then the host is killed)",
    };
    check(&format!(
        "host held: {INFLIGHT_N} jobs, then {what} in another thread"
    ));
    let mut hold = Hold::new(ctl)?;
    let ctx = &rig.ctx;
    let r = while_held(&mut hold, "SUBMITs", || -> R {
        for (k, &(va, len)) in jobs.iter().enumerate() {
            ctx.submit(va, len, &[], &[], &[outs[k].binary()])
                .map_err(|e| format!("SUBMIT {k}: {e}"))?;
        }
        Ok(())
    })?;
    r?;
    let files: Vec<OwnedFd> = outs
        .iter()
        .map(|s| s.to_fd(true).map_err(|e| format!("sync_file export: {e}")))
        .collect::<R<_>>()?;
    for (k, f) in files.iter().enumerate() {
        let st = sync_file_status(f.as_fd()).map_err(|e| format!("FILE_INFO: {e}"))?;
        ensure(st == 0, || {
            format!("fence {k} is {} while held", status_name(st))
        })?;
    }
    let fd = node.as_fd().as_raw_fd();
    let ctx_id = rig.ctx.id();
    let Rig {
        ctx,
        data,
        md,
        cmd,
        mc,
        ..
    } = rig;
    // The destroy (or close) below ends them in the kernel.
    std::mem::forget((ctx, data, cmd, outs));
    if mode == "close" {
        // The mappings hold the file: the close must be its last reference.
        drop((md, mc));
    } else {
        std::mem::forget((md, mc));
    }
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    let close = mode == "close";
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let r = if close {
            // SAFETY: closes the DRM file's fd; everything using it was
            // leaked above, nothing uses it again.
            if unsafe { libc::close(fd) } == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        } else {
            let a = DrmDxgContextDestroy {
                context: ctx_id,
                reserved: 0,
            };
            // SAFETY: a plain struct without pointers.
            nixr(unsafe { ioctl_context_destroy(fd, &a) })
        };
        d.store(true, Ordering::SeqCst);
        let _ = tx.send(r);
    });
    // Not a timing check of the driver: the call may not return at all
    // while the host holds its jobs; look at it for a while.
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(100));
        ensure(!done.load(Ordering::SeqCst), || {
            format!("{what} returned while the host held jobs it was sent")
        })?;
    }
    println!("  ok: {what} still waiting after 2 s of hold");
    for (k, f) in files.iter().enumerate() {
        let st = sync_file_status(f.as_fd()).map_err(|e| format!("FILE_INFO: {e}"))?;
        ensure(st == 0, || {
            format!("fence {k} is {} while {what} waits", status_name(st))
        })?;
    }
    println!("  ok: no fence signalled");

    if let Some(pid) = kill.filter(|_| mode == "dead") {
        check(&format!(
            "SIGKILL the host (pid {pid}): every fence fails with ENODEV, {what} returns"
        ));
        // SAFETY: plain syscall.
        if unsafe { libc::kill(pid, libc::SIGKILL) } != 0 {
            return Err(format!("kill {pid}: {}", io::Error::last_os_error()));
        }
        hold.disarm();
        for (k, f) in files.iter().enumerate() {
            expect_sync_file(&format!("fence {k}"), f.as_fd(), TIMEOUT, -libc::ENODEV)?;
        }
        let r = rx
            .recv_timeout(TIMEOUT)
            .map_err(|_| format!("{what} did not return within {TIMEOUT:?} after the host died"))?;
        match r {
            Ok(()) => println!("  ok: {what} returned 0"),
            Err(e) if io_errno(&e) == libc::ENODEV => println!("  ok: {what} returned ENODEV"),
            Err(e) => return Err(format!("{what} failed with {e}")),
        }
        return Ok(());
    }

    check(&format!(
        "release: {what} returns, every fence signalled without error"
    ));
    hold.release()?;
    let r = rx
        .recv_timeout(TIMEOUT)
        .map_err(|_| format!("{what} did not return within {TIMEOUT:?} after release"))?;
    r.map_err(|e| format!("{what} failed: {e}"))?;
    println!("  ok: {what} returned");
    for (k, f) in files.iter().enumerate() {
        expect_sync_file(&format!("fence {k}"), f.as_fd(), TIMEOUT, 1)?;
    }
    if close {
        check("the adapter still works (a new file)");
        let n = Node::open(path).map_err(|e| format!("open {path}: {e}"))?;
        node_works(&n, 0x7e)
    } else {
        // The first device's buffers stay mapped at VA_BASE (the file's
        // GPU VA space is shared by its devices).
        check("the file still works (a new device)");
        let d2 = node
            .create_device()
            .map_err(|e| format!("DEVICE_CREATE: {e}"))?;
        let mut r = Rig::new(&d2, VA_BASE + 0x1000_0000)?;
        r.fill_check(0x7e)
    }
}

// ---------------------------------------------------------------- lost

/// How long a job may take before the context is lost: the guest test
/// loads dxg with job_timeout_ms=3000.
const LOST_WAIT: Duration = Duration::from_secs(30);

fn scenario_lost(path: &str, ctl: &HostCtl) -> R {
    let node = Node::open(path).map_err(|e| format!("open {path}: {e}"))?;
    let dev = node
        .create_device()
        .map_err(|e| format!("DEVICE_CREATE: {e}"))?;
    let mut rig = Rig::new(&dev, VA_BASE)?;
    let ctx_b = dev
        .create_context(0, &[])
        .map_err(|e| format!("CONTEXT_CREATE B: {e}"))?;
    let dva = rig.data_va;
    let a1 = cmd_at(&mut rig, 0, &[fill(dva, 4096, 0x11)])?;
    let a2 = cmd_at(&mut rig, 32, &[fill(dva + 4096, 4096, 0x12)])?;
    let b1 = cmd_at(&mut rig, 64, &[fill(dva + 8192, 4096, 0x13)])?;
    let sync = || {
        node.create_syncobj(false)
            .map_err(|e| format!("syncobj: {e}"))
    };
    let (f1, f2, fb) = (sync()?, sync()?, sync()?);

    check("the host never completes A's first job (stall-next 1); A's second queues behind it");
    let mut stall = Stall::new(ctl, 1)?;
    let ctx_a = &rig.ctx;
    expect_ok(
        "SUBMIT A1",
        ctx_a.submit(a1.0, a1.1, &[], &[], &[f1.binary()]),
    )?;
    expect_ok(
        "SUBMIT A2",
        ctx_a.submit(a2.0, a2.1, &[], &[], &[f2.binary()]),
    )?;
    let sf1 = f1.to_fd(true).map_err(|e| format!("sync_file: {e}"))?;
    let sf2 = f2.to_fd(true).map_err(|e| format!("sync_file: {e}"))?;

    check(&format!(
        "both fail with ETIME once job_timeout_ms passes (waiting up to {LOST_WAIT:?})"
    ));
    expect_sync_file("A1's fence", sf1.as_fd(), LOST_WAIT, -libc::ETIME)?;
    expect_sync_file("A2's fence", sf2.as_fd(), LOST_WAIT, -libc::ETIME)?;
    let s = expect_state(
        "context A",
        ctx_a.query_state(),
        StateKind::ContextLost,
        -libc::ETIME,
    )?;
    ensure(s.submitted == 2, || {
        format!("context A: submitted {}", s.submitted)
    })?;
    expect_err(
        "SUBMIT on the lost context A",
        ctx_a.submit(a1.0, a1.1, &[], &[], &[]),
        libc::ECANCELED,
    )?;

    check("a SUBMIT on B with A1's failed fence as in-fence returns 0; its fence fails with ETIME, unsent");
    let b0 = cmd_at(&mut rig, 96, &[fill(dva + 12288, 4096, 0x14)])?;
    let f0 = sync()?;
    expect_ok(
        "SUBMIT B0 after A1's failed fence",
        ctx_b.submit(b0.0, b0.1, &[], &[f1.binary()], &[f0.binary()]),
    )?;
    let sf0 = f0.to_fd(true).map_err(|e| format!("sync_file: {e}"))?;
    expect_sync_file("B0's fence", sf0.as_fd(), TIMEOUT, -libc::ETIME)?;

    check("context B of the same device keeps working");
    expect_ok(
        "SUBMIT B",
        ctx_b.submit(b1.0, b1.1, &[], &[], &[fb.binary()]),
    )?;
    expect_ok("wait B's fence", fb.wait(TIMEOUT))?;
    expect_signalled_ok("B's job", &fb)?;
    verify("B's FILL", &rig.md.as_slice()[8192..12288], 0x13)?;
    verify(
        "B0's FILL (never sent)",
        &rig.md.as_slice()[12288..16384],
        0,
    )?;
    let s = expect_state("context B", ctx_b.query_state(), StateKind::Active, 0)?;
    ensure(s.submitted == 2 && s.completed == 2, || {
        format!(
            "context B: submitted {} completed {}",
            s.submitted, s.completed
        )
    })?;
    expect_state("the device", dev.query_state(None), StateKind::Active, 0)?;
    let out = stall.clear()?;
    note(&format!("stall clear: {}", out.trim()));
    drop(ctx_b);
    drop(rig);
    Ok(())
}

// ---------------------------------------------------------------- device-lost

/// A GPU VA nothing maps (the rigs map from `VA_BASE`).
const UNMAPPED_VA: u64 = VA_BASE + 0x4000_0000;

fn scenario_device_lost(path: &str) -> R {
    let node = Node::open(path).map_err(|e| format!("open {path}: {e}"))?;
    let dev = node
        .create_device()
        .map_err(|e| format!("DEVICE_CREATE: {e}"))?;
    let mut rig = Rig::new(&dev, VA_BASE)?;
    let ctx_b = dev
        .create_context(0, &[])
        .map_err(|e| format!("CONTEXT_CREATE B: {e}"))?;
    let dva = rig.data_va;
    let bad = cmd_at(
        &mut rig,
        0,
        &[Cmd::Copy {
            src_va: UNMAPPED_VA,
            dst_va: dva,
            length: 4096,
        }],
    )?;
    let good = cmd_at(&mut rig, 32, &[fill(dva, 4096, 0x21)])?;
    let f = rig
        .node
        .create_syncobj(false)
        .map_err(|e| format!("syncobj: {e}"))?;

    check(&format!(
        "a COPY from the unmapped GPU VA {UNMAPPED_VA:#x} faults on the host: its fence fails with EIO"
    ));
    expect_ok(
        "SUBMIT the faulting COPY",
        rig.ctx.submit(bad.0, bad.1, &[], &[], &[f.binary()]),
    )?;
    let sf = f.to_fd(true).map_err(|e| format!("sync_file: {e}"))?;
    expect_sync_file("the faulting job's fence", sf.as_fd(), TIMEOUT, -libc::EIO)?;

    check("the device is lost: QUERY_STATE says so, every context refuses work");
    expect_state(
        "the device",
        dev.query_state(None),
        StateKind::DeviceLost,
        -libc::EIO,
    )?;
    expect_state(
        "context A",
        rig.ctx.query_state(),
        StateKind::DeviceLost,
        -libc::EIO,
    )?;
    expect_state(
        "context B",
        ctx_b.query_state(),
        StateKind::DeviceLost,
        -libc::EIO,
    )?;
    expect_err(
        "SUBMIT on context A",
        rig.ctx.submit(good.0, good.1, &[], &[], &[]),
        libc::ECANCELED,
    )?;
    expect_err(
        "SUBMIT on context B",
        ctx_b.submit(good.0, good.1, &[], &[], &[]),
        libc::ECANCELED,
    )?;

    check("a new device on the same file works");
    let dev2 = node
        .create_device()
        .map_err(|e| format!("DEVICE_CREATE (second): {e}"))?;
    let mut rig2 = Rig::new(&dev2, VA_BASE + 0x1000_0000)?;
    rig2.fill_check(0x6d)?;
    expect_state(
        "the new device",
        dev2.query_state(None),
        StateKind::Active,
        0,
    )?;
    drop(rig2);
    drop(ctx_b);
    drop(rig);
    Ok(())
}

// ---------------------------------------------------------------- count

/// The host commands of a submission.
const SUBMIT_CMDS: [&str; 4] = [
    "SubmitCommand",
    "SignalSyncObject",
    "WaitForSyncObjectFromCpu",
    "WaitForSyncObjectFromGpu",
];

/// `count NODE N [--async]`: the host process's pid and name, then resets
/// the host's stats, N submissions, each waited for; the host's messages
/// per submission.
fn scenario_count(path: &str, n: u64, async_msg: bool, ctl: &HostCtl) -> R {
    ensure(n > 0, || "count: N must not be 0".into())?;
    let node = Node::open(path).map_err(|e| format!("open {path}: {e}"))?;
    let dev = node
        .create_device()
        .map_err(|e| format!("DEVICE_CREATE: {e}"))?;
    // CREATEPROCESS names the opener as dxgkrnl does: its pid and comm.
    check("the host process carries this task's pid and name");
    let pid = std::process::id();
    let want = format!(" pid {pid} name \"dxg-uapi-test\"");
    let procs = ctl.run("processes")?;
    ensure(procs.lines().any(|l| l.ends_with(&want)), || {
        format!("no host process with{want}:\n{procs}")
    })?;
    let mut rig = Rig::new(&dev, VA_BASE)?;
    let dva = rig.data_va;
    let (va, len) = cmd_at(&mut rig, 0, &[fill(dva, 4096, 0x42)])?;
    let s = node
        .create_syncobj(false)
        .map_err(|e| format!("syncobj: {e}"))?;
    check(&format!(
        "{n} submissions, each waited for: the host's messages per submission ({})",
        if async_msg {
            "host with --async-msg"
        } else {
            "synchronous host messages"
        }
    ));
    ctl.run("stats reset")?;
    for i in 0..n {
        rig.ctx
            .submit(va, len, &[], &[], &[s.binary()])
            .map_err(|e| format!("SUBMIT {i}: {e}"))?;
        s.wait(TIMEOUT)
            .map_err(|e| format!("wait for submission {i}: {e}"))?;
    }
    let st = ctl.stats()?;
    let per = |v: u64| v as f64 / n as f64;
    let (mut sync, mut asyn) = (0, 0);
    for name in SUBMIT_CMDS {
        let (s, a) = st.cmd(name);
        println!(
            "per-submission {name} sync={:.2} async={:.2}",
            per(s),
            per(a)
        );
        sync += s;
        asyn += a;
    }
    let known: Vec<String> = SUBMIT_CMDS.iter().map(|c| cmd_key(c)).collect();
    for (k, &(s, a)) in &st.cmds {
        if !known.contains(k) {
            note(&format!(
                "also sent meanwhile: {k} sync={s} async={a} ({:.2} per submission)",
                per(s + a)
            ));
        }
    }
    let (cs, ca) = st.cmd("WaitForSyncObjectFromCpu");
    ensure(cs + ca == 0, || {
        format!("{} WAITFORSYNCOBJECTFROMCPU for {n} submissions: expected none (one event per context)", cs + ca)
    })?;
    let (ss, sa) = st.cmd("SubmitCommand");
    ensure(ss + sa == n, || {
        format!("{} SUBMITCOMMANDs for {n} submissions", ss + sa)
    })?;
    if let Some(&x) = st.totals.get("submissions") {
        ensure(x == n, || {
            format!("the host executed {x} submissions, not {n}")
        })?;
    }
    if async_msg {
        ensure(sync == 0 && asyn == 3 * n, || {
            format!(
                "per submission {:.2} synchronous and {:.2} asynchronous messages, expected 0 and 3 \
                 (SUBMITCOMMAND + SIGNALSYNCOBJECT of the fence + SIGNALSYNCOBJECT of the event)",
                per(sync),
                per(asyn)
            )
        })?;
    } else {
        ensure(sync == 3 * n, || {
            format!(
                "per submission {:.2} synchronous messages, expected 3 (SUBMITCOMMAND + \
                 SIGNALSYNCOBJECT of the fence + SIGNALSYNCOBJECT of the event)",
                per(sync)
            )
        })?;
    }
    println!(
        "  ok: per submission {:.2} sync, {:.2} async messages, no CPU wait",
        per(sync),
        per(asyn)
    );
    drop(rig);
    Ok(())
}

// ---------------------------------------------------------------- main

const USAGE: &str = "usage: dxg-uapi-test errors NODE | prime NODE | threads NODE... |
       close-inflight NODE | engine NODE | unplug rescind|pci --gone CMD --back CMD | egl";

/// The scenarios of queued submission.
const USAGE_QUEUED: &str =
    "       queue NODE | signals NODE SECONDS | inflight NODE destroy|close|dead [--kill PID] |
       stopped NODE --kill PID | stalled NODE --kill PID | race NODE | lost NODE | device-lost NODE | count NODE N [--async]
  [--control SOCK]: the host's control socket (default $DXG_HOST_SOCK or /run/dxg-host.sock)";

/// Options of the scenarios that drive the host, anywhere after the
/// scenario name.
#[derive(Debug, Default)]
struct Opts {
    /// `--control SOCK`: the host's control socket.
    control: Option<String>,
    /// `--kill PID`: the host process (`inflight dead` kills it, `stopped`
    /// stops and continues it).
    kill: Option<i32>,
    /// `--async`: the host runs with --async-msg (`count`).
    async_msg: bool,
}

/// Takes the [`Opts`] out of `args` (the scenario and its positional
/// arguments stay, in order).
fn take_opts(args: &[String]) -> R<(Opts, Vec<String>)> {
    let mut o = Opts::default();
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value"))
        };
        match a.as_str() {
            "--control" => o.control = Some(value()?),
            "--kill" => {
                let v = value()?;
                o.kill = Some(v.parse().map_err(|_| format!("--kill {v}: not a pid"))?);
            }
            "--async" => o.async_msg = true,
            _ => rest.push(a.clone()),
        }
    }
    Ok((o, rest))
}

fn number(what: &str, v: &str) -> R<u64> {
    v.parse()
        .map_err(|_| format!("{what} {v:?} is not a number"))
}

fn run(args: &[String]) -> R {
    // `unplug` takes shell commands as arguments: leave them alone.
    let (opts, args) = if args.first().map(String::as_str) == Some("unplug") {
        (Opts::default(), args.to_vec())
    } else {
        take_opts(args)?
    };
    let ctl = HostCtl::new(&opts);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["queue", n] => scenario_queue(n, &ctl),
        ["signals", n, secs] => scenario_signals(n, number("SECONDS", secs)?, &ctl),
        ["inflight", n, mode @ ("destroy" | "close" | "dead")] => {
            scenario_inflight(n, mode, opts.kill, &ctl)
        }
        ["stopped", n] => scenario_stopped(n, opts.kill),
        ["stalled", n] => scenario_stalled(n, opts.kill),
        ["race", n] => scenario_race(n, &HostCtl::new(&opts)),
        ["lost", n] => scenario_lost(n, &ctl),
        ["device-lost", n] => scenario_device_lost(n),
        ["count", n, count] => scenario_count(n, number("N", count)?, opts.async_msg, &ctl),
        ["errors", n] => scenario_errors(n),
        ["prime", n] => scenario_prime(n),
        ["threads", ns @ ..] if !ns.is_empty() => scenario_threads(&args[1..]),
        ["close-inflight", n] => scenario_close_inflight(n),
        ["engine", n] => scenario_engine(n),
        ["unplug", kind @ ("rescind" | "pci"), "--gone", g, "--back", b] => {
            scenario_unplug(kind, g, b)
        }
        ["egl"] => scenario_egl(),
        _ => Err(format!("{USAGE} |\n{USAGE_QUEUED}")),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn host_stats() {
        // The format of `dxg-host ctl stats` (its --help).
        let st = HostStats::parse(
            "CREATEALLOCATION sync=2 async=0\nSUBMITCOMMAND sync=3 async=4\n\
             requests 9\nerrors 0\nbad 0\nfaults 0\nsubmissions 3\n",
        );
        assert_eq!(st.cmd("SubmitCommand"), (3, 4));
        assert_eq!(st.cmd("SUBMIT_COMMAND"), (3, 4));
        assert_eq!(st.cmd("CreateAllocation"), (2, 0));
        assert_eq!(st.cmd("WaitForSyncObjectFromCpu"), (0, 0));
        assert_eq!(st.totals.get("submissions"), Some(&3));
        assert_eq!(st.totals.get("requests"), Some(&9));
        assert_eq!(st.cmds.len(), 2);
    }

    #[test]
    fn options() {
        let (o, rest) = take_opts(&args(&[
            "inflight",
            "/dev/x",
            "dead",
            "--kill",
            "42",
            "--control",
            "/tmp/s",
        ]))
        .unwrap();
        assert_eq!(rest, args(&["inflight", "/dev/x", "dead"]));
        assert_eq!(
            (o.kill, o.control.as_deref(), o.async_msg),
            (Some(42), Some("/tmp/s"), false)
        );
        let (o, rest) = take_opts(&args(&["count", "--async", "/dev/x", "20"])).unwrap();
        assert_eq!(rest, args(&["count", "/dev/x", "20"]));
        assert!(o.async_msg && o.kill.is_none() && o.control.is_none());
        assert!(take_opts(&args(&["count", "/dev/x", "3", "--kill"])).is_err());
        assert!(take_opts(&args(&["inflight", "--kill", "x"])).is_err());
        assert!(run(&args(&["inflight", "/dev/x", "dead"]))
            .unwrap_err()
            .contains("--kill"));
        assert!(run(&args(&["count", "/dev/x", "many"]))
            .unwrap_err()
            .contains("not a number"));
    }

    #[test]
    fn foreign_ioctl_numbers() {
        // DRM_IOCTL_GEM_CLOSE, DRM_IOCTL_VGEM_FENCE_ATTACH/SIGNAL and
        // DMA_BUF_IOCTL_EXPORT_SYNC_FILE as the kernel headers define them.
        let gem_close = nix::request_code_write!(b'd', 0x09, size_of::<GemClose>()) as u64;
        assert_eq!(gem_close, 0x4008_6409);
        let attach = nix::request_code_readwrite!(b'd', 0x41, size_of::<VgemFenceAttach>());
        assert_eq!(attach as u64, 0xc010_6441);
        let signal = nix::request_code_write!(b'd', 0x42, size_of::<VgemFenceSignal>());
        assert_eq!(signal as u64, 0x4008_6442);
        let export = nix::request_code_readwrite!(b'b', 2, size_of::<DmaBufExportSyncFile>());
        assert_eq!(export as u64, 0xc008_6202);
        assert_eq!(ioctl_code("DRM_IOCTL_DXG_QUERY_STATE"), 0xc028_644c);
    }
}
