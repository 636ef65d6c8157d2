// SPDX-License-Identifier: GPL-2.0

//! The host driven by a fake guest over [`MemTransport`], with messages
//! built by the dxg-proto encoders, exactly as the kernel would send them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dxg_proto::adapter::{
    decode_query_adapter_info_reply, AdapterInfoReply, CloseAdapter, GetInternalAdapterInfo,
    OpenAdapter, OpenAdapterReply, QueryAdapterInfoMsg, ADAPTER_TYPE_COMPUTE_ONLY,
    ADAPTER_TYPE_PARAVIRTUALIZED, ADAPTER_TYPE_RENDER_SUPPORTED,
};
use dxg_proto::alloc::{
    AllocInfo, CreateAllocationMsg, CreateAllocationReply, DestroyAllocationMsg,
    CREATE_ALLOC_FLAG_EXISTING_SYSMEM,
};
use dxg_proto::backing::{Lock2, Lock2Reply, SetExistingSysmemStore};
use dxg_proto::cmdbuf::{Cmd, CmdWriter};
use dxg_proto::codec::{decode_reply, encode_command, Command};
use dxg_proto::context::{
    CreateContextMsg, CreatePagingQueue, CreatePagingQueueReply, DestroyContext,
};
use dxg_proto::device::{
    CreateDevice, CreateDeviceReply, DestroyDevice, GetDeviceState, GetDeviceStateReply,
    DEVICE_STATE_EXECUTION, EXECUTION_ERROR_DMA_FAULT, EXECUTION_ERROR_DMA_PAGE_FAULT,
};
use dxg_proto::global::{CreateProcess, CreateProcessReply, DestroyProcess, SetIoSpaceRegion};
use dxg_proto::gpuva::{
    FreeGpuVirtualAddress, MapGpuVaReply, MapGpuVirtualAddress, ReserveGpuVaReply,
    ReserveGpuVirtualAddress, UpdateGpuVaMsg, UpdateGpuVaOperation,
};
use dxg_proto::host::{decode_host_message, HostMessage};
use dxg_proto::misc::{
    EscapeMsg, QueryStatistics, QueryVideoMemoryInfo, QueryVideoMemoryInfoReply,
};
use dxg_proto::model::{
    ModelUmdPrivate, QAI_GETSEGMENTSIZE, QAI_UMDRIVERPRIVATE, UMD_FLAG_COMPUTE_ONLY,
    UMD_PRIVATE_MAGIC,
};
use dxg_proto::reply::decode_status;
use dxg_proto::residency::{EvictMsg, MakeResidentMsg, MakeResidentReply};
use dxg_proto::status::{
    NtStatus, STATUS_DEVICE_REMOVED, STATUS_INVALID_HANDLE, STATUS_INVALID_PARAMETER,
    STATUS_NOT_SUPPORTED, STATUS_PENDING, STATUS_SUCCESS,
};
use dxg_proto::submit::SubmitCommandMsg;
use dxg_proto::sync::{CreateSyncObject, CreateSyncObjectReply, DestroySyncObject};
use dxg_proto::syncmsg::{SignalSyncObjectMsg, WaitFromCpuMsg, WaitFromGpuMsg};
use dxg_proto::vmbus::{
    decode_packet, encode_packet, packet_len, PacketType,
    VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED,
};
use dxg_proto::{Framing, Handle, Luid, U64};
use zerocopy::{FromBytes, IntoBytes};

use crate::config::{AdapterCfg, Config};
use crate::engine::{ExecStatus, Host, STATUS_UNKNOWN_FAULT};
use crate::fault::FaultSpec;
use crate::mem::Region;
use crate::transport::{ChannelKind, MemTransport};

const IO_BASE: u64 = 0xf000_0000;
const IO_LEN: u64 = 16 << 20;
const T: Duration = Duration::from_secs(5);

/// A fake guest.
struct Guest {
    host: Host,
    tx: Arc<MemTransport>,
    trans: u64,
    events: Vec<HostMessage>,
    process: Handle,
}

fn cfg_with(adapters: usize) -> Config {
    Config {
        adapters: (0..adapters).map(AdapterCfg::default_for).collect(),
        control: String::new(),
        ..Default::default()
    }
}

impl Guest {
    fn new(cfg: Config) -> Guest {
        let tx = MemTransport::new();
        let host = Host::new(cfg, tx.clone());
        host.offer_vm().unwrap();
        for i in 0..host.adapter_count() {
            host.offer_vgpu(i).unwrap();
        }
        Guest {
            host,
            tx,
            trans: 0,
            events: Vec::new(),
            process: Handle::NULL,
        }
    }

    fn vm_channel(&self) -> u32 {
        self.channel(None).unwrap()
    }

    fn channel(&self, a: Option<usize>) -> Option<u32> {
        let offered = self.tx.offered();
        match a {
            None => offered
                .iter()
                .find(|(_, o)| o.kind == ChannelKind::Vm)
                .map(|(k, _)| *k),
            Some(i) => {
                let g = self.host.instance_guid(i);
                offered
                    .iter()
                    .find(|(_, o)| o.instance == g)
                    .map(|(k, _)| *k)
            }
        }
    }

    fn framing(&self, a: Option<usize>) -> Framing {
        match a {
            None => Framing::with_ext_header(Luid::ZERO),
            Some(i) => {
                Framing::with_ext_header(Luid::from_u64(self.host.sh.cfg.adapters[i].vgpu_luid))
            }
        }
    }

    fn collect(&mut self, ch: u32, p: &[u8]) -> Option<(u64, Vec<u8>)> {
        let (pkt, _) = decode_packet(p).unwrap();
        match pkt.ptype {
            PacketType::Completion => Some((pkt.trans_id, pkt.payload.to_vec())),
            PacketType::DataInband => {
                assert_eq!(
                    Some(ch),
                    self.channel(None),
                    "notification off the VM channel"
                );
                assert_eq!(pkt.trans_id, 0);
                self.events.push(decode_host_message(pkt.payload).unwrap());
                None
            }
        }
    }

    /// Sends a raw message on `ch`; returns the completion (trans id,
    /// payload), or None if none arrives within `wait`.
    fn send_on(
        &mut self,
        ch: u32,
        msg: &[u8],
        sync: bool,
        wait: Duration,
    ) -> Option<(u64, Vec<u8>)> {
        self.trans += 1;
        let mut buf = vec![0u8; packet_len(msg.len()).unwrap()];
        let flags = if sync {
            VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED
        } else {
            0
        };
        let trans = if sync { self.trans } else { 0 };
        let n = encode_packet(&mut buf, PacketType::DataInband, flags, trans, msg, 0).unwrap();
        self.host.handle_packet(ch, &buf[..n]);
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (c, p) = self.tx.recv(left)?;
            if let Some(r) = self.collect(c, &p) {
                return Some(r);
            }
        }
    }

    fn raw(&mut self, a: Option<usize>, msg: &[u8]) -> Vec<u8> {
        let ch = self.channel(a).unwrap();
        let (t, p) = self.send_on(ch, msg, true, T).expect("no completion");
        assert_eq!(t, self.trans);
        p
    }

    fn cmd<C: Command>(&mut self, a: Option<usize>, c: &C) -> Vec<u8> {
        let mut buf = vec![0u8; 4096];
        let n = encode_command(c, &self.framing(a), &mut buf).unwrap();
        self.raw(a, &buf[..n])
    }

    fn status<C: Command>(&mut self, a: Option<usize>, c: &C) -> NtStatus {
        decode_status(&self.cmd(a, c)).unwrap()
    }

    fn msg(&mut self, a: Option<usize>, f: impl FnOnce(&Framing, &mut [u8]) -> usize) -> Vec<u8> {
        let mut buf = vec![0u8; 256 * 1024];
        let n = f(&self.framing(a), &mut buf);
        self.raw(a, &buf[..n])
    }

    fn poll_events(&mut self, wait: Duration) {
        while let Some((c, p)) = self.tx.recv(wait) {
            assert!(self.collect(c, &p).is_none(), "stray completion");
        }
    }

    fn has_event(&mut self, id: u64, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(i) = self.events.iter().position(
                |e| matches!(e, HostMessage::SignalGuestEvent { event, .. } if *event == id),
            ) {
                self.events.remove(i);
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.poll_events(left.min(Duration::from_millis(20)));
        }
    }

    /// SETIOSPACEREGION, CREATEPROCESS, OPENADAPTER and
    /// GETINTERNALADAPTERINFO for every adapter.
    fn bring_up(&mut self) -> Vec<Handle> {
        assert_eq!(
            self.status(None, &SetIoSpaceRegion::new(IO_BASE, IO_LEN)),
            STATUS_SUCCESS
        );
        let r = self.cmd(None, &CreateProcess::new(7, 42, b"test"));
        self.process = decode_reply::<CreateProcessReply>(&r)
            .unwrap()
            .validate()
            .unwrap();
        let mut handles = Vec::new();
        for i in 0..self.host.adapter_count() {
            let r = self.cmd(Some(i), &OpenAdapter::new(40));
            let h = decode_reply::<OpenAdapterReply>(&r)
                .unwrap()
                .validate()
                .unwrap();
            handles.push(h);
            let r = self.cmd(Some(i), &GetInternalAdapterInfo::new());
            let info = AdapterInfoReply::decode(&r, 40).unwrap();
            let c = &self.host.sh.cfg.adapters[i];
            assert_eq!(info.host_adapter_luid.as_u64(), c.luid);
            assert_eq!(info.host_vgpu_luid.as_u64(), c.vgpu_luid);
            let d: String = char::decode_utf16(info.description().iter().map(|u| u.get()))
                .map(|c| c.unwrap())
                .collect();
            assert_eq!(d, c.name);
        }
        handles
    }

    fn io(&self) -> Arc<Region> {
        self.tx.region(0).unwrap()
    }

    fn device(&mut self, a: usize) -> Handle {
        let r = self.cmd(Some(a), &CreateDevice::new(self.process, 0, 0xc00c1e));
        decode_reply::<CreateDeviceReply>(&r)
            .unwrap()
            .validate()
            .unwrap()
    }

    fn context(&mut self, a: usize, dev: Handle) -> Handle {
        let p = self.process;
        let r = self.msg(Some(a), |f, b| {
            CreateContextMsg::new(p, dev, 0, 0, 0, 0, &[1, 2, 3])
                .unwrap()
                .encode(f, b)
                .unwrap()
        });
        let (h, data) = CreateContextMsg::decode_reply(&r, 3).unwrap();
        assert_eq!(data, &[1, 2, 3]);
        h
    }

    fn paging_queue(&mut self, a: usize, dev: Handle) -> CreatePagingQueueReply {
        let r = self.cmd(Some(a), &CreatePagingQueue::new(self.process, dev, 0));
        decode_reply::<CreatePagingQueueReply>(&r).unwrap()
    }

    fn fence(&mut self, a: usize, dev: Handle, initial: u64) -> CreateSyncObjectReply {
        let c = CreateSyncObject::monitored_fence(self.process, dev, 0, initial, 0);
        let r = self.cmd(Some(a), &c);
        let f = decode_reply::<CreateSyncObjectReply>(&r).unwrap();
        assert!(!f.sync_object.is_null());
        f
    }

    fn fence_value(&self, f: &CreateSyncObjectReply) -> u64 {
        self.io()
            .read_u64(f.fence_storage_address.get() - IO_BASE)
            .unwrap()
    }

    /// Creates one allocation of `size` bytes; sysmem ones are backed by a
    /// fresh GPADL `gpadl` whose region is returned.
    fn allocation(
        &mut self,
        a: usize,
        dev: Handle,
        size: u64,
        gpadl: Option<u32>,
    ) -> (Handle, Option<Arc<Region>>) {
        let p = self.process;
        let priv_data = size.to_le_bytes();
        let infos = [AllocInfo {
            flags: 0.into(),
            priv_drv_data_size: 8.into(),
            vidpn_source_id: 0.into(),
        }];
        let flags = if gpadl.is_some() {
            CREATE_ALLOC_FLAG_EXISTING_SYSMEM
        } else {
            0
        };
        let r = self.msg(Some(a), |f, b| {
            CreateAllocationMsg::new(p, dev, flags, &infos, &[], &priv_data)
                .unwrap()
                .encode(f, b)
                .unwrap()
        });
        let reply = CreateAllocationReply::decode(&r, &infos).unwrap();
        let rec = reply.records[0];
        assert_eq!(rec.allocation_size.get(), size.div_ceil(4096) * 4096);
        assert_eq!(reply.priv_data, &priv_data);
        let h = rec.allocation;
        let region = gpadl.map(|g| {
            let reg = Arc::new(Region::heap(rec.allocation_size.get() as usize));
            self.tx.add_region(u64::from(g) << 12, reg.clone());
            let s = self.status(Some(a), &SetExistingSysmemStore::new(p, dev, h, g));
            assert_eq!(s, STATUS_SUCCESS);
            reg
        });
        (h, region)
    }

    fn map(&mut self, a: usize, dev: Handle, pq: Handle, alloc: Handle, pages: u64) -> u64 {
        let c = MapGpuVirtualAddress::new(self.process, dev, pq, alloc, 0, 0, 0, 0, pages, 0);
        let r = decode_reply::<MapGpuVaReply>(&self.cmd(Some(a), &c)).unwrap();
        assert_eq!(r.status, STATUS_PENDING);
        assert!(r.virtual_address.get() != 0);
        r.virtual_address.get()
    }

    fn submit(&mut self, a: usize, ctx: Handle, va: u64, len: usize) -> NtStatus {
        let p = self.process;
        let r = self.msg(Some(a), |f, b| {
            SubmitCommandMsg::new(p, va, len as u32, 0, &[ctx], &[], &[])
                .unwrap()
                .encode(f, b)
                .unwrap()
        });
        decode_status(&r).unwrap()
    }

    fn cpu_signal(&mut self, a: usize, dev: Handle, f: Handle, v: u64) -> NtStatus {
        let p = self.process;
        let vals = [U64::new(v)];
        let r = self.msg(Some(a), |fr, b| {
            SignalSyncObjectMsg::new(p, 0, u64::from(dev.value()), &[f], &[], &vals)
                .unwrap()
                .encode(fr, b)
                .unwrap()
        });
        decode_status(&r).unwrap()
    }

    fn device_state(&mut self, a: usize, dev: Handle) -> (NtStatus, u32) {
        let c = GetDeviceState::new(self.process, dev, DEVICE_STATE_EXECUTION);
        let r = decode_reply::<GetDeviceStateReply>(&self.cmd(Some(a), &c)).unwrap();
        (r.status, r.args.execution_state())
    }
}

fn cmdbuf(cmds: &[Cmd]) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let mut w = CmdWriter::new(&mut buf);
    for c in cmds {
        w.push(c).unwrap();
    }
    let n = w.len();
    buf.truncate(n);
    buf
}

/// Everything a submission test needs on adapter 0.
struct Setup {
    g: Guest,
    dev: Handle,
    pq: Handle,
    ctx: Handle,
    fence: CreateSyncObjectReply,
    cb_va: u64,
    cb: Arc<Region>,
}

fn setup(cfg: Config) -> Setup {
    let mut g = Guest::new(cfg);
    g.bring_up();
    let dev = g.device(0);
    let pq = g.paging_queue(0, dev).paging_queue;
    let ctx = g.context(0, dev);
    let fence = g.fence(0, dev, 0);
    let (cbh, cb) = g.allocation(0, dev, 4096, Some(9));
    let cb_va = g.map(0, dev, pq, cbh, 1);
    Setup {
        g,
        dev,
        pq,
        ctx,
        fence,
        cb_va,
        cb: cb.unwrap(),
    }
}

impl Setup {
    fn run(&mut self, cmds: &[Cmd]) -> NtStatus {
        let b = cmdbuf(cmds);
        self.cb.write(0, &b).unwrap();
        self.g.submit(0, self.ctx, self.cb_va, b.len())
    }

    /// Writes `cmds` at offset `off` of the command-buffer page and
    /// submits them to `ctx`.
    fn run_at(&mut self, ctx: Handle, off: u64, cmds: &[Cmd]) -> NtStatus {
        let b = cmdbuf(cmds);
        self.cb.write(off, &b).unwrap();
        self.g.submit(0, ctx, self.cb_va + off, b.len())
    }

    /// Waits (on the host's condition variable, which every fence signal
    /// notifies) until `f` reaches `v`.
    fn wait_fence(&self, f: &CreateSyncObjectReply, v: u64) -> bool {
        let io = self.g.io();
        let off = f.fence_storage_address.get() - IO_BASE;
        self.g
            .host
            .wait_until(T, |_| io.read_u64(off).unwrap() >= v)
    }

    /// Waits until the workers' status satisfies `f`.
    fn wait_exec(&self, f: impl Fn(&ExecStatus) -> bool) -> bool {
        self.g.host.wait_until(T, |st| f(&ExecStatus::of(st)))
    }
}

#[test]
fn bring_up_and_adapter_queries() {
    let mut cfg = cfg_with(2);
    cfg.adapters[1].compute_only = true;
    let mut g = Guest::new(cfg);
    let offered = g.tx.offered();
    assert_eq!(offered.len(), 3);
    assert_eq!(offered[0].1.mmio_size, 16 << 20);
    for i in 0..2 {
        let o = offered
            .iter()
            .find(|(_, o)| o.instance == g.host.instance_guid(i))
            .unwrap()
            .1;
        assert_eq!(
            Luid::from_guid(&o.instance).as_u64(),
            g.host.sh.cfg.adapters[i].luid
        );
        assert_eq!(o.vgpu_luid, g.host.sh.cfg.adapters[i].vgpu_luid);
    }
    let handles = g.bring_up();
    assert_ne!(handles[0], handles[1]);
    // A second SETIOSPACEREGION is refused.
    assert_eq!(
        g.status(None, &SetIoSpaceRegion::new(IO_BASE, IO_LEN)),
        STATUS_INVALID_PARAMETER
    );
    let p = g.process;
    for (a, compute) in [(0, false), (1, true)] {
        let data = [0u8; 4];
        let r = g.msg(Some(a), |f, b| {
            QueryAdapterInfoMsg::new(p, 15, &data)
                .unwrap()
                .encode(f, b)
                .unwrap()
        });
        let (s, out) = decode_query_adapter_info_reply(&r, 40, 4).unwrap();
        assert_eq!(s, STATUS_SUCCESS);
        let w = u32::from_le_bytes(out.try_into().unwrap());
        assert_ne!(w & ADAPTER_TYPE_PARAVIRTUALIZED, 0);
        assert_eq!(w & ADAPTER_TYPE_COMPUTE_ONLY != 0, compute);
        assert_eq!(w & ADAPTER_TYPE_RENDER_SUPPORTED != 0, !compute);
        let data = [0u8; 128];
        let r = g.msg(Some(a), |f, b| {
            QueryAdapterInfoMsg::new(p, QAI_UMDRIVERPRIVATE, &data)
                .unwrap()
                .encode(f, b)
                .unwrap()
        });
        let (s, out) = decode_query_adapter_info_reply(&r, 40, 128).unwrap();
        assert_eq!(s, STATUS_SUCCESS);
        let (u, _) = ModelUmdPrivate::read_from_prefix(out).unwrap();
        assert_eq!(u.magic, UMD_PRIVATE_MAGIC);
        assert_eq!(u.flags.get() & UMD_FLAG_COMPUTE_ONLY != 0, compute);
        assert_eq!(u.adapter_index.get(), a as u32);
    }
    let data = [0u8; 24];
    let r = g.msg(Some(0), |f, b| {
        QueryAdapterInfoMsg::new(p, QAI_GETSEGMENTSIZE, &data)
            .unwrap()
            .encode(f, b)
            .unwrap()
    });
    let (_, out) = decode_query_adapter_info_reply(&r, 40, 24).unwrap();
    assert_eq!(u64::from_le_bytes(out[..8].try_into().unwrap()), 256 << 20);
    // Too small a buffer, and an unknown type.
    let small = [0u8; 8];
    let r = g.msg(Some(0), |f, b| {
        QueryAdapterInfoMsg::new(p, QAI_GETSEGMENTSIZE, &small)
            .unwrap()
            .encode(f, b)
            .unwrap()
    });
    assert_eq!(
        decode_query_adapter_info_reply(&r, 40, 8).unwrap().0,
        dxg_proto::status::STATUS_BUFFER_TOO_SMALL
    );
    let r = g.msg(Some(0), |f, b| {
        QueryAdapterInfoMsg::new(p, 9999, &small)
            .unwrap()
            .encode(f, b)
            .unwrap()
    });
    assert_eq!(
        decode_query_adapter_info_reply(&r, 40, 8).unwrap().0,
        STATUS_NOT_SUPPORTED
    );
    // Statistics and memory info.
    let mut q = QueryStatistics::new_zeroed_for_test(p);
    q.adapter_luid = Luid::from_u64(g.host.sh.cfg.adapters[0].luid);
    let r = g.cmd(Some(0), &q);
    assert_eq!(decode_status(&r).unwrap(), STATUS_SUCCESS);
    assert_eq!(r.len(), 784);
    q.adapter_luid = Luid::from_u64(1234);
    assert_eq!(
        decode_status(&g.cmd(Some(0), &q)).unwrap(),
        STATUS_INVALID_PARAMETER
    );
    let r = g.cmd(Some(0), &QueryVideoMemoryInfo::new(p, handles[0], 0));
    let m = decode_reply::<QueryVideoMemoryInfoReply>(&r).unwrap();
    assert_eq!(m.budget.get(), 256 << 20);
    // Close an adapter; closing it twice fails (the reply is still empty).
    assert!(g.cmd(Some(1), &CloseAdapter::new(handles[1])).is_empty());
    assert!(g.cmd(Some(1), &CloseAdapter::new(handles[1])).is_empty());
    assert_eq!(g.host.sh.st.lock().unwrap().stats.errors, 5);
    // Process teardown.
    assert_eq!(g.status(None, &DestroyProcess::new(p)), STATUS_SUCCESS);
    assert_eq!(
        g.status(None, &DestroyProcess::new(p)),
        STATUS_INVALID_HANDLE
    );
}

trait ZeroedForTest {
    fn new_zeroed_for_test(p: Handle) -> Self;
}

impl ZeroedForTest for QueryStatistics {
    fn new_zeroed_for_test(p: Handle) -> Self {
        use zerocopy::FromZeros;
        let mut q = QueryStatistics::new_zeroed();
        q.hdr = dxg_proto::CommandHeader::vgpu(dxg_proto::VgpuCommand::QueryStatistics, p);
        q
    }
}

#[test]
fn bad_handles_get_error_statuses() {
    let mut g = Guest::new(cfg_with(2));
    g.bring_up();
    let p = g.process;
    let dev = g.device(0);
    // Unknown process.
    let r = g.cmd(Some(0), &CreateDevice::new(Handle::new(0x1234_5678), 0, 0));
    assert!(decode_reply::<CreateDeviceReply>(&r)
        .unwrap()
        .device
        .is_null());
    // Unknown device, null device.
    assert_eq!(
        g.status(Some(0), &DestroyDevice::new(p, Handle::new(0xdead))),
        STATUS_INVALID_HANDLE
    );
    assert_eq!(
        g.status(Some(0), &DestroyDevice::new(p, Handle::NULL)),
        STATUS_INVALID_HANDLE
    );
    // A device handle of adapter 0 used on adapter 1.
    assert_eq!(
        g.status(Some(1), &DestroyDevice::new(p, dev)),
        STATUS_INVALID_HANDLE
    );
    // A device handle used as a context.
    assert_eq!(
        g.status(Some(0), &DestroyContext::new(p, dev)),
        STATUS_INVALID_HANDLE
    );
    // A context on a bogus device: zero handle in the echoed command.
    let r = g.msg(Some(0), |f, b| {
        CreateContextMsg::new(p, Handle::new(77), 0, 0, 0, 0, &[])
            .unwrap()
            .encode(f, b)
            .unwrap()
    });
    assert!(CreateContextMsg::decode_reply(&r, 0).is_err());
    // Another process cannot use this process's device.
    let r = g.cmd(None, &CreateProcess::new(8, 43, b"other"));
    let p2 = decode_reply::<CreateProcessReply>(&r).unwrap().process;
    assert_eq!(
        g.status(Some(0), &DestroyDevice::new(p2, dev)),
        STATUS_INVALID_HANDLE
    );
    // Sync objects: unknown, and DESTROYSYNCOBJECT of a device handle.
    assert_eq!(
        g.status(None, &DestroySyncObject::new(p, Handle::new(5))),
        STATUS_INVALID_HANDLE
    );
    assert_eq!(
        g.status(None, &DestroySyncObject::new(p, dev)),
        STATUS_INVALID_HANDLE
    );
    let f = g.fence(0, dev, 0);
    assert_eq!(
        g.cpu_signal(0, dev, Handle::new(0x4444), 1),
        STATUS_INVALID_HANDLE
    );
    assert_eq!(
        g.cpu_signal(0, Handle::new(9), f.sync_object, 1),
        STATUS_INVALID_HANDLE
    );
    // Submissions to a bogus context.
    assert_eq!(g.submit(0, Handle::new(0x99), 0, 0), STATUS_INVALID_HANDLE);
    // Escape without a valid device: a bare status, shorter than the data.
    let r = g.msg(Some(0), |fr, b| {
        EscapeMsg::new(p, Handle::NULL, Handle::new(3), 0, 0, &[0; 16])
            .unwrap()
            .encode(fr, b)
            .unwrap()
    });
    assert_eq!(r.len(), 8);
    assert_eq!(decode_status(&r).unwrap(), STATUS_INVALID_HANDLE);
    assert!(EscapeMsg::decode_reply(&r, 16).is_err());
    // Malformed messages: bad ext header, truncated command, VM command on
    // a vGPU channel, a command the model does not implement.
    let mut buf = [0u8; 64];
    let n = encode_command(&DestroyDevice::new(p, dev), &g.framing(Some(0)), &mut buf).unwrap();
    let mut bad = buf;
    bad[0] = 8;
    assert_eq!(
        decode_status(&g.raw(Some(0), &bad[..n])).unwrap(),
        STATUS_INVALID_PARAMETER
    );
    assert_eq!(
        decode_status(&g.raw(Some(0), &buf[..n - 16])).unwrap(),
        STATUS_INVALID_PARAMETER
    );
    let n = encode_command(&DestroyProcess::new(p), &g.framing(None), &mut buf).unwrap();
    assert_eq!(
        decode_status(&g.raw(Some(0), &buf[..n])).unwrap(),
        STATUS_INVALID_PARAMETER
    );
    let mut h = [0u8; 40];
    h[..16]
        .copy_from_slice(ExtHeaderBytes::for_luid(g.host.sh.cfg.adapters[0].vgpu_luid).as_slice());
    h[16 + 16] = 37; // FLUSHHEAPTRANSITIONS
    assert_eq!(
        decode_status(&g.raw(Some(0), &h)).unwrap(),
        STATUS_NOT_SUPPORTED
    );
    // The device still works.
    assert_eq!(g.device_state(0, dev), (STATUS_SUCCESS, 1));
    assert_eq!(
        g.status(Some(0), &DestroyDevice::new(p, dev)),
        STATUS_SUCCESS
    );
    assert_eq!(
        g.status(Some(0), &DestroyDevice::new(p, dev)),
        STATUS_INVALID_HANDLE
    );
    let st = g.host.sh.st.lock().unwrap();
    assert_eq!(st.stats.bad, 2);
}

struct ExtHeaderBytes;
impl ExtHeaderBytes {
    fn for_luid(l: u64) -> Vec<u8> {
        dxg_proto::header::ExtHeader::new(Luid::from_u64(l))
            .as_bytes()
            .to_vec()
    }
}

#[test]
fn gpu_va_and_submission_fill_copy_signal() {
    let mut s = setup(cfg_with(1));
    let (dev, pq) = (s.dev, s.pq);
    let (a, ra) = s.g.allocation(0, dev, 2 * 4096, Some(5));
    let ra = ra.unwrap();
    let (b, _) = s.g.allocation(0, dev, 4096, None);
    let va_a = s.g.map(0, dev, pq, a, 2);
    let va_b = s.g.map(0, dev, pq, b, 1);
    assert_ne!(va_a, va_b);
    // Host-backed memory is CPU-visible through LOCK2 in the IO space.
    let lr =
        decode_reply::<Lock2Reply>(&s.g.cmd(Some(0), &Lock2::new(s.g.process, dev, b))).unwrap();
    assert_eq!(lr.status, STATUS_SUCCESS);
    let b_off = lr.cpu_visible_buffer_offset.get() - IO_BASE;
    s.g.io().fill(b_off, 4096, 0x11).unwrap();
    ra.fill(0, 8192, 0x22).unwrap();
    let fence = s.fence.sync_object;
    let st = s.run(&[
        Cmd::Fill {
            gpu_va: va_a + 100,
            length: 5000,
            value: 0x5a,
        },
        Cmd::Nop { length: 12 },
        Cmd::Copy {
            src_va: va_a + 4090,
            dst_va: va_b + 8,
            length: 16,
        },
        Cmd::Timestamp { gpu_va: va_b + 128 },
        Cmd::Signal { fence, value: 7 },
    ]);
    assert_eq!(st, STATUS_SUCCESS);
    assert!(s.g.host.wait_idle(T));
    assert_eq!(s.g.fence_value(&s.fence), 7);
    let av = ra.to_vec(0, 8192).unwrap();
    assert!(av[..100].iter().all(|&x| x == 0x22));
    assert!(av[100..5100].iter().all(|&x| x == 0x5a));
    assert!(av[5100..].iter().all(|&x| x == 0x22));
    let bv = s.g.io().to_vec(b_off, 4096).unwrap();
    assert!(bv[..8].iter().all(|&x| x == 0x11));
    assert!(bv[8..24].iter().all(|&x| x == 0x5a));
    let ts = u64::from_le_bytes(bv[128..136].try_into().unwrap());
    assert!(ts > 0 && ts <= crate::exec::monotonic_ns());
    // MAKERESIDENT / EVICT, and the paging fence moved with every map.
    let p = s.g.process;
    let r = s.g.msg(Some(0), |f, buf| {
        MakeResidentMsg::new(p, dev, pq, 0, &[a, b])
            .unwrap()
            .encode(f, buf)
            .unwrap()
    });
    let mr = decode_reply::<MakeResidentReply>(&r).unwrap();
    assert_eq!(mr.status, STATUS_PENDING);
    assert_eq!(mr.paging_fence_value.get(), 4);
    let r = s.g.msg(Some(0), |f, buf| {
        EvictMsg::new(p, dev, 0, &[a])
            .unwrap()
            .encode(f, buf)
            .unwrap()
    });
    assert_eq!(r.len(), 8);
    // Destroying an allocation unmaps it: touching it now faults.
    let r = s.g.msg(Some(0), |f, buf| {
        DestroyAllocationMsg::new(p, dev, Handle::NULL, 0, &[a])
            .unwrap()
            .encode(f, buf)
            .unwrap()
    });
    assert_eq!(decode_status(&r).unwrap(), STATUS_SUCCESS);
    assert_eq!(
        s.run(&[
            Cmd::Fill {
                gpu_va: va_a,
                length: 1,
                value: 1
            },
            Cmd::Signal { fence, value: 8 }
        ]),
        STATUS_SUCCESS
    );
    assert!(s.g.host.wait_idle(T));
    assert_eq!(
        s.g.fence_value(&s.fence),
        7,
        "fence signalled after a fault"
    );
    assert_eq!(
        s.g.device_state(0, dev),
        (STATUS_SUCCESS, EXECUTION_ERROR_DMA_PAGE_FAULT)
    );
}

#[test]
fn ready_work_runs_on_the_dispatcher_and_keeps_its_order() {
    let mut s = setup(cfg_with(1));
    let f = s.fence.sync_object;
    let other = s.g.fence(0, s.dev, 0);
    // Nothing before it and nothing to wait for: done when the reply comes.
    assert_eq!(s.run(&[Cmd::Signal { fence: f, value: 1 }]), STATUS_SUCCESS);
    assert_eq!(s.g.fence_value(&s.fence), 1);
    // Behind a WAIT that is not satisfied, a ready submission queues.
    let w = Cmd::Wait {
        fence: other.sync_object,
        value: 1,
    };
    assert_eq!(s.run_at(s.ctx, 0, &[w]), STATUS_SUCCESS);
    let sig = Cmd::Signal { fence: f, value: 2 };
    assert_eq!(s.run_at(s.ctx, 512, &[sig]), STATUS_SUCCESS);
    // (Run at once, it would have signalled before the reply.)
    assert_eq!(s.g.fence_value(&s.fence), 1);
    // Another context signals what the first waits for: both complete.
    let ctx2 = s.g.context(0, s.dev);
    let sig2 = Cmd::Signal {
        fence: other.sync_object,
        value: 1,
    };
    assert_eq!(s.run_at(ctx2, 1024, &[sig2]), STATUS_SUCCESS);
    assert!(s.wait_fence(&s.fence, 2));
    assert!(s.g.host.wait_idle(T));
}

#[test]
fn reserve_update_free_va() {
    let mut s = setup(cfg_with(1));
    let (dev, p) = (s.dev, s.g.process);
    let (a, ra) = s.g.allocation(0, dev, 4096, Some(11));
    let r = s.g.cmd(
        Some(0),
        &ReserveGpuVirtualAddress::new(p, s.pq, 0, 0, 0, 3 * 4096, 0),
    );
    let va = decode_reply::<ReserveGpuVaReply>(&r)
        .unwrap()
        .virtual_address
        .get();
    assert_ne!(va, 0);
    let ops = [UpdateGpuVaOperation::map(va + 4096, 4096, a, 0, 4096)];
    let r = s.g.msg(Some(0), |f, b| {
        UpdateGpuVaMsg::new(p, dev, s.ctx, Handle::NULL, 0, 0, &ops)
            .unwrap()
            .encode(f, b)
            .unwrap()
    });
    assert_eq!(decode_status(&r).unwrap(), STATUS_SUCCESS);
    assert_eq!(
        s.run(&[Cmd::Fill {
            gpu_va: va + 4096,
            length: 4096,
            value: 3
        }]),
        STATUS_SUCCESS
    );
    assert!(s.g.host.wait_idle(T));
    assert!(ra.unwrap().to_vec(0, 4096).unwrap().iter().all(|&x| x == 3));
    // Mapping over an existing mapping fails; freeing the wrong size
    // fails; freeing the reservation works.
    let c = MapGpuVirtualAddress::new(p, dev, s.pq, a, va + 4096, 0, 0, 0, 1, 0);
    let r = decode_reply::<MapGpuVaReply>(&s.g.cmd(Some(0), &c)).unwrap();
    assert_eq!(r.status, STATUS_INVALID_PARAMETER);
    assert_eq!(r.virtual_address.get(), 0);
    assert_eq!(
        s.g.status(Some(0), &FreeGpuVirtualAddress::new(p, s.pq, va, 4096)),
        STATUS_INVALID_PARAMETER
    );
    assert_eq!(
        s.g.status(Some(0), &FreeGpuVirtualAddress::new(p, s.pq, va, 3 * 4096)),
        STATUS_SUCCESS
    );
    assert_eq!(
        s.g.status(
            Some(0),
            &FreeGpuVirtualAddress::new(p, Handle::new(3), va, 4096)
        ),
        STATUS_INVALID_HANDLE
    );
}

#[test]
fn cpu_wait_gets_signal_guest_event() {
    let mut s = setup(cfg_with(1));
    let (dev, p) = (s.dev, s.g.process);
    let f = s.fence.sync_object;
    let vals = [U64::new(3)];
    let wait = |g: &mut Guest, event: u64| {
        let r = g.msg(Some(0), |fr, b| {
            WaitFromCpuMsg::new(p, dev, 0, event, &[f], &vals)
                .unwrap()
                .encode(fr, b)
                .unwrap()
        });
        decode_status(&r).unwrap()
    };
    assert_eq!(wait(&mut s.g, 42), STATUS_SUCCESS);
    assert!(!s.g.has_event(42, Duration::from_millis(50)));
    assert_eq!(s.g.cpu_signal(0, dev, f, 2), STATUS_SUCCESS);
    assert!(!s.g.has_event(42, Duration::from_millis(50)));
    assert_eq!(s.g.cpu_signal(0, dev, f, 3), STATUS_SUCCESS);
    assert!(s.g.has_event(42, T));
    assert_eq!(s.g.fence_value(&s.fence), 3);
    // Already satisfied at registration: signalled at once, exactly once.
    assert_eq!(wait(&mut s.g, 43), STATUS_SUCCESS);
    assert!(s.g.has_event(43, T));
    assert!(!s.g.has_event(43, Duration::from_millis(50)));
    // A GPU signal satisfies a CPU wait too.
    let vals5 = [U64::new(5)];
    let r = s.g.msg(Some(0), |fr, b| {
        WaitFromCpuMsg::new(p, dev, 0, 44, &[f], &vals5)
            .unwrap()
            .encode(fr, b)
            .unwrap()
    });
    assert_eq!(decode_status(&r).unwrap(), STATUS_SUCCESS);
    assert_eq!(s.run(&[Cmd::Signal { fence: f, value: 5 }]), STATUS_SUCCESS);
    assert!(s.g.has_event(44, T));
    // Fences never go backwards.
    assert_eq!(s.g.cpu_signal(0, dev, f, 1), STATUS_SUCCESS);
    assert_eq!(s.g.fence_value(&s.fence), 5);
}

#[test]
fn gpu_wait_orders_a_context_and_does_not_block_others() {
    let mut s = setup(cfg_with(1));
    let (dev, p, ctx) = (s.dev, s.g.process, s.ctx);
    let gate = s.g.fence(0, dev, 0);
    let (a, ra) = s.g.allocation(0, dev, 4096, Some(12));
    let ra = ra.unwrap();
    let va = s.g.map(0, dev, s.pq, a, 1);
    // ctx: WAITFORSYNCOBJECTFROMGPU(gate >= 1), SUBMIT(fill), SIGNAL(fence 1).
    let vals = [U64::new(1)];
    let r = s.g.msg(Some(0), |f, b| {
        WaitFromGpuMsg::new(p, ctx, &[gate.sync_object], &vals)
            .unwrap()
            .encode(f, b)
            .unwrap()
    });
    assert_eq!(decode_status(&r).unwrap(), STATUS_SUCCESS);
    assert_eq!(
        s.run(&[Cmd::Fill {
            gpu_va: va,
            length: 16,
            value: 9
        }]),
        STATUS_SUCCESS
    );
    let r = s.g.msg(Some(0), |f, b| {
        SignalSyncObjectMsg::new(p, 0, 0, &[s.fence.sync_object], &[ctx], &vals)
            .unwrap()
            .encode(f, b)
            .unwrap()
    });
    assert_eq!(decode_status(&r).unwrap(), STATUS_SUCCESS);
    // A second context runs while the first waits; its WAIT in a command
    // buffer blocks only itself.
    let ctx2 = s.g.context(0, dev);
    let (c2h, c2) = s.g.allocation(0, dev, 4096, Some(13));
    let c2va = s.g.map(0, dev, s.pq, c2h, 1);
    let other = s.g.fence(0, dev, 0);
    let b2 = cmdbuf(&[
        Cmd::Wait {
            fence: other.sync_object,
            value: 1,
        },
        Cmd::Fill {
            gpu_va: va + 32,
            length: 8,
            value: 4,
        },
    ]);
    c2.unwrap().write(0, &b2).unwrap();
    assert_eq!(s.g.submit(0, ctx2, c2va, b2.len()), STATUS_SUCCESS);
    std::thread::sleep(Duration::from_millis(50));
    assert!(ra.to_vec(0, 48).unwrap().iter().all(|&x| x == 0));
    assert_eq!(s.g.fence_value(&s.fence), 0);
    assert_eq!(s.g.cpu_signal(0, dev, gate.sync_object, 1), STATUS_SUCCESS);
    let deadline = Instant::now() + T;
    while s.g.fence_value(&s.fence) != 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(s.g.fence_value(&s.fence), 1);
    assert!(ra.to_vec(0, 16).unwrap().iter().all(|&x| x == 9));
    assert!(ra.to_vec(32, 8).unwrap().iter().all(|&x| x == 0));
    assert_eq!(s.g.cpu_signal(0, dev, other.sync_object, 1), STATUS_SUCCESS);
    assert!(s.g.host.wait_idle(T));
    assert!(ra.to_vec(32, 8).unwrap().iter().all(|&x| x == 4));
    // Destroying a context with a blocked worker is clean.
    let b3 = cmdbuf(&[Cmd::Wait {
        fence: other.sync_object,
        value: 100,
    }]);
    s.cb.write(0, &b3).unwrap();
    assert_eq!(s.g.submit(0, ctx2, s.cb_va, b3.len()), STATUS_SUCCESS);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(
        s.g.status(Some(0), &DestroyContext::new(p, ctx2)),
        STATUS_SUCCESS
    );
    assert!(s.g.host.wait_idle(T));
}

#[test]
fn bad_command_buffer_puts_the_device_in_error() {
    let mut s = setup(cfg_with(1));
    let dev = s.dev;
    let mut b = cmdbuf(&[Cmd::Signal {
        fence: s.fence.sync_object,
        value: 1,
    }]);
    b.extend_from_slice(&[0x63, 0, 0, 0, 8, 0, 0, 0]); // unknown opcode 99
    b.extend(cmdbuf(&[Cmd::Signal {
        fence: s.fence.sync_object,
        value: 2,
    }]));
    s.cb.write(0, &b).unwrap();
    assert_eq!(s.g.submit(0, s.ctx, s.cb_va, b.len()), STATUS_SUCCESS);
    assert!(s.g.host.wait_idle(T));
    // Commands before the bad one ran; nothing after it did.
    assert_eq!(s.g.fence_value(&s.fence), 1);
    assert_eq!(
        s.g.device_state(0, dev),
        (STATUS_SUCCESS, EXECUTION_ERROR_DMA_FAULT)
    );
    s.g.poll_events(Duration::from_millis(20));
    assert!(s.g.events.iter().any(|e| matches!(
        e,
        HostMessage::SetGuestData(d) if d.guest_pointer.get() == 0xc00c1e && d.is_device_state_change()
    )));
    assert_eq!(s.run(&[Cmd::Nop { length: 8 }]), STATUS_DEVICE_REMOVED);
    // A bad fence handle in a fresh context's buffer is a DMA fault too.
    let mut s = setup(cfg_with(1));
    assert_eq!(
        s.run(&[Cmd::Signal {
            fence: Handle::new(0x7777),
            value: 1
        }]),
        STATUS_SUCCESS
    );
    assert!(s.g.host.wait_idle(T));
    assert_eq!(s.g.device_state(0, s.dev).1, EXECUTION_ERROR_DMA_FAULT);
    // A command buffer VA that is not mapped: page fault.
    let mut s = setup(cfg_with(1));
    assert_eq!(s.g.submit(0, s.ctx, 0xdead_0000, 64), STATUS_SUCCESS);
    assert!(s.g.host.wait_idle(T));
    assert_eq!(s.g.device_state(0, s.dev).1, EXECUTION_ERROR_DMA_PAGE_FAULT);
}

#[test]
fn escape_async_and_routing_on_the_vm_channel() {
    let mut cfg = cfg_with(2);
    cfg.async_msg = true;
    let mut s = setup(cfg);
    let (dev, p) = (s.dev, s.g.process);
    let r = s.g.msg(Some(0), |f, b| {
        EscapeMsg::new(p, Handle::NULL, dev, 0, 0, &[1, 2, 0xf0])
            .unwrap()
            .encode(f, b)
            .unwrap()
    });
    assert_eq!(EscapeMsg::decode_reply(&r, 3).unwrap(), &[0xfe, 0xfd, 0x0f]);
    // With async_msg_enabled the guest sends vGPU commands on the VM
    // channel, routed by the extension header's vGPU LUID.
    let vm = s.g.vm_channel();
    let mut buf = [0u8; 256];
    let n = encode_command(
        &GetDeviceState::new(p, dev, DEVICE_STATE_EXECUTION),
        &s.g.framing(Some(0)),
        &mut buf,
    )
    .unwrap();
    let (_, r) = s.g.send_on(vm, &buf[..n], true, T).unwrap();
    assert_eq!(
        decode_reply::<GetDeviceStateReply>(&r).unwrap().status,
        STATUS_SUCCESS
    );
    // Adapter 1's LUID on the VM channel: the device is not on adapter 1.
    let n = encode_command(
        &GetDeviceState::new(p, dev, DEVICE_STATE_EXECUTION),
        &s.g.framing(Some(1)),
        &mut buf,
    )
    .unwrap();
    let (_, r) = s.g.send_on(vm, &buf[..n], true, T).unwrap();
    assert_eq!(
        decode_reply::<GetDeviceStateReply>(&r).unwrap().status,
        STATUS_INVALID_HANDLE
    );
    // An asynchronous SIGNALSYNCOBJECT gets no completion but is done.
    let vals = [U64::new(6)];
    let mut big = vec![0u8; 512];
    let objs = [s.fence.sync_object];
    let m = SignalSyncObjectMsg::new(p, 0, u64::from(dev.value()), &objs, &[], &vals).unwrap();
    let n = m.encode(&s.g.framing(Some(0)), &mut big).unwrap();
    let ch = s.g.channel(Some(0)).unwrap();
    assert!(s
        .g
        .send_on(ch, &big[..n], false, Duration::from_millis(50))
        .is_none());
    assert_eq!(s.g.fence_value(&s.fence), 6);
}

#[test]
fn allocation_failures_return_zero_handles() {
    let mut cfg = cfg_with(1);
    cfg.adapters[0].local_mem = 8192;
    let mut g = Guest::new(cfg);
    // Before SETIOSPACEREGION there is nowhere to put a fence.
    let r = g.cmd(None, &CreateProcess::new(1, 1, b"x"));
    g.process = decode_reply::<CreateProcessReply>(&r).unwrap().process;
    let r = g.cmd(Some(0), &OpenAdapter::new(40));
    decode_reply::<OpenAdapterReply>(&r)
        .unwrap()
        .validate()
        .unwrap();
    let dev = g.device(0);
    let c = CreateSyncObject::monitored_fence(g.process, dev, 0, 0, 0);
    let r = decode_reply::<CreateSyncObjectReply>(&g.cmd(Some(0), &c)).unwrap();
    assert!(r.sync_object.is_null());
    assert_eq!(
        g.status(None, &SetIoSpaceRegion::new(IO_BASE, IO_LEN)),
        STATUS_SUCCESS
    );
    // Over the local-memory budget; no size in the private data.
    let p = g.process;
    let infos = [AllocInfo {
        flags: 0.into(),
        priv_drv_data_size: 8.into(),
        vidpn_source_id: 0.into(),
    }];
    let big = (3u64 * 4096).to_le_bytes();
    let r = g.msg(Some(0), |f, b| {
        CreateAllocationMsg::new(p, dev, 0, &infos, &[], &big)
            .unwrap()
            .encode(f, b)
            .unwrap()
    });
    assert_eq!(r.len(), 16 + 72);
    assert!(CreateAllocationReply::decode(&r, &infos).is_err());
    let none = [AllocInfo {
        flags: 0.into(),
        priv_drv_data_size: 0.into(),
        vidpn_source_id: 0.into(),
    }];
    let r = g.msg(Some(0), |f, b| {
        CreateAllocationMsg::new(p, dev, 0, &none, &[], &[])
            .unwrap()
            .encode(f, b)
            .unwrap()
    });
    assert!(CreateAllocationReply::decode(&r, &none).is_err());
    // Within budget works; the budget is released on destroy.
    let (h, _) = g.allocation(0, dev, 8192, None);
    let r = g.msg(Some(0), |f, b| {
        DestroyAllocationMsg::new(p, dev, Handle::NULL, 0, &[h])
            .unwrap()
            .encode(f, b)
            .unwrap()
    });
    assert_eq!(decode_status(&r).unwrap(), STATUS_SUCCESS);
    g.allocation(0, dev, 8192, None);
    // A GPADL the transport does not know.
    let (h2, _) = {
        let priv_data = 4096u64.to_le_bytes();
        let r = g.msg(Some(0), |f, b| {
            CreateAllocationMsg::new(
                p,
                dev,
                CREATE_ALLOC_FLAG_EXISTING_SYSMEM,
                &infos,
                &[],
                &priv_data,
            )
            .unwrap()
            .encode(f, b)
            .unwrap()
        });
        (
            CreateAllocationReply::decode(&r, &infos).unwrap().records[0].allocation,
            (),
        )
    };
    assert_eq!(
        g.status(Some(0), &SetExistingSysmemStore::new(p, dev, h2, 77)),
        STATUS_INVALID_PARAMETER
    );
    assert_eq!(
        g.status(Some(0), &SetExistingSysmemStore::new(p, dev, h2, 0)),
        STATUS_INVALID_PARAMETER
    );
}

fn fault_guest(spec: &str) -> (Guest, Handle) {
    let mut g = Guest::new(cfg_with(1));
    g.bring_up();
    let dev = g.device(0);
    assert_eq!(g.host.control(&format!("fault {spec}")), "ok\n");
    (g, dev)
}

fn send_device_state(g: &mut Guest, dev: Handle, wait: Duration) -> Option<(u64, Vec<u8>)> {
    let mut buf = [0u8; 256];
    let c = GetDeviceState::new(g.process, dev, DEVICE_STATE_EXECUTION);
    let n = encode_command(&c, &g.framing(Some(0)), &mut buf).unwrap();
    let ch = g.channel(Some(0)).unwrap();
    g.send_on(ch, &buf[..n], true, wait)
}

#[test]
fn every_fault_class() {
    let short = Duration::from_millis(50);
    // truncated: shorter than the 64-byte structure, a multiple of 8.
    let (mut g, dev) = fault_guest("truncated:cmd=GETDEVICESTATE");
    let (_, r) = send_device_state(&mut g, dev, T).unwrap();
    assert!(r.len() < 64 && r.len() % 8 == 0, "{}", r.len());
    assert!(decode_reply::<GetDeviceStateReply>(&r).is_err());
    // unknown-status and pending: the status field.
    for (spec, want) in [
        ("unknown-status", STATUS_UNKNOWN_FAULT),
        ("pending", STATUS_PENDING),
    ] {
        let (mut g, dev) = fault_guest(&format!("{spec}:cmd=get-device-state"));
        let (_, r) = send_device_state(&mut g, dev, T).unwrap();
        assert_eq!(
            decode_reply::<GetDeviceStateReply>(&r).unwrap().status,
            want
        );
        let (mut g, _) = fault_guest(&format!("{spec}:cmd=DESTROYDEVICE"));
        let p = g.process;
        assert_eq!(
            g.status(Some(0), &DestroyDevice::new(p, Handle::new(1))),
            want
        );
    }
    // oversized: CREATEALLOCATION records claim more than present.
    let (mut g, dev) = fault_guest("oversized:cmd=CREATEALLOCATION");
    let p = g.process;
    let infos = [AllocInfo {
        flags: 0.into(),
        priv_drv_data_size: 8.into(),
        vidpn_source_id: 0.into(),
    }];
    let pd = 4096u64.to_le_bytes();
    let r = g.msg(Some(0), |f, b| {
        CreateAllocationMsg::new(p, dev, 0, &infos, &[], &pd)
            .unwrap()
            .encode(f, b)
            .unwrap()
    });
    assert!(CreateAllocationReply::decode(&r, &infos).is_err());
    // oversized elsewhere: more bytes than asked for.
    let (mut g, dev) = fault_guest("oversized:cmd=GETDEVICESTATE");
    let (_, r) = send_device_state(&mut g, dev, T).unwrap();
    assert!(r.len() > 64 + 4000);
    // wrong-trans-id: a completion nobody asked for, and no real one.
    let (mut g, dev) = fault_guest("wrong-trans-id:cmd=GETDEVICESTATE");
    let (t, _) = send_device_state(&mut g, dev, T).unwrap();
    assert_ne!(t, g.trans);
    assert!(g.tx.recv(short).is_none());
    // no-reply: nothing, and the request was not processed.
    let (mut g, _) = fault_guest("no-reply:cmd=CREATEDEVICE");
    let mut buf = [0u8; 128];
    let n = encode_command(
        &CreateDevice::new(g.process, 0, 0),
        &g.framing(Some(0)),
        &mut buf,
    )
    .unwrap();
    let ch = g.channel(Some(0)).unwrap();
    assert!(g.send_on(ch, &buf[..n], true, short).is_none());
    assert_eq!(
        g.host
            .sh
            .st
            .lock()
            .unwrap()
            .objects
            .values()
            .filter(|o| o.kind.tag() == "device")
            .count(),
        1
    );
    // rescind-in-flight: the channel disappears, no reply.
    let (mut g, dev) = fault_guest("rescind-in-flight:cmd=GETDEVICESTATE");
    assert!(send_device_state(&mut g, dev, short).is_none());
    assert!(g.channel(Some(0)).is_none());
    assert!(g.channel(None).is_some());
    g.host.offer_vgpu(0).unwrap();
    assert!(g.channel(Some(0)).is_some());
    // garbage: random bytes, at least 8.
    let (mut g, dev) = fault_guest("garbage:cmd=GETDEVICESTATE");
    let (t, r) = send_device_state(&mut g, dev, T).unwrap();
    assert_eq!(t, g.trans);
    assert_eq!(r.len(), 64);
    // every= / count= limits.
    let (mut g, dev) = fault_guest("pending:cmd=GETDEVICESTATE:every=2:count=1");
    let got: Vec<NtStatus> = (0..5)
        .map(|_| {
            decode_reply::<GetDeviceStateReply>(&send_device_state(&mut g, dev, T).unwrap().1)
                .unwrap()
                .status
        })
        .collect();
    assert_eq!(
        got,
        [
            STATUS_SUCCESS,
            STATUS_PENDING,
            STATUS_SUCCESS,
            STATUS_SUCCESS,
            STATUS_SUCCESS
        ]
    );
    assert_eq!(g.host.sh.st.lock().unwrap().faults.injected, 1);
}

/// Replays a fixed request sequence; returns every packet the host sent.
fn replay(seed: u64) -> Vec<(u32, Vec<u8>)> {
    let mut cfg = cfg_with(1);
    cfg.seed = seed;
    cfg.faults = vec![
        FaultSpec::parse("garbage:cmd=GETDEVICESTATE:prob=0.3").unwrap(),
        FaultSpec::parse("truncated:cmd=GETDEVICESTATE:prob=0.3").unwrap(),
    ];
    let tx = MemTransport::new();
    let host = Host::new(cfg, tx.clone());
    host.offer_vm().unwrap();
    let vg = host.offer_vgpu(0).unwrap();
    let f = Framing::with_ext_header(Luid::from_u64(host.sh.cfg.adapters[0].vgpu_luid));
    let mut out = Vec::new();
    for i in 0..60u64 {
        let mut buf = [0u8; 256];
        let n = encode_command(
            &GetDeviceState::new(Handle::new(1), Handle::new(2), 1),
            &f,
            &mut buf,
        )
        .unwrap();
        let mut pkt = vec![0u8; packet_len(n).unwrap()];
        encode_packet(&mut pkt, PacketType::DataInband, 1, i + 1, &buf[..n], 0).unwrap();
        host.handle_packet(vg, &pkt);
        out.extend(tx.drain());
    }
    out
}

#[test]
fn seeded_faults_are_deterministic() {
    let a = replay(99);
    assert_eq!(a.len(), 60);
    assert_eq!(a, replay(99));
    assert_ne!(a, replay(100));
}

#[test]
fn latency_delays_the_reply() {
    let mut cfg = cfg_with(1);
    cfg.latency.insert("GETDEVICESTATE".into(), 150);
    let mut g = Guest::new(cfg);
    g.bring_up();
    let dev = g.device(0);
    let t0 = Instant::now();
    let (_, r) = send_device_state(&mut g, dev, T).unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(150));
    assert_eq!(
        decode_reply::<GetDeviceStateReply>(&r).unwrap().status,
        STATUS_SUCCESS
    );
}

#[test]
fn control_commands_and_rescind() {
    let mut g = Guest::new(cfg_with(2));
    g.bring_up();
    let dev = g.device(1);
    assert!(g
        .host
        .control("stats")
        .contains("OPENADAPTER sync=2 async=0\n"));
    assert!(g.host.control("stats").ends_with("ok\n"));
    assert_eq!(
        g.host.control("offer vgpu 0"),
        "error: vGPU 0 already offered\n"
    );
    assert_eq!(g.host.control("rescind vgpu 1"), "ok\n");
    assert!(g.channel(Some(1)).is_none());
    assert_eq!(g.host.control("offer vgpu 1"), "ok\n");
    // The adapter's objects died with its channel.
    let p = g.process;
    assert_eq!(
        g.status(Some(1), &DestroyDevice::new(p, dev)),
        STATUS_INVALID_HANDLE
    );
    assert_eq!(
        g.host.control("fault no-reply:cmd=destroy-device:count=1"),
        "ok\n"
    );
    assert!(g
        .host
        .control("faults")
        .contains("no-reply:cmd=DESTROYDEVICE"));
    assert_eq!(g.host.control("fault bogus"), "error: unknown fault class \"bogus\" (one of truncated, oversized, wrong-trans-id, unknown-status, pending, no-reply, rescind-in-flight, garbage)\n");
    assert_eq!(g.host.control("fault clear"), "ok\n");
    assert!(g.host.control("status").contains("vgpu 1 channel Some("));
    assert_eq!(g.host.control("rescind vm"), "ok\n");
    assert!(g.channel(None).is_none());
    assert_eq!(g.host.control("offer vm"), "ok\n");
    // VM rescind dropped the process and the IO space.
    assert_eq!(
        g.status(None, &DestroyProcess::new(p)),
        STATUS_INVALID_HANDLE
    );
    assert_eq!(
        g.status(None, &SetIoSpaceRegion::new(IO_BASE, IO_LEN)),
        STATUS_SUCCESS
    );
    assert!(g.host.control("nonsense").starts_with("error:"));
    assert_eq!(g.host.control("quit"), "ok\n");
    assert!(g.host.quitting());
}

/// SUBMITCOMMAND of `cb_va..+len` to `ctx` on channel `ch`, with or
/// without the header's async bit and the VMBus completion request; the
/// completion, if one is already there (the host replies before
/// `handle_packet` returns).
fn submit_as(
    s: &mut Setup,
    ch: u32,
    ctx: Handle,
    len: usize,
    async_bit: bool,
    completion: bool,
) -> Option<(u64, Vec<u8>)> {
    let mut m =
        SubmitCommandMsg::new(s.g.process, s.cb_va, len as u32, 0, &[ctx], &[], &[]).unwrap();
    m.cmd.hdr = m.cmd.hdr.with_async(async_bit);
    let mut buf = vec![0u8; 4096];
    let n = m.encode(&s.g.framing(Some(0)), &mut buf).unwrap();
    s.g.send_on(ch, &buf[..n], completion, Duration::ZERO)
}

#[test]
fn stats_count_sync_and_async_messages_and_reset() {
    let mut cfg = cfg_with(1);
    cfg.async_msg = true;
    let mut s = setup(cfg);
    let (dev, p, ctx) = (s.dev, s.g.process, s.ctx);
    let stats = s.g.host.control("stats");
    assert!(stats.contains("OPENADAPTER sync=1 async=0\n"), "{stats}");
    assert!(stats.contains("\nrequests "), "{stats}");
    assert_eq!(s.g.host.control("stats reset"), "ok\n");
    assert_eq!(
        s.g.host.control("stats"),
        "requests 0\nerrors 0\nbad 0\nfaults 0\nsubmissions 0\nok\n"
    );
    let b = cmdbuf(&[Cmd::Signal {
        fence: s.fence.sync_object,
        value: 1,
    }]);
    s.cb.write(0, &b).unwrap();
    // Synchronous.
    assert_eq!(s.g.submit(0, ctx, s.cb_va, b.len()), STATUS_SUCCESS);
    // Asynchronous as the guest sends it: the VM channel, the async bit,
    // no completion requested; no completion comes.
    let (vm, vgpu) = (s.g.vm_channel(), s.g.channel(Some(0)).unwrap());
    assert!(submit_as(&mut s, vm, ctx, b.len(), true, false).is_none());
    // The async bit alone makes a message async (it is still answered,
    // as the completion was requested).
    let (_, r) = submit_as(&mut s, vgpu, ctx, b.len(), true, true).unwrap();
    assert_eq!(decode_status(&r).unwrap(), STATUS_SUCCESS);
    // No completion requested alone, too; an async failure is counted.
    let vals = [U64::new(2)];
    let objs = [s.fence.sync_object];
    let mut big = vec![0u8; 512];
    let m = SignalSyncObjectMsg::new(p, 0, u64::from(dev.value()), &objs, &[], &vals).unwrap();
    let n = m.encode(&s.g.framing(Some(0)), &mut big).unwrap();
    assert!(s
        .g
        .send_on(vgpu, &big[..n], false, Duration::ZERO)
        .is_none());
    let bad = SignalSyncObjectMsg::new(p, 0, 0x4242, &objs, &[], &vals).unwrap();
    let n = bad.encode(&s.g.framing(Some(0)), &mut big).unwrap();
    assert!(s
        .g
        .send_on(vgpu, &big[..n], false, Duration::ZERO)
        .is_none());
    assert!(s.g.host.wait_idle(T));
    assert_eq!(s.g.fence_value(&s.fence), 2);
    assert_eq!(
        s.g.host.control("stats"),
        "SIGNALSYNCOBJECT sync=0 async=2\nSUBMITCOMMAND sync=1 async=2\n\
         requests 5\nerrors 1\nbad 0\nfaults 0\nsubmissions 3\nok\n"
    );
    // A fault is counted; reset zeroes the total (the spec's own count,
    // which its count= limit uses, stays).
    assert_eq!(
        s.g.host
            .control("fault unknown-status:cmd=getdevicestate:count=1"),
        "ok\n"
    );
    assert_eq!(s.g.device_state(0, dev).0, STATUS_UNKNOWN_FAULT);
    assert!(s.g.host.control("stats").contains("\nfaults 1\n"));
    assert_eq!(s.g.host.control("stats reset"), "ok\n");
    assert!(s.g.host.control("stats").starts_with("requests 0\n"));
    assert!(s.g.host.control("faults").contains("(injected 1)"));
    assert_eq!(s.g.device_state(0, dev), (STATUS_SUCCESS, 1));
    assert_eq!(
        s.g.host.control("stats"),
        "GETDEVICESTATE sync=1 async=0\n\
         requests 1\nerrors 0\nbad 0\nfaults 0\nsubmissions 0\nok\n"
    );
    assert!(s.g.host.control("stats bogus").starts_with("error:"));
}

#[test]
fn hold_keeps_operations_queued_until_release() {
    let mut s = setup(cfg_with(1));
    let (dev, p, ctx) = (s.dev, s.g.process, s.ctx);
    let (a, ra) = s.g.allocation(0, dev, 4096, Some(14));
    let ra = ra.unwrap();
    let va = s.g.map(0, dev, s.pq, a, 1);
    assert!(s.g.host.control("status").contains("\nheld 0\n"));
    assert_eq!(s.g.host.control("hold"), "ok\n");
    let f = s.fence.sync_object;
    // Submissions, a GPU wait and a context signal are accepted and
    // answered as usual, and stay queued.
    let fill = |value| Cmd::Fill {
        gpu_va: va,
        length: 8,
        value,
    };
    assert_eq!(
        s.run_at(ctx, 0, &[fill(1), Cmd::Signal { fence: f, value: 1 }]),
        STATUS_SUCCESS
    );
    assert_eq!(
        s.run_at(ctx, 256, &[fill(2), Cmd::Signal { fence: f, value: 2 }]),
        STATUS_SUCCESS
    );
    let vals = [U64::new(3)];
    let r = s.g.msg(Some(0), |fr, b| {
        SignalSyncObjectMsg::new(p, 0, 0, &[f], &[ctx], &vals)
            .unwrap()
            .encode(fr, b)
            .unwrap()
    });
    assert_eq!(decode_status(&r).unwrap(), STATUS_SUCCESS);
    let e = s.g.host.exec_status();
    assert_eq!((e.held, e.queued, e.workers), (true, 3, 1));
    let status = s.g.host.control("status");
    assert!(status.contains("\nworkers 1\nheld 1\nstalled 0\nstall-next 0\nqueued 3\n"));
    assert!(!s.g.host.wait_idle(Duration::ZERO));
    assert_eq!(s.g.fence_value(&s.fence), 0);
    assert!(ra.to_vec(0, 8).unwrap().iter().all(|&x| x == 0));
    assert_eq!(s.g.host.control("stats").lines().last(), Some("ok"));
    assert!(s.g.host.control("stats").contains("\nsubmissions 0\n"));
    // Holding twice is fine; release runs the queue in order.
    assert_eq!(s.g.host.control("hold"), "ok\n");
    assert_eq!(s.g.host.control("release"), "ok\n");
    assert!(s.g.host.wait_idle(T));
    assert_eq!(s.g.fence_value(&s.fence), 3);
    assert!(ra.to_vec(0, 8).unwrap().iter().all(|&x| x == 2));
    assert!(s.g.host.control("status").contains("\nheld 0\n"));
    assert!(s.g.host.control("stats").contains("\nsubmissions 2\n"));
    // Release when not held is a no-op.
    assert_eq!(s.g.host.control("release"), "ok\n");
    assert_eq!(s.run_at(ctx, 512, &[fill(5)]), STATUS_SUCCESS);
    assert!(s.g.host.wait_idle(T));
    assert!(ra.to_vec(0, 8).unwrap().iter().all(|&x| x == 5));
}

#[test]
fn hold_from_the_start_does_not_hang_destroy_rescind_or_quit() {
    let mut cfg = cfg_with(1);
    cfg.hold = true;
    let mut s = setup(cfg);
    let (dev, p) = (s.dev, s.g.process);
    let f = s.fence.sync_object;
    let ctx2 = s.g.context(0, dev);
    let ctx3 = s.g.context(0, dev);
    for c in [s.ctx, ctx2, ctx3] {
        assert_eq!(
            s.run_at(c, 0, &[Cmd::Signal { fence: f, value: 1 }]),
            STATUS_SUCCESS
        );
    }
    let e = s.g.host.exec_status();
    assert_eq!((e.held, e.queued, e.workers), (true, 3, 3));
    // Destroying a held context ends its worker.
    assert_eq!(
        s.g.status(Some(0), &DestroyContext::new(p, ctx3)),
        STATUS_SUCCESS
    );
    assert!(s.wait_exec(|e| e.workers == 2 && e.queued == 2));
    // So does a VM rescind (every object goes).
    assert_eq!(s.g.host.control("rescind vm"), "ok\n");
    assert!(s.wait_exec(|e| e.workers == 0 && e.queued == 0));
    assert_eq!(s.g.fence_value(&s.fence), 0);
    // And quitting, with a fresh context still held.
    assert_eq!(s.g.host.control("offer vm"), "ok\n");
    s.g.bring_up();
    let dev = s.g.device(0);
    let _ctx = s.g.context(0, dev);
    assert!(s.wait_exec(|e| e.workers == 1 && e.held));
    assert_eq!(s.g.host.control("quit"), "ok\n");
    assert!(s.wait_exec(|e| e.workers == 0));
}

#[test]
fn stall_next_blocks_one_context_until_stall_clear() {
    let mut s = setup(cfg_with(1));
    let (dev, ctx) = (s.dev, s.ctx);
    let (a, ra) = s.g.allocation(0, dev, 4096, Some(15));
    let ra = ra.unwrap();
    let va = s.g.map(0, dev, s.pq, a, 1);
    let ctx2 = s.g.context(0, dev);
    let other = s.g.fence(0, dev, 0);
    let f = s.fence.sync_object;
    assert_eq!(s.g.host.control("stall-next"), "ok\n");
    assert!(s.g.host.control("status").contains("\nstall-next 1\n"));
    assert_eq!(
        s.run_at(
            ctx,
            0,
            &[
                Cmd::Fill {
                    gpu_va: va,
                    length: 8,
                    value: 7
                },
                Cmd::Signal { fence: f, value: 1 }
            ]
        ),
        STATUS_SUCCESS
    );
    assert_eq!(
        s.run_at(ctx, 256, &[Cmd::Signal { fence: f, value: 2 }]),
        STATUS_SUCCESS
    );
    assert!(s.wait_exec(|e| e.stalled == 1 && e.queued == 1));
    let status = s.g.host.control("status");
    assert!(
        status.contains("\nworkers 2\nheld 0\nstalled 1\nstall-next 0\nqueued 1\n"),
        "{status}"
    );
    // Nothing of it ran, nothing was reported; the device is fine and
    // requests are still answered.
    assert_eq!(s.g.fence_value(&s.fence), 0);
    assert!(ra.to_vec(0, 8).unwrap().iter().all(|&x| x == 0));
    assert_eq!(s.g.device_state(0, dev), (STATUS_SUCCESS, 1));
    s.g.poll_events(Duration::ZERO);
    assert!(s.g.events.is_empty(), "{:?}", s.g.events);
    assert!(s.g.host.control("stats").contains("\nsubmissions 0\n"));
    assert!(!s.g.host.wait_idle(Duration::ZERO));
    // Another context runs (the stall count is used up).
    let os = other.sync_object;
    assert_eq!(
        s.run_at(
            ctx2,
            512,
            &[Cmd::Signal {
                fence: os,
                value: 1
            }]
        ),
        STATUS_SUCCESS
    );
    assert!(s.wait_fence(&other, 1));
    assert!(s.wait_exec(|e| e.stalled == 1 && e.queued == 1));
    // stall clear: the stalled submission completes, then the rest.
    assert_eq!(s.g.host.control("stall clear"), "released 1\nok\n");
    assert!(s.g.host.wait_idle(T));
    assert_eq!(s.g.fence_value(&s.fence), 2);
    assert!(ra.to_vec(0, 8).unwrap().iter().all(|&x| x == 7));
    assert!(s.g.host.control("status").contains("\nstalled 0\n"));
    assert!(s.g.host.control("stats").contains("\nsubmissions 3\n"));
    // Two stalls on two contexts; clearing cancels what is pending.
    assert_eq!(s.g.host.control("stall-next 3"), "ok\n");
    assert_eq!(
        s.run_at(ctx, 0, &[Cmd::Signal { fence: f, value: 3 }]),
        STATUS_SUCCESS
    );
    assert_eq!(
        s.run_at(
            ctx2,
            512,
            &[Cmd::Signal {
                fence: os,
                value: 2
            }]
        ),
        STATUS_SUCCESS
    );
    assert!(s.wait_exec(|e| e.stalled == 2 && e.stall_next == 1));
    assert!(s.g.host.control("status").contains("\nstalled 2\n"));
    assert_eq!(s.g.host.control("stall clear"), "released 2\nok\n");
    assert!(s.g.host.wait_idle(T));
    assert_eq!((s.g.fence_value(&s.fence), s.g.fence_value(&other)), (3, 2));
    assert_eq!(s.g.host.exec_status().stall_next, 0);
    assert_eq!(s.g.host.control("stall clear"), "released 0\nok\n");
    // stall-next 0 cancels; bad arguments are errors.
    assert_eq!(s.g.host.control("stall-next 0x2"), "ok\n");
    assert_eq!(s.g.host.exec_status().stall_next, 2);
    assert_eq!(s.g.host.control("stall-next 0"), "ok\n");
    assert_eq!(s.g.host.exec_status().stall_next, 0);
    assert!(s.g.host.control("stall-next x").starts_with("error:"));
    assert!(s.g.host.control("stall-next 1 2").starts_with("error:"));
    assert!(s.g.host.control("stall").starts_with("error:"));
    assert_eq!(s.g.host.exec_status().stall_next, 0);
    s.g.host.shutdown();
    assert!(s.wait_exec(|e| e.workers == 0));
}

#[test]
fn stalled_workers_end_with_their_context_device_or_the_host() {
    let mut cfg = cfg_with(1);
    cfg.stall_next = 5;
    let mut s = setup(cfg);
    let (dev, p) = (s.dev, s.g.process);
    let dev2 = s.g.device(0);
    let ctx2 = s.g.context(0, dev);
    let ctx3 = s.g.context(0, dev2);
    let f = s.fence.sync_object;
    for c in [s.ctx, ctx2, ctx3] {
        assert_eq!(
            s.run_at(c, 0, &[Cmd::Signal { fence: f, value: 1 }]),
            STATUS_SUCCESS
        );
    }
    assert!(s.wait_exec(|e| e.stalled == 3 && e.workers == 3 && e.stall_next == 2));
    // A context's destruction ends its stalled worker, without running
    // the submission.
    assert_eq!(
        s.g.status(Some(0), &DestroyContext::new(p, ctx2)),
        STATUS_SUCCESS
    );
    assert!(s.wait_exec(|e| e.stalled == 2 && e.workers == 2));
    // So does its device's.
    assert_eq!(
        s.g.status(Some(0), &DestroyDevice::new(p, dev2)),
        STATUS_SUCCESS
    );
    assert!(s.wait_exec(|e| e.stalled == 1 && e.workers == 1));
    assert_eq!(s.g.fence_value(&s.fence), 0);
    // Held and stalled at once: quitting ends it all.
    assert_eq!(s.g.host.control("hold"), "ok\n");
    assert_eq!(s.g.host.control("quit"), "ok\n");
    assert!(s.wait_exec(|e| e.workers == 0));
    assert_eq!(s.g.fence_value(&s.fence), 0);
}
