// SPDX-License-Identifier: GPL-2.0

//! VMBus packet framing, exactly as packets sit in a VMBus ring.
//!
//! A packet is a 16-byte [`VmPacketDescriptor`], the payload, zero padding
//! to a multiple of 8 bytes, and the 8-byte "previous indices" word the
//! ring writer appends. `offset8` is the payload offset and `len8` the
//! packet length without the trailing word, both in 8-byte units. The
//! payload length is not carried exactly: a receiver sees the payload
//! rounded up to 8 bytes (Linux `hv_pkt_datalen`), which is why reply
//! decoders accept trailing bytes.
//!
//! The loopback transport of dxg carries these bytes unchanged.

use zerocopy::little_endian::{U16, U64};
use zerocopy::FromBytes;
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::consts::MAX_MESSAGE_SIZE;
use super::error::{ProtoError, ProtoResult};

/// Packet type of in-band data packets (requests, host notifications).
pub const VM_PKT_DATA_INBAND: u16 = 6;
/// Packet type of completion packets (replies).
pub const VM_PKT_COMP: u16 = 11;
/// Flag on synchronous requests: the sender expects a completion packet
/// with the same transaction id.
pub const VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED: u16 = 1;

/// Size of [`VmPacketDescriptor`].
pub const DESCRIPTOR_SIZE: usize = 16;
/// Size of the trailing "previous indices" word.
pub const TRAILER_SIZE: usize = 8;
/// Largest payload this module encodes or accepts.
pub const MAX_PAYLOAD: usize = MAX_MESSAGE_SIZE;

/// The standard VMBus packet descriptor (`struct vmpacket_descriptor`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct VmPacketDescriptor {
    /// Packet type ([`VM_PKT_DATA_INBAND`] or [`VM_PKT_COMP`]).
    pub ptype: U16,
    /// Payload offset in 8-byte units (2 for the packets used here).
    pub offset8: U16,
    /// Packet length without the trailer, in 8-byte units.
    pub len8: U16,
    /// Flags ([`VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED`]).
    pub flags: U16,
    /// Transaction id: the request id of a synchronous request, echoed by its
    /// completion; 0 for asynchronous sends and host notifications.
    pub trans_id: U64,
}

const _: () = assert!(core::mem::size_of::<VmPacketDescriptor>() == DESCRIPTOR_SIZE);

/// The two packet types dxg exchanges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `VM_PKT_DATA_INBAND`: a request or a host notification.
    DataInband,
    /// `VM_PKT_COMP`: the reply to a synchronous request.
    Completion,
}

impl PacketType {
    /// The wire value.
    pub const fn value(self) -> u16 {
        match self {
            PacketType::DataInband => VM_PKT_DATA_INBAND,
            PacketType::Completion => VM_PKT_COMP,
        }
    }
}

impl TryFrom<u16> for PacketType {
    type Error = ProtoError;

    fn try_from(v: u16) -> ProtoResult<Self> {
        match v {
            VM_PKT_DATA_INBAND => Ok(PacketType::DataInband),
            VM_PKT_COMP => Ok(PacketType::Completion),
            _ => Err(ProtoError::BadType),
        }
    }
}

/// A decoded packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The packet type.
    pub ptype: PacketType,
    /// The flags word (unknown bits are kept, not rejected).
    pub flags: u16,
    /// The transaction id.
    pub trans_id: u64,
    /// The payload, including the padding up to 8 bytes.
    pub payload: &'a [u8],
    /// The trailing ring-indices word.
    pub prev_indices: u64,
}

impl Packet<'_> {
    /// True if the completion-requested flag is set.
    pub const fn completion_requested(&self) -> bool {
        self.flags & VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED != 0
    }
}

/// `n` rounded up to a multiple of 8.
pub const fn align8(n: usize) -> Option<usize> {
    match n.checked_add(7) {
        Some(v) => Some(v & !7),
        None => None,
    }
}

/// Total ring bytes of a packet with a `payload_len`-byte payload:
/// descriptor + payload + padding + trailer.
pub fn packet_len(payload_len: usize) -> ProtoResult<usize> {
    if payload_len > MAX_PAYLOAD {
        return Err(ProtoError::TooLarge);
    }
    align8(payload_len)
        .and_then(|p| p.checked_add(DESCRIPTOR_SIZE + TRAILER_SIZE))
        .ok_or(ProtoError::Overflow)
}

/// Encodes one packet into `buf`; returns the number of bytes written
/// ([`packet_len`]). Padding bytes are zero.
pub fn encode_packet(
    buf: &mut [u8],
    ptype: PacketType,
    flags: u16,
    trans_id: u64,
    payload: &[u8],
    prev_indices: u64,
) -> ProtoResult<usize> {
    let total = packet_len(payload.len())?;
    let body = total
        .checked_sub(TRAILER_SIZE)
        .ok_or(ProtoError::Overflow)?;
    let len8 = u16::try_from(body / 8).map_err(|_| ProtoError::TooLarge)?;
    let desc = VmPacketDescriptor {
        ptype: U16::new(ptype.value()),
        offset8: U16::new((DESCRIPTOR_SIZE / 8) as u16),
        len8: U16::new(len8),
        flags: U16::new(flags),
        trans_id: U64::new(trans_id),
    };
    let mut w = super::codec::Writer::new(buf);
    w.put(&desc)?;
    w.put_bytes(payload)?;
    let pad = body
        .checked_sub(DESCRIPTOR_SIZE)
        .and_then(|b| b.checked_sub(payload.len()))
        .ok_or(ProtoError::Overflow)?;
    w.put_zeros(pad)?;
    w.put(&U64::new(prev_indices))?;
    Ok(w.len())
}

/// Decodes the packet at the start of `bytes`; returns it and the number of
/// bytes it occupies (so that the next packet starts there).
///
/// Checks: the descriptor and trailer are present, `offset8 >= 2`,
/// `offset8 <= len8`, the payload is at most [`MAX_PAYLOAD`] bytes, and the
/// type is in-band data or completion.
pub fn decode_packet(bytes: &[u8]) -> ProtoResult<(Packet<'_>, usize)> {
    let (mut packet, body) = decode_body(bytes)?;
    let total = body.checked_add(TRAILER_SIZE).ok_or(ProtoError::Overflow)?;
    let trailer = bytes.get(body..total).ok_or(ProtoError::Truncated)?;
    let (prev, _) = U64::read_from_prefix(trailer).map_err(|_| ProtoError::Truncated)?;
    packet.prev_indices = prev.get();
    Ok((packet, total))
}

/// Decodes one packet as `vmbus_recvpacket_raw()` returns it: descriptor,
/// payload and padding, without the ring's trailer (`prev_indices` is 0).
/// `bytes` must be exactly the packet. Same checks as [`decode_packet`].
pub fn decode_packet_raw(bytes: &[u8]) -> ProtoResult<Packet<'_>> {
    let (packet, body) = decode_body(bytes)?;
    if body != bytes.len() {
        return Err(ProtoError::BadLength);
    }
    Ok(packet)
}

/// The packet at the start of `bytes` and the end of its body.
fn decode_body(bytes: &[u8]) -> ProtoResult<(Packet<'_>, usize)> {
    let (desc, _) =
        VmPacketDescriptor::read_from_prefix(bytes).map_err(|_| ProtoError::Truncated)?;
    let ptype = PacketType::try_from(desc.ptype.get())?;
    let offset = usize::from(desc.offset8.get()) * 8;
    let body = usize::from(desc.len8.get()) * 8;
    if offset < DESCRIPTOR_SIZE {
        return Err(ProtoError::BadLength);
    }
    let payload_len = body.checked_sub(offset).ok_or(ProtoError::BadLength)?;
    if payload_len > MAX_PAYLOAD {
        return Err(ProtoError::TooLarge);
    }
    let packet = bytes.get(..body).ok_or(ProtoError::Truncated)?;
    let payload = packet.get(offset..body).ok_or(ProtoError::BadLength)?;
    Ok((
        Packet {
            ptype,
            flags: desc.flags.get(),
            trans_id: desc.trans_id.get(),
            payload,
            prev_indices: 0,
        },
        body,
    ))
}

/// Iterates over consecutive packets in a byte string (for example one
/// read from the loopback device). Stops after the first error.
#[derive(Clone, Debug)]
pub struct Packets<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Packets<'a> {
    /// Iterates over the packets in `bytes`.
    pub const fn new(bytes: &'a [u8]) -> Self {
        Packets {
            rest: bytes,
            failed: false,
        }
    }
}

impl<'a> Iterator for Packets<'a> {
    type Item = ProtoResult<Packet<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        match decode_packet(self.rest) {
            Ok((p, used)) => {
                self.rest = self.rest.get(used..).unwrap_or(&[]);
                Some(Ok(p))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::offset_of;
    use std::vec::Vec;

    #[test]
    fn layout() {
        assert_eq!(offset_of!(VmPacketDescriptor, offset8), 2);
        assert_eq!(offset_of!(VmPacketDescriptor, len8), 4);
        assert_eq!(offset_of!(VmPacketDescriptor, flags), 6);
        assert_eq!(offset_of!(VmPacketDescriptor, trans_id), 8);
    }

    #[test]
    fn round_trip() {
        let mut buf = [0xaau8; 64];
        let n = encode_packet(
            &mut buf,
            PacketType::DataInband,
            VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED,
            42,
            &[1, 2, 3],
            0x1234 << 32,
        )
        .unwrap();
        assert_eq!(n, 16 + 8 + 8);
        assert_eq!(&buf[..8], &[6, 0, 2, 0, 3, 0, 1, 0]);
        assert_eq!(&buf[16..24], &[1, 2, 3, 0, 0, 0, 0, 0]);
        let (p, used) = decode_packet(&buf[..n]).unwrap();
        assert_eq!(used, n);
        assert_eq!(p.ptype, PacketType::DataInband);
        assert!(p.completion_requested());
        assert_eq!(p.trans_id, 42);
        assert_eq!(p.payload, &[1, 2, 3, 0, 0, 0, 0, 0]);
        assert_eq!(p.prev_indices, 0x1234 << 32);
        let mut two = [0u8; 64];
        two[..n].copy_from_slice(&buf[..n]);
        let m = encode_packet(&mut two[n..], PacketType::Completion, 0, 42, &[], 0).unwrap();
        let v: Vec<_> = Packets::new(&two[..n + m]).collect();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].unwrap().ptype, PacketType::Completion);
        assert_eq!(v[1].unwrap().payload.len(), 0);
    }

    #[test]
    fn bad_packets() {
        let mut buf = [0u8; 64];
        let n = encode_packet(&mut buf, PacketType::Completion, 0, 1, &[9; 8], 0).unwrap();
        assert_eq!(
            decode_packet(&buf[..n - 1]).unwrap_err(),
            ProtoError::Truncated
        );
        assert_eq!(
            decode_packet(&buf[..10]).unwrap_err(),
            ProtoError::Truncated
        );
        let mut b = buf;
        b[0] = 7;
        assert_eq!(decode_packet(&b[..n]).unwrap_err(), ProtoError::BadType);
        let mut b = buf;
        b[2] = 1;
        assert_eq!(decode_packet(&b[..n]).unwrap_err(), ProtoError::BadLength);
        let mut b = buf;
        b[2] = 4;
        assert_eq!(decode_packet(&b[..n]).unwrap_err(), ProtoError::BadLength);
        let mut b = buf;
        b[4] = 0xff;
        b[5] = 0xff;
        assert_eq!(decode_packet(&b[..n]).unwrap_err(), ProtoError::TooLarge);
        assert_eq!(
            encode_packet(&mut buf, PacketType::Completion, 0, 1, &[0; 60], 0),
            Err(ProtoError::BufferTooSmall)
        );
        assert_eq!(packet_len(MAX_PAYLOAD + 1), Err(ProtoError::TooLarge));
    }

    #[test]
    fn raw_packets_are_ring_packets_without_the_trailer() {
        let mut buf = [0u8; 64];
        let n = encode_packet(&mut buf, PacketType::Completion, 0, 42, b"hello", 7).unwrap();
        let (p, used) = decode_packet(&buf[..n]).unwrap();
        assert_eq!(used, n);
        let raw = decode_packet_raw(&buf[..n - TRAILER_SIZE]).unwrap();
        assert_eq!(
            (raw.ptype, raw.trans_id, raw.payload),
            (p.ptype, p.trans_id, p.payload)
        );
        assert_eq!(raw.prev_indices, 0);
        // The trailer, or any other extra or missing byte, is an error.
        assert_eq!(decode_packet_raw(&buf[..n]), Err(ProtoError::BadLength));
        for cut in 0..n - TRAILER_SIZE {
            assert!(decode_packet_raw(&buf[..cut]).is_err());
        }
    }
}
