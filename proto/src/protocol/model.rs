// SPDX-License-Identifier: GPL-2.0

//! Conventions of the software host (`tests/dxg-host`) that the Hyper-V
//! protocol leaves to the vendor drivers: the contents of private driver
//! data blobs, the adapter-information queries it answers, and what its
//! ESCAPE does. A real host's kernel-mode driver defines these; guest test
//! programs that talk to the software host use this module.
//!
//! * Allocation size: the first 8 bytes of an allocation's private driver
//!   data are a [`ModelAllocPriv`] (little-endian byte size, rounded up to
//!   4 KiB by the host). The standard-allocation descriptor in the
//!   resource-level private data is honoured as well. The host echoes each
//!   allocation's private data unchanged in the CREATEALLOCATION reply.
//! * QUERYADAPTERINFO type [`QAI_UMDRIVERPRIVATE`] returns a
//!   [`ModelUmdPrivate`].
//! * ESCAPE returns the private data with every byte XORed with
//!   [`ESCAPE_XOR`].

use zerocopy::little_endian::{U32, U64};
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::guid::Luid;

/// Per-allocation private driver data understood by the software host
/// (a prefix; more bytes may follow and are echoed).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct ModelAllocPriv {
    /// Requested allocation size in bytes (non-zero).
    pub size: U64,
}

const _: () = assert!(core::mem::size_of::<ModelAllocPriv>() == 8);

/// The standard-allocation descriptor sent as resource-level private data
/// when the `standard_allocation` flag is set (struct
/// d3dkmt_createstandardallocation in dxgkrnl d3dkmthk.h, copied into
/// CREATEALLOCATION by copy_private_data() in dxgvmbus.c).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct StandardAllocDesc {
    /// 1 EXISTINGHEAP, 2 CROSSADAPTER.
    pub kind: U32,
    /// Zero.
    pub reserved: U32,
    /// Size in bytes, a multiple of the page size.
    pub size: U64,
    /// Flags.
    pub flags: U32,
    /// Zero.
    pub reserved1: U32,
}

const _: () = assert!(core::mem::size_of::<StandardAllocDesc>() == 24);

/// QUERYADAPTERINFO: opaque user-mode driver blob ([`ModelUmdPrivate`]).
pub const QAI_UMDRIVERPRIVATE: u32 = 0;
/// QUERYADAPTERINFO: user-mode driver file name: u32 version (0) then 260
/// UTF-16 units, NUL terminated (524 bytes).
pub const QAI_UMDRIVERNAME: u32 = 1;
/// QUERYADAPTERINFO: segment sizes: dedicated video memory, dedicated
/// system memory, shared system memory (3 x u64).
pub const QAI_GETSEGMENTSIZE: u32 = 3;
/// QUERYADAPTERINFO: WDDM driver version (u32).
pub const QAI_DRIVERVERSION: u32 = 13;
/// QUERYADAPTERINFO: adapter-type word (u32).
pub const QAI_ADAPTERTYPE: u32 = 15;
/// QUERYADAPTERINFO: number of physical adapters (u32).
pub const QAI_PHYSICALADAPTERCOUNT: u32 = 30;
/// QUERYADAPTERINFO: segment group sizes: local, non-local (2 x u64).
pub const QAI_GETSEGMENTGROUPSIZE: u32 = 42;
/// QUERYADAPTERINFO: adapter-type word of the render adapter (u32).
pub const QAI_ADAPTERTYPE_RENDER: u32 = 57;

/// Size of the [`QAI_UMDRIVERNAME`] reply.
pub const UMDRIVERNAME_SIZE: usize = 4 + 2 * 260;
/// The WDDM driver version the software host reports (WDDM 3.0).
pub const MODEL_DRIVER_VERSION: u32 = 3000;

/// Magic of [`ModelUmdPrivate`].
pub const UMD_PRIVATE_MAGIC: [u8; 8] = *b"DXGHOST\0";
/// Version of [`ModelUmdPrivate`].
pub const UMD_PRIVATE_VERSION: u32 = 1;
/// [`ModelUmdPrivate::flags`]: the adapter is compute-only.
pub const UMD_FLAG_COMPUTE_ONLY: u32 = 1 << 0;

/// The software host's user-mode driver blob ([`QAI_UMDRIVERPRIVATE`]).
/// A query with a smaller buffer gets the prefix that fits.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct ModelUmdPrivate {
    /// [`UMD_PRIVATE_MAGIC`].
    pub magic: [u8; 8],
    /// [`UMD_PRIVATE_VERSION`].
    pub version: U32,
    /// Index of the adapter in the host's configuration.
    pub adapter_index: U32,
    /// `UMD_FLAG_*`.
    pub flags: U32,
    /// Number of memory segments (2: local, non-local).
    pub segment_count: U32,
    /// Local (video) memory segment size in bytes.
    pub local_segment_size: U64,
    /// Non-local (system) memory segment size in bytes.
    pub nonlocal_segment_size: U64,
    /// Host adapter LUID.
    pub adapter_luid: Luid,
    /// vGPU LUID.
    pub vgpu_luid: Luid,
    /// Adapter name, UTF-8, NUL padded.
    pub name: [u8; 64],
}

const _: () = assert!(core::mem::size_of::<ModelUmdPrivate>() == 120);

/// The byte every ESCAPE private-data byte is XORed with.
pub const ESCAPE_XOR: u8 = 0xff;

/// Applies the software host's ESCAPE transformation to `data` in place.
pub fn escape_transform(data: &mut [u8]) {
    for b in data.iter_mut() {
        *b ^= ESCAPE_XOR;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn layout() {
        assert_eq!(offset_of!(ModelUmdPrivate, local_segment_size), 24);
        assert_eq!(offset_of!(ModelUmdPrivate, adapter_luid), 40);
        assert_eq!(offset_of!(ModelUmdPrivate, name), 56);
        assert_eq!(offset_of!(StandardAllocDesc, size), 8);
        let mut d = [1u8, 0xff, 0x0f];
        escape_transform(&mut d);
        assert_eq!(d, [0xfe, 0, 0xf0]);
    }
}
