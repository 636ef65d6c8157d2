// SPDX-License-Identifier: GPL-2.0

//! Backing allocations with guest memory and CPU access:
//! SETEXISTINGSYSMEMSTORE (GPADL), SETEXISTINGSYSMEMPAGES (PFN list), LOCK2,
//! UNLOCK2 (dxgkrnl dxgvmbus.c, create_existing_sysmem(),
//! dxgvmb_send_lock2() and dxgvmb_send_unlock2()).
//!
//! Existing-sysmem flow after a successful CREATEALLOCATION: take
//! `allocation_size` from the reply and check it with
//! [`super::validate::check_sysmem_size`]; pin that many pages; then either
//! establish a GPADL on the *global* channel and send
//! [`SetExistingSysmemStore`], or (host capability `map_guest_memory`) send
//! the PFNs in [`SetExistingSysmemPagesMsg`] chunks of at most
//! [`MAX_PFNS_PER_MESSAGE`] pages.

use zerocopy::little_endian::{U32, U64};
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::codec::{
    decode_fixed, fixed_arrays_codec, impl_command, u32_from, FixedArrays, Trailing,
};
use super::command::{CommandId, VgpuCommand};
use super::consts::MAX_PFNS_PER_MESSAGE;
use super::error::{ProtoError, ProtoResult};
use super::handle::Handle;
use super::header::{CommandHeader, Framing};
use super::status::NtStatus;
use super::validate::IoSpace;

/// SETEXISTINGSYSMEMSTORE (45): backs an allocation with a GPADL. Reply:
/// NTSTATUS.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct SetExistingSysmemStore {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// The device.
    pub device: Handle,
    /// The allocation from CREATEALLOCATION.
    pub allocation: Handle,
    /// GPADL handle established on the global channel.
    pub gpadl: U32,
    /// Padding.
    pub pad: U32,
}
impl_command!(
    SetExistingSysmemStore,
    CommandId::Vgpu(VgpuCommand::SetExistingSysmemStore),
    40
);

impl SetExistingSysmemStore {
    /// Backs `allocation` with `gpadl`.
    pub const fn new(process: Handle, device: Handle, allocation: Handle, gpadl: u32) -> Self {
        SetExistingSysmemStore {
            hdr: CommandHeader::vgpu(VgpuCommand::SetExistingSysmemStore, process),
            device,
            allocation,
            gpadl: U32::new(gpadl),
            pad: U32::new(0),
        }
    }
}

/// Fixed part of SETEXISTINGSYSMEMPAGES (66); `num_pages` PFNs (u64, in
/// 4 KiB units) follow. Reply: NTSTATUS.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct SetExistingSysmemPages {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// The device.
    pub device: Handle,
    /// The allocation.
    pub allocation: Handle,
    /// PFNs valid in this message.
    pub num_pages: U32,
    /// Index of the first page this message covers.
    pub alloc_offset_in_pages: U32,
}
const _: () = assert!(core::mem::size_of::<SetExistingSysmemPages>() == 40);

/// One SETEXISTINGSYSMEMPAGES message.
///
/// The original always sends the maximum-size message and lets the host
/// use `num_pages`; this encoder sends exactly `40 + 8 * num_pages` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetExistingSysmemPagesMsg<'a> {
    /// The fixed part; `num_pages` equals `pfns.len()`.
    pub cmd: SetExistingSysmemPages,
    /// Guest page frame numbers.
    pub pfns: &'a [U64],
}

impl<'a> SetExistingSysmemPagesMsg<'a> {
    /// Describes pages `first_page..first_page + pfns.len()` of
    /// `allocation`; at most [`MAX_PFNS_PER_MESSAGE`] PFNs.
    pub fn new(
        process: Handle,
        device: Handle,
        allocation: Handle,
        first_page: u32,
        pfns: &'a [U64],
    ) -> ProtoResult<Self> {
        let n = u32_from(pfns.len())?;
        if n == 0 || n > MAX_PFNS_PER_MESSAGE {
            return Err(ProtoError::BadCount);
        }
        Ok(SetExistingSysmemPagesMsg {
            cmd: SetExistingSysmemPages {
                hdr: CommandHeader::vgpu(VgpuCommand::SetExistingSysmemPages, process),
                device,
                allocation,
                num_pages: U32::new(n),
                alloc_offset_in_pages: U32::new(first_page),
            },
            pfns,
        })
    }

    fn wire(&self) -> FixedArrays<'_, SetExistingSysmemPages, 1> {
        FixedArrays::one(
            CommandId::Vgpu(VgpuCommand::SetExistingSysmemPages),
            &self.cmd,
            Trailing::counted(self.cmd.num_pages.get(), self.pfns),
            0,
        )
    }

    fixed_arrays_codec!();

    /// Decodes the command bytes (host side); `num_pages` is bounded by
    /// [`MAX_PFNS_PER_MESSAGE`] and by the message.
    pub fn decode(cmd: &'a [u8]) -> ProtoResult<Self> {
        let (fixed, mut r) = decode_fixed::<SetExistingSysmemPages>(
            cmd,
            CommandId::Vgpu(VgpuCommand::SetExistingSysmemPages),
        )?;
        let n = fixed.num_pages.get();
        if n > MAX_PFNS_PER_MESSAGE {
            return Err(ProtoError::BadCount);
        }
        let pfns = r.take_counted::<U64>(n)?;
        Ok(SetExistingSysmemPagesMsg { cmd: fixed, pfns })
    }
}

/// LOCK2 (23): maps an IO-space-backed allocation for CPU access. Reply:
/// [`Lock2Reply`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct Lock2 {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// The device.
    pub device: Handle,
    /// The allocation.
    pub allocation: Handle,
    /// Lock flags (reserved, 0).
    pub lock_flags: U32,
    /// Reserved.
    pub reserved: U32,
    /// User output pointer field of the original; always 0 here.
    pub data: U64,
    /// 0.
    pub use_legacy_lock: u8,
    /// Padding.
    pub pad0: [u8; 3],
    /// 0.
    pub flags: U32,
    /// 0.
    pub priv_drv_data: U32,
    /// Padding.
    pub pad1: U32,
}
impl_command!(Lock2, CommandId::Vgpu(VgpuCommand::Lock2), 64);

impl Lock2 {
    /// Locks `allocation` of `device`.
    pub const fn new(process: Handle, device: Handle, allocation: Handle) -> Self {
        Lock2 {
            hdr: CommandHeader::vgpu(VgpuCommand::Lock2, process),
            device,
            allocation,
            lock_flags: U32::new(0),
            reserved: U32::new(0),
            data: U64::new(0),
            use_legacy_lock: 0,
            pad0: [0; 3],
            flags: U32::new(0),
            priv_drv_data: U32::new(0),
            pad1: U32::new(0),
        }
    }
}

/// Reply of LOCK2.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct Lock2Reply {
    /// Status.
    pub status: NtStatus,
    /// Padding.
    pub pad: U32,
    /// Despite the name: the absolute IO-space GPA of the CPU window.
    pub cpu_visible_buffer_offset: U64,
}
const _: () = assert!(core::mem::size_of::<Lock2Reply>() == 16);

impl Lock2Reply {
    /// For a successful reply, checks that the window of `len` bytes (the
    /// allocation size rounded to pages, from trusted guest state) is inside
    /// `io`; returns the GPA. `Err(errno)` for a failure status or a bad
    /// window.
    pub fn validate(&self, io: &IoSpace, len: u64) -> Result<u64, i32> {
        self.status.check()?;
        let gpa = self.cpu_visible_buffer_offset.get();
        io.check_window(gpa, len).map_err(ProtoError::errno)?;
        Ok(gpa)
    }
}

/// UNLOCK2 (24). Reply: NTSTATUS.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct Unlock2 {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// The device.
    pub device: Handle,
    /// The allocation.
    pub allocation: Handle,
    /// 0.
    pub use_legacy_unlock: u8,
    /// Padding.
    pub pad: [u8; 7],
}
impl_command!(Unlock2, CommandId::Vgpu(VgpuCommand::Unlock2), 40);

impl Unlock2 {
    /// Unlocks `allocation` of `device`.
    pub const fn new(process: Handle, device: Handle, allocation: Handle) -> Self {
        Unlock2 {
            hdr: CommandHeader::vgpu(VgpuCommand::Unlock2, process),
            device,
            allocation,
            use_legacy_unlock: 0,
            pad: [0; 7],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::guid::Luid;
    use super::super::status::{STATUS_INVALID_HANDLE, STATUS_SUCCESS};
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn layout() {
        assert_eq!(offset_of!(SetExistingSysmemStore, gpadl), 32);
        assert_eq!(offset_of!(SetExistingSysmemPages, num_pages), 32);
        assert_eq!(
            offset_of!(SetExistingSysmemPages, alloc_offset_in_pages),
            36
        );
        assert_eq!(offset_of!(Lock2, data), 40);
        assert_eq!(offset_of!(Lock2, use_legacy_lock), 48);
        assert_eq!(offset_of!(Lock2, flags), 52);
        assert_eq!(offset_of!(Lock2, priv_drv_data), 56);
        assert_eq!(offset_of!(Lock2Reply, cpu_visible_buffer_offset), 8);
        assert_eq!(offset_of!(Unlock2, use_legacy_unlock), 32);
    }

    #[test]
    fn pages_round_trip() {
        let pfns = [U64::new(0x100), U64::new(0x2ff)];
        let m = SetExistingSysmemPagesMsg::new(
            Handle::new(1),
            Handle::new(2),
            Handle::new(3),
            4,
            &pfns,
        )
        .unwrap();
        let f = Framing::with_ext_header(Luid::new(1, 0));
        let mut buf = [0u8; 128];
        let n = m.encode(&f, &mut buf).unwrap();
        assert_eq!(n, 16 + 40 + 16);
        assert_eq!(n, m.encoded_len(&f).unwrap());
        assert_eq!(SetExistingSysmemPagesMsg::decode(&buf[16..n]), Ok(m));
        assert_eq!(
            SetExistingSysmemPagesMsg::decode(&buf[16..n - 1]),
            Err(ProtoError::Truncated)
        );
        let mut big = buf;
        big[16 + 32..16 + 36].copy_from_slice(&(MAX_PFNS_PER_MESSAGE + 1).to_le_bytes());
        assert_eq!(
            SetExistingSysmemPagesMsg::decode(&big[16..n]),
            Err(ProtoError::BadCount)
        );
        assert_eq!(
            SetExistingSysmemPagesMsg::new(Handle::new(1), Handle::new(2), Handle::new(3), 0, &[]),
            Err(ProtoError::BadCount)
        );
    }

    #[test]
    fn lock_reply() {
        let io = IoSpace::new(0x8000_0000, 0x40_0000).unwrap();
        let r = Lock2Reply {
            status: STATUS_SUCCESS,
            pad: U32::new(0),
            cpu_visible_buffer_offset: U64::new(0x8010_0000),
        };
        assert_eq!(r.validate(&io, 0x2000), Ok(0x8010_0000));
        assert_eq!(
            r.validate(&io, 0x40_0000),
            Err(ProtoError::OutOfRange.errno())
        );
        let f = Lock2Reply {
            status: STATUS_INVALID_HANDLE,
            ..r
        };
        assert_eq!(f.validate(&io, 0x1000), Err(super::super::errno::EBADF));
    }
}
