// SPDX-License-Identifier: GPL-2.0

//! Guest memory the host sees: GPADL page lists and the loopback IO space.
//!
//! On Hyper-V the guest shares pages with the host by establishing a GPADL
//! (a list of guest page frames) on a channel; the host names it by its
//! handle in later commands (SETEXISTINGSYSMEMSTORE). The IO space is the
//! other direction: an MMIO range the host offers with the VM-level
//! channel, where it keeps monitored fence values the guest reads.
//!
//! With the loopback transport, the host process maps both through
//! `/dev/dxg-loopback` (`uapi/dxg_loopback.h`), so this file keeps the
//! pages: [`PageRefs`], a GPADL's page list with one reference per page
//! (the pages outlive a GEM object freed before the GPADL is torn down),
//! and [`IoPages`], guest pages standing in for the host's MMIO range.

use core::ptr::NonNull;

#[cfg(dxg_test)]
use kernel::page::{Page, PAGE_SIZE};
use kernel::{bindings, prelude::*};

use crate::sys;

/// Pages shared with the host, one page reference held for each.
///
/// # Invariants
///
/// Every pointer in `pages` is a valid `struct page` on which this object
/// holds one reference.
pub(crate) struct PageRefs {
    pages: KVec<NonNull<bindings::page>>,
}

// SAFETY: page references may be taken and dropped from any thread.
unsafe impl Send for PageRefs {}
// SAFETY: `PageRefs` only hands out the pointers; it has no interior state.
unsafe impl Sync for PageRefs {}

impl PageRefs {
    /// Take a reference on each of `pages`.
    ///
    /// # Safety
    ///
    /// Every pointer in `pages` is a valid `struct page` that stays valid
    /// for the duration of this call.
    pub(crate) unsafe fn new(pages: &[*mut bindings::page]) -> Result<Self> {
        let mut v = KVec::with_capacity(pages.len(), GFP_KERNEL)?;
        for &p in pages {
            let p = NonNull::new(p).ok_or(EINVAL)?;
            // SAFETY: the caller guarantees `p` is a valid page; the
            // reference taken here is dropped in `drop`.
            unsafe { sys::dxg_page_get(p.as_ptr()) };
            // Cannot fail: the capacity was reserved above.
            if v.push(p, GFP_KERNEL).is_err() {
                // SAFETY: the reference was taken just above.
                unsafe { sys::dxg_page_put(p.as_ptr()) };
                return Err(ENOMEM);
            }
        }
        // INVARIANT: a reference was taken on every page pushed.
        Ok(Self { pages: v })
    }

    /// The pages.
    pub(crate) fn pages(&self) -> impl Iterator<Item = *mut bindings::page> + '_ {
        self.pages.iter().map(|p| p.as_ptr())
    }

    /// How many pages.
    pub(crate) fn len(&self) -> usize {
        self.pages.len()
    }
}

impl Drop for PageRefs {
    fn drop(&mut self) {
        for p in self.pages.iter() {
            // SAFETY: by the type invariant this object holds a reference.
            unsafe { sys::dxg_page_put(p.as_ptr()) };
        }
    }
}

/// Zeroed guest pages standing in for the host's MMIO range (loopback
/// only), mapped contiguously into the kernel.
///
/// # Invariants
///
/// `vaddr` is a `vmap()` of all of `pages`, `len` bytes, unmapped on drop.
#[cfg(dxg_test)]
pub(crate) struct IoPages {
    pages: KVec<Page>,
    vaddr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory; the object only hands out the
// address, and every access through it is a volatile 64-bit read or write.
#[cfg(dxg_test)]
unsafe impl Send for IoPages {}
// SAFETY: see above.
#[cfg(dxg_test)]
unsafe impl Sync for IoPages {}

#[cfg(dxg_test)]
impl IoPages {
    /// Allocate `len` bytes (a multiple of the page size) of zeroed pages.
    pub(crate) fn new(len: usize) -> Result<Self> {
        if len == 0 || len % PAGE_SIZE != 0 {
            return Err(EINVAL);
        }
        let count = len / PAGE_SIZE;
        let mut pages = KVec::with_capacity(count, GFP_KERNEL)?;
        let mut raw = KVec::with_capacity(count, GFP_KERNEL)?;
        for _ in 0..count {
            let p = Page::alloc_page(GFP_KERNEL | __GFP_ZERO)?;
            raw.push(p.as_ptr(), GFP_KERNEL)?;
            pages.push(p, GFP_KERNEL)?;
        }
        let n = u32::try_from(count).map_err(|_| E2BIG)?;
        // SAFETY: `raw` holds `n` valid pages, owned by `pages`, which
        // outlives the mapping (it is unmapped in `drop` first).
        let vaddr = unsafe { sys::dxg_vmap_pages(raw.as_mut_ptr(), n) };
        let vaddr = NonNull::new(vaddr.cast::<u8>()).ok_or(ENOMEM)?;
        // INVARIANT: `vaddr` maps all of `pages`, `len` bytes.
        Ok(Self { pages, vaddr, len })
    }

    /// The pages, in order.
    pub(crate) fn pages(&self) -> impl Iterator<Item = *mut bindings::page> + '_ {
        self.pages.iter().map(|p| p.as_ptr())
    }

    /// Length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The kernel mapping.
    pub(crate) fn vaddr(&self) -> NonNull<u8> {
        self.vaddr
    }
}

#[cfg(dxg_test)]
impl Drop for IoPages {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `vaddr` came from `vmap()`; the
        // pages are freed after this, when `pages` drops.
        unsafe { sys::dxg_vunmap(self.vaddr.as_ptr().cast()) };
    }
}
