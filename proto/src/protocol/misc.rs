// SPDX-License-Identifier: GPL-2.0

//! Escapes and queries: ESCAPE, QUERYSTATISTICS, QUERYVIDEOMEMORYINFO
//! (dxgkrnl dxgvmbus.c, dxgvmb_send_escape(), dxgvmb_send_query_statistics()
//! and dxgvmb_send_query_vidmem_info()).

use zerocopy::little_endian::{U32, U64};
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::codec::{
    decode_fixed, fixed_arrays_codec, impl_command, u32_from, usize_from, FixedArrays, Trailing,
};
use super::command::{CommandId, VgpuCommand};
use super::error::{ProtoError, ProtoResult};
use super::guid::Luid;
use super::handle::Handle;
use super::header::{CommandHeader, Framing};
use super::status::NtStatus;

/// Escape type: driver private.
pub const ESCAPE_DRIVERPRIVATE: u32 = 0;
/// Escape type: video memory manager.
pub const ESCAPE_VIDMM: u32 = 1;
/// Escape type: scheduler.
pub const ESCAPE_VIDSCH: u32 = 3;
/// Escape type: device.
pub const ESCAPE_DEVICE: u32 = 4;

/// Fixed part of ESCAPE (13); `priv_drv_data_size` bytes of opaque payload
/// follow. Reply: exactly that many raw bytes (no status).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct Escape {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// Adapter handle (the host adapter handle).
    pub adapter: Handle,
    /// Device, or 0.
    pub device: Handle,
    /// `ESCAPE_*` type.
    pub escape_type: U32,
    /// Escape flags.
    pub flags: U32,
    /// Payload size.
    pub priv_drv_data_size: U32,
    /// Context, or 0.
    pub context: Handle,
}
const _: () = assert!(core::mem::size_of::<Escape>() == 48);

/// Slack bytes the original sends after the payload (55 + n total).
pub const ESCAPE_SLACK: usize = 7;

/// An ESCAPE request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EscapeMsg<'a> {
    /// The fixed part; `priv_drv_data_size` equals `data.len()`.
    pub cmd: Escape,
    /// The payload.
    pub data: &'a [u8],
}

impl<'a> EscapeMsg<'a> {
    /// An escape of `escape_type` carrying `data`.
    pub fn new(
        process: Handle,
        adapter: Handle,
        device: Handle,
        escape_type: u32,
        flags: u32,
        data: &'a [u8],
    ) -> ProtoResult<Self> {
        Ok(EscapeMsg {
            cmd: Escape {
                hdr: CommandHeader::vgpu(VgpuCommand::Escape, process),
                adapter,
                device,
                escape_type: U32::new(escape_type),
                flags: U32::new(flags),
                priv_drv_data_size: U32::new(u32_from(data.len())?),
                context: Handle::NULL,
            },
            data,
        })
    }

    fn wire(&self) -> FixedArrays<'_, Escape, 1> {
        FixedArrays::one(
            CommandId::Vgpu(VgpuCommand::Escape),
            &self.cmd,
            Trailing::counted(self.cmd.priv_drv_data_size.get(), self.data),
            ESCAPE_SLACK,
        )
    }

    fixed_arrays_codec!();

    /// Decodes the command bytes (host side); slack is ignored.
    pub fn decode(cmd: &'a [u8]) -> ProtoResult<Self> {
        let (fixed, mut r) = decode_fixed::<Escape>(cmd, CommandId::Vgpu(VgpuCommand::Escape))?;
        let data = r.take_counted::<u8>(fixed.priv_drv_data_size.get())?;
        Ok(EscapeMsg { cmd: fixed, data })
    }

    /// The reply to an escape of `size` bytes: the first `size` bytes of
    /// the payload.
    pub fn decode_reply(payload: &[u8], size: u32) -> ProtoResult<&[u8]> {
        payload
            .get(..usize_from(size)?)
            .ok_or(ProtoError::Truncated)
    }
}

/// Size of the query-specific area of QUERYSTATISTICS.
pub const STATISTICS_RESULT_SIZE: usize = 776;

/// QUERYSTATISTICS (48). The guest substitutes the *host adapter LUID*
/// for the user's LUID. Reply: [`QueryStatisticsReply`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct QueryStatistics {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// Query type (0 adapter, 1 process, 2 process-adapter, 3 segment, ...).
    pub query_type: U32,
    /// Host adapter LUID.
    pub adapter_luid: Luid,
    /// Padding.
    pub pad0: U32,
    /// Process (0 = the caller's).
    pub process: U64,
    /// Query-specific input (segment id, node id, ...); opaque.
    pub query: [u8; STATISTICS_RESULT_SIZE],
    /// Padding to the 808-byte user block.
    pub pad1: [u8; 8],
}
impl_command!(
    QueryStatistics,
    CommandId::Vgpu(VgpuCommand::QueryStatistics),
    832
);

/// Reply of QUERYSTATISTICS.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct QueryStatisticsReply {
    /// Status.
    pub status: NtStatus,
    /// Reserved.
    pub reserved: U32,
    /// The opaque D3DKMT statistics result.
    pub result: [u8; STATISTICS_RESULT_SIZE],
}
const _: () = assert!(core::mem::size_of::<QueryStatisticsReply>() == 784);

/// Memory segment group: local (VRAM).
pub const SEGMENT_GROUP_LOCAL: u32 = 0;
/// Memory segment group: non-local (system memory).
pub const SEGMENT_GROUP_NON_LOCAL: u32 = 1;

/// QUERYVIDEOMEMORYINFO (21). Reply: [`QueryVideoMemoryInfoReply`] (no
/// status).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct QueryVideoMemoryInfo {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// Adapter handle (the host adapter handle).
    pub adapter: Handle,
    /// `SEGMENT_GROUP_*`.
    pub memory_segment_group: U32,
    /// Physical adapter index.
    pub physical_adapter_index: U32,
    /// Padding.
    pub pad: U32,
}
impl_command!(
    QueryVideoMemoryInfo,
    CommandId::Vgpu(VgpuCommand::QueryVideoMemoryInfo),
    40
);

impl QueryVideoMemoryInfo {
    /// Queries `segment_group` of `adapter`.
    pub const fn new(process: Handle, adapter: Handle, segment_group: u32) -> Self {
        QueryVideoMemoryInfo {
            hdr: CommandHeader::vgpu(VgpuCommand::QueryVideoMemoryInfo, process),
            adapter,
            memory_segment_group: U32::new(segment_group),
            physical_adapter_index: U32::new(0),
            pad: U32::new(0),
        }
    }
}

/// Reply of QUERYVIDEOMEMORYINFO.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct QueryVideoMemoryInfoReply {
    /// Budget in bytes.
    pub budget: U64,
    /// Current usage in bytes.
    pub current_usage: U64,
    /// Current reservation in bytes.
    pub current_reservation: U64,
    /// Available for reservation in bytes.
    pub available_for_reservation: U64,
}
const _: () = assert!(core::mem::size_of::<QueryVideoMemoryInfoReply>() == 32);

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn layout() {
        assert_eq!(offset_of!(Escape, adapter), 24);
        assert_eq!(offset_of!(Escape, escape_type), 32);
        assert_eq!(offset_of!(Escape, priv_drv_data_size), 40);
        assert_eq!(offset_of!(Escape, context), 44);
        assert_eq!(offset_of!(QueryStatistics, adapter_luid), 28);
        assert_eq!(offset_of!(QueryStatistics, process), 40);
        assert_eq!(offset_of!(QueryStatistics, query), 48);
        assert_eq!(offset_of!(QueryStatisticsReply, result), 8);
        assert_eq!(offset_of!(QueryVideoMemoryInfo, memory_segment_group), 28);
    }

    #[test]
    fn escape_round_trip() {
        let m =
            EscapeMsg::new(Handle::new(1), Handle::new(2), Handle::NULL, 0, 0, b"hello").unwrap();
        let f = Framing::without_ext_header();
        let mut buf = [0u8; 128];
        let n = m.encode(&f, &mut buf).unwrap();
        assert_eq!(n, 55 + 5);
        assert_eq!(n, m.encoded_len(&f).unwrap());
        assert_eq!(EscapeMsg::decode(&buf[..n]), Ok(m));
        assert_eq!(EscapeMsg::decode(&buf[..52]), Err(ProtoError::Truncated));
        assert_eq!(EscapeMsg::decode_reply(b"world!!!", 5), Ok(&b"world"[..]));
        assert_eq!(
            EscapeMsg::decode_reply(b"wor", 5),
            Err(ProtoError::Truncated)
        );
    }
}
