// SPDX-License-Identifier: GPL-2.0

//! Allocations: CREATEALLOCATION and DESTROYALLOCATION (dxgkrnl dxgvmbus.c,
//! dxgvmb_send_create_allocation() and dxgvmb_send_destroy_allocation()).
//! Backing allocations with guest memory and CPU access are in
//! [`super::backing`].

use zerocopy::little_endian::{U32, U64};
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::codec::{
    decode_fixed, fixed_arrays_codec, u32_from, usize_from, FixedArrays, Reader, Trailing, Writer,
};
use super::command::{CommandId, VgpuCommand};
use super::consts::MAX_CREATE_ALLOCATIONS;
use super::error::{ProtoError, ProtoResult};
use super::handle::Handle;
use super::header::{CommandHeader, Framing};
use super::privdata::{total_priv_size, PrivIter, PrivSized};
use super::validate::check_capacity;

/// CREATEALLOCATION flag bit 0: create a resource.
pub const CREATE_ALLOC_FLAG_CREATE_RESOURCE: u32 = 1 << 0;
/// CREATEALLOCATION flag bit 1: create shared.
pub const CREATE_ALLOC_FLAG_CREATE_SHARED: u32 = 1 << 1;
/// CREATEALLOCATION flag bit 5: the allocations are backed by existing
/// guest system memory (`existing_sysmem` of struct
/// d3dkmt_createallocationflags in dxgkrnl d3dkmthk.h; set by
/// copy_private_data() in dxgvmbus.c).
pub const CREATE_ALLOC_FLAG_EXISTING_SYSMEM: u32 = 1 << 5;
/// CREATEALLOCATION flag bit 6: NT security sharing.
pub const CREATE_ALLOC_FLAG_NT_SECURITY_SHARING: u32 = 1 << 6;
/// CREATEALLOCATION flag bit 7: read only.
pub const CREATE_ALLOC_FLAG_READ_ONLY: u32 = 1 << 7;
/// CREATEALLOCATION flag bit 8: write combined.
pub const CREATE_ALLOC_FLAG_WRITE_COMBINED: u32 = 1 << 8;
/// CREATEALLOCATION flag bit 9: cached.
pub const CREATE_ALLOC_FLAG_CACHED: u32 = 1 << 9;
/// CREATEALLOCATION flag bit 16: standard allocation.
pub const CREATE_ALLOC_FLAG_STANDARD_ALLOCATION: u32 = 1 << 16;

/// Reply allocation flag bit 11: existing sysmem.
pub const ALLOC_REPLY_FLAG_EXISTING_SYSMEM: u32 = 1 << 11;
/// Reply allocation flag bit 19: map CPU views cached (else write-combined).
pub const ALLOC_REPLY_FLAG_CACHED: u32 = 1 << 19;

/// Fixed part of CREATEALLOCATION (4). Followed by `alloc_count`
/// [`AllocInfo`] entries, the runtime private data, the resource private
/// data and every allocation's private data. Reply: [`CreateAllocationReply`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct CreateAllocation {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// The device.
    pub device: Handle,
    /// Existing resource to add allocations to, or 0.
    pub resource: Handle,
    /// Size of the runtime private data.
    pub private_runtime_data_size: U32,
    /// Size of the resource-level driver private data.
    pub priv_drv_data_size: U32,
    /// Number of allocations, 1..=1024.
    pub alloc_count: U32,
    /// `CREATE_ALLOC_FLAG_*` bits.
    pub flags: U32,
    /// Opaque runtime cookie.
    pub private_runtime_resource_handle: U64,
    /// 0.
    pub make_resident: u8,
    /// Padding.
    pub pad: [u8; 7],
}
const _: () = assert!(core::mem::size_of::<CreateAllocation>() == 64);

/// One allocation of a CREATEALLOCATION request.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct AllocInfo {
    /// Bit 0 primary, 1 stereo, 2 override priority.
    pub flags: U32,
    /// Size of this allocation's private data (also the capacity for the
    /// private data the host returns).
    pub priv_drv_data_size: U32,
    /// VidPN source id.
    pub vidpn_source_id: U32,
}
const _: () = assert!(core::mem::size_of::<AllocInfo>() == 12);

impl PrivSized for AllocInfo {
    fn priv_size(&self) -> u32 {
        self.priv_drv_data_size.get()
    }
}

/// A CREATEALLOCATION request: fixed part and its trailing arrays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateAllocationMsg<'a> {
    /// The fixed part; its counts and sizes match the slices.
    pub cmd: CreateAllocation,
    /// One entry per allocation.
    pub infos: &'a [AllocInfo],
    /// Runtime private data.
    pub runtime_data: &'a [u8],
    /// Resource-level driver private data.
    pub resource_priv: &'a [u8],
    /// All allocations' private data, concatenated in order.
    pub alloc_priv: &'a [u8],
}

impl<'a> CreateAllocationMsg<'a> {
    /// A request creating `infos.len()` allocations on `device`; counts and
    /// sizes of the fixed part are taken from the slices.
    pub fn new(
        process: Handle,
        device: Handle,
        flags: u32,
        infos: &'a [AllocInfo],
        resource_priv: &'a [u8],
        alloc_priv: &'a [u8],
    ) -> ProtoResult<Self> {
        let m = CreateAllocationMsg {
            cmd: CreateAllocation {
                hdr: CommandHeader::vgpu(VgpuCommand::CreateAllocation, process),
                device,
                resource: Handle::NULL,
                private_runtime_data_size: U32::new(0),
                priv_drv_data_size: U32::new(u32_from(resource_priv.len())?),
                alloc_count: U32::new(u32_from(infos.len())?),
                flags: U32::new(flags),
                private_runtime_resource_handle: U64::new(0),
                make_resident: 0,
                pad: [0; 7],
            },
            infos,
            runtime_data: &[],
            resource_priv,
            alloc_priv,
        };
        m.check()?;
        Ok(m)
    }

    fn check(&self) -> ProtoResult<()> {
        let c = &self.cmd;
        let count = c.alloc_count.get();
        if count == 0 || count > MAX_CREATE_ALLOCATIONS {
            return Err(ProtoError::BadCount);
        }
        if usize_from(count)? != self.infos.len()
            || usize_from(c.private_runtime_data_size.get())? != self.runtime_data.len()
            || usize_from(c.priv_drv_data_size.get())? != self.resource_priv.len()
            || total_priv_size(self.infos)? != self.alloc_priv.len()
        {
            return Err(ProtoError::InvalidArgument);
        }
        Ok(())
    }

    fn wire(&self) -> FixedArrays<'_, CreateAllocation, 4> {
        FixedArrays {
            id: CommandId::Vgpu(VgpuCommand::CreateAllocation),
            cmd: &self.cmd,
            arrays: [
                Trailing::unchecked(self.infos),
                Trailing::unchecked(self.runtime_data),
                Trailing::unchecked(self.resource_priv),
                Trailing::unchecked(self.alloc_priv),
            ],
            slack: 0,
        }
    }

    fixed_arrays_codec!(check = Self::check);

    /// Decodes the command bytes (host side), checking counts and that the
    /// private data fits the message.
    pub fn decode(cmd: &'a [u8]) -> ProtoResult<Self> {
        let (fixed, mut r) =
            decode_fixed::<CreateAllocation>(cmd, CommandId::Vgpu(VgpuCommand::CreateAllocation))?;
        let count = fixed.alloc_count.get();
        if count == 0 || count > MAX_CREATE_ALLOCATIONS {
            return Err(ProtoError::BadCount);
        }
        let infos = r.take_counted::<AllocInfo>(count)?;
        let runtime_data = r.take_counted::<u8>(fixed.private_runtime_data_size.get())?;
        let resource_priv = r.take_counted::<u8>(fixed.priv_drv_data_size.get())?;
        let alloc_priv = r.take_bytes(total_priv_size(infos)?)?;
        Ok(CreateAllocationMsg {
            cmd: fixed,
            infos,
            runtime_data,
            resource_priv,
            alloc_priv,
        })
    }

    /// Each allocation with its private data.
    pub fn iter(&self) -> PrivIter<'a, AllocInfo> {
        PrivIter::new(self.infos, self.alloc_priv)
    }
}

/// Header of the CREATEALLOCATION reply.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct CreateAllocationReplyHeader {
    /// 0.
    pub flags: U32,
    /// The resource handle (when one was created).
    pub resource: Handle,
    /// Global share handle (shared resources).
    pub global_share: Handle,
    /// vGPU flags.
    pub vgpu_flags: U32,
}
const _: () = assert!(core::mem::size_of::<CreateAllocationReplyHeader>() == 16);

/// "Describe allocation" data of a reply record.
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
pub struct DescribeAllocation {
    /// Allocation cookie.
    pub allocation: U64,
    /// Width.
    pub width: U32,
    /// Height.
    pub height: U32,
    /// Format.
    pub format: U32,
    /// Multisample method.
    pub multisample_method: U32,
    /// Refresh rate numerator.
    pub refresh_rate_numerator: U32,
    /// Refresh rate denominator.
    pub refresh_rate_denominator: U32,
    /// Private driver attribute.
    pub private_driver_attribute: U32,
    /// Flags.
    pub flags: U32,
    /// Rotation.
    pub rotation: U32,
    /// Padding.
    pub pad: U32,
}
const _: () = assert!(core::mem::size_of::<DescribeAllocation>() == 48);

/// One allocation of the CREATEALLOCATION reply.
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
pub struct AllocationInfoReply {
    /// The allocation handle.
    pub allocation: Handle,
    /// Size of this allocation's returned private data.
    pub priv_drv_data_size: U32,
    /// `ALLOC_REPLY_FLAG_*` bits.
    pub allocation_flags: U32,
    /// Padding.
    pub pad: U32,
    /// Bytes the host allocated: drives pinning and CPU-mapping size.
    pub allocation_size: U64,
    /// Describe-allocation data.
    pub driver_info: DescribeAllocation,
}
const _: () = assert!(core::mem::size_of::<AllocationInfoReply>() == 72);

impl PrivSized for AllocationInfoReply {
    fn priv_size(&self) -> u32 {
        self.priv_drv_data_size.get()
    }
}

impl AllocationInfoReply {
    /// True if CPU views must be mapped cached.
    pub const fn cached(&self) -> bool {
        self.allocation_flags.get() & ALLOC_REPLY_FLAG_CACHED != 0
    }
}

/// A decoded CREATEALLOCATION reply (no status: failure is signalled by
/// zero handles or a short reply).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateAllocationReply<'a> {
    /// The reply header.
    pub header: CreateAllocationReplyHeader,
    /// One record per requested allocation.
    pub records: &'a [AllocationInfoReply],
    /// The returned private data, concatenated in allocation order.
    pub priv_data: &'a [u8],
}

impl<'a> CreateAllocationReply<'a> {
    /// Reply length the guest should be prepared to receive for a request
    /// with `infos`: 16 + 72 * count + the private-data capacities.
    pub fn max_len(infos: &[AllocInfo]) -> ProtoResult<usize> {
        super::codec::array_len(
            core::mem::size_of::<CreateAllocationReplyHeader>(),
            infos.len(),
            core::mem::size_of::<AllocationInfoReply>(),
        )?
        .checked_add(total_priv_size(infos)?)
        .ok_or(ProtoError::Overflow)
    }

    /// Decodes and validates a reply to a request with `infos` (guest
    /// side): one record per allocation, non-zero handles, each returned
    /// private-data size within what the request offered, all private data
    /// inside the payload. `allocation_size` is left to the caller
    /// ([`super::validate::check_sysmem_size`] for sysmem allocations).
    pub fn decode(payload: &'a [u8], infos: &[AllocInfo]) -> ProtoResult<Self> {
        let mut r = Reader::new(payload);
        let header = *r.take::<CreateAllocationReplyHeader>()?;
        let records = r.take_slice::<AllocationInfoReply>(infos.len())?;
        for (rec, info) in records.iter().zip(infos) {
            rec.allocation.non_null()?;
            check_capacity(rec.priv_size(), info.priv_size())?;
        }
        let priv_data = r.take_bytes(total_priv_size(records)?)?;
        Ok(CreateAllocationReply {
            header,
            records,
            priv_data,
        })
    }

    /// Encodes a reply (host side); `priv_data` must be the concatenation of
    /// the records' private data.
    pub fn encode(&self, buf: &mut [u8]) -> ProtoResult<usize> {
        if total_priv_size(self.records)? != self.priv_data.len() {
            return Err(ProtoError::InvalidArgument);
        }
        let mut w = Writer::new(buf);
        w.put(&self.header)?;
        w.put(self.records)?;
        w.put_bytes(self.priv_data)?;
        w.finish()
    }

    /// Each record with its private data.
    pub fn iter(&self) -> PrivIter<'a, AllocationInfoReply> {
        PrivIter::new(self.records, self.priv_data)
    }
}

/// DESTROYALLOCATION flag bit 0: assume not in use.
pub const DESTROY_ALLOC_FLAG_ASSUME_NOT_IN_USE: u32 = 1 << 0;
/// DESTROYALLOCATION flag bit 1: synchronous destroy.
pub const DESTROY_ALLOC_FLAG_SYNCHRONOUS: u32 = 1 << 1;

/// Fixed part of DESTROYALLOCATION (5); `alloc_count` handles follow.
/// Reply: NTSTATUS.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct DestroyAllocation {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// The device.
    pub device: Handle,
    /// Resource to destroy with all its allocations, or 0.
    pub resource: Handle,
    /// Number of handles that follow (0 when destroying a resource).
    pub alloc_count: U32,
    /// `DESTROY_ALLOC_FLAG_*` bits.
    pub flags: U32,
}
const _: () = assert!(core::mem::size_of::<DestroyAllocation>() == 40);

/// Slack bytes the original sends after the handles (48 + 4n total).
pub const DESTROY_ALLOCATION_SLACK: usize = 8;

/// A DESTROYALLOCATION request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DestroyAllocationMsg<'a> {
    /// The fixed part; `alloc_count` equals `allocations.len()`.
    pub cmd: DestroyAllocation,
    /// The allocation handles.
    pub allocations: &'a [Handle],
}

impl<'a> DestroyAllocationMsg<'a> {
    /// Destroys `allocations` (and/or `resource`) of `device`.
    pub fn new(
        process: Handle,
        device: Handle,
        resource: Handle,
        flags: u32,
        allocations: &'a [Handle],
    ) -> ProtoResult<Self> {
        if allocations.len() > MAX_CREATE_ALLOCATIONS as usize {
            return Err(ProtoError::TooLarge);
        }
        Ok(DestroyAllocationMsg {
            cmd: DestroyAllocation {
                hdr: CommandHeader::vgpu(VgpuCommand::DestroyAllocation, process),
                device,
                resource,
                alloc_count: U32::new(u32_from(allocations.len())?),
                flags: U32::new(flags),
            },
            allocations,
        })
    }

    /// The wire form: 48 + 4n bytes plus the extension header.
    fn wire(&self) -> FixedArrays<'_, DestroyAllocation, 1> {
        FixedArrays::one(
            CommandId::Vgpu(VgpuCommand::DestroyAllocation),
            &self.cmd,
            Trailing::counted(self.cmd.alloc_count.get(), self.allocations),
            DESTROY_ALLOCATION_SLACK,
        )
    }

    fixed_arrays_codec!();

    /// Decodes the command bytes (host side).
    pub fn decode(cmd: &'a [u8]) -> ProtoResult<Self> {
        let (fixed, mut r) = decode_fixed::<DestroyAllocation>(
            cmd,
            CommandId::Vgpu(VgpuCommand::DestroyAllocation),
        )?;
        let allocations = r.take_counted::<Handle>(fixed.alloc_count.get())?;
        Ok(DestroyAllocationMsg {
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
        assert_eq!(offset_of!(CreateAllocation, device), 24);
        assert_eq!(offset_of!(CreateAllocation, private_runtime_data_size), 32);
        assert_eq!(offset_of!(CreateAllocation, alloc_count), 40);
        assert_eq!(offset_of!(CreateAllocation, flags), 44);
        assert_eq!(
            offset_of!(CreateAllocation, private_runtime_resource_handle),
            48
        );
        assert_eq!(offset_of!(CreateAllocation, make_resident), 56);
        assert_eq!(offset_of!(AllocationInfoReply, allocation_flags), 8);
        assert_eq!(offset_of!(AllocationInfoReply, allocation_size), 16);
        assert_eq!(offset_of!(AllocationInfoReply, driver_info), 24);
        assert_eq!(offset_of!(DestroyAllocation, alloc_count), 32);
        assert_eq!(offset_of!(DestroyAllocation, flags), 36);
    }

    fn info(size: u32) -> AllocInfo {
        AllocInfo {
            flags: U32::new(0),
            priv_drv_data_size: U32::new(size),
            vidpn_source_id: U32::new(0),
        }
    }

    #[test]
    fn create_round_trip() {
        let infos = [info(3), info(0), info(2)];
        let m = CreateAllocationMsg::new(
            Handle::new(1),
            Handle::new(2),
            CREATE_ALLOC_FLAG_EXISTING_SYSMEM,
            &infos,
            b"res",
            b"aaabb",
        )
        .unwrap();
        let f = Framing::with_ext_header(Luid::new(1, 0));
        let mut buf = [0u8; 256];
        let n = m.encode(&f, &mut buf).unwrap();
        assert_eq!(n, m.encoded_len(&f).unwrap());
        assert_eq!(n, 16 + 64 + 36 + 3 + 5);
        let d = CreateAllocationMsg::decode(&buf[16..n]).unwrap();
        assert_eq!(d, m);
        let parts: std::vec::Vec<&[u8]> = d.iter().map(|(_, p)| p).collect();
        assert_eq!(parts, [&b"aaa"[..], &b""[..], &b"bb"[..]]);
        assert_eq!(
            CreateAllocationMsg::decode(&buf[16..n - 1]),
            Err(ProtoError::Truncated)
        );
        assert_eq!(
            CreateAllocationMsg::new(Handle::new(1), Handle::new(2), 0, &infos, b"", b"aaab"),
            Err(ProtoError::InvalidArgument)
        );
        assert_eq!(
            CreateAllocationMsg::new(Handle::new(1), Handle::new(2), 0, &[], b"", b""),
            Err(ProtoError::BadCount)
        );
    }

    #[test]
    fn create_reply() {
        let infos = [info(4), info(4)];
        let mut recs = [AllocationInfoReply::default(); 2];
        recs[0].allocation = Handle::new(0x40);
        recs[0].priv_drv_data_size = U32::new(4);
        recs[0].allocation_size = U64::new(0x2000);
        recs[0].allocation_flags = U32::new(ALLOC_REPLY_FLAG_CACHED);
        recs[1].allocation = Handle::new(0x80);
        recs[1].priv_drv_data_size = U32::new(1);
        let r = CreateAllocationReply {
            header: CreateAllocationReplyHeader {
                flags: U32::new(0),
                resource: Handle::NULL,
                global_share: Handle::NULL,
                vgpu_flags: U32::new(0),
            },
            records: &recs,
            priv_data: b"wxyzq",
        };
        let mut buf = [0u8; 256];
        let n = r.encode(&mut buf).unwrap();
        assert_eq!(n, 16 + 144 + 5);
        assert!(n <= CreateAllocationReply::max_len(&infos).unwrap());
        let d = CreateAllocationReply::decode(&buf[..n], &infos).unwrap();
        assert_eq!(d, r);
        assert!(d.records[0].cached());
        let parts: std::vec::Vec<&[u8]> = d.iter().map(|(_, p)| p).collect();
        assert_eq!(parts, [&b"wxyz"[..], &b"q"[..]]);
        // Host returns more private data than offered.
        assert_eq!(
            CreateAllocationReply::decode(&buf[..n], &[info(4), info(0)]),
            Err(ProtoError::BadLength)
        );
        // Fewer records than requested.
        assert_eq!(
            CreateAllocationReply::decode(&buf[..16 + 72], &infos),
            Err(ProtoError::Truncated)
        );
        // Zero handle.
        let mut bad = buf;
        bad[16 + 72..16 + 76].fill(0);
        assert_eq!(
            CreateAllocationReply::decode(&bad[..n], &infos),
            Err(ProtoError::BadHandle)
        );
    }

    #[test]
    fn destroy_round_trip() {
        let h = [Handle::new(1), Handle::new(2)];
        let m =
            DestroyAllocationMsg::new(Handle::new(1), Handle::new(2), Handle::NULL, 1, &h).unwrap();
        let f = Framing::without_ext_header();
        let mut buf = [0u8; 64];
        let n = m.encode(&f, &mut buf).unwrap();
        assert_eq!(n, 48 + 8);
        assert_eq!(n, m.encoded_len(&f).unwrap());
        assert_eq!(DestroyAllocationMsg::decode(&buf[..n]), Ok(m));
        assert_eq!(
            DestroyAllocationMsg::decode(&buf[..43]),
            Err(ProtoError::Truncated)
        );
    }
}
