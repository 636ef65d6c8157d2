// SPDX-License-Identifier: GPL-2.0

//! Residency (reference §6.12): MAKERESIDENT and EVICT.

use zerocopy::little_endian::{U32, U64};
use zerocopy::IntoBytes;
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::codec::{array_len, expect_command, u32_from, usize_from, Reader, Writer};
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

    /// Length of the encoded message.
    pub fn encoded_len(&self, framing: &Framing) -> ProtoResult<usize> {
        array_len(
            core::mem::size_of::<MakeResident>(),
            self.allocations.len(),
            4,
        )?
        .checked_add(MAKE_RESIDENT_SLACK)
        .and_then(|n| n.checked_add(framing.prefix_len()))
        .ok_or(ProtoError::Overflow)
    }

    /// Encodes the request into `buf`; returns its length.
    pub fn encode(&self, framing: &Framing, buf: &mut [u8]) -> ProtoResult<usize> {
        expect_command(
            self.cmd.as_bytes(),
            CommandId::Vgpu(VgpuCommand::MakeResident),
        )?;
        if usize_from(self.cmd.alloc_count.get())? != self.allocations.len() {
            return Err(ProtoError::InvalidArgument);
        }
        let mut w = Writer::message(buf, framing)?;
        w.put(&self.cmd)?;
        w.put(self.allocations)?;
        w.put_zeros(MAKE_RESIDENT_SLACK)?;
        w.finish()
    }

    /// Decodes the command bytes (host side).
    pub fn decode(cmd: &'a [u8]) -> ProtoResult<Self> {
        expect_command(cmd, CommandId::Vgpu(VgpuCommand::MakeResident))?;
        let mut r = Reader::new(cmd);
        let fixed = *r.take::<MakeResident>()?;
        let n = check_residency_count(usize_from(fixed.alloc_count.get())?)?;
        let allocations = r.take_slice::<Handle>(usize_from(n)?)?;
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

    /// Length of the encoded message (36 + 4n plus the extension header).
    pub fn encoded_len(&self, framing: &Framing) -> ProtoResult<usize> {
        array_len(core::mem::size_of::<Evict>(), self.allocations.len(), 4)?
            .checked_add(framing.prefix_len())
            .ok_or(ProtoError::Overflow)
    }

    /// Encodes the request into `buf`; returns its length.
    pub fn encode(&self, framing: &Framing, buf: &mut [u8]) -> ProtoResult<usize> {
        expect_command(self.cmd.as_bytes(), CommandId::Vgpu(VgpuCommand::Evict))?;
        if usize_from(self.cmd.alloc_count.get())? != self.allocations.len() {
            return Err(ProtoError::InvalidArgument);
        }
        let mut w = Writer::message(buf, framing)?;
        w.put(&self.cmd)?;
        w.put(self.allocations)?;
        w.finish()
    }

    /// Decodes the command bytes (host side).
    pub fn decode(cmd: &'a [u8]) -> ProtoResult<Self> {
        expect_command(cmd, CommandId::Vgpu(VgpuCommand::Evict))?;
        let mut r = Reader::new(cmd);
        let fixed = *r.take::<Evict>()?;
        let n = check_residency_count(usize_from(fixed.alloc_count.get())?)?;
        let allocations = r.take_slice::<Handle>(usize_from(n)?)?;
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
