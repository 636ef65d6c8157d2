// SPDX-License-Identifier: GPL-2.0

//! Private driver data: opaque blobs of the vendor user-mode and
//! kernel-mode drivers. The protocol only bounds and copies them; several
//! messages carry one blob per array element, concatenated (for
//! CREATEALLOCATION: dxgkrnl dxgvmbus.c, copy_private_data() and
//! create_local_allocations()).

use super::codec::usize_from;
use super::error::{ProtoError, ProtoResult};

/// Something that carries a `priv_drv_data_size`.
pub trait PrivSized {
    /// The private-data size in bytes.
    fn priv_size(&self) -> u32;
}

/// Sum of the private-data sizes of `items`, overflow checked.
pub fn total_priv_size<T: PrivSized>(items: &[T]) -> ProtoResult<usize> {
    items.iter().try_fold(0usize, |acc, i| {
        acc.checked_add(usize_from(i.priv_size())?)
            .ok_or(ProtoError::Overflow)
    })
}

/// Pairs each item with its slice of concatenated private data.
#[derive(Clone, Debug)]
pub struct PrivIter<'a, T> {
    items: core::slice::Iter<'a, T>,
    data: &'a [u8],
}

impl<'a, T> PrivIter<'a, T> {
    /// Iterates over `items` and consecutive slices of `data`.
    pub fn new(items: &'a [T], data: &'a [u8]) -> Self {
        PrivIter {
            items: items.iter(),
            data,
        }
    }
}

impl<'a, T: PrivSized> Iterator for PrivIter<'a, T> {
    type Item = (&'a T, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.items.next()?;
        let n = usize::try_from(item.priv_size()).ok()?;
        let (a, b) = self.data.split_at_checked(n)?;
        self.data = b;
        Some((item, a))
    }
}
