// SPDX-License-Identifier: GPL-2.0

//! [`SmallBuf`]: bytes kept inline up to `N`, on the heap beyond.
//!
//! Most host messages and replies are a few dozen bytes. Building them in
//! a buffer of this type keeps the request path free of allocations for
//! those, which matters most where allocations are expensive (KASAN and
//! kmemleak record a stack trace for each one).

use core::ops::{Deref, DerefMut};

use kernel::{alloc::Flags, prelude::*};

/// A byte buffer: `len` bytes inline if `len <= N`, else a [`KVec`].
pub(crate) enum SmallBuf<const N: usize> {
    /// Up to `N` bytes in place; `len` of `bytes` are used.
    Inline {
        /// Bytes used.
        len: usize,
        /// Storage.
        bytes: [u8; N],
    },
    /// More than `N` bytes.
    Heap(KVec<u8>),
}

impl<const N: usize> SmallBuf<N> {
    /// `len` zero bytes; allocates (with `flags`) only beyond `N`.
    pub(crate) fn zeroed(len: usize, flags: Flags) -> Result<Self> {
        if len <= N {
            Ok(Self::Inline { len, bytes: [0; N] })
        } else {
            Ok(Self::Heap(KVec::from_elem(0u8, len, flags)?))
        }
    }

    /// A copy of `data`; allocates (with `flags`) only beyond `N`.
    pub(crate) fn from_slice(data: &[u8], flags: Flags) -> Result<Self> {
        let mut b = Self::zeroed(data.len(), flags)?;
        b.copy_from_slice(data);
        Ok(b)
    }

    /// Keep the first `len` bytes (nothing changes if there are fewer).
    pub(crate) fn truncate(&mut self, new_len: usize) {
        match self {
            Self::Inline { len, .. } => *len = (*len).min(new_len),
            Self::Heap(v) => v.truncate(new_len),
        }
    }
}

impl<const N: usize> Deref for SmallBuf<N> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            // `len <= N` (every constructor and `truncate` keep it so);
            // `get` keeps even a broken length from panicking.
            Self::Inline { len, bytes } => bytes.get(..*len).unwrap_or(&[]),
            Self::Heap(v) => v,
        }
    }
}

impl<const N: usize> DerefMut for SmallBuf<N> {
    fn deref_mut(&mut self) -> &mut [u8] {
        match self {
            Self::Inline { len, bytes } => bytes.get_mut(..*len).unwrap_or(&mut []),
            Self::Heap(v) => v,
        }
    }
}
