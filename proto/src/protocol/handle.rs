// SPDX-License-Identifier: GPL-2.0

//! The 32-bit D3DKMT handle.

use core::fmt;

use zerocopy::little_endian::U32;
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::error::{ProtoError, ProtoResult};

/// A `D3DKMT_HANDLE`: a host-issued object handle (4 bytes, little-endian).
///
/// Bits 0-5 are the `instance`, bits 6-29 the table `index`, bits 30-31 the
/// `unique` counter; 0 is the null handle. The host chooses handle values;
/// the guest must treat them as opaque keys (never as table indices, never as
/// user-visible ids) and reject zero where an object was promised.
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
pub struct Handle(U32);

const _: () = assert!(core::mem::size_of::<Handle>() == 4);

impl Handle {
    /// The null handle.
    pub const NULL: Handle = Handle::new(0);

    /// Wraps a raw handle value.
    pub const fn new(v: u32) -> Self {
        Handle(U32::new(v))
    }

    /// Builds a handle from its bit fields; out-of-range field bits are
    /// masked off.
    pub const fn from_parts(instance: u32, index: u32, unique: u32) -> Self {
        Handle::new((instance & 0x3f) | ((index & 0x00ff_ffff) << 6) | ((unique & 0x3) << 30))
    }

    /// The raw value.
    pub const fn value(self) -> u32 {
        self.0.get()
    }

    /// True for the null handle.
    pub const fn is_null(self) -> bool {
        self.value() == 0
    }

    /// Bits 0-5.
    pub const fn instance(self) -> u32 {
        self.value() & 0x3f
    }

    /// Bits 6-29: the host's table index. Never size a table from it.
    pub const fn index(self) -> u32 {
        (self.value() >> 6) & 0x00ff_ffff
    }

    /// Bits 30-31.
    pub const fn unique(self) -> u32 {
        self.value() >> 30
    }

    /// `Ok(self)` if non-zero, [`ProtoError::BadHandle`] otherwise.
    pub const fn non_null(self) -> ProtoResult<Handle> {
        if self.is_null() {
            Err(ProtoError::BadHandle)
        } else {
            Ok(self)
        }
    }
}

impl From<u32> for Handle {
    fn from(v: u32) -> Self {
        Handle::new(v)
    }
}

impl From<Handle> for u32 {
    fn from(h: Handle) -> Self {
        h.value()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({:#010x})", self.value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        let h = Handle::from_parts(5, 0x12345, 2);
        assert_eq!(h.instance(), 5);
        assert_eq!(h.index(), 0x12345);
        assert_eq!(h.unique(), 2);
        assert_eq!(h.value(), 5 | (0x12345 << 6) | (2 << 30));
        assert!(Handle::NULL.is_null());
        assert_eq!(Handle::NULL.non_null(), Err(ProtoError::BadHandle));
        assert_eq!(h.non_null(), Ok(h));
        assert_eq!(Handle::new(u32::MAX).unique(), 3);
    }
}
