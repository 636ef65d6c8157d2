// SPDX-License-Identifier: GPL-2.0

//! `dma_fence` and `drm_syncobj` glue.
//!
//! The kernel crate has neither abstraction yet; these are the few
//! operations dxg needs, over the C helpers in `dxg_helpers.c`, shaped so
//! that they can move to rust/kernel: [`Fence`] (a counted `dma_fence`
//! reference; dxg's own fences are signalled from the host's monitored
//! fence values), [`Syncobj`] (a counted `drm_syncobj` reference looked up
//! by handle) and [`ChainNode`] (a preallocated timeline point).

use core::ptr::NonNull;

use kernel::{bindings, drm, prelude::*};

use crate::drm::file::DxgFile;
use crate::sys;

/// The raw `struct drm_file` of `file`.
///
/// `drm::File::as_raw()` is crate-private; `drm::File` is
/// `#[repr(transparent)]` over `struct drm_file` (rust/kernel/drm/file.rs).
pub(crate) fn raw_file(file: &drm::File<DxgFile>) -> *mut bindings::drm_file {
    core::ptr::from_ref(file).cast_mut().cast()
}

/// A reference to a `dma_fence`.
///
/// # Invariants
///
/// `self.0` is a valid fence on which this object holds one reference.
pub(crate) struct Fence(NonNull<bindings::dma_fence>);

// SAFETY: dma_fence references may move between threads; the fence is
// internally locked.
unsafe impl Send for Fence {}
// SAFETY: every operation on a shared fence takes the fence's lock.
unsafe impl Sync for Fence {}

impl Fence {
    /// A new unsignalled dxg fence on timeline `context` with `seqno`.
    pub(crate) fn new(context: u64, seqno: u64) -> Result<Self> {
        // SAFETY: no preconditions; returns a fence with one reference.
        let f = unsafe { sys::dxg_fence_create(context, seqno) };
        // INVARIANT: the new fence's one reference is ours.
        NonNull::new(f).map(Self).ok_or(ENOMEM)
    }

    /// A new fence context (timeline id).
    pub(crate) fn new_context() -> u64 {
        // SAFETY: no preconditions.
        unsafe { sys::dxg_fence_context_alloc() }
    }

    /// Take over a reference the caller owns.
    ///
    /// # Safety
    ///
    /// `f` is a valid fence and the caller transfers one reference.
    unsafe fn from_owned(f: *mut bindings::dma_fence) -> Option<Self> {
        // INVARIANT: the caller transfers its reference.
        NonNull::new(f).map(Self)
    }

    /// Signal the fence, with `result`'s error if it failed. Signalling
    /// twice is harmless (the core ignores the second).
    pub(crate) fn signal(&self, result: Result) {
        let err = match result {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        };
        // SAFETY: the fence is valid (type invariant); dxg only signals its
        // own fences, from any context.
        unsafe { sys::dxg_fence_signal(self.0.as_ptr(), err) };
    }

    /// Whether the fence has signalled.
    pub(crate) fn is_signaled(&self) -> bool {
        // SAFETY: the fence is valid (type invariant).
        unsafe { sys::dxg_fence_is_signaled(self.0.as_ptr()) }
    }

    /// Wait interruptibly for at most `timeout` jiffies; the fence's error
    /// if it failed.
    pub(crate) fn wait(&self, timeout: kernel::time::Jiffies) -> Result {
        let t = isize::try_from(timeout).unwrap_or(isize::MAX);
        // SAFETY: the fence is valid (type invariant); may sleep, and the
        // callers are ioctls (process context).
        let r = unsafe { bindings::dma_fence_wait_timeout(self.0.as_ptr(), true, t) };
        if r < 0 {
            return Err(Error::from_errno(r as i32));
        }
        if r == 0 {
            return Err(ETIMEDOUT);
        }
        // SAFETY: the fence is valid; `error` is only set before signalling.
        let err = unsafe { (*self.0.as_ptr()).error };
        if err < 0 {
            return Err(Error::from_errno(err));
        }
        Ok(())
    }

    fn as_ptr(&self) -> *mut bindings::dma_fence {
        self.0.as_ptr()
    }
}

impl Clone for Fence {
    fn clone(&self) -> Self {
        // SAFETY: the fence is valid; the new reference goes to the clone.
        unsafe { sys::dxg_fence_get(self.0.as_ptr()) };
        Self(self.0)
    }
}

impl Drop for Fence {
    fn drop(&mut self) {
        // SAFETY: we own one reference (type invariant).
        unsafe { sys::dxg_fence_put(self.0.as_ptr()) };
    }
}

/// A preallocated timeline point, consumed by [`Syncobj::install`].
///
/// # Invariants
///
/// `self.0` is an unused chain node from `dma_fence_chain_alloc()`.
pub(crate) struct ChainNode(NonNull<crate::sys::dma_fence_chain>);

// SAFETY: an unused allocation, owned by this object.
unsafe impl Send for ChainNode {}
// SAFETY: no shared access: all methods take `self`.
unsafe impl Sync for ChainNode {}

impl ChainNode {
    /// Allocate one.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: no preconditions.
        let c = unsafe { sys::dxg_fence_chain_alloc() };
        // INVARIANT: freshly allocated, unused.
        NonNull::new(c).map(Self).ok_or(ENOMEM)
    }
}

impl Drop for ChainNode {
    fn drop(&mut self) {
        // SAFETY: unused (type invariant); `install` forgets consumed nodes.
        unsafe { sys::dxg_fence_chain_free(self.0.as_ptr()) };
    }
}

/// A reference to a `drm_syncobj`.
///
/// # Invariants
///
/// `self.0` is a valid syncobj on which this object holds one reference.
pub(crate) struct Syncobj(NonNull<crate::sys::drm_syncobj>);

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
            (_, Some(c)) => {
                let p = c.0.as_ptr();
                // The syncobj takes the node over.
                core::mem::forget(c);
                p
            }
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
    kernel::error::to_result(unsafe { sys::dxg_syncobj_fence(raw_file(file), handle, point, &mut f) })?;
    // SAFETY: on success `f` is a fence reference we now own.
    unsafe { Fence::from_owned(f) }.ok_or(EINVAL)
}
