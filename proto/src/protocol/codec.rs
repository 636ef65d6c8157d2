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

    /// Takes the next `count` elements of `T`, `count` being a wire count
    /// from a fixed part.
    pub fn take_counted<T: FromBytes + Immutable + Unaligned>(
        &mut self,
        count: u32,
    ) -> ProtoResult<&'a [T]> {
        self.take_slice(usize_from(count)?)
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

/// One trailing array of a "fixed part + trailing arrays" message
/// ([`FixedArrays`]): its bytes and, if the fixed part declares its element
/// count, that count and the slice's element count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trailing<'b> {
    bytes: &'b [u8],
    declared: Option<(u32, usize)>,
}

impl<'b> Trailing<'b> {
    /// An array whose element count the fixed part declares in `declared`;
    /// encoding fails with [`ProtoError::InvalidArgument`] if `items` has
    /// another length.
    pub fn counted<T: IntoBytes + Immutable>(declared: u32, items: &'b [T]) -> Self {
        Trailing {
            bytes: items.as_bytes(),
            declared: Some((declared, items.len())),
        }
    }

    /// An array (or byte string) whose length the caller checks itself.
    pub fn unchecked<T: IntoBytes + Immutable>(items: &'b [T]) -> Self {
        Trailing {
            bytes: items.as_bytes(),
            declared: None,
        }
    }

    fn check(&self) -> ProtoResult<()> {
        match self.declared {
            Some((declared, len)) if usize_from(declared)? != len => {
                Err(ProtoError::InvalidArgument)
            }
            _ => Ok(()),
        }
    }
}

/// A guest-to-host message made of a fixed command structure `cmd` (whose
/// header must name `id`), then the trailing `arrays` in order, then
/// `slack` zero bytes (what the original driver sends after some
/// messages). The messages keep their own types; this is their shared
/// encoder. The matching decoder is [`decode_fixed`] followed by
/// [`Reader::take_counted`] per array.
#[derive(Clone, Copy, Debug)]
pub struct FixedArrays<'b, C, const N: usize> {
    /// The command id the header of `cmd` must carry.
    pub id: CommandId,
    /// The fixed part.
    pub cmd: &'b C,
    /// The trailing arrays.
    pub arrays: [Trailing<'b>; N],
    /// Zero bytes after the arrays.
    pub slack: usize,
}

impl<'b, C> FixedArrays<'b, C, 1> {
    /// A message with one trailing array.
    pub const fn one(id: CommandId, cmd: &'b C, array: Trailing<'b>, slack: usize) -> Self {
        FixedArrays {
            id,
            cmd,
            arrays: [array],
            slack,
        }
    }
}

impl<C: Wire, const N: usize> FixedArrays<'_, C, N> {
    /// Length of the encoded message, extension header included.
    pub fn encoded_len(&self, framing: &Framing) -> ProtoResult<usize> {
        let mut n = framing
            .prefix_len()
            .checked_add(core::mem::size_of_val(self.cmd))
            .ok_or(ProtoError::Overflow)?;
        for a in &self.arrays {
            n = n.checked_add(a.bytes.len()).ok_or(ProtoError::Overflow)?;
        }
        n.checked_add(self.slack).ok_or(ProtoError::Overflow)
    }

    /// Encodes the message into `buf`; returns its length. Checks, in this
    /// order: that the header names `id` ([`ProtoError::BadType`]), then
    /// `check` (a message's own validation), then each counted array's
    /// length ([`ProtoError::InvalidArgument`]).
    pub fn encode_checked(
        &self,
        framing: &Framing,
        buf: &mut [u8],
        check: impl FnOnce() -> ProtoResult<()>,
    ) -> ProtoResult<usize> {
        expect_command(self.cmd.as_bytes(), self.id)?;
        check()?;
        self.arrays.iter().try_for_each(Trailing::check)?;
        let mut w = Writer::message(buf, framing)?;
        w.put(self.cmd)?;
        for a in &self.arrays {
            w.put_bytes(a.bytes)?;
        }
        w.put_zeros(self.slack)?;
        w.finish()
    }

    /// [`Self::encode_checked`] without a check of the message's own.
    pub fn encode(&self, framing: &Framing, buf: &mut [u8]) -> ProtoResult<usize> {
        self.encode_checked(framing, buf, || Ok(()))
    }
}

/// Implements a message type's `encoded_len` and `encode` with the
/// [`FixedArrays`] its private `fn wire(&self)` returns. With
/// `check = f`, `encode` also runs `f(&self)` after the header check; its
/// error becomes [`ProtoError::InvalidArgument`]. The calling module imports
/// `Framing`, `ProtoError` and `ProtoResult`.
macro_rules! fixed_arrays_codec {
    ($(check = $check:expr)?) => {
        /// Length of the encoded message, extension header included.
        pub fn encoded_len(&self, framing: &Framing) -> ProtoResult<usize> {
            self.wire().encoded_len(framing)
        }

        /// Encodes the message into `buf`; returns its length.
        pub fn encode(&self, framing: &Framing, buf: &mut [u8]) -> ProtoResult<usize> {
            self.wire().encode_checked(framing, buf, || {
                $(($check)(self).map_err(|_| ProtoError::InvalidArgument)?;)?
                Ok(())
            })
        }
    };
}
pub(crate) use fixed_arrays_codec;

/// Decodes the fixed part of a command that trailing arrays follow: checks
/// that the header names `id` and returns a copy of the fixed part and a
/// reader positioned after it.
pub fn decode_fixed<C: Wire + Copy>(cmd: &[u8], id: CommandId) -> ProtoResult<(C, Reader<'_>)> {
    expect_command(cmd, id)?;
    let (fixed, rest) = C::read_from_prefix(cmd).map_err(|_| ProtoError::Truncated)?;
    Ok((fixed, Reader::new(rest)))
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
    use super::super::command::VgpuCommand;
    use super::super::guid::Luid;
    use super::super::handle::Handle;
    use super::*;
    use zerocopy::little_endian::{U32, U64};
    use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

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

    /// A fixed part declaring two arrays: `n` handles, then `n` values.
    #[derive(Clone, Copy, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
    #[repr(C)]
    struct Fixed {
        hdr: CommandHeader,
        n: U32,
        pad: U32,
    }

    const ID: CommandId = CommandId::Vgpu(VgpuCommand::Evict);

    fn fixed(n: u32) -> Fixed {
        Fixed {
            hdr: CommandHeader::vgpu(VgpuCommand::Evict, Handle::new(1)),
            n: U32::new(n),
            pad: U32::new(0),
        }
    }

    fn wire<'b>(
        cmd: &'b Fixed,
        handles: &'b [Handle],
        values: &'b [U64],
        slack: usize,
    ) -> FixedArrays<'b, Fixed, 2> {
        FixedArrays {
            id: ID,
            cmd,
            arrays: [
                Trailing::counted(cmd.n.get(), handles),
                Trailing::counted(cmd.n.get(), values),
            ],
            slack,
        }
    }

    /// The helper's decoder for `Fixed`, as a message would write it.
    fn decode(cmd: &[u8]) -> ProtoResult<(Fixed, &[Handle], &[U64])> {
        let (f, mut r) = decode_fixed::<Fixed>(cmd, ID)?;
        let handles = r.take_counted::<Handle>(f.n.get())?;
        let values = r.take_counted::<U64>(f.n.get())?;
        Ok((f, handles, values))
    }

    #[test]
    fn fixed_arrays_round_trip() {
        let c = fixed(2);
        let h = [Handle::new(0x40), Handle::new(0x80)];
        let v = [U64::new(1), U64::new(u64::MAX)];
        let f = Framing::with_ext_header(Luid::new(1, 0));
        let w = wire(&c, &h, &v, 3);
        let mut buf = [0xaau8; 128];
        let n = w.encode(&f, &mut buf).unwrap();
        assert_eq!(n, 16 + 32 + 8 + 16 + 3);
        assert_eq!(w.encoded_len(&f), Ok(n));
        assert_eq!(&buf[16..48], c.as_bytes());
        assert_eq!(&buf[48..56], h.as_bytes());
        assert_eq!(&buf[56..72], v.as_bytes());
        assert_eq!(&buf[72..75], &[0, 0, 0]);
        let (d, dh, dv) = decode(&buf[16..n]).unwrap();
        assert_eq!((d.n.get(), dh, dv), (2, &h[..], &v[..]));
        // Without the extension header and with trailing slack accepted.
        let f0 = Framing::without_ext_header();
        let n0 = w.encode(&f0, &mut buf).unwrap();
        assert_eq!(n0, n - 16);
        assert_eq!(w.encoded_len(&f0), Ok(n0));
        assert!(decode(&buf[..n0]).is_ok());
        // An empty message (no arrays, no slack).
        let e = FixedArrays::<Fixed, 0> {
            id: ID,
            cmd: &c,
            arrays: [],
            slack: 0,
        };
        assert_eq!(e.encode(&f0, &mut buf), Ok(32));
    }

    #[test]
    fn fixed_arrays_encode_errors() {
        let h = [Handle::new(0x40), Handle::new(0x80)];
        let v = [U64::new(1), U64::new(2)];
        let f = Framing::without_ext_header();
        let mut buf = [0u8; 128];
        // A count that does not match a slice, either one.
        let c = fixed(2);
        assert_eq!(
            wire(&c, &h[..1], &v, 0).encode(&f, &mut buf),
            Err(ProtoError::InvalidArgument)
        );
        assert_eq!(
            wire(&c, &h, &v[..1], 0).encode(&f, &mut buf),
            Err(ProtoError::InvalidArgument)
        );
        let c3 = fixed(3);
        assert_eq!(
            wire(&c3, &h, &v, 0).encode(&f, &mut buf),
            Err(ProtoError::InvalidArgument)
        );
        // Unchecked arrays are the caller's business.
        let u = FixedArrays {
            id: ID,
            cmd: &c3,
            arrays: [Trailing::unchecked(&h[..1])],
            slack: 0,
        };
        assert_eq!(u.encode(&f, &mut buf), Ok(36));
        // Wrong command id beats the other checks.
        let mut bad = fixed(2);
        bad.hdr = CommandHeader::vgpu(VgpuCommand::MakeResident, Handle::new(1));
        assert_eq!(
            wire(&bad, &h[..1], &v, 0).encode_checked(&f, &mut buf, || Err(ProtoError::BadCount)),
            Err(ProtoError::BadType)
        );
        // The message's own check runs before the array counts.
        assert_eq!(
            wire(&c, &h[..1], &v, 0).encode_checked(&f, &mut buf, || Err(ProtoError::BadCount)),
            Err(ProtoError::BadCount)
        );
        // Buffers one byte short of each part, slack included.
        let w = wire(&c, &h, &v, 5);
        let len = w.encoded_len(&f).unwrap();
        for short in [0, 31, 32, 39, 40, 55, 56, len - 1] {
            assert_eq!(
                w.encode(&f, &mut buf[..short]),
                Err(ProtoError::BufferTooSmall),
                "{short}"
            );
        }
        assert_eq!(w.encode(&f, &mut buf[..len]), Ok(len));
        // Slack too large to count or to send.
        let huge = wire(&c, &h, &v, usize::MAX);
        assert_eq!(huge.encoded_len(&f), Err(ProtoError::Overflow));
        assert_eq!(huge.encode(&f, &mut buf), Err(ProtoError::Overflow));
        let mut big = std::vec![0u8; MAX_MESSAGE_SIZE + 64];
        let over = wire(&c, &h, &v, MAX_MESSAGE_SIZE);
        assert_eq!(over.encode(&f, &mut big), Err(ProtoError::TooLarge));
    }

    #[test]
    fn fixed_arrays_decode_errors() {
        let c = fixed(2);
        let h = [Handle::new(0x40), Handle::new(0x80)];
        let v = [U64::new(1), U64::new(2)];
        let f = Framing::without_ext_header();
        let mut buf = [0u8; 128];
        let n = wire(&c, &h, &v, 0).encode(&f, &mut buf).unwrap();
        // Every truncation fails: in the header, the fixed part, either array.
        for cut in 0..n {
            assert_eq!(
                decode(&buf[..cut]).map(|_| ()),
                Err(ProtoError::Truncated),
                "{cut}"
            );
        }
        assert!(decode(&buf[..n]).is_ok());
        // A wrong command id.
        let mut other = buf;
        other[..24].copy_from_slice(
            CommandHeader::vgpu(VgpuCommand::MakeResident, Handle::new(1)).as_bytes(),
        );
        assert_eq!(decode(&other[..n]).map(|_| ()), Err(ProtoError::BadType));
        // Oversized counts: one more than sent, and the largest u32.
        for count in [3u32, 0x1000_0000, u32::MAX] {
            let mut big = buf;
            big[24..28].copy_from_slice(&count.to_le_bytes());
            assert_eq!(
                decode(&big[..n]).map(|_| ()),
                Err(ProtoError::Truncated),
                "{count}"
            );
        }
        let mut r = Reader::new(&buf[..4]);
        assert_eq!(r.take_counted::<U64>(u32::MAX), Err(ProtoError::Truncated));
        assert_eq!(r.take_counted::<u8>(4).unwrap(), &buf[..4]);
    }
}
