// SPDX-License-Identifier: GPL-2.0

//! The command-buffer format of the software host (`tests/dxg-host`).
//!
//! This is not part of the Hyper-V protocol: a real host runs the vendor's
//! command buffers. The software host executes this tiny command set at the
//! GPU virtual address that SUBMITCOMMAND names, so guest programs can
//! build buffers with [`CmdWriter`] and check the results.
//!
//! A command buffer is a sequence of commands, each starting with an
//! 8-byte [`CmdHeader`]: `opcode` u32, `length` u32 (bytes of the whole
//! command including the header), then the operands. All fields are
//! little-endian. Lengths are multiples of 4; every opcode except
//! [`OP_NOP`] has exactly the length of its structure, and reserved fields
//! must be zero. [`OP_NOP`] may be longer than 8 bytes (padding, its extra
//! bytes are ignored).
//!
//! | Opcode | Command | Operands | Length |
//! |---|---|---|---|
//! | 0 | NOP | (padding) | >= 8 |
//! | 1 | FILL | `gpu_va` u64, `length` u64, `value` u32 (byte, 0..=255), 0 u32 | 32 |
//! | 2 | COPY | `src_va` u64, `dst_va` u64, `length` u64 | 32 |
//! | 3 | SIGNAL | `fence` handle u32, 0 u32, `value` u64 | 24 |
//! | 4 | WAIT | `fence` handle u32, 0 u32, `value` u64 | 24 |
//! | 5 | TIMESTAMP | `gpu_va` u64 (receives a u64 CLOCK_MONOTONIC ns) | 16 |

use zerocopy::little_endian::{U32, U64};
use zerocopy::FromBytes;
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::codec::Writer;
use super::error::{ProtoError, ProtoResult};
use super::handle::Handle;

/// Opcode of NOP: does nothing; may carry padding.
pub const OP_NOP: u32 = 0;
/// Opcode of FILL: sets `length` bytes at `gpu_va` to `value`.
pub const OP_FILL: u32 = 1;
/// Opcode of COPY: copies `length` bytes from `src_va` to `dst_va`
/// (overlapping ranges behave like `memmove`).
pub const OP_COPY: u32 = 2;
/// Opcode of SIGNAL: sets a monitored fence to `value` (fences never go
/// backwards: a lower value is ignored).
pub const OP_SIGNAL: u32 = 3;
/// Opcode of WAIT: stalls the context until a monitored fence reaches
/// `value`.
pub const OP_WAIT: u32 = 4;
/// Opcode of TIMESTAMP: writes the host's CLOCK_MONOTONIC time in
/// nanoseconds as a little-endian u64 at `gpu_va`.
pub const OP_TIMESTAMP: u32 = 5;

/// Size of [`CmdHeader`].
pub const CMD_HEADER_SIZE: usize = 8;
/// Largest NOP (padding) command.
pub const MAX_NOP_LENGTH: u32 = 64 * 1024;
/// Largest `length` of one FILL or COPY (1 GiB).
pub const MAX_TRANSFER: u64 = 1 << 30;

/// The header of every command.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct CmdHeader {
    /// One of the `OP_*` values.
    pub opcode: U32,
    /// Length of the whole command in bytes, header included.
    pub length: U32,
}

/// FILL.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct FillCmd {
    /// Opcode [`OP_FILL`], length 32.
    pub hdr: CmdHeader,
    /// First GPU virtual address written.
    pub gpu_va: U64,
    /// Number of bytes written.
    pub length: U64,
    /// The byte value, in the low 8 bits; the other bits must be zero.
    pub value: U32,
    /// Zero.
    pub reserved: U32,
}

/// COPY.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct CopyCmd {
    /// Opcode [`OP_COPY`], length 32.
    pub hdr: CmdHeader,
    /// Source GPU virtual address.
    pub src_va: U64,
    /// Destination GPU virtual address.
    pub dst_va: U64,
    /// Number of bytes copied.
    pub length: U64,
}

/// SIGNAL and WAIT.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct FenceCmd {
    /// Opcode [`OP_SIGNAL`] or [`OP_WAIT`], length 24.
    pub hdr: CmdHeader,
    /// Host handle of a monitored fence of the submitting process.
    pub fence: Handle,
    /// Zero.
    pub reserved: U32,
    /// The fence value.
    pub value: U64,
}

/// TIMESTAMP.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct TimestampCmd {
    /// Opcode [`OP_TIMESTAMP`], length 16.
    pub hdr: CmdHeader,
    /// GPU virtual address of the 8 bytes written.
    pub gpu_va: U64,
}

const _: () = assert!(core::mem::size_of::<CmdHeader>() == CMD_HEADER_SIZE);
const _: () = assert!(core::mem::size_of::<FillCmd>() == 32);
const _: () = assert!(core::mem::size_of::<CopyCmd>() == 32);
const _: () = assert!(core::mem::size_of::<FenceCmd>() == 24);
const _: () = assert!(core::mem::size_of::<TimestampCmd>() == 16);

/// One decoded command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    /// NOP of `length` bytes (at least 8, a multiple of 4).
    Nop {
        /// Length of the command in bytes.
        length: u32,
    },
    /// FILL.
    Fill {
        /// First GPU virtual address written.
        gpu_va: u64,
        /// Number of bytes.
        length: u64,
        /// The byte written.
        value: u8,
    },
    /// COPY.
    Copy {
        /// Source GPU virtual address.
        src_va: u64,
        /// Destination GPU virtual address.
        dst_va: u64,
        /// Number of bytes.
        length: u64,
    },
    /// SIGNAL.
    Signal {
        /// Monitored fence handle.
        fence: Handle,
        /// Value.
        value: u64,
    },
    /// WAIT.
    Wait {
        /// Monitored fence handle.
        fence: Handle,
        /// Value.
        value: u64,
    },
    /// TIMESTAMP.
    Timestamp {
        /// GPU virtual address of the u64 written.
        gpu_va: u64,
    },
}

const fn hdr(opcode: u32, length: usize) -> CmdHeader {
    CmdHeader {
        opcode: U32::new(opcode),
        length: U32::new(length as u32),
    }
}

fn check_transfer(length: u64) -> ProtoResult<()> {
    if length > MAX_TRANSFER {
        return Err(ProtoError::TooLarge);
    }
    Ok(())
}

impl Cmd {
    /// Encoded length of the command in bytes.
    pub const fn encoded_len(&self) -> usize {
        match self {
            Cmd::Nop { length } => *length as usize,
            Cmd::Fill { .. } | Cmd::Copy { .. } => 32,
            Cmd::Signal { .. } | Cmd::Wait { .. } => 24,
            Cmd::Timestamp { .. } => 16,
        }
    }

    /// Checks the operands: NOP length, transfer sizes.
    pub fn validate(&self) -> ProtoResult<()> {
        match *self {
            Cmd::Nop { length } => {
                if (length as usize) < CMD_HEADER_SIZE || length % 4 != 0 {
                    return Err(ProtoError::BadLength);
                }
                if length > MAX_NOP_LENGTH {
                    return Err(ProtoError::TooLarge);
                }
                Ok(())
            }
            Cmd::Fill { length, .. } | Cmd::Copy { length, .. } => check_transfer(length),
            Cmd::Signal { .. } | Cmd::Wait { .. } | Cmd::Timestamp { .. } => Ok(()),
        }
    }

    /// Appends the command to `w`.
    pub fn write(&self, w: &mut Writer<'_>) -> ProtoResult<()> {
        self.validate().map_err(|_| ProtoError::InvalidArgument)?;
        let len = self.encoded_len();
        match *self {
            Cmd::Nop { .. } => {
                w.put(&hdr(OP_NOP, len))?;
                w.put_zeros(len.saturating_sub(CMD_HEADER_SIZE))
            }
            Cmd::Fill {
                gpu_va,
                length,
                value,
            } => w.put(&FillCmd {
                hdr: hdr(OP_FILL, len),
                gpu_va: U64::new(gpu_va),
                length: U64::new(length),
                value: U32::new(u32::from(value)),
                reserved: U32::new(0),
            }),
            Cmd::Copy {
                src_va,
                dst_va,
                length,
            } => w.put(&CopyCmd {
                hdr: hdr(OP_COPY, len),
                src_va: U64::new(src_va),
                dst_va: U64::new(dst_va),
                length: U64::new(length),
            }),
            Cmd::Signal { fence, value } | Cmd::Wait { fence, value } => {
                let op = if matches!(self, Cmd::Signal { .. }) {
                    OP_SIGNAL
                } else {
                    OP_WAIT
                };
                w.put(&FenceCmd {
                    hdr: hdr(op, len),
                    fence,
                    reserved: U32::new(0),
                    value: U64::new(value),
                })
            }
            Cmd::Timestamp { gpu_va } => w.put(&TimestampCmd {
                hdr: hdr(OP_TIMESTAMP, len),
                gpu_va: U64::new(gpu_va),
            }),
        }
    }

    /// Encodes the command at the start of `buf`; returns its length.
    pub fn encode(&self, buf: &mut [u8]) -> ProtoResult<usize> {
        let mut w = Writer::new(buf);
        self.write(&mut w)?;
        Ok(w.len())
    }

    /// Decodes the command at the start of `bytes`; returns it and its
    /// length. Strict: exact lengths, zero reserved fields, known opcode.
    pub fn decode(bytes: &[u8]) -> ProtoResult<(Cmd, usize)> {
        let (h, _) = CmdHeader::read_from_prefix(bytes).map_err(|_| ProtoError::Truncated)?;
        let length = h.length.get();
        let len = usize::try_from(length).map_err(|_| ProtoError::Overflow)?;
        if len < CMD_HEADER_SIZE || length % 4 != 0 {
            return Err(ProtoError::BadLength);
        }
        let body = bytes.get(..len).ok_or(ProtoError::Truncated)?;
        let exact = |want: usize| {
            if len == want {
                Ok(())
            } else {
                Err(ProtoError::BadLength)
            }
        };
        let cmd = match h.opcode.get() {
            OP_NOP => Cmd::Nop { length },
            OP_FILL => {
                exact(32)?;
                let (c, _) = FillCmd::read_from_prefix(body).map_err(|_| ProtoError::Truncated)?;
                let v = c.value.get();
                if c.reserved.get() != 0 || v > 0xff {
                    return Err(ProtoError::BadValue);
                }
                Cmd::Fill {
                    gpu_va: c.gpu_va.get(),
                    length: c.length.get(),
                    value: v.to_le_bytes()[0],
                }
            }
            OP_COPY => {
                exact(32)?;
                let (c, _) = CopyCmd::read_from_prefix(body).map_err(|_| ProtoError::Truncated)?;
                Cmd::Copy {
                    src_va: c.src_va.get(),
                    dst_va: c.dst_va.get(),
                    length: c.length.get(),
                }
            }
            op @ (OP_SIGNAL | OP_WAIT) => {
                exact(24)?;
                let (c, _) = FenceCmd::read_from_prefix(body).map_err(|_| ProtoError::Truncated)?;
                if c.reserved.get() != 0 {
                    return Err(ProtoError::BadValue);
                }
                let (fence, value) = (c.fence, c.value.get());
                if op == OP_SIGNAL {
                    Cmd::Signal { fence, value }
                } else {
                    Cmd::Wait { fence, value }
                }
            }
            OP_TIMESTAMP => {
                exact(16)?;
                let (c, _) =
                    TimestampCmd::read_from_prefix(body).map_err(|_| ProtoError::Truncated)?;
                Cmd::Timestamp {
                    gpu_va: c.gpu_va.get(),
                }
            }
            _ => return Err(ProtoError::UnknownCommand),
        };
        cmd.validate()?;
        Ok((cmd, len))
    }
}

/// Iterates over the commands of a buffer, yielding each command's byte
/// offset and the command; stops after the first error.
#[derive(Clone, Debug)]
pub struct CmdIter<'a> {
    rest: &'a [u8],
    offset: usize,
    failed: bool,
}

impl<'a> CmdIter<'a> {
    /// Iterates over `bytes`.
    pub const fn new(bytes: &'a [u8]) -> Self {
        CmdIter {
            rest: bytes,
            offset: 0,
            failed: false,
        }
    }
}

impl Iterator for CmdIter<'_> {
    type Item = ProtoResult<(usize, Cmd)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        match Cmd::decode(self.rest) {
            Ok((cmd, used)) => {
                let at = self.offset;
                self.rest = self.rest.get(used..).unwrap_or(&[]);
                self.offset = self.offset.saturating_add(used);
                Some(Ok((at, cmd)))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Builds a command buffer in a caller-provided byte buffer.
#[derive(Debug)]
pub struct CmdWriter<'a> {
    w: Writer<'a>,
}

impl<'a> CmdWriter<'a> {
    /// A writer at the start of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        CmdWriter {
            w: Writer::new(buf),
        }
    }

    /// Appends one command.
    pub fn push(&mut self, cmd: &Cmd) -> ProtoResult<&mut Self> {
        cmd.write(&mut self.w)?;
        Ok(self)
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.w.len()
    }

    /// True if nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.w.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn all() -> [Cmd; 7] {
        [
            Cmd::Nop { length: 8 },
            Cmd::Nop { length: 20 },
            Cmd::Fill {
                gpu_va: 0x1000,
                length: 64,
                value: 0xab,
            },
            Cmd::Copy {
                src_va: 0x1000,
                dst_va: 0x2000,
                length: 64,
            },
            Cmd::Signal {
                fence: Handle::new(0x4000_0040),
                value: 7,
            },
            Cmd::Wait {
                fence: Handle::new(0x4000_0040),
                value: 7,
            },
            Cmd::Timestamp { gpu_va: 0x3000 },
        ]
    }

    #[test]
    fn round_trip() {
        let mut buf = [0u8; 256];
        let mut w = CmdWriter::new(&mut buf);
        for c in all() {
            w.push(&c).unwrap();
        }
        let n = w.len();
        assert_eq!(n, 8 + 20 + 32 + 32 + 24 + 24 + 16);
        let got: Vec<_> = CmdIter::new(&buf[..n]).map(|r| r.unwrap().1).collect();
        assert_eq!(got, all());
        assert_eq!(&buf[28..36], &[1, 0, 0, 0, 32, 0, 0, 0]);
    }

    #[test]
    fn bad_buffers() {
        let mut buf = [0u8; 64];
        let n = Cmd::Fill {
            gpu_va: 0,
            length: 4,
            value: 1,
        }
        .encode(&mut buf)
        .unwrap();
        assert_eq!(Cmd::decode(&buf[..n - 1]), Err(ProtoError::Truncated));
        assert_eq!(Cmd::decode(&buf[..4]), Err(ProtoError::Truncated));
        let mut b = buf;
        b[4] = 36;
        assert_eq!(Cmd::decode(&b), Err(ProtoError::BadLength));
        let mut b = buf;
        b[4] = 6;
        assert_eq!(Cmd::decode(&b), Err(ProtoError::BadLength));
        let mut b = buf;
        b[0] = 99;
        assert_eq!(Cmd::decode(&b), Err(ProtoError::UnknownCommand));
        let mut b = buf;
        b[25] = 1;
        assert_eq!(Cmd::decode(&b), Err(ProtoError::BadValue));
        let mut b = buf;
        b[23] = 0x40;
        assert_eq!(Cmd::decode(&b), Err(ProtoError::TooLarge));
        let mut b = buf;
        b[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Cmd::decode(&b).is_err());
        let mut it = CmdIter::new(&b);
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
        assert_eq!(
            Cmd::Nop { length: 6 }.encode(&mut buf),
            Err(ProtoError::InvalidArgument)
        );
        let mut small = [0u8; 20];
        assert_eq!(
            Cmd::Copy {
                src_va: 0,
                dst_va: 0,
                length: 1
            }
            .encode(&mut small),
            Err(ProtoError::BufferTooSmall)
        );
    }

    #[test]
    fn random_input_never_panics() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut buf = [0u8; 96];
        for _ in 0..20000 {
            for b in buf.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            buf[0] %= 7;
            buf[4] %= 40;
            buf[5] = 0;
            buf[6] = 0;
            buf[7] = 0;
            let _ = CmdIter::new(&buf).count();
        }
    }
}
