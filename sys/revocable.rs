// SPDX-License-Identifier: GPL-2.0

//! Revocable objects whose users may sleep.
//!
//! [`kernel::revocable::Revocable`] guards each access with RCU, so a user
//! must not sleep while it holds the access. [`SrcuRevocable`] keeps that
//! contract over SRCU instead: a user may sleep while it holds a
//! [`SrcuRevocableGuard`] (wait for the host to answer a GPADL request,
//! say), and [`SrcuRevocable::revoke`] waits until every such user is done
//! before it drops the wrapped object. Shaped to move into
//! `rust/kernel/revocable.rs` beside `Revocable`.

use core::{marker::PhantomData, ops::Deref, ptr::drop_in_place};

use kernel::{
    prelude::*,
    sync::{
        atomic::{AtomicFlag, Relaxed},
        srcu, Srcu,
    },
    types::Opaque,
};

/// An object that can become inaccessible at runtime; its users may sleep.
///
/// Once access is revoked and every user that got access before is done
/// (every [`SrcuRevocableGuard`] dropped), the wrapped object is dropped.
///
/// # Invariants
///
/// `data` is initialised while `is_available` is `true`. `is_available`
/// goes from `true` to `false` once and never back; `data` is dropped
/// only after that, once every SRCU reader of `srcu` that may have seen
/// `true` has finished.
#[pin_data(PinnedDrop)]
pub(crate) struct SrcuRevocable<T> {
    /// The readers are the holders of a [`SrcuRevocableGuard`].
    #[pin]
    srcu: Srcu,
    is_available: AtomicFlag,
    #[pin]
    data: Opaque<T>,
}

// SAFETY: `SrcuRevocable` is `Send` if the wrapped object is: it is only
// reached through `&self`, and `revoke` may drop it from any thread.
unsafe impl<T: Send> Send for SrcuRevocable<T> {}

// SAFETY: users on several threads share `&T`, so `T` must be `Sync`; and
// `revoke` drops the object from whichever thread calls it, so `T` must be
// `Send` too. The SRCU structure may be used from any thread.
unsafe impl<T: Send + Sync> Sync for SrcuRevocable<T> {}

impl<T> SrcuRevocable<T> {
    /// A new revocable instance of `data`.
    pub(crate) fn new(data: T) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            srcu <- kernel::new_srcu!("dxg_revocable"),
            is_available: AtomicFlag::new(true),
            data: Opaque::new(data),
        })
    }

    /// Access the wrapped object, unless it was revoked (`None`).
    ///
    /// The object stays valid while the returned guard lives, and the
    /// guard may be held across sleeps; [`Self::revoke`] waits for it.
    pub(crate) fn try_access(&self) -> Option<SrcuRevocableGuard<'_, T>> {
        let guard = self.srcu.read_lock();
        if self.is_available.load(Relaxed) {
            // INVARIANT: `is_available` was `true` inside the SRCU read
            // section that `guard` holds, so `revoke` cannot drop `data`
            // before the guard goes.
            Some(SrcuRevocableGuard {
                data: self.data.get(),
                _srcu: guard,
                _p: PhantomData,
            })
        } else {
            None
        }
    }

    /// Revoke access and drop the wrapped object, after waiting for every
    /// user that got access before. `true` if this call revoked it,
    /// `false` if it was revoked already.
    ///
    /// May sleep. Must not be called with a guard of `self` held (it would
    /// wait for itself), nor while holding anything a user of `self` may
    /// wait for.
    pub(crate) fn revoke(&self) -> bool {
        let revoke = self.is_available.xchg(false, Relaxed);
        if revoke {
            // Every reader that saw `is_available` set is done after this.
            self.srcu.synchronize();
            // SAFETY: only the one caller that changed `is_available` from
            // `true` to `false` gets here, and no reader that saw `true` is
            // left (type invariant): `data` is initialised and unused.
            unsafe { drop_in_place(self.data.get()) };
        }
        revoke
    }
}

#[pinned_drop]
impl<T> PinnedDrop for SrcuRevocable<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: not moved out of; only `data` is dropped in place.
        let this = unsafe { self.get_unchecked_mut() };
        if *this.is_available.get_mut() {
            // SAFETY: not revoked, so `data` is initialised (type
            // invariant), and `&mut self` means there is no user left.
            unsafe { drop_in_place(this.data.get()) };
        }
    }
}

/// Access to the object of a [`SrcuRevocable`], which stays valid while
/// this lives (it is an SRCU read-side critical section).
///
/// # Invariants
///
/// `data` points to the initialised object of a [`SrcuRevocable`] that
/// was not revoked when `_srcu`, a read section of its SRCU structure,
/// began.
pub(crate) struct SrcuRevocableGuard<'a, T> {
    // Not `&'a T`: a reference passed as an argument must not dangle
    // during the call, which it would once the guard is dropped inside it.
    data: *const T,
    _srcu: srcu::Guard<'a>,
    _p: PhantomData<&'a T>,
}

impl<T> Deref for SrcuRevocableGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: `revoke` does not drop the object before the read section
        // held by `self` ends (type invariant).
        unsafe { &*self.data }
    }
}
