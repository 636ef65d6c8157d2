// SPDX-License-Identifier: GPL-2.0

//! The host engine: receives guest packets, dispatches requests against
//! [`State`], sends completions and host-to-guest notifications through a
//! [`Transport`], injects faults, and serves control commands.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use dxg_proto::adapter::{
    encode_query_adapter_info_reply, AdapterInfoReply, OpenAdapterReply,
    ADAPTER_INFO_ASYNC_MSG_ENABLED, ADAPTER_TYPE_COMPUTE_ONLY, ADAPTER_TYPE_PARAVIRTUALIZED,
    ADAPTER_TYPE_RENDER_SUPPORTED, DEVICE_TYPE_VIRTUAL_RENDER,
};
use dxg_proto::alloc::{
    AllocationInfoReply, CreateAllocationMsg, CreateAllocationReplyHeader, ALLOC_REPLY_FLAG_CACHED,
    ALLOC_REPLY_FLAG_EXISTING_SYSMEM, CREATE_ALLOC_FLAG_CACHED, CREATE_ALLOC_FLAG_CREATE_RESOURCE,
    CREATE_ALLOC_FLAG_EXISTING_SYSMEM, CREATE_ALLOC_FLAG_STANDARD_ALLOCATION,
};
use dxg_proto::backing::Lock2Reply;
use dxg_proto::command::{GlobalCommand as G, VgpuCommand as V};
use dxg_proto::consts::{HOST_CAP_MAP_GUEST_MEMORY, PAGE_SIZE, VERSION_EXT_HEADER};
use dxg_proto::context::CreatePagingQueueReply;
use dxg_proto::device::{GetDeviceStateReply, DEVICE_STATE_EXECUTION};
use dxg_proto::global::OpenSyncObjectReply;
use dxg_proto::gpuva::{
    MapGpuVaReply, ReserveGpuVaReply, UPDATE_OP_COPY, UPDATE_OP_MAP, UPDATE_OP_MAP_PROTECT,
    UPDATE_OP_UNMAP,
};
use dxg_proto::host::{encode_host_message, HostMessage, SetGuestData};
use dxg_proto::misc::{QueryStatisticsReply, QueryVideoMemoryInfoReply};
use dxg_proto::model::{
    escape_transform, ModelAllocPriv, ModelUmdPrivate, StandardAllocDesc, MODEL_DRIVER_VERSION,
    QAI_ADAPTERTYPE, QAI_ADAPTERTYPE_RENDER, QAI_DRIVERVERSION, QAI_GETSEGMENTGROUPSIZE,
    QAI_GETSEGMENTSIZE, QAI_PHYSICALADAPTERCOUNT, QAI_UMDRIVERNAME, QAI_UMDRIVERPRIVATE,
    UMDRIVERNAME_SIZE, UMD_FLAG_COMPUTE_ONLY, UMD_PRIVATE_MAGIC, UMD_PRIVATE_VERSION,
};
use dxg_proto::reply::{reply_shape, ReplyShape};
use dxg_proto::residency::{EvictReply, MakeResidentReply};
use dxg_proto::status::{
    NtStatus, STATUS_BUFFER_TOO_SMALL, STATUS_DEVICE_REMOVED, STATUS_INVALID_HANDLE,
    STATUS_INVALID_PARAMETER, STATUS_NOT_SUPPORTED, STATUS_NO_MEMORY, STATUS_PENDING,
    STATUS_SUCCESS,
};
use dxg_proto::sync::{
    CreateSyncObjectReply, SYNC_FLAG_SHARED, SYNC_TYPE_CPU_NOTIFICATION, SYNC_TYPE_FENCE,
    SYNC_TYPE_MONITORED_FENCE,
};
use dxg_proto::syncmsg::{
    SIGNAL_FLAG_ALLOW_FENCE_REWIND, SIGNAL_FLAG_ENQUEUE_CPU_EVENT, WAIT_FLAG_ANY,
};
use dxg_proto::vmbus::{decode_packet, encode_packet, packet_len, PacketType};
use dxg_proto::{CommandId, Guid, Handle, Luid, Request, U16, U32, U64};
use zerocopy::{FromBytes, FromZeros, IntoBytes};

use crate::config::{Config, Paging};
use crate::fault::{normalize_cmd, FaultClass, FaultSpec, Injector};
use crate::state::{Backing, CpuWait, Kind, Op, State, VaSpace};
use crate::transport::{ChannelKind, Offer, Transport};

/// An NTSTATUS the guest does not know (fault `unknown-status`).
pub const STATUS_UNKNOWN_FAULT: NtStatus = NtStatus::from_u32(0xC0DE_0001);
/// Instance GUID of the VM channel.
pub const VM_INSTANCE: Guid = Guid::from_fields(
    0x6478_6768,
    0x736f,
    0x0074,
    [0x76, 0x6d, 0x63, 0x68, 0x61, 0x6e, 0x00, 0x01],
);
/// Largest command buffer executed.
pub const MAX_CMDBUF: u32 = 16 << 20;

/// Resolves a normalized command name (`SUBMITCOMMAND`).
pub fn command_by_name(name: &str) -> Option<CommandId> {
    G::ALL
        .iter()
        .map(|c| CommandId::Global(*c))
        .chain(V::ALL.iter().map(|c| CommandId::Vgpu(*c)))
        .find(|c| normalize_cmd(c.name()) == name)
}

/// Locks, ignoring poisoning (a panicking worker must not take the host
/// down with it).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// State shared by the dispatcher, the workers and the control thread.
pub struct Shared {
    /// All model state.
    pub st: Mutex<State>,
    /// Signalled whenever a fence moves, a queue gets work, or objects die:
    /// what workers blocked in an operation (a WAIT, a stall, a hold) and
    /// [`Host::wait_until`] wait for.
    pub cv: Condvar,
    /// Signalled when a queue gets work, the hold changes, objects die or
    /// the host quits: what an idle worker (nothing queued) waits for. Kept
    /// apart from `cv` so that a fence signal does not wake every idle
    /// worker of the host (a futex wake-up per context, on the path of each
    /// guest event).
    pub work: Condvar,
    /// The guest connection.
    pub tx: Arc<dyn Transport>,
    /// Configuration.
    pub cfg: Config,
    /// Set when the host shuts down.
    pub quit: AtomicBool,
    /// Start time (for logs).
    pub start: Instant,
}

impl Shared {
    /// Wakes everyone: waiters on `cv` and idle workers.
    pub fn wake_all(&self) {
        self.cv.notify_all();
        self.work.notify_all();
    }

    /// Sends the completion `data` of request `trans` on `channel` (`what`
    /// names it in logs). A reply that cannot be carried fails its request
    /// with STATUS_BUFFER_TOO_SMALL instead of leaving the guest's channel
    /// to time out; returns false then (the caller counts the error).
    pub fn send_reply(&self, channel: u32, trans: u64, data: &[u8], what: &str) -> bool {
        let Err(e) = send_packet(
            self.tx.as_ref(),
            channel,
            PacketType::Completion,
            trans,
            data,
        ) else {
            return true;
        };
        eprintln!(
            "dxg-host: {what}: sending the reply ({} bytes): {e}; answering STATUS_BUFFER_TOO_SMALL",
            data.len()
        );
        let status = status_bytes(STATUS_BUFFER_TOO_SMALL);
        if let Err(e) = send_packet(
            self.tx.as_ref(),
            channel,
            PacketType::Completion,
            trans,
            &status,
        ) {
            eprintln!("dxg-host: {what}: sending STATUS_BUFFER_TOO_SMALL: {e}");
        }
        false
    }

    /// Sends a host-to-guest message on the VM channel.
    pub fn send_host(&self, st: &State, msg: &HostMessage) {
        let Some(ch) = st.vm.channel else {
            eprintln!("dxg-host: no VM channel; dropping {msg:?}");
            return;
        };
        let mut payload = [0u8; 64];
        let Ok(n) = encode_host_message(msg, &mut payload) else {
            return;
        };
        let Some(p) = payload.get(..n) else { return };
        if let Err(e) = send_packet(self.tx.as_ref(), ch, PacketType::DataInband, 0, p) {
            eprintln!("dxg-host: sending {msg:?}: {e}");
        }
    }

    /// Sends SIGNALGUESTEVENT for each id.
    pub fn send_events(&self, st: &State, events: &[u64]) {
        for &e in events {
            self.send_host(
                st,
                &HostMessage::SignalGuestEvent {
                    event: e,
                    passive: false,
                },
            );
        }
    }
}

/// Encodes and sends one VMBus packet.
pub fn send_packet(
    tx: &dyn Transport,
    channel: u32,
    ptype: PacketType,
    trans_id: u64,
    payload: &[u8],
) -> std::io::Result<()> {
    let len = packet_len(payload.len()).map_err(|e| std::io::Error::other(e.as_str()))?;
    let mut buf = vec![0u8; len];
    let n = encode_packet(&mut buf, ptype, 0, trans_id, payload, 0)
        .map_err(|e| std::io::Error::other(e.as_str()))?;
    buf.truncate(n);
    tx.send(channel, &buf)
}

/// The software host.
pub struct Host {
    /// Shared state (also held by worker threads).
    pub sh: Arc<Shared>,
}

fn bytes_of<T: IntoBytes + zerocopy::Immutable>(v: &T) -> Vec<u8> {
    v.as_bytes().to_vec()
}

fn status_bytes(s: NtStatus) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn utf16_into(dst: &mut [U16], s: &str) {
    let max = dst.len().saturating_sub(1);
    for (d, c) in dst.iter_mut().zip(s.encode_utf16().take(max)) {
        *d = U16::new(c);
    }
}

/// Offset of the NTSTATUS inside a reply, if the reply has one.
pub fn status_offset(id: CommandId, version: u32) -> Option<usize> {
    match id {
        CommandId::Vgpu(V::OpenAdapter) | CommandId::Global(G::OpenSyncObject) => Some(4),
        CommandId::Vgpu(V::MakeResident) | CommandId::Vgpu(V::MapGpuVirtualAddress) => Some(16),
        CommandId::Vgpu(V::GetDeviceState) => Some(56),
        CommandId::Vgpu(V::Lock2) | CommandId::Vgpu(V::QueryStatistics) => Some(0),
        CommandId::Vgpu(V::QueryAdapterInfo) if version >= VERSION_EXT_HEADER => Some(0),
        _ => match reply_shape(id) {
            ReplyShape::Status => Some(0),
            _ => None,
        },
    }
}

/// The reply a failed request gets, in the command's reply shape: bare
/// status; the structure with its status field set; zero handles for raw
/// replies that return handles; or (ESCAPE, EVICT, QUERYVIDEOMEMORYINFO,
/// GETINTERNALADAPTERINFO, unknown) a bare 4-byte NTSTATUS, shorter than
/// what the guest expects.
pub fn error_reply(req: &Request<'_>, id: CommandId, s: NtStatus, version: u32) -> Vec<u8> {
    match req {
        Request::QueryAdapterInfo(m) => {
            let n = m.data.len();
            let mut v = Vec::new();
            if version >= VERSION_EXT_HEADER {
                v.extend_from_slice(s.as_bytes());
            }
            v.resize(v.len() + n, 0);
            return v;
        }
        Request::CreateContextVirtual(m) => {
            let mut c = m.cmd;
            c.context = Handle::NULL;
            let mut v = bytes_of(&c);
            v.extend_from_slice(m.priv_data);
            v.extend_from_slice(&[0; 3]);
            return v;
        }
        Request::CreateAllocation(m) => {
            let n = m.infos.len();
            return vec![0u8; 16 + 72 * n];
        }
        Request::GetDeviceState(c) => {
            let r = GetDeviceStateReply {
                args: c.args,
                status: s,
                pad: U32::new(0),
            };
            return bytes_of(&r);
        }
        _ => {}
    }
    match reply_shape(id) {
        ReplyShape::Status | ReplyShape::Unknown | ReplyShape::Variable => status_bytes(s),
        ReplyShape::Empty => Vec::new(),
        ReplyShape::Fixed(n) => {
            let mut v = vec![0u8; n];
            if let Some(off) = status_offset(id, version) {
                if let Some(d) = v.get_mut(off..off + 4) {
                    d.copy_from_slice(s.as_bytes());
                }
            }
            v
        }
    }
}

/// Which adapter a request addresses and on whose behalf.
struct Call<'a> {
    sh: &'a Arc<Shared>,
    st: &'a mut State,
    process: u32,
    adapter: Option<usize>,
    post: Vec<HostMessage>,
}

type R = Result<Vec<u8>, NtStatus>;

impl Call<'_> {
    fn proc(&self) -> Result<u32, NtStatus> {
        match self.st.objects.get(&self.process) {
            Some(o) if matches!(o.kind, Kind::Process { .. }) => Ok(self.process),
            _ => Err(STATUS_INVALID_HANDLE),
        }
    }

    fn adapter(&self) -> Result<usize, NtStatus> {
        self.adapter.ok_or(STATUS_INVALID_PARAMETER)
    }

    /// Checks that `h` is a `tag` object of the calling process on the
    /// addressed adapter.
    fn check(&self, h: Handle, tag: &str) -> Result<u32, NtStatus> {
        let p = self.proc()?;
        let o = self.st.get(h.value(), p, self.adapter)?;
        if o.kind.tag() != tag {
            return Err(STATUS_INVALID_HANDLE);
        }
        Ok(h.value())
    }

    fn device_of(&self, h: u32) -> u32 {
        self.st.objects.get(&h).map_or(0, |o| o.device)
    }

    fn sync_fence(&self, h: Handle) -> Result<u64, NtStatus> {
        self.check(h, "sync object")?;
        match self.st.objects.get(&h.value()).map(|o| &o.kind) {
            Some(Kind::Sync { fence: Some(f), .. }) => Ok(*f),
            _ => Err(STATUS_INVALID_PARAMETER),
        }
    }

    fn vas(&mut self) -> Result<&mut VaSpace, NtStatus> {
        let key = (self.proc()?, self.adapter()?);
        Ok(self.st.vas.entry(key).or_default())
    }

    fn paging_done(&mut self, pq: u32) -> (u64, NtStatus) {
        let fence = match self.st.objects.get(&pq).map(|o| &o.kind) {
            Some(Kind::PagingQueue { fence, .. }) => *fence,
            _ => return (0, STATUS_SUCCESS),
        };
        let v = self.st.fence_value(fence) + 1;
        let events = self.st.signal_fence(fence, v, false);
        self.post_events(events);
        self.sh.cv.notify_all();
        let s = match self.sh.cfg.paging {
            Paging::Pending => STATUS_PENDING,
            Paging::Sync => STATUS_SUCCESS,
        };
        (v, s)
    }

    /// Signal the guest `events` once the reply is sent.
    fn post_events(&mut self, events: Vec<u64>) {
        self.post
            .extend(events.into_iter().map(|e| HostMessage::SignalGuestEvent {
                event: e,
                passive: false,
            }));
    }

    fn enqueue(&mut self, ctx: u32, op: Op) -> Result<(), NtStatus> {
        if self.st.context_failed(ctx) {
            return Err(STATUS_DEVICE_REMOVED);
        }
        let mut events = Vec::new();
        let op = match crate::exec::run_now(self.sh, self.st, ctx, op, &mut events) {
            Ok(()) => {
                self.post_events(events);
                return Ok(());
            }
            Err(op) => op,
        };
        if let Some(o) = self.st.objects.get_mut(&ctx) {
            if let Kind::Context { queue, .. } = &mut o.kind {
                queue.push_back(op);
            }
        }
        self.sh.wake_all();
        Ok(())
    }

    fn dispatch(&mut self, req: &Request<'_>) -> R {
        match req {
            Request::SetIoSpaceRegion(c) => self.set_io_space(c.start.get(), c.length.get()),
            Request::CreateProcess(c) => {
                let name: String = char::decode_utf16(c.name().iter().map(|u| u.get()))
                    .map(|r| r.unwrap_or('?'))
                    .collect();
                let h = self.st.insert(
                    Kind::Process {
                        name,
                        pid: c.process_id.get(),
                    },
                    0,
                    None,
                    0,
                );
                if let Some(o) = self.st.objects.get_mut(&h) {
                    o.process = h;
                }
                Ok(h.to_le_bytes().to_vec())
            }
            Request::DestroyProcess(_) => {
                let p = self.proc()?;
                self.st.destroy(p);
                self.sh.wake_all();
                Ok(status_bytes(STATUS_SUCCESS))
            }
            Request::CreateNtSharedObject(c) => {
                let p = self.proc()?;
                let o = self.st.get(c.object.value(), p, None)?;
                if !matches!(
                    o.kind,
                    Kind::Sync { .. } | Kind::Resource | Kind::Allocation { .. }
                ) {
                    return Err(STATUS_INVALID_HANDLE);
                }
                let h = self.st.insert(
                    Kind::NtShared {
                        object: c.object.value(),
                    },
                    0,
                    None,
                    0,
                );
                Ok(h.to_le_bytes().to_vec())
            }
            Request::DestroyNtSharedObject(c) => {
                match self
                    .st
                    .objects
                    .get(&c.shared_handle.value())
                    .map(|o| &o.kind)
                {
                    Some(Kind::NtShared { .. }) => {
                        self.st.objects.remove(&c.shared_handle.value());
                        Ok(status_bytes(STATUS_SUCCESS))
                    }
                    _ => Err(STATUS_INVALID_HANDLE),
                }
            }
            Request::OpenSyncObject(c) => self.open_sync_object(c.device, c.global_sync_object),
            Request::DestroySyncObject(c) => {
                let p = self.proc()?;
                let o = self.st.get(c.sync_object.value(), p, None)?;
                if !matches!(o.kind, Kind::Sync { .. }) {
                    return Err(STATUS_INVALID_HANDLE);
                }
                // Paging-queue fences die with their paging queue.
                let owned_by_pq = self.st.objects.values().any(
                    |o| matches!(o.kind, Kind::PagingQueue { sync, .. } if sync == c.sync_object.value()),
                );
                if owned_by_pq {
                    return Err(STATUS_INVALID_PARAMETER);
                }
                self.st.destroy(c.sync_object.value());
                self.sh.cv.notify_all();
                Ok(status_bytes(STATUS_SUCCESS))
            }
            Request::OpenAdapter(c) => {
                let a = self.adapter()?;
                if c.vmbus_interface_version.get() < dxg_proto::consts::VERSION_LAST_COMPATIBLE {
                    return Err(STATUS_NOT_SUPPORTED);
                }
                let h = self.st.insert(Kind::Adapter, 0, Some(a), 0);
                Ok(bytes_of(&OpenAdapterReply {
                    host_adapter_handle: Handle::new(h),
                    status: STATUS_SUCCESS,
                    vmbus_interface_version: U32::new(self.st.version),
                    vmbus_last_compatible_interface_version: U32::new(
                        dxg_proto::consts::VERSION_LAST_COMPATIBLE,
                    ),
                }))
            }
            Request::CloseAdapter(c) => {
                let a = self.adapter()?;
                let h = c.host_handle.value();
                match self.st.objects.get(&h) {
                    Some(o) if matches!(o.kind, Kind::Adapter) && o.adapter == Some(a) => {
                        self.st.objects.remove(&h);
                        Ok(Vec::new())
                    }
                    _ => Err(STATUS_INVALID_HANDLE),
                }
            }
            Request::GetInternalAdapterInfo(_) => self.adapter_info(),
            Request::QueryAdapterInfo(m) => {
                if self.process != 0 {
                    self.proc()?;
                }
                let a = self.adapter()?;
                let data = self.query_adapter_info(a, m.cmd.query_type.get(), m.data.len())?;
                let mut buf = vec![0u8; data.len() + 8];
                let n = encode_query_adapter_info_reply(
                    &mut buf,
                    self.st.version,
                    STATUS_SUCCESS,
                    &data,
                )
                .map_err(|_| STATUS_INVALID_PARAMETER)?;
                buf.truncate(n);
                Ok(buf)
            }
            Request::CreateDevice(c) => {
                let p = self.proc()?;
                let a = self.adapter()?;
                let open = self
                    .st
                    .objects
                    .values()
                    .any(|o| matches!(o.kind, Kind::Adapter) && o.adapter == Some(a));
                if !open {
                    return Err(STATUS_DEVICE_REMOVED);
                }
                let h = self.st.insert(
                    Kind::Device {
                        cookie: c.cookie.get(),
                        exec_state: 1,
                    },
                    p,
                    Some(a),
                    0,
                );
                if let Some(o) = self.st.objects.get_mut(&h) {
                    o.device = h;
                }
                Ok(h.to_le_bytes().to_vec())
            }
            Request::DestroyDevice(c) => {
                let d = self.check(c.device, "device")?;
                self.st.destroy(d);
                self.sh.wake_all();
                Ok(status_bytes(STATUS_SUCCESS))
            }
            Request::FlushDevice(c) => {
                self.check(c.device, "device")?;
                Ok(status_bytes(STATUS_SUCCESS))
            }
            Request::GetDeviceState(c) => {
                let d = self.check(c.args.device, "device")?;
                let mut args = c.args;
                args.state = [U64::new(0); 6];
                if c.args.state_type.get() == DEVICE_STATE_EXECUTION {
                    if let Some(Kind::Device { exec_state, .. }) =
                        self.st.objects.get(&d).map(|o| &o.kind)
                    {
                        args.state[0] = U64::new(u64::from(*exec_state));
                    }
                }
                Ok(bytes_of(&GetDeviceStateReply {
                    args,
                    status: STATUS_SUCCESS,
                    pad: U32::new(0),
                }))
            }
            Request::CreateContextVirtual(m) => {
                let d = self.check(m.cmd.device, "device")?;
                let (p, a) = (self.proc()?, self.adapter()?);
                let h = self.st.insert(
                    Kind::Context {
                        queue: Default::default(),
                        busy: false,
                        stalled: false,
                        error: None,
                    },
                    p,
                    Some(a),
                    d,
                );
                let sh = self.sh.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("ctx-{h:#x}"))
                    .spawn(move || crate::exec::worker(sh, h));
                if spawned.is_err() {
                    self.st.destroy(h);
                    return Err(STATUS_NO_MEMORY);
                }
                // The worker cannot run before this request drops the lock.
                self.st.workers += 1;
                let mut c = m.cmd;
                c.context = Handle::new(h);
                let mut v = bytes_of(&c);
                v.extend_from_slice(m.priv_data);
                v.extend_from_slice(&[0; 3]);
                Ok(v)
            }
            Request::DestroyContext(c) => {
                let h = self.check(c.context, "context")?;
                self.st.destroy(h);
                self.sh.wake_all();
                Ok(status_bytes(STATUS_SUCCESS))
            }
            Request::CreatePagingQueue(c) => {
                let d = self.check(c.device, "device")?;
                let (p, a) = (self.proc()?, self.adapter()?);
                let fence = self.st.new_fence(0, true)?;
                let sync = self.st.insert(
                    Kind::Sync {
                        stype: SYNC_TYPE_MONITORED_FENCE,
                        fence: Some(fence),
                        event: 0,
                        global: 0,
                    },
                    p,
                    Some(a),
                    d,
                );
                let pq = self
                    .st
                    .insert(Kind::PagingQueue { sync, fence }, p, Some(a), d);
                let (gpa, _) = self.st.fence_addrs(fence);
                Ok(bytes_of(&CreatePagingQueueReply {
                    paging_queue: Handle::new(pq),
                    sync_object: Handle::new(sync),
                    fence_storage_physical_address: U64::new(gpa),
                    fence_storage_offset: U64::new(0),
                }))
            }
            Request::DestroyPagingQueue(c) => {
                let h = self.check(c.paging_queue, "paging queue")?;
                self.st.destroy(h);
                self.sh.wake_all();
                Ok(Vec::new())
            }
            Request::CreateAllocation(m) => self.create_allocation(m),
            Request::DestroyAllocation(m) => {
                self.check(m.cmd.device, "device")?;
                let d = m.cmd.device.value();
                let mut victims = Vec::new();
                if !m.cmd.resource.is_null() {
                    let r = self.check(m.cmd.resource, "resource")?;
                    if self.device_of(r) != d {
                        return Err(STATUS_INVALID_HANDLE);
                    }
                    victims.push(r);
                }
                for h in m.allocations {
                    let a = self.check(*h, "allocation")?;
                    if self.device_of(a) != d {
                        return Err(STATUS_INVALID_HANDLE);
                    }
                    victims.push(a);
                }
                if victims.is_empty() {
                    return Err(STATUS_INVALID_PARAMETER);
                }
                for v in victims {
                    self.st.destroy(v);
                }
                Ok(status_bytes(STATUS_SUCCESS))
            }
            Request::SetExistingSysmemStore(c) => {
                self.check(c.device, "device")?;
                let h = self.check(c.allocation, "allocation")?;
                let gpadl = c.gpadl.get();
                let size = match self.st.objects.get(&h).map(|o| &o.kind) {
                    Some(Kind::Allocation {
                        size,
                        sysmem: true,
                        backing: Backing::Unbacked,
                        ..
                    }) => *size,
                    _ => return Err(STATUS_INVALID_PARAMETER),
                };
                if gpadl == 0 {
                    return Err(STATUS_INVALID_PARAMETER);
                }
                let len = usize::try_from(size).map_err(|_| STATUS_INVALID_PARAMETER)?;
                let region = self.sh.tx.map(u64::from(gpadl) << 12, len).map_err(|e| {
                    eprintln!("dxg-host: mapping GPADL {gpadl} ({size} bytes): {e}");
                    STATUS_INVALID_PARAMETER
                })?;
                if let Some(Kind::Allocation { backing, .. }) =
                    self.st.objects.get_mut(&h).map(|o| &mut o.kind)
                {
                    *backing = Backing::Gpadl(gpadl, region);
                }
                Ok(status_bytes(STATUS_SUCCESS))
            }
            Request::SetExistingSysmemPages(m) => {
                if self.sh.cfg.host_caps & HOST_CAP_MAP_GUEST_MEMORY == 0 {
                    return Err(STATUS_NOT_SUPPORTED);
                }
                self.check(m.cmd.device, "device")?;
                let h = self.check(m.cmd.allocation, "allocation")?;
                let first = u64::from(m.cmd.alloc_offset_in_pages.get());
                let Some(Kind::Allocation {
                    size,
                    sysmem: true,
                    backing,
                    ..
                }) = self.st.objects.get_mut(&h).map(|o| &mut o.kind)
                else {
                    return Err(STATUS_INVALID_PARAMETER);
                };
                let pages = *size / PAGE_SIZE;
                if first + m.pfns.len() as u64 > pages {
                    return Err(STATUS_INVALID_PARAMETER);
                }
                if !matches!(backing, Backing::Pfns(_)) {
                    *backing = Backing::Pfns(vec![0; pages as usize]);
                }
                if let Backing::Pfns(v) = backing {
                    for (i, p) in m.pfns.iter().enumerate() {
                        if let Some(slot) = v.get_mut(first as usize + i) {
                            *slot = p.get();
                        }
                    }
                }
                Ok(status_bytes(STATUS_SUCCESS))
            }
            Request::Lock2(c) => {
                self.check(c.device, "device")?;
                let h = self.check(c.allocation, "allocation")?;
                let off = match self.st.objects.get(&h).map(|o| &o.kind) {
                    Some(Kind::Allocation {
                        backing: Backing::Io(off),
                        ..
                    }) => *off,
                    _ => return Err(STATUS_INVALID_PARAMETER),
                };
                let base = self.st.vm.io.as_ref().map_or(0, |io| io.base);
                Ok(bytes_of(&Lock2Reply {
                    status: STATUS_SUCCESS,
                    pad: U32::new(0),
                    cpu_visible_buffer_offset: U64::new(base + off),
                }))
            }
            Request::Unlock2(c) => {
                self.check(c.device, "device")?;
                self.check(c.allocation, "allocation")?;
                Ok(status_bytes(STATUS_SUCCESS))
            }
            Request::MapGpuVirtualAddress(c) => self.map_gpu_va(c),
            Request::ReserveGpuVirtualAddress(c) => {
                self.va_owner(c.adapter)?;
                let size = c.size.get();
                if size == 0 || size % PAGE_SIZE != 0 {
                    return Err(STATUS_INVALID_PARAMETER);
                }
                let (base, min, max) = (
                    c.base_address.get(),
                    c.minimum_address.get(),
                    c.maximum_address.get(),
                );
                let vs = self.vas()?;
                let va = if base != 0 {
                    if !vs.overlapping_is_empty(base, size) {
                        return Err(STATUS_INVALID_PARAMETER);
                    }
                    base
                } else {
                    vs.find_free(size, min, max).ok_or(STATUS_NO_MEMORY)?
                };
                vs.claim(va, size)?;
                if let Some(r) = vs.ranges.get_mut(&va) {
                    r.1 = crate::state::RangeKind::Reserved;
                }
                Ok(bytes_of(&ReserveGpuVaReply {
                    virtual_address: U64::new(va),
                    paging_fence_value: U64::new(0),
                }))
            }
            Request::FreeGpuVirtualAddress(c) => {
                self.va_owner(c.adapter)?;
                let (b, s) = (c.base_address.get(), c.size.get());
                self.vas()?.free(b, s)?;
                Ok(status_bytes(STATUS_SUCCESS))
            }
            Request::UpdateGpuVirtualAddress(m) => {
                let d = self.check(m.cmd.device, "device")?;
                if !m.cmd.context.is_null() {
                    let c = self.check(m.cmd.context, "context")?;
                    if self.device_of(c) != d {
                        return Err(STATUS_INVALID_HANDLE);
                    }
                }
                if !m.cmd.fence_object.is_null() {
                    self.sync_fence(m.cmd.fence_object)?;
                }
                for op in m.ops {
                    let a = |i: usize| op.args.get(i).map_or(0, |v| v.get());
                    match op.operation.get() {
                        UPDATE_OP_MAP | UPDATE_OP_MAP_PROTECT => {
                            let (va, size, alloc, off, _asz) = (a(0), a(1), a(2), a(3), a(4));
                            let h = u32::try_from(alloc).map_err(|_| STATUS_INVALID_HANDLE)?;
                            let asize = self.alloc_size(Handle::new(h))?;
                            if off % PAGE_SIZE != 0
                                || size % PAGE_SIZE != 0
                                || off.checked_add(size).is_none_or(|e| e > asize)
                            {
                                return Err(STATUS_INVALID_PARAMETER);
                            }
                            let vs = self.vas()?;
                            vs.claim(va, size)?;
                            vs.map(va, h, off / PAGE_SIZE, size / PAGE_SIZE);
                        }
                        UPDATE_OP_UNMAP => {
                            let (va, size) = (a(0), a(1));
                            self.vas()?.unmap(va, size);
                        }
                        UPDATE_OP_COPY => {
                            let (src, size, dst) = (a(0), a(1), a(2));
                            let vs = self.vas()?;
                            let n = size / PAGE_SIZE;
                            let entries: Vec<_> = (0..n)
                                .map(|i| vs.pages.get(&(src / PAGE_SIZE + i)).copied())
                                .collect();
                            for (i, e) in entries.into_iter().enumerate() {
                                let k = dst / PAGE_SIZE + i as u64;
                                match e {
                                    Some(e) => vs.pages.insert(k, e),
                                    None => vs.pages.remove(&k),
                                };
                            }
                        }
                        _ => return Err(STATUS_INVALID_PARAMETER),
                    }
                }
                Ok(status_bytes(STATUS_SUCCESS))
            }
            Request::MakeResident(m) => {
                let pq = self.check(m.cmd.paging_queue, "paging queue")?;
                if !m.cmd.device.is_null() {
                    let d = self.check(m.cmd.device, "device")?;
                    if self.device_of(pq) != d {
                        return Err(STATUS_INVALID_HANDLE);
                    }
                }
                for h in m.allocations {
                    self.check(*h, "allocation")?;
                }
                let (v, s) = self.paging_done(pq);
                Ok(bytes_of(&MakeResidentReply {
                    paging_fence_value: U64::new(v),
                    num_bytes_to_trim: U64::new(0),
                    status: s,
                    pad: U32::new(0),
                }))
            }
            Request::Evict(m) => {
                self.check(m.cmd.device, "device")?;
                for h in m.allocations {
                    self.check(*h, "allocation")?;
                }
                Ok(bytes_of(&EvictReply {
                    num_bytes_to_trim: U64::new(0),
                }))
            }
            Request::CreateSyncObject(c) => self.create_sync_object(c),
            Request::SignalSyncObject(m) => {
                let flags = m.cmd.flags.get();
                let rewind = flags & SIGNAL_FLAG_ALLOW_FENCE_REWIND != 0;
                let mut fences = Vec::new();
                let mut events = Vec::new();
                if flags & SIGNAL_FLAG_ENQUEUE_CPU_EVENT != 0 {
                    let e = m.cmd.cpu_event_or_device.get();
                    if e == 0 {
                        return Err(STATUS_INVALID_PARAMETER);
                    }
                    events.push(e);
                }
                for (i, o) in m.objects.iter().enumerate() {
                    self.check(*o, "sync object")?;
                    let Some(Kind::Sync {
                        stype,
                        fence,
                        event,
                        ..
                    }) = self.st.objects.get(&o.value()).map(|x| &x.kind)
                    else {
                        return Err(STATUS_INVALID_HANDLE);
                    };
                    match (*stype, fence) {
                        (SYNC_TYPE_CPU_NOTIFICATION, _) => events.push(*event),
                        (SYNC_TYPE_FENCE, Some(f)) => fences.push((*f, m.cmd.fence_value.get())),
                        (_, Some(f)) => match m.fence_values.get(i) {
                            Some(v) => fences.push((*f, v.get())),
                            None if flags & SIGNAL_FLAG_ENQUEUE_CPU_EVENT != 0 => {}
                            None => return Err(STATUS_INVALID_PARAMETER),
                        },
                        _ => return Err(STATUS_INVALID_PARAMETER),
                    }
                }
                if m.contexts.is_empty() {
                    self.check(m.device(), "device")?;
                    let ev = self.st.signal_all(fences, events, rewind);
                    self.post_events(ev);
                    self.sh.cv.notify_all();
                } else {
                    let mut ctxs = Vec::new();
                    for c in m.contexts {
                        ctxs.push(self.check(*c, "context")?);
                    }
                    // The signal happens when the first (named) context
                    // reaches it; broadcast contexts are only validated.
                    if let Some(&c) = ctxs.first() {
                        let op = Op::Signal {
                            fences,
                            events,
                            rewind,
                        };
                        self.enqueue(c, op)?;
                    }
                }
                Ok(status_bytes(STATUS_SUCCESS))
            }
            Request::WaitForSyncObjectFromCpu(m) => {
                let d = self.check(m.cmd.device, "device")?;
                let mut objs = Vec::new();
                for (o, v) in m.objects.iter().zip(m.fence_values) {
                    let f = self.sync_fence(*o)?;
                    if self.device_of(o.value()) != d && self.device_of(o.value()) != 0 {
                        // Objects of other devices of the same process are
                        // fine (shared fences); nothing to check.
                    }
                    objs.push((f, v.get()));
                }
                self.st.cpu_waits.push(CpuWait {
                    event: m.cmd.guest_event.get(),
                    objs,
                    any: m.cmd.flags.get() & WAIT_FLAG_ANY != 0,
                });
                let ev = self.st.take_satisfied_waits();
                self.post_events(ev);
                Ok(status_bytes(STATUS_SUCCESS))
            }
            Request::WaitForSyncObjectFromGpu(m) => {
                let c = self.check(m.cmd.context, "context")?;
                let mut objs = Vec::new();
                for (o, v) in m.objects.iter().zip(m.fence_values) {
                    objs.push((self.sync_fence(*o)?, v.get()));
                }
                self.enqueue(c, Op::Wait(objs))?;
                Ok(status_bytes(STATUS_SUCCESS))
            }
            Request::SubmitCommand(m) => {
                let mut ctxs = Vec::new();
                for c in m.contexts() {
                    ctxs.push(self.check(*c, "context")?);
                }
                for h in m.history {
                    self.check(*h, "allocation")?;
                }
                let len = m.cmd.command_length.get();
                if len > MAX_CMDBUF {
                    return Err(STATUS_INVALID_PARAMETER);
                }
                let null = m.cmd.flags.get() & dxg_proto::submit::SUBMIT_FLAG_NULL_RENDERING != 0;
                for c in &ctxs {
                    if self.st.context_failed(*c) {
                        return Err(STATUS_DEVICE_REMOVED);
                    }
                }
                for c in ctxs {
                    self.enqueue(
                        c,
                        Op::Submit {
                            va: m.cmd.command_buffer.get(),
                            len,
                            null,
                        },
                    )?;
                }
                Ok(status_bytes(STATUS_SUCCESS))
            }
            Request::Escape(m) => {
                if self.process != 0 {
                    self.proc()?;
                }
                if !m.cmd.device.is_null() {
                    self.check(m.cmd.device, "device")?;
                }
                if !m.cmd.context.is_null() {
                    self.check(m.cmd.context, "context")?;
                }
                let mut v = m.data.to_vec();
                escape_transform(&mut v);
                Ok(v)
            }
            Request::QueryStatistics(c) => {
                self.proc()?;
                let a = self.adapter()?;
                let ad = self.st.adapters.get(a).ok_or(STATUS_INVALID_PARAMETER)?;
                if c.adapter_luid.as_u64() != ad.cfg.luid {
                    return Err(STATUS_INVALID_PARAMETER);
                }
                let mut r = QueryStatisticsReply::new_zeroed();
                r.status = STATUS_SUCCESS;
                if c.query_type.get() == 0 {
                    // D3DKMT_QUERYSTATISTICS_ADAPTER_INFORMATION: NbSegments,
                    // NodeCount.
                    r.result[0..4].copy_from_slice(&2u32.to_le_bytes());
                    r.result[4..8].copy_from_slice(&1u32.to_le_bytes());
                }
                Ok(bytes_of(&r))
            }
            Request::QueryVideoMemoryInfo(c) => {
                self.proc()?;
                let a = self.adapter()?;
                let ad = self.st.adapters.get(a).ok_or(STATUS_INVALID_PARAMETER)?;
                let (budget, used) = match c.memory_segment_group.get() {
                    0 => (ad.cfg.local_mem, ad.used_local),
                    1 => (ad.cfg.nonlocal_mem, ad.used_nonlocal),
                    _ => return Err(STATUS_INVALID_PARAMETER),
                };
                Ok(bytes_of(&QueryVideoMemoryInfoReply {
                    budget: U64::new(budget),
                    current_usage: U64::new(used),
                    current_reservation: U64::new(0),
                    available_for_reservation: U64::new(budget.saturating_sub(used)),
                }))
            }
            Request::Unsupported(_) => Err(STATUS_NOT_SUPPORTED),
        }
    }

    fn set_io_space(&mut self, start: u64, length: u64) -> R {
        if self.st.vm.io.is_some() {
            return Err(STATUS_INVALID_PARAMETER);
        }
        if length == 0
            || length % PAGE_SIZE != 0
            || start % PAGE_SIZE != 0
            || length > self.sh.cfg.mmio_size
            || start.checked_add(length).is_none()
        {
            return Err(STATUS_INVALID_PARAMETER);
        }
        let len = usize::try_from(length).map_err(|_| STATUS_INVALID_PARAMETER)?;
        let region = self.sh.tx.map(0, len).map_err(|e| {
            eprintln!("dxg-host: mapping the IO space ({length} bytes): {e}");
            STATUS_NO_MEMORY
        })?;
        self.st.vm.io = Some(crate::state::Io {
            base: start,
            len: length,
            region,
            pages: crate::state::PageAlloc::new(length),
        });
        Ok(status_bytes(STATUS_SUCCESS))
    }

    fn adapter_info(&self) -> R {
        let a = self.adapter()?;
        let ad = self.st.adapters.get(a).ok_or(STATUS_INVALID_PARAMETER)?;
        let mut r = AdapterInfoReply::new_zeroed();
        r.device_types = U32::new(DEVICE_TYPE_VIRTUAL_RENDER);
        r.driver_ddi_version = U32::new(MODEL_DRIVER_VERSION);
        if self.sh.cfg.async_msg {
            r.flags = U32::new(ADAPTER_INFO_ASYNC_MSG_ENABLED);
        }
        r.host_adapter_luid = Luid::from_u64(ad.cfg.luid);
        utf16_into(&mut r.device_description, &ad.cfg.name);
        utf16_into(&mut r.device_instance_id, &format!("DXGHOST\\VGPU\\{a}"));
        r.host_vgpu_luid = Luid::from_u64(ad.cfg.vgpu_luid);
        let mut buf = vec![0u8; 712];
        let n = r
            .encode(self.st.version, &mut buf)
            .map_err(|_| STATUS_INVALID_PARAMETER)?;
        buf.truncate(n);
        Ok(buf)
    }

    fn query_adapter_info(&self, a: usize, qtype: u32, size: usize) -> R {
        let ad = self.st.adapters.get(a).ok_or(STATUS_INVALID_PARAMETER)?;
        let c = &ad.cfg;
        let data: Vec<u8> = match qtype {
            QAI_UMDRIVERPRIVATE => {
                let mut u = ModelUmdPrivate::new_zeroed();
                u.magic = UMD_PRIVATE_MAGIC;
                u.version = U32::new(UMD_PRIVATE_VERSION);
                u.adapter_index = U32::new(a as u32);
                u.flags = U32::new(if c.compute_only {
                    UMD_FLAG_COMPUTE_ONLY
                } else {
                    0
                });
                u.segment_count = U32::new(2);
                u.local_segment_size = U64::new(c.local_mem);
                u.nonlocal_segment_size = U64::new(c.nonlocal_mem);
                u.adapter_luid = Luid::from_u64(c.luid);
                u.vgpu_luid = Luid::from_u64(c.vgpu_luid);
                for (d, s) in u.name.iter_mut().zip(c.name.bytes().take(63)) {
                    *d = s;
                }
                let mut v = bytes_of(&u);
                v.resize(size, 0);
                return Ok(v);
            }
            QAI_UMDRIVERNAME => {
                let mut v = vec![0u8; UMDRIVERNAME_SIZE];
                let name = "libdxghost.so";
                for (i, u) in name.encode_utf16().enumerate() {
                    v[4 + 2 * i..6 + 2 * i].copy_from_slice(&u.to_le_bytes());
                }
                v
            }
            QAI_GETSEGMENTSIZE => [c.local_mem, 0, c.nonlocal_mem]
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect(),
            QAI_GETSEGMENTGROUPSIZE => [c.local_mem, c.nonlocal_mem]
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect(),
            QAI_DRIVERVERSION => MODEL_DRIVER_VERSION.to_le_bytes().to_vec(),
            QAI_PHYSICALADAPTERCOUNT => 1u32.to_le_bytes().to_vec(),
            QAI_ADAPTERTYPE | QAI_ADAPTERTYPE_RENDER => {
                let mut w = ADAPTER_TYPE_PARAVIRTUALIZED;
                if c.compute_only {
                    w |= ADAPTER_TYPE_COMPUTE_ONLY;
                } else {
                    w |= ADAPTER_TYPE_RENDER_SUPPORTED;
                }
                w.to_le_bytes().to_vec()
            }
            _ => return Err(STATUS_NOT_SUPPORTED),
        };
        if data.len() > size {
            return Err(STATUS_BUFFER_TOO_SMALL);
        }
        let mut v = data;
        v.resize(size, 0);
        Ok(v)
    }

    fn open_sync_object(&mut self, device: Handle, global: Handle) -> R {
        let d = self.check(device, "device")?;
        let (p, a) = (self.proc()?, self.adapter.unwrap_or(0));
        let adapter = self.st.objects.get(&d).and_then(|o| o.adapter).unwrap_or(a);
        let src = self
            .st
            .objects
            .values()
            .find_map(|o| match o.kind {
                Kind::Sync {
                    stype,
                    fence,
                    event,
                    global: g,
                } if g != 0 && g == global.value() => Some((stype, fence, event)),
                _ => None,
            })
            .ok_or(STATUS_INVALID_HANDLE)?;
        let (stype, fence, event) = src;
        if let Some(f) = fence {
            if let Some(x) = self.st.fences.get_mut(&f) {
                x.refs += 1;
            }
        }
        let h = self.st.insert(
            Kind::Sync {
                stype,
                fence,
                event,
                global: 0,
            },
            p,
            Some(adapter),
            d,
        );
        let (gpa, va) = fence.map_or((0, 0), |f| self.st.fence_addrs(f));
        Ok(bytes_of(&OpenSyncObjectReply {
            sync_object: Handle::new(h),
            status: STATUS_SUCCESS,
            gpu_va: U64::new(va),
            guest_cpu_physical_address: U64::new(gpa),
        }))
    }

    fn create_sync_object(&mut self, c: &dxg_proto::sync::CreateSyncObject) -> R {
        let d = self.check(c.device, "device")?;
        let (p, a) = (self.proc()?, self.adapter()?);
        let info0 = c.info[0].get();
        let stype = c.sync_type.get();
        let (fence, event) = match stype {
            SYNC_TYPE_MONITORED_FENCE => (Some(self.st.new_fence(info0, true)?), 0),
            SYNC_TYPE_FENCE => (Some(self.st.new_fence(info0, false)?), 0),
            SYNC_TYPE_CPU_NOTIFICATION if info0 != 0 => (None, info0),
            _ => return Err(STATUS_NOT_SUPPORTED),
        };
        let global = if c.flags.get() & SYNC_FLAG_SHARED != 0 {
            self.st.new_handle()
        } else {
            0
        };
        let h = self.st.insert(
            Kind::Sync {
                stype,
                fence,
                event,
                global,
            },
            p,
            Some(a),
            d,
        );
        let (gpa, va) = match (stype, fence) {
            (SYNC_TYPE_MONITORED_FENCE, Some(f)) => self.st.fence_addrs(f),
            _ => (0, 0),
        };
        Ok(bytes_of(&CreateSyncObjectReply {
            sync_object: Handle::new(h),
            global_sync_object: Handle::new(global),
            fence_gpu_va: U64::new(va),
            fence_storage_address: U64::new(gpa),
            fence_storage_offset: U32::new(0),
            pad: U32::new(0),
        }))
    }

    fn alloc_size(&self, h: Handle) -> Result<u64, NtStatus> {
        self.check(h, "allocation")?;
        match self.st.objects.get(&h.value()).map(|o| &o.kind) {
            Some(Kind::Allocation { size, .. }) => Ok(*size),
            _ => Err(STATUS_INVALID_HANDLE),
        }
    }

    /// RESERVE/FREE name "an adapter": accept the host adapter handle, a
    /// paging queue of the caller, or null.
    fn va_owner(&self, h: Handle) -> Result<(), NtStatus> {
        self.proc()?;
        if h.is_null() {
            return Ok(());
        }
        let a = self.adapter()?;
        match self.st.objects.get(&h.value()) {
            Some(o) if matches!(o.kind, Kind::Adapter) && o.adapter == Some(a) => Ok(()),
            _ => self.check(h, "paging queue").map(|_| ()),
        }
    }

    fn map_gpu_va(&mut self, c: &dxg_proto::gpuva::MapGpuVirtualAddress) -> R {
        // The paging queue names the device; dxgkrnl sends device 0
        // (dxgvmb_send_map_gpu_va()). A device that is given must match.
        let pq = self.check(c.paging_queue, "paging queue")?;
        if !c.device.is_null() {
            let d = self.check(c.device, "device")?;
            if self.device_of(pq) != d {
                return Err(STATUS_INVALID_HANDLE);
            }
        }
        let asize = self.alloc_size(c.allocation)?;
        let (off, n) = (c.offset_in_pages.get(), c.size_in_pages.get());
        let end = off.checked_add(n).ok_or(STATUS_INVALID_PARAMETER)?;
        if n == 0 || end.checked_mul(PAGE_SIZE).is_none_or(|e| e > asize) {
            return Err(STATUS_INVALID_PARAMETER);
        }
        let len = n * PAGE_SIZE;
        let (base, min, max) = (
            c.base_address.get(),
            c.minimum_address.get(),
            c.maximum_address.get(),
        );
        let vs = self.vas()?;
        let va = if base != 0 {
            base
        } else {
            vs.find_free(len, min, max).ok_or(STATUS_NO_MEMORY)?
        };
        if (va..va.saturating_add(len))
            .step_by(PAGE_SIZE as usize)
            .any(|p| vs.pages.contains_key(&(p / PAGE_SIZE)))
        {
            return Err(STATUS_INVALID_PARAMETER);
        }
        vs.claim(va, len)?;
        vs.map(va, c.allocation.value(), off, n);
        let (v, s) = self.paging_done(pq);
        Ok(bytes_of(&MapGpuVaReply {
            virtual_address: U64::new(va),
            paging_fence_value: U64::new(v),
            status: s,
            pad: U32::new(0),
        }))
    }

    fn create_allocation(&mut self, m: &CreateAllocationMsg<'_>) -> R {
        let d = self.check(m.cmd.device, "device")?;
        let (p, a) = (self.proc()?, self.adapter()?);
        let flags = m.cmd.flags.get();
        let sysmem = flags & CREATE_ALLOC_FLAG_EXISTING_SYSMEM != 0;
        let mut resource = m.cmd.resource.value();
        if resource != 0 {
            self.check(m.cmd.resource, "resource")?;
            if self.device_of(resource) != d {
                return Err(STATUS_INVALID_HANDLE);
            }
        }
        let std_size = if flags & CREATE_ALLOC_FLAG_STANDARD_ALLOCATION != 0 {
            StandardAllocDesc::read_from_prefix(m.resource_priv)
                .ok()
                .map(|(s, _)| s.size.get())
        } else {
            None
        };
        // Sizes first, so that a failure creates nothing.
        let mut sizes = Vec::new();
        for (_, priv_data) in m.iter() {
            let size = match ModelAllocPriv::read_from_prefix(priv_data) {
                Ok((s, _)) => s.size.get(),
                Err(_) => std_size.ok_or(STATUS_INVALID_PARAMETER)?,
            };
            if size == 0 || size > (1 << 40) {
                return Err(STATUS_INVALID_PARAMETER);
            }
            sizes.push(size.div_ceil(PAGE_SIZE) * PAGE_SIZE);
        }
        if sizes.len() != m.infos.len() {
            return Err(STATUS_INVALID_PARAMETER);
        }
        let total: u64 = sizes.iter().sum();
        let ad = self.st.adapters.get(a).ok_or(STATUS_INVALID_PARAMETER)?;
        let (budget, used) = if sysmem {
            (ad.cfg.nonlocal_mem, ad.used_nonlocal)
        } else {
            (ad.cfg.local_mem, ad.used_local)
        };
        if used.saturating_add(total) > budget {
            return Err(STATUS_NO_MEMORY);
        }
        let mut placed = Vec::new();
        if !sysmem {
            let Some(io) = self.st.vm.io.as_mut() else {
                return Err(STATUS_NO_MEMORY);
            };
            for &s in &sizes {
                match io.pages.alloc(s) {
                    Some(off) => {
                        let _ = io.region.fill(off, s as usize, 0);
                        placed.push(off);
                    }
                    None => {
                        for (off, s) in placed.iter().zip(&sizes) {
                            io.pages.free(*off, *s);
                        }
                        return Err(STATUS_NO_MEMORY);
                    }
                }
            }
        }
        if let Some(ad) = self.st.adapters.get_mut(a) {
            if sysmem {
                ad.used_nonlocal += total;
            } else {
                ad.used_local += total;
            }
        }
        if resource == 0 && flags & CREATE_ALLOC_FLAG_CREATE_RESOURCE != 0 {
            resource = self.st.insert(Kind::Resource, p, Some(a), d);
        }
        let mut hdr = CreateAllocationReplyHeader::new_zeroed();
        hdr.resource = Handle::new(resource);
        let mut recs = Vec::new();
        let mut tail = Vec::new();
        for (i, ((info, priv_data), &size)) in m.iter().zip(&sizes).enumerate() {
            let backing = if sysmem {
                Backing::Unbacked
            } else {
                Backing::Io(placed.get(i).copied().unwrap_or(0))
            };
            let h = self.st.insert(
                Kind::Allocation {
                    size,
                    backing,
                    resource,
                    sysmem,
                },
                p,
                Some(a),
                d,
            );
            let mut r = AllocationInfoReply::new_zeroed();
            r.allocation = Handle::new(h);
            r.priv_drv_data_size = info.priv_drv_data_size;
            let mut af = 0;
            if sysmem {
                af |= ALLOC_REPLY_FLAG_EXISTING_SYSMEM;
            }
            if flags & CREATE_ALLOC_FLAG_CACHED != 0 {
                af |= ALLOC_REPLY_FLAG_CACHED;
            }
            r.allocation_flags = U32::new(af);
            r.allocation_size = U64::new(size);
            r.driver_info.allocation = U64::new(u64::from(h));
            recs.push(r);
            tail.extend_from_slice(priv_data);
        }
        let mut v = bytes_of(&hdr);
        for r in &recs {
            v.extend_from_slice(r.as_bytes());
        }
        v.extend_from_slice(&tail);
        Ok(v)
    }
}

impl VaSpace {
    /// True if nothing is reserved or mapped in `[va, va+len)`.
    pub fn overlapping_is_empty(&self, va: u64, len: u64) -> bool {
        let end = va.saturating_add(len);
        self.ranges
            .iter()
            .all(|(&s, &(l, _))| s + l <= va || s >= end)
    }
}

/// Applies a fault class to a reply; returns the payload and trans id to
/// send, or `None` to send nothing.
pub fn corrupt_reply(
    class: FaultClass,
    id: CommandId,
    version: u32,
    mut data: Vec<u8>,
    trans_id: u64,
    inj: &mut Injector,
) -> Option<(Vec<u8>, u64)> {
    match class {
        FaultClass::Truncated => {
            // The guest sees payloads rounded up to 8 bytes: cut to a
            // multiple of 8 strictly shorter than the reply.
            let n = if data.len() <= 8 {
                0
            } else {
                ((data.len() / 2) & !7).max(8).min(data.len() - 1) & !7
            };
            data.truncate(n);
        }
        FaultClass::Oversized => match id {
            CommandId::Vgpu(V::CreateAllocation) => {
                // Every record claims 1 MiB of private data (more than the
                // bytes present) and an allocation size of 1 TiB.
                let mut off = 16;
                while off + 72 <= data.len() {
                    data[off + 4..off + 8].copy_from_slice(&(1u32 << 20).to_le_bytes());
                    data[off + 16..off + 24].copy_from_slice(&(1u64 << 40).to_le_bytes());
                    off += 72;
                }
            }
            CommandId::Vgpu(V::CreateContextVirtual) if data.len() >= 52 => {
                let n = u32::from_le_bytes([data[48], data[49], data[50], data[51]]);
                data[48..52].copy_from_slice(&n.saturating_add(4096).to_le_bytes());
            }
            CommandId::Vgpu(V::GetInternalAdapterInfo) if data.len() >= 704 => {
                // Strings without a NUL terminator.
                for c in data[24..704].chunks_exact_mut(2) {
                    c.copy_from_slice(&u16::from(b'A').to_le_bytes());
                }
            }
            _ => data.extend(std::iter::repeat_n(0xab, 4096)),
        },
        FaultClass::WrongTransId => return Some((data, trans_id ^ 0x8000_0000_0000_0000)),
        FaultClass::UnknownStatus | FaultClass::Pending => {
            let s = if class == FaultClass::Pending {
                STATUS_PENDING
            } else {
                STATUS_UNKNOWN_FAULT
            };
            match status_offset(id, version) {
                Some(off) if data.len() >= off + 4 => {
                    data[off..off + 4].copy_from_slice(s.as_bytes());
                }
                _ => data = status_bytes(s),
            }
        }
        FaultClass::Garbage => {
            let n = data.len().max(8);
            data = inj.rng().bytes(n);
        }
        FaultClass::NoReply | FaultClass::RescindInFlight => return None,
    }
    Some((data, trans_id))
}

/// What the context workers are up to (control `status`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecStatus {
    /// Context worker threads running.
    pub workers: usize,
    /// Workers start no queued operation.
    pub held: bool,
    /// Contexts whose worker is blocked on a stalled submission.
    pub stalled: usize,
    /// Submissions still to be stalled.
    pub stall_next: u64,
    /// Operations queued on contexts (not started).
    pub queued: usize,
}

impl ExecStatus {
    /// The status of `st`.
    pub fn of(st: &State) -> ExecStatus {
        let mut e = ExecStatus {
            workers: st.workers,
            held: st.hold,
            stall_next: st.stall_next,
            ..Default::default()
        };
        for o in st.objects.values() {
            if let Kind::Context { queue, stalled, .. } = &o.kind {
                e.stalled += usize::from(*stalled);
                e.queued += queue.len();
            }
        }
        e
    }
}

impl Host {
    /// A host for `cfg` talking through `tx`. Offers nothing yet.
    pub fn new(cfg: Config, tx: Arc<dyn Transport>) -> Host {
        let version = cfg.version.min(dxg_proto::consts::VERSION);
        let mut st = State::new(&cfg.adapters, version, Injector::new(cfg.seed, &cfg.faults));
        st.hold = cfg.hold;
        st.stall_next = cfg.stall_next;
        if cfg.strict {
            st.oracle = Some(crate::conform::Oracle::new(
                version,
                cfg.async_msg,
                cfg.adapters.iter().map(|a| a.vgpu_luid).collect(),
            ));
        }
        Host {
            sh: Arc::new(Shared {
                st: Mutex::new(st),
                cv: Condvar::new(),
                work: Condvar::new(),
                tx,
                cfg,
                quit: AtomicBool::new(false),
                start: Instant::now(),
            }),
        }
    }

    /// The vGPU channel instance GUID of adapter `i`: the adapter LUID in
    /// bytes 0-7 (the pairing convention of dxgkrnl dxgkrnl.h,
    /// guid_to_luid()), then "dxghost" and i.
    pub fn instance_guid(&self, i: usize) -> Guid {
        let luid = self.sh.cfg.adapters.get(i).map_or(0, |a| a.luid);
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&luid.to_le_bytes());
        b[8..15].copy_from_slice(b"dxghost");
        b[15] = i as u8;
        Guid(b)
    }

    /// Number of adapters.
    pub fn adapter_count(&self) -> usize {
        self.sh.cfg.adapters.len()
    }

    /// Offers the VM channel.
    pub fn offer_vm(&self) -> Result<u32, String> {
        let mut st = lock(&self.sh.st);
        if st.vm.channel.is_some() {
            return Err("VM channel already offered".into());
        }
        let id = self
            .sh
            .tx
            .offer(&Offer {
                kind: ChannelKind::Vm,
                instance: VM_INSTANCE,
                vgpu_luid: 0,
                mmio_size: self.sh.cfg.mmio_size,
            })
            .map_err(|e| format!("offer vm: {e}"))?;
        st.vm.channel = Some(id);
        let io = self.sh.cfg.mmio_size != 0;
        if let Some(o) = st.oracle.as_mut() {
            o.vm_offered(io);
        }
        Ok(id)
    }

    /// Offers adapter `i`'s vGPU channel.
    pub fn offer_vgpu(&self, i: usize) -> Result<u32, String> {
        let guid = self.instance_guid(i);
        let mut st = lock(&self.sh.st);
        let ad = st.adapters.get(i).ok_or(format!("no adapter {i}"))?;
        if ad.channel.is_some() {
            return Err(format!("vGPU {i} already offered"));
        }
        let id = self
            .sh
            .tx
            .offer(&Offer {
                kind: ChannelKind::Vgpu,
                instance: guid,
                vgpu_luid: ad.cfg.vgpu_luid,
                mmio_size: 0,
            })
            .map_err(|e| format!("offer vgpu {i}: {e}"))?;
        if let Some(ad) = st.adapters.get_mut(i) {
            ad.channel = Some(id);
        }
        if let Some(o) = st.oracle.as_mut() {
            o.vgpu_offered(i);
        }
        Ok(id)
    }

    fn rescind_locked(&self, st: &mut State, channel: u32) -> Result<(), String> {
        let r = self.sh.tx.rescind(channel).map_err(|e| e.to_string());
        if st.vm.channel == Some(channel) {
            st.vm.channel = None;
            st.drop_all();
        } else if let Some(i) = st.adapters.iter().position(|a| a.channel == Some(channel)) {
            st.adapters[i].channel = None;
            st.drop_adapter(i);
        }
        self.sh.wake_all();
        r
    }

    /// Rescinds the VM channel; all VM state (IO space, processes and
    /// their objects) is dropped.
    pub fn rescind_vm(&self) -> Result<(), String> {
        let mut st = lock(&self.sh.st);
        let ch = st.vm.channel.ok_or("VM channel not offered")?;
        self.rescind_locked(&mut st, ch)
    }

    /// Rescinds adapter `i`'s channel; its objects are dropped.
    pub fn rescind_vgpu(&self, i: usize) -> Result<(), String> {
        let mut st = lock(&self.sh.st);
        let ch = st
            .adapters
            .get(i)
            .ok_or(format!("no adapter {i}"))?
            .channel
            .ok_or(format!("vGPU {i} not offered"))?;
        self.rescind_locked(&mut st, ch)
    }

    /// Handles one VMBus packet the guest sent on `channel`.
    pub fn handle_packet(&self, channel: u32, bytes: &[u8]) {
        let sh = &self.sh;
        let pkt = match decode_packet(bytes) {
            Ok((p, _)) => p,
            Err(e) => {
                eprintln!("dxg-host: bad VMBus packet on channel {channel}: {e:?}");
                lock(&sh.st).stats.bad += 1;
                return;
            }
        };
        if pkt.ptype != PacketType::DataInband {
            eprintln!("dxg-host: unexpected {:?} packet from the guest", pkt.ptype);
            return;
        }
        let want_reply = pkt.completion_requested();
        let mut st = lock(&sh.st);
        st.req_no += 1;
        st.stats.requests += 1;
        let n = st.req_no;
        let version = st.version;
        let on_vm = st.vm.channel == Some(channel);
        let vgpu = st.adapters.iter().position(|a| a.channel == Some(channel));
        if !on_vm && vgpu.is_none() {
            eprintln!("dxg-host: packet on unknown channel {channel}");
            return;
        }
        let reply_err = |st: &mut State, s: NtStatus| {
            st.stats.errors += 1;
            if want_reply {
                let _ = send_packet(
                    sh.tx.as_ref(),
                    channel,
                    PacketType::Completion,
                    pkt.trans_id,
                    &status_bytes(s),
                );
            }
        };
        let (msg, req) = match Request::parse(pkt.payload, version >= VERSION_EXT_HEADER) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("dxg-host: #{n}: malformed request on channel {channel}: {e:?}");
                if let Some(o) = st.oracle.as_mut() {
                    let ext = version >= VERSION_EXT_HEADER;
                    let detail = if Request::parse(pkt.payload, !ext).is_ok() {
                        format!(
                            "framed {} an extension header at version {version} (dxgkrnl init_message(): one exactly when the version is >= 40)",
                            if ext { "without" } else { "with" }
                        )
                    } else {
                        format!("not a message dxgkrnl sends ({e:?})")
                    };
                    let v = o.malformed(&format!("#{n}"), detail);
                    eprintln!("dxg-host: conformance: #{n}: {v}");
                }
                st.stats.bad += 1;
                reply_err(&mut st, STATUS_INVALID_PARAMETER);
                return;
            }
        };
        let id = msg.id;
        let name = normalize_cmd(id.name());
        st.stats.count(&name, !want_reply || msg.header.is_async());
        if sh.cfg.verbose {
            eprintln!(
                "dxg-host: #{n} ch{channel} {name} trans {} process {:#x}{}",
                pkt.trans_id,
                msg.header.process.value(),
                if want_reply { "" } else { " (async)" }
            );
        }
        let adapter = match (id, on_vm) {
            (CommandId::Global(_), true) => None,
            (CommandId::Global(_), false) => {
                eprintln!("dxg-host: #{n}: VM-level {name} on a vGPU channel");
                reply_err(&mut st, STATUS_INVALID_PARAMETER);
                return;
            }
            (CommandId::Vgpu(_), false) => vgpu,
            (CommandId::Vgpu(_), true) => {
                let luid = msg.ext.map(|e| e.vgpu_luid.as_u64());
                let a = st
                    .adapters
                    .iter()
                    .position(|a| Some(a.cfg.vgpu_luid) == luid && a.channel.is_some());
                if a.is_none() {
                    eprintln!("dxg-host: #{n}: {name} on the VM channel for unknown vGPU {luid:?}");
                    reply_err(&mut st, STATUS_DEVICE_REMOVED);
                    return;
                }
                a
            }
        };
        let seen = crate::conform::Seen {
            via: match vgpu {
                Some(i) if !on_vm => crate::conform::Via::Vgpu(i),
                _ => crate::conform::Via::Vm,
            },
            adapter: match id {
                CommandId::Vgpu(_) => adapter,
                CommandId::Global(_) => None,
            },
            completion: want_reply,
            trans_id: pkt.trans_id,
            payload: pkt.payload,
            msg: &msg,
            req: &req,
        };
        if let Some(o) = st.oracle.as_mut() {
            for v in o.check(&format!("#{n} {name}"), &seen) {
                eprintln!("dxg-host: conformance: #{n} {name}: {v}");
            }
        }
        let fault = if want_reply {
            st.faults.decide(&name)
        } else {
            None
        };
        if let Some(f) = fault {
            eprintln!(
                "dxg-host: injecting fault {f} on request #{n} {name} trans {} (seed {})",
                pkt.trans_id,
                st.faults.seed()
            );
            match f {
                FaultClass::NoReply => return,
                FaultClass::RescindInFlight => {
                    if let Err(e) = self.rescind_locked(&mut st, channel) {
                        eprintln!("dxg-host: rescind: {e}");
                    }
                    return;
                }
                _ => {}
            }
        }
        let mut call = Call {
            sh,
            st: &mut st,
            process: msg.header.process.value(),
            adapter,
            post: Vec::new(),
        };
        let res = call.dispatch(&req);
        let post = std::mem::take(&mut call.post);
        if let (Some(o), Ok(d)) = (st.oracle.as_mut(), &res) {
            o.replied(&seen, d);
        }
        let data = match res {
            Ok(d) => d,
            Err(s) => {
                st.stats.errors += 1;
                if sh.cfg.verbose || !want_reply {
                    eprintln!("dxg-host: #{n} {name} failed: {s:?}");
                }
                error_reply(&req, id, s, version)
            }
        };
        if !want_reply {
            for m in &post {
                sh.send_host(&st, m);
            }
            return;
        }
        let (data, trans) = match fault {
            Some(f) => match corrupt_reply(f, id, version, data, pkt.trans_id, &mut st.faults) {
                Some(x) => x,
                None => return,
            },
            None => (data, pkt.trans_id),
        };
        let latency = sh.cfg.latency.get(&name).copied().unwrap_or(0);
        if latency == 0 {
            if !sh.send_reply(channel, trans, &data, &format!("#{n} {name}")) {
                st.stats.errors += 1;
            }
            for m in &post {
                sh.send_host(&st, m);
            }
            return;
        }
        drop(st);
        let sh2 = sh.clone();
        let _ = std::thread::Builder::new()
            .name("reply".into())
            .spawn(move || {
                std::thread::sleep(Duration::from_millis(latency));
                let sent = sh2.send_reply(channel, trans, &data, &format!("#{n} {name} (delayed)"));
                let mut st = lock(&sh2.st);
                if !sent {
                    st.stats.errors += 1;
                }
                for m in &post {
                    sh2.send_host(&st, m);
                }
            });
    }

    /// Waits until `done` holds for the state (checked now and after
    /// every condition-variable notification); false after `timeout`.
    pub fn wait_until(&self, timeout: Duration, done: impl Fn(&State) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = lock(&self.sh.st);
        loop {
            if done(&st) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = match self.sh.cv.wait_timeout(st, deadline - now) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
    }

    /// Waits until every context queue is empty and idle (never while
    /// held with work queued, or while a context is stalled).
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        self.wait_until(timeout, |st| {
            !st.objects.values().any(|o| match &o.kind {
                Kind::Context { queue, busy, .. } => *busy || !queue.is_empty(),
                _ => false,
            })
        })
    }

    /// Holds (`true`) or releases the context workers: while held, no
    /// worker starts a queued operation; operations already started go on.
    pub fn set_hold(&self, on: bool) {
        let mut st = lock(&self.sh.st);
        st.hold = on;
        self.sh.wake_all();
    }

    /// Stalls the next `n` submissions workers would execute (replacing
    /// any count still pending).
    pub fn stall_next(&self, n: u64) {
        lock(&self.sh.st).stall_next = n;
    }

    /// Releases every stalled context (each then executes its stalled
    /// submission and goes on) and cancels pending stalls. Returns how
    /// many contexts were stalled.
    pub fn stall_clear(&self) -> usize {
        let mut st = lock(&self.sh.st);
        st.stall_next = 0;
        let mut n = 0;
        for o in st.objects.values_mut() {
            if let Kind::Context { stalled, .. } = &mut o.kind {
                if std::mem::take(stalled) {
                    n += 1;
                }
            }
        }
        self.sh.cv.notify_all();
        n
    }

    /// What the context workers are up to.
    pub fn exec_status(&self) -> ExecStatus {
        ExecStatus::of(&lock(&self.sh.st))
    }

    /// The conformance violations so far (`--strict`), `None` without
    /// the oracle.
    pub fn violations(&self) -> Option<Vec<String>> {
        lock(&self.sh.st)
            .oracle
            .as_ref()
            .map(|o| o.violations.clone())
    }

    /// Stops the workers.
    pub fn shutdown(&self) {
        self.sh.quit.store(true, Ordering::SeqCst);
        let _g = lock(&self.sh.st);
        self.sh.wake_all();
    }

    /// True once `quit` was requested.
    pub fn quitting(&self) -> bool {
        self.sh.quit.load(Ordering::SeqCst)
    }

    /// Sends SETGUESTDATA for a device (used by the executor).
    pub fn device_changed(sh: &Shared, st: &State, cookie: u64) {
        sh.send_host(
            st,
            &HostMessage::SetGuestData(SetGuestData::dword(cookie, 1)),
        );
    }

    /// Runs one control command; the reply text ends with "ok" or starts
    /// with "error:".
    pub fn control(&self, line: &str) -> String {
        match self.control_inner(line) {
            Ok(s) if s.is_empty() => "ok\n".into(),
            Ok(s) => format!("{s}ok\n"),
            Err(e) => format!("error: {e}\n"),
        }
    }

    fn control_inner(&self, line: &str) -> Result<String, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let idx = |s: Option<&&str>| -> Result<usize, String> {
            s.ok_or("missing adapter index")?
                .parse()
                .map_err(|_| "bad adapter index".to_string())
        };
        match words.as_slice() {
            ["offer", "vm"] => self.offer_vm().map(|_| String::new()),
            ["rescind", "vm"] => self.rescind_vm().map(|_| String::new()),
            ["offer", "vgpu", rest @ ..] => {
                self.offer_vgpu(idx(rest.first())?).map(|_| String::new())
            }
            ["rescind", "vgpu", rest @ ..] => {
                self.rescind_vgpu(idx(rest.first())?).map(|_| String::new())
            }
            ["fault", "clear"] => {
                lock(&self.sh.st).faults.clear();
                Ok(String::new())
            }
            ["fault", spec] => {
                let s = FaultSpec::parse(spec)?;
                lock(&self.sh.st).faults.add(s);
                Ok(String::new())
            }
            ["faults"] => {
                let st = lock(&self.sh.st);
                let mut out = format!("seed {}\n", st.faults.seed());
                for s in st.faults.specs() {
                    out.push_str(&s);
                    out.push('\n');
                }
                Ok(out)
            }
            ["stats"] => {
                let st = lock(&self.sh.st);
                let mut out = String::new();
                for (k, c) in &st.stats.per_cmd {
                    out.push_str(&format!("{k} sync={} async={}\n", c.sync, c.async_));
                }
                out.push_str(&format!(
                    "requests {}\nerrors {}\nbad {}\nfaults {}\nsubmissions {}\n",
                    st.stats.requests,
                    st.stats.errors,
                    st.stats.bad,
                    st.faults.injected,
                    st.stats.submissions
                ));
                Ok(out)
            }
            ["processes"] => {
                let st = lock(&self.sh.st);
                let mut procs: Vec<_> = st
                    .objects
                    .iter()
                    .filter_map(|(h, o)| match &o.kind {
                        Kind::Process { name, pid } => Some((*h, *pid, name)),
                        _ => None,
                    })
                    .collect();
                procs.sort_unstable_by_key(|p| p.0);
                Ok(procs
                    .iter()
                    .map(|(h, pid, name)| format!("process {h:#x} pid {pid} name {name:?}\n"))
                    .collect())
            }
            ["conformance"] => match self.violations() {
                None => Err("the conformance oracle is off (--strict)".into()),
                Some(v) => {
                    let mut out = format!("violations {}\n", v.len());
                    for x in v {
                        out.push_str(&x);
                        out.push('\n');
                    }
                    Ok(out)
                }
            },
            ["stats", "reset"] => {
                let mut st = lock(&self.sh.st);
                st.stats.reset();
                st.faults.injected = 0;
                Ok(String::new())
            }
            ["hold"] => {
                self.set_hold(true);
                Ok(String::new())
            }
            ["release"] => {
                self.set_hold(false);
                Ok(String::new())
            }
            ["stall-next", rest @ ..] if rest.len() <= 1 => {
                let n = match rest.first() {
                    Some(v) => crate::config::parse_u64(v)?,
                    None => 1,
                };
                self.stall_next(n);
                Ok(String::new())
            }
            ["stall", "clear"] => Ok(format!("released {}\n", self.stall_clear())),
            ["status"] => {
                let st = lock(&self.sh.st);
                let e = ExecStatus::of(&st);
                let mut out = format!(
                    "vm channel {:?} io {}\n",
                    st.vm.channel,
                    st.vm
                        .io
                        .as_ref()
                        .map_or("none".into(), |io| format!("{:#x}+{:#x}", io.base, io.len))
                );
                for (i, a) in st.adapters.iter().enumerate() {
                    out.push_str(&format!(
                        "vgpu {i} channel {:?} luid {:#x} vgpu-luid {:#x} name {:?}\n",
                        a.channel, a.cfg.luid, a.cfg.vgpu_luid, a.cfg.name
                    ));
                }
                let count = |t: &str| st.objects.values().filter(|o| o.kind.tag() == t).count();
                for (t, plural) in [
                    ("process", "processes"),
                    ("device", "devices"),
                    ("context", "contexts"),
                    ("allocation", "allocations"),
                    ("sync object", "sync objects"),
                ] {
                    out.push_str(&format!("{plural} {}\n", count(t)));
                }
                out.push_str(&format!(
                    "workers {}\nheld {}\nstalled {}\nstall-next {}\nqueued {}\n",
                    e.workers,
                    u8::from(e.held),
                    e.stalled,
                    e.stall_next,
                    e.queued
                ));
                Ok(out)
            }
            ["quit"] => {
                self.shutdown();
                Ok(String::new())
            }
            _ => Err(format!("unknown command {line:?}")),
        }
    }
}
