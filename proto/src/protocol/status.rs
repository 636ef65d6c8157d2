// SPDX-License-Identifier: GPL-2.0

//! NTSTATUS values and their mapping to Linux errno numbers.
//!
//! NTSTATUS is a signed 32-bit value; values `>= 0` are successes (some of
//! them informational, like `STATUS_PENDING`), negative values are errors.
//!
//! Mapping choices (see also `Documentation/protocol.rst`):
//!
//! * `STATUS_SUCCESS` and every other non-negative status except
//!   `STATUS_TIMEOUT` map to errno 0. `STATUS_PENDING` is a success: the
//!   caller must check [`NtStatus::is_pending`] and wait for the paging fence
//!   value returned beside it (MAPGPUVIRTUALADDRESS, MAKERESIDENT).
//! * `STATUS_TIMEOUT` maps to `ETIMEDOUT` (the original driver returned the
//!   raw positive value to user space, which dxg's UAPI does not do).
//! * Negative statuses in [`STATUS_ERRNO_TABLE`] map as listed; the table
//!   keeps the original driver's choices except that "not implemented" and
//!   "not supported" become `EOPNOTSUPP` instead of `EPERM`.
//! * Any other negative status maps to `EIO` (the original used `EINVAL`,
//!   which would blame the caller for a host failure).

use core::fmt;

use zerocopy::little_endian::I32;
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::errno;

/// A Windows NTSTATUS as it appears on the wire (4 bytes, little-endian).
///
/// It is also the "bare NTSTATUS" reply of many commands.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(transparent)]
pub struct NtStatus(I32);

const _: () = assert!(core::mem::size_of::<NtStatus>() == 4);

/// `STATUS_SUCCESS`.
pub const STATUS_SUCCESS: NtStatus = NtStatus::from_u32(0x0000_0000);
/// `STATUS_TIMEOUT` (a success-severity code).
pub const STATUS_TIMEOUT: NtStatus = NtStatus::from_u32(0x0000_0102);
/// `STATUS_PENDING`: paging work still in flight; wait for the paging fence.
pub const STATUS_PENDING: NtStatus = NtStatus::from_u32(0x0000_0103);
/// `STATUS_BUFFER_OVERFLOW` (warning severity, negative).
pub const STATUS_BUFFER_OVERFLOW: NtStatus = NtStatus::from_u32(0x8000_0005);
/// `STATUS_UNSUCCESSFUL`.
pub const STATUS_UNSUCCESSFUL: NtStatus = NtStatus::from_u32(0xC000_0001);
/// `STATUS_NOT_IMPLEMENTED`.
pub const STATUS_NOT_IMPLEMENTED: NtStatus = NtStatus::from_u32(0xC000_0002);
/// `STATUS_INVALID_HANDLE`.
pub const STATUS_INVALID_HANDLE: NtStatus = NtStatus::from_u32(0xC000_0008);
/// `STATUS_INVALID_PARAMETER`.
pub const STATUS_INVALID_PARAMETER: NtStatus = NtStatus::from_u32(0xC000_000D);
/// `STATUS_NO_MEMORY`.
pub const STATUS_NO_MEMORY: NtStatus = NtStatus::from_u32(0xC000_0017);
/// `STATUS_ILLEGAL_INSTRUCTION`.
pub const STATUS_ILLEGAL_INSTRUCTION: NtStatus = NtStatus::from_u32(0xC000_001D);
/// `STATUS_ACCESS_DENIED`.
pub const STATUS_ACCESS_DENIED: NtStatus = NtStatus::from_u32(0xC000_0022);
/// `STATUS_BUFFER_TOO_SMALL`.
pub const STATUS_BUFFER_TOO_SMALL: NtStatus = NtStatus::from_u32(0xC000_0023);
/// `STATUS_OBJECT_TYPE_MISMATCH`.
pub const STATUS_OBJECT_TYPE_MISMATCH: NtStatus = NtStatus::from_u32(0xC000_0024);
/// `STATUS_OBJECT_NAME_INVALID`.
pub const STATUS_OBJECT_NAME_INVALID: NtStatus = NtStatus::from_u32(0xC000_0033);
/// `STATUS_OBJECT_NAME_NOT_FOUND`.
pub const STATUS_OBJECT_NAME_NOT_FOUND: NtStatus = NtStatus::from_u32(0xC000_0034);
/// `STATUS_OBJECT_NAME_COLLISION`.
pub const STATUS_OBJECT_NAME_COLLISION: NtStatus = NtStatus::from_u32(0xC000_0035);
/// `STATUS_INTEGER_OVERFLOW`.
pub const STATUS_INTEGER_OVERFLOW: NtStatus = NtStatus::from_u32(0xC000_0095);
/// `STATUS_INSUFFICIENT_RESOURCES`.
pub const STATUS_INSUFFICIENT_RESOURCES: NtStatus = NtStatus::from_u32(0xC000_009A);
/// `STATUS_NOT_SUPPORTED`.
pub const STATUS_NOT_SUPPORTED: NtStatus = NtStatus::from_u32(0xC000_00BB);
/// `STATUS_DEVICE_REMOVED`.
pub const STATUS_DEVICE_REMOVED: NtStatus = NtStatus::from_u32(0xC000_02B6);
/// `STATUS_GRAPHICS_ALLOCATION_BUSY`.
pub const STATUS_GRAPHICS_ALLOCATION_BUSY: NtStatus = NtStatus::from_u32(0xC01E_0102);

/// The NTSTATUS → errno table for error statuses: (status, name, positive
/// errno). Statuses not listed map to `EIO` when negative.
pub const STATUS_ERRNO_TABLE: [(NtStatus, &str, i32); 18] = [
    (
        STATUS_BUFFER_OVERFLOW,
        "STATUS_BUFFER_OVERFLOW",
        errno::EOVERFLOW,
    ),
    (STATUS_UNSUCCESSFUL, "STATUS_UNSUCCESSFUL", errno::EIO),
    (
        STATUS_NOT_IMPLEMENTED,
        "STATUS_NOT_IMPLEMENTED",
        errno::EOPNOTSUPP,
    ),
    (STATUS_INVALID_HANDLE, "STATUS_INVALID_HANDLE", errno::EBADF),
    (
        STATUS_INVALID_PARAMETER,
        "STATUS_INVALID_PARAMETER",
        errno::EINVAL,
    ),
    (STATUS_NO_MEMORY, "STATUS_NO_MEMORY", errno::ENOMEM),
    (
        STATUS_ILLEGAL_INSTRUCTION,
        "STATUS_ILLEGAL_INSTRUCTION",
        errno::EOPNOTSUPP,
    ),
    (STATUS_ACCESS_DENIED, "STATUS_ACCESS_DENIED", errno::EACCES),
    (
        STATUS_BUFFER_TOO_SMALL,
        "STATUS_BUFFER_TOO_SMALL",
        errno::EOVERFLOW,
    ),
    (
        STATUS_OBJECT_TYPE_MISMATCH,
        "STATUS_OBJECT_TYPE_MISMATCH",
        errno::EPROTOTYPE,
    ),
    (
        STATUS_OBJECT_NAME_INVALID,
        "STATUS_OBJECT_NAME_INVALID",
        errno::ENOENT,
    ),
    (
        STATUS_OBJECT_NAME_NOT_FOUND,
        "STATUS_OBJECT_NAME_NOT_FOUND",
        errno::ENOENT,
    ),
    (
        STATUS_OBJECT_NAME_COLLISION,
        "STATUS_OBJECT_NAME_COLLISION",
        errno::EEXIST,
    ),
    (
        STATUS_INTEGER_OVERFLOW,
        "STATUS_INTEGER_OVERFLOW",
        errno::EOVERFLOW,
    ),
    (
        STATUS_INSUFFICIENT_RESOURCES,
        "STATUS_INSUFFICIENT_RESOURCES",
        errno::ENOMEM,
    ),
    (
        STATUS_NOT_SUPPORTED,
        "STATUS_NOT_SUPPORTED",
        errno::EOPNOTSUPP,
    ),
    (
        STATUS_DEVICE_REMOVED,
        "STATUS_DEVICE_REMOVED",
        errno::ENODEV,
    ),
    (
        STATUS_GRAPHICS_ALLOCATION_BUSY,
        "STATUS_GRAPHICS_ALLOCATION_BUSY",
        errno::EINPROGRESS,
    ),
];

/// How a status should be treated by the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusKind {
    /// `STATUS_SUCCESS`.
    Success,
    /// `STATUS_PENDING`: success, but paging work is still in flight.
    Pending,
    /// `STATUS_TIMEOUT`: reported as `ETIMEDOUT`.
    Timeout,
    /// Another non-negative (informational) status: treated as success.
    OtherSuccess,
    /// A negative status; the payload is the positive errno to report.
    Error(i32),
}

impl NtStatus {
    /// Wraps a raw signed NTSTATUS.
    pub const fn from_raw(v: i32) -> Self {
        NtStatus(I32::new(v))
    }

    /// Wraps an NTSTATUS written as an unsigned hex constant (`0xC000000D`).
    pub const fn from_u32(v: u32) -> Self {
        NtStatus(I32::new(i32::from_ne_bytes(v.to_ne_bytes())))
    }

    /// The signed value.
    pub const fn raw(self) -> i32 {
        self.0.get()
    }

    /// The value as an unsigned hex constant.
    pub const fn as_u32(self) -> u32 {
        u32::from_ne_bytes(self.raw().to_ne_bytes())
    }

    /// True for every non-negative status (including `STATUS_PENDING`).
    pub const fn is_success(self) -> bool {
        self.raw() >= 0
    }

    /// True for negative statuses.
    pub const fn is_error(self) -> bool {
        self.raw() < 0
    }

    /// True for `STATUS_PENDING`.
    pub const fn is_pending(self) -> bool {
        self.raw() == STATUS_PENDING.raw()
    }

    /// The symbolic name if the status is one this module knows.
    pub fn name(self) -> Option<&'static str> {
        match self.as_u32() {
            0 => Some("STATUS_SUCCESS"),
            0x102 => Some("STATUS_TIMEOUT"),
            0x103 => Some("STATUS_PENDING"),
            _ => match table_lookup(self) {
                Some((name, _)) => Some(name),
                None => None,
            },
        }
    }

    /// Classifies the status (see the module documentation).
    pub fn kind(self) -> StatusKind {
        let v = self.raw();
        if v == 0 {
            StatusKind::Success
        } else if v == STATUS_PENDING.raw() {
            StatusKind::Pending
        } else if v == STATUS_TIMEOUT.raw() {
            StatusKind::Timeout
        } else if v > 0 {
            StatusKind::OtherSuccess
        } else {
            match table_lookup(self) {
                Some((_, e)) => StatusKind::Error(e),
                None => StatusKind::Error(errno::EIO),
            }
        }
    }

    /// The positive errno to report, or 0 when the status is a success
    /// (including `STATUS_PENDING`).
    pub fn errno(self) -> i32 {
        match self.kind() {
            StatusKind::Success | StatusKind::Pending | StatusKind::OtherSuccess => 0,
            StatusKind::Timeout => errno::ETIMEDOUT,
            StatusKind::Error(e) => e,
        }
    }

    /// `Ok(self)` for successes, `Err(positive errno)` otherwise.
    pub fn check(self) -> Result<NtStatus, i32> {
        match self.errno() {
            0 => Ok(self),
            e => Err(e),
        }
    }
}

fn table_lookup(s: NtStatus) -> Option<(&'static str, i32)> {
    STATUS_ERRNO_TABLE
        .iter()
        .find(|(st, _, _)| st.raw() == s.raw())
        .map(|&(_, name, e)| (name, e))
}

impl Default for NtStatus {
    fn default() -> Self {
        STATUS_SUCCESS
    }
}

impl fmt::Debug for NtStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{}({:#010x})", n, self.as_u32()),
            None => write!(f, "NtStatus({:#010x})", self.as_u32()),
        }
    }
}

impl fmt::Display for NtStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping() {
        assert_eq!(STATUS_SUCCESS.errno(), 0);
        assert_eq!(STATUS_PENDING.errno(), 0);
        assert!(STATUS_PENDING.is_pending());
        assert_eq!(STATUS_PENDING.kind(), StatusKind::Pending);
        assert_eq!(STATUS_TIMEOUT.errno(), errno::ETIMEDOUT);
        assert_eq!(NtStatus::from_raw(5).kind(), StatusKind::OtherSuccess);
        assert_eq!(STATUS_INVALID_PARAMETER.errno(), errno::EINVAL);
        assert_eq!(STATUS_DEVICE_REMOVED.errno(), errno::ENODEV);
        assert_eq!(NtStatus::from_u32(0xC0DE_0001).errno(), errno::EIO);
        assert_eq!(NtStatus::from_u32(0x8000_0001).errno(), errno::EIO);
        assert_eq!(STATUS_NO_MEMORY.check(), Err(errno::ENOMEM));
        assert_eq!(STATUS_PENDING.check(), Ok(STATUS_PENDING));
        for (st, name, e) in STATUS_ERRNO_TABLE {
            assert!(st.is_error(), "{name}");
            assert_eq!(st.errno(), e);
            assert_eq!(st.name(), Some(name));
        }
        assert_eq!(STATUS_INVALID_PARAMETER.as_u32(), 0xC000_000D);
        assert_eq!(STATUS_INVALID_PARAMETER.raw(), -1_073_741_811);
    }

    #[test]
    fn wire() {
        use zerocopy::IntoBytes;
        assert_eq!(STATUS_PENDING.as_bytes(), &[0x03, 0x01, 0, 0]);
        assert_eq!(STATUS_INVALID_PARAMETER.as_bytes(), &[0x0D, 0, 0, 0xC0]);
    }
}
