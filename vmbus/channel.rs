// SPDX-License-Identifier: GPL-2.0

//! A channel to the host: requests, replies and notifications.
//!
//! [`Channel`] is the transport seam. Everything above it (adapters, the
//! VM object, DRM ioctls) sends a request with [`Channel::request_as`] and gets
//! the host's reply bytes or an error; it never sees how packets move. Below
//! it, a [`Link`] moves VMBus packets: the loopback link of the test
//! transport or (later) a real VMBus channel. Both deliver what the host
//! sends to [`Channel::receive`], which decodes the VMBus packet with the
//! shared protocol code, so reply matching and validation are one code path.
//!
//! Requests carry a per-channel transaction id; the host's completion packet
//! names it. A waiter sleeps (killably: only a fatal signal ends the wait
//! early, since the host may act on the request either way and a restarted
//! system call would repeat it), for at most the channel timeout
//! (module parameter `timeout_ms`). When the channel dies (rescind, unbind,
//! timeout) every waiter fails at once. A timeout also calls the channel's
//! [`LostHook`], which the layer that bound the channel installs (it
//! unbinds the adapters that depend on the host).
//!
//! Lock order: [`Channel::state`] before [`Pending::reply`]; neither is held
//! while sending or sleeping (the wait releases [`Pending::reply`]).

use kernel::{
    new_condvar, new_spinlock_irq,
    prelude::*,
    sync::{
        atomic::{Atomic, Relaxed},
        Arc, CondVar, SpinLockIrq,
    },
    time::{delay::fsleep, Delta},
};

use crate::proto::vmbus::{self, PacketType};
use crate::sys::{
    smallbuf::SmallBuf,
    util::{wait_until, WaitEnd},
};
#[cfg(dxg_test)]
use crate::vmbus::loopback::LoopLink;
use crate::vmbus::{hv::HvLink, memory::PageRefs};

/// Which kind of channel an offer is (its VMBus device type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChannelKind {
    /// The VM-level ("global") channel.
    Vm,
    /// A per-vGPU channel.
    Vgpu,
}

/// What a channel calls once it declared its host lost (no reply within
/// the timeout; the channel is dead already), in the timed-out request.
pub(crate) type LostHook = fn(&Channel);

/// How a channel moves packets to the host.
pub(crate) enum Link {
    /// The loopback transport: a user process plays the host (test build).
    #[cfg(dxg_test)]
    Loopback(Arc<LoopLink>),
    /// A VMBus channel to the Hyper-V host.
    Vmbus(Arc<HvLink>),
}

/// Where a link delivers the host's packets once its channel is bound.
#[derive(Clone)]
pub(crate) struct Target {
    /// The channel that matches completions.
    pub(crate) channel: Arc<Channel>,
    /// Who gets host-initiated messages (the VM object).
    pub(crate) notify: Option<Arc<dyn Notify>>,
}

/// Where a link's incoming packets come from: the VMBus ring
/// (`vmbus_recvpacket_raw()`), or the one packet a loopback host wrote.
pub(crate) trait PacketSource {
    /// The next packet, as a VMBus ring read returns it (descriptor,
    /// payload, padding), read into `buf` (whose capacity bounds it) or
    /// borrowed; `None` when there is none left.
    fn next<'a>(&'a self, buf: &'a mut KVec<u8>) -> Result<Option<&'a [u8]>>;
}

impl Target {
    /// Hand the packets of `src` to the channel, at most [`DRAIN_BUDGET`]
    /// of them: the receive path of both transports. A malformed packet is
    /// consumed and dropped (the channel counts and logs it) and the rest
    /// are still delivered; the last error is returned.
    pub(crate) fn drain(&self, src: &dyn PacketSource, buf: &mut KVec<u8>) -> Result {
        let mut result = Ok(());
        for _ in 0..DRAIN_BUDGET {
            buf.clear();
            let Some(packet) = src.next(buf)? else {
                return result;
            };
            if let Err(e) = self.channel.receive(packet, self.notify.as_deref()) {
                result = Err(e);
            }
        }
        result
    }
}

/// Most packets one call of [`Target::drain`] delivers. The VMBus channel
/// callback runs in softirq context; the VMBus core calls it again as long
/// as the ring holds data, up to its own time limit, and then defers the
/// rest to the channel's tasklet, so a host that floods the ring cannot
/// keep one CPU in dxg's callback. The loopback transport delivers one
/// packet per write.
pub(crate) const DRAIN_BUDGET: usize = 64;

impl Link {
    /// Queue one packet; `EAGAIN` if the ring (queue) is full.
    fn send(&self, payload: &[u8], trans_id: u64, completion: bool) -> Result {
        match self {
            #[cfg(dxg_test)]
            Link::Loopback(l) => l.send(payload, trans_id, completion),
            Link::Vmbus(l) => l.send(payload, trans_id, completion),
        }
    }

    /// [`send`](Self::send), retrying a full ring up to `retries` times
    /// 1 ms apart (back-pressure: it drains as the host reads it).
    fn send_retrying(
        &self,
        payload: &[u8],
        trans_id: u64,
        completion: bool,
        retries: u32,
    ) -> Result {
        let mut tries = 0;
        loop {
            match self.send(payload, trans_id, completion) {
                Err(e) if e == EAGAIN && tries < retries => {
                    tries += 1;
                    fsleep(Delta::from_millis(1));
                }
                r => return r,
            }
        }
    }

    fn gpadl_establish(&self, pages: Arc<PageRefs>) -> Result<u32> {
        match self {
            #[cfg(dxg_test)]
            Link::Loopback(l) => l.gpadl_establish(pages),
            Link::Vmbus(l) => l.gpadl_establish(pages),
        }
    }

    fn gpadl_teardown(&self, id: u32) {
        match self {
            #[cfg(dxg_test)]
            Link::Loopback(l) => l.gpadl_teardown(id),
            Link::Vmbus(l) => l.gpadl_teardown(id),
        }
    }

    /// Deliver the host's packets to `target` from now on.
    pub(crate) fn attach(&self, target: Target) {
        match self {
            #[cfg(dxg_test)]
            Link::Loopback(l) => l.attach(target),
            Link::Vmbus(l) => l.attach(target),
        }
    }

    /// Stop delivering.
    pub(crate) fn detach(&self) {
        match self {
            #[cfg(dxg_test)]
            Link::Loopback(l) => l.detach(),
            Link::Vmbus(l) => l.detach(),
        }
    }
}

/// Like the original on a full ring, 1 ms apart: a request is retried 50
/// times (dxgvmbus.c dxgvmb_send_sync_msg()), an asynchronous message 5000
/// times (dxgvmb_send_async_msg(): the host reads the ring in bursts, and
/// a message given up loses its context). Only the context workers send
/// asynchronous messages this way; a submitting thread never retries.
const RING_FULL_RETRIES: u32 = 50;
/// See [`RING_FULL_RETRIES`].
const RING_FULL_RETRIES_ASYNC: u32 = 5000;

/// Guest pages shared with the host (a GPADL), torn down on drop.
pub(crate) struct Gpadl {
    link: Arc<Link>,
    id: u32,
    /// Keeps the pages until the host cannot reach them any more (the
    /// teardown in `drop` comes first).
    _pages: Arc<PageRefs>,
}

impl Gpadl {
    /// The handle the host knows it by.
    pub(crate) fn id(&self) -> u32 {
        self.id
    }
}

impl Drop for Gpadl {
    fn drop(&mut self) {
        self.link.gpadl_teardown(self.id);
    }
}

/// What a waiter finds when it wakes up.
enum ReplyState {
    /// No answer yet.
    Waiting,
    /// The host answered; the payload is in [`Reply`].
    Done,
    /// The request failed without an answer.
    Failed(Error),
}

/// Replies up to this size are kept in the request itself, so a request
/// with a small reply (most of them) allocates nothing.
const INLINE_REPLY: usize = 128;

/// A reply as [`Channel::request_as`] returns it.
pub(crate) type ReplyBuf = SmallBuf<INLINE_REPLY>;

/// The reply slot of one request.
struct Reply {
    state: ReplyState,
    /// Largest valid reply (8-byte aligned, as VMBus pads it).
    max: usize,
    /// Bytes of the reply in `inline`, if `max <= INLINE_REPLY`.
    len: usize,
    inline: [u8; INLINE_REPLY],
    /// Larger replies: allocated by the sender with capacity `max`, so the
    /// receive path (atomic context on VMBus) never allocates.
    heap: KVec<u8>,
}

impl Reply {
    /// Store `payload`, without allocating. A reply longer than the
    /// request allows is cut to that length, as dxgkrnl copies only the
    /// expected bytes (dxgvmbus.c process_completion_packet()); the typed
    /// decoders check what is left.
    fn store(&mut self, payload: &[u8]) -> Result {
        let payload = payload.get(..self.max).unwrap_or(payload);
        if self.max <= INLINE_REPLY {
            let dst = self.inline.get_mut(..payload.len()).ok_or(EPROTO)?;
            dst.copy_from_slice(payload);
            self.len = payload.len();
            return Ok(());
        }
        // Within the capacity reserved by the sender: cannot allocate.
        self.heap.clear();
        self.heap
            .extend_from_slice(payload, GFP_ATOMIC)
            .map_err(|_| ENOMEM)
    }

    /// Hand the stored reply to the waiter.
    fn take(&mut self) -> Result<ReplyBuf> {
        if self.max <= INLINE_REPLY {
            let bytes = self.inline.get(..self.len).ok_or(EPROTO)?;
            // Within INLINE_REPLY: cannot allocate.
            return ReplyBuf::from_slice(bytes, GFP_ATOMIC);
        }
        Ok(SmallBuf::Heap(core::mem::take(&mut self.heap)))
    }
}

/// One request waiting for its completion. Kept for the next request of
/// the channel once its waiter is done with it (see [`Channel::recycle`]).
#[pin_data]
struct Pending {
    /// Written under [`Channel::state`] only (when the request is queued),
    /// and read there by the receive path.
    trans_id: Atomic<u64>,
    /// On whose behalf it waits ([`Channel::request_as`]; 0: nobody's);
    /// written like `trans_id`.
    owner: Atomic<u64>,
    /// Protects the reply slot; written by the receive path, read by the
    /// waiter.
    #[pin]
    reply: SpinLockIrq<Reply>,
    #[pin]
    done: CondVar,
}

impl Pending {
    fn trans_id(&self) -> u64 {
        self.trans_id.load(Relaxed)
    }

    /// Make it the slot of a new request (the caller holds the channel's
    /// state lock: lock order).
    fn arm(&self, trans_id: u64, owner: u64, max: usize, heap: KVec<u8>) {
        self.trans_id.store(trans_id, Relaxed);
        self.owner.store(owner, Relaxed);
        let mut r = self.reply.lock();
        r.state = ReplyState::Waiting;
        r.max = max;
        r.len = 0;
        r.heap = heap;
    }

    fn finish(&self, state: ReplyState, payload: Option<&[u8]>) {
        let mut r = self.reply.lock();
        if !matches!(r.state, ReplyState::Waiting) {
            return;
        }
        r.state = match payload.map(|p| r.store(p)) {
            Some(Err(e)) => ReplyState::Failed(e),
            _ => state,
        };
        drop(r);
        self.done.notify_all();
    }
}

/// How many finished request slots a channel keeps for reuse.
const IDLE_SLOTS: usize = 4;

/// State shared by senders and the receive path.
struct ChannelState {
    next_trans_id: u64,
    pending: KVec<Arc<Pending>>,
    /// Finished request slots, for reuse (at most [`IDLE_SLOTS`]).
    idle: KVec<Arc<Pending>>,
    /// Set once the channel is dead: every later request fails with it.
    dead: Option<Error>,
    /// The link; taken out when the channel dies, which also breaks the
    /// reference cycle between a loopback link and its channel.
    link: Option<Arc<Link>>,
    /// Owners whose requests fail at once with `ENODEV` (see
    /// [`Channel::abort_owner`]).
    aborted: KVec<u64>,
}

/// How many complaints about bad host packets a channel (or VMBus link)
/// logs before it goes quiet (a broken or hostile host must not flood the
/// log); all of them are counted.
pub(crate) const MAX_COMPLAINTS: u32 = 16;

/// Log a complaint about the host, at most [`MAX_COMPLAINTS`] per channel:
/// `$ch.complaints` is its `Atomic<u32>` counter.
macro_rules! host_warn {
    ($ch:expr, $($arg:tt)*) => {
        if $ch.complaints.fetch_add(1, kernel::sync::atomic::Relaxed)
            < $crate::vmbus::channel::MAX_COMPLAINTS
        {
            pr_warn!($($arg)*);
        }
    };
}
pub(crate) use host_warn;

/// A channel to the host (VM-level or per vGPU).
#[pin_data]
pub(crate) struct Channel {
    /// For log messages: "vm" or "vgpu".
    name: &'static CStr,
    /// How long a request may wait for its reply.
    timeout_ms: u32,
    /// Called when a request timed out, see [`LostHook`].
    lost: LostHook,
    /// Complaints logged so far, see [`host_warn`].
    complaints: Atomic<u32>,
    /// Protects the transaction ids, the pending list and the link.
    #[pin]
    state: SpinLockIrq<ChannelState>,
}

/// Host-to-guest packets that are not completions.
pub(crate) trait Notify: Send + Sync {
    /// Called with the payload of an in-band packet, in the receive context.
    fn notify(&self, payload: &[u8]);
}

impl Channel {
    /// A live channel over `link`; `lost` is called when a request timed
    /// out.
    pub(crate) fn new(
        name: &'static CStr,
        link: Arc<Link>,
        timeout_ms: u32,
        lost: LostHook,
    ) -> Result<Arc<Self>> {
        let idle = KVec::with_capacity(IDLE_SLOTS, GFP_KERNEL)?;
        Arc::pin_init(
            pin_init!(Self {
                name,
                timeout_ms,
                lost,
                complaints: Atomic::new(0),
                state <- new_spinlock_irq!(ChannelState {
                    next_trans_id: 1,
                    pending: KVec::new(),
                    idle,
                    dead: None,
                    link: Some(link),
                    aborted: KVec::new(),
                }, "dxg_channel_state"),
            }),
            GFP_KERNEL,
        )
    }

    /// Whether the channel has died (and with which error).
    pub(crate) fn dead(&self) -> Option<Error> {
        self.state.lock().dead
    }

    /// The link, while the channel lives; its death error otherwise.
    fn live_link(&self) -> Result<Arc<Link>> {
        let st = self.state.lock();
        if let Some(e) = st.dead {
            return Err(e);
        }
        st.link.clone().ok_or(ENODEV)
    }

    /// Share `pages` with the host through this channel (a GPADL).
    pub(crate) fn establish_gpadl(&self, pages: PageRefs) -> Result<Gpadl> {
        let link = self.live_link()?;
        let pages = Arc::new(pages, GFP_KERNEL)?;
        let id = link.gpadl_establish(pages.clone())?;
        Ok(Gpadl {
            link,
            id,
            _pages: pages,
        })
    }

    /// Send `msg` and wait for the host's reply, at most `max_reply` bytes.
    ///
    /// Returns the reply payload as the host sent it (VMBus pads it to 8
    /// bytes; the caller's decoder checks the length it needs), cut to
    /// `max_reply` rounded up to 8 bytes if longer. Errors:
    /// the channel's death error (`ENODEV` after a rescind), `ETIMEDOUT`
    /// after the channel timeout (the channel is then dead), `EINTR` on a
    /// fatal signal (the caller is being killed; the host may or may not
    /// have acted), and `ENODEV` at once for a request of an `owner` (0: nobody's) whose
    /// requests [`abort_owner`](Self::abort_owner) fails.
    pub(crate) fn request_as(&self, owner: u64, msg: &[u8], max_reply: usize) -> Result<ReplyBuf> {
        let max = vmbus::align8(max_reply).ok_or(EINVAL)?;
        let heap = if max > INLINE_REPLY {
            KVec::with_capacity(max, GFP_KERNEL)?
        } else {
            KVec::new()
        };
        let link = self.live_link()?;
        let pending = self.queue_slot(owner, max, heap)?;
        let trans_id = pending.trans_id();
        let r = match link.send_retrying(msg, trans_id, true, RING_FULL_RETRIES) {
            Ok(()) => {
                drop(link);
                self.wait(&pending)
            }
            Err(e) => {
                self.forget(trans_id);
                Err(e)
            }
        };
        self.recycle(pending);
        r
    }

    /// A request slot (an idle one if there is one) for a reply of at
    /// most `max` bytes, in the pending list under a new transaction id.
    fn queue_slot(&self, owner: u64, max: usize, heap: KVec<u8>) -> Result<Arc<Pending>> {
        let mut st = self.state.lock();
        let p = match st.idle.pop() {
            Some(p) => p,
            None => {
                drop(st);
                let p = Arc::pin_init(
                    pin_init!(Pending {
                        trans_id: Atomic::new(0),
                        owner: Atomic::new(0),
                        reply <- new_spinlock_irq!(Reply {
                            state: ReplyState::Waiting,
                            max: 0,
                            len: 0,
                            inline: [0; INLINE_REPLY],
                            heap: KVec::new(),
                        }, "dxg_reply"),
                        done <- new_condvar!("dxg_reply_done"),
                    }),
                    GFP_KERNEL,
                )?;
                st = self.state.lock();
                p
            }
        };
        if let Some(e) = st.dead {
            return Err(e);
        }
        if owner != 0 && st.aborted.contains(&owner) {
            return Err(ENODEV);
        }
        let trans_id = st.next_trans_id;
        st.next_trans_id = trans_id.checked_add(1).unwrap_or(1);
        p.arm(trans_id, owner, max, heap);
        st.pending.push(p.clone(), GFP_ATOMIC)?;
        Ok(p)
    }

    /// Keep a finished request's slot for the next request, if nothing
    /// else refers to it any more (a late receive path may still hold it).
    fn recycle(&self, p: Arc<Pending>) {
        let Some(p) = Arc::into_unique_or_drop(p) else {
            return;
        };
        let p: Arc<Pending> = p.into();
        let mut st = self.state.lock();
        let refused = if st.dead.is_none() {
            st.idle.push_within_capacity(p).err()
        } else {
            None
        };
        drop(st);
        drop(refused);
    }

    /// Send `msg` without asking for a completion (an asynchronous
    /// message: the host answers nothing). A full ring is retried first,
    /// longer than for a request (see [`RING_FULL_RETRIES_ASYNC`]).
    pub(crate) fn send_async(&self, msg: &[u8]) -> Result {
        self.live_link()?
            .send_retrying(msg, 0, false, RING_FULL_RETRIES_ASYNC)
    }

    /// [`send_async`](Self::send_async) without the retries: `EAGAIN` if
    /// the ring is full (nothing was sent). Never sleeps.
    pub(crate) fn try_send_async(&self, msg: &[u8]) -> Result {
        self.live_link()?.send(msg, 0, false)
    }

    fn wait(&self, p: &Pending) -> Result<ReplyBuf> {
        let end = wait_until(&p.reply, &p.done, self.timeout_ms, |r| match r.state {
            ReplyState::Done => Some(r.take()),
            ReplyState::Failed(e) => Some(Err(e)),
            ReplyState::Waiting => None,
        });
        let end = match end {
            Ok(r) => return r,
            Err(end) => end,
        };
        self.forget(p.trans_id());
        match end {
            // Not ERESTARTSYS: the host may have acted already, and a
            // restarted ioctl would do it twice.
            WaitEnd::Interrupted => Err(EINTR),
            WaitEnd::TimedOut => {
                pr_err!(
                    "{:?} channel: no reply within {} ms, declaring the host lost\n",
                    self.name,
                    self.timeout_ms
                );
                self.declare_lost();
                Err(ETIMEDOUT)
            }
        }
    }

    /// Drop a request the caller stopped waiting for; a late reply then
    /// matches nothing.
    fn forget(&self, trans_id: u64) {
        let mut st = self.state.lock();
        st.pending.retain(|p| p.trans_id() != trans_id);
    }

    /// The host is lost for this channel (it stopped answering, or its
    /// state is unknown after a failed setup message): the channel dies
    /// (`ENODEV`) and the DRM devices that depend on it are unplugged.
    /// The caller logs why.
    pub(crate) fn declare_lost(&self) {
        self.kill(ENODEV);
        (self.lost)(self);
    }

    /// Fail the requests of `owner` (not 0) in flight with `ENODEV`, and
    /// every later one at once, until [`allow_owner`](Self::allow_owner):
    /// an unbinding adapter's waiters must not hold up the unplug of its
    /// DRM device (which waits for the ioctls in progress) until the host
    /// answers or the request times out. The host may still act on what
    /// it was sent; the adapter is going away.
    pub(crate) fn abort_owner(&self, owner: u64) -> Result {
        let mut aborted = KVec::new();
        let r = {
            let mut st = self.state.lock();
            let r = if st.aborted.contains(&owner) {
                Ok(())
            } else {
                st.aborted.push(owner, GFP_ATOMIC).map_err(Error::from)
            };
            for p in st.pending.iter() {
                if p.owner.load(Relaxed) == owner && aborted.push(p.clone(), GFP_ATOMIC).is_err() {
                    break;
                }
            }
            r
        };
        // Outside the state lock, as the receive path does.
        for p in aborted {
            p.finish(ReplyState::Failed(ENODEV), None);
        }
        r
    }

    /// Let `owner`'s requests go to the host again (after
    /// [`abort_owner`](Self::abort_owner)).
    pub(crate) fn allow_owner(&self, owner: u64) {
        self.state.lock().aborted.retain(|o| *o != owner);
    }

    /// Mark the channel dead and fail every waiter with `err`.
    pub(crate) fn kill(&self, err: Error) {
        let (pending, idle, link) = {
            let mut st = self.state.lock();
            if st.dead.is_none() {
                st.dead = Some(err);
            }
            (
                core::mem::take(&mut st.pending),
                core::mem::take(&mut st.idle),
                st.link.take(),
            )
        };
        for p in pending.iter() {
            p.finish(ReplyState::Failed(err), None);
        }
        drop((idle, link));
    }

    /// Handle one VMBus packet from the host, as `vmbus_recvpacket_raw()`
    /// returns it (descriptor, payload, padding; both transports deliver
    /// exactly this). Completions wake their request; in-band packets go to
    /// `notify`. Malformed packets and unknown transaction ids are logged
    /// and dropped: the host is not trusted.
    pub(crate) fn receive(&self, bytes: &[u8], notify: Option<&dyn Notify>) -> Result {
        let packet = vmbus::decode_packet_raw(bytes).map_err(|e| {
            host_warn!(
                self,
                "{:?} channel: bad packet: {}\n",
                self.name,
                e.as_str()
            );
            Error::from_errno(-e.errno())
        })?;
        match packet.ptype {
            PacketType::Completion => {
                let found = {
                    let mut st = self.state.lock();
                    let pos = st
                        .pending
                        .iter()
                        .position(|p| p.trans_id() == packet.trans_id);
                    match pos {
                        Some(i) => st.pending.remove(i).ok(),
                        None => None,
                    }
                };
                match found {
                    Some(p) => p.finish(ReplyState::Done, Some(packet.payload)),
                    None => host_warn!(
                        self,
                        "{:?} channel: completion for unknown transaction {}\n",
                        self.name,
                        packet.trans_id
                    ),
                }
            }
            PacketType::DataInband => match notify {
                Some(n) => n.notify(packet.payload),
                None => host_warn!(
                    self,
                    "{:?} channel: unexpected host message dropped\n",
                    self.name
                ),
            },
        }
        Ok(())
    }
}
