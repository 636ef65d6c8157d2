// SPDX-License-Identifier: GPL-2.0

//! Contexts and paging queues: CREATECONTEXTVIRTUAL, DESTROYCONTEXT,
//! CREATEPAGINGQUEUE, DESTROYPAGINGQUEUE (dxgkrnl dxgvmbus.c,
//! dxgvmb_send_create_context(), dxgvmb_send_destroy_context(),
//! dxgvmb_send_create_paging_queue() and
//! dxgvmb_send_destroy_paging_queue()).

use zerocopy::little_endian::{I32, U32, U64};
use zerocopy::IntoBytes;
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::codec::{expect_command, impl_command, u32_from, usize_from, Reader, Writer};
use super::command::{CommandId, VgpuCommand};
use super::error::{ProtoError, ProtoResult};
use super::handle::Handle;
use super::header::{CommandHeader, Framing};
use super::validate::IoSpace;

/// Context flag bit 0: null rendering.
pub const CONTEXT_FLAG_NULL_RENDERING: u32 = 1 << 0;
/// Context flag bit 1: initial data.
pub const CONTEXT_FLAG_INITIAL_DATA: u32 = 1 << 1;
/// Context flag bit 2: disable GPU timeout.
pub const CONTEXT_FLAG_DISABLE_GPU_TIMEOUT: u32 = 1 << 2;
/// Context flag bit 3: synchronization only.
pub const CONTEXT_FLAG_SYNCHRONIZATION_ONLY: u32 = 1 << 3;
/// Context flag bit 4: hardware queues supported.
pub const CONTEXT_FLAG_HW_QUEUE_SUPPORTED: u32 = 1 << 4;

/// Client hint: unknown.
pub const CLIENT_HINT_UNKNOWN: u32 = 0;
/// Client hint: OpenGL.
pub const CLIENT_HINT_OPENGL: u32 = 1;

/// Fixed part of CREATECONTEXTVIRTUAL (6); `priv_drv_data_size` bytes of
/// UMD private data follow. The reply echoes the whole command (without
/// extension header) with `context` filled in.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct CreateContextVirtual {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// 0 in the request; the new context in the reply.
    pub context: Handle,
    /// The device.
    pub device: Handle,
    /// Engine node.
    pub node_ordinal: U32,
    /// Engine affinity.
    pub engine_affinity: U32,
    /// `CONTEXT_FLAG_*` bits.
    pub flags: U32,
    /// `CLIENT_HINT_*`.
    pub client_hint: U32,
    /// Size of the private data that follows.
    pub priv_drv_data_size: U32,
}
const _: () = assert!(core::mem::size_of::<CreateContextVirtual>() == 52);

/// Slack bytes the original sends after the private data (55 + n total).
pub const CREATE_CONTEXT_SLACK: usize = 3;

/// A CREATECONTEXTVIRTUAL request or its echoed reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateContextMsg<'a> {
    /// The fixed part; `priv_drv_data_size` equals `priv_data.len()`.
    pub cmd: CreateContextVirtual,
    /// UMD private data.
    pub priv_data: &'a [u8],
}

impl<'a> CreateContextMsg<'a> {
    /// A request creating a context on `device`.
    pub fn new(
        process: Handle,
        device: Handle,
        node_ordinal: u32,
        engine_affinity: u32,
        flags: u32,
        client_hint: u32,
        priv_data: &'a [u8],
    ) -> ProtoResult<Self> {
        Ok(CreateContextMsg {
            cmd: CreateContextVirtual {
                hdr: CommandHeader::vgpu(VgpuCommand::CreateContextVirtual, process),
                context: Handle::NULL,
                device,
                node_ordinal: U32::new(node_ordinal),
                engine_affinity: U32::new(engine_affinity),
                flags: U32::new(flags),
                client_hint: U32::new(client_hint),
                priv_drv_data_size: U32::new(u32_from(priv_data.len())?),
            },
            priv_data,
        })
    }

    /// Length of the command without extension header (also the length of
    /// the reply the guest expects): 55 + n.
    pub fn command_len(&self) -> ProtoResult<usize> {
        core::mem::size_of::<CreateContextVirtual>()
            .checked_add(self.priv_data.len())
            .and_then(|n| n.checked_add(CREATE_CONTEXT_SLACK))
            .ok_or(ProtoError::Overflow)
    }

    /// Length of the encoded message.
    pub fn encoded_len(&self, framing: &Framing) -> ProtoResult<usize> {
        self.command_len()?
            .checked_add(framing.prefix_len())
            .ok_or(ProtoError::Overflow)
    }

    fn write(&self, w: &mut Writer<'_>) -> ProtoResult<()> {
        expect_command(
            self.cmd.as_bytes(),
            CommandId::Vgpu(VgpuCommand::CreateContextVirtual),
        )?;
        if usize_from(self.cmd.priv_drv_data_size.get())? != self.priv_data.len() {
            return Err(ProtoError::InvalidArgument);
        }
        w.put(&self.cmd)?;
        w.put_bytes(self.priv_data)?;
        w.put_zeros(CREATE_CONTEXT_SLACK)
    }

    /// Encodes the request into `buf`; returns its length.
    pub fn encode(&self, framing: &Framing, buf: &mut [u8]) -> ProtoResult<usize> {
        let mut w = Writer::message(buf, framing)?;
        self.write(&mut w)?;
        w.finish()
    }

    /// Encodes the echoed reply (host side; no extension header).
    pub fn encode_reply(&self, buf: &mut [u8]) -> ProtoResult<usize> {
        let mut w = Writer::new(buf);
        self.write(&mut w)?;
        w.finish()
    }

    /// Decodes the command bytes (host side) or an echoed reply.
    pub fn decode(cmd: &'a [u8]) -> ProtoResult<Self> {
        expect_command(cmd, CommandId::Vgpu(VgpuCommand::CreateContextVirtual))?;
        let mut r = Reader::new(cmd);
        let fixed = *r.take::<CreateContextVirtual>()?;
        let priv_data = r.take_bytes(usize_from(fixed.priv_drv_data_size.get())?)?;
        Ok(CreateContextMsg {
            cmd: fixed,
            priv_data,
        })
    }

    /// Decodes and validates the echoed reply to a request that carried
    /// `sent_size` bytes of private data: same private-data size, non-zero
    /// context. The echoed header is not checked (whether the host preserves
    /// it is unverified). Returns the context and the (possibly rewritten)
    /// private data.
    pub fn decode_reply(payload: &'a [u8], sent_size: u32) -> ProtoResult<(Handle, &'a [u8])> {
        let mut r = Reader::new(payload);
        let fixed = r.take::<CreateContextVirtual>()?;
        if fixed.priv_drv_data_size.get() != sent_size {
            return Err(ProtoError::BadLength);
        }
        let priv_data = r.take_bytes(usize_from(sent_size)?)?;
        Ok((fixed.context.non_null()?, priv_data))
    }
}

/// DESTROYCONTEXT (7). Reply: NTSTATUS.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct DestroyContext {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// The context.
    pub context: Handle,
    /// Padding.
    pub pad: U32,
}
impl_command!(
    DestroyContext,
    CommandId::Vgpu(VgpuCommand::DestroyContext),
    32
);

impl DestroyContext {
    /// Destroys `context`.
    pub const fn new(process: Handle, context: Handle) -> Self {
        DestroyContext {
            hdr: CommandHeader::vgpu(VgpuCommand::DestroyContext, process),
            context,
            pad: U32::new(0),
        }
    }
}

/// Paging-queue priority: below normal.
pub const PAGING_PRIORITY_BELOW_NORMAL: i32 = -1;
/// Paging-queue priority: normal.
pub const PAGING_PRIORITY_NORMAL: i32 = 0;
/// Paging-queue priority: above normal.
pub const PAGING_PRIORITY_ABOVE_NORMAL: i32 = 1;

/// CREATEPAGINGQUEUE (9). Reply: [`CreatePagingQueueReply`] (no status).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct CreatePagingQueue {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// The device.
    pub device: Handle,
    /// `PAGING_PRIORITY_*`.
    pub priority: I32,
    /// Output field of the user block; 0.
    pub paging_queue: Handle,
    /// Output field of the user block; 0.
    pub sync_object: Handle,
    /// Output field of the user block; 0 (never a user pointer).
    pub fence_cpu_virtual_address: U64,
    /// Physical adapter index.
    pub physical_adapter_index: U32,
    /// Padding.
    pub pad: U32,
}
impl_command!(
    CreatePagingQueue,
    CommandId::Vgpu(VgpuCommand::CreatePagingQueue),
    56
);

impl CreatePagingQueue {
    /// Creates a paging queue on `device`.
    pub const fn new(process: Handle, device: Handle, priority: i32) -> Self {
        CreatePagingQueue {
            hdr: CommandHeader::vgpu(VgpuCommand::CreatePagingQueue, process),
            device,
            priority: I32::new(priority),
            paging_queue: Handle::NULL,
            sync_object: Handle::NULL,
            fence_cpu_virtual_address: U64::new(0),
            physical_adapter_index: U32::new(0),
            pad: U32::new(0),
        }
    }
}

/// Reply of CREATEPAGINGQUEUE.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct CreatePagingQueueReply {
    /// The paging queue.
    pub paging_queue: Handle,
    /// Its paging fence (a monitored fence).
    pub sync_object: Handle,
    /// IO-space GPA of the fence page; the value is at offset 0.
    pub fence_storage_physical_address: U64,
    /// Ignored by the original (meaning unverified).
    pub fence_storage_offset: U64,
}
const _: () = assert!(core::mem::size_of::<CreatePagingQueueReply>() == 24);

impl CreatePagingQueueReply {
    /// Checks both handles are non-zero and the fence page is a page
    /// inside `io`.
    pub fn validate(&self, io: &IoSpace) -> ProtoResult<()> {
        self.paging_queue.non_null()?;
        self.sync_object.non_null()?;
        io.check_page(self.fence_storage_physical_address.get())?;
        Ok(())
    }
}

/// DESTROYPAGINGQUEUE (10). The guest reads no reply payload.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct DestroyPagingQueue {
    /// vGPU header with the host process.
    pub hdr: CommandHeader,
    /// The paging queue.
    pub paging_queue: Handle,
    /// Padding.
    pub pad: U32,
}
impl_command!(
    DestroyPagingQueue,
    CommandId::Vgpu(VgpuCommand::DestroyPagingQueue),
    32
);

impl DestroyPagingQueue {
    /// Destroys `paging_queue`.
    pub const fn new(process: Handle, paging_queue: Handle) -> Self {
        DestroyPagingQueue {
            hdr: CommandHeader::vgpu(VgpuCommand::DestroyPagingQueue, process),
            paging_queue,
            pad: U32::new(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::guid::Luid;
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn layout() {
        assert_eq!(offset_of!(CreateContextVirtual, context), 24);
        assert_eq!(offset_of!(CreateContextVirtual, device), 28);
        assert_eq!(offset_of!(CreateContextVirtual, flags), 40);
        assert_eq!(offset_of!(CreateContextVirtual, client_hint), 44);
        assert_eq!(offset_of!(CreateContextVirtual, priv_drv_data_size), 48);
        assert_eq!(offset_of!(CreatePagingQueue, priority), 28);
        assert_eq!(offset_of!(CreatePagingQueue, fence_cpu_virtual_address), 40);
        assert_eq!(offset_of!(CreatePagingQueue, physical_adapter_index), 48);
        assert_eq!(offset_of!(CreatePagingQueueReply, fence_storage_offset), 16);
    }

    #[test]
    fn create_context() {
        let pd = [9u8; 5];
        let m = CreateContextMsg::new(Handle::new(1), Handle::new(2), 0, 1, 0, 0, &pd).unwrap();
        let f = Framing::with_ext_header(Luid::new(3, 4));
        let mut buf = [0u8; 100];
        let n = m.encode(&f, &mut buf).unwrap();
        assert_eq!(n, 16 + 55 + 5);
        assert_eq!(n, m.encoded_len(&f).unwrap());
        assert_eq!(CreateContextMsg::decode(&buf[16..n]), Ok(m));
        let mut echo = m;
        echo.cmd.context = Handle::new(0x40);
        let mut rb = [0u8; 100];
        let rn = echo.encode_reply(&mut rb).unwrap();
        assert_eq!(rn, m.command_len().unwrap());
        assert_eq!(
            CreateContextMsg::decode_reply(&rb[..rn], 5),
            Ok((Handle::new(0x40), &pd[..]))
        );
        assert_eq!(
            CreateContextMsg::decode_reply(&rb[..rn], 4),
            Err(ProtoError::BadLength)
        );
        let rn0 = m.encode_reply(&mut rb).unwrap();
        assert_eq!(
            CreateContextMsg::decode_reply(&rb[..rn0], 5),
            Err(ProtoError::BadHandle)
        );
        assert_eq!(
            CreateContextMsg::decode_reply(&rb[..rn - 9], 5),
            Err(ProtoError::Truncated)
        );
    }

    #[test]
    fn paging_queue_reply() {
        let io = IoSpace::new(0x1000_0000, 0x10_0000).unwrap();
        let mut r = CreatePagingQueueReply {
            paging_queue: Handle::new(1),
            sync_object: Handle::new(2),
            fence_storage_physical_address: U64::new(0x1000_1000),
            fence_storage_offset: U64::new(0),
        };
        assert_eq!(r.validate(&io), Ok(()));
        r.fence_storage_physical_address = U64::new(0x2000_0000);
        assert_eq!(r.validate(&io), Err(ProtoError::OutOfRange));
        r.sync_object = Handle::NULL;
        assert_eq!(r.validate(&io), Err(ProtoError::BadHandle));
    }
}
