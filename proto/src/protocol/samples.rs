// SPDX-License-Identifier: GPL-2.0

//! Valid example messages of every kind this module encodes, for tests,
//! fuzz seeds and host-model tests. Nothing here allocates: each sample is
//! encoded into a stack buffer and handed to a callback.

use zerocopy::little_endian::{U32, U64};

use super::adapter::{
    encode_query_adapter_info_reply, AdapterInfoReply, CloseAdapter, GetInternalAdapterInfo,
    OpenAdapter, OpenAdapterReply, QueryAdapterInfoMsg, QAI_ADAPTERTYPE,
};
use super::alloc::{
    AllocInfo, AllocationInfoReply, CreateAllocationMsg, CreateAllocationReply,
    CreateAllocationReplyHeader, DestroyAllocationMsg,
};
use super::backing::{Lock2, SetExistingSysmemPagesMsg, SetExistingSysmemStore, Unlock2};
use super::codec::{encode_reply, Command, Wire};
use super::command::{CommandId, VgpuCommand};
use super::context::{CreateContextMsg, CreatePagingQueue, DestroyContext, DestroyPagingQueue};
use super::device::{CreateDevice, DestroyDevice, FlushDevice, GetDeviceState};
use super::error::ProtoResult;
use super::global::{
    CreateNtSharedObject, CreateProcess, DestroyNtSharedObject, DestroyProcess, OpenSyncObject,
    SetIoSpaceRegion,
};
use super::gpuva::{
    FreeGpuVirtualAddress, MapGpuVaReply, MapGpuVirtualAddress, ReserveGpuVirtualAddress,
    UpdateGpuVaMsg, UpdateGpuVaOperation,
};
use super::guid::Luid;
use super::handle::Handle;
use super::header::Framing;
use super::host::{encode_host_message, HostMessage, SetGuestData};
use super::misc::{EscapeMsg, QueryStatistics, QueryVideoMemoryInfo};
use super::reply::encode_status;
use super::residency::{EvictMsg, MakeResidentMsg, MakeResidentReply};
use super::status::{STATUS_PENDING, STATUS_SUCCESS};
use super::submit::SubmitCommandMsg;
use super::sync::{CreateSyncObject, DestroySyncObject};
use super::syncmsg::{SignalSyncObjectMsg, WaitFromCpuMsg, WaitFromGpuMsg};
use super::vmbus::{encode_packet, PacketType, VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED};

/// What a sample is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleKind {
    /// A guest-to-host message (VMBus in-band payload).
    Request {
        /// Whether it starts with the extension header.
        ext_header: bool,
    },
    /// A host-to-guest message.
    HostMessage,
    /// The reply (completion payload) to a command.
    Reply(CommandId),
    /// A whole VMBus packet with its ring trailer.
    Packet,
}

/// One sample message.
#[derive(Clone, Copy, Debug)]
pub struct Sample<'a> {
    /// What it is.
    pub kind: SampleKind,
    /// The encoded bytes.
    pub bytes: &'a [u8],
    /// The shortest prefix that still decodes (the rest is slack the
    /// original sends, or optional trailing values); every shorter prefix
    /// must be rejected.
    pub min_len: usize,
}

/// Size of the buffer samples are encoded in.
pub const SAMPLE_BUF_SIZE: usize = 1024;

struct Emitter<'f> {
    f: &'f mut dyn FnMut(Sample<'_>),
    buf: [u8; SAMPLE_BUF_SIZE],
}

impl Emitter<'_> {
    fn emit(
        &mut self,
        kind: SampleKind,
        slack: usize,
        enc: impl FnOnce(&mut [u8]) -> ProtoResult<usize>,
    ) {
        self.buf.fill(0);
        if let Ok(n) = enc(&mut self.buf) {
            if let Some(bytes) = self.buf.get(..n) {
                (self.f)(Sample {
                    kind,
                    bytes,
                    min_len: n.saturating_sub(slack),
                });
            }
        }
    }

    fn request(&mut self, slack: usize, enc: impl Fn(&Framing, &mut [u8]) -> ProtoResult<usize>) {
        let with = Framing::with_ext_header(Luid::new(0x1234, 0x5678));
        let without = Framing::without_ext_header();
        self.emit(SampleKind::Request { ext_header: true }, slack, |b| {
            enc(&with, b)
        });
        self.emit(SampleKind::Request { ext_header: false }, slack, |b| {
            enc(&without, b)
        });
    }

    fn fixed<C: Command>(&mut self, c: C) {
        self.request(0, |f, b| super::codec::encode_command(&c, f, b));
    }

    fn reply<R: Wire>(&mut self, id: VgpuCommand, r: R) {
        self.emit(SampleKind::Reply(CommandId::Vgpu(id)), 0, |b| {
            encode_reply(&r, b)
        });
    }
}

const P: Handle = Handle::new(0x4000_0001);
const D: Handle = Handle::new(0x4000_0042);
const A: Handle = Handle::new(0x8000_0083);

fn info(size: u32) -> AllocInfo {
    AllocInfo {
        flags: U32::new(0),
        priv_drv_data_size: U32::new(size),
        vidpn_source_id: U32::new(0),
    }
}

/// Calls `f` with one or more valid samples of every request, reply,
/// host-to-guest message and packet kind.
pub fn for_each_sample(f: &mut dyn FnMut(Sample<'_>)) {
    let mut e = Emitter {
        f,
        buf: [0; SAMPLE_BUF_SIZE],
    };
    requests(&mut e);
    replies(&mut e);
    for m in [
        HostMessage::SignalGuestEvent {
            event: 2,
            passive: false,
        },
        HostMessage::SignalGuestEvent {
            event: 3,
            passive: true,
        },
        HostMessage::SetGuestData(SetGuestData::dword(0x1000, 1)),
    ] {
        e.emit(SampleKind::HostMessage, 0, |b| encode_host_message(&m, b));
    }
    let payload = [1u8, 2, 3, 4, 5];
    e.emit(SampleKind::Packet, 0, |b| {
        encode_packet(
            b,
            PacketType::DataInband,
            VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED,
            7,
            &payload,
            0,
        )
    });
    e.emit(SampleKind::Packet, 0, |b| {
        encode_packet(b, PacketType::Completion, 0, 7, &payload[..4], 0)
    });
}

fn requests(e: &mut Emitter<'_>) {
    e.fixed(SetIoSpaceRegion::new(0x1_0000_0000, 0x800_0000));
    e.fixed(CreateProcess::new(0x1, 42, b"dxg-test"));
    e.fixed(DestroyProcess::new(P));
    e.fixed(CreateNtSharedObject::new(P, A));
    e.fixed(DestroyNtSharedObject::new(A));
    e.fixed(OpenSyncObject {
        hdr: super::header::CommandHeader::global(super::command::GlobalCommand::OpenSyncObject, P),
        device: D,
        global_sync_object: A,
        engine_affinity: U32::new(1),
        flags: U32::new(3),
    });
    e.fixed(DestroySyncObject::new(P, A));
    e.fixed(OpenAdapter::new(40));
    e.fixed(CloseAdapter::new(A));
    e.fixed(GetInternalAdapterInfo::new());
    e.request(7, |f, b| {
        QueryAdapterInfoMsg::new(P, QAI_ADAPTERTYPE, &[0; 4])?.encode(f, b)
    });
    e.fixed(CreateDevice::new(P, 0, 0x77));
    e.fixed(DestroyDevice::new(P, D));
    e.fixed(FlushDevice::new(P, D, 4));
    e.fixed(GetDeviceState::new(P, D, 1));
    e.request(3, |f, b| {
        CreateContextMsg::new(P, D, 0, 1, 0, 0, b"ctx")?.encode(f, b)
    });
    e.fixed(DestroyContext::new(P, A));
    e.fixed(CreatePagingQueue::new(P, D, 0));
    e.fixed(DestroyPagingQueue::new(P, A));
    e.request(0, |f, b| {
        let infos = [info(2), info(0)];
        CreateAllocationMsg::new(P, D, 0, &infos, b"r", b"ab")?.encode(f, b)
    });
    e.request(8, |f, b| {
        DestroyAllocationMsg::new(P, D, Handle::NULL, 1, &[A, A])?.encode(f, b)
    });
    e.fixed(SetExistingSysmemStore::new(P, D, A, 9));
    e.request(0, |f, b| {
        SetExistingSysmemPagesMsg::new(P, D, A, 0, &[U64::new(0x123), U64::new(0x456)])?
            .encode(f, b)
    });
    e.fixed(Lock2::new(P, D, A));
    e.fixed(Unlock2::new(P, D, A));
    e.fixed(MapGpuVirtualAddress::new(
        P,
        D,
        A,
        A,
        0,
        0x10_0000,
        0xffff_ffff,
        0,
        4,
        1,
    ));
    e.fixed(ReserveGpuVirtualAddress::new(
        P,
        A,
        0,
        0,
        u64::MAX,
        0x10000,
        0,
    ));
    e.fixed(FreeGpuVirtualAddress::new(P, A, 0x10000, 0x10000));
    e.request(0, |f, b| {
        let ops = [
            UpdateGpuVaOperation::map(0x1000, 0x1000, A, 0, 0x1000),
            UpdateGpuVaOperation::unmap(0x2000, 0x1000, 0),
        ];
        UpdateGpuVaMsg::new(P, D, A, A, 5, 0, &ops)?.encode(f, b)
    });
    e.request(4, |f, b| {
        MakeResidentMsg::new(P, D, A, 0, &[A, A, A])?.encode(f, b)
    });
    e.request(0, |f, b| EvictMsg::new(P, D, 0, &[A])?.encode(f, b));
    e.fixed(CreateSyncObject::monitored_fence(P, D, 0, 0, 0));
    e.fixed(CreateSyncObject::cpu_notification(P, D, 0, 9));
    // With fence values the values are optional to the decoder: min_len
    // excludes them.
    e.request(8, |f, b| {
        SignalSyncObjectMsg::new(P, 0, 0, &[A], &[A], &[U64::new(10)])?.encode(f, b)
    });
    e.request(0, |f, b| {
        SignalSyncObjectMsg::new(P, 0, u64::from(D.value()), &[A, A], &[], &[])?.encode(f, b)
    });
    e.request(0, |f, b| {
        WaitFromCpuMsg::new(P, D, 0, 2, &[A, A], &[U64::new(1), U64::new(2)])?.encode(f, b)
    });
    e.request(0, |f, b| {
        WaitFromGpuMsg::new(P, A, &[A], &[U64::new(3)])?.encode(f, b)
    });
    e.request(0, |f, b| {
        SubmitCommandMsg::new(P, 0x10_0000, 64, 0, &[A], &[A], b"submit")?.encode(f, b)
    });
    e.request(7, |f, b| {
        EscapeMsg::new(P, A, D, 0, 0, b"escape")?.encode(f, b)
    });
    let mut qs: QueryStatistics = zerocopy::FromZeros::new_zeroed();
    qs.hdr = super::header::CommandHeader::vgpu(VgpuCommand::QueryStatistics, P);
    e.fixed(qs);
    e.fixed(QueryVideoMemoryInfo::new(P, A, 0));
}

fn replies(e: &mut Emitter<'_>) {
    e.emit(
        SampleKind::Reply(CommandId::Vgpu(VgpuCommand::DestroyDevice)),
        0,
        |b| encode_status(STATUS_SUCCESS, b),
    );
    e.reply(
        VgpuCommand::OpenAdapter,
        OpenAdapterReply {
            host_adapter_handle: A,
            status: STATUS_SUCCESS,
            vmbus_interface_version: U32::new(40),
            vmbus_last_compatible_interface_version: U32::new(16),
        },
    );
    e.reply(
        VgpuCommand::MapGpuVirtualAddress,
        MapGpuVaReply {
            virtual_address: U64::new(0x10_0000),
            paging_fence_value: U64::new(3),
            status: STATUS_PENDING,
            pad: U32::new(0),
        },
    );
    e.reply(
        VgpuCommand::MakeResident,
        MakeResidentReply {
            paging_fence_value: U64::new(4),
            num_bytes_to_trim: U64::new(0),
            status: STATUS_SUCCESS,
            pad: U32::new(0),
        },
    );
    let id = CommandId::Vgpu(VgpuCommand::GetInternalAdapterInfo);
    e.emit(SampleKind::Reply(id), 0, |b| {
        let mut r: AdapterInfoReply = zerocopy::FromZeros::new_zeroed();
        r.host_vgpu_luid = Luid::new(1, 2);
        r.encode(40, b)
    });
    let id = CommandId::Vgpu(VgpuCommand::QueryAdapterInfo);
    e.emit(SampleKind::Reply(id), 0, |b| {
        encode_query_adapter_info_reply(b, 40, STATUS_SUCCESS, &[1, 2, 3, 4])
    });
    let id = CommandId::Vgpu(VgpuCommand::CreateAllocation);
    e.emit(SampleKind::Reply(id), 0, |b| {
        let mut recs = [AllocationInfoReply::default(); 2];
        recs[0].allocation = A;
        recs[0].priv_drv_data_size = U32::new(2);
        recs[0].allocation_size = U64::new(0x1000);
        recs[1].allocation = A;
        CreateAllocationReply {
            header: CreateAllocationReplyHeader {
                flags: U32::new(0),
                resource: Handle::NULL,
                global_share: Handle::NULL,
                vgpu_flags: U32::new(0),
            },
            records: &recs,
            priv_data: b"xy",
        }
        .encode(b)
    });
    let id = CommandId::Vgpu(VgpuCommand::CreateContextVirtual);
    e.emit(SampleKind::Reply(id), 3, |b| {
        let mut m = CreateContextMsg::new(P, D, 0, 1, 0, 0, b"ctx")?;
        m.cmd.context = A;
        m.encode_reply(b)
    });
}
