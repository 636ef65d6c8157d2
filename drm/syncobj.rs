// SPDX-License-Identifier: GPL-2.0

//! `drm_syncobj` glue.
//!
//! The kernel crate has no `drm_syncobj` abstraction yet; these are the few
//! operations dxg needs, over the C helpers in `drm/syncobj_helpers.c`,
//! shaped so that they can move to rust/kernel: [`Syncobj`] (a counted
//! `drm_syncobj` reference looked up by handle) and [`syncobj_fence`]. The
//! fences themselves are `sys/fence.rs`.

use core::ptr::NonNull;

use kernel::{bindings, drm, prelude::*};

use crate::drm::file::DxgFile;
use crate::sys::{
    self,
    fence::{ChainNode, Fence},
};

/// The raw `struct drm_file` of `file`.
///
/// `drm::File::as_raw()` is crate-private; `drm::File` is
/// `#[repr(transparent)]` over `struct drm_file` (rust/kernel/drm/file.rs).
pub(crate) fn raw_file(file: &drm::File<DxgFile>) -> *mut bindings::drm_file {
    core::ptr::from_ref(file).cast_mut().cast()
}

/// A reference to a `drm_syncobj`.
///
/// # Invariants
///
/// `self.0` is a valid syncobj on which this object holds one reference.
pub(crate) struct Syncobj(NonNull<sys::drm_syncobj>);

// SAFETY: syncobj references may move between threads; the syncobj is
// internally locked.
unsafe impl Send for Syncobj {}
// SAFETY: see above.
unsafe impl Sync for Syncobj {}

impl Syncobj {
    /// The syncobj `handle` of `file`; `ENOENT` if there is none.
    pub(crate) fn lookup(file: &drm::File<DxgFile>, handle: u32) -> Result<Self> {
        // SAFETY: `file` is an open DRM file.
        let s = unsafe { sys::dxg_syncobj_lookup(raw_file(file), handle) };
        // INVARIANT: drm_syncobj_find() returns a new reference.
        NonNull::new(s).map(Self).ok_or(ENOENT)
    }

    /// Make `fence` the syncobj's fence (`point` 0, binary) or add it as
    /// timeline `point` (which needs `chain`).
    pub(crate) fn install(&self, point: u64, fence: &Fence, chain: Option<ChainNode>) -> Result {
        let chain_ptr = match (point, chain) {
            (0, _) => core::ptr::null_mut(),
            // The syncobj takes the node over.
            (_, Some(c)) => c.into_raw(),
            (_, None) => return Err(EINVAL),
        };
        // SAFETY: the syncobj and the fence are valid (type invariants);
        // `chain_ptr` is an unused node for a timeline point, null for a
        // binary one; the syncobj takes its own fence reference.
        unsafe { sys::dxg_syncobj_install(self.0.as_ptr(), point, fence.as_ptr(), chain_ptr) };
        Ok(())
    }
}

impl Drop for Syncobj {
    fn drop(&mut self) {
        // SAFETY: we own one reference (type invariant).
        unsafe { sys::dxg_syncobj_put(self.0.as_ptr()) };
    }
}

/// The fence of syncobj `handle` at `point` in `file`: `ENOENT` for a bad
/// handle, `EINVAL` if it has no fence (yet) at that point.
pub(crate) fn syncobj_fence(file: &drm::File<DxgFile>, handle: u32, point: u64) -> Result<Fence> {
    let mut f: *mut bindings::dma_fence = core::ptr::null_mut();
    // SAFETY: `file` is an open DRM file; `f` receives a new reference.
    kernel::error::to_result(unsafe {
        sys::dxg_syncobj_fence(raw_file(file), handle, point, &mut f)
    })?;
    // SAFETY: on success `f` is a fence reference we now own.
    unsafe { Fence::from_owned(f) }.ok_or(EINVAL)
}
