// SPDX-License-Identifier: GPL-2.0

//! Host requests: the one way the host layer talks to the host.
//!
//! A request is a protocol message encoded with the protocol module and
//! sent with [`Channel::request_as`], which returns the host's reply bytes.
//! Everything here turns protocol results into kernel errors the same way:
//! [`proto_err`] for a decoding error, [`errno`] for a host status, and
//! [`check_status`] / [`decode_raw`] for the two shapes of reply.

use kernel::prelude::*;

use crate::proto::{
    codec::command_len, decode_status, encode_command, Command, Framing, ProtoError, ProtoResult,
};
use crate::sys::smallbuf::SmallBuf;
use crate::vmbus::channel::{Channel, ReplyBuf};

/// Messages up to this size are built on the stack (no allocation): every
/// fixed-size one, and SUBMITCOMMAND (456 bytes) without private data.
const INLINE_MSG: usize = 512;

/// An encoded message.
pub(crate) type MsgBuf = SmallBuf<INLINE_MSG>;

/// A protocol decoding error as a kernel error.
pub(crate) fn proto_err(e: ProtoError) -> Error {
    errno(e.errno())
}

/// A positive errno (as the protocol module reports them) as a kernel error.
pub(crate) fn errno(e: i32) -> Error {
    Error::from_errno(-e)
}

/// Send the fixed-size command `cmd` on `channel`, framed by `framing`, and
/// return the reply payload (at most `max_reply` bytes).
pub(crate) fn call<C: Command>(
    channel: &Channel,
    framing: &Framing,
    cmd: &C,
    max_reply: usize,
) -> Result<ReplyBuf> {
    call_as(channel, 0, framing, cmd, max_reply)
}

/// [`call`] on behalf of `owner` (see [`Channel::request_as`]).
pub(crate) fn call_as<C: Command>(
    channel: &Channel,
    owner: u64,
    framing: &Framing,
    cmd: &C,
    max_reply: usize,
) -> Result<ReplyBuf> {
    let mut msg = MsgBuf::zeroed(command_len::<C>(framing), GFP_KERNEL)?;
    let n = encode_command(cmd, framing, &mut msg).map_err(proto_err)?;
    msg.truncate(n);
    channel.request_as(owner, &msg, max_reply)
}

/// A variable-size guest-to-host message of the protocol module.
pub(crate) trait Message {
    /// Its encoded length with `framing`.
    fn encoded_len(&self, framing: &Framing) -> ProtoResult<usize>;
    /// Encode it into `buf`; the number of bytes written.
    fn encode(&self, framing: &Framing, buf: &mut [u8]) -> ProtoResult<usize>;
}

macro_rules! impl_message {
    ($($t:ty),* $(,)?) => {$(
        impl Message for $t {
            fn encoded_len(&self, framing: &Framing) -> ProtoResult<usize> {
                <$t>::encoded_len(self, framing)
            }
            fn encode(&self, framing: &Framing, buf: &mut [u8]) -> ProtoResult<usize> {
                <$t>::encode(self, framing, buf)
            }
        }
    )*};
}

impl_message!(
    crate::proto::adapter::QueryAdapterInfoMsg<'_>,
    crate::proto::context::CreateContextMsg<'_>,
    crate::proto::alloc::CreateAllocationMsg<'_>,
    crate::proto::alloc::DestroyAllocationMsg<'_>,
    crate::proto::submit::SubmitCommandMsg<'_>,
    crate::proto::syncmsg::SignalSyncObjectMsg<'_>,
    crate::proto::syncmsg::WaitFromCpuMsg<'_>,
    crate::proto::syncmsg::WaitFromGpuMsg<'_>,
    crate::proto::misc::EscapeMsg<'_>,
    crate::proto::residency::MakeResidentMsg<'_>,
    crate::proto::residency::EvictMsg<'_>,
);

/// Encode `msg` with `framing`, with the header's async bit if
/// `asynchronous`.
pub(crate) fn encode_msg(
    framing: &Framing,
    msg: &dyn Message,
    asynchronous: bool,
) -> Result<MsgBuf> {
    let mut buf = MsgBuf::zeroed(msg.encoded_len(framing).map_err(proto_err)?, GFP_KERNEL)?;
    let n = msg.encode(framing, &mut buf).map_err(proto_err)?;
    buf.truncate(n);
    if asynchronous {
        crate::proto::header::mark_async(&mut buf, framing).map_err(proto_err)?;
    }
    Ok(buf)
}

/// Send the variable-size message `msg` on `channel`; see [`call`].
pub(crate) fn call_msg(
    channel: &Channel,
    framing: &Framing,
    msg: &dyn Message,
    max_reply: usize,
) -> Result<ReplyBuf> {
    call_msg_as(channel, 0, framing, msg, max_reply)
}

/// [`call_msg`] on behalf of `owner` (see [`Channel::request_as`]).
pub(crate) fn call_msg_as(
    channel: &Channel,
    owner: u64,
    framing: &Framing,
    msg: &dyn Message,
    max_reply: usize,
) -> Result<ReplyBuf> {
    let buf = encode_msg(framing, msg, false)?;
    channel.request_as(owner, &buf, max_reply)
}

/// Check a bare-NTSTATUS reply: its errno if the host failed the request.
/// A pending status is a protocol error where a final answer is required.
pub(crate) fn check_status(reply: &[u8]) -> Result {
    let st = decode_status(reply).map_err(proto_err)?;
    if st.is_pending() {
        return Err(EPROTO);
    }
    st.check().map(|_| ()).map_err(errno)
}

/// Decode a reply that has no status field ("raw data": the `*_return`
/// structures of dxgkrnl dxgvmbus.h without a `status`, such as
/// `dxgkvmb_command_createdevice_return`).
///
/// How the host reports failure for those is not documented; hosts answer
/// with a bare NTSTATUS, which is shorter than any such reply. So a reply
/// that fails to decode but starts with a failure status gets that
/// status's errno; anything else malformed is `EPROTO`.
pub(crate) fn decode_raw<T>(
    reply: &[u8],
    decode: impl FnOnce(&[u8]) -> ProtoResult<T>,
) -> Result<T> {
    match decode(reply) {
        Ok(v) => Ok(v),
        Err(e) => match decode_status(reply) {
            Ok(st) if st.check().is_err() => Err(errno(st.errno())),
            _ => Err(proto_err(e)),
        },
    }
}
