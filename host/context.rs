// SPDX-License-Identifier: GPL-2.0

//! Contexts: their submission queue and the fences of their work.
//!
//! A [`HostContext`] is a host context (CREATECONTEXTVIRTUAL) with its own
//! host monitored fence (CREATESYNCOBJECT), whose current value the host
//! keeps in the IO space, and one guest event that stays registered while
//! the context lives.
//!
//! Submitting ([`HostContext::queue`]) never waits: it assigns the next
//! value `n` of the context's fence, makes the job's `dma_fence` (seqno `n`
//! on the context's fence timeline) and queues the job. The context's
//! worker (a work item on `system_unbound`) takes jobs in order once the
//! fences they depend on in the guest have signalled (dma_fence callbacks
//! wake it) and sends, for job `n`:
//!
//! 1. WAITFORSYNCOBJECTFROMGPU for the in-fences the host orders itself
//!    (fences of other contexts of the same host process);
//! 2. SUBMITCOMMAND;
//! 3. SIGNALSYNCOBJECT on the context, setting the monitored fence to `n`
//!    (flags 0, no device: a signal from the GPU, as dxgkrnl ioctl.c
//!    dxgkio_signal_sync_object_gpu() sends it);
//! 4. SIGNALSYNCOBJECT on the context enqueueing the context's guest event
//!    (SIGNAL_FLAG_ENQUEUE_CPU_EVENT and no object, as
//!    dxgkio_signal_sync_object_gpu2() sends it: dxgkrnl never combines an
//!    event with fence values).
//!
//! When the host enabled asynchronous messages (GETINTERNALADAPTERINFO,
//! as dxgkrnl dxgvmbus.c dxgvmb_send_submit_command() uses them) the four
//! go out on the VM-level channel without waiting for a reply; otherwise
//! each is a request. With asynchronous messages, a job that depends on no
//! guest fence and finds the worker idle and the queue empty is sent by the
//! submitting thread itself, which takes the worker state for it (no
//! worker wake-up on the way to the host); should the ring be full, it
//! hands what is left of the job to the worker instead of waiting.
//!
//! Whenever the guest event comes, the value in the IO space is read and
//! every job up to it completes, so merged or lost events cannot reorder
//! completion. Fences fail only when the host is known not to complete
//! them:
//!
//! - `ETIME`: the context is lost: the job at the head of the host's queue
//!   did not complete within `job_timeout_ms`; every pending job fails,
//!   and so does every later submission (`ECANCELED`);
//! - `EIO`: the host reported a device error (SETGUESTDATA): the device is
//!   lost;
//! - `ENODEV`: the host is gone (channel dead, rescinded, timed out) or
//!   the adapter was unbound;
//! - `ECANCELED`: the job was never sent (its context was destroyed
//!   first), or a dependency failed with that error (dependency errors
//!   propagate to the job, which is then not sent);
//! - the host's errno, if it refused a message of a job: the context is
//!   then lost (its state on the host is unknown).
//!
//! Destroying a context sends the jobs that are ready, fails those from
//! the first one still waiting for a dependency on (`ECANCELED`), and
//! waits (for at most `timeout_ms`) for the host to complete what it was
//! sent before anything else fails.
//!
//! Lock order: [`HostContext::submit_lock`] before [`Core::state`]; the
//! VM's locks are never held while taking either. No lock is held while a
//! message is sent or while waiting.

use kernel::{
    dma_fence::{DriverFence, Fence, FenceCallback, FenceContext, OnSignal},
    new_condvar, new_mutex, new_spinlock_irq,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{Atomic, Full, Relaxed},
        Arc, CondVar, Mutex, SpinLockIrq,
    },
    time::{msecs_to_jiffies, Delta, Instant, Jiffies, Monotonic},
    types::ScopeGuard,
    workqueue::{self, impl_has_delayed_work, impl_has_work, new_delayed_work, new_work},
    workqueue::{DelayedWork, Work, WorkItem},
};

use crate::host::{
    device::HostDevice,
    health::{DeviceHealth, DeviceWork},
    request::{check_status, decode_raw, proto_err, Message},
    vm::{GuestEvent, IoSpace},
};
use crate::proto::{
    context::{CreateContextMsg, DestroyContext},
    decode_reply,
    submit::SubmitCommandMsg,
    sync::{CreateSyncObject, CreateSyncObjectReply, DestroySyncObject, SYNC_TYPE_MONITORED_FENCE},
    syncmsg::{SignalSyncObjectMsg, WaitFromGpuMsg, SIGNAL_FLAG_ENQUEUE_CPU_EVENT},
    Handle, U64,
};
use crate::sys::util::{wait_until, WaitEnd};

/// Most jobs queued on one context and not completed yet (`EBUSY` beyond).
const MAX_PENDING: usize = 1024;

/// GPU time used by one DRM file's contexts (fdinfo `drm-engine-gpu`).
///
/// The file's engine counts as busy while any of its jobs is on the host:
/// overlapping jobs of several contexts count once.
#[pin_data]
pub(crate) struct EngineStats {
    /// Protects the counters (taken in the receive path).
    #[pin]
    state: SpinLockIrq<EngineState>,
}

struct EngineState {
    /// Busy time of finished busy periods.
    busy_ns: u64,
    /// Jobs on the host.
    running: u64,
    /// When the current busy period began (`running > 0`).
    since: Option<Instant<Monotonic>>,
}

impl EngineStats {
    /// No time used yet.
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                state <- new_spinlock_irq!(
                    EngineState { busy_ns: 0, running: 0, since: None },
                    "dxg_engine_stats"
                ),
            }),
            GFP_KERNEL,
        )
    }

    /// Nanoseconds the file's engine has been busy, the current busy
    /// period included.
    pub(crate) fn busy_ns(&self) -> u64 {
        let st = self.state.lock();
        let now = Instant::<Monotonic>::now();
        st.busy_ns
            .saturating_add(st.since.map_or(0, |s| delta_ns(now - s)))
    }

    fn start(&self) {
        let mut st = self.state.lock();
        if st.running == 0 {
            st.since = Some(Instant::<Monotonic>::now());
        }
        st.running += 1;
    }

    fn end(&self, n: u64) {
        if n == 0 {
            return;
        }
        let mut st = self.state.lock();
        st.running = st.running.saturating_sub(n);
        if st.running == 0 {
            if let Some(s) = st.since.take() {
                let d = delta_ns(Instant::<Monotonic>::now() - s);
                st.busy_ns = st.busy_ns.saturating_add(d);
            }
        }
    }
}

fn delta_ns(d: Delta) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(0)
}

/// What a submission carries besides its context.
pub(crate) struct Submission {
    /// GPU VA of the command buffer.
    pub(crate) cmd_va: u64,
    /// Its length in bytes.
    pub(crate) cmd_len: u32,
    /// Private driver data for the host.
    pub(crate) priv_data: KVec<u8>,
}

/// Counts down the unsignalled dependencies of one job and wakes the
/// context's worker when the last one signals.
struct Kick {
    core: Arc<Core>,
    /// Dependencies not signalled yet, plus one while callbacks are being
    /// registered.
    remaining: Atomic<u64>,
}

impl Kick {
    fn done_one(&self) {
        if self.remaining.fetch_sub(1, Full) == 1 {
            self.core.kick();
        }
    }
}

/// The callback data of one dependency.
struct DepSignalled(Arc<Kick>);

impl OnSignal for DepSignalled {
    fn on_signal(&self) {
        self.0.done_one();
    }
}

/// A queued submission.
struct Job {
    /// Its value on the context's monitored fence.
    value: u64,
    fence: DriverFence,
    sub: Submission,
    /// Fences of this host process's contexts, which the host waits for
    /// (WAITFORSYNCOBJECTFROMGPU): objects and values.
    gpu_objects: KVec<Handle>,
    gpu_values: KVec<U64>,
    /// Fences the guest waits for before sending the job.
    deps: KVec<ARef<Fence>>,
    /// Counts down the unsignalled `deps`; `None` if there are none (the
    /// job is ready at once, and needs no allocation for it).
    kick: Option<Arc<Kick>>,
    /// Wake-ups registered on the unsignalled `deps`; dropping them
    /// removes the callbacks (never under [`Core::state`]: a callback may
    /// be running and about to kick).
    callbacks: KVec<FenceCallback<DepSignalled>>,
}

impl Job {
    /// Whether every dependency has signalled (lock-free: called under
    /// [`Core::state`], which fence callbacks never take).
    fn ready(&self) -> bool {
        self.kick
            .as_ref()
            .is_none_or(|k| k.remaining.load(Relaxed) == 0)
    }

    /// The first error of a dependency.
    fn dep_error(&self) -> Result {
        for d in self.deps.iter() {
            d.status()?;
        }
        Ok(())
    }

    /// Fail the job without sending it.
    fn fail(self, err: Error) {
        drop(self.callbacks);
        self.fence.signal(Err(err));
    }
}

/// What is left to send of a job that is pending already.
struct Sending {
    value: u64,
    sub: Submission,
    gpu_objects: KVec<Handle>,
    gpu_values: KVec<U64>,
    /// The messages of the job sent so far (see [`Core::send_messages`]).
    step: u8,
}

/// The steps of [`Sending`]: WAITFORSYNCOBJECTFROMGPU (skipped without GPU
/// waits), SUBMITCOMMAND, SIGNALSYNCOBJECT, done.
const STEP_WAIT: u8 = 0;
const STEP_SUBMIT: u8 = 1;
const STEP_SIGNAL: u8 = 2;
const STEP_EVENT: u8 = 3;
const STEP_DONE: u8 = 4;

/// A job sent to the host, not completed yet.
struct Pending {
    value: u64,
    fence: DriverFence,
}

/// Why a context takes no more work.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loss {
    /// The context is lost: a job did not complete within the job
    /// timeout (`ETIME`), or the host refused a message of a job.
    Context,
    /// The host reported a device error.
    Device,
    /// The host is gone or the adapter was unbound.
    Host,
}

impl Loss {
    /// The error of the fences this loss fails, unless told otherwise.
    pub(crate) fn error(self) -> Error {
        match self {
            Loss::Context => ETIME,
            Loss::Device => EIO,
            Loss::Host => ENODEV,
        }
    }
}

/// Worker states ([`Core::worker`]): not queued and not running; queued or
/// running; running and asked to look at the queue once more.
const IDLE: u32 = 0;
const ACTIVE: u32 = 1;
const AGAIN: u32 = 2;

/// The mutable state of a context.
struct State {
    /// Submitted, not yet sent to the host, in order.
    queue: KVec<Job>,
    /// Sent to the host, not completed, in order.
    pending: KVec<Pending>,
    /// Since when the first pending job has been the oldest.
    head_since: Option<Instant<Monotonic>>,
    /// The highest value sent to the host.
    sent: u64,
    /// The highest value the host completed.
    completed: u64,
    /// Set once the context is lost, with the error its work fails with.
    lost: Option<(Loss, Error)>,
    /// Set when the context is destroyed: nothing is queued any more.
    closed: bool,
    /// Set once the jobs that were ready at destroy time are sent: nothing
    /// is sent any more.
    stopped: bool,
    /// A job whose messages a submitting thread began to send and could
    /// not finish without waiting (the ring was full): the worker, which
    /// it was handed to, sends the rest first.
    resume: Option<Sending>,
}

/// The part of a context that its worker, watchdog and guest event share.
#[pin_data]
pub(crate) struct Core {
    device: Arc<HostDevice>,
    health: Arc<DeviceHealth>,
    handle: Handle,
    /// The context's host monitored fence.
    sync: Handle,
    /// The context's guest event (0 until registered).
    event: u64,
    io: Arc<IoSpace>,
    /// Guest-physical address of the monitored fence value.
    gpa: u64,
    fence_context: FenceContext,
    stats: Arc<EngineStats>,
    /// How long the head job may take.
    job_timeout: Jiffies,
    /// `IDLE`, `ACTIVE` or `AGAIN` (lock-free: fence callbacks set it).
    worker: Atomic<u32>,
    /// Set when nothing is sent any more (also in [`State::stopped`]).
    stopped: Atomic<bool>,
    /// Protects the queue, the pending jobs and the worker state (taken
    /// in the receive path and in fence callbacks).
    #[pin]
    state: SpinLockIrq<State>,
    /// Notified when the last pending job completes or fails.
    #[pin]
    drained: CondVar,
    #[pin]
    work: Work<Core, 0>,
    #[pin]
    watchdog: DelayedWork<Core, 1>,
}

impl_has_work! {
    impl HasWork<Self, 0> for Core { self.work }
}

impl_has_delayed_work! {
    impl HasDelayedWork<Self, 1> for Core { self.watchdog }
}

impl Core {
    /// Make sure the worker looks at the queue (any context; takes no lock).
    fn kick(self: &Arc<Self>) {
        if self.stopped.load(Relaxed) {
            return;
        }
        let mut cur = self.worker.load(Relaxed);
        loop {
            let next = match cur {
                IDLE => ACTIVE,
                ACTIVE => AGAIN,
                _ => return,
            };
            match self.worker.cmpxchg(cur, next, Full) {
                Ok(_) => break,
                Err(now) => cur = now,
            }
        }
        if cur == IDLE {
            // Not queued: the worker was idle.
            self.enqueue_worker();
        }
    }

    /// Queue the worker, which is not queued (the caller just took the
    /// worker state for it): this cannot fail.
    fn enqueue_worker(self: &Arc<Self>) {
        let _ = workqueue::system_unbound().enqueue::<Arc<Self>, 0>(self.clone());
    }

    /// The next job to send, or `None`: the worker then goes idle, unless
    /// it was kicked meanwhile.
    fn next_job(&self) -> Option<Job> {
        loop {
            {
                let mut st = self.state.lock();
                if !st.stopped && st.queue.first().is_some_and(|j| j.ready()) {
                    if let Ok(job) = st.queue.remove(0) {
                        return Some(job);
                    }
                }
            }
            // Nothing ready: go idle, or look again if kicked meanwhile.
            if self.worker.cmpxchg(ACTIVE, IDLE, Full).is_ok() {
                return None;
            }
            self.worker.store(ACTIVE, kernel::sync::atomic::Release);
        }
    }

    /// Send `job` to the host; it is pending from now on.
    fn send(self: &Arc<Self>, job: Job) {
        if let Some(mut s) = self.start(job) {
            // Waiting for ring room, so it never comes back unfinished.
            self.transmit(&mut s, true);
        }
    }

    /// Make `job` pending (it is being sent), or fail it if it cannot be
    /// sent; what is left to send.
    fn start(&self, job: Job) -> Option<Sending> {
        let a = self.device.adapter();
        if a.closing() {
            job.fail(ENODEV);
            return None;
        }
        if let Err(e) = job.dep_error() {
            job.fail(e);
            return None;
        }
        let Job {
            value,
            fence,
            sub,
            gpu_objects,
            gpu_values,
            callbacks,
            ..
        } = job;
        drop(callbacks);
        {
            let mut st = self.state.lock();
            let err = match st.lost {
                Some((_, e)) => Some(e),
                None => st.pending.reserve(1, GFP_ATOMIC).err().map(Error::from),
            };
            if let Some(e) = err {
                drop(st);
                fence.signal(Err(e));
                return None;
            }
            // Within the capacity just reserved: cannot fail.
            let _ = st.pending.push(Pending { value, fence }, GFP_ATOMIC);
            if st.head_since.is_none() {
                st.head_since = Some(Instant::<Monotonic>::now());
            }
            st.sent = value;
        }
        a.job_started();
        self.stats.start();
        Some(Sending {
            value,
            sub,
            gpu_objects,
            gpu_values,
            step: STEP_WAIT,
        })
    }

    /// Send the rest of `s`; with `wait` false, without waiting for ring
    /// room. Whether it is done with (sent, or failed: the context is then
    /// lost); `false` only without `wait`, for a full ring.
    fn transmit(self: &Arc<Self>, s: &mut Sending, wait: bool) -> bool {
        match self.send_messages(s, wait) {
            Ok(()) => {
                self.arm_watchdog();
                true
            }
            Err(e) if e == EAGAIN && !wait => false,
            Err(e) => {
                // The host may have queued part of the job: its state is
                // unknown, and later fences must not signal before this
                // one.
                let loss = if e == ENODEV {
                    Loss::Host
                } else {
                    Loss::Context
                };
                self.lose(loss, Some(e));
                true
            }
        }
    }

    /// Send the messages of `s` from `s.step` on, advancing it past each
    /// one sent. With `wait` false, only asynchronously and without
    /// waiting for ring room (`EAGAIN`: `s.step` is the message not sent).
    fn send_messages(&self, s: &mut Sending, wait: bool) -> Result {
        let dev = &self.device;
        let a = dev.adapter();
        let send = |msg: &dyn Message| {
            if wait {
                a.send_queued(msg)
            } else {
                a.try_send_queued(msg)
            }
        };
        let ctxs = [self.handle];
        if s.step == STEP_WAIT {
            if !s.gpu_objects.is_empty() {
                let msg =
                    WaitFromGpuMsg::new(dev.process(), self.handle, &s.gpu_objects, &s.gpu_values)
                        .map_err(proto_err)?;
                send(&msg)?;
            }
            s.step = STEP_SUBMIT;
        }
        if s.step == STEP_SUBMIT {
            let msg = SubmitCommandMsg::new(
                dev.process(),
                s.sub.cmd_va,
                s.sub.cmd_len,
                0,
                &ctxs,
                &[],
                &s.sub.priv_data,
            )
            .map_err(proto_err)?;
            send(&msg)?;
            s.step = STEP_SIGNAL;
        }
        if s.step == STEP_SIGNAL {
            let objects = [self.sync];
            let values = [U64::new(s.value)];
            let msg = SignalSyncObjectMsg::new(dev.process(), 0, 0, &objects, &ctxs, &values)
                .map_err(proto_err)?;
            send(&msg)?;
            s.step = STEP_EVENT;
        }
        if s.step == STEP_EVENT {
            let msg = SignalSyncObjectMsg::new(
                dev.process(),
                SIGNAL_FLAG_ENQUEUE_CPU_EVENT,
                self.event,
                &[],
                &ctxs,
                &[],
            )
            .map_err(proto_err)?;
            send(&msg)?;
            s.step = STEP_DONE;
        }
        Ok(())
    }

    /// Send `job`, which no other job precedes, from the submitting thread,
    /// which holds the worker state (`ACTIVE` or `AGAIN`).
    /// The host enabled asynchronous messages, so nothing waits for the
    /// host: if the ring is full, the worker (to which the worker state
    /// passes) sends the rest.
    fn send_inline(self: &Arc<Self>, job: Job) {
        if let Some(mut s) = self.start(job) {
            if !self.transmit(&mut s, false) {
                self.state.lock().resume = Some(s);
                self.hand_over();
                return;
            }
        }
        self.release();
    }

    /// Give up the worker state, which this thread holds (`ACTIVE` or
    /// `AGAIN`) without running as the worker: idle, or the worker runs if
    /// it was kicked meanwhile.
    fn release(self: &Arc<Self>) {
        if self.worker.cmpxchg(ACTIVE, IDLE, Full).is_err() {
            self.hand_over();
        }
    }

    /// Let the worker run with the worker state this thread holds.
    fn hand_over(self: &Arc<Self>) {
        self.worker.store(ACTIVE, kernel::sync::atomic::Release);
        // Not queued: the state was held here, not by a queued worker.
        self.enqueue_worker();
    }

    /// `n` jobs left the host.
    fn finished(&self, n: u64) {
        self.stats.end(n);
        self.device.adapter().jobs_finished(n);
    }

    /// Complete every pending job the host's fence value has reached.
    fn update(&self) {
        let value = match self.io.read_u64(self.gpa) {
            Ok(v) => v,
            Err(e) => return self.lose(Loss::Host, Some(e)),
        };
        let mut n = 0;
        loop {
            // One at a time: fences are signalled without the lock.
            let p = {
                let mut st = self.state.lock();
                if value > st.completed {
                    st.completed = value;
                }
                if st.pending.first().is_none_or(|p| p.value > value) {
                    break;
                }
                let p = st.pending.remove(0).ok();
                st.head_since = (!st.pending.is_empty()).then(Instant::<Monotonic>::now);
                p
            };
            if let Some(p) = p {
                p.fence.signal(Ok(()));
                n += 1;
            }
        }
        if n > 0 {
            self.finished(n);
            self.drained.notify_all();
        }
    }

    /// Mark the context lost and fail everything it has (`err`: the
    /// fences' error, the loss's by default).
    fn lose(&self, loss: Loss, err: Option<Error>) {
        let (pending, queue) = {
            let mut st = self.state.lock();
            if st.lost.is_none() {
                st.lost = Some((loss, err.unwrap_or(loss.error())));
            }
            st.head_since = None;
            (
                core::mem::take(&mut st.pending),
                core::mem::take(&mut st.queue),
            )
        };
        let e = err.unwrap_or(loss.error());
        self.finished(pending.len() as u64);
        for p in pending {
            p.fence.signal(Err(e));
        }
        for j in queue {
            j.fail(e);
        }
        self.drained.notify_all();
    }

    /// Check the head job against the job timeout in `job_timeout` (or
    /// `delay`, if given).
    fn arm_watchdog(self: &Arc<Self>) {
        self.arm_watchdog_in(self.job_timeout);
    }

    fn arm_watchdog_in(self: &Arc<Self>, delay: Jiffies) {
        // Already armed: that check re-arms as needed.
        let _ = workqueue::system_unbound().enqueue_delayed::<Arc<Self>, 1>(self.clone(), delay);
    }

    /// The watchdog: lose the context if its head job is overdue, else
    /// look again when it would be.
    fn check_timeout(self: &Arc<Self>) {
        let limit = i64::from(crate::module_parameters::job_timeout_ms.value());
        let left = {
            let st = self.state.lock();
            if st.closed {
                return;
            }
            match st.head_since {
                None => return,
                Some(s) => limit - (Instant::<Monotonic>::now() - s).as_millis(),
            }
        };
        if left > 0 {
            let ms = u32::try_from(left).unwrap_or(u32::MAX);
            return self.arm_watchdog_in(msecs_to_jiffies(ms));
        }
        pr_warn!(
            "context {:#x}: a job did not complete within {} ms; the context is lost\n",
            self.handle.value(),
            limit
        );
        self.lose(Loss::Context, None);
    }
}

impl WorkItem<0> for Core {
    type Pointer = Arc<Core>;

    /// The worker: finish the job a submitting thread began, then send
    /// what is ready, in order.
    fn run(this: Arc<Core>) {
        let resume = this.state.lock().resume.take();
        if let Some(mut s) = resume {
            this.transmit(&mut s, true);
        }
        while let Some(job) = this.next_job() {
            this.send(job);
        }
    }
}

impl WorkItem<1> for Core {
    type Pointer = Arc<Core>;

    /// The watchdog.
    fn run(this: Arc<Core>) {
        this.check_timeout();
    }
}

impl GuestEvent for Core {
    fn signal(&self, result: Result) {
        match result {
            Ok(()) => self.update(),
            Err(e) => self.lose(Loss::Host, Some(e)),
        }
    }
}

impl DeviceWork for Core {
    fn device_lost(&self) {
        self.lose(Loss::Device, None);
    }
}

/// What [`HostContext::query`] reports.
pub(crate) struct ContextState {
    /// Why the context takes no more work, if it does not.
    pub(crate) lost: Option<(Loss, Error)>,
    /// The value of the last submission.
    pub(crate) submitted: u64,
    /// The highest value the host completed.
    pub(crate) completed: u64,
}

/// A host context with its monitored fence and submission queue.
#[pin_data(PinnedDrop)]
pub(crate) struct HostContext {
    core: Arc<Core>,
    /// Serialises submissions; holds the last value handed out.
    #[pin]
    submit_lock: Mutex<u64>,
}

impl HostContext {
    /// CREATECONTEXTVIRTUAL on `device`, and the context's monitored fence.
    pub(crate) fn create(
        device: Arc<HostDevice>,
        node: u32,
        engine_affinity: u32,
        priv_data: &[u8],
        stats: Arc<EngineStats>,
    ) -> Result<Arc<Self>> {
        let a = device.adapter().clone();
        let msg = CreateContextMsg::new(
            device.process(),
            device.handle(),
            node,
            engine_affinity,
            0,
            0,
            priv_data,
        )
        .map_err(proto_err)?;
        let max = size_of::<crate::proto::context::CreateContextVirtual>() + priv_data.len() + 8;
        let r = a.request_msg(&msg, max)?;
        let sent = u32::try_from(priv_data.len()).map_err(|_| E2BIG)?;
        let handle = decode_raw(&r, |r| {
            CreateContextMsg::decode_reply(r, sent).map(|(h, _)| h)
        })?;
        let process = device.process();
        // Until the context is complete, failing destroys the host context.
        let destroy_ctx = ScopeGuard::new(|| {
            let _ = a
                .request(&DestroyContext::new(process, handle), 8)
                .and_then(|r| check_status(&r));
        });
        let cmd = CreateSyncObject::new(
            device.process(),
            device.handle(),
            SYNC_TYPE_MONITORED_FENCE,
            0,
            [0; 8],
        );
        let (sync, gpa) = a
            .request(&cmd, size_of::<CreateSyncObjectReply>())
            .and_then(|r| {
                decode_raw(&r, |r| {
                    let s = decode_reply::<CreateSyncObjectReply>(r)?;
                    let h = s.validate(SYNC_TYPE_MONITORED_FENCE, 0, device.io().range())?;
                    // The value is at the start of the (checked) page; as
                    // in dxgkrnl (dxgvmb_send_create_sync_object() maps
                    // the page, user mode reads offset 0),
                    // `fence_storage_offset` is not used.
                    Ok((h, s.fence_storage_address.get()))
                })
            })?;
        let destroy_sync = ScopeGuard::new(|| {
            let _ = a
                .request_global(&DestroySyncObject::new(process, sync), 8)
                .and_then(|r| check_status(&r));
        });
        let vm = a.vm().clone();
        let event = vm.reserve_event(a.event_owner())?;
        let unreserve = ScopeGuard::new(|| vm.remove_event(event));
        let job_timeout = msecs_to_jiffies(crate::module_parameters::job_timeout_ms.value());
        let core = Arc::pin_init(
            pin_init!(Core {
                io: device.io().clone(),
                health: device.health().clone(),
                device,
                handle,
                sync,
                event,
                gpa,
                fence_context: FenceContext::new(c"dxg", c"context"),
                stats,
                job_timeout,
                worker: Atomic::new(IDLE),
                stopped: Atomic::new(false),
                state <- new_spinlock_irq!(
                    State {
                        queue: KVec::new(),
                        pending: KVec::new(),
                        head_since: None,
                        sent: 0,
                        completed: 0,
                        lost: None,
                        closed: false,
                        stopped: false,
                        resume: None,
                    },
                    "dxg_context_state"
                ),
                drained <- new_condvar!("dxg_context_drained"),
                work <- new_work!("dxg_context_worker"),
                watchdog <- new_delayed_work!("dxg_context_watchdog"),
            }),
            GFP_KERNEL,
        )?;
        let this = Arc::pin_init(
            pin_init!(Self {
                core,
                submit_lock <- new_mutex!(0, "dxg_submit"),
            }),
            GFP_KERNEL,
        )?;
        // From here on, dropping `this` tears everything down.
        unreserve.dismiss();
        destroy_sync.dismiss();
        destroy_ctx.dismiss();
        vm.install_event(event, this.core.clone())?;
        this.core.health.add(this.core.clone())?;
        Ok(this)
    }

    /// The host's handle.
    pub(crate) fn handle(&self) -> Handle {
        self.core.handle
    }

    /// The device the context belongs to.
    pub(crate) fn device(&self) -> &Arc<HostDevice> {
        &self.core.device
    }

    /// If `fence` is one of this context's, the host sync object and
    /// value that stand for it — provided the host was sent that value
    /// (so it will reach it, or the context is lost).
    pub(crate) fn host_fence(&self, fence: &Fence) -> Option<(Handle, u64)> {
        if fence.context() != self.core.fence_context.id() {
            return None;
        }
        let st = self.core.state.lock();
        (fence.seqno() <= st.sent && st.lost.is_none()).then_some((self.core.sync, fence.seqno()))
    }

    /// Whether `fence` belongs to this context.
    pub(crate) fn owns(&self, fence: &Fence) -> bool {
        fence.context() == self.core.fence_context.id()
    }

    /// Wait, for at most `timeout_ms`, until the host completed (or the
    /// context lost) every job sent so far; whether that happened.
    pub(crate) fn wait_sent(&self, timeout_ms: u32) -> bool {
        let core = &self.core;
        let sent = core.state.lock().sent;
        wait_until(&core.state, &core.drained, timeout_ms, |st| {
            st.pending
                .first()
                .is_none_or(|p| p.value > sent)
                .then_some(())
        })
        .is_ok()
    }

    /// The context's state (DRM_IOCTL_DXG_QUERY_STATE).
    pub(crate) fn query(&self) -> ContextState {
        let submitted = *self.submit_lock.lock();
        let st = self.core.state.lock();
        ContextState {
            lost: st.lost,
            submitted,
            completed: st.completed,
        }
    }

    /// Queue `sub`; its fence signals when the host has run it. The host
    /// waits for the fences in `gpu_waits` (objects, values) first; the
    /// guest waits for `deps` before sending it.
    ///
    /// Never waits for the host or for a fence. `ECANCELED` if the
    /// context or its device is lost, `EBUSY` if too many jobs are
    /// pending.
    pub(crate) fn queue(
        &self,
        sub: Submission,
        gpu_objects: KVec<Handle>,
        gpu_values: KVec<U64>,
        deps: KVec<ARef<Fence>>,
    ) -> Result<ARef<Fence>> {
        let core = &self.core;
        if core.health.lost() {
            return Err(ECANCELED);
        }
        let mut last = self.submit_lock.lock();
        let value = last.checked_add(1).ok_or(EOVERFLOW)?;
        {
            let st = core.state.lock();
            if st.lost.is_some() || st.closed {
                return Err(ECANCELED);
            }
            if st.queue.len() + st.pending.len() >= MAX_PENDING {
                return Err(EBUSY);
            }
        }
        let fence = core.fence_context.new_fence(value)?;
        let out: ARef<Fence> = fence.fence().into();
        let kick = if deps.is_empty() {
            None
        } else {
            Some(Arc::new(
                Kick {
                    core: core.clone(),
                    remaining: Atomic::new(deps.len() as u64 + 1),
                },
                GFP_KERNEL,
            )?)
        };
        let mut callbacks = KVec::with_capacity(deps.len(), GFP_KERNEL)?;
        if let Some(kick) = &kick {
            for d in deps.iter() {
                match d.add_callback(DepSignalled(kick.clone()))? {
                    Some(cb) => callbacks.push(cb, GFP_KERNEL)?,
                    None => kick.done_one(),
                }
            }
        }
        let bias = kick.clone();
        // A job that is ready at once, on a host taking asynchronous
        // messages, is sent from here when the worker is idle (no
        // wake-up of the worker on the way to the host): this thread takes
        // the worker state, so nothing else sends meanwhile.
        let inline = bias.is_none()
            && core.device.adapter().sends_async()
            && core.worker.cmpxchg(IDLE, ACTIVE, Full).is_ok();
        let job = Job {
            value,
            fence,
            sub,
            gpu_objects,
            gpu_values,
            deps,
            kick,
            callbacks,
        };
        let (refused, direct) = {
            let mut st = core.state.lock();
            // Sent from here only if no job of the context precedes it.
            let first = inline && st.queue.is_empty() && st.resume.is_none();
            let err = if st.lost.is_some() || st.closed {
                Some(ECANCELED)
            } else if first {
                None
            } else {
                st.queue.reserve(1, GFP_ATOMIC).err().map(Error::from)
            };
            match err {
                Some(e) => (Some((job, e)), None),
                None if first => (None, Some(job)),
                None => {
                    // Within the capacity just reserved: cannot fail.
                    let _ = st.queue.push(job, GFP_ATOMIC);
                    (None, None)
                }
            }
        };
        if let Some((job, e)) = refused {
            job.fail(ECANCELED);
            if inline {
                core.release();
            }
            return Err(e);
        }
        *last = value;
        drop(last);
        if let Some(job) = direct {
            // Later jobs queue up behind it: this thread holds the worker
            // state until the job is sent (or handed to the worker).
            core.send_inline(job);
            return Ok(out);
        }
        if inline {
            // Queued behind others: the worker takes it.
            core.hand_over();
            return Ok(out);
        }
        // Drop the registration bias: the job may run once its
        // dependencies have signalled (this kicks the worker if they all
        // have; otherwise the last one's callback does).
        match bias {
            Some(k) => k.done_one(),
            None => core.kick(),
        }
        Ok(out)
    }
}

#[pinned_drop]
impl PinnedDrop for HostContext {
    fn drop(self: Pin<&mut Self>) {
        let core = &self.core;
        // No more jobs. Those ready to go are sent (their submitter was
        // told they are queued); from the first one still waiting for a
        // dependency on, they fail: they never ran.
        let queued = {
            let mut st = core.state.lock();
            st.closed = true;
            core::mem::take(&mut st.queue)
        };
        let mut ready = KVec::new();
        // Out of memory: all fail.
        let mut cancel = ready.reserve(queued.len(), GFP_KERNEL).is_err();
        for j in queued {
            cancel = cancel || !j.ready();
            if cancel {
                j.fail(ECANCELED);
            } else if let Err(e) = ready.push_within_capacity(j) {
                // Within the capacity reserved: cannot happen.
                e.0.fail(ECANCELED);
            }
        }
        core.state.lock().queue = ready;
        core.kick();
        // The worker sends them (and finishes the job it may be sending).
        core.work.flush();
        let rest = {
            let mut st = core.state.lock();
            st.stopped = true;
            core.stopped.store(true, kernel::sync::atomic::Release);
            core::mem::take(&mut st.queue)
        };
        for j in rest {
            j.fail(ECANCELED);
        }
        core.work.flush();
        let dev = &core.device;
        let a = dev.adapter();
        // Give the host the time of one request to complete what it has.
        if a.dead().is_none() && !a.closing() {
            let r = wait_until(
                &core.state,
                &core.drained,
                crate::module_parameters::timeout_ms.value(),
                |st| st.pending.is_empty().then_some(()),
            );
            if let Err(WaitEnd::TimedOut) = r {
                pr_warn!(
                    "context {:#x}: the host did not complete its jobs in time\n",
                    core.handle.value()
                );
                core.lose(Loss::Context, None);
            }
        }
        core.lose(Loss::Host, Some(ECANCELED));
        core.watchdog.flush();
        core.health.remove(Arc::as_ptr(core).cast());
        a.vm().remove_event(core.event);
        if a.dead().is_some() {
            return;
        }
        let _ = a
            .request_global(&DestroySyncObject::new(dev.process(), core.sync), 8)
            .and_then(|r| check_status(&r));
        let r = a
            .request(&DestroyContext::new(dev.process(), core.handle), 8)
            .and_then(|r| check_status(&r));
        if let Err(e) = r {
            if e != ENODEV {
                pr_warn!(
                    "host did not destroy context {:#x}: {:?}\n",
                    core.handle.value(),
                    e
                );
            }
        }
    }
}
