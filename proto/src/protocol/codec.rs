// SPDX-License-Identifier: GPL-2.0

//! Bounds-checked byte writer and reader, and the generic encoders and
//! decoders for fixed-size commands and replies.
//!
//! Every wire structure of this module is `#[repr(C)]`, built only from
//! little-endian byte-order types with explicit padding, and therefore has
//! alignment 1: it can be read from any byte offset of any buffer.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::command::CommandId;
use super::consts::MAX_MESSAGE_SIZE;
use super::error::{ProtoError, ProtoResult};
use super::header::{CommandHeader, Framing};

/// A wire structure: plain bytes in both directions, alignment 1.
pub trait Wire: FromBytes + IntoBytes + KnownLayout + Immutable + Unaligned {}

impl<T: FromBytes + IntoBytes + KnownLayout + Immutable + Unaligned + ?Sized> Wire for T {}

/// A fixed-size guest-to-host command structure. Its first 24 bytes are the
/// [`CommandHeader`]; its size is the size the original driver sends.
pub trait Command: Wire + Copy {
    /// The command id the header must carry.
    const ID: CommandId;
}

/// Implements [`Command`] for a fixed-size command structure and asserts
/// its size at compile time.
macro_rules! impl_command {
    ($t:ty, $id:expr, $size:expr) => {
        impl super::codec::Command for $t {
            const ID: super::command::CommandId = $id;
        }
        const _: () = assert!(core::mem::size_of::<$t>() == $size);
    };
}
pub(crate) use impl_command;

/// Appends bytes to a caller-provided buffer, failing with
/// [`ProtoError::BufferTooSmall`] instead of overrunning it.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Writer<'a> {
    /// A writer at the start of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, len: 0 }
    }

    /// A writer for a guest-to-host message: writes the extension header
    /// first if `framing` has one.
    pub fn message(buf: &'a mut [u8], framing: &Framing) -> ProtoResult<Self> {
        let mut w = Writer::new(buf);
        if let Some(ext) = framing.ext_header() {
            w.put(&ext)?;
        }
        Ok(w)
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends raw bytes.
    pub fn put_bytes(&mut self, b: &[u8]) -> ProtoResult<()> {
        let end = self.len.checked_add(b.len()).ok_or(ProtoError::Overflow)?;
        let dst = self
            .buf
            .get_mut(self.len..end)
            .ok_or(ProtoError::BufferTooSmall)?;
        dst.copy_from_slice(b);
        self.len = end;
        Ok(())
    }

    /// Appends a wire structure or a slice of them.
    pub fn put<T: IntoBytes + Immutable + ?Sized>(&mut self, v: &T) -> ProtoResult<()> {
        self.put_bytes(v.as_bytes())
    }

    /// Appends `n` zero bytes.
    pub fn put_zeros(&mut self, n: usize) -> ProtoResult<()> {
        let end = self.len.checked_add(n).ok_or(ProtoError::Overflow)?;
        let dst = self
            .buf
            .get_mut(self.len..end)
            .ok_or(ProtoError::BufferTooSmall)?;
        dst.fill(0);
        self.len = end;
        Ok(())
    }

    /// Finishes the message: checks the 128 KiB limit and returns its length.
    pub fn finish(self) -> ProtoResult<usize> {
        if self.len > MAX_MESSAGE_SIZE {
            return Err(ProtoError::TooLarge);
        }
        Ok(self.len)
    }
}

/// Consumes a byte string from the front, failing with
/// [`ProtoError::Truncated`] instead of reading past its end.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub const fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    /// Takes a reference to the next `T`.
    pub fn take<T: FromBytes + KnownLayout + Immutable + Unaligned>(
        &mut self,
    ) -> ProtoResult<&'a T> {
        let (v, rest) = T::ref_from_prefix(self.rest).map_err(|_| ProtoError::Truncated)?;
        self.rest = rest;
        Ok(v)
    }

    /// Takes the next `count` elements of `T`.
    pub fn take_slice<T: FromBytes + Immutable + Unaligned>(
        &mut self,
        count: usize,
    ) -> ProtoResult<&'a [T]> {
        let (v, rest) = <[T]>::ref_from_prefix_with_elems(self.rest, count)
            .map_err(|_| ProtoError::Truncated)?;
        self.rest = rest;
        Ok(v)
    }

    /// Takes the next `n` bytes.
    pub fn take_bytes(&mut self, n: usize) -> ProtoResult<&'a [u8]> {
        let (v, rest) = self.rest.split_at_checked(n).ok_or(ProtoError::Truncated)?;
        self.rest = rest;
        Ok(v)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) -> ProtoResult<()> {
        self.take_bytes(n).map(|_| ())
    }

    /// The bytes not consumed yet.
    pub const fn rest(&self) -> &'a [u8] {
        self.rest
    }

    /// Number of bytes not consumed yet.
    pub const fn remaining(&self) -> usize {
        self.rest.len()
    }
}

/// Reads the command header at the start of `cmd`.
pub fn read_header(cmd: &[u8]) -> ProtoResult<CommandHeader> {
    CommandHeader::read_from_prefix(cmd)
        .map(|(h, _)| h)
        .map_err(|_| ProtoError::Truncated)
}

/// Checks that the header at the start of `cmd` names `id`
/// ([`ProtoError::BadType`] otherwise).
pub fn expect_command(cmd: &[u8], id: CommandId) -> ProtoResult<CommandHeader> {
    let h = read_header(cmd)?;
    if h.command()? != id {
        return Err(ProtoError::BadType);
    }
    Ok(h)
}

/// Encodes a fixed-size command (with the extension header of `framing`)
/// into `buf`; returns the message length. Fails with
/// [`ProtoError::BadType`] if the command's header does not name `C::ID`.
pub fn encode_command<C: Command>(
    cmd: &C,
    framing: &Framing,
    buf: &mut [u8],
) -> ProtoResult<usize> {
    expect_command(cmd.as_bytes(), C::ID)?;
    let mut w = Writer::message(buf, framing)?;
    w.put(cmd)?;
    w.finish()
}

/// Length of [`encode_command`]'s output for `C`.
pub fn command_len<C: Command>(framing: &Framing) -> usize {
    framing
        .prefix_len()
        .saturating_add(core::mem::size_of::<C>())
}

/// Decodes a fixed-size command from `cmd` (the bytes starting at the
/// command header, see [`super::header::GuestMessage::command`]). Trailing
/// bytes are allowed (the original guest sends slack).
pub fn decode_command<C: Command>(cmd: &[u8]) -> ProtoResult<&C> {
    expect_command(cmd, C::ID)?;
    C::ref_from_prefix(cmd)
        .map(|(c, _)| c)
        .map_err(|_| ProtoError::Truncated)
}

/// Decodes a fixed-size reply from a completion payload. The payload may
/// be longer than `R` (VMBus rounds payloads up to 8 bytes); extra bytes are
/// ignored, as the original driver does.
pub fn decode_reply<R: Wire + Copy>(payload: &[u8]) -> ProtoResult<R> {
    R::read_from_prefix(payload)
        .map(|(r, _)| r)
        .map_err(|_| ProtoError::Truncated)
}

/// Encodes a fixed-size reply (host side); returns its length.
pub fn encode_reply<R: Wire>(reply: &R, buf: &mut [u8]) -> ProtoResult<usize> {
    let mut w = Writer::new(buf);
    w.put(reply)?;
    w.finish()
}

/// `fixed + count * elem` with overflow checking.
pub fn array_len(fixed: usize, count: usize, elem: usize) -> ProtoResult<usize> {
    count
        .checked_mul(elem)
        .and_then(|a| a.checked_add(fixed))
        .ok_or(ProtoError::Overflow)
}

/// Converts a wire `u32` count or size to `usize`.
pub fn usize_from(v: u32) -> ProtoResult<usize> {
    usize::try_from(v).map_err(|_| ProtoError::Overflow)
}

/// Converts a length to a wire `u32`.
pub fn u32_from(v: usize) -> ProtoResult<u32> {
    u32::try_from(v).map_err(|_| ProtoError::TooLarge)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocopy::little_endian::U32;

    #[test]
    fn writer_bounds() {
        let mut buf = [0u8; 6];
        let mut w = Writer::new(&mut buf);
        w.put(&U32::new(0x0403_0201)).unwrap();
        assert_eq!(w.put(&U32::new(5)), Err(ProtoError::BufferTooSmall));
        w.put_zeros(2).unwrap();
        assert_eq!(w.put_zeros(1), Err(ProtoError::BufferTooSmall));
        assert_eq!(w.finish(), Ok(6));
        assert_eq!(buf, [1, 2, 3, 4, 0, 0]);
    }

    #[test]
    fn reader_bounds() {
        let b = [1u8, 0, 0, 0, 2, 0, 0, 0, 9];
        let mut r = Reader::new(&b);
        assert_eq!(r.take::<U32>().unwrap().get(), 1);
        assert_eq!(r.take_slice::<U32>(2), Err(ProtoError::Truncated));
        assert_eq!(r.take_slice::<U32>(usize::MAX), Err(ProtoError::Truncated));
        assert_eq!(r.take_slice::<U32>(1).unwrap()[0].get(), 2);
        assert_eq!(r.take_bytes(2), Err(ProtoError::Truncated));
        assert_eq!(r.take_bytes(1).unwrap(), &[9]);
        assert_eq!(r.remaining(), 0);
        assert_eq!(array_len(8, usize::MAX, 2), Err(ProtoError::Overflow));
    }
}
