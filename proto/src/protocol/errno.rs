// SPDX-License-Identifier: GPL-2.0

//! Linux errno numbers used by the protocol module.
//!
//! They are plain positive numbers (as in `include/uapi/asm-generic/errno*.h`)
//! because `kernel::error::Error` only exists in the kernel build; the kernel
//! converts them with `Error::from_errno(-n)`, userspace with
//! `std::io::Error::from_raw_os_error(n)`.

/// Operation not permitted.
pub const EPERM: i32 = 1;
/// No such file or directory.
pub const ENOENT: i32 = 2;
/// I/O error.
pub const EIO: i32 = 5;
/// Argument list too long.
pub const E2BIG: i32 = 7;
/// Bad file number.
pub const EBADF: i32 = 9;
/// Try again.
pub const EAGAIN: i32 = 11;
/// Out of memory.
pub const ENOMEM: i32 = 12;
/// Permission denied.
pub const EACCES: i32 = 13;
/// Device or resource busy.
pub const EBUSY: i32 = 16;
/// File exists.
pub const EEXIST: i32 = 17;
/// No such device.
pub const ENODEV: i32 = 19;
/// Invalid argument.
pub const EINVAL: i32 = 22;
/// No space left on device.
pub const ENOSPC: i32 = 28;
/// Protocol error.
pub const EPROTO: i32 = 71;
/// Value too large for defined data type.
pub const EOVERFLOW: i32 = 75;
/// Protocol wrong type for socket (used for "object type mismatch").
pub const EPROTOTYPE: i32 = 91;
/// Operation not supported.
pub const EOPNOTSUPP: i32 = 95;
/// No buffer space available.
pub const ENOBUFS: i32 = 105;
/// Connection timed out.
pub const ETIMEDOUT: i32 = 110;
/// Operation now in progress.
pub const EINPROGRESS: i32 = 115;
