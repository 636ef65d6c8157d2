// SPDX-License-Identifier: GPL-2.0

//! Per-context worker threads: execute queued submissions (the
//! [`dxg_proto::cmdbuf`] command set at a GPU VA), GPU waits and signals,
//! in order. A WAIT blocks only its own context.
//!
//! Two test knobs delay completion (control commands, see
//! [`crate::config::USAGE`]):
//!
//! - *hold* ([`State::hold`]): no worker starts a queued operation until
//!   `release`; the queues keep filling and requests are answered as
//!   usual. An operation already started is not affected.
//! - *stall* ([`State::stall_next`]): the next N submissions a worker
//!   would execute are never completed: the worker marks its context
//!   stalled and blocks, before executing anything, until `stall clear`
//!   (then it executes the submission and goes on), the context is
//!   destroyed, or the host quits. Later operations of that context stay
//!   queued; other contexts are not affected.
//!
//! Whatever blocks a worker (hold, stall, WAIT), it rechecks on every
//! condition-variable wakeup whether its context still exists and whether
//! the host quits; destroying objects and quitting notify the variable.
//! An idle worker (nothing queued, or held) waits on [`Shared::work`]
//! instead, which fence signals do not notify.

use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};
use std::time::{Duration, Instant};

use dxg_proto::cmdbuf::{Cmd, CmdIter};
use dxg_proto::consts::PAGE_SIZE;
use dxg_proto::device::{
    EXECUTION_ERROR_DMA_FAULT, EXECUTION_ERROR_DMA_PAGE_FAULT, EXECUTION_HUNG,
};
use dxg_proto::sync::{SYNC_TYPE_FENCE, SYNC_TYPE_MONITORED_FENCE};

use crate::engine::{lock, Host, Shared};
use crate::mem::Region;
use crate::state::{Backing, Kind, Op, State};

type Guard<'a> = MutexGuard<'a, State>;

/// Why a submission failed.
#[derive(Debug)]
pub struct ExecError {
    /// Execution state the device enters.
    pub state: u32,
    /// Description for the log.
    pub msg: String,
}

fn page_fault(va: u64, what: &str) -> ExecError {
    ExecError {
        state: EXECUTION_ERROR_DMA_PAGE_FAULT,
        msg: format!("GPU page fault at {va:#x} ({what})"),
    }
}

fn dma_fault(msg: String) -> ExecError {
    ExecError {
        state: EXECUTION_ERROR_DMA_FAULT,
        msg,
    }
}

/// The pieces of guest memory behind `[va, va+len)` in the VA space of
/// (process, adapter).
fn resolve(
    st: &State,
    key: (u32, usize),
    va: u64,
    len: u64,
) -> Result<Vec<(Arc<Region>, u64, usize)>, ExecError> {
    let vs = st
        .vas
        .get(&key)
        .ok_or_else(|| page_fault(va, "no VA space"))?;
    let end = va
        .checked_add(len)
        .ok_or_else(|| page_fault(va, "range wraps"))?;
    let mut out = Vec::new();
    let mut cur = va;
    while cur < end {
        let vpn = cur / PAGE_SIZE;
        let in_page = cur % PAGE_SIZE;
        let n = (PAGE_SIZE - in_page).min(end - cur);
        let &(alloc, apage) = vs
            .pages
            .get(&vpn)
            .ok_or_else(|| page_fault(cur, "not mapped"))?;
        let backing = match st.objects.get(&alloc).map(|o| &o.kind) {
            Some(Kind::Allocation { backing, .. }) => backing,
            _ => return Err(page_fault(cur, "allocation gone")),
        };
        let off = apage * PAGE_SIZE + in_page;
        let (region, off) = match backing {
            Backing::Io(base) => {
                let io = st
                    .vm
                    .io
                    .as_ref()
                    .ok_or_else(|| page_fault(cur, "no IO space"))?;
                (io.region.clone(), base + off)
            }
            Backing::Gpadl(_, r) => (r.clone(), off),
            Backing::Unbacked => return Err(page_fault(cur, "sysmem allocation not backed")),
            Backing::Pfns(_) => return Err(page_fault(cur, "PFN-backed memory is not accessible")),
        };
        out.push((region, off, n as usize));
        cur += n;
    }
    Ok(out)
}

fn read_va(st: &State, key: (u32, usize), va: u64, len: u64) -> Result<Vec<u8>, ExecError> {
    let mut v = Vec::with_capacity(len as usize);
    for (r, off, n) in resolve(st, key, va, len)? {
        let start = v.len();
        v.resize(start + n, 0);
        r.read(off, &mut v[start..])
            .map_err(|_| page_fault(va, "outside the backing"))?;
    }
    Ok(v)
}

fn write_va(st: &State, key: (u32, usize), va: u64, data: &[u8]) -> Result<(), ExecError> {
    let mut done = 0usize;
    for (r, off, n) in resolve(st, key, va, data.len() as u64)? {
        r.write(off, &data[done..done + n])
            .map_err(|_| page_fault(va, "outside the backing"))?;
        done += n;
    }
    Ok(())
}

fn fill_va(st: &State, key: (u32, usize), va: u64, len: u64, b: u8) -> Result<(), ExecError> {
    for (r, off, n) in resolve(st, key, va, len)? {
        r.fill(off, n, b)
            .map_err(|_| page_fault(va, "outside the backing"))?;
    }
    Ok(())
}

/// Monitored fence id of handle `h` of process `p`.
fn fence_of(st: &State, p: u32, h: u32) -> Result<u64, ExecError> {
    match st.objects.get(&h) {
        Some(o) if o.process == p => match o.kind {
            Kind::Sync {
                stype: SYNC_TYPE_MONITORED_FENCE | SYNC_TYPE_FENCE,
                fence: Some(f),
                ..
            } => Ok(f),
            _ => Err(dma_fault(format!("handle {h:#x} is not a fence"))),
        },
        _ => Err(dma_fault(format!("bad fence handle {h:#x}"))),
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

fn context_alive(st: &State, ctx: u32) -> bool {
    matches!(
        st.objects.get(&ctx).map(|o| &o.kind),
        Some(Kind::Context { .. })
    )
}

/// Waits on the host condition variable; returns the guard and whether
/// `deadline` passed.
fn wait<'a>(sh: &'a Shared, st: Guard<'a>, deadline: Option<Instant>) -> (Guard<'a>, bool) {
    match deadline {
        None => match sh.cv.wait(st) {
            Ok(g) => (g, false),
            Err(e) => (e.into_inner(), false),
        },
        Some(d) => {
            let now = Instant::now();
            if now >= d {
                return (st, true);
            }
            match sh.cv.wait_timeout(st, d - now) {
                Ok((g, _)) => (g, Instant::now() >= d),
                Err(e) => {
                    let (g, _) = e.into_inner();
                    (g, Instant::now() >= d)
                }
            }
        }
    }
}

/// Executes a command buffer. Returns the guard (it is released during
/// WAITs) and the result.
fn execute<'a>(
    sh: &'a Shared,
    mut st: Guard<'a>,
    ctx: u32,
    va: u64,
    len: u32,
) -> (Guard<'a>, Result<(), ExecError>) {
    let Some(o) = st.objects.get(&ctx) else {
        return (st, Ok(()));
    };
    let Some(a) = o.adapter else {
        return (st, Ok(()));
    };
    let key = (o.process, a);
    let buf = match read_va(&st, key, va, u64::from(len)) {
        Ok(b) => b,
        Err(e) => return (st, Err(e)),
    };
    st.stats.submissions += 1;
    for item in CmdIter::new(&buf) {
        let (at, cmd) = match item {
            Ok(x) => x,
            Err(e) => {
                return (
                    st,
                    Err(dma_fault(format!("bad command buffer at {va:#x}: {e:?}"))),
                )
            }
        };
        let r = match cmd {
            Cmd::Wait { fence, value } => {
                let f = match fence_of(&st, key.0, fence.value()) {
                    Ok(f) => f,
                    Err(e) => return (st, Err(e)),
                };
                let deadline = match sh.cfg.gpu_timeout_ms {
                    0 => None,
                    ms => Some(Instant::now() + Duration::from_millis(ms)),
                };
                loop {
                    if !context_alive(&st, ctx) || sh.quit.load(Ordering::SeqCst) {
                        return (st, Ok(()));
                    }
                    if !st.fences.contains_key(&f) {
                        return (st, Err(dma_fault(format!("fence {fence:?} destroyed"))));
                    }
                    if st.fence_value(f) >= value {
                        break;
                    }
                    let (g, timed_out) = wait(sh, st, deadline);
                    st = g;
                    if timed_out && st.fence_value(f) < value {
                        return (
                            st,
                            Err(ExecError {
                                state: EXECUTION_HUNG,
                                msg: format!("WAIT for {fence:?} >= {value} timed out"),
                            }),
                        );
                    }
                }
                Ok(())
            }
            cmd => run_cmd(sh, &mut st, key, cmd).map(|ev| sh.send_events(&st, &ev)),
        };
        if let Err(mut e) = r {
            e.msg = format!("{} (command at offset {at})", e.msg);
            return (st, Err(e));
        }
    }
    (st, Ok(()))
}

/// Runs `cmd`, any command but WAIT; the guest events to send.
fn run_cmd(
    sh: &Shared,
    st: &mut State,
    key: (u32, usize),
    cmd: Cmd,
) -> Result<Vec<u64>, ExecError> {
    match cmd {
        Cmd::Nop { .. } => Ok(Vec::new()),
        Cmd::Fill {
            gpu_va,
            length,
            value,
        } => fill_va(st, key, gpu_va, length, value).map(|()| Vec::new()),
        Cmd::Copy {
            src_va,
            dst_va,
            length,
        } => read_va(st, key, src_va, length)
            .and_then(|d| write_va(st, key, dst_va, &d))
            .map(|()| Vec::new()),
        Cmd::Timestamp { gpu_va } => {
            write_va(st, key, gpu_va, &monotonic_ns().to_le_bytes()).map(|()| Vec::new())
        }
        Cmd::Signal { fence, value } => {
            let f = fence_of(st, key.0, fence.value())?;
            let ev = st.signal_fence(f, value, false);
            sh.cv.notify_all();
            Ok(ev)
        }
        Cmd::Wait { .. } => Err(dma_fault("WAIT cannot run here".into())),
    }
}

/// Most bytes an operation run by the dispatcher may fill or copy (more
/// goes to the context's worker, so that the dispatcher keeps answering).
const RUN_NOW_MAX_BYTES: u64 = 1 << 20;

/// Runs `op` of context `ctx` at once on the dispatching thread, which
/// holds the state, when nothing makes it wait: no test knob holds it, the
/// context's worker has nothing queued or running before it, and it waits
/// for nothing (a WAIT that is not satisfied yet, a stall, an execution
/// latency). A submission's completion then costs no thread hand-off.
/// Guest events to send go to `events`. The operation back if it must be
/// queued.
pub fn run_now(
    sh: &Shared,
    st: &mut State,
    ctx: u32,
    op: Op,
    events: &mut Vec<u64>,
) -> Result<(), Op> {
    let (key, idle) = match st.objects.get(&ctx) {
        Some(o) => match (&o.kind, o.adapter) {
            (Kind::Context { queue, busy, .. }, Some(a)) => {
                ((o.process, a), queue.is_empty() && !*busy)
            }
            _ => return Err(op),
        },
        None => return Err(op),
    };
    if st.hold || !idle || st.context_failed(ctx) {
        return Err(op);
    }
    match op {
        Op::Submit { va, len, null } => {
            if st.stall_next > 0 || sh.cfg.exec_latency_ms > 0 {
                return Err(op);
            }
            if null {
                return Ok(());
            }
            let buf = match read_va(st, key, va, u64::from(len)) {
                Ok(b) => b,
                // Faults are reported by the worker, as for any submission.
                Err(_) => return Err(op),
            };
            let mut bytes = 0u64;
            for item in CmdIter::new(&buf) {
                match item {
                    Ok((_, Cmd::Wait { .. })) | Err(_) => return Err(op),
                    Ok((_, Cmd::Fill { length, .. } | Cmd::Copy { length, .. })) => {
                        bytes = bytes.saturating_add(length)
                    }
                    Ok(_) => {}
                }
            }
            if bytes > RUN_NOW_MAX_BYTES {
                return Err(op);
            }
            st.stats.submissions += 1;
            for (at, cmd) in CmdIter::new(&buf).flatten() {
                match run_cmd(sh, st, key, cmd) {
                    Ok(ev) => events.extend(ev),
                    Err(mut e) => {
                        e.msg = format!("{} (command at offset {at})", e.msg);
                        fail_context(sh, st, ctx, &e);
                        break;
                    }
                }
            }
            Ok(())
        }
        Op::Wait(objs) if st.waits_reached(&objs) => Ok(()),
        Op::Wait(objs) => Err(Op::Wait(objs)),
        Op::Signal {
            fences,
            events: ev,
            rewind,
        } => {
            events.extend(st.signal_all(fences, ev, rewind));
            sh.cv.notify_all();
            Ok(())
        }
    }
}

/// Puts the context and its device into an error state: the queue is
/// dropped (no later fence is signalled), GETDEVICESTATE reports `state`,
/// and SETGUESTDATA tells the guest its device state changed.
fn fail_context(sh: &Shared, st: &mut State, ctx: u32, e: &ExecError) {
    eprintln!("dxg-host: context {ctx:#x}: {}", e.msg);
    let mut dev = 0;
    if let Some(o) = st.objects.get_mut(&ctx) {
        dev = o.device;
        if let Kind::Context { queue, error, .. } = &mut o.kind {
            queue.clear();
            *error = Some(e.msg.clone());
        }
    }
    let mut cookie = None;
    if let Some(Kind::Device {
        exec_state,
        cookie: c,
    }) = st.objects.get_mut(&dev).map(|o| &mut o.kind)
    {
        if *exec_state == 1 {
            *exec_state = e.state;
            cookie = Some(*c);
        }
    }
    if let Some(c) = cookie {
        Host::device_changed(sh, st, c);
    }
}

/// Blocks the worker of `ctx` on a stalled submission until `stall
/// clear` resets the context's `stalled` flag, the context is destroyed
/// or the host quits.
fn stall<'a>(sh: &'a Shared, mut st: Guard<'a>, ctx: u32) -> Guard<'a> {
    match st.objects.get_mut(&ctx).map(|o| &mut o.kind) {
        Some(Kind::Context { stalled, .. }) => *stalled = true,
        _ => return st,
    }
    eprintln!("dxg-host: context {ctx:#x}: submission stalled");
    // Wakes anyone waiting for the stall to show (Host::wait_until).
    sh.cv.notify_all();
    loop {
        if sh.quit.load(Ordering::SeqCst) {
            return st;
        }
        match st.objects.get(&ctx).map(|o| &o.kind) {
            Some(Kind::Context { stalled: true, .. }) => {}
            _ => return st,
        }
        st = wait(sh, st, None).0;
    }
}

fn run_op<'a>(sh: &'a Shared, mut st: Guard<'a>, ctx: u32, op: Op) -> Guard<'a> {
    if st.context_failed(ctx) {
        return st;
    }
    match op {
        Op::Submit { va, len, null } => {
            if st.stall_next > 0 {
                st.stall_next -= 1;
                st = stall(sh, st, ctx);
                // Released: the submission runs unless the context or its
                // device died (or failed) meanwhile.
                if sh.quit.load(Ordering::SeqCst) || st.context_failed(ctx) {
                    return st;
                }
                eprintln!("dxg-host: context {ctx:#x}: stalled submission released");
            }
            if sh.cfg.exec_latency_ms > 0 {
                drop(st);
                std::thread::sleep(Duration::from_millis(sh.cfg.exec_latency_ms));
                st = lock(&sh.st);
            }
            if null || !context_alive(&st, ctx) {
                return st;
            }
            let (g, r) = execute(sh, st, ctx, va, len);
            st = g;
            if let Err(e) = r {
                fail_context(sh, &mut st, ctx, &e);
            }
        }
        Op::Wait(objs) => loop {
            if !context_alive(&st, ctx) || sh.quit.load(Ordering::SeqCst) {
                break;
            }
            if st.waits_reached(&objs) {
                break;
            }
            st = wait(sh, st, None).0;
        },
        Op::Signal {
            fences,
            events,
            rewind,
        } => {
            let ev = st.signal_all(fences, events, rewind);
            sh.send_events(&st, &ev);
        }
    }
    st
}

/// Uncounts a worker in [`State::workers`] when it ends, even by a panic.
struct Running<'a>(&'a Shared);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut st = lock(&self.0.st);
        st.workers = st.workers.saturating_sub(1);
        self.0.cv.notify_all();
    }
}

/// The worker of context `ctx`: runs until the context is destroyed or
/// the host quits. [`State::workers`] counts it while it runs.
pub fn worker(sh: Arc<Shared>, ctx: u32) {
    let _running = Running(&sh);
    drop(work(&sh, ctx));
}

fn work(sh: &Shared, ctx: u32) -> Guard<'_> {
    let mut st = lock(&sh.st);
    loop {
        if sh.quit.load(Ordering::SeqCst) {
            return st;
        }
        let held = st.hold;
        let op = match st.objects.get_mut(&ctx).map(|o| &mut o.kind) {
            Some(Kind::Context { queue, busy, .. }) => {
                // Held: the queue stays as it is.
                match if held { None } else { queue.pop_front() } {
                    Some(op) => {
                        *busy = true;
                        op
                    }
                    None => {
                        st = match sh.work.wait(st) {
                            Ok(g) => g,
                            Err(e) => e.into_inner(),
                        };
                        continue;
                    }
                }
            }
            _ => return st,
        };
        st = run_op(sh, st, ctx, op);
        if let Some(Kind::Context { busy, .. }) = st.objects.get_mut(&ctx).map(|o| &mut o.kind) {
            *busy = false;
        }
        sh.cv.notify_all();
    }
}
