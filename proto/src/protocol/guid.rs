// SPDX-License-Identifier: GPL-2.0

//! GUIDs and LUIDs.

use core::fmt;

use zerocopy::little_endian::U32;
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::error::{ProtoError, ProtoResult};

/// A Windows GUID in its 16-byte memory layout: `data1` (u32 LE), `data2`
/// (u16 LE), `data3` (u16 LE), then 8 bytes `data4`. This is also the layout
/// of the kernel's `guid_t` built with `GUID_INIT`.
#[derive(
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
#[repr(transparent)]
pub struct Guid(pub [u8; 16]);

/// Length of the text form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub const GUID_STR_LEN: usize = 36;

const HEX: &[u8; 16] = b"0123456789abcdef";

const fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c.wrapping_sub(b'0')),
        b'a'..=b'f' => Some(c.wrapping_sub(b'a' - 10)),
        b'A'..=b'F' => Some(c.wrapping_sub(b'A' - 10)),
        _ => None,
    }
}

/// Byte order of the text form: text byte pair `i` (0..16) is memory byte
/// `TEXT_ORDER[i]`.
const TEXT_ORDER: [usize; 16] = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];

impl Guid {
    /// The all-zero GUID.
    pub const NIL: Guid = Guid([0; 16]);

    /// Builds a GUID from its fields, like the kernel's `GUID_INIT`.
    pub const fn from_fields(d1: u32, d2: u16, d3: u16, d4: [u8; 8]) -> Self {
        let a = d1.to_le_bytes();
        let b = d2.to_le_bytes();
        let c = d3.to_le_bytes();
        Guid([
            a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d4[0], d4[1], d4[2], d4[3], d4[4],
            d4[5], d4[6], d4[7],
        ])
    }

    /// Builds a GUID from four dwords as read from PCI config space
    /// (offsets +0, +4, +8, +12, each little-endian).
    pub const fn from_dwords(d: [u32; 4]) -> Self {
        let a = d[0].to_le_bytes();
        let b = d[1].to_le_bytes();
        let c = d[2].to_le_bytes();
        let e = d[3].to_le_bytes();
        Guid([
            a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3], c[0], c[1], c[2], c[3], e[0], e[1],
            e[2], e[3],
        ])
    }

    /// The four config-space dwords of this GUID (inverse of
    /// [`Guid::from_dwords`]).
    pub const fn to_dwords(self) -> [u32; 4] {
        let b = &self.0;
        [
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            u32::from_le_bytes([b[8], b[9], b[10], b[11]]),
            u32::from_le_bytes([b[12], b[13], b[14], b[15]]),
        ]
    }

    /// The memory bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex digits in either
    /// case, optionally wrapped in `{}`). Returns [`ProtoError::BadValue`]
    /// for anything else.
    pub fn parse(s: &str) -> ProtoResult<Guid> {
        let mut t = s.as_bytes();
        if let [b'{', inner @ .., b'}'] = t {
            t = inner;
        }
        if t.len() != GUID_STR_LEN {
            return Err(ProtoError::BadValue);
        }
        let mut out = [0u8; 16];
        let mut pair = 0usize;
        let mut high: Option<u8> = None;
        // A bounded range instead of `enumerate()`, whose counter carries an
        // overflow check (a panic path) in kernel builds.
        for (pos, &c) in (0..GUID_STR_LEN).zip(t.iter()) {
            if matches!(pos, 8 | 13 | 18 | 23) {
                if c != b'-' {
                    return Err(ProtoError::BadValue);
                }
                continue;
            }
            let v = hex_val(c).ok_or(ProtoError::BadValue)?;
            match high.take() {
                None => high = Some(v),
                Some(h) => {
                    let idx = *TEXT_ORDER.get(pair).ok_or(ProtoError::BadValue)?;
                    let slot = out.get_mut(idx).ok_or(ProtoError::BadValue)?;
                    *slot = (h << 4) | v;
                    pair = pair.saturating_add(1);
                }
            }
        }
        if pair != 16 || high.is_some() {
            return Err(ProtoError::BadValue);
        }
        Ok(Guid(out))
    }

    /// Writes the lower-case text form into `out` and returns it as a
    /// string slice; does not allocate.
    pub fn format<'a>(&self, out: &'a mut [u8; GUID_STR_LEN]) -> &'a str {
        let mut pos = 0usize;
        for (pair, &idx) in (0..TEXT_ORDER.len()).zip(TEXT_ORDER.iter()) {
            if matches!(pair, 4 | 6 | 8 | 10) {
                if let Some(slot) = out.get_mut(pos) {
                    *slot = b'-';
                }
                pos = pos.saturating_add(1);
            }
            let byte = self.0.get(idx).copied().unwrap_or(0);
            for nibble in [byte >> 4, byte & 0xf] {
                if let (Some(slot), Some(&ch)) = (out.get_mut(pos), HEX.get(usize::from(nibble))) {
                    *slot = ch;
                }
                pos = pos.saturating_add(1);
            }
        }
        core::str::from_utf8(&out[..]).unwrap_or("")
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; GUID_STR_LEN];
        f.write_str(self.format(&mut buf))
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

/// A Windows LUID: `low` (u32) at +0, `high` (u32) at +4; 8 bytes,
/// alignment 1 on the wire.
#[derive(
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
#[repr(C)]
pub struct Luid {
    /// Low part (`a` in the original headers).
    pub low: U32,
    /// High part (`b` in the original headers).
    pub high: U32,
}

const _: () = assert!(core::mem::size_of::<Luid>() == 8);

impl Luid {
    /// The zero LUID.
    pub const ZERO: Luid = Luid::new(0, 0);

    /// Builds a LUID from its two halves.
    pub const fn new(low: u32, high: u32) -> Self {
        Luid {
            low: U32::new(low),
            high: U32::new(high),
        }
    }

    /// Builds a LUID from `high << 32 | low`.
    pub const fn from_u64(v: u64) -> Self {
        let b = v.to_le_bytes();
        Luid::new(
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        )
    }

    /// `high << 32 | low`.
    pub const fn as_u64(&self) -> u64 {
        ((self.high.get() as u64) << 32) | (self.low.get() as u64)
    }

    /// True if both halves are zero.
    pub const fn is_zero(&self) -> bool {
        self.as_u64() == 0
    }

    /// The "channel LUID" of a GUID: its first 8 memory bytes read as a LUID.
    /// Used to pair a PCI function (GUID at config offset 0xC0) with its vGPU
    /// channel (offer instance GUID).
    pub const fn from_guid(g: &Guid) -> Self {
        let b = &g.0;
        Luid::new(
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        )
    }
}

impl fmt::Debug for Luid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Luid({:#x}:{:#010x})", self.high.get(), self.low.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn guid_text() {
        let g = Guid::from_fields(
            0xdde9_cbc0,
            0x5060,
            0x4436,
            [0x94, 0x48, 0xea, 0x12, 0x54, 0xa5, 0xd1, 0x77],
        );
        assert_eq!(g.to_string(), "dde9cbc0-5060-4436-9448-ea1254a5d177");
        assert_eq!(g.0[0], 0xc0);
        assert_eq!(Guid::parse("DDE9CBC0-5060-4436-9448-EA1254A5D177"), Ok(g));
        assert_eq!(Guid::parse("{dde9cbc0-5060-4436-9448-ea1254a5d177}"), Ok(g));
        for bad in [
            "",
            "dde9cbc0-5060-4436-9448-ea1254a5d17",
            "dde9cbc0-5060-4436-9448-ea1254a5d1777",
            "dde9cbc0x5060-4436-9448-ea1254a5d177",
            "dde9cbc0-5060-4436-9448-ea1254a5d17g",
            "{dde9cbc0-5060-4436-9448-ea1254a5d177",
            "dde9cbc0-5060-4436-9448-ea1254a5d1é",
        ] {
            assert_eq!(Guid::parse(bad), Err(ProtoError::BadValue), "{bad}");
        }
        assert_eq!(Guid::from_dwords(g.to_dwords()), g);
    }

    #[test]
    fn luid() {
        let l = Luid::from_u64(0x1234_5678_9abc_def0);
        assert_eq!(l.low.get(), 0x9abc_def0);
        assert_eq!(l.high.get(), 0x1234_5678);
        assert_eq!(l.as_u64(), 0x1234_5678_9abc_def0);
        let g = Guid([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
        assert_eq!(Luid::from_guid(&g), Luid::new(0x0403_0201, 0x0807_0605));
    }
}
