// SPDX-License-Identifier: GPL-2.0

//! VM-level commands on the global channel: IO space, host processes, NT
//! shared objects, opening shared sync objects (dxgkrnl dxgvmbus.c,
//! dxgvmb_send_set_iospace_region(), dxgvmb_send_create_process(),
//! dxgvmb_send_destroy_process(), dxgvmb_send_create_nt_shared_object(),
//! dxgvmb_send_destroy_nt_shared_object() and
//! dxgvmb_send_open_sync_object_nt()). DESTROYSYNCOBJECT is in
//! [`super::sync`].

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::FromZeros;
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::codec::impl_command;
use super::command::{CommandId, GlobalCommand};
use super::consts::PROCESS_NAME_LEN;
use super::error::ProtoResult;
use super::handle::Handle;
use super::header::CommandHeader;
use super::status::NtStatus;

/// SETIOSPACEREGION (1010): registers the VM's IO space. Reply: NTSTATUS.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct SetIoSpaceRegion {
    /// VM-to-host header, process 0.
    pub hdr: CommandHeader,
    /// Guest-physical base of the reserved MMIO range.
    pub start: U64,
    /// Length in bytes.
    pub length: U64,
    /// 0 (purpose unknown).
    pub shared_page_gpadl: U32,
    /// Padding.
    pub pad: U32,
}
impl_command!(
    SetIoSpaceRegion,
    CommandId::Global(GlobalCommand::SetIoSpaceRegion),
    48
);

impl SetIoSpaceRegion {
    /// Registers `[start, start + length)`.
    pub const fn new(start: u64, length: u64) -> Self {
        SetIoSpaceRegion {
            hdr: CommandHeader::global(GlobalCommand::SetIoSpaceRegion, Handle::NULL),
            start: U64::new(start),
            length: U64::new(length),
            shared_page_gpadl: U32::new(0),
            pad: U32::new(0),
        }
    }
}

/// CREATEPROCESS flag bit 0: csrss.
pub const PROCESS_FLAG_CSRSS: u8 = 1 << 0;
/// CREATEPROCESS flag bit 1: dwm.
pub const PROCESS_FLAG_DWM: u8 = 1 << 1;
/// CREATEPROCESS flag bit 2: wow64.
pub const PROCESS_FLAG_WOW64: u8 = 1 << 2;
/// CREATEPROCESS flag bit 3: a Linux process (the only one a guest sets).
pub const PROCESS_FLAG_LINUX: u8 = 1 << 3;

/// CREATEPROCESS (1000): creates the host process object. Reply:
/// [`CreateProcessReply`] (no status; a zero handle means failure).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct CreateProcess {
    /// VM-to-host header, process 0.
    pub hdr: CommandHeader,
    /// Opaque guest cookie. Never a kernel address.
    pub process: U64,
    /// Guest pid of the opener.
    pub process_id: U64,
    /// UTF-16 name, NUL terminated (261 units).
    pub process_name: [U16; PROCESS_NAME_LEN + 1],
    /// `PROCESS_FLAG_*` bits.
    pub flags: u8,
    /// Padding.
    pub pad: [u8; 5],
}
impl_command!(
    CreateProcess,
    CommandId::Global(GlobalCommand::CreateProcess),
    568
);

impl CreateProcess {
    /// A Linux-process CREATEPROCESS with `name` widened byte by byte (up
    /// to the first NUL or 260 bytes; always NUL terminated).
    pub fn new(cookie: u64, pid: u64, name: &[u8]) -> Self {
        let mut c = CreateProcess::new_zeroed();
        c.hdr = CommandHeader::global(GlobalCommand::CreateProcess, Handle::NULL);
        c.process = U64::new(cookie);
        c.process_id = U64::new(pid);
        c.flags = PROCESS_FLAG_LINUX;
        let chars = name.iter().take_while(|&&b| b != 0).take(PROCESS_NAME_LEN);
        for (slot, &b) in c.process_name.iter_mut().zip(chars) {
            *slot = U16::new(u16::from(b));
        }
        c
    }

    /// The name up to (not including) the first NUL.
    pub fn name(&self) -> &[U16] {
        let end = self
            .process_name
            .iter()
            .position(|c| c.get() == 0)
            .unwrap_or(self.process_name.len());
        self.process_name.get(..end).unwrap_or(&[])
    }
}

/// Reply of CREATEPROCESS: the host process handle.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct CreateProcessReply {
    /// Host process handle; zero means failure.
    pub process: Handle,
}

impl CreateProcessReply {
    /// The handle, or [`super::error::ProtoError::BadHandle`] if zero.
    pub const fn validate(&self) -> ProtoResult<Handle> {
        self.process.non_null()
    }
}

/// DESTROYPROCESS (1001): header only, `process` = the host process.
/// Reply: NTSTATUS.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct DestroyProcess {
    /// VM-to-host header naming the process.
    pub hdr: CommandHeader,
}
impl_command!(
    DestroyProcess,
    CommandId::Global(GlobalCommand::DestroyProcess),
    24
);

impl DestroyProcess {
    /// Destroys `process`.
    pub const fn new(process: Handle) -> Self {
        DestroyProcess {
            hdr: CommandHeader::global(GlobalCommand::DestroyProcess, process),
        }
    }
}

/// CREATENTSHAREDOBJECT (1004). Reply: [`NtSharedObjectReply`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct CreateNtSharedObject {
    /// VM-to-host header with the host process.
    pub hdr: CommandHeader,
    /// The process's handle of the object to share.
    pub object: Handle,
    /// Padding.
    pub pad: U32,
}
impl_command!(
    CreateNtSharedObject,
    CommandId::Global(GlobalCommand::CreateNtSharedObject),
    32
);

impl CreateNtSharedObject {
    /// Shares `object` of `process`.
    pub const fn new(process: Handle, object: Handle) -> Self {
        CreateNtSharedObject {
            hdr: CommandHeader::global(GlobalCommand::CreateNtSharedObject, process),
            object,
            pad: U32::new(0),
        }
    }
}

/// Reply of CREATENTSHAREDOBJECT: the host "NT handle"; zero = failure.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct NtSharedObjectReply {
    /// The shared handle.
    pub shared_handle: Handle,
}

/// DESTROYNTSHAREDOBJECT (1005). Reply: NTSTATUS.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct DestroyNtSharedObject {
    /// VM-to-host header, process 0.
    pub hdr: CommandHeader,
    /// The shared handle to destroy.
    pub shared_handle: Handle,
    /// Padding.
    pub pad: U32,
}
impl_command!(
    DestroyNtSharedObject,
    CommandId::Global(GlobalCommand::DestroyNtSharedObject),
    32
);

impl DestroyNtSharedObject {
    /// Destroys `shared_handle`.
    pub const fn new(shared_handle: Handle) -> Self {
        DestroyNtSharedObject {
            hdr: CommandHeader::global(GlobalCommand::DestroyNtSharedObject, Handle::NULL),
            shared_handle,
            pad: U32::new(0),
        }
    }
}

/// OPENSYNCOBJECT (1002): opens a shared sync object. Reply:
/// [`OpenSyncObjectReply`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct OpenSyncObject {
    /// VM-to-host header with the host process.
    pub hdr: CommandHeader,
    /// The opener's device.
    pub device: Handle,
    /// The object's global share handle (from CREATESYNCOBJECT).
    pub global_sync_object: Handle,
    /// Engine affinity (monitored fences).
    pub engine_affinity: U32,
    /// Sync-object flags (`SYNC_FLAG_*` of [`super::sync`]).
    pub flags: U32,
}
impl_command!(
    OpenSyncObject,
    CommandId::Global(GlobalCommand::OpenSyncObject),
    40
);

/// Reply of OPENSYNCOBJECT.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct OpenSyncObjectReply {
    /// The new sync object handle.
    pub sync_object: Handle,
    /// Status.
    pub status: NtStatus,
    /// GPU VA of the fence.
    pub gpu_va: U64,
    /// IO-space GPA of the fence page.
    pub guest_cpu_physical_address: U64,
}

const _: () = assert!(core::mem::size_of::<CreateProcessReply>() == 4);
const _: () = assert!(core::mem::size_of::<NtSharedObjectReply>() == 4);
const _: () = assert!(core::mem::size_of::<OpenSyncObjectReply>() == 24);

#[cfg(test)]
mod tests {
    use super::super::codec::{decode_command, encode_command};
    use super::super::guid::Luid;
    use super::super::header::{parse_guest_message, Framing};
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn layout() {
        assert_eq!(offset_of!(SetIoSpaceRegion, start), 24);
        assert_eq!(offset_of!(SetIoSpaceRegion, length), 32);
        assert_eq!(offset_of!(SetIoSpaceRegion, shared_page_gpadl), 40);
        assert_eq!(offset_of!(CreateProcess, process), 24);
        assert_eq!(offset_of!(CreateProcess, process_id), 32);
        assert_eq!(offset_of!(CreateProcess, process_name), 40);
        assert_eq!(offset_of!(CreateProcess, flags), 562);
        assert_eq!(offset_of!(OpenSyncObject, flags), 36);
        assert_eq!(
            offset_of!(OpenSyncObjectReply, guest_cpu_physical_address),
            16
        );
    }

    #[test]
    fn create_process() {
        let c = CreateProcess::new(0x55, 1234, b"vkcube\0junk");
        assert_eq!(c.name().len(), 6);
        assert_eq!(c.name()[0].get(), u16::from(b'v'));
        let long = [b'x'; 400];
        let c2 = CreateProcess::new(1, 2, &long);
        assert_eq!(c2.name().len(), PROCESS_NAME_LEN);
        let mut buf = [0u8; 600];
        let f = Framing::with_ext_header(Luid::ZERO);
        let n = encode_command(&c, &f, &mut buf).unwrap();
        assert_eq!(n, 16 + 568);
        let m = parse_guest_message(&buf[..n], true).unwrap();
        assert_eq!(decode_command::<CreateProcess>(m.command).unwrap(), &c);
        assert!(decode_command::<DestroyProcess>(m.command).is_err());
    }
}
