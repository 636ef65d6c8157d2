// SPDX-License-Identifier: GPL-2.0

//! Guest-side validation helpers for host replies (dxg's own rules,
//! stricter than dxgkrnl's; listed under "Validation rules" in
//! `Documentation/protocol.rst`).
//!
//! The host is not trusted: every reply length is checked against what the
//! request asked for, every count against what was sent, every size against
//! what the guest offered, and every IO-space address against the region
//! the guest registered. The typed reply decoders of the command modules
//! use these; the kernel can use them directly for its own checks.

use zerocopy::little_endian::U16;

use super::consts::{MAX_MESSAGE_SIZE, PAGE_SHIFT, PAGE_SIZE};
use super::error::{ProtoError, ProtoResult};

/// The first `expected` bytes of a reply payload.
///
/// VMBus rounds payloads up to 8 bytes and hosts may append more; extra
/// bytes are ignored. A shorter payload is [`ProtoError::Truncated`].
pub fn reply_prefix(payload: &[u8], expected: usize) -> ProtoResult<&[u8]> {
    payload.get(..expected).ok_or(ProtoError::Truncated)
}

/// A count returned by the host must equal the count that was sent.
pub fn check_count(got: u32, sent: u32) -> ProtoResult<()> {
    if got == sent {
        Ok(())
    } else {
        Err(ProtoError::BadCount)
    }
}

/// A count or size must not exceed `max`.
pub fn check_max(value: u32, max: u32) -> ProtoResult<()> {
    if value <= max {
        Ok(())
    } else {
        Err(ProtoError::TooLarge)
    }
}

/// A size the host returned must fit the capacity the guest offered.
pub fn check_capacity(returned: u32, capacity: u32) -> ProtoResult<()> {
    if returned <= capacity {
        Ok(())
    } else {
        Err(ProtoError::BadLength)
    }
}

/// True if `v` is a multiple of [`PAGE_SIZE`].
pub const fn is_page_aligned(v: u64) -> bool {
    v & (PAGE_SIZE - 1) == 0
}

/// [`ProtoError::Misaligned`] unless `v` is page aligned.
pub fn check_page_aligned(v: u64) -> ProtoResult<()> {
    if is_page_aligned(v) {
        Ok(())
    } else {
        Err(ProtoError::Misaligned)
    }
}

/// Number of pages of a non-zero, page-aligned size.
pub fn pages_of(size: u64) -> ProtoResult<u64> {
    if size == 0 {
        return Err(ProtoError::BadLength);
    }
    check_page_aligned(size)?;
    Ok(size >> PAGE_SHIFT)
}

/// Checks the `allocation_size` the host returned for an existing-sysmem
/// allocation against the user buffer: non-zero, page aligned and no larger
/// than `user_len`. Returns the number of pages to pin.
pub fn check_sysmem_size(allocation_size: u64, user_len: u64) -> ProtoResult<u64> {
    let pages = pages_of(allocation_size)?;
    if allocation_size > user_len {
        return Err(ProtoError::OutOfRange);
    }
    Ok(pages)
}

/// The VM's IO space as registered with SETIOSPACEREGION.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoSpace {
    base: u64,
    size: u64,
}

impl IoSpace {
    /// A region `[base, base + size)`; both page aligned, size non-zero, no
    /// wrap-around.
    pub fn new(base: u64, size: u64) -> ProtoResult<Self> {
        check_page_aligned(base)?;
        pages_of(size)?;
        base.checked_add(size).ok_or(ProtoError::Overflow)?;
        Ok(IoSpace { base, size })
    }

    /// Base guest-physical address.
    pub const fn base(&self) -> u64 {
        self.base
    }

    /// Size in bytes.
    pub const fn size(&self) -> u64 {
        self.size
    }

    /// Checks a window `[gpa, gpa + len)` the host placed in the region:
    /// `gpa` page aligned, `len` non-zero, the whole window inside the
    /// region (a window may end exactly at the region's end). Returns the
    /// window's offset from the region base.
    pub fn check_window(&self, gpa: u64, len: u64) -> ProtoResult<u64> {
        check_page_aligned(gpa)?;
        if len == 0 {
            return Err(ProtoError::BadLength);
        }
        let offset = gpa.checked_sub(self.base).ok_or(ProtoError::OutOfRange)?;
        let end = offset.checked_add(len).ok_or(ProtoError::OutOfRange)?;
        if end > self.size {
            return Err(ProtoError::OutOfRange);
        }
        Ok(offset)
    }

    /// [`IoSpace::check_window`] for one page (a fence page).
    pub fn check_page(&self, gpa: u64) -> ProtoResult<u64> {
        self.check_window(gpa, PAGE_SIZE)
    }
}

/// `bytes[offset..offset + len]`, or [`ProtoError::Truncated`].
pub fn sub_slice(bytes: &[u8], offset: usize, len: usize) -> ProtoResult<&[u8]> {
    let end = offset.checked_add(len).ok_or(ProtoError::Overflow)?;
    bytes.get(offset..end).ok_or(ProtoError::Truncated)
}

/// A message length must not exceed the 128 KiB protocol maximum.
pub fn check_message_len(len: usize) -> ProtoResult<()> {
    if len <= MAX_MESSAGE_SIZE {
        Ok(())
    } else {
        Err(ProtoError::TooLarge)
    }
}

/// A UTF-16 string up to (not including) its first NUL; the whole slice if
/// there is none (the caller then must not assume termination).
pub fn utf16_until_nul(s: &[U16]) -> &[U16] {
    let end = s.iter().position(|c| c.get() == 0).unwrap_or(s.len());
    s.get(..end).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_space() {
        let io = IoSpace::new(0x1_0000_0000, 0x10_0000).unwrap();
        assert_eq!(io.check_page(0x1_0000_0000), Ok(0));
        assert_eq!(io.check_page(0x1_000f_f000), Ok(0xf_f000));
        assert_eq!(io.check_page(0x1_0010_0000), Err(ProtoError::OutOfRange));
        assert_eq!(io.check_page(0xffff_f000), Err(ProtoError::OutOfRange));
        assert_eq!(io.check_page(0x1_0000_0008), Err(ProtoError::Misaligned));
        assert_eq!(
            io.check_window(0x1_0000_0000, 0),
            Err(ProtoError::BadLength)
        );
        assert_eq!(io.check_window(0x1_0000_0000, 0x10_0000), Ok(0));
        assert_eq!(
            io.check_window(0x1_0000_1000, 0x10_0000),
            Err(ProtoError::OutOfRange)
        );
        assert_eq!(
            io.check_window(0x1_0000_1000, u64::MAX),
            Err(ProtoError::OutOfRange)
        );
        assert_eq!(
            IoSpace::new(0xffff_ffff_ffff_f000, 0x2000),
            Err(ProtoError::Overflow)
        );
        assert_eq!(IoSpace::new(0x1000, 0), Err(ProtoError::BadLength));
    }

    #[test]
    fn sizes() {
        assert_eq!(check_sysmem_size(0x3000, 0x3000), Ok(3));
        assert_eq!(
            check_sysmem_size(0x4000, 0x3000),
            Err(ProtoError::OutOfRange)
        );
        assert_eq!(check_sysmem_size(0, 0x3000), Err(ProtoError::BadLength));
        assert_eq!(
            check_sysmem_size(0x3001, 0x4000),
            Err(ProtoError::Misaligned)
        );
        assert_eq!(check_count(3, 3), Ok(()));
        assert_eq!(check_count(4, 3), Err(ProtoError::BadCount));
        assert_eq!(check_capacity(5, 4), Err(ProtoError::BadLength));
        assert_eq!(reply_prefix(&[1, 2, 3], 4), Err(ProtoError::Truncated));
        assert_eq!(reply_prefix(&[1, 2, 3], 2), Ok(&[1u8, 2][..]));
        assert_eq!(
            sub_slice(&[1, 2, 3], 2, usize::MAX),
            Err(ProtoError::Overflow)
        );
        let s = [U16::new(65), U16::new(0), U16::new(66)];
        assert_eq!(utf16_until_nul(&s).len(), 1);
        assert_eq!(utf16_until_nul(&s[2..]).len(), 1);
    }
}
