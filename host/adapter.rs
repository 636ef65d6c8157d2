// SPDX-License-Identifier: GPL-2.0

//! An adapter: one vGPU, as seen by the host.
//!
//! An adapter is a vGPU PCI function paired with its vGPU channel, inside
//! the VM whose VM-level channel is bound. Opening it follows the host's
//! start-up sequence as dxgkrnl sends it (dxgadapter_set_vmbus() in
//! dxgadapter.c): OPENADAPTER on the vGPU channel, then
//! GETINTERNALADAPTERINFO. Dropping it sends CLOSEADAPTER (best effort: a
//! dead channel fails at once, nothing waits).
//!
//! Routing: when the host enables asynchronous messages (the
//! `async_msg_enabled` flag of GETINTERNALADAPTERINFO), every later
//! message of the adapter goes on the VM-level channel, and the messages
//! of a submission are sent without waiting for a reply (dxgkrnl
//! dxgvmbus.c init_message() and dxgvmb_send_submit_command()); otherwise
//! all go on the vGPU channel as requests. Below interface version 40 the
//! flag is ignored: without the extension header a message on the
//! VM-level channel cannot name its vGPU, so the host could not route it
//! (dxgkrnl would send it there anyway).

use kernel::{
    new_condvar, new_spinlock_irq, pci,
    prelude::*,
    sync::{
        atomic::{Acquire, Atomic, Release},
        Arc, CondVar, SpinLockIrq,
    },
};

use crate::host::{
    request::{
        call, call_as, call_msg, call_msg_as, check_status, decode_raw, encode_msg, errno,
        proto_err, Message,
    },
    vm::Vm,
};
use crate::proto::{
    adapter::{
        decode_query_adapter_info_reply, AdapterInfoReply, CloseAdapter, GetInternalAdapterInfo,
        OpenAdapter, OpenAdapterReply, QueryAdapterInfoMsg, ADAPTER_TYPE_COMPUTE_ONLY,
        QAI_ADAPTERTYPE,
    },
    decode_reply, Command, Framing, Guid, Handle, Luid,
};
use crate::sys::util::wait_until;
use crate::vmbus::channel::{Channel, ReplyBuf};

/// The largest QUERYADAPTERINFO buffer (the host's replies for the
/// documented query types are far smaller; this bounds kernel memory).
pub(crate) const MAX_QUERY: usize = 64 * 1024;

/// The jobs of an adapter's contexts that are on the host.
#[pin_data]
struct Inflight {
    /// Protects the count (taken in the receive path).
    #[pin]
    count: SpinLockIrq<u64>,
    /// Notified when the count drops to zero.
    #[pin]
    drained: CondVar,
}

/// An open adapter.
pub(crate) struct Adapter {
    /// The VM (VM-level channel, IO space); kept alive by the adapter.
    vm: Arc<Vm>,
    /// The vGPU channel.
    vgpu: Arc<Channel>,
    framing: Framing,
    host_handle: Handle,
    /// The adapter LUID user space sees: the channel LUID (dxgkrnl ioctl.c,
    /// dxgkio_enum_adapters() reports `struct dxgadapter`'s `luid`).
    luid: Luid,
    version: u32,
    /// Whether the adapter is compute only, if its PCI id tells (1414:008A
    /// or 1414:008E); `None` for a stand-in function, whose host is asked
    /// (see [`compute_only`](Self::compute_only)).
    compute_only: Option<bool>,
    /// The host's answer for a stand-in: 0 not asked yet, 1 no, 2 yes.
    host_compute_only: Atomic<u32>,
    info: AdapterInfoReply,
    /// The host enabled asynchronous messages.
    async_msg: bool,
    /// Set when the adapter is being unbound: no more jobs are sent.
    closing: Atomic<bool>,
    inflight: Arc<Inflight>,
}

impl Adapter {
    /// Open the adapter of `pdev` over its vGPU channel `vgpu`, whose
    /// instance GUID is `instance`.
    pub(crate) fn open(
        pdev: &pci::Device,
        vm: Arc<Vm>,
        vgpu: Arc<Channel>,
        instance: Guid,
        version: u32,
        vgpu_luid: Luid,
        compute_only: Option<bool>,
    ) -> Result<Self> {
        // dxgkrnl registers the IO space before the first OPENADAPTER
        // (dxgglobal_init_global_channel(), when the first adapter starts).
        if vm.mmio_size() != 0 {
            vm.register_io_space(version)?;
        }
        let mut framing = Framing::new(version, vgpu_luid);
        let reply = call(
            &vgpu,
            &framing,
            &OpenAdapter::new(version),
            size_of::<OpenAdapterReply>(),
        )?;
        let reply: OpenAdapterReply = decode_reply(&reply).map_err(proto_err)?;
        let host_handle = reply.validate().map_err(errno)?;
        let info = call(
            &vgpu,
            &framing,
            &GetInternalAdapterInfo::new(),
            AdapterInfoReply::size_for(version),
        )
        .and_then(|r| decode_raw(&r, |r| AdapterInfoReply::decode(r, version)));
        let info = match info {
            Ok(i) => i,
            Err(e) => {
                let _ = call(&vgpu, &framing, &CloseAdapter::new(host_handle), 0);
                return Err(e);
            }
        };
        // The host's answer overrides the vGPU LUID from config space.
        if !info.host_vgpu_luid.is_zero() {
            framing = Framing::new(version, info.host_vgpu_luid);
        }
        let inflight = Arc::pin_init(
            pin_init!(Inflight {
                count <- new_spinlock_irq!(0, "dxg_adapter_inflight"),
                drained <- new_condvar!("dxg_adapter_drained"),
            }),
            GFP_KERNEL,
        )?;
        let this = Self {
            async_msg: info.async_msg_enabled()
                && version >= crate::proto::consts::VERSION_EXT_HEADER,
            closing: Atomic::new(false),
            inflight,
            vm,
            luid: Luid::from_guid(&instance),
            vgpu,
            framing,
            host_handle,
            version,
            compute_only,
            host_compute_only: Atomic::new(0),
            info,
        };
        let mut desc = [0u8; 80];
        dev_info!(
            pdev.as_ref(),
            "adapter {:08x}:{:08x} open: \"{}\"{}, host handle {:#x}\n",
            this.luid.high.get(),
            this.luid.low.get(),
            utf16_to_ascii(this.info.description(), &mut desc),
            match compute_only {
                Some(true) => " (compute only)",
                Some(false) => "",
                None => " (stand-in: the host tells whether it is compute only)",
            },
            this.host_handle.value(),
        );
        Ok(this)
    }
}

impl Adapter {
    /// The VM the adapter lives in.
    pub(crate) fn vm(&self) -> &Arc<Vm> {
        &self.vm
    }

    /// QUERYADAPTERINFO of `query_type` for `process`: `data` is the query
    /// buffer, in and out (at most [`MAX_QUERY`] bytes).
    pub(crate) fn query_adapter_info(
        &self,
        process: Handle,
        query_type: u32,
        data: &mut [u8],
    ) -> Result {
        if data.len() > MAX_QUERY {
            return Err(E2BIG);
        }
        let size = u32::try_from(data.len()).map_err(|_| E2BIG)?;
        let msg = QueryAdapterInfoMsg::new(process, query_type, data).map_err(proto_err)?;
        let reply = self.request_msg(&msg, data.len() + 4)?;
        let (status, bytes) =
            decode_query_adapter_info_reply(&reply, self.version, size).map_err(proto_err)?;
        if status.is_pending() {
            // A final answer is required here.
            return Err(EPROTO);
        }
        status.check().map_err(errno)?;
        data.copy_from_slice(bytes);
        Ok(())
    }

    /// The channel the adapter's messages go on (see the module docs).
    fn channel(&self) -> &Channel {
        if self.async_msg {
            self.vm.channel()
        } else {
            &self.vgpu
        }
    }

    /// Send the fixed-size command `cmd` and wait for the reply.
    pub(crate) fn request<C: Command>(&self, cmd: &C, max_reply: usize) -> Result<ReplyBuf> {
        call_as(
            self.channel(),
            self.event_owner(),
            &self.framing,
            cmd,
            max_reply,
        )
    }

    /// Send the fixed-size VM-level command `cmd` on the VM-level channel.
    pub(crate) fn request_global<C: Command>(&self, cmd: &C, max_reply: usize) -> Result<ReplyBuf> {
        call_as(
            self.vm.channel(),
            self.event_owner(),
            &Framing::new(self.version, Luid::ZERO),
            cmd,
            max_reply,
        )
    }

    /// Send the variable-size message `msg` and wait for the reply.
    pub(crate) fn request_msg(&self, msg: &dyn Message, max_reply: usize) -> Result<ReplyBuf> {
        call_msg_as(
            self.channel(),
            self.event_owner(),
            &self.framing,
            msg,
            max_reply,
        )
    }

    /// Send a message of a submission (`msg`, with a bare-NTSTATUS reply):
    /// asynchronously if the host enabled it (no reply; the async bit is
    /// set by [`Message::encode_async`]), else as a request whose status
    /// is checked.
    pub(crate) fn send_queued(&self, msg: &dyn Message) -> Result {
        if self.async_msg {
            let buf = encode_msg(&self.framing, msg, true)?;
            self.vm.channel().send_async(&buf)
        } else {
            // Not on the adapter's behalf: a context worker's request of a
            // job already pending is never aborted by an unbind (its fence
            // must tell what the host did).
            check_status(&call_msg(self.channel(), &self.framing, msg, 8)?)
        }
    }

    /// Whether [`send_queued`](Self::send_queued) sends asynchronously
    /// (and [`try_send_queued`](Self::try_send_queued) may be used).
    pub(crate) fn sends_async(&self) -> bool {
        self.async_msg
    }

    /// Send a message of a submission asynchronously without waiting for
    /// anything: `EAGAIN` if the ring is full (nothing was sent), `EINVAL`
    /// if the host did not enable asynchronous messages.
    pub(crate) fn try_send_queued(&self, msg: &dyn Message) -> Result {
        if !self.async_msg {
            return Err(EINVAL);
        }
        let buf = encode_msg(&self.framing, msg, true)?;
        self.vm.channel().try_send_async(&buf)
    }

    /// The adapter's DRM device is about to be unplugged, which waits for
    /// the ioctls in progress: fail their requests waiting for the host at
    /// once (`ENODEV`), and later ones, until [`end_unplug`](Self::end_unplug),
    /// so that a silent host cannot hold the unplug (and, through the
    /// global unplug SRCU, every other DRM device's) for `timeout_ms`.
    /// Context workers' requests are not affected.
    pub(crate) fn begin_unplug(&self) {
        let owner = self.event_owner();
        for ch in [&*self.vgpu, &**self.vm.channel()] {
            if ch.abort_owner(owner).is_err() {
                // Out of memory: the waiters in flight were failed; later
                // ones wait (bounded by the request timeout).
                pr_warn!("unplug: cannot keep new requests from the host\n");
            }
        }
    }

    /// The DRM device is unplugged: the adapter's requests (teardown of
    /// what files still hold) go to the host again.
    pub(crate) fn end_unplug(&self) {
        let owner = self.event_owner();
        self.vgpu.allow_owner(owner);
        self.vm.channel().allow_owner(owner);
    }

    /// The adapter is being unbound: from now on its contexts send no more
    /// jobs (they fail with `ENODEV`).
    pub(crate) fn set_closing(&self) {
        self.closing.store(true, Release);
    }

    /// See [`set_closing`](Self::set_closing).
    pub(crate) fn closing(&self) -> bool {
        self.closing.load(Acquire)
    }

    /// A job was sent to the host.
    pub(crate) fn job_started(&self) {
        *self.inflight.count.lock() += 1;
    }

    /// `n` jobs left the host (completed or failed).
    pub(crate) fn jobs_finished(&self, n: u64) {
        let zero = {
            let mut c = self.inflight.count.lock();
            *c = c.saturating_sub(n);
            *c == 0
        };
        if zero {
            self.inflight.drained.notify_all();
        }
    }

    /// Wait (for at most `timeout_ms`) until the host completed every job
    /// it was sent; whether it did.
    pub(crate) fn drain(&self, timeout_ms: u32) -> bool {
        wait_until(
            &self.inflight.count,
            &self.inflight.drained,
            timeout_ms,
            |c| (*c == 0).then_some(()),
        )
        .is_ok()
    }

    /// Whether the vGPU channel died (and with which error).
    pub(crate) fn dead(&self) -> Option<Error> {
        self.vgpu.dead()
    }

    /// The host's handle of the adapter.
    pub(crate) fn host_handle(&self) -> Handle {
        self.host_handle
    }

    /// Identifies the adapter's guest events in its VM (unique while the
    /// adapter exists: the address of its vGPU channel, which it holds).
    pub(crate) fn event_owner(&self) -> u64 {
        Arc::as_ptr(&self.vgpu) as usize as u64
    }

    /// The adapter is going away; called once no ioctl can run any more
    /// (after the DRM device is unplugged). Jobs not sent yet fail with
    /// `ENODEV`; a live host gets `timeout_ms` to complete what it was
    /// sent; then every guest event the adapter waits for fails (fences
    /// still pending fail with `ENODEV`).
    pub(crate) fn shutdown(&self) {
        self.set_closing();
        if self.dead().is_none() && !self.drain(crate::module_parameters::timeout_ms.value()) {
            pr_warn!("the host did not complete the adapter's jobs in time\n");
        }
        self.vm.fail_events(Some(self.event_owner()), ENODEV);
    }

    /// The adapter LUID user space sees.
    pub(crate) fn luid(&self) -> Luid {
        self.luid
    }

    /// The negotiated host protocol version.
    pub(crate) fn version(&self) -> u32 {
        self.version
    }

    /// Whether the adapter is compute only: from the PCI id (1414:008A),
    /// or, for a stand-in function, whose id cannot tell, from the host:
    /// the ComputeOnly bit of its adapter type (QUERYADAPTERINFO of
    /// `KMTQAITYPE_ADAPTERTYPE`, asked once, on first use, on behalf of
    /// `process`: dxgkrnl sends QUERYADAPTERINFO only for a process).
    pub(crate) fn compute_only(&self, process: Handle) -> Result<bool> {
        if let Some(c) = self.compute_only {
            return Ok(c);
        }
        match self.host_compute_only.load(Acquire) {
            1 => return Ok(false),
            2 => return Ok(true),
            _ => {}
        }
        let mut word = [0u8; 4];
        self.query_adapter_info(process, QAI_ADAPTERTYPE, &mut word)?;
        let c = u32::from_le_bytes(word) & ADAPTER_TYPE_COMPUTE_ONLY != 0;
        self.host_compute_only.store(if c { 2 } else { 1 }, Release);
        Ok(c)
    }

    /// The host's description, as NUL-terminated UTF-8 in `out` (`c_char`
    /// is `u8` in the kernel). Characters that do not fit are dropped.
    pub(crate) fn description_utf8(&self, out: &mut [u8]) {
        out.fill(0);
        let limit = out.len().saturating_sub(1);
        let mut n = 0;
        for c in char::decode_utf16(self.info.description().iter().map(|u| u.get())) {
            let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
            let len = c.len_utf8();
            if n + len > limit {
                break;
            }
            if let Some(dst) = out.get_mut(n..n + len) {
                c.encode_utf8(dst);
            }
            n += len;
        }
    }
}

impl Drop for Adapter {
    fn drop(&mut self) {
        if self.vgpu.dead().is_none() {
            let _ = call(
                self.channel(),
                &self.framing,
                &CloseAdapter::new(self.host_handle),
                0,
            );
        }
    }
}

/// `s` as printable ASCII (other characters become '?'), for log lines.
fn utf16_to_ascii<'a>(s: &[crate::proto::U16], out: &'a mut [u8]) -> &'a str {
    let mut n = 0;
    for (o, c) in out.iter_mut().zip(s.iter()) {
        let c = c.get();
        *o = if (0x20..0x7f).contains(&c) {
            c as u8
        } else {
            b'?'
        };
        n += 1;
    }
    core::str::from_utf8(out.get(..n).unwrap_or(&[])).unwrap_or("")
}
