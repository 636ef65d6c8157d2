// SPDX-License-Identifier: GPL-2.0

//! Channel types and command identifiers (dxgkrnl dxgvmbus.h: enum
//! dxgkvmb_commandchanneltype, dxgkvmb_commandtype_global,
//! dxgkvmb_commandtype and dxgkvmb_commandtype_host_to_vm).

use core::fmt;

use super::error::ProtoError;

macro_rules! id_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident: $repr:ty, unknown = $err:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr($repr)]
        pub enum $name {
            $( $(#[$vmeta])* $variant = $value, )*
        }

        impl $name {
            /// Every defined value, in numeric order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The wire value.
            pub const fn value(self) -> $repr {
                self as $repr
            }

            /// The identifier's name: the variant name, the camel-case form of
            /// the dxgkrnl dxgvmbus.h enumerator (`CreateAllocation` for
            /// `DXGK_VMBCOMMAND_CREATEALLOCATION`).
            pub const fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => stringify!($variant), )*
                }
            }
        }

        impl TryFrom<$repr> for $name {
            type Error = ProtoError;

            fn try_from(v: $repr) -> Result<Self, ProtoError> {
                match v {
                    $( x if x == $value => Ok($name::$variant), )*
                    _ => Err(ProtoError::$err),
                }
            }
        }

        impl From<$name> for $repr {
            fn from(v: $name) -> $repr {
                v.value()
            }
        }
    };
}

id_enum! {
    /// The `channel_type` of a command header (low 8 bits of the dword at
    /// offset 12).
    pub enum ChannelType: u32, unknown = BadType {
        /// A per-vGPU command, guest to host.
        VgpuToHost = 0,
        /// A VM-level command, guest to host.
        VmToHost = 1,
        /// A host-to-guest notification.
        HostToVm = 2,
    }
}

id_enum! {
    /// VM-level commands (global channel, `VmToHost` header): dxgkrnl
    /// dxgvmbus.h, enum dxgkvmb_commandtype_global.
    pub enum GlobalCommand: u32, unknown = UnknownCommand {
        /// Create the host process object of a guest client.
        CreateProcess = 1000,
        /// Destroy a host process object.
        DestroyProcess = 1001,
        /// Open a shared sync object.
        OpenSyncObject = 1002,
        /// Destroy a sync object (every sync object, even device-owned ones).
        DestroySyncObject = 1003,
        /// Create an NT shared handle for an object.
        CreateNtSharedObject = 1004,
        /// Destroy an NT shared handle.
        DestroyNtSharedObject = 1005,
        /// Not sent by Linux guests.
        SignalFence = 1006,
        /// Not sent by Linux guests.
        NotifyProcessFreeze = 1007,
        /// Not sent by Linux guests.
        NotifyProcessThaw = 1008,
        /// Not sent by Linux guests.
        QueryEtwSession = 1009,
        /// Register the VM's IO space.
        SetIoSpaceRegion = 1010,
        /// Not sent by Linux guests.
        CompleteTransaction = 1011,
        /// Share an object with host-side processes.
        ShareObjectWithHost = 1021,
        /// VM-wide feature query.
        IsFeatureEnabledGlobal = 1022,
    }
}

id_enum! {
    /// Per-vGPU commands (`VgpuToHost` header): dxgkrnl dxgvmbus.h, enum
    /// dxgkvmb_commandtype.
    pub enum VgpuCommand: u32, unknown = UnknownCommand {
        /// CREATEDEVICE.
        CreateDevice = 0,
        /// DESTROYDEVICE.
        DestroyDevice = 1,
        /// QUERYADAPTERINFO.
        QueryAdapterInfo = 2,
        /// DDIQUERYADAPTERINFO (not sent by Linux guests).
        DdiQueryAdapterInfo = 3,
        /// CREATEALLOCATION.
        CreateAllocation = 4,
        /// DESTROYALLOCATION.
        DestroyAllocation = 5,
        /// CREATECONTEXTVIRTUAL.
        CreateContextVirtual = 6,
        /// DESTROYCONTEXT.
        DestroyContext = 7,
        /// CREATESYNCOBJECT.
        CreateSyncObject = 8,
        /// CREATEPAGINGQUEUE.
        CreatePagingQueue = 9,
        /// DESTROYPAGINGQUEUE.
        DestroyPagingQueue = 10,
        /// MAKERESIDENT.
        MakeResident = 11,
        /// EVICT.
        Evict = 12,
        /// ESCAPE.
        Escape = 13,
        /// OPENADAPTER.
        OpenAdapter = 14,
        /// CLOSEADAPTER.
        CloseAdapter = 15,
        /// FREEGPUVIRTUALADDRESS.
        FreeGpuVirtualAddress = 16,
        /// MAPGPUVIRTUALADDRESS.
        MapGpuVirtualAddress = 17,
        /// RESERVEGPUVIRTUALADDRESS.
        ReserveGpuVirtualAddress = 18,
        /// UPDATEGPUVIRTUALADDRESS.
        UpdateGpuVirtualAddress = 19,
        /// SUBMITCOMMAND.
        SubmitCommand = 20,
        /// QUERYVIDEOMEMORYINFO.
        QueryVideoMemoryInfo = 21,
        /// WAITFORSYNCOBJECTFROMCPU.
        WaitForSyncObjectFromCpu = 22,
        /// LOCK2.
        Lock2 = 23,
        /// UNLOCK2.
        Unlock2 = 24,
        /// WAITFORSYNCOBJECTFROMGPU.
        WaitForSyncObjectFromGpu = 25,
        /// SIGNALSYNCOBJECT.
        SignalSyncObject = 26,
        /// SIGNALFENCENTSHAREDBYREF (not sent by Linux guests).
        SignalFenceNtSharedByRef = 27,
        /// GETDEVICESTATE.
        GetDeviceState = 28,
        /// MARKDEVICEASERROR.
        MarkDeviceAsError = 29,
        /// ADAPTERSTOP (not sent by Linux guests).
        AdapterStop = 30,
        /// SETQUEUEDLIMIT (not sent by Linux guests).
        SetQueuedLimit = 31,
        /// OPENRESOURCE.
        OpenResource = 32,
        /// SETCONTEXTSCHEDULINGPRIORITY.
        SetContextSchedulingPriority = 33,
        /// PRESENTHISTORYTOKEN (not sent by Linux guests).
        PresentHistoryToken = 34,
        /// SETREDIRECTEDFLIPFENCEVALUE (not sent by Linux guests).
        SetRedirectedFlipFenceValue = 35,
        /// GETINTERNALADAPTERINFO.
        GetInternalAdapterInfo = 36,
        /// FLUSHHEAPTRANSITIONS.
        FlushHeapTransitions = 37,
        /// BLT (not sent by Linux guests).
        Blt = 38,
        /// DDIGETSTANDARDALLOCATIONDRIVERDATA.
        DdiGetStandardAllocationDriverData = 39,
        /// CDDGDICOMMAND (not sent by Linux guests).
        CddGdiCommand = 40,
        /// QUERYALLOCATIONRESIDENCY.
        QueryAllocationResidency = 41,
        /// FLUSHDEVICE.
        FlushDevice = 42,
        /// FLUSHADAPTER (not sent by Linux guests).
        FlushAdapter = 43,
        /// DDIGETNODEMETADATA (not sent by Linux guests).
        DdiGetNodeMetadata = 44,
        /// SETEXISTINGSYSMEMSTORE.
        SetExistingSysmemStore = 45,
        /// ISSYNCOBJECTSIGNALED (not sent by Linux guests).
        IsSyncObjectSignaled = 46,
        /// CDDSYNCGPUACCESS (not sent by Linux guests).
        CddSyncGpuAccess = 47,
        /// QUERYSTATISTICS.
        QueryStatistics = 48,
        /// CHANGEVIDEOMEMORYRESERVATION.
        ChangeVideoMemoryReservation = 49,
        /// CREATEHWQUEUE.
        CreateHwQueue = 50,
        /// DESTROYHWQUEUE.
        DestroyHwQueue = 51,
        /// SUBMITCOMMANDTOHWQUEUE.
        SubmitCommandToHwQueue = 52,
        /// GETDRIVERSTOREFILE (not sent by Linux guests).
        GetDriverStoreFile = 53,
        /// READDRIVERSTOREFILE (not sent by Linux guests).
        ReadDriverStoreFile = 54,
        /// GETNEXTHARDLINK (not sent by Linux guests).
        GetNextHardLink = 55,
        /// UPDATEALLOCATIONPROPERTY.
        UpdateAllocationProperty = 56,
        /// OFFERALLOCATIONS.
        OfferAllocations = 57,
        /// RECLAIMALLOCATIONS.
        ReclaimAllocations = 58,
        /// SETALLOCATIONPRIORITY.
        SetAllocationPriority = 59,
        /// GETALLOCATIONPRIORITY.
        GetAllocationPriority = 60,
        /// GETCONTEXTSCHEDULINGPRIORITY.
        GetContextSchedulingPriority = 61,
        /// QUERYCLOCKCALIBRATION.
        QueryClockCalibration = 62,
        /// QUERYRESOURCEINFO (not sent by Linux guests). Id 63 is undefined.
        QueryResourceInfo = 64,
        /// LOGEVENT (not sent by Linux guests).
        LogEvent = 65,
        /// SETEXISTINGSYSMEMPAGES (later revisions).
        SetExistingSysmemPages = 66,
        /// INVALIDATECACHE (later revisions).
        InvalidateCache = 67,
        /// ISFEATUREENABLED (later revisions).
        IsFeatureEnabled = 68,
    }
}

id_enum! {
    /// Host-to-guest commands (in-band on the global channel): dxgkrnl
    /// dxgvmbus.h, enum dxgkvmb_commandtype_host_to_vm.
    pub enum HostCommand: u32, unknown = UnknownCommand {
        /// Signal a guest event id.
        SignalGuestEvent = 0,
        /// Unexpected in Linux guests.
        PropagatePresentHistoryToken = 1,
        /// Device-state cookie update.
        SetGuestData = 2,
        /// Handled exactly like `SignalGuestEvent`.
        SignalGuestEventPassive = 3,
        /// Silently ignored by guests.
        SendWnfNotification = 4,
    }
}

/// A guest-to-host command id together with its channel type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CommandId {
    /// A VM-level command (`ChannelType::VmToHost`).
    Global(GlobalCommand),
    /// A per-vGPU command (`ChannelType::VgpuToHost`).
    Vgpu(VgpuCommand),
}

impl CommandId {
    /// The channel type a header for this command carries.
    pub const fn channel_type(self) -> ChannelType {
        match self {
            CommandId::Global(_) => ChannelType::VmToHost,
            CommandId::Vgpu(_) => ChannelType::VgpuToHost,
        }
    }

    /// The numeric command type.
    pub const fn value(self) -> u32 {
        match self {
            CommandId::Global(c) => c.value(),
            CommandId::Vgpu(c) => c.value(),
        }
    }

    /// The command's name.
    pub const fn name(self) -> &'static str {
        match self {
            CommandId::Global(c) => c.name(),
            CommandId::Vgpu(c) => c.name(),
        }
    }

    /// Resolves a (channel type, command type) pair from a header.
    pub fn from_parts(channel: ChannelType, command: u32) -> Result<Self, ProtoError> {
        match channel {
            ChannelType::VmToHost => GlobalCommand::try_from(command).map(CommandId::Global),
            ChannelType::VgpuToHost => VgpuCommand::try_from(command).map(CommandId::Vgpu),
            ChannelType::HostToVm => Err(ProtoError::BadType),
        }
    }
}

impl From<GlobalCommand> for CommandId {
    fn from(c: GlobalCommand) -> Self {
        CommandId::Global(c)
    }
}

impl From<VgpuCommand> for CommandId {
    fn from(c: VgpuCommand) -> Self {
        CommandId::Vgpu(c)
    }
}

impl fmt::Display for CommandId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for &c in VgpuCommand::ALL {
            assert_eq!(VgpuCommand::try_from(c.value()), Ok(c));
        }
        for &c in GlobalCommand::ALL {
            assert_eq!(GlobalCommand::try_from(c.value()), Ok(c));
        }
        for &c in HostCommand::ALL {
            assert_eq!(HostCommand::try_from(c.value()), Ok(c));
        }
        assert_eq!(VgpuCommand::ALL.len(), 68);
        assert_eq!(VgpuCommand::try_from(63), Err(ProtoError::UnknownCommand));
        assert_eq!(VgpuCommand::try_from(69), Err(ProtoError::UnknownCommand));
        assert_eq!(
            GlobalCommand::try_from(1012),
            Err(ProtoError::UnknownCommand)
        );
        assert_eq!(
            GlobalCommand::try_from(999),
            Err(ProtoError::UnknownCommand)
        );
        assert_eq!(HostCommand::try_from(5), Err(ProtoError::UnknownCommand));
        assert_eq!(ChannelType::try_from(3), Err(ProtoError::BadType));
        assert_eq!(VgpuCommand::SetExistingSysmemPages.value(), 66);
        assert_eq!(GlobalCommand::SetIoSpaceRegion.value(), 1010);
        assert_eq!(
            CommandId::from_parts(ChannelType::HostToVm, 0),
            Err(ProtoError::BadType)
        );
    }
}
