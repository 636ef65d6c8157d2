// SPDX-License-Identifier: GPL-2.0

//! Submission: SUBMITCOMMAND (dxgkrnl dxgvmbus.c,
//! dxgvmb_send_submit_command()).
//!
//! The host executes the command buffer at a GPU virtual address; its
//! contents are never sent. Ordering against fences is expressed with a
//! WAITFORSYNCOBJECTFROMGPU before and a SIGNALSYNCOBJECT after the
//! submission on the same context.

use zerocopy::little_endian::{U32, U64};
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::codec::{decode_fixed, fixed_arrays_codec, u32_from, FixedArrays, Trailing};
use super::command::{CommandId, VgpuCommand};
use super::consts::{MAX_BROADCAST_CONTEXTS, MAX_HISTORY_BUFFERS, MAX_WRITTEN_PRIMARIES};
use super::error::{ProtoError, ProtoResult};
use super::handle::Handle;
use super::header::{CommandHeader, Framing};

/// SUBMITCOMMAND flag bit 0: null rendering.
pub const SUBMIT_FLAG_NULL_RENDERING: u32 = 1 << 0;
/// SUBMITCOMMAND flag bit 1: present redirected.
pub const SUBMIT_FLAG_PRESENT_REDIRECTED: u32 = 1 << 1;

/// Fixed part of SUBMITCOMMAND (20): header and the 384-byte argument
/// block; then `num_history_buffers` handles and `priv_drv_data_size` bytes
/// of driver private data. Reply: NTSTATUS (none when asynchronous).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct SubmitCommand {
    /// vGPU header with the host process (async bit when asynchronous).
    pub hdr: CommandHeader,
    /// GPU VA of the command buffer.
    pub command_buffer: U64,
    /// Command buffer length in bytes.
    pub command_length: U32,
    /// `SUBMIT_FLAG_*` bits.
    pub flags: U32,
    /// Present history token.
    pub present_history_token: U64,
    /// Number of valid entries in `broadcast_context`, 1..=64.
    pub broadcast_context_count: U32,
    /// Contexts to submit to.
    pub broadcast_context: [Handle; MAX_BROADCAST_CONTEXTS as usize],
    /// Reserved.
    pub reserved: U32,
    /// User pointer field of the original; always 0 here.
    pub priv_drv_data: U64,
    /// Size of the private data that follows the history handles.
    pub priv_drv_data_size: U32,
    /// Number of valid entries in `written_primaries`.
    pub num_primaries: U32,
    /// Written primaries.
    pub written_primaries: [Handle; MAX_WRITTEN_PRIMARIES as usize],
    /// Number of history-buffer handles that follow.
    pub num_history_buffers: U32,
    /// Reserved.
    pub reserved1: U32,
    /// User pointer field of the original; always 0 here.
    pub history_buffer_array: U64,
}
const _: () = assert!(core::mem::size_of::<SubmitCommand>() == 408);

/// A SUBMITCOMMAND request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubmitCommandMsg<'a> {
    /// The fixed part; counts and sizes match the slices.
    pub cmd: SubmitCommand,
    /// History-buffer handles.
    pub history: &'a [Handle],
    /// Driver private data.
    pub priv_data: &'a [u8],
}

impl<'a> SubmitCommandMsg<'a> {
    /// Submits `command_length` bytes at GPU VA `command_buffer` to
    /// `contexts` (1..=64).
    pub fn new(
        process: Handle,
        command_buffer: u64,
        command_length: u32,
        flags: u32,
        contexts: &[Handle],
        history: &'a [Handle],
        priv_data: &'a [u8],
    ) -> ProtoResult<Self> {
        let mut broadcast = [Handle::NULL; MAX_BROADCAST_CONTEXTS as usize];
        if contexts.is_empty() || contexts.len() > broadcast.len() {
            return Err(ProtoError::BadCount);
        }
        for (d, s) in broadcast.iter_mut().zip(contexts) {
            *d = *s;
        }
        let m = SubmitCommandMsg {
            cmd: SubmitCommand {
                hdr: CommandHeader::vgpu(VgpuCommand::SubmitCommand, process),
                command_buffer: U64::new(command_buffer),
                command_length: U32::new(command_length),
                flags: U32::new(flags),
                present_history_token: U64::new(0),
                broadcast_context_count: U32::new(u32_from(contexts.len())?),
                broadcast_context: broadcast,
                reserved: U32::new(0),
                priv_drv_data: U64::new(0),
                priv_drv_data_size: U32::new(u32_from(priv_data.len())?),
                num_primaries: U32::new(0),
                written_primaries: [Handle::NULL; MAX_WRITTEN_PRIMARIES as usize],
                num_history_buffers: U32::new(u32_from(history.len())?),
                reserved1: U32::new(0),
                history_buffer_array: U64::new(0),
            },
            history,
            priv_data,
        };
        check_counts(&m.cmd)?;
        Ok(m)
    }

    /// The valid broadcast contexts.
    pub fn contexts(&self) -> &[Handle] {
        let n = usize::try_from(self.cmd.broadcast_context_count.get()).unwrap_or(0);
        self.cmd.broadcast_context.get(..n).unwrap_or(&[])
    }

    fn wire(&self) -> FixedArrays<'_, SubmitCommand, 2> {
        FixedArrays {
            id: CommandId::Vgpu(VgpuCommand::SubmitCommand),
            cmd: &self.cmd,
            arrays: [
                Trailing::counted(self.cmd.num_history_buffers.get(), self.history),
                Trailing::counted(self.cmd.priv_drv_data_size.get(), self.priv_data),
            ],
            slack: 0,
        }
    }

    fixed_arrays_codec!(check = |m: &Self| check_counts(&m.cmd));

    /// Decodes the command bytes (host side).
    pub fn decode(cmd: &'a [u8]) -> ProtoResult<Self> {
        let (fixed, mut r) =
            decode_fixed::<SubmitCommand>(cmd, CommandId::Vgpu(VgpuCommand::SubmitCommand))?;
        check_counts(&fixed)?;
        let history = r.take_counted::<Handle>(fixed.num_history_buffers.get())?;
        let priv_data = r.take_counted::<u8>(fixed.priv_drv_data_size.get())?;
        Ok(SubmitCommandMsg {
            cmd: fixed,
            history,
            priv_data,
        })
    }
}

fn check_counts(c: &SubmitCommand) -> ProtoResult<()> {
    let b = c.broadcast_context_count.get();
    if b == 0
        || b > MAX_BROADCAST_CONTEXTS
        || c.num_primaries.get() > MAX_WRITTEN_PRIMARIES
        || c.num_history_buffers.get() > MAX_HISTORY_BUFFERS
    {
        return Err(ProtoError::BadCount);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::guid::Luid;
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn layout() {
        type S = SubmitCommand;
        assert_eq!(offset_of!(S, command_buffer), 24);
        assert_eq!(offset_of!(S, command_length), 32);
        assert_eq!(offset_of!(S, flags), 36);
        assert_eq!(offset_of!(S, present_history_token), 40);
        assert_eq!(offset_of!(S, broadcast_context_count), 48);
        assert_eq!(offset_of!(S, broadcast_context), 52);
        assert_eq!(offset_of!(S, reserved), 308);
        assert_eq!(offset_of!(S, priv_drv_data), 312);
        assert_eq!(offset_of!(S, priv_drv_data_size), 320);
        assert_eq!(offset_of!(S, num_primaries), 324);
        assert_eq!(offset_of!(S, written_primaries), 328);
        assert_eq!(offset_of!(S, num_history_buffers), 392);
        assert_eq!(offset_of!(S, history_buffer_array), 400);
    }

    #[test]
    fn round_trip() {
        let ctx = [Handle::new(0x40)];
        let hist = [Handle::new(1), Handle::new(2)];
        let m =
            SubmitCommandMsg::new(Handle::new(1), 0x10_0000, 256, 0, &ctx, &hist, b"pd").unwrap();
        let f = Framing::with_ext_header(Luid::new(1, 0));
        let mut buf = [0u8; 512];
        let n = m.encode(&f, &mut buf).unwrap();
        assert_eq!(n, 16 + 408 + 8 + 2);
        assert_eq!(n, m.encoded_len(&f).unwrap());
        let d = SubmitCommandMsg::decode(&buf[16..n]).unwrap();
        assert_eq!(d, m);
        assert_eq!(d.contexts(), &ctx);
        assert_eq!(
            SubmitCommandMsg::decode(&buf[16..n - 1]),
            Err(ProtoError::Truncated)
        );
        let mut bad = buf;
        bad[16 + 48] = 65;
        assert_eq!(
            SubmitCommandMsg::decode(&bad[16..n]),
            Err(ProtoError::BadCount)
        );
        assert_eq!(
            SubmitCommandMsg::new(Handle::new(1), 0, 0, 0, &[], &[], &[]),
            Err(ProtoError::BadCount)
        );
    }
}
