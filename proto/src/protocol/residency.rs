// SPDX-License-Identifier: GPL-2.0

//! Residency: MAKERESIDENT and EVICT (dxgkrnl dxgvmbus.c,
//! dxgvmb_send_make_resident() and dxgvmb_send_evict()).

use zerocopy::little_endian::{U32, U64};
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::codec::{
    decode_fixed, fixed_arrays_codec, u32_from, usize_from, FixedArrays, Trailing, Wire,
};
use super::command::{CommandId, VgpuCommand};
use super::consts::MAX_RESIDENCY_ALLOCATIONS;
use super::error::{ProtoError, ProtoResult};
use super::handle::Handle;
use super::header::{CommandHeader, Framing};
use super::status::NtStatus;

/// MAKERESIDENT flag bit 0: can't trim further.
pub const MAKE_RESIDENT_FLAG_CANT_TRIM_FURTHER: u32 = 1 << 0;
/// MAKERESIDENT flag bit 1: must succeed.
pub const MAKE_RESIDENT_FLAG_MUST_SUCCEED: u32 = 1 << 1;

/// Fixed part of MAKERESIDENT (11); `alloc_count` handles follow. Reply:
/// [`MakeResidentReply`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct MakeResident {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// The device (the original leaves it 0; dxg fills it).
    pub device: Handle,
    /// Paging queue.
    pub paging_queue: Handle,
    /// `MAKE_RESIDENT_FLAG_*` bits.
    pub flags: U32,
    /// Number of handles that follow.
    pub alloc_count: U32,
}
const _: () = assert!(core::mem::size_of::<MakeResident>() == 40);

/// Slack bytes the original sends after the handles (44 + 4n total).
pub const MAKE_RESIDENT_SLACK: usize = 4;

/// Reply of MAKERESIDENT; `STATUS_PENDING` when paging is in flight.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct MakeResidentReply {
    /// Paging fence value to wait for when pending.
    pub paging_fence_value: U64,
    /// Bytes the caller should trim.
    pub num_bytes_to_trim: U64,
    /// Status.
    pub status: NtStatus,
    /// Padding.
    pub pad: U32,
}
const _: () = assert!(core::mem::size_of::<MakeResidentReply>() == 24);

/// A MAKERESIDENT request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MakeResidentMsg<'a> {
    /// The fixed part; `alloc_count` equals `allocations.len()`.
    pub cmd: MakeResident,
    /// The allocations.
    pub allocations: &'a [Handle],
}

fn check_residency_count(n: usize) -> ProtoResult<u32> {
    let n = u32_from(n)?;
    if n == 0 || n > MAX_RESIDENCY_ALLOCATIONS {
        return Err(ProtoError::BadCount);
    }
    Ok(n)
}

/// Decodes a MAKERESIDENT or EVICT fixed part and its handles, whose count
/// `count` reads from the fixed part.
fn decode_residency<C: Wire + Copy>(
    cmd: &[u8],
    id: VgpuCommand,
    count: impl FnOnce(&C) -> U32,
) -> ProtoResult<(C, &[Handle])> {
    let (fixed, mut r) = decode_fixed::<C>(cmd, CommandId::Vgpu(id))?;
    let n = check_residency_count(usize_from(count(&fixed).get())?)?;
    Ok((fixed, r.take_counted::<Handle>(n)?))
}

impl<'a> MakeResidentMsg<'a> {
    /// Makes `allocations` resident through `paging_queue`.
    pub fn new(
        process: Handle,
        device: Handle,
        paging_queue: Handle,
        flags: u32,
        allocations: &'a [Handle],
    ) -> ProtoResult<Self> {
        Ok(MakeResidentMsg {
            cmd: MakeResident {
                hdr: CommandHeader::vgpu(VgpuCommand::MakeResident, process),
                device,
                paging_queue,
                flags: U32::new(flags),
                alloc_count: U32::new(check_residency_count(allocations.len())?),
            },
            allocations,
        })
    }

    fn wire(&self) -> FixedArrays<'_, MakeResident, 1> {
        FixedArrays::one(
            CommandId::Vgpu(VgpuCommand::MakeResident),
            &self.cmd,
            Trailing::counted(self.cmd.alloc_count.get(), self.allocations),
            MAKE_RESIDENT_SLACK,
        )
    }

    fixed_arrays_codec!();

    /// Decodes the command bytes (host side).
    pub fn decode(cmd: &'a [u8]) -> ProtoResult<Self> {
        let (fixed, allocations) =
            decode_residency::<MakeResident>(cmd, VgpuCommand::MakeResident, |c| c.alloc_count)?;
        Ok(MakeResidentMsg {
            cmd: fixed,
            allocations,
        })
    }
}

/// EVICT flag bit 0: evict only if necessary.
pub const EVICT_FLAG_ONLY_IF_NECESSARY: u32 = 1 << 0;
/// EVICT flag bit 1: not written to.
pub const EVICT_FLAG_NOT_WRITTEN_TO: u32 = 1 << 1;

/// Fixed part of EVICT (12); `alloc_count` handles follow. Reply:
/// [`EvictReply`] (no status).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct Evict {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// The device.
    pub device: Handle,
    /// `EVICT_FLAG_*` bits.
    pub flags: U32,
    /// Number of handles that follow.
    pub alloc_count: U32,
}
const _: () = assert!(core::mem::size_of::<Evict>() == 36);

/// Reply of EVICT.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct EvictReply {
    /// Bytes the caller should trim.
    pub num_bytes_to_trim: U64,
}
const _: () = assert!(core::mem::size_of::<EvictReply>() == 8);

/// An EVICT request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvictMsg<'a> {
    /// The fixed part; `alloc_count` equals `allocations.len()`.
    pub cmd: Evict,
    /// The allocations.
    pub allocations: &'a [Handle],
}

impl<'a> EvictMsg<'a> {
    /// Evicts `allocations` of `device`.
    pub fn new(
        process: Handle,
        device: Handle,
        flags: u32,
        allocations: &'a [Handle],
    ) -> ProtoResult<Self> {
        Ok(EvictMsg {
            cmd: Evict {
                hdr: CommandHeader::vgpu(VgpuCommand::Evict, process),
                device,
                flags: U32::new(flags),
                alloc_count: U32::new(check_residency_count(allocations.len())?),
            },
            allocations,
        })
    }

    /// The wire form: 36 + 4n bytes plus the extension header.
    fn wire(&self) -> FixedArrays<'_, Evict, 1> {
        FixedArrays::one(
            CommandId::Vgpu(VgpuCommand::Evict),
            &self.cmd,
            Trailing::counted(self.cmd.alloc_count.get(), self.allocations),
            0,
        )
    }

    fixed_arrays_codec!();

    /// Decodes the command bytes (host side).
    pub fn decode(cmd: &'a [u8]) -> ProtoResult<Self> {
        let (fixed, allocations) =
            decode_residency::<Evict>(cmd, VgpuCommand::Evict, |c| c.alloc_count)?;
        Ok(EvictMsg {
            cmd: fixed,
            allocations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::guid::Luid;
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn layout() {
        assert_eq!(offset_of!(MakeResident, paging_queue), 28);
        assert_eq!(offset_of!(MakeResident, flags), 32);
        assert_eq!(offset_of!(MakeResident, alloc_count), 36);
        assert_eq!(offset_of!(MakeResidentReply, num_bytes_to_trim), 8);
        assert_eq!(offset_of!(MakeResidentReply, status), 16);
        assert_eq!(offset_of!(Evict, flags), 28);
        assert_eq!(offset_of!(Evict, alloc_count), 32);
    }

    #[test]
    fn round_trip() {
        let h = [Handle::new(0x40), Handle::new(0x80), Handle::new(0xc0)];
        let f = Framing::with_ext_header(Luid::new(1, 0));
        let mut buf = [0u8; 128];
        let m =
            MakeResidentMsg::new(Handle::new(1), Handle::new(2), Handle::new(3), 0, &h).unwrap();
        let n = m.encode(&f, &mut buf).unwrap();
        assert_eq!(n, 16 + 44 + 12);
        assert_eq!(n, m.encoded_len(&f).unwrap());
        assert_eq!(MakeResidentMsg::decode(&buf[16..n]), Ok(m));
        let e = EvictMsg::new(Handle::new(1), Handle::new(2), 1, &h).unwrap();
        let n = e.encode(&f, &mut buf).unwrap();
        assert_eq!(n, 16 + 36 + 12);
        assert_eq!(n, e.encoded_len(&f).unwrap());
        assert_eq!(EvictMsg::decode(&buf[16..n]), Ok(e));
        assert_eq!(
            EvictMsg::decode(&buf[16..n - 4]),
            Err(ProtoError::Truncated)
        );
        assert_eq!(
            EvictMsg::new(Handle::new(1), Handle::new(2), 1, &[]),
            Err(ProtoError::BadCount)
        );
    }
}
