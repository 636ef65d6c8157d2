// SPDX-License-Identifier: GPL-2.0

//! GPU virtual address management: MAPGPUVIRTUALADDRESS,
//! RESERVEGPUVIRTUALADDRESS, FREEGPUVIRTUALADDRESS, UPDATEGPUVIRTUALADDRESS
//! (dxgkrnl dxgvmbus.c, dxgvmb_send_map_gpu_va(),
//! dxgvmb_send_reserve_gpu_va(), dxgvmb_send_free_gpu_va() and
//! dxgvmb_send_update_gpu_va()).

use zerocopy::little_endian::{U32, U64};
#[cfg(test)]
use zerocopy::IntoBytes;
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::codec::{
    decode_fixed, fixed_arrays_codec, impl_command, u32_from, usize_from, FixedArrays, Trailing,
};
use super::command::{CommandId, VgpuCommand};
use super::error::{ProtoError, ProtoResult};
use super::handle::Handle;
use super::header::{CommandHeader, Framing};
use super::status::NtStatus;

/// GPU VA protection bit 0: writable.
pub const GPUVA_PROTECTION_WRITE: u64 = 1 << 0;
/// GPU VA protection bit 1: executable.
pub const GPUVA_PROTECTION_EXECUTE: u64 = 1 << 1;
/// GPU VA protection bit 2: zero.
pub const GPUVA_PROTECTION_ZERO: u64 = 1 << 2;
/// GPU VA protection bit 3: no access.
pub const GPUVA_PROTECTION_NO_ACCESS: u64 = 1 << 3;

/// MAPGPUVIRTUALADDRESS (17): the 104-byte user block at 24, then the
/// device. Reply: [`MapGpuVaReply`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct MapGpuVirtualAddress {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// Paging queue that performs the update.
    pub paging_queue: Handle,
    /// Padding.
    pub pad0: U32,
    /// Requested VA, or 0 for "anywhere in [minimum, maximum]".
    pub base_address: U64,
    /// Lowest acceptable VA.
    pub minimum_address: U64,
    /// Highest acceptable VA.
    pub maximum_address: U64,
    /// The allocation to map.
    pub allocation: Handle,
    /// Padding.
    pub pad1: U32,
    /// First page of the allocation to map.
    pub offset_in_pages: U64,
    /// Number of pages.
    pub size_in_pages: U64,
    /// `GPUVA_PROTECTION_*` bits.
    pub protection: U64,
    /// Driver protection.
    pub driver_protection: U64,
    /// Reserved.
    pub reserved0: U32,
    /// Padding.
    pub pad2: U32,
    /// Reserved.
    pub reserved1: U64,
    /// Output field of the user block; 0.
    pub virtual_address: U64,
    /// Output field of the user block; 0.
    pub paging_fence_value: U64,
    /// The device.
    pub device: Handle,
    /// Padding.
    pub pad3: U32,
}
impl_command!(
    MapGpuVirtualAddress,
    CommandId::Vgpu(VgpuCommand::MapGpuVirtualAddress),
    136
);

impl MapGpuVirtualAddress {
    /// Maps `size_in_pages` pages of `allocation` from `offset_in_pages`
    /// at `base_address` (or anywhere in `[min, max]` if it is 0).
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        process: Handle,
        device: Handle,
        paging_queue: Handle,
        allocation: Handle,
        base_address: u64,
        min: u64,
        max: u64,
        offset_in_pages: u64,
        size_in_pages: u64,
        protection: u64,
    ) -> Self {
        MapGpuVirtualAddress {
            hdr: CommandHeader::vgpu(VgpuCommand::MapGpuVirtualAddress, process),
            paging_queue,
            pad0: U32::new(0),
            base_address: U64::new(base_address),
            minimum_address: U64::new(min),
            maximum_address: U64::new(max),
            allocation,
            pad1: U32::new(0),
            offset_in_pages: U64::new(offset_in_pages),
            size_in_pages: U64::new(size_in_pages),
            protection: U64::new(protection),
            driver_protection: U64::new(0),
            reserved0: U32::new(0),
            pad2: U32::new(0),
            reserved1: U64::new(0),
            virtual_address: U64::new(0),
            paging_fence_value: U64::new(0),
            device,
            pad3: U32::new(0),
        }
    }
}

/// Reply of MAPGPUVIRTUALADDRESS. `STATUS_PENDING` means the mapping is
/// valid once the paging queue's fence reaches `paging_fence_value`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct MapGpuVaReply {
    /// The mapped VA.
    pub virtual_address: U64,
    /// Paging fence value to wait for when pending.
    pub paging_fence_value: U64,
    /// Status.
    pub status: NtStatus,
    /// Padding.
    pub pad: U32,
}
const _: () = assert!(core::mem::size_of::<MapGpuVaReply>() == 24);

/// Reservation type: no access.
pub const RESERVE_NO_ACCESS: u32 = 0;
/// Reservation type: zero.
pub const RESERVE_ZERO: u32 = 1;
/// Reservation type: no commit.
pub const RESERVE_NO_COMMIT: u32 = 2;

/// RESERVEGPUVIRTUALADDRESS (18). Reply: [`ReserveGpuVaReply`] (no status).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct ReserveGpuVirtualAddress {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// Adapter handle (the host adapter handle).
    pub adapter: Handle,
    /// Padding.
    pub pad0: U32,
    /// Requested base, or 0.
    pub base_address: U64,
    /// Lowest acceptable VA.
    pub minimum_address: U64,
    /// Highest acceptable VA.
    pub maximum_address: U64,
    /// Size in bytes.
    pub size: U64,
    /// `RESERVE_*`.
    pub reservation_type: U32,
    /// Padding.
    pub pad1: U32,
    /// Driver protection.
    pub driver_protection: U64,
    /// Output field; 0.
    pub virtual_address: U64,
    /// Output field; 0.
    pub paging_fence_value: U64,
}
impl_command!(
    ReserveGpuVirtualAddress,
    CommandId::Vgpu(VgpuCommand::ReserveGpuVirtualAddress),
    96
);

impl ReserveGpuVirtualAddress {
    /// Reserves `size` bytes of VA on `adapter`.
    pub const fn new(
        process: Handle,
        adapter: Handle,
        base_address: u64,
        min: u64,
        max: u64,
        size: u64,
        reservation_type: u32,
    ) -> Self {
        ReserveGpuVirtualAddress {
            hdr: CommandHeader::vgpu(VgpuCommand::ReserveGpuVirtualAddress, process),
            adapter,
            pad0: U32::new(0),
            base_address: U64::new(base_address),
            minimum_address: U64::new(min),
            maximum_address: U64::new(max),
            size: U64::new(size),
            reservation_type: U32::new(reservation_type),
            pad1: U32::new(0),
            driver_protection: U64::new(0),
            virtual_address: U64::new(0),
            paging_fence_value: U64::new(0),
        }
    }
}

/// Reply of RESERVEGPUVIRTUALADDRESS (raw, no status; VA 0 = failure).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct ReserveGpuVaReply {
    /// The reserved VA.
    pub virtual_address: U64,
    /// Paging fence value.
    pub paging_fence_value: U64,
}
const _: () = assert!(core::mem::size_of::<ReserveGpuVaReply>() == 16);

/// FREEGPUVIRTUALADDRESS (16). Reply: NTSTATUS.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct FreeGpuVirtualAddress {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// Adapter handle.
    pub adapter: Handle,
    /// Reserved.
    pub reserved: U32,
    /// Base VA.
    pub base_address: U64,
    /// Size in bytes.
    pub size: U64,
}
impl_command!(
    FreeGpuVirtualAddress,
    CommandId::Vgpu(VgpuCommand::FreeGpuVirtualAddress),
    48
);

impl FreeGpuVirtualAddress {
    /// Frees `[base_address, base_address + size)` on `adapter`.
    pub const fn new(process: Handle, adapter: Handle, base_address: u64, size: u64) -> Self {
        FreeGpuVirtualAddress {
            hdr: CommandHeader::vgpu(VgpuCommand::FreeGpuVirtualAddress, process),
            adapter,
            reserved: U32::new(0),
            base_address: U64::new(base_address),
            size: U64::new(size),
        }
    }
}

/// Update operation: map.
pub const UPDATE_OP_MAP: u32 = 0;
/// Update operation: unmap.
pub const UPDATE_OP_UNMAP: u32 = 1;
/// Update operation: copy.
pub const UPDATE_OP_COPY: u32 = 2;
/// Update operation: map with protection.
pub const UPDATE_OP_MAP_PROTECT: u32 = 3;

/// One 64-byte UPDATEGPUVIRTUALADDRESS operation: the type, then a 56-byte
/// union. Map: base, size, allocation (u32 + pad), allocation offset,
/// allocation size, [protection, driver protection]. Unmap: base, size,
/// protection. Copy: source, size, destination.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
#[repr(C)]
pub struct UpdateGpuVaOperation {
    /// `UPDATE_OP_*`.
    pub operation: U32,
    /// Padding.
    pub pad: U32,
    /// The union, as seven u64 words.
    pub args: [U64; 7],
}
const _: () = assert!(core::mem::size_of::<UpdateGpuVaOperation>() == 64);

impl UpdateGpuVaOperation {
    const fn with(op: u32, a: [u64; 7]) -> Self {
        UpdateGpuVaOperation {
            operation: U32::new(op),
            pad: U32::new(0),
            args: [
                U64::new(a[0]),
                U64::new(a[1]),
                U64::new(a[2]),
                U64::new(a[3]),
                U64::new(a[4]),
                U64::new(a[5]),
                U64::new(a[6]),
            ],
        }
    }

    /// Map `size` bytes at `base` to `allocation` from `alloc_offset`.
    pub const fn map(
        base: u64,
        size: u64,
        allocation: Handle,
        alloc_offset: u64,
        alloc_size: u64,
    ) -> Self {
        let h = allocation.value() as u64;
        UpdateGpuVaOperation::with(
            UPDATE_OP_MAP,
            [base, size, h, alloc_offset, alloc_size, 0, 0],
        )
    }

    /// Map with explicit protection.
    pub const fn map_protect(
        base: u64,
        size: u64,
        allocation: Handle,
        alloc_offset: u64,
        alloc_size: u64,
        protection: u64,
        driver_protection: u64,
    ) -> Self {
        let h = allocation.value() as u64;
        UpdateGpuVaOperation::with(
            UPDATE_OP_MAP_PROTECT,
            [
                base,
                size,
                h,
                alloc_offset,
                alloc_size,
                protection,
                driver_protection,
            ],
        )
    }

    /// Unmap `size` bytes at `base`, leaving `protection`.
    pub const fn unmap(base: u64, size: u64, protection: u64) -> Self {
        UpdateGpuVaOperation::with(UPDATE_OP_UNMAP, [base, size, protection, 0, 0, 0, 0])
    }

    /// Copy page-table entries.
    pub const fn copy(source: u64, size: u64, dest: u64) -> Self {
        UpdateGpuVaOperation::with(UPDATE_OP_COPY, [source, size, dest, 0, 0, 0, 0])
    }
}

/// UPDATEGPUVIRTUALADDRESS flag bit 0: do not wait.
pub const UPDATE_FLAG_DO_NOT_WAIT: u32 = 1 << 0;

/// Fixed part of UPDATEGPUVIRTUALADDRESS (19); `num_operations` operations
/// follow. Reply: NTSTATUS.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct UpdateGpuVirtualAddress {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// Fence value to signal on `fence_object`.
    pub fence_value: U64,
    /// The device.
    pub device: Handle,
    /// The context.
    pub context: Handle,
    /// Fence object.
    pub fence_object: Handle,
    /// Number of operations, >= 1.
    pub num_operations: U32,
    /// `UPDATE_FLAG_*` bits.
    pub flags: U32,
    /// Padding.
    pub pad: U32,
}
const _: () = assert!(core::mem::size_of::<UpdateGpuVirtualAddress>() == 56);

/// Maximum operations in one message: (128 KiB) / 64, as the original.
pub const MAX_UPDATE_OPERATIONS: usize = super::consts::MAX_MESSAGE_SIZE / 64;

/// An UPDATEGPUVIRTUALADDRESS request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateGpuVaMsg<'a> {
    /// The fixed part; `num_operations` equals `ops.len()`.
    pub cmd: UpdateGpuVirtualAddress,
    /// The operations.
    pub ops: &'a [UpdateGpuVaOperation],
}

impl<'a> UpdateGpuVaMsg<'a> {
    /// Applies `ops` on `device`/`context`, signalling `fence_object` with
    /// `fence_value`.
    pub fn new(
        process: Handle,
        device: Handle,
        context: Handle,
        fence_object: Handle,
        fence_value: u64,
        flags: u32,
        ops: &'a [UpdateGpuVaOperation],
    ) -> ProtoResult<Self> {
        if ops.is_empty() || ops.len() > MAX_UPDATE_OPERATIONS {
            return Err(ProtoError::BadCount);
        }
        Ok(UpdateGpuVaMsg {
            cmd: UpdateGpuVirtualAddress {
                hdr: CommandHeader::vgpu(VgpuCommand::UpdateGpuVirtualAddress, process),
                fence_value: U64::new(fence_value),
                device,
                context,
                fence_object,
                num_operations: U32::new(u32_from(ops.len())?),
                flags: U32::new(flags),
                pad: U32::new(0),
            },
            ops,
        })
    }

    /// The wire form: 56 + 64n bytes plus the extension header.
    fn wire(&self) -> FixedArrays<'_, UpdateGpuVirtualAddress, 1> {
        FixedArrays::one(
            CommandId::Vgpu(VgpuCommand::UpdateGpuVirtualAddress),
            &self.cmd,
            Trailing::counted(self.cmd.num_operations.get(), self.ops),
            0,
        )
    }

    fixed_arrays_codec!();

    /// Decodes the command bytes (host side).
    pub fn decode(cmd: &'a [u8]) -> ProtoResult<Self> {
        let (fixed, mut r) = decode_fixed::<UpdateGpuVirtualAddress>(
            cmd,
            CommandId::Vgpu(VgpuCommand::UpdateGpuVirtualAddress),
        )?;
        let n = usize_from(fixed.num_operations.get())?;
        if n == 0 || n > MAX_UPDATE_OPERATIONS {
            return Err(ProtoError::BadCount);
        }
        let ops = r.take_slice::<UpdateGpuVaOperation>(n)?;
        Ok(UpdateGpuVaMsg { cmd: fixed, ops })
    }
}

#[cfg(test)]
mod tests {
    use super::super::guid::Luid;
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn layout() {
        type M = MapGpuVirtualAddress;
        assert_eq!(offset_of!(M, paging_queue), 24);
        assert_eq!(offset_of!(M, base_address), 32);
        assert_eq!(offset_of!(M, minimum_address), 40);
        assert_eq!(offset_of!(M, maximum_address), 48);
        assert_eq!(offset_of!(M, allocation), 56);
        assert_eq!(offset_of!(M, offset_in_pages), 64);
        assert_eq!(offset_of!(M, size_in_pages), 72);
        assert_eq!(offset_of!(M, protection), 80);
        assert_eq!(offset_of!(M, driver_protection), 88);
        assert_eq!(offset_of!(M, reserved0), 96);
        assert_eq!(offset_of!(M, reserved1), 104);
        assert_eq!(offset_of!(M, virtual_address), 112);
        assert_eq!(offset_of!(M, paging_fence_value), 120);
        assert_eq!(offset_of!(M, device), 128);
        assert_eq!(offset_of!(MapGpuVaReply, status), 16);
        type R = ReserveGpuVirtualAddress;
        assert_eq!(offset_of!(R, adapter), 24);
        assert_eq!(offset_of!(R, size), 56);
        assert_eq!(offset_of!(R, reservation_type), 64);
        assert_eq!(offset_of!(R, driver_protection), 72);
        assert_eq!(offset_of!(R, virtual_address), 80);
        assert_eq!(offset_of!(R, paging_fence_value), 88);
        assert_eq!(offset_of!(FreeGpuVirtualAddress, base_address), 32);
        assert_eq!(offset_of!(FreeGpuVirtualAddress, size), 40);
        type U = UpdateGpuVirtualAddress;
        assert_eq!(offset_of!(U, fence_value), 24);
        assert_eq!(offset_of!(U, device), 32);
        assert_eq!(offset_of!(U, context), 36);
        assert_eq!(offset_of!(U, fence_object), 40);
        assert_eq!(offset_of!(U, num_operations), 44);
        assert_eq!(offset_of!(U, flags), 48);
        let op = UpdateGpuVaOperation::map(0x1000, 0x2000, Handle::new(7), 0, 0x2000);
        assert_eq!(&op.as_bytes()[24..32], &[7, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn update_round_trip() {
        let ops = [
            UpdateGpuVaOperation::map(0x1000, 0x2000, Handle::new(7), 0, 0x2000),
            UpdateGpuVaOperation::unmap(0x8000, 0x1000, 0),
            UpdateGpuVaOperation::copy(1, 2, 3),
        ];
        let m = UpdateGpuVaMsg::new(
            Handle::new(1),
            Handle::new(2),
            Handle::new(3),
            Handle::new(4),
            9,
            0,
            &ops,
        )
        .unwrap();
        let f = Framing::with_ext_header(Luid::new(1, 0));
        let mut buf = [0u8; 512];
        let n = m.encode(&f, &mut buf).unwrap();
        assert_eq!(n, 16 + 56 + 192);
        assert_eq!(n, m.encoded_len(&f).unwrap());
        assert_eq!(UpdateGpuVaMsg::decode(&buf[16..n]), Ok(m));
        assert_eq!(
            UpdateGpuVaMsg::decode(&buf[16..n - 1]),
            Err(ProtoError::Truncated)
        );
        let mut zero = buf;
        zero[16 + 44..16 + 48].fill(0);
        assert_eq!(
            UpdateGpuVaMsg::decode(&zero[16..n]),
            Err(ProtoError::BadCount)
        );
    }
}
