// SPDX-License-Identifier: GPL-2.0

//! Contexts, submissions and their fences.
//!
//! A [`HostContext`] is a host context (CREATECONTEXTVIRTUAL) with its own
//! host monitored fence (CREATESYNCOBJECT), whose current value the host
//! keeps in the IO space. Submission `n` of the context:
//!
//! 1. SUBMITCOMMAND (command buffer GPU VA, length, private data);
//! 2. SIGNALSYNCOBJECT on the context: the host sets the monitored fence to
//!    `n` when the GPU reaches this point of the queue;
//! 3. WAITFORSYNCOBJECTFROMCPU for value `n` with a guest event: the host
//!    sends SIGNALGUESTEVENT when it is reached.
//!
//! The submission's `dma_fence` (seqno `n` on the context's fence
//! timeline) waits in the context's [`Timeline`]; any guest event of the
//! timeline re-reads the monitored fence value and signals every fence up
//! to it, so lost or merged events cannot reorder completion. Fences fail
//! with `ECANCELED` when the context is destroyed first and with `ENODEV`
//! when the adapter or the VM-level channel goes away first.
//!
//! Lock order: [`HostContext::submit_lock`] before [`Timeline::state`];
//! the VM's event lock is never held while taking either.

use kernel::{
    dma_fence::{DriverFence, Fence, FenceContext},
    new_mutex, new_spinlock_irq,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{Atomic, Relaxed},
        Arc, Mutex, SpinLockIrq,
    },
    time::{Instant, Monotonic},
    types::ScopeGuard,
};

use crate::host::{
    device::HostDevice,
    request::{check_status, decode_raw, proto_err},
    vm::{GuestEvent, IoSpace},
};
use crate::proto::{
    context::{CreateContextMsg, DestroyContext},
    decode_reply,
    submit::SubmitCommandMsg,
    sync::{CreateSyncObject, CreateSyncObjectReply, DestroySyncObject, SYNC_TYPE_MONITORED_FENCE},
    syncmsg::{SignalSyncObjectMsg, WaitFromCpuMsg},
    Handle, U64,
};

/// GPU time used by one DRM file's contexts (fdinfo `drm-engine-gpu`).
pub(crate) struct EngineStats {
    busy_ns: Atomic<u64>,
}

impl EngineStats {
    /// No time used yet.
    pub(crate) fn new() -> Result<Arc<Self>> {
        Ok(Arc::new(
            Self {
                busy_ns: Atomic::new(0),
            },
            GFP_KERNEL,
        )?)
    }

    /// Nanoseconds the file's submissions have been running, counting
    /// each context's queue as busy from a submission (or the previous
    /// completion, if later) to its completion.
    pub(crate) fn busy_ns(&self) -> u64 {
        self.busy_ns.load(Relaxed)
    }
}

/// A submitted, unsignalled fence.
struct Pending {
    value: u64,
    fence: DriverFence,
    submitted: Instant<Monotonic>,
}

/// Fences of one context that have not signalled yet.
struct TimelineState {
    /// In submission order.
    pending: KVec<Pending>,
    /// When the last fence of the context signalled.
    last_done: Option<Instant<Monotonic>>,
    /// Set once the timeline failed: later fences fail at once.
    failed: Option<Error>,
}

/// The fence timeline of a context, following its host monitored fence.
#[pin_data]
pub(crate) struct Timeline {
    io: Arc<IoSpace>,
    stats: Arc<EngineStats>,
    /// Guest-physical address of the monitored fence value.
    gpa: u64,
    /// Protects the pending fences (taken in the receive path).
    #[pin]
    state: SpinLockIrq<TimelineState>,
}

impl Timeline {
    /// Signal every pending fence the host's fence value has reached.
    fn update(&self) {
        let value = match self.io.read_u64(self.gpa) {
            Ok(v) => v,
            Err(e) => return self.fail(e),
        };
        let mut done = KVec::new();
        {
            let mut st = self.state.lock();
            let now = Instant::<Monotonic>::now();
            while st.pending.first().is_some_and(|p| p.value <= value) {
                let Ok(p) = st.pending.remove(0) else { break };
                // Busy since it was submitted or the previous one ended.
                let mut busy = (now - p.submitted).as_nanos();
                if let Some(last) = st.last_done {
                    busy = busy.min((now - last).as_nanos());
                }
                self.stats
                    .busy_ns
                    .fetch_add(u64::try_from(busy).unwrap_or(0), Relaxed);
                st.last_done = Some(now);
                if done.reserve(1, GFP_ATOMIC).is_err() {
                    // Out of memory: signal under the lock instead.
                    p.fence.signal(Ok(()));
                    continue;
                }
                // Within the capacity just reserved: cannot fail.
                let _ = done.push(p.fence, GFP_ATOMIC);
            }
        }
        for f in done {
            f.signal(Ok(()));
        }
    }

    /// Fail every pending fence, and every later one, with `err`.
    fn fail(&self, err: Error) {
        let pending = {
            let mut st = self.state.lock();
            if st.failed.is_none() {
                st.failed = Some(err);
            }
            core::mem::take(&mut st.pending)
        };
        for p in pending {
            p.fence.signal(Err(err));
        }
    }

    /// Add the fence of value `value`.
    fn add(&self, value: u64, fence: DriverFence) -> Result {
        let mut st = self.state.lock();
        if let Some(e) = st.failed {
            fence.signal(Err(e));
            return Err(e);
        }
        let submitted = Instant::<Monotonic>::now();
        st.pending.push(
            Pending {
                value,
                fence,
                submitted,
            },
            GFP_ATOMIC,
        )?;
        Ok(())
    }

    /// Drop the fence of value `value` again, failing it with `err`.
    fn abandon(&self, value: u64, err: Error) {
        let f = {
            let mut st = self.state.lock();
            match st.pending.iter().position(|p| p.value == value) {
                Some(i) => st.pending.remove(i).ok(),
                None => None,
            }
        };
        if let Some(p) = f {
            p.fence.signal(Err(err));
        }
    }
}

impl GuestEvent for Timeline {
    fn signal(&self, result: Result) {
        match result {
            Ok(()) => self.update(),
            Err(e) => self.fail(e),
        }
    }
}

/// What a submission carries besides its context.
pub(crate) struct Submission<'a> {
    /// GPU VA of the command buffer.
    pub(crate) cmd_va: u64,
    /// Its length in bytes.
    pub(crate) cmd_len: u32,
    /// Private driver data for the host.
    pub(crate) priv_data: &'a [u8],
}

/// A host context with its monitored fence.
#[pin_data(PinnedDrop)]
pub(crate) struct HostContext {
    device: Arc<HostDevice>,
    handle: Handle,
    /// The context's host monitored fence.
    sync: Handle,
    /// The timeline of the context's `dma_fence`s.
    fence_context: FenceContext,
    timeline: Arc<Timeline>,
    /// Serialises submissions; holds the last submitted fence value.
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
        let io = device.io().clone();
        let cmd = CreateSyncObject::new(
            device.process(),
            device.handle(),
            SYNC_TYPE_MONITORED_FENCE,
            0,
            [0; 8],
        );
        let sync = a
            .request(&cmd, size_of::<CreateSyncObjectReply>())
            .and_then(|r| {
                decode_raw(&r, |r| {
                    let s = decode_reply::<CreateSyncObjectReply>(r)?;
                    let h = s.validate(SYNC_TYPE_MONITORED_FENCE, 0, device.io().range())?;
                    let gpa = s
                        .fence_storage_address
                        .get()
                        .checked_add(u64::from(s.fence_storage_offset.get()))
                        .ok_or(crate::proto::ProtoError::Overflow)?;
                    Ok((h, gpa))
                })
            });
        let (sync, gpa) = sync?;
        let timeline = Arc::pin_init(
            pin_init!(Timeline {
                io,
                stats,
                gpa,
                state <- new_spinlock_irq!(
                    TimelineState { pending: KVec::new(), last_done: None, failed: None },
                    "dxg_timeline"
                ),
            }),
            GFP_KERNEL,
        )?;
        let this = Arc::pin_init(
            pin_init!(Self {
                device,
                handle,
                sync,
                fence_context: FenceContext::new(c"dxg", c"context"),
                timeline,
                submit_lock <- new_mutex!(0, "dxg_submit"),
            }),
            GFP_KERNEL,
        )?;
        destroy_ctx.dismiss();
        Ok(this)
    }

    /// The host's handle.
    pub(crate) fn handle(&self) -> Handle {
        self.handle
    }

    /// The device the context belongs to.
    pub(crate) fn device(&self) -> &Arc<HostDevice> {
        &self.device
    }

    /// Submit `s`; the returned fence signals when the host has run it.
    pub(crate) fn submit(&self, s: &Submission<'_>) -> Result<ARef<Fence>> {
        let dev = &self.device;
        let a = dev.adapter();
        let mut last = self.submit_lock.lock();
        let value = last.checked_add(1).ok_or(EOVERFLOW)?;
        let ctxs = [self.handle];
        let msg = SubmitCommandMsg::new(
            dev.process(),
            s.cmd_va,
            s.cmd_len,
            0,
            &ctxs,
            &[],
            s.priv_data,
        )
        .map_err(proto_err)?;
        check_status(&a.request_msg(&msg, 8)?)?;
        // The work is queued: from here on the value is used.
        *last = value;
        let signaller = self.fence_context.new_fence(value)?;
        let fence: ARef<Fence> = signaller.fence().into();
        self.timeline.add(value, signaller)?;
        let objects = [self.sync];
        let values = [U64::new(value)];
        let r = SignalSyncObjectMsg::new(
            dev.process(),
            0,
            u64::from(dev.handle().value()),
            &objects,
            &ctxs,
            &values,
        )
        .map_err(proto_err)
        .and_then(|m| a.request_msg(&m, 8))
        .and_then(|r| check_status(&r));
        if let Err(e) = r {
            self.timeline.abandon(value, e);
            return Err(e);
        }
        let vm = a.vm();
        let event = match vm.add_event(a.event_owner(), self.timeline.clone()) {
            Ok(ev) => ev,
            Err(e) => {
                self.timeline.abandon(value, e);
                return Err(e);
            }
        };
        let r = WaitFromCpuMsg::new(dev.process(), dev.handle(), 0, event, &objects, &values)
            .map_err(proto_err)
            .and_then(|m| a.request_msg(&m, 8))
            .and_then(|r| check_status(&r));
        if let Err(e) = r {
            vm.remove_event(event);
            self.timeline.abandon(value, e);
            return Err(e);
        }
        drop(last);
        Ok(fence)
    }
}

#[pinned_drop]
impl PinnedDrop for HostContext {
    fn drop(self: Pin<&mut Self>) {
        self.timeline.fail(ECANCELED);
        let dev = &self.device;
        let a = dev.adapter();
        if a.dead().is_some() {
            return;
        }
        let _ = a
            .request_global(&DestroySyncObject::new(dev.process(), self.sync), 8)
            .and_then(|r| check_status(&r));
        let r = a
            .request(&DestroyContext::new(dev.process(), self.handle), 8)
            .and_then(|r| check_status(&r));
        if let Err(e) = r {
            if e != ENODEV {
                pr_warn!(
                    "host did not destroy context {:#x}: {:?}\n",
                    self.handle.value(),
                    e
                );
            }
        }
    }
}
