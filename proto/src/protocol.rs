// SPDX-License-Identifier: GPL-2.0

//! The Hyper-V GPU-PV ("dxgkrnl") guest/host wire protocol.
//!
//! Shared, `no_std`, allocation-free and panic-free code used by the dxg
//! kernel module (which includes this file as a module) and by userspace
//! (the `dxg-proto` crate: host model, tools, tests, fuzzers).
//!
//! Layers, outermost first:
//!
//! 1. [`vmbus`]: VMBus packet descriptor, payload, padding, ring trailer.
//! 2. [`header`]: the 16-byte extension header (version >= 40) and the
//!    24-byte command header.
//! 3. The command structures, one module per area: [`global`],
//!    [`adapter`], [`device`], [`context`], [`alloc`], [`gpuva`],
//!    [`residency`], [`sync`], [`submit`], [`misc`], and host-to-guest
//!    messages in [`host`]. [`request`] decodes any guest-to-host message.
//! 4. Conventions of the software host (`tests/dxg-host`), not part of the
//!    Hyper-V protocol: its command-buffer format ([`cmdbuf`]) and its
//!    private-data and query conventions ([`model`]).
//!
//! Rules for this code: no `crate::` paths (the kernel includes it as a
//! submodule), only `core`, `zerocopy` and `zerocopy_derive`, no `unsafe`,
//! no allocation, no panics reachable from input, checked arithmetic.

#[path = "protocol/adapter.rs"]
pub mod adapter;
#[path = "protocol/alloc.rs"]
pub mod alloc;
#[path = "protocol/backing.rs"]
pub mod backing;
#[path = "protocol/cmdbuf.rs"]
pub mod cmdbuf;
#[path = "protocol/codec.rs"]
pub mod codec;
#[path = "protocol/command.rs"]
pub mod command;
#[path = "protocol/consts.rs"]
pub mod consts;
#[path = "protocol/context.rs"]
pub mod context;
#[path = "protocol/device.rs"]
pub mod device;
#[path = "protocol/errno.rs"]
pub mod errno;
#[path = "protocol/error.rs"]
pub mod error;
#[path = "protocol/global.rs"]
pub mod global;
#[path = "protocol/gpuva.rs"]
pub mod gpuva;
#[path = "protocol/guid.rs"]
pub mod guid;
#[path = "protocol/handle.rs"]
pub mod handle;
#[path = "protocol/header.rs"]
pub mod header;
#[path = "protocol/host.rs"]
pub mod host;
#[path = "protocol/misc.rs"]
pub mod misc;
#[path = "protocol/model.rs"]
pub mod model;
#[path = "protocol/privdata.rs"]
pub mod privdata;
#[path = "protocol/reply.rs"]
pub mod reply;
#[path = "protocol/request.rs"]
pub mod request;
#[path = "protocol/residency.rs"]
pub mod residency;
#[path = "protocol/samples.rs"]
pub mod samples;
#[path = "protocol/status.rs"]
pub mod status;
#[path = "protocol/submit.rs"]
pub mod submit;
#[path = "protocol/sync.rs"]
pub mod sync;
#[path = "protocol/syncmsg.rs"]
pub mod syncmsg;
#[path = "protocol/validate.rs"]
pub mod validate;
#[path = "protocol/vmbus.rs"]
pub mod vmbus;

#[cfg(test)]
#[path = "protocol/tests.rs"]
mod tests;

// The most used items at the root. The kernel includes this module
// privately and uses only some of them, hence the allows.
#[allow(unused_imports)]
pub use self::codec::{
    decode_command, decode_reply, encode_command, encode_reply, Command, Reader, Wire, Writer,
};
#[allow(unused_imports)]
pub use self::command::{ChannelType, CommandId, GlobalCommand, HostCommand, VgpuCommand};
#[allow(unused_imports)]
pub use self::error::{ProtoError, ProtoResult};
#[allow(unused_imports)]
pub use self::guid::{Guid, Luid};
#[allow(unused_imports)]
pub use self::handle::Handle;
#[allow(unused_imports)]
pub use self::header::{parse_guest_message, CommandHeader, ExtHeader, Framing, GuestMessage};
#[allow(unused_imports)]
pub use self::host::{decode_host_message, encode_host_message, HostMessage};
#[allow(unused_imports)]
pub use self::reply::{decode_status, encode_status, reply_shape, ReplyShape};
#[allow(unused_imports)]
pub use self::request::{decode_any, Request};
#[allow(unused_imports)]
pub use self::status::{NtStatus, StatusKind};
#[allow(unused_imports)]
pub use self::validate::IoSpace;
#[allow(unused_imports)]
pub use zerocopy::little_endian::{I32, U16, U32, U64};
