// SPDX-License-Identifier: GPL-2.0

//! Adapter-level vGPU commands: OPENADAPTER, CLOSEADAPTER,
//! GETINTERNALADAPTERINFO, QUERYADAPTERINFO (dxgkrnl dxgvmbus.c,
//! dxgvmb_send_open_adapter(), dxgvmb_send_close_adapter(),
//! dxgvmb_send_get_internal_adapter_info() and
//! dxgvmb_send_query_adapter_info()).

use zerocopy::little_endian::{U16, U32};
use zerocopy::{FromZeros, IntoBytes};
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::codec::{expect_command, impl_command, u32_from, usize_from, Reader, Writer};
use super::command::{CommandId, VgpuCommand};
use super::consts::{
    DEVICE_DESCRIPTION_LEN, DEVICE_INSTANCE_ID_LEN, VERSION_EXT_HEADER, VERSION_LAST_COMPATIBLE,
};
use super::error::{ProtoError, ProtoResult};
use super::guid::Luid;
use super::handle::Handle;
use super::header::{CommandHeader, Framing};
use super::status::{NtStatus, STATUS_SUCCESS};
use super::validate::utf16_until_nul;

/// OPENADAPTER (14), process 0. Reply: [`OpenAdapterReply`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct OpenAdapter {
    /// vGPU header, process 0.
    pub hdr: CommandHeader,
    /// The negotiated interface version.
    pub vmbus_interface_version: U32,
    /// Oldest compatible version (16).
    pub vmbus_last_compatible_interface_version: U32,
    /// Left zero.
    pub guest_adapter_luid: Luid,
}
impl_command!(OpenAdapter, CommandId::Vgpu(VgpuCommand::OpenAdapter), 40);

impl OpenAdapter {
    /// OPENADAPTER speaking `version`.
    pub const fn new(version: u32) -> Self {
        OpenAdapter {
            hdr: CommandHeader::vgpu(VgpuCommand::OpenAdapter, Handle::NULL),
            vmbus_interface_version: U32::new(version),
            vmbus_last_compatible_interface_version: U32::new(VERSION_LAST_COMPATIBLE),
            guest_adapter_luid: Luid::ZERO,
        }
    }
}

/// Reply of OPENADAPTER.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct OpenAdapterReply {
    /// Host adapter handle.
    pub host_adapter_handle: Handle,
    /// Status.
    pub status: NtStatus,
    /// Host's version (informational).
    pub vmbus_interface_version: U32,
    /// Host's oldest compatible version (informational).
    pub vmbus_last_compatible_interface_version: U32,
}

impl OpenAdapterReply {
    /// The adapter handle if the status is a success and the handle is
    /// non-zero; `Err(errno)` otherwise (unlike the original, the handle of a
    /// failed open is never used).
    pub fn validate(&self) -> Result<Handle, i32> {
        self.status.check()?;
        self.host_adapter_handle
            .non_null()
            .map_err(ProtoError::errno)
    }
}

/// CLOSEADAPTER (15), process 0. The guest reads no reply payload (a
/// completion must still arrive).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct CloseAdapter {
    /// vGPU header, process 0.
    pub hdr: CommandHeader,
    /// Host adapter handle.
    pub host_handle: Handle,
    /// Padding.
    pub pad: U32,
}
impl_command!(CloseAdapter, CommandId::Vgpu(VgpuCommand::CloseAdapter), 32);

impl CloseAdapter {
    /// Closes `host_handle`.
    pub const fn new(host_handle: Handle) -> Self {
        CloseAdapter {
            hdr: CommandHeader::vgpu(VgpuCommand::CloseAdapter, Handle::NULL),
            host_handle,
            pad: U32::new(0),
        }
    }
}

/// GETINTERNALADAPTERINFO (36): header only, process 0. Reply:
/// [`AdapterInfoReply`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct GetInternalAdapterInfo {
    /// vGPU header, process 0.
    pub hdr: CommandHeader,
}
impl_command!(
    GetInternalAdapterInfo,
    CommandId::Vgpu(VgpuCommand::GetInternalAdapterInfo),
    24
);

impl GetInternalAdapterInfo {
    /// The request.
    pub const fn new() -> Self {
        GetInternalAdapterInfo {
            hdr: CommandHeader::vgpu(VgpuCommand::GetInternalAdapterInfo, Handle::NULL),
        }
    }
}

impl Default for GetInternalAdapterInfo {
    fn default() -> Self {
        Self::new()
    }
}

/// `AdapterInfoReply::flags` bit 6: the host wants all vGPU messages on the
/// global channel and accepts asynchronous submissions.
pub const ADAPTER_INFO_ASYNC_MSG_ENABLED: u32 = 1 << 6;
/// `AdapterInfoReply::flags` bit 3: hardware scheduling enabled.
pub const ADAPTER_INFO_HW_SCH_ENABLED: u32 = 1 << 3;
/// `AdapterInfoReply::device_types` bit 14: virtual render device.
pub const DEVICE_TYPE_VIRTUAL_RENDER: u32 = 1 << 14;

/// Reply of GETINTERNALADAPTERINFO: 712 bytes for version >= 40, 704 below
/// (then `host_vgpu_luid` is absent and decodes as zero).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct AdapterInfoReply {
    /// Device type bits (`DEVICE_TYPE_*`).
    pub device_types: U32,
    /// Driver-store copy mode.
    pub driver_store_copy_mode: U32,
    /// Driver DDI version.
    pub driver_ddi_version: U32,
    /// `ADAPTER_INFO_*` bits.
    pub flags: U32,
    /// Host adapter LUID (substituted into QUERYSTATISTICS).
    pub host_adapter_luid: Luid,
    /// UTF-16 description, not necessarily NUL terminated.
    pub device_description: [U16; DEVICE_DESCRIPTION_LEN],
    /// UTF-16 instance id, not necessarily NUL terminated.
    pub device_instance_id: [U16; DEVICE_INSTANCE_ID_LEN],
    /// vGPU LUID for the extension header (version >= 40 only).
    pub host_vgpu_luid: Luid,
}

/// Size of [`AdapterInfoReply`] below version 40.
pub const ADAPTER_INFO_REPLY_SIZE_OLD: usize = 704;
const _: () = assert!(core::mem::size_of::<AdapterInfoReply>() == 712);
const _: () = assert!(core::mem::size_of::<OpenAdapterReply>() == 16);

impl AdapterInfoReply {
    /// Reply length for `version`.
    pub const fn size_for(version: u32) -> usize {
        if version >= VERSION_EXT_HEADER {
            core::mem::size_of::<AdapterInfoReply>()
        } else {
            ADAPTER_INFO_REPLY_SIZE_OLD
        }
    }

    /// Decodes the reply for `version`.
    pub fn decode(payload: &[u8], version: u32) -> ProtoResult<Self> {
        let want = AdapterInfoReply::size_for(version);
        let src = payload.get(..want).ok_or(ProtoError::Truncated)?;
        let mut r = AdapterInfoReply::new_zeroed();
        let dst = r
            .as_mut_bytes()
            .get_mut(..want)
            .ok_or(ProtoError::Truncated)?;
        dst.copy_from_slice(src);
        Ok(r)
    }

    /// Encodes the reply for `version` (host side); returns its length.
    pub fn encode(&self, version: u32, buf: &mut [u8]) -> ProtoResult<usize> {
        let want = AdapterInfoReply::size_for(version);
        let src = self.as_bytes().get(..want).ok_or(ProtoError::Truncated)?;
        let mut w = Writer::new(buf);
        w.put_bytes(src)?;
        w.finish()
    }

    /// True if the host enabled asynchronous messages (VM-wide routing
    /// change: dxgkrnl dxgvmbus.c, dxgvmb_send_get_internal_adapter_info()
    /// sets `dxgglobal->async_msg_enabled`, after which init_message()
    /// sends vGPU commands on the global channel).
    pub const fn async_msg_enabled(&self) -> bool {
        self.flags.get() & ADAPTER_INFO_ASYNC_MSG_ENABLED != 0
    }

    /// The description up to its first NUL.
    pub fn description(&self) -> &[U16] {
        utf16_until_nul(&self.device_description)
    }

    /// The instance id up to its first NUL.
    pub fn instance_id(&self) -> &[U16] {
        utf16_until_nul(&self.device_instance_id)
    }
}

/// QUERYADAPTERINFO type: opaque blob for the user-mode driver.
pub const QAI_UMDRIVERPRIVATE: u32 = 0;
/// QUERYADAPTERINFO type: 4-byte adapter-type word.
pub const QAI_ADAPTERTYPE: u32 = 15;
/// QUERYADAPTERINFO type: 4-byte adapter-type word (render).
pub const QAI_ADAPTERTYPE_RENDER: u32 = 57;

/// Adapter-type bit 0: render supported.
pub const ADAPTER_TYPE_RENDER_SUPPORTED: u32 = 1 << 0;
/// Adapter-type bit 1: display supported (forced 0).
pub const ADAPTER_TYPE_DISPLAY_SUPPORTED: u32 = 1 << 1;
/// Adapter-type bit 3: POST device (forced 0).
pub const ADAPTER_TYPE_POST_DEVICE: u32 = 1 << 3;
/// Adapter-type bit 6: indirect display device (forced 0).
pub const ADAPTER_TYPE_INDIRECT_DISPLAY: u32 = 1 << 6;
/// Adapter-type bit 7: paravirtualized (forced 1).
pub const ADAPTER_TYPE_PARAVIRTUALIZED: u32 = 1 << 7;
/// Adapter-type bit 8: ACG supported (forced 0).
pub const ADAPTER_TYPE_ACG_SUPPORTED: u32 = 1 << 8;
/// Adapter-type bit 9: set timings from VidPN (forced 0).
pub const ADAPTER_TYPE_SET_TIMINGS_FROM_VIDPN: u32 = 1 << 9;
/// Adapter-type bit 11: compute only.
pub const ADAPTER_TYPE_COMPUTE_ONLY: u32 = 1 << 11;

/// Rewrites an adapter-type word from the host as the original driver does:
/// paravirtualized set; display, POST, indirect display, ACG and
/// set-timings cleared; compute-only set for 1414:008A functions.
pub const fn sanitize_adapter_type(word: u32, compute_only: bool) -> u32 {
    let cleared = ADAPTER_TYPE_DISPLAY_SUPPORTED
        | ADAPTER_TYPE_POST_DEVICE
        | ADAPTER_TYPE_INDIRECT_DISPLAY
        | ADAPTER_TYPE_ACG_SUPPORTED
        | ADAPTER_TYPE_SET_TIMINGS_FROM_VIDPN;
    let w = (word & !cleared) | ADAPTER_TYPE_PARAVIRTUALIZED;
    if compute_only {
        w | ADAPTER_TYPE_COMPUTE_ONLY
    } else {
        w
    }
}

/// Fixed part of QUERYADAPTERINFO (2); `private_data_size` bytes of
/// input/output buffer follow.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct QueryAdapterInfo {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// `QAI_*` type.
    pub query_type: U32,
    /// Size of the buffer that follows.
    pub private_data_size: U32,
}
const _: () = assert!(core::mem::size_of::<QueryAdapterInfo>() == 32);

/// Slack bytes the original sends after QUERYADAPTERINFO's buffer
/// (`sizeof(struct) - 1` with an 8-aligned struct); reproduced for hosts
/// that check it.
pub const QUERY_ADAPTER_INFO_SLACK: usize = 7;

/// A QUERYADAPTERINFO request: fixed part plus buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryAdapterInfoMsg<'a> {
    /// The fixed part; `private_data_size` equals `data.len()`.
    pub cmd: QueryAdapterInfo,
    /// The caller's buffer.
    pub data: &'a [u8],
}

impl<'a> QueryAdapterInfoMsg<'a> {
    /// A query of `query_type` with input/output buffer `data`.
    pub fn new(process: Handle, query_type: u32, data: &'a [u8]) -> ProtoResult<Self> {
        Ok(QueryAdapterInfoMsg {
            cmd: QueryAdapterInfo {
                hdr: CommandHeader::vgpu(VgpuCommand::QueryAdapterInfo, process),
                query_type: U32::new(query_type),
                private_data_size: U32::new(u32_from(data.len())?),
            },
            data,
        })
    }

    /// Length of the encoded message.
    pub fn encoded_len(&self, framing: &Framing) -> ProtoResult<usize> {
        framing
            .prefix_len()
            .checked_add(core::mem::size_of::<QueryAdapterInfo>())
            .and_then(|n| n.checked_add(self.data.len()))
            .and_then(|n| n.checked_add(QUERY_ADAPTER_INFO_SLACK))
            .ok_or(ProtoError::Overflow)
    }

    /// Encodes the message into `buf`; returns its length.
    pub fn encode(&self, framing: &Framing, buf: &mut [u8]) -> ProtoResult<usize> {
        expect_command(
            self.cmd.as_bytes(),
            CommandId::Vgpu(VgpuCommand::QueryAdapterInfo),
        )?;
        if usize_from(self.cmd.private_data_size.get())? != self.data.len() {
            return Err(ProtoError::InvalidArgument);
        }
        let mut w = Writer::message(buf, framing)?;
        w.put(&self.cmd)?;
        w.put_bytes(self.data)?;
        w.put_zeros(QUERY_ADAPTER_INFO_SLACK)?;
        w.finish()
    }

    /// Decodes the command bytes (host side); slack is ignored.
    pub fn decode(cmd: &'a [u8]) -> ProtoResult<Self> {
        expect_command(cmd, CommandId::Vgpu(VgpuCommand::QueryAdapterInfo))?;
        let mut r = Reader::new(cmd);
        let fixed = *r.take::<QueryAdapterInfo>()?;
        let data = r.take_bytes(usize_from(fixed.private_data_size.get())?)?;
        Ok(QueryAdapterInfoMsg { cmd: fixed, data })
    }
}

/// Decodes a QUERYADAPTERINFO reply for a request of `size` bytes: for
/// version >= 40 an NTSTATUS followed by `size` bytes, below 40 the bytes
/// alone (reported as success).
pub fn decode_query_adapter_info_reply(
    payload: &[u8],
    version: u32,
    size: u32,
) -> ProtoResult<(NtStatus, &[u8])> {
    let size = usize_from(size)?;
    let mut r = Reader::new(payload);
    let status = if version >= VERSION_EXT_HEADER {
        *r.take::<NtStatus>()?
    } else {
        STATUS_SUCCESS
    };
    Ok((status, r.take_bytes(size)?))
}

/// Encodes a QUERYADAPTERINFO reply (host side).
pub fn encode_query_adapter_info_reply(
    buf: &mut [u8],
    version: u32,
    status: NtStatus,
    data: &[u8],
) -> ProtoResult<usize> {
    let mut w = Writer::new(buf);
    if version >= VERSION_EXT_HEADER {
        w.put(&status)?;
    }
    w.put_bytes(data)?;
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn layout() {
        assert_eq!(offset_of!(OpenAdapter, vmbus_interface_version), 24);
        assert_eq!(offset_of!(OpenAdapter, guest_adapter_luid), 32);
        assert_eq!(offset_of!(OpenAdapterReply, status), 4);
        assert_eq!(offset_of!(CloseAdapter, host_handle), 24);
        assert_eq!(offset_of!(AdapterInfoReply, flags), 12);
        assert_eq!(offset_of!(AdapterInfoReply, host_adapter_luid), 16);
        assert_eq!(offset_of!(AdapterInfoReply, device_description), 24);
        assert_eq!(offset_of!(AdapterInfoReply, device_instance_id), 184);
        assert_eq!(offset_of!(AdapterInfoReply, host_vgpu_luid), 704);
        assert_eq!(offset_of!(QueryAdapterInfo, private_data_size), 28);
    }

    #[test]
    fn adapter_info_versions() {
        let mut r = AdapterInfoReply::new_zeroed();
        r.flags = U32::new(ADAPTER_INFO_ASYNC_MSG_ENABLED);
        r.host_vgpu_luid = Luid::new(1, 2);
        r.device_description[0] = U16::new(u16::from(b'G'));
        let mut buf = [0u8; 800];
        let n = r.encode(40, &mut buf).unwrap();
        assert_eq!(n, 712);
        assert_eq!(AdapterInfoReply::decode(&buf[..n], 40), Ok(r));
        let n = r.encode(27, &mut buf).unwrap();
        assert_eq!(n, 704);
        let old = AdapterInfoReply::decode(&buf[..n], 27).unwrap();
        assert!(old.host_vgpu_luid.is_zero());
        assert!(old.async_msg_enabled());
        assert_eq!(old.description().len(), 1);
        assert_eq!(
            AdapterInfoReply::decode(&buf[..n], 40),
            Err(ProtoError::Truncated)
        );
    }

    #[test]
    fn query_adapter_info() {
        let data = [1u8, 2, 3, 4];
        let m = QueryAdapterInfoMsg::new(Handle::new(3), QAI_ADAPTERTYPE, &data).unwrap();
        let f = Framing::with_ext_header(Luid::new(7, 0));
        let mut buf = [0u8; 128];
        let n = m.encode(&f, &mut buf).unwrap();
        assert_eq!(n, m.encoded_len(&f).unwrap());
        assert_eq!(n, 16 + 39 + 4);
        assert_eq!(QueryAdapterInfoMsg::decode(&buf[16..n]), Ok(m));
        assert_eq!(
            QueryAdapterInfoMsg::decode(&buf[16..16 + 35]),
            Err(ProtoError::Truncated)
        );
        let mut rb = [0u8; 16];
        let rn = encode_query_adapter_info_reply(&mut rb, 40, STATUS_SUCCESS, &data).unwrap();
        assert_eq!(
            decode_query_adapter_info_reply(&rb[..rn], 40, 4),
            Ok((STATUS_SUCCESS, &data[..]))
        );
        assert_eq!(
            decode_query_adapter_info_reply(&rb[..rn], 40, 5),
            Err(ProtoError::Truncated)
        );
        assert_eq!(sanitize_adapter_type(0x0000_034b, true), 0x0000_0881);
    }
}
