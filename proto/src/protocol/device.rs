// SPDX-License-Identifier: GPL-2.0

//! Device commands: CREATEDEVICE, DESTROYDEVICE, FLUSHDEVICE,
//! GETDEVICESTATE (dxgkrnl dxgvmbus.c, dxgvmb_send_create_device(),
//! dxgvmb_send_destroy_device(), dxgvmb_send_flush_device() and
//! dxgvmb_send_get_device_state()).

use zerocopy::little_endian::{U32, U64};
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::codec::impl_command;
use super::command::{CommandId, VgpuCommand};
use super::error::ProtoResult;
use super::handle::Handle;
use super::header::CommandHeader;
use super::status::NtStatus;

/// CREATEDEVICE flag bit 0: legacy mode.
pub const DEVICE_FLAG_LEGACY_MODE: u32 = 1 << 0;
/// CREATEDEVICE flag bit 1: request vSync.
pub const DEVICE_FLAG_REQUEST_VSYNC: u32 = 1 << 1;
/// CREATEDEVICE flag bit 2: disable GPU timeout.
pub const DEVICE_FLAG_DISABLE_GPU_TIMEOUT: u32 = 1 << 2;

/// CREATEDEVICE (0). Reply: [`CreateDeviceReply`] (no status; zero =
/// failure).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct CreateDevice {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// `DEVICE_FLAG_*` bits.
    pub flags: U32,
    /// 0.
    pub cdd_device: u8,
    /// Padding.
    pub pad: [u8; 3],
    /// Guest cookie the host echoes in SETGUESTDATA (`error_code` in the
    /// original, which put a kernel address here; dxg must not).
    pub cookie: U64,
}
impl_command!(CreateDevice, CommandId::Vgpu(VgpuCommand::CreateDevice), 40);

impl CreateDevice {
    /// Creates a device of `process` with device-state cookie `cookie`.
    pub const fn new(process: Handle, flags: u32, cookie: u64) -> Self {
        CreateDevice {
            hdr: CommandHeader::vgpu(VgpuCommand::CreateDevice, process),
            flags: U32::new(flags),
            cdd_device: 0,
            pad: [0; 3],
            cookie: U64::new(cookie),
        }
    }
}

/// Reply of CREATEDEVICE.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct CreateDeviceReply {
    /// Device handle; zero means failure.
    pub device: Handle,
}

impl CreateDeviceReply {
    /// The handle, or [`super::error::ProtoError::BadHandle`] if zero.
    pub const fn validate(&self) -> ProtoResult<Handle> {
        self.device.non_null()
    }
}

/// DESTROYDEVICE (1). Reply: NTSTATUS.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct DestroyDevice {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// The device.
    pub device: Handle,
    /// Padding.
    pub pad: U32,
}
impl_command!(
    DestroyDevice,
    CommandId::Vgpu(VgpuCommand::DestroyDevice),
    32
);

impl DestroyDevice {
    /// Destroys `device` of `process`.
    pub const fn new(process: Handle, device: Handle) -> Self {
        DestroyDevice {
            hdr: CommandHeader::vgpu(VgpuCommand::DestroyDevice, process),
            device,
            pad: U32::new(0),
        }
    }
}

/// FLUSHDEVICE reason: device terminate.
pub const FLUSH_REASON_DEVICE_TERMINATE: u32 = 4;

/// FLUSHDEVICE (42). Reply: NTSTATUS.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct FlushDevice {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// The device.
    pub device: Handle,
    /// Reason (`FLUSH_REASON_*`).
    pub reason: U32,
}
impl_command!(FlushDevice, CommandId::Vgpu(VgpuCommand::FlushDevice), 32);

impl FlushDevice {
    /// Flushes `device` for `reason`.
    pub const fn new(process: Handle, device: Handle, reason: u32) -> Self {
        FlushDevice {
            hdr: CommandHeader::vgpu(VgpuCommand::FlushDevice, process),
            device,
            reason: U32::new(reason),
        }
    }
}

/// GETDEVICESTATE state type: execution state.
pub const DEVICE_STATE_EXECUTION: u32 = 1;
/// GETDEVICESTATE state type: present state.
pub const DEVICE_STATE_PRESENT: u32 = 2;
/// GETDEVICESTATE state type: reset state.
pub const DEVICE_STATE_RESET: u32 = 3;
/// GETDEVICESTATE state type: page-fault state.
pub const DEVICE_STATE_PAGE_FAULT: u32 = 5;

/// Execution state: active.
pub const EXECUTION_ACTIVE: u32 = 1;
/// Execution state: reset.
pub const EXECUTION_RESET: u32 = 2;
/// Execution state: hung.
pub const EXECUTION_HUNG: u32 = 3;
/// Execution state: stopped.
pub const EXECUTION_STOPPED: u32 = 4;
/// Execution state: out of memory.
pub const EXECUTION_ERROR_OUT_OF_MEMORY: u32 = 5;
/// Execution state: DMA fault.
pub const EXECUTION_ERROR_DMA_FAULT: u32 = 6;
/// Execution state: DMA page fault.
pub const EXECUTION_ERROR_DMA_PAGE_FAULT: u32 = 7;

/// The 56-byte GETDEVICESTATE argument block (`d3dkmt_getdevicestate`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct DeviceStateArgs {
    /// The device.
    pub device: Handle,
    /// `DEVICE_STATE_*`.
    pub state_type: U32,
    /// The state union; for `DEVICE_STATE_EXECUTION` its first dword is the
    /// execution state (`EXECUTION_*`).
    pub state: [U64; 6],
}

impl DeviceStateArgs {
    /// The execution state (first dword of the union).
    pub const fn execution_state(&self) -> u32 {
        let [b0, b1, b2, b3, ..] = self.state[0].get().to_le_bytes();
        u32::from_le_bytes([b0, b1, b2, b3])
    }
}

/// GETDEVICESTATE (28). Reply: [`GetDeviceStateReply`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct GetDeviceState {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// The argument block; the union is zero in requests.
    pub args: DeviceStateArgs,
}
impl_command!(
    GetDeviceState,
    CommandId::Vgpu(VgpuCommand::GetDeviceState),
    80
);

impl GetDeviceState {
    /// Queries `state_type` of `device`.
    pub const fn new(process: Handle, device: Handle, state_type: u32) -> Self {
        GetDeviceState {
            hdr: CommandHeader::vgpu(VgpuCommand::GetDeviceState, process),
            args: DeviceStateArgs {
                device,
                state_type: U32::new(state_type),
                state: [U64::new(0); 6],
            },
        }
    }
}

/// Reply of GETDEVICESTATE: the argument block with the union filled, then
/// the status.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct GetDeviceStateReply {
    /// The filled argument block.
    pub args: DeviceStateArgs,
    /// Status.
    pub status: NtStatus,
    /// Padding.
    pub pad: U32,
}

const _: () = assert!(core::mem::size_of::<DeviceStateArgs>() == 56);
const _: () = assert!(core::mem::size_of::<GetDeviceStateReply>() == 64);
const _: () = assert!(core::mem::size_of::<CreateDeviceReply>() == 4);

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn layout() {
        assert_eq!(offset_of!(CreateDevice, flags), 24);
        assert_eq!(offset_of!(CreateDevice, cdd_device), 28);
        assert_eq!(offset_of!(CreateDevice, cookie), 32);
        assert_eq!(offset_of!(DestroyDevice, device), 24);
        assert_eq!(offset_of!(FlushDevice, reason), 28);
        assert_eq!(offset_of!(GetDeviceState, args), 24);
        assert_eq!(offset_of!(DeviceStateArgs, state), 8);
        assert_eq!(offset_of!(GetDeviceStateReply, status), 56);
        let mut a = GetDeviceState::new(Handle::new(1), Handle::new(2), 1).args;
        a.state[0] = U64::new(0xffff_ffff_0000_0003);
        assert_eq!(a.execution_state(), EXECUTION_HUNG);
    }
}
