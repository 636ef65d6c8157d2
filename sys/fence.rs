// SPDX-License-Identifier: GPL-2.0

//! `dma_fence` glue.
//!
//! The kernel crate has no `dma_fence` abstraction yet; these are the few
//! operations dxg needs, over the C helpers in `sys/fence_helpers.c`,
//! shaped so that they can move to rust/kernel: [`Fence`] (a counted
//! `dma_fence` reference; dxg's own fences are signalled from the host's
//! monitored fence values, `host/context.rs`) and [`ChainNode`] (a
//! preallocated timeline point, which `drm/syncobj.rs` installs).

use core::ptr::NonNull;

use kernel::{bindings, prelude::*};

use crate::sys;

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
    pub(crate) unsafe fn from_owned(f: *mut bindings::dma_fence) -> Option<Self> {
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

    /// The raw fence, valid while `self` lives.
    pub(crate) fn as_ptr(&self) -> *mut bindings::dma_fence {
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

/// A preallocated timeline point, consumed by `Syncobj::install`
/// (`drm/syncobj.rs`).
///
/// # Invariants
///
/// `self.0` is an unused chain node from `dma_fence_chain_alloc()`.
pub(crate) struct ChainNode(NonNull<sys::dma_fence_chain>);

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

    /// Give the node up to whoever installs it: the raw node, which the
    /// caller must hand to a syncobj (which takes it over) or free.
    pub(crate) fn into_raw(self) -> *mut sys::dma_fence_chain {
        let p = self.0.as_ptr();
        core::mem::forget(self);
        p
    }
}

impl Drop for ChainNode {
    fn drop(&mut self) {
        // SAFETY: unused (type invariant); `into_raw` forgets consumed nodes.
        unsafe { sys::dxg_fence_chain_free(self.0.as_ptr()) };
    }
}
