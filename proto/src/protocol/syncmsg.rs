// SPDX-License-Identifier: GPL-2.0

//! The variable-length sync messages: SIGNALSYNCOBJECT,
//! WAITFORSYNCOBJECTFROMCPU, WAITFORSYNCOBJECTFROMGPU (dxgkrnl dxgvmbus.c,
//! dxgvmb_send_signal_sync_object(), dxgvmb_send_wait_sync_object_cpu() and
//! dxgvmb_send_wait_sync_object_gpu()).
//!
//! Fence values are little-endian `u64`s that may sit at any byte offset
//! (after an odd number of 4-byte handles); the [`U64`] type reads them
//! without alignment requirements.

use zerocopy::little_endian::{U32, U64};
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::codec::{
    array_len, decode_fixed, fixed_arrays_codec, u32_from, usize_from, FixedArrays, Trailing,
};
use super::command::{CommandId, VgpuCommand};
use super::consts::{MAX_BROADCAST_CONTEXTS, MAX_OBJECTS_SIGNALED, MAX_OBJECTS_WAITED_ON};
use super::error::{ProtoError, ProtoResult};
use super::handle::Handle;
use super::header::{CommandHeader, Framing};

/// Maximum contexts of one SIGNALSYNCOBJECT: the named context plus up to
/// 64 broadcast contexts.
pub const MAX_SIGNAL_CONTEXTS: u32 = MAX_BROADCAST_CONTEXTS + 1;

/// SIGNALSYNCOBJECT flag bit 0: signal at submission.
pub const SIGNAL_FLAG_AT_SUBMISSION: u32 = 1 << 0;
/// SIGNALSYNCOBJECT flag bit 1: the host signals the guest event id in
/// `cpu_event_or_device` when the point is reached.
pub const SIGNAL_FLAG_ENQUEUE_CPU_EVENT: u32 = 1 << 1;
/// SIGNALSYNCOBJECT flag bit 2: allow the fence value to go backwards.
pub const SIGNAL_FLAG_ALLOW_FENCE_REWIND: u32 = 1 << 2;

/// Fixed part of SIGNALSYNCOBJECT (26): then `object_count` object handles,
/// `context_count` context handles, and either no fence values or one per
/// object. Reply: NTSTATUS (none when sent asynchronously).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct SignalSyncObject {
    /// vGPU header with the host process (async bit when asynchronous).
    pub hdr: CommandHeader,
    /// Number of objects.
    pub object_count: U32,
    /// `SIGNAL_FLAG_*` bits.
    pub flags: U32,
    /// Number of contexts (or hardware queues).
    pub context_count: U32,
    /// Padding.
    pub pad: U32,
    /// Legacy single fence value (non-monitored objects).
    pub fence_value: U64,
    /// With `SIGNAL_FLAG_ENQUEUE_CPU_EVENT`: a guest event id; otherwise the
    /// low 4 bytes hold a device handle (non-zero for CPU-side signals).
    pub cpu_event_or_device: U64,
}
const _: () = assert!(core::mem::size_of::<SignalSyncObject>() == 56);

/// Whether SIGNALSYNCOBJECT may carry `objects` objects and `contexts`
/// contexts with `flags`: 1 to 32 objects, at most 65 contexts; no object
/// only when the signal just enqueues a CPU event on contexts (what
/// dxgkrnl's ioctl.c dxgkio_signal_sync_object_gpu2() sends: with
/// ENQUEUE_CPU_EVENT, `object_count` must be 0 there).
const fn counts_ok(objects: u32, contexts: u32, flags: u32) -> bool {
    let event_only = flags & SIGNAL_FLAG_ENQUEUE_CPU_EVENT != 0 && contexts > 0;
    contexts <= MAX_SIGNAL_CONTEXTS
        && objects <= MAX_OBJECTS_SIGNALED
        && (objects > 0 || event_only)
}

/// A SIGNALSYNCOBJECT request.
///
/// The decoder cannot see whether fence values were sent; it takes one per
/// object when the bytes after the handles hold them (VMBus padding is
/// always shorter than one value), none otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalSyncObjectMsg<'a> {
    /// The fixed part; counts match the slices.
    pub cmd: SignalSyncObject,
    /// Objects to signal.
    pub objects: &'a [Handle],
    /// Contexts that signal (none for a CPU-side signal).
    pub contexts: &'a [Handle],
    /// Monitored-fence values, empty or one per object.
    pub fence_values: &'a [U64],
}

impl<'a> SignalSyncObjectMsg<'a> {
    /// A signal of `objects` from `contexts` (GPU) or from the CPU
    /// (`contexts` empty, `cpu_event_or_device` = the device handle).
    pub fn new(
        process: Handle,
        flags: u32,
        cpu_event_or_device: u64,
        objects: &'a [Handle],
        contexts: &'a [Handle],
        fence_values: &'a [U64],
    ) -> ProtoResult<Self> {
        let m = SignalSyncObjectMsg {
            cmd: SignalSyncObject {
                hdr: CommandHeader::vgpu(VgpuCommand::SignalSyncObject, process),
                object_count: U32::new(u32_from(objects.len())?),
                flags: U32::new(flags),
                context_count: U32::new(u32_from(contexts.len())?),
                pad: U32::new(0),
                fence_value: U64::new(0),
                cpu_event_or_device: U64::new(cpu_event_or_device),
            },
            objects,
            contexts,
            fence_values,
        };
        m.check()?;
        Ok(m)
    }

    fn check(&self) -> ProtoResult<()> {
        let n = self.cmd.object_count.get();
        let c = self.cmd.context_count.get();
        if !counts_ok(n, c, self.cmd.flags.get()) {
            return Err(ProtoError::BadCount);
        }
        if usize_from(n)? != self.objects.len()
            || usize_from(c)? != self.contexts.len()
            || !(self.fence_values.is_empty() || self.fence_values.len() == self.objects.len())
        {
            return Err(ProtoError::InvalidArgument);
        }
        Ok(())
    }

    /// The device handle in the low half of `cpu_event_or_device`.
    pub const fn device(&self) -> Handle {
        let [a, b, c, d, ..] = self.cmd.cpu_event_or_device.get().to_le_bytes();
        Handle::new(u32::from_le_bytes([a, b, c, d]))
    }

    fn wire(&self) -> FixedArrays<'_, SignalSyncObject, 3> {
        FixedArrays {
            id: CommandId::Vgpu(VgpuCommand::SignalSyncObject),
            cmd: &self.cmd,
            arrays: [
                Trailing::unchecked(self.objects),
                Trailing::unchecked(self.contexts),
                Trailing::unchecked(self.fence_values),
            ],
            slack: 0,
        }
    }

    fixed_arrays_codec!(check = Self::check);

    /// Decodes the command bytes (host side).
    pub fn decode(cmd: &'a [u8]) -> ProtoResult<Self> {
        let (fixed, mut r) =
            decode_fixed::<SignalSyncObject>(cmd, CommandId::Vgpu(VgpuCommand::SignalSyncObject))?;
        let n = fixed.object_count.get();
        let c = fixed.context_count.get();
        if !counts_ok(n, c, fixed.flags.get()) {
            return Err(ProtoError::BadCount);
        }
        let objects = r.take_counted::<Handle>(n)?;
        let contexts = r.take_counted::<Handle>(c)?;
        let n = usize_from(n)?;
        let fence_values = if r.remaining() >= array_len(0, n, 8)? {
            r.take_slice::<U64>(n)?
        } else {
            &[]
        };
        Ok(SignalSyncObjectMsg {
            cmd: fixed,
            objects,
            contexts,
            fence_values,
        })
    }
}

/// WAITFORSYNCOBJECTFROMCPU flag bit 0: wait for any object (else all).
pub const WAIT_FLAG_ANY: u32 = 1 << 0;

/// Fixed part of WAITFORSYNCOBJECTFROMCPU (22): then `object_count` handles
/// and `object_count` fence values. Reply: NTSTATUS (registration only;
/// completion arrives as SIGNALGUESTEVENT with the same event id).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct WaitFromCpu {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// The device.
    pub device: Handle,
    /// Number of objects, 1..=32.
    pub object_count: U32,
    /// `WAIT_FLAG_*` bits.
    pub flags: U32,
    /// Padding.
    pub pad0: U32,
    /// Guest event id (non-zero) the host signals.
    pub guest_event: U64,
    /// 0.
    pub dereference_event: u8,
    /// Padding.
    pub pad1: [u8; 7],
}
const _: () = assert!(core::mem::size_of::<WaitFromCpu>() == 56);

/// A WAITFORSYNCOBJECTFROMCPU request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitFromCpuMsg<'a> {
    /// The fixed part; `object_count` matches the slices.
    pub cmd: WaitFromCpu,
    /// Objects to wait for.
    pub objects: &'a [Handle],
    /// One fence value per object.
    pub fence_values: &'a [U64],
}

fn check_wait_count(n: usize) -> ProtoResult<u32> {
    let n = u32_from(n)?;
    if n == 0 || n > MAX_OBJECTS_WAITED_ON {
        return Err(ProtoError::BadCount);
    }
    Ok(n)
}

impl<'a> WaitFromCpuMsg<'a> {
    /// Registers a CPU wait for `objects` reaching `fence_values`, reported
    /// through `guest_event` (non-zero).
    pub fn new(
        process: Handle,
        device: Handle,
        flags: u32,
        guest_event: u64,
        objects: &'a [Handle],
        fence_values: &'a [U64],
    ) -> ProtoResult<Self> {
        if objects.len() != fence_values.len() {
            return Err(ProtoError::InvalidArgument);
        }
        if guest_event == 0 {
            return Err(ProtoError::BadValue);
        }
        Ok(WaitFromCpuMsg {
            cmd: WaitFromCpu {
                hdr: CommandHeader::vgpu(VgpuCommand::WaitForSyncObjectFromCpu, process),
                device,
                object_count: U32::new(check_wait_count(objects.len())?),
                flags: U32::new(flags),
                pad0: U32::new(0),
                guest_event: U64::new(guest_event),
                dereference_event: 0,
                pad1: [0; 7],
            },
            objects,
            fence_values,
        })
    }

    /// The wire form: 56 + 12n bytes plus the extension header.
    fn wire(&self) -> FixedArrays<'_, WaitFromCpu, 2> {
        let n = self.cmd.object_count.get();
        FixedArrays {
            id: CommandId::Vgpu(VgpuCommand::WaitForSyncObjectFromCpu),
            cmd: &self.cmd,
            arrays: [
                Trailing::counted(n, self.objects),
                Trailing::counted(n, self.fence_values),
            ],
            slack: 0,
        }
    }

    fixed_arrays_codec!();

    /// Decodes the command bytes (host side); rejects a zero event id.
    pub fn decode(cmd: &'a [u8]) -> ProtoResult<Self> {
        let (fixed, mut r) = decode_fixed::<WaitFromCpu>(
            cmd,
            CommandId::Vgpu(VgpuCommand::WaitForSyncObjectFromCpu),
        )?;
        let n = check_wait_count(usize_from(fixed.object_count.get())?)?;
        if fixed.guest_event.get() == 0 {
            return Err(ProtoError::BadValue);
        }
        let objects = r.take_counted::<Handle>(n)?;
        let fence_values = r.take_counted::<U64>(n)?;
        Ok(WaitFromCpuMsg {
            cmd: fixed,
            objects,
            fence_values,
        })
    }
}

/// Fixed part of WAITFORSYNCOBJECTFROMGPU (25): then `object_count` fence
/// values and `object_count` handles (values first). Reply: NTSTATUS (none
/// when asynchronous).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct WaitFromGpu {
    /// vGPU header with the host process (async bit when asynchronous).
    pub hdr: CommandHeader,
    /// Context or hardware queue that waits.
    pub context: Handle,
    /// Number of objects, 1..=32.
    pub object_count: U32,
    /// 1 for a legacy fence object (then exactly one object and value).
    pub legacy_fence_object: u8,
    /// Padding.
    pub pad: [u8; 7],
}
const _: () = assert!(core::mem::size_of::<WaitFromGpu>() == 40);

/// A WAITFORSYNCOBJECTFROMGPU request (40 + 12n bytes, as older originals
/// send; newer ones add 8 slack bytes, which the decoder accepts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitFromGpuMsg<'a> {
    /// The fixed part; `object_count` matches the slices.
    pub cmd: WaitFromGpu,
    /// One fence value per object.
    pub fence_values: &'a [U64],
    /// Objects to wait for.
    pub objects: &'a [Handle],
}

impl<'a> WaitFromGpuMsg<'a> {
    /// Makes `context` wait until `objects` reach `fence_values`.
    pub fn new(
        process: Handle,
        context: Handle,
        objects: &'a [Handle],
        fence_values: &'a [U64],
    ) -> ProtoResult<Self> {
        if objects.len() != fence_values.len() {
            return Err(ProtoError::InvalidArgument);
        }
        Ok(WaitFromGpuMsg {
            cmd: WaitFromGpu {
                hdr: CommandHeader::vgpu(VgpuCommand::WaitForSyncObjectFromGpu, process),
                context,
                object_count: U32::new(check_wait_count(objects.len())?),
                legacy_fence_object: 0,
                pad: [0; 7],
            },
            fence_values,
            objects,
        })
    }

    fn wire(&self) -> FixedArrays<'_, WaitFromGpu, 2> {
        let n = self.cmd.object_count.get();
        FixedArrays {
            id: CommandId::Vgpu(VgpuCommand::WaitForSyncObjectFromGpu),
            cmd: &self.cmd,
            arrays: [
                Trailing::counted(n, self.fence_values),
                Trailing::counted(n, self.objects),
            ],
            slack: 0,
        }
    }

    fixed_arrays_codec!();

    /// Decodes the command bytes (host side).
    pub fn decode(cmd: &'a [u8]) -> ProtoResult<Self> {
        let (fixed, mut r) = decode_fixed::<WaitFromGpu>(
            cmd,
            CommandId::Vgpu(VgpuCommand::WaitForSyncObjectFromGpu),
        )?;
        let n = check_wait_count(usize_from(fixed.object_count.get())?)?;
        let fence_values = r.take_counted::<U64>(n)?;
        let objects = r.take_counted::<Handle>(n)?;
        Ok(WaitFromGpuMsg {
            cmd: fixed,
            fence_values,
            objects,
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
        assert_eq!(offset_of!(SignalSyncObject, object_count), 24);
        assert_eq!(offset_of!(SignalSyncObject, flags), 28);
        assert_eq!(offset_of!(SignalSyncObject, context_count), 32);
        assert_eq!(offset_of!(SignalSyncObject, fence_value), 40);
        assert_eq!(offset_of!(SignalSyncObject, cpu_event_or_device), 48);
        assert_eq!(offset_of!(WaitFromCpu, object_count), 28);
        assert_eq!(offset_of!(WaitFromCpu, flags), 32);
        assert_eq!(offset_of!(WaitFromCpu, guest_event), 40);
        assert_eq!(offset_of!(WaitFromCpu, dereference_event), 48);
        assert_eq!(offset_of!(WaitFromGpu, object_count), 28);
        assert_eq!(offset_of!(WaitFromGpu, legacy_fence_object), 32);
    }

    #[test]
    fn signal_round_trip() {
        let f = Framing::with_ext_header(Luid::new(1, 0));
        let objs = [Handle::new(0x40)];
        let ctxs = [Handle::new(0x80), Handle::new(0xc0)];
        let vals = [U64::new(7)];
        let mut buf = [0u8; 256];
        // GPU signal with fence values; values sit at an unaligned offset.
        let m = SignalSyncObjectMsg::new(Handle::new(1), 0, 0, &objs, &ctxs, &vals).unwrap();
        let n = m.encode(&f, &mut buf).unwrap();
        assert_eq!(n, 16 + 56 + 12 + 8);
        assert_eq!(n, m.encoded_len(&f).unwrap());
        assert_eq!(SignalSyncObjectMsg::decode(&buf[16..n]), Ok(m));
        // Without values, with VMBus padding after the handles.
        let m2 = SignalSyncObjectMsg::new(Handle::new(1), 0, 5, &objs, &ctxs, &[]).unwrap();
        let n2 = m2.encode(&f, &mut buf).unwrap();
        assert_eq!(SignalSyncObjectMsg::decode(&buf[16..n2 + 4]), Ok(m2));
        assert_eq!(m2.device(), Handle::new(5));
        assert_eq!(
            SignalSyncObjectMsg::new(Handle::new(1), 0, 0, &objs, &[], &[U64::new(1); 2]),
            Err(ProtoError::InvalidArgument)
        );
        assert_eq!(
            SignalSyncObjectMsg::new(Handle::new(1), 0, 0, &[], &[], &[]),
            Err(ProtoError::BadCount)
        );
    }

    #[test]
    fn wait_round_trip() {
        let f = Framing::without_ext_header();
        let objs = [Handle::new(0x40), Handle::new(0x80), Handle::new(0xc0)];
        let vals = [U64::new(1), U64::new(2), U64::new(u64::MAX)];
        let mut buf = [0u8; 256];
        let c = WaitFromCpuMsg::new(
            Handle::new(1),
            Handle::new(2),
            WAIT_FLAG_ANY,
            9,
            &objs,
            &vals,
        )
        .unwrap();
        let n = c.encode(&f, &mut buf).unwrap();
        assert_eq!(n, 56 + 36);
        assert_eq!(WaitFromCpuMsg::decode(&buf[..n]), Ok(c));
        assert_eq!(
            WaitFromCpuMsg::decode(&buf[..n - 1]),
            Err(ProtoError::Truncated)
        );
        let mut zero = buf;
        zero[40..48].fill(0);
        assert_eq!(
            WaitFromCpuMsg::decode(&zero[..n]),
            Err(ProtoError::BadValue)
        );
        let g = WaitFromGpuMsg::new(Handle::new(1), Handle::new(3), &objs, &vals).unwrap();
        let n = g.encode(&f, &mut buf).unwrap();
        assert_eq!(n, 40 + 36);
        assert_eq!(n, g.encoded_len(&f).unwrap());
        assert_eq!(WaitFromGpuMsg::decode(&buf[..n + 8]), Ok(g));
        assert_eq!(&buf[40..48], &1u64.to_le_bytes());
        let mut big = buf;
        big[28] = 33;
        assert_eq!(WaitFromGpuMsg::decode(&big[..n]), Err(ProtoError::BadCount));
    }
}
