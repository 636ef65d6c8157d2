// SPDX-License-Identifier: GPL-2.0

//! Sync objects: CREATESYNCOBJECT, DESTROYSYNCOBJECT (VM-level),
//! SIGNALSYNCOBJECT, WAITFORSYNCOBJECTFROMCPU, WAITFORSYNCOBJECTFROMGPU (the
//! last three are variable-length and live in [`super::syncmsg`]). dxgkrnl
//! sends the first two in dxgvmbus.c, dxgvmb_send_create_sync_object() and
//! dxgvmb_send_destroy_sync_object().

use zerocopy::little_endian::{U32, U64};
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::codec::impl_command;
use super::command::{CommandId, GlobalCommand, VgpuCommand};
use super::error::ProtoResult;
use super::handle::Handle;
use super::header::CommandHeader;
use super::validate::IoSpace;

/// Sync-object type: synchronization mutex (legacy).
pub const SYNC_TYPE_MUTEX: u32 = 1;
/// Sync-object type: semaphore (legacy).
pub const SYNC_TYPE_SEMAPHORE: u32 = 2;
/// Sync-object type: fence (legacy).
pub const SYNC_TYPE_FENCE: u32 = 3;
/// Sync-object type: CPU notification (host signals a guest event id).
pub const SYNC_TYPE_CPU_NOTIFICATION: u32 = 4;
/// Sync-object type: monitored fence (64-bit value in a shared page).
pub const SYNC_TYPE_MONITORED_FENCE: u32 = 5;
/// Sync-object type: periodic monitored fence (display).
pub const SYNC_TYPE_PERIODIC_MONITORED_FENCE: u32 = 6;

/// Sync-object flag bit 0: shared.
pub const SYNC_FLAG_SHARED: u32 = 1 << 0;
/// Sync-object flag bit 1: NT security sharing.
pub const SYNC_FLAG_NT_SECURITY_SHARING: u32 = 1 << 1;
/// Sync-object flag bit 2: cross adapter.
pub const SYNC_FLAG_CROSS_ADAPTER: u32 = 1 << 2;
/// Sync-object flag bit 3: top of pipeline.
pub const SYNC_FLAG_TOP_OF_PIPELINE: u32 = 1 << 3;
/// Sync-object flag bit 4: no signal.
pub const SYNC_FLAG_NO_SIGNAL: u32 = 1 << 4;
/// Sync-object flag bit 5: no wait.
pub const SYNC_FLAG_NO_WAIT: u32 = 1 << 5;
/// Sync-object flag bit 6: don't signal max value on TDR.
pub const SYNC_FLAG_NO_SIGNAL_MAX_VALUE_ON_TDR: u32 = 1 << 6;
/// Sync-object flag bit 7: no GPU access.
pub const SYNC_FLAG_NO_GPU_ACCESS: u32 = 1 << 7;

/// `client_hint` value the original sends ("UMD").
pub const SYNC_CLIENT_HINT_UMD: u32 = 1;

/// CREATESYNCOBJECT (8): the 96-byte user block at 24, then `client_hint`.
/// Reply: [`CreateSyncObjectReply`] (no status).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct CreateSyncObject {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// The device.
    pub device: Handle,
    /// Reserved.
    pub reserved: U32,
    /// `SYNC_TYPE_*`.
    pub sync_type: U32,
    /// `SYNC_FLAG_*` bits.
    pub flags: U32,
    /// The type-specific union as eight u64 words. Monitored fence: initial
    /// value (word 0), CPU VA and GPU VA outputs (words 1, 2, zero in
    /// requests), engine affinity (low half of word 3). CPU notification:
    /// guest event id (word 0). Fence: value (word 0).
    pub info: [U64; 8],
    /// Output; 0.
    pub shared_handle: Handle,
    /// Padding.
    pub pad0: U32,
    /// Output; 0.
    pub sync_object: Handle,
    /// Reserved.
    pub reserved1: U32,
    /// [`SYNC_CLIENT_HINT_UMD`].
    pub client_hint: U32,
    /// Padding.
    pub pad1: U32,
}
impl_command!(
    CreateSyncObject,
    CommandId::Vgpu(VgpuCommand::CreateSyncObject),
    128
);

impl CreateSyncObject {
    /// A sync object of `sync_type` with the raw union `info`.
    pub const fn new(
        process: Handle,
        device: Handle,
        sync_type: u32,
        flags: u32,
        info: [u64; 8],
    ) -> Self {
        CreateSyncObject {
            hdr: CommandHeader::vgpu(VgpuCommand::CreateSyncObject, process),
            device,
            reserved: U32::new(0),
            sync_type: U32::new(sync_type),
            flags: U32::new(flags),
            info: [
                U64::new(info[0]),
                U64::new(info[1]),
                U64::new(info[2]),
                U64::new(info[3]),
                U64::new(info[4]),
                U64::new(info[5]),
                U64::new(info[6]),
                U64::new(info[7]),
            ],
            shared_handle: Handle::NULL,
            pad0: U32::new(0),
            sync_object: Handle::NULL,
            reserved1: U32::new(0),
            client_hint: U32::new(SYNC_CLIENT_HINT_UMD),
            pad1: U32::new(0),
        }
    }

    /// A monitored fence starting at `initial_value`.
    pub const fn monitored_fence(
        process: Handle,
        device: Handle,
        flags: u32,
        initial_value: u64,
        engine_affinity: u32,
    ) -> Self {
        CreateSyncObject::new(
            process,
            device,
            SYNC_TYPE_MONITORED_FENCE,
            flags,
            [initial_value, 0, 0, engine_affinity as u64, 0, 0, 0, 0],
        )
    }

    /// A CPU-notification object signalling guest event `event_id`.
    pub const fn cpu_notification(
        process: Handle,
        device: Handle,
        flags: u32,
        event_id: u64,
    ) -> Self {
        CreateSyncObject::new(
            process,
            device,
            SYNC_TYPE_CPU_NOTIFICATION,
            flags,
            [event_id, 0, 0, 0, 0, 0, 0, 0],
        )
    }
}

/// Reply of CREATESYNCOBJECT.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct CreateSyncObjectReply {
    /// The sync object; zero means failure.
    pub sync_object: Handle,
    /// Global share handle (non-zero when created shared).
    pub global_sync_object: Handle,
    /// GPU VA of the fence value (monitored fences).
    pub fence_gpu_va: U64,
    /// IO-space GPA of the fence page (monitored fences).
    pub fence_storage_address: U64,
    /// Ignored by the original (meaning unverified).
    pub fence_storage_offset: U32,
    /// Padding.
    pub pad: U32,
}
const _: () = assert!(core::mem::size_of::<CreateSyncObjectReply>() == 32);

impl CreateSyncObjectReply {
    /// Validates the reply to a request of `sync_type` and `flags`:
    /// non-zero handle; non-zero global handle if `SYNC_FLAG_SHARED`; for
    /// monitored fences a fence page inside `io`.
    pub fn validate(&self, sync_type: u32, flags: u32, io: &IoSpace) -> ProtoResult<Handle> {
        let h = self.sync_object.non_null()?;
        if flags & SYNC_FLAG_SHARED != 0 {
            self.global_sync_object.non_null()?;
        }
        if sync_type == SYNC_TYPE_MONITORED_FENCE || sync_type == SYNC_TYPE_PERIODIC_MONITORED_FENCE
        {
            io.check_page(self.fence_storage_address.get())?;
        }
        Ok(h)
    }
}

/// DESTROYSYNCOBJECT (1003): a VM-level command on the global channel, even
/// for device-owned objects. Reply: NTSTATUS.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct DestroySyncObject {
    /// VM-to-host header with the host process.
    pub hdr: CommandHeader,
    /// The sync object.
    pub sync_object: Handle,
    /// Padding.
    pub pad: U32,
}
impl_command!(
    DestroySyncObject,
    CommandId::Global(GlobalCommand::DestroySyncObject),
    32
);

impl DestroySyncObject {
    /// Destroys `sync_object` of `process`.
    pub const fn new(process: Handle, sync_object: Handle) -> Self {
        DestroySyncObject {
            hdr: CommandHeader::global(GlobalCommand::DestroySyncObject, process),
            sync_object,
            pad: U32::new(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::error::ProtoError;
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn layout() {
        type C = CreateSyncObject;
        assert_eq!(offset_of!(C, device), 24);
        assert_eq!(offset_of!(C, sync_type), 32);
        assert_eq!(offset_of!(C, flags), 36);
        assert_eq!(offset_of!(C, info), 40);
        assert_eq!(offset_of!(C, shared_handle), 104);
        assert_eq!(offset_of!(C, sync_object), 112);
        assert_eq!(offset_of!(C, client_hint), 120);
        type R = CreateSyncObjectReply;
        assert_eq!(offset_of!(R, global_sync_object), 4);
        assert_eq!(offset_of!(R, fence_gpu_va), 8);
        assert_eq!(offset_of!(R, fence_storage_address), 16);
        assert_eq!(offset_of!(R, fence_storage_offset), 24);
        assert_eq!(offset_of!(DestroySyncObject, sync_object), 24);
        let c = CreateSyncObject::monitored_fence(Handle::new(1), Handle::new(2), 0, 5, 3);
        assert_eq!(c.info[0].get(), 5);
        assert_eq!(c.info[3].get(), 3);
    }

    #[test]
    fn reply_validation() {
        let io = IoSpace::new(0x4000_0000, 0x10_0000).unwrap();
        let mut r = CreateSyncObjectReply {
            sync_object: Handle::new(0x40),
            global_sync_object: Handle::NULL,
            fence_gpu_va: U64::new(0x1_0000),
            fence_storage_address: U64::new(0x4000_2000),
            fence_storage_offset: U32::new(0),
            pad: U32::new(0),
        };
        assert_eq!(
            r.validate(SYNC_TYPE_MONITORED_FENCE, 0, &io),
            Ok(Handle::new(0x40))
        );
        assert_eq!(
            r.validate(SYNC_TYPE_MONITORED_FENCE, SYNC_FLAG_SHARED, &io),
            Err(ProtoError::BadHandle)
        );
        r.fence_storage_address = U64::new(0x4000_2008);
        assert_eq!(
            r.validate(SYNC_TYPE_MONITORED_FENCE, 0, &io),
            Err(ProtoError::Misaligned)
        );
        assert_eq!(
            r.validate(SYNC_TYPE_CPU_NOTIFICATION, 0, &io),
            Ok(Handle::new(0x40))
        );
    }
}
