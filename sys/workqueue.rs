// SPDX-License-Identifier: GPL-2.0

//! An owned workqueue.
//!
//! The `kernel` crate wraps workqueues it does not own
//! ([`kernel::workqueue::Queue`], the system ones); [`OwnedQueue`] is one
//! that its owner allocates and destroys. Destroying it runs every work
//! item still queued first (`destroy_workqueue()` drains the queue), so
//! nothing queued on it runs once the owner is gone. The C helper is
//! `sys/workqueue_helpers.c` (`alloc_workqueue()` is a macro).

use core::{ops::Deref, ptr::NonNull};

use kernel::{bindings, prelude::*, workqueue::Queue};

use crate::sys;

/// A workqueue, destroyed on drop after what is queued on it has run.
///
/// # Invariants
///
/// `self.0` was returned by `alloc_workqueue()` and is destroyed only by
/// `drop`.
pub(crate) struct OwnedQueue(NonNull<bindings::workqueue_struct>);

// SAFETY: a workqueue may be used and destroyed from any thread.
unsafe impl Send for OwnedQueue {}
// SAFETY: queueing work is thread-safe.
unsafe impl Sync for OwnedQueue {}

impl OwnedQueue {
    /// An unbound workqueue called `name` (for the kernel's messages).
    pub(crate) fn new(name: &'static CStr) -> Result<Self> {
        // SAFETY: `name` is NUL-terminated; the workqueue copies it.
        let wq = unsafe { sys::dxg_alloc_workqueue(name.as_char_ptr()) };
        // INVARIANT: allocated just above.
        NonNull::new(wq).map(Self).ok_or(ENOMEM)
    }
}

impl Deref for OwnedQueue {
    type Target = Queue;

    fn deref(&self) -> &Queue {
        // SAFETY: the workqueue is valid until `drop` (type invariant),
        // which cannot run while `self` is borrowed.
        unsafe { Queue::from_raw(self.0.as_ptr()) }
    }
}

impl Drop for OwnedQueue {
    fn drop(&mut self) {
        // SAFETY: allocated by `new` and destroyed once, here (type
        // invariant); this runs what is still queued, then frees it.
        unsafe { bindings::destroy_workqueue(self.0.as_ptr()) };
    }
}
