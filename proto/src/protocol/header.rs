// SPDX-License-Identifier: GPL-2.0

//! dxgkrnl message framing: the extension header (dxgkrnl dxgvmbus.c,
//! struct dxgvmb_ext_header, added by init_message()) and the command
//! headers (dxgvmbus.h, struct dxgkvmb_command_vm_to_host,
//! dxgkvmb_command_vgpu_to_host and dxgkvmb_command_host_to_vm).
//!
//! A guest-to-host message is `[ExtHeader]` (only when the negotiated
//! version is >= 40) followed by a command structure whose first 24 bytes
//! are a [`CommandHeader`]. Host-to-guest messages never carry an extension
//! header.

use zerocopy::little_endian::{U32, U64};
use zerocopy::FromBytes;
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::command::{ChannelType, CommandId, GlobalCommand, HostCommand, VgpuCommand};
use super::consts::VERSION_EXT_HEADER;
use super::error::{ProtoError, ProtoResult};
use super::guid::Luid;
use super::handle::Handle;

/// The 16-byte extension header prepended to every guest-to-host message
/// when the interface version is >= 40.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct ExtHeader {
    /// Byte offset from the message start to the command header; always 16.
    pub command_offset: U32,
    /// Zero.
    pub reserved: U32,
    /// vGPU LUID of the target adapter; zero for VM-level commands.
    pub vgpu_luid: Luid,
}

/// Size of [`ExtHeader`].
pub const EXT_HEADER_SIZE: usize = 16;
const _: () = assert!(core::mem::size_of::<ExtHeader>() == EXT_HEADER_SIZE);

impl ExtHeader {
    /// An extension header addressing `vgpu_luid`.
    pub const fn new(vgpu_luid: Luid) -> Self {
        ExtHeader {
            command_offset: U32::new(EXT_HEADER_SIZE as u32),
            reserved: U32::new(0),
            vgpu_luid,
        }
    }

    /// Checks `command_offset == 16` and `reserved == 0`.
    pub fn validate(&self) -> ProtoResult<()> {
        if self.command_offset.get() as usize != EXT_HEADER_SIZE || self.reserved.get() != 0 {
            return Err(ProtoError::BadValue);
        }
        Ok(())
    }
}

/// Bit 8 of the channel dword: the message was sent asynchronously (no
/// completion requested, transaction id 0).
pub const ASYNC_MSG_BIT: u32 = 1 << 8;

/// The 24-byte command header. The three header kinds of the protocol
/// (VM-to-host, vGPU-to-host, host-to-VM) share this layout.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct CommandHeader {
    /// Always 0.
    pub command_id: U64,
    /// Host process handle, or 0 for commands that have none.
    pub process: Handle,
    /// Bits 0-7: [`ChannelType`]; bit 8: [`ASYNC_MSG_BIT`]; bits 9-31: 0.
    pub channel: U32,
    /// The command id ([`GlobalCommand`], [`VgpuCommand`] or [`HostCommand`]).
    pub command_type: U32,
    /// Padding to 24 bytes.
    pub reserved: U32,
}

/// Size of [`CommandHeader`].
pub const COMMAND_HEADER_SIZE: usize = 24;
const _: () = assert!(core::mem::size_of::<CommandHeader>() == COMMAND_HEADER_SIZE);

impl CommandHeader {
    /// A guest-to-host header for `id` on behalf of `process`.
    pub const fn new(id: CommandId, process: Handle) -> Self {
        CommandHeader {
            command_id: U64::new(0),
            process,
            channel: U32::new(id.channel_type().value()),
            command_type: U32::new(id.value()),
            reserved: U32::new(0),
        }
    }

    /// A VM-level (global channel) header.
    pub const fn global(cmd: GlobalCommand, process: Handle) -> Self {
        CommandHeader::new(CommandId::Global(cmd), process)
    }

    /// A per-vGPU header.
    pub const fn vgpu(cmd: VgpuCommand, process: Handle) -> Self {
        CommandHeader::new(CommandId::Vgpu(cmd), process)
    }

    /// A host-to-guest header (channel type `HostToVm`, process 0).
    pub const fn host(cmd: HostCommand) -> Self {
        CommandHeader {
            command_id: U64::new(0),
            process: Handle::NULL,
            channel: U32::new(ChannelType::HostToVm.value()),
            command_type: U32::new(cmd.value()),
            reserved: U32::new(0),
        }
    }

    /// The same header with the async bit set (SUBMITCOMMAND,
    /// SIGNALSYNCOBJECT, WAITFORSYNCOBJECTFROMGPU, SUBMITCOMMANDTOHWQUEUE when
    /// the host enabled asynchronous messages).
    pub const fn with_async(self, asynchronous: bool) -> Self {
        let ch = self.channel.get();
        let ch = if asynchronous {
            ch | ASYNC_MSG_BIT
        } else {
            ch & !ASYNC_MSG_BIT
        };
        CommandHeader {
            channel: U32::new(ch),
            ..self
        }
    }

    /// The channel type in bits 0-7.
    pub fn channel_type(&self) -> ProtoResult<ChannelType> {
        ChannelType::try_from(self.channel.get() & 0xff)
    }

    /// True if the async bit is set.
    pub const fn is_async(&self) -> bool {
        self.channel.get() & ASYNC_MSG_BIT != 0
    }

    /// The guest-to-host command this header names.
    pub fn command(&self) -> ProtoResult<CommandId> {
        CommandId::from_parts(self.channel_type()?, self.command_type.get())
    }

    /// The host-to-guest command this header names. Like the original
    /// driver, the channel type is not checked.
    pub fn host_command(&self) -> ProtoResult<HostCommand> {
        HostCommand::try_from(self.command_type.get())
    }

    /// Strict check of a guest-to-host header: `command_id == 0`, reserved
    /// channel bits and padding zero, and the async bit only on a vGPU
    /// command. Returns the command id.
    pub fn validate(&self) -> ProtoResult<CommandId> {
        let id = self.command()?;
        if self.command_id.get() != 0
            || self.reserved.get() != 0
            || self.channel.get() & !(0xff | ASYNC_MSG_BIT) != 0
        {
            return Err(ProtoError::BadValue);
        }
        if self.is_async() && matches!(id, CommandId::Global(_)) {
            return Err(ProtoError::BadValue);
        }
        Ok(id)
    }
}

/// How guest-to-host messages are framed for one adapter (or for the
/// VM-level channel): with or without the extension header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Framing {
    ext: Option<Luid>,
}

impl Framing {
    /// Framing for `version`: with an extension header carrying `vgpu_luid`
    /// when `version >= 40`. Use [`Luid::ZERO`] for VM-level commands.
    pub const fn new(version: u32, vgpu_luid: Luid) -> Self {
        if version >= VERSION_EXT_HEADER {
            Framing {
                ext: Some(vgpu_luid),
            }
        } else {
            Framing { ext: None }
        }
    }

    /// Framing without an extension header (version < 40).
    pub const fn without_ext_header() -> Self {
        Framing { ext: None }
    }

    /// Framing with an extension header naming `vgpu_luid`.
    pub const fn with_ext_header(vgpu_luid: Luid) -> Self {
        Framing {
            ext: Some(vgpu_luid),
        }
    }

    /// Bytes before the command header (0 or 16).
    pub const fn prefix_len(&self) -> usize {
        match self.ext {
            Some(_) => EXT_HEADER_SIZE,
            None => 0,
        }
    }

    /// The extension header to prepend, if any.
    pub const fn ext_header(&self) -> Option<ExtHeader> {
        match self.ext {
            Some(l) => Some(ExtHeader::new(l)),
            None => None,
        }
    }
}

/// Marks an encoded vGPU message (`msg`, as encoded with `framing`) as
/// sent asynchronously: sets [`ASYNC_MSG_BIT`] in its command header, as
/// the original does (`command->hdr.async_msg = 1`) before an
/// asynchronous send.
pub fn mark_async(msg: &mut [u8], framing: &Framing) -> ProtoResult<()> {
    let at = framing.prefix_len();
    let bytes = msg.get_mut(at..).ok_or(ProtoError::Truncated)?;
    let (hdr, _) = CommandHeader::read_from_prefix(bytes).map_err(|_| ProtoError::Truncated)?;
    if !matches!(hdr.command()?, CommandId::Vgpu(_)) {
        return Err(ProtoError::InvalidArgument);
    }
    let hdr = hdr.with_async(true);
    let out = bytes
        .get_mut(..COMMAND_HEADER_SIZE)
        .ok_or(ProtoError::Truncated)?;
    out.copy_from_slice(zerocopy::IntoBytes::as_bytes(&hdr));
    Ok(())
}

/// A parsed guest-to-host message (host side).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestMessage<'a> {
    /// The extension header, if the framing has one.
    pub ext: Option<ExtHeader>,
    /// A copy of the command header.
    pub header: CommandHeader,
    /// The command the header names.
    pub id: CommandId,
    /// The command bytes, starting at the command header. Every
    /// `decode` function of this module takes this slice.
    pub command: &'a [u8],
}

/// Splits a guest-to-host message (a VMBus in-band payload) into extension
/// header and command, validating both strictly ([`ExtHeader::validate`],
/// [`CommandHeader::validate`]). `ext_header` says whether the negotiated
/// version carries the extension header.
pub fn parse_guest_message(bytes: &[u8], ext_header: bool) -> ProtoResult<GuestMessage<'_>> {
    if bytes.len() > super::consts::MAX_MESSAGE_SIZE {
        return Err(ProtoError::TooLarge);
    }
    let (ext, command) = if ext_header {
        let (e, rest) = ExtHeader::read_from_prefix(bytes).map_err(|_| ProtoError::Truncated)?;
        e.validate()?;
        (Some(e), rest)
    } else {
        (None, bytes)
    };
    let (header, _) =
        CommandHeader::read_from_prefix(command).map_err(|_| ProtoError::Truncated)?;
    let id = header.validate()?;
    Ok(GuestMessage {
        ext,
        header,
        id,
        command,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::offset_of;
    use zerocopy::IntoBytes;

    #[test]
    fn layout() {
        assert_eq!(offset_of!(ExtHeader, command_offset), 0);
        assert_eq!(offset_of!(ExtHeader, vgpu_luid), 8);
        assert_eq!(offset_of!(CommandHeader, process), 8);
        assert_eq!(offset_of!(CommandHeader, channel), 12);
        assert_eq!(offset_of!(CommandHeader, command_type), 16);
        let h = CommandHeader::global(GlobalCommand::CreateProcess, Handle::NULL);
        let b = h.as_bytes();
        assert_eq!(&b[12..20], &[1, 0, 0, 0, 0xe8, 0x03, 0, 0]);
        let h = CommandHeader::vgpu(VgpuCommand::SubmitCommand, Handle::new(7)).with_async(true);
        assert_eq!(&h.as_bytes()[8..20], &[7, 0, 0, 0, 0, 1, 0, 0, 20, 0, 0, 0]);
        assert!(h.is_async());
        assert!(!h.with_async(false).is_async());
    }

    #[test]
    fn parse() {
        let mut buf = [0u8; 40];
        let e = ExtHeader::new(Luid::new(5, 6));
        buf[..16].copy_from_slice(e.as_bytes());
        let h = CommandHeader::vgpu(VgpuCommand::CreateDevice, Handle::new(9));
        buf[16..40].copy_from_slice(h.as_bytes());
        let m = parse_guest_message(&buf, true).unwrap();
        assert_eq!(m.ext, Some(e));
        assert_eq!(m.header, h);
        assert_eq!(m.id, CommandId::Vgpu(VgpuCommand::CreateDevice));
        assert_eq!(m.command.len(), 24);
        assert_eq!(parse_guest_message(&buf[16..], false).unwrap().header, h);
        assert_eq!(
            parse_guest_message(&buf[..39], true).unwrap_err(),
            ProtoError::Truncated
        );
        let mut bad = buf;
        bad[0] = 17;
        assert_eq!(
            parse_guest_message(&bad, true).unwrap_err(),
            ProtoError::BadValue
        );
        let mut bad = buf;
        bad[16 + 12] = 2;
        assert_eq!(
            parse_guest_message(&bad, true).unwrap_err(),
            ProtoError::BadType
        );
        let mut bad = buf;
        bad[16] = 1;
        assert_eq!(
            parse_guest_message(&bad, true).unwrap_err(),
            ProtoError::BadValue
        );
        let mut bad = buf;
        bad[16 + 16] = 63;
        assert_eq!(
            parse_guest_message(&bad, true).unwrap_err(),
            ProtoError::UnknownCommand
        );
        let g = CommandHeader::global(GlobalCommand::DestroyProcess, Handle::new(1));
        assert_eq!(
            parse_guest_message(g.with_async(true).as_bytes(), false).unwrap_err(),
            ProtoError::BadValue
        );
        assert_eq!(Framing::new(27, Luid::ZERO).prefix_len(), 0);
        assert_eq!(Framing::new(40, Luid::ZERO).prefix_len(), 16);
    }

    #[test]
    fn mark_async_sets_the_bit_after_the_ext_header() {
        let f = Framing::with_ext_header(Luid::ZERO);
        let h = CommandHeader::vgpu(VgpuCommand::SubmitCommand, Handle::new(7));
        let mut msg = std::vec![0u8; f.prefix_len()];
        msg.extend_from_slice(zerocopy::IntoBytes::as_bytes(&h));
        mark_async(&mut msg, &f).unwrap();
        let (got, _) = CommandHeader::read_from_prefix(&msg[f.prefix_len()..]).unwrap();
        assert!(got.is_async());
        assert_eq!(got.with_async(false), h);
        let g = CommandHeader::global(GlobalCommand::CreateProcess, Handle::NULL);
        let mut m2 = zerocopy::IntoBytes::as_bytes(&g).to_vec();
        assert!(mark_async(&mut m2, &Framing::without_ext_header()).is_err());
        assert!(mark_async(&mut [0u8; 4], &Framing::without_ext_header()).is_err());
    }
}
