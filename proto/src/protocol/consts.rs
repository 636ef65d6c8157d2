// SPDX-License-Identifier: GPL-2.0

//! Protocol constants: channel GUIDs, PCI ids, the config-space mailbox,
//! interface versions, ring and message sizes, protocol maxima.

use super::guid::Guid;

/// Class GUID of the VM-level ("global") channel,
/// `dde9cbc0-5060-4436-9448-ea1254a5d177`. Exactly one per VM.
pub const GLOBAL_CHANNEL_GUID: Guid = Guid::from_fields(
    0xdde9_cbc0,
    0x5060,
    0x4436,
    [0x94, 0x48, 0xea, 0x12, 0x54, 0xa5, 0xd1, 0x77],
);

/// Class GUID of a per-virtual-GPU channel,
/// `6e382d18-3336-4f4b-acc4-2b7703d4df4a`. One per vGPU.
pub const VGPU_CHANNEL_GUID: Guid = Guid::from_fields(
    0x6e38_2d18,
    0x3336,
    0x4f4b,
    [0xac, 0xc4, 0x2b, 0x77, 0x03, 0xd4, 0xdf, 0x4a],
);

/// PCI vendor id of the virtual GPU functions (Microsoft).
pub const PCI_VENDOR_MICROSOFT: u16 = 0x1414;
/// PCI device id of a full ("virtual render") GPU.
pub const PCI_DEVICE_RENDER: u16 = 0x008E;
/// PCI device id of a compute-only accelerator.
pub const PCI_DEVICE_COMPUTE: u16 = 0x008A;

/// Config-space offset of the vGPU channel instance GUID (16 bytes, read).
pub const CFG_CHANNEL_GUID: u16 = 0xC0;
/// Config-space offset of the interface version dword (read the host's,
/// write the guest's choice).
pub const CFG_VERSION: u16 = 0xD0;
/// Config-space offset of the vGPU LUID (8 bytes, read; version >= 40).
pub const CFG_VGPU_LUID: u16 = 0xD4;
/// Config-space offset of the guest capability dword (write; same offset as
/// the vGPU LUID, written before the LUID is read).
pub const CFG_GUEST_CAPS: u16 = 0xD4;
/// Config-space offset of the host capability dword (read).
pub const CFG_HOST_CAPS: u16 = 0xDC;

/// Guest capability bit 0: a WSL2-style Linux guest (the original always
/// writes the dword value 1).
pub const GUEST_CAP_WSL2: u32 = 1 << 0;
/// Host capability bit 0: the host can map guest pages directly, so
/// existing-sysmem allocations may be described with PFN lists
/// (SETEXISTINGSYSMEMPAGES) instead of GPADLs.
pub const HOST_CAP_MAP_GUEST_MEMORY: u32 = 1 << 0;

/// Version assumed when the config version dword reads 0 or cannot be read.
pub const VERSION_OLD: u32 = 27;
/// The interface version dxg negotiates (as the original does). It enables
/// the extension header, the config-space vGPU LUID, status-prefixed
/// QUERYADAPTERINFO replies and the trailing LUID of GETINTERNALADAPTERINFO.
pub const VERSION: u32 = 40;
/// Minimum version that carries the 16-byte extension header.
pub const VERSION_EXT_HEADER: u32 = 40;
/// Sent in OPENADAPTER as "oldest version I am compatible with".
pub const VERSION_LAST_COMPATIBLE: u32 = 16;
/// Minimum version for native-fence creation.
pub const VERSION_CREATE_NATIVE_FENCE: u32 = 45;
/// Minimum version for opening a native fence from an NT handle.
pub const VERSION_OPEN_NATIVE_FENCE_NT: u32 = 46;
/// Highest version named in the newest original headers.
pub const VERSION_LATEST: u32 = 46;

/// The version to use given what the config-space version dword returned
/// (`None` if the read failed): 27 for a failed or zero read, the host's
/// value if below 40, otherwise 40 (dxg never speaks above 40).
pub const fn negotiate_version(host: Option<u32>) -> u32 {
    match host {
        None | Some(0) => VERSION_OLD,
        Some(v) if v < VERSION => v,
        Some(_) => VERSION,
    }
}

/// VMBus ring size, each direction, for the global and every vGPU channel.
pub const RING_SIZE: usize = 256 * 1024;
/// Maximum dxgkrnl message size in either direction, including the
/// extension header (and the channel's maximum inbound packet size).
pub const MAX_MESSAGE_SIZE: usize = 128 * 1024;
/// Guest page size assumed by the protocol (PFNs, allocation sizes).
pub const PAGE_SIZE: u64 = 4096;
/// log2 of [`PAGE_SIZE`].
pub const PAGE_SHIFT: u32 = 12;

/// Maximum allocations in one CREATEALLOCATION.
pub const MAX_CREATE_ALLOCATIONS: u32 = 1024;
/// Maximum allocations in one MAKERESIDENT / EVICT.
pub const MAX_RESIDENCY_ALLOCATIONS: u32 = 10 * 1024;
/// Maximum objects in one wait.
pub const MAX_OBJECTS_WAITED_ON: u32 = 32;
/// Maximum objects in one signal.
pub const MAX_OBJECTS_SIGNALED: u32 = 32;
/// Maximum broadcast contexts of a submission or signal.
pub const MAX_BROADCAST_CONTEXTS: u32 = 64;
/// Number of `written_primaries` slots in SUBMITCOMMAND.
pub const MAX_WRITTEN_PRIMARIES: u32 = 16;
/// Maximum history buffers of one SUBMITCOMMAND.
pub const MAX_HISTORY_BUFFERS: u32 = 1024;
/// Length of CREATEPROCESS's name in UTF-16 units, without the terminator.
pub const PROCESS_NAME_LEN: usize = 260;
/// PFNs the original puts in one SETEXISTINGSYSMEMPAGES message:
/// (131072 - 40 - 4096) / 8.
pub const MAX_PFNS_PER_MESSAGE: u32 = 15867;
/// Length of GETINTERNALADAPTERINFO's device description in UTF-16 units.
pub const DEVICE_DESCRIPTION_LEN: usize = 80;
/// Length of GETINTERNALADAPTERINFO's device instance id in UTF-16 units.
pub const DEVICE_INSTANCE_ID_LEN: usize = 260;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_and_versions() {
        assert_eq!(
            Guid::parse("6e382d18-3336-4f4b-acc4-2b7703d4df4a"),
            Ok(VGPU_CHANNEL_GUID)
        );
        assert_eq!(
            Guid::parse("dde9cbc0-5060-4436-9448-ea1254a5d177"),
            Ok(GLOBAL_CHANNEL_GUID)
        );
        assert_eq!(negotiate_version(None), 27);
        assert_eq!(negotiate_version(Some(0)), 27);
        assert_eq!(negotiate_version(Some(31)), 31);
        assert_eq!(negotiate_version(Some(40)), 40);
        assert_eq!(negotiate_version(Some(46)), 40);
        assert_eq!((131072 - 40 - 4096) / 8, MAX_PFNS_PER_MESSAGE);
    }
}
