// SPDX-License-Identifier: GPL-2.0

//! The one error type of the protocol module.

use core::fmt;

use super::errno;

/// Why a message could not be encoded, decoded or validated.
///
/// Decoders never panic; every malformed input ends in one of these. The
/// variants say *what* was wrong; [`ProtoError::errno`] says which Linux error
/// the kernel should report for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProtoError {
    /// The input ends before a structure or array it must contain.
    Truncated,
    /// The caller's output buffer cannot hold the encoded message.
    BufferTooSmall,
    /// A message, blob or count exceeds a protocol maximum (for example the
    /// 128 KiB message limit or the 1024 allocations of one CREATEALLOCATION).
    TooLarge,
    /// A length or size field is inconsistent with the bytes present (for
    /// example a VMBus `len8` smaller than `offset8`, or a reply of the
    /// wrong size for its request).
    BadLength,
    /// A command id that the protocol does not define.
    UnknownCommand,
    /// A well-formed but unexpected type: VMBus packet type, channel type, or a
    /// command id that is not the one the decoder was asked for.
    BadType,
    /// A value that must be aligned (page, 8-byte packet) is not.
    Misaligned,
    /// Size arithmetic overflowed.
    Overflow,
    /// A count differs from the one that was sent, or is out of its bounds.
    BadCount,
    /// A handle the protocol requires to be non-zero is zero.
    BadHandle,
    /// A field holds a value the protocol does not allow (reserved field not
    /// zero, extension-header offset not 16, zero event id, ...).
    BadValue,
    /// An address or offset lies outside the region it must be in.
    OutOfRange,
    /// The caller passed inconsistent arguments to an encoder (for example a
    /// fixed-part count that does not match the slice given with it).
    InvalidArgument,
}

impl ProtoError {
    /// The positive Linux errno to report for this error.
    ///
    /// The mapping assumes the bad bytes came from the peer (the host, seen
    /// from the guest): malformed peer data is `EPROTO`. Errors that can only
    /// come from the local caller get the errno a syscall would use:
    /// `BufferTooSmall` → `ENOBUFS`, `TooLarge` → `E2BIG`, `Overflow` →
    /// `EOVERFLOW`, `InvalidArgument` → `EINVAL`.
    pub const fn errno(self) -> i32 {
        match self {
            ProtoError::BufferTooSmall => errno::ENOBUFS,
            ProtoError::TooLarge => errno::E2BIG,
            ProtoError::Overflow => errno::EOVERFLOW,
            ProtoError::InvalidArgument => errno::EINVAL,
            ProtoError::Truncated
            | ProtoError::BadLength
            | ProtoError::UnknownCommand
            | ProtoError::BadType
            | ProtoError::Misaligned
            | ProtoError::BadCount
            | ProtoError::BadHandle
            | ProtoError::BadValue
            | ProtoError::OutOfRange => errno::EPROTO,
        }
    }

    /// A short lower-case description, for logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProtoError::Truncated => "truncated message",
            ProtoError::BufferTooSmall => "output buffer too small",
            ProtoError::TooLarge => "message or count too large",
            ProtoError::BadLength => "inconsistent length",
            ProtoError::UnknownCommand => "unknown command id",
            ProtoError::BadType => "unexpected packet, channel or command type",
            ProtoError::Misaligned => "misaligned value",
            ProtoError::Overflow => "size arithmetic overflow",
            ProtoError::BadCount => "bad count",
            ProtoError::BadHandle => "zero handle",
            ProtoError::BadValue => "invalid field value",
            ProtoError::OutOfRange => "address out of range",
            ProtoError::InvalidArgument => "invalid encoder argument",
        }
    }
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Result type of the protocol module.
///
/// Not called `Result` so that a glob import next to the kernel prelude
/// cannot become ambiguous.
pub type ProtoResult<T> = core::result::Result<T, ProtoError>;
