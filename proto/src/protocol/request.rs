// SPDX-License-Identifier: GPL-2.0

//! Decoding any guest-to-host message (host side), and the all-decoders
//! entry point used by the fuzzers.

use zerocopy::little_endian::U32;

use super::adapter::{
    decode_query_adapter_info_reply, AdapterInfoReply, CloseAdapter, GetInternalAdapterInfo,
    OpenAdapter, QueryAdapterInfoMsg,
};
use super::alloc::{AllocInfo, CreateAllocationMsg, CreateAllocationReply, DestroyAllocationMsg};
use super::backing::{Lock2, SetExistingSysmemPagesMsg, SetExistingSysmemStore, Unlock2};
use super::codec::{decode_command, encode_command};
use super::command::{CommandId, GlobalCommand as G, VgpuCommand as V};
use super::context::{CreateContextMsg, CreatePagingQueue, DestroyContext, DestroyPagingQueue};
use super::device::{CreateDevice, DestroyDevice, FlushDevice, GetDeviceState};
use super::error::{ProtoError, ProtoResult};
use super::global::{
    CreateNtSharedObject, CreateProcess, DestroyNtSharedObject, DestroyProcess, OpenSyncObject,
    SetIoSpaceRegion,
};
use super::gpuva::{
    FreeGpuVirtualAddress, MapGpuVirtualAddress, ReserveGpuVirtualAddress, UpdateGpuVaMsg,
};
use super::header::{parse_guest_message, Framing, GuestMessage};
use super::host::decode_host_message;
use super::misc::{EscapeMsg, QueryStatistics, QueryVideoMemoryInfo};
use super::reply::decode_status;
use super::residency::{EvictMsg, MakeResidentMsg};
use super::submit::SubmitCommandMsg;
use super::sync::{CreateSyncObject, DestroySyncObject};
use super::syncmsg::{SignalSyncObjectMsg, WaitFromCpuMsg, WaitFromGpuMsg};
use super::vmbus::Packets;

/// A decoded guest-to-host request. Fixed-size commands are borrowed from
/// the message; variable ones are `*Msg` views whose slices borrow from it.
// No allocation is available, so the largest variant (SUBMITCOMMAND's
// 408-byte fixed part) stays inline.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    /// SETIOSPACEREGION.
    SetIoSpaceRegion(&'a SetIoSpaceRegion),
    /// CREATEPROCESS.
    CreateProcess(&'a CreateProcess),
    /// DESTROYPROCESS.
    DestroyProcess(&'a DestroyProcess),
    /// CREATENTSHAREDOBJECT.
    CreateNtSharedObject(&'a CreateNtSharedObject),
    /// DESTROYNTSHAREDOBJECT.
    DestroyNtSharedObject(&'a DestroyNtSharedObject),
    /// OPENSYNCOBJECT.
    OpenSyncObject(&'a OpenSyncObject),
    /// DESTROYSYNCOBJECT.
    DestroySyncObject(&'a DestroySyncObject),
    /// OPENADAPTER.
    OpenAdapter(&'a OpenAdapter),
    /// CLOSEADAPTER.
    CloseAdapter(&'a CloseAdapter),
    /// GETINTERNALADAPTERINFO.
    GetInternalAdapterInfo(&'a GetInternalAdapterInfo),
    /// QUERYADAPTERINFO.
    QueryAdapterInfo(QueryAdapterInfoMsg<'a>),
    /// CREATEDEVICE.
    CreateDevice(&'a CreateDevice),
    /// DESTROYDEVICE.
    DestroyDevice(&'a DestroyDevice),
    /// FLUSHDEVICE.
    FlushDevice(&'a FlushDevice),
    /// GETDEVICESTATE.
    GetDeviceState(&'a GetDeviceState),
    /// CREATECONTEXTVIRTUAL.
    CreateContextVirtual(CreateContextMsg<'a>),
    /// DESTROYCONTEXT.
    DestroyContext(&'a DestroyContext),
    /// CREATEPAGINGQUEUE.
    CreatePagingQueue(&'a CreatePagingQueue),
    /// DESTROYPAGINGQUEUE.
    DestroyPagingQueue(&'a DestroyPagingQueue),
    /// CREATEALLOCATION.
    CreateAllocation(CreateAllocationMsg<'a>),
    /// DESTROYALLOCATION.
    DestroyAllocation(DestroyAllocationMsg<'a>),
    /// SETEXISTINGSYSMEMSTORE.
    SetExistingSysmemStore(&'a SetExistingSysmemStore),
    /// SETEXISTINGSYSMEMPAGES.
    SetExistingSysmemPages(SetExistingSysmemPagesMsg<'a>),
    /// LOCK2.
    Lock2(&'a Lock2),
    /// UNLOCK2.
    Unlock2(&'a Unlock2),
    /// MAPGPUVIRTUALADDRESS.
    MapGpuVirtualAddress(&'a MapGpuVirtualAddress),
    /// RESERVEGPUVIRTUALADDRESS.
    ReserveGpuVirtualAddress(&'a ReserveGpuVirtualAddress),
    /// FREEGPUVIRTUALADDRESS.
    FreeGpuVirtualAddress(&'a FreeGpuVirtualAddress),
    /// UPDATEGPUVIRTUALADDRESS.
    UpdateGpuVirtualAddress(UpdateGpuVaMsg<'a>),
    /// MAKERESIDENT.
    MakeResident(MakeResidentMsg<'a>),
    /// EVICT.
    Evict(EvictMsg<'a>),
    /// CREATESYNCOBJECT.
    CreateSyncObject(&'a CreateSyncObject),
    /// SIGNALSYNCOBJECT.
    SignalSyncObject(SignalSyncObjectMsg<'a>),
    /// WAITFORSYNCOBJECTFROMCPU.
    WaitForSyncObjectFromCpu(WaitFromCpuMsg<'a>),
    /// WAITFORSYNCOBJECTFROMGPU.
    WaitForSyncObjectFromGpu(WaitFromGpuMsg<'a>),
    /// SUBMITCOMMAND.
    SubmitCommand(SubmitCommandMsg<'a>),
    /// ESCAPE.
    Escape(EscapeMsg<'a>),
    /// QUERYSTATISTICS.
    QueryStatistics(&'a QueryStatistics),
    /// QUERYVIDEOMEMORYINFO.
    QueryVideoMemoryInfo(&'a QueryVideoMemoryInfo),
    /// A defined command this module does not model; a host answers it with
    /// an error status (or drops it if it is asynchronous).
    Unsupported(CommandId),
}

impl<'a> Request<'a> {
    /// Decodes the command of a parsed message.
    pub fn decode(msg: &GuestMessage<'a>) -> ProtoResult<Self> {
        let c = msg.command;
        Ok(match msg.id {
            CommandId::Global(g) => match g {
                G::SetIoSpaceRegion => Request::SetIoSpaceRegion(decode_command(c)?),
                G::CreateProcess => Request::CreateProcess(decode_command(c)?),
                G::DestroyProcess => Request::DestroyProcess(decode_command(c)?),
                G::CreateNtSharedObject => Request::CreateNtSharedObject(decode_command(c)?),
                G::DestroyNtSharedObject => Request::DestroyNtSharedObject(decode_command(c)?),
                G::OpenSyncObject => Request::OpenSyncObject(decode_command(c)?),
                G::DestroySyncObject => Request::DestroySyncObject(decode_command(c)?),
                other => Request::Unsupported(CommandId::Global(other)),
            },
            CommandId::Vgpu(v) => match v {
                V::OpenAdapter => Request::OpenAdapter(decode_command(c)?),
                V::CloseAdapter => Request::CloseAdapter(decode_command(c)?),
                V::GetInternalAdapterInfo => Request::GetInternalAdapterInfo(decode_command(c)?),
                V::QueryAdapterInfo => Request::QueryAdapterInfo(QueryAdapterInfoMsg::decode(c)?),
                V::CreateDevice => Request::CreateDevice(decode_command(c)?),
                V::DestroyDevice => Request::DestroyDevice(decode_command(c)?),
                V::FlushDevice => Request::FlushDevice(decode_command(c)?),
                V::GetDeviceState => Request::GetDeviceState(decode_command(c)?),
                V::CreateContextVirtual => {
                    Request::CreateContextVirtual(CreateContextMsg::decode(c)?)
                }
                V::DestroyContext => Request::DestroyContext(decode_command(c)?),
                V::CreatePagingQueue => Request::CreatePagingQueue(decode_command(c)?),
                V::DestroyPagingQueue => Request::DestroyPagingQueue(decode_command(c)?),
                V::CreateAllocation => Request::CreateAllocation(CreateAllocationMsg::decode(c)?),
                V::DestroyAllocation => {
                    Request::DestroyAllocation(DestroyAllocationMsg::decode(c)?)
                }
                V::SetExistingSysmemStore => Request::SetExistingSysmemStore(decode_command(c)?),
                V::SetExistingSysmemPages => {
                    Request::SetExistingSysmemPages(SetExistingSysmemPagesMsg::decode(c)?)
                }
                V::Lock2 => Request::Lock2(decode_command(c)?),
                V::Unlock2 => Request::Unlock2(decode_command(c)?),
                V::MapGpuVirtualAddress => Request::MapGpuVirtualAddress(decode_command(c)?),
                V::ReserveGpuVirtualAddress => {
                    Request::ReserveGpuVirtualAddress(decode_command(c)?)
                }
                V::FreeGpuVirtualAddress => Request::FreeGpuVirtualAddress(decode_command(c)?),
                V::UpdateGpuVirtualAddress => {
                    Request::UpdateGpuVirtualAddress(UpdateGpuVaMsg::decode(c)?)
                }
                V::MakeResident => Request::MakeResident(MakeResidentMsg::decode(c)?),
                V::Evict => Request::Evict(EvictMsg::decode(c)?),
                V::CreateSyncObject => Request::CreateSyncObject(decode_command(c)?),
                V::SignalSyncObject => Request::SignalSyncObject(SignalSyncObjectMsg::decode(c)?),
                V::WaitForSyncObjectFromCpu => {
                    Request::WaitForSyncObjectFromCpu(WaitFromCpuMsg::decode(c)?)
                }
                V::WaitForSyncObjectFromGpu => {
                    Request::WaitForSyncObjectFromGpu(WaitFromGpuMsg::decode(c)?)
                }
                V::SubmitCommand => Request::SubmitCommand(SubmitCommandMsg::decode(c)?),
                V::Escape => Request::Escape(EscapeMsg::decode(c)?),
                V::QueryStatistics => Request::QueryStatistics(decode_command(c)?),
                V::QueryVideoMemoryInfo => Request::QueryVideoMemoryInfo(decode_command(c)?),
                other => Request::Unsupported(CommandId::Vgpu(other)),
            },
        })
    }

    /// Parses a VMBus in-band payload and decodes its command.
    pub fn parse(bytes: &'a [u8], ext_header: bool) -> ProtoResult<(GuestMessage<'a>, Self)> {
        let msg = parse_guest_message(bytes, ext_header)?;
        let req = Request::decode(&msg)?;
        Ok((msg, req))
    }
}

impl Request<'_> {
    /// Encodes the request again (with the extension header of `framing`);
    /// returns the message length. [`Request::Unsupported`] cannot be
    /// encoded ([`ProtoError::InvalidArgument`]).
    pub fn encode(&self, framing: &Framing, buf: &mut [u8]) -> ProtoResult<usize> {
        match self {
            Request::SetIoSpaceRegion(c) => encode_command(*c, framing, buf),
            Request::CreateProcess(c) => encode_command(*c, framing, buf),
            Request::DestroyProcess(c) => encode_command(*c, framing, buf),
            Request::CreateNtSharedObject(c) => encode_command(*c, framing, buf),
            Request::DestroyNtSharedObject(c) => encode_command(*c, framing, buf),
            Request::OpenSyncObject(c) => encode_command(*c, framing, buf),
            Request::DestroySyncObject(c) => encode_command(*c, framing, buf),
            Request::OpenAdapter(c) => encode_command(*c, framing, buf),
            Request::CloseAdapter(c) => encode_command(*c, framing, buf),
            Request::GetInternalAdapterInfo(c) => encode_command(*c, framing, buf),
            Request::QueryAdapterInfo(m) => m.encode(framing, buf),
            Request::CreateDevice(c) => encode_command(*c, framing, buf),
            Request::DestroyDevice(c) => encode_command(*c, framing, buf),
            Request::FlushDevice(c) => encode_command(*c, framing, buf),
            Request::GetDeviceState(c) => encode_command(*c, framing, buf),
            Request::CreateContextVirtual(m) => m.encode(framing, buf),
            Request::DestroyContext(c) => encode_command(*c, framing, buf),
            Request::CreatePagingQueue(c) => encode_command(*c, framing, buf),
            Request::DestroyPagingQueue(c) => encode_command(*c, framing, buf),
            Request::CreateAllocation(m) => m.encode(framing, buf),
            Request::DestroyAllocation(m) => m.encode(framing, buf),
            Request::SetExistingSysmemStore(c) => encode_command(*c, framing, buf),
            Request::SetExistingSysmemPages(m) => m.encode(framing, buf),
            Request::Lock2(c) => encode_command(*c, framing, buf),
            Request::Unlock2(c) => encode_command(*c, framing, buf),
            Request::MapGpuVirtualAddress(c) => encode_command(*c, framing, buf),
            Request::ReserveGpuVirtualAddress(c) => encode_command(*c, framing, buf),
            Request::FreeGpuVirtualAddress(c) => encode_command(*c, framing, buf),
            Request::UpdateGpuVirtualAddress(m) => m.encode(framing, buf),
            Request::MakeResident(m) => m.encode(framing, buf),
            Request::Evict(m) => m.encode(framing, buf),
            Request::CreateSyncObject(c) => encode_command(*c, framing, buf),
            Request::SignalSyncObject(m) => m.encode(framing, buf),
            Request::WaitForSyncObjectFromCpu(m) => m.encode(framing, buf),
            Request::WaitForSyncObjectFromGpu(m) => m.encode(framing, buf),
            Request::SubmitCommand(m) => m.encode(framing, buf),
            Request::Escape(m) => m.encode(framing, buf),
            Request::QueryStatistics(c) => encode_command(*c, framing, buf),
            Request::QueryVideoMemoryInfo(c) => encode_command(*c, framing, buf),
            Request::Unsupported(_) => Err(ProtoError::InvalidArgument),
        }
    }
}

const fn info(size: u32) -> AllocInfo {
    AllocInfo {
        flags: U32::new(0),
        priv_drv_data_size: U32::new(size),
        vidpn_source_id: U32::new(0),
    }
}

/// Request shapes the fuzzing entry point validates CREATEALLOCATION
/// replies against.
const FUZZ_ALLOC_INFOS: [&[AllocInfo]; 3] =
    [&[info(0)], &[info(16)], &[info(0), info(8), info(64)]];

fn accepted<T>(r: ProtoResult<T>) -> usize {
    usize::from(r.is_ok())
}

/// Runs `bytes` through every decoder of this module: as a guest message
/// with and without extension header, as a host-to-guest message, as every
/// reply shape, and as a stream of VMBus packets whose payloads get the
/// same treatment. Returns how many decoders accepted it. Never panics;
/// this is the fuzzing entry point (`decode_any` target, `fuzz_smoke`).
pub fn decode_any(bytes: &[u8]) -> usize {
    let mut n = decode_payload(bytes);
    for p in Packets::new(bytes).take(64) {
        match p {
            Ok(p) => {
                n = n
                    .saturating_add(1)
                    .saturating_add(decode_payload(p.payload))
            }
            Err(_) => break,
        }
    }
    n
}

fn decode_payload(b: &[u8]) -> usize {
    let mut n = 0usize;
    let mut add = |k: usize| n = n.saturating_add(k);
    add(accepted(Request::parse(b, true)));
    add(accepted(Request::parse(b, false)));
    add(accepted(decode_host_message(b)));
    add(accepted(decode_status(b)));
    add(accepted(AdapterInfoReply::decode(b, 40)));
    add(accepted(AdapterInfoReply::decode(b, 27)));
    add(accepted(decode_query_adapter_info_reply(b, 40, 4)));
    add(accepted(CreateContextMsg::decode_reply(b, 0)));
    add(accepted(EscapeMsg::decode_reply(b, 16)));
    for infos in FUZZ_ALLOC_INFOS {
        if let Ok(r) = CreateAllocationReply::decode(b, infos) {
            add(r.iter().fold(1usize, |k, _| k.saturating_add(1)));
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::super::device::CreateDevice;
    use super::super::guid::Luid;
    use super::super::handle::Handle;
    use super::*;

    #[test]
    fn dispatch() {
        let c = CreateDevice::new(Handle::new(1), 0, 77);
        let mut buf = [0u8; 64];
        let n = encode_command(&c, &Framing::with_ext_header(Luid::new(1, 2)), &mut buf).unwrap();
        let (m, r) = Request::parse(&buf[..n], true).unwrap();
        assert_eq!(m.ext.map(|e| e.vgpu_luid), Some(Luid::new(1, 2)));
        assert_eq!(r, Request::CreateDevice(&c));
        assert!(decode_any(&buf[..n]) >= 1);
        assert_eq!(
            Request::parse(&buf[..n - 1], true),
            Err(ProtoError::Truncated)
        );
        // A known command that is not modelled.
        buf[16 + 16] = 38;
        assert_eq!(
            Request::parse(&buf[..n], true).unwrap().1,
            Request::Unsupported(CommandId::Vgpu(V::Blt))
        );
    }
}
