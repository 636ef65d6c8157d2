// SPDX-License-Identifier: GPL-2.0

//! Reply shapes (the `*_return` structures of dxgkrnl dxgvmbus.h) and the
//! generic NTSTATUS reply (dxgvmbus.c, dxgvmb_send_sync_msg_ntstatus()).
//!
//! There is no common reply header. A reply is the payload of the VMBus
//! completion packet whose transaction id matches the request (dxgvmbus.c,
//! process_completion_packet()); its shape depends on the command.
//! Asynchronous sends (dxgvmb_send_async_msg()) get no reply at all.

use zerocopy::FromBytes;

use super::adapter::{AdapterInfoReply, OpenAdapterReply};
use super::alloc::CreateAllocationReplyHeader;
use super::backing::Lock2Reply;
use super::codec::Writer;
use super::command::{CommandId, GlobalCommand as G, VgpuCommand as V};
use super::context::CreatePagingQueueReply;
use super::device::{CreateDeviceReply, GetDeviceStateReply};
use super::error::{ProtoError, ProtoResult};
use super::global::{CreateProcessReply, NtSharedObjectReply, OpenSyncObjectReply};
use super::gpuva::{MapGpuVaReply, ReserveGpuVaReply};
use super::misc::{QueryStatisticsReply, QueryVideoMemoryInfoReply};
use super::residency::{EvictReply, MakeResidentReply};
use super::status::NtStatus;
use super::sync::CreateSyncObjectReply;

/// What a synchronous request's completion carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyShape {
    /// A bare 4-byte NTSTATUS.
    Status,
    /// A fixed structure of this many bytes (possibly containing a status).
    Fixed(usize),
    /// A size that depends on the request (CREATEALLOCATION,
    /// CREATECONTEXTVIRTUAL, ESCAPE, QUERYADAPTERINFO, and
    /// GETINTERNALADAPTERINFO whose size depends on the version); the
    /// module of the command has a decoder for it.
    Variable,
    /// The guest reads no payload, but a completion still arrives
    /// (CLOSEADAPTER, DESTROYPAGINGQUEUE).
    Empty,
    /// A command this module does not model.
    Unknown,
}

const fn size<T>() -> ReplyShape {
    ReplyShape::Fixed(core::mem::size_of::<T>())
}

/// The reply shape of `id` when sent synchronously.
pub const fn reply_shape(id: CommandId) -> ReplyShape {
    match id {
        CommandId::Global(g) => match g {
            G::SetIoSpaceRegion
            | G::DestroyProcess
            | G::DestroySyncObject
            | G::DestroyNtSharedObject => ReplyShape::Status,
            G::CreateProcess => size::<CreateProcessReply>(),
            G::CreateNtSharedObject => size::<NtSharedObjectReply>(),
            G::OpenSyncObject => size::<OpenSyncObjectReply>(),
            _ => ReplyShape::Unknown,
        },
        CommandId::Vgpu(v) => match v {
            V::DestroyDevice
            | V::FlushDevice
            | V::DestroyContext
            | V::DestroyHwQueue
            | V::DestroyAllocation
            | V::SetExistingSysmemStore
            | V::SetExistingSysmemPages
            | V::Unlock2
            | V::FreeGpuVirtualAddress
            | V::UpdateGpuVirtualAddress
            | V::SignalSyncObject
            | V::WaitForSyncObjectFromCpu
            | V::WaitForSyncObjectFromGpu
            | V::SubmitCommand
            | V::SubmitCommandToHwQueue
            | V::MarkDeviceAsError
            | V::SetAllocationPriority
            | V::SetContextSchedulingPriority
            | V::OfferAllocations
            | V::ChangeVideoMemoryReservation
            | V::FlushHeapTransitions
            | V::InvalidateCache => ReplyShape::Status,
            V::CloseAdapter | V::DestroyPagingQueue => ReplyShape::Empty,
            V::OpenAdapter => size::<OpenAdapterReply>(),
            V::CreateDevice => size::<CreateDeviceReply>(),
            V::CreatePagingQueue => size::<CreatePagingQueueReply>(),
            V::CreateSyncObject => size::<CreateSyncObjectReply>(),
            V::Lock2 => size::<Lock2Reply>(),
            V::MapGpuVirtualAddress => size::<MapGpuVaReply>(),
            V::ReserveGpuVirtualAddress => size::<ReserveGpuVaReply>(),
            V::MakeResident => size::<MakeResidentReply>(),
            V::Evict => size::<EvictReply>(),
            V::GetDeviceState => size::<GetDeviceStateReply>(),
            V::QueryStatistics => size::<QueryStatisticsReply>(),
            V::QueryVideoMemoryInfo => size::<QueryVideoMemoryInfoReply>(),
            V::CreateAllocation
            | V::CreateContextVirtual
            | V::Escape
            | V::QueryAdapterInfo
            | V::GetInternalAdapterInfo => ReplyShape::Variable,
            _ => ReplyShape::Unknown,
        },
    }
}

/// Minimum size of the variable CREATEALLOCATION reply (header only).
pub const CREATE_ALLOCATION_REPLY_MIN: usize = core::mem::size_of::<CreateAllocationReplyHeader>();
/// Size of the GETINTERNALADAPTERINFO reply at version 40.
pub const ADAPTER_INFO_REPLY_SIZE: usize = core::mem::size_of::<AdapterInfoReply>();

/// Decodes a bare NTSTATUS reply (extra payload bytes are ignored).
pub fn decode_status(payload: &[u8]) -> ProtoResult<NtStatus> {
    NtStatus::read_from_prefix(payload)
        .map(|(s, _)| s)
        .map_err(|_| ProtoError::Truncated)
}

/// Encodes a bare NTSTATUS reply (host side).
pub fn encode_status(status: NtStatus, buf: &mut [u8]) -> ProtoResult<usize> {
    let mut w = Writer::new(buf);
    w.put(&status)?;
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::super::status::STATUS_PENDING;
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(
            reply_shape(CommandId::Global(G::SetIoSpaceRegion)),
            ReplyShape::Status
        );
        assert_eq!(
            reply_shape(CommandId::Global(G::CreateProcess)),
            ReplyShape::Fixed(4)
        );
        assert_eq!(
            reply_shape(CommandId::Vgpu(V::OpenAdapter)),
            ReplyShape::Fixed(16)
        );
        assert_eq!(
            reply_shape(CommandId::Vgpu(V::MapGpuVirtualAddress)),
            ReplyShape::Fixed(24)
        );
        assert_eq!(
            reply_shape(CommandId::Vgpu(V::GetDeviceState)),
            ReplyShape::Fixed(64)
        );
        assert_eq!(
            reply_shape(CommandId::Vgpu(V::QueryStatistics)),
            ReplyShape::Fixed(784)
        );
        assert_eq!(
            reply_shape(CommandId::Vgpu(V::CloseAdapter)),
            ReplyShape::Empty
        );
        assert_eq!(reply_shape(CommandId::Vgpu(V::Blt)), ReplyShape::Unknown);
        let mut b = [0u8; 8];
        let n = encode_status(STATUS_PENDING, &mut b).unwrap();
        assert_eq!(decode_status(&b[..n]), Ok(STATUS_PENDING));
        assert_eq!(decode_status(&b[..3]), Err(ProtoError::Truncated));
    }
}
