// SPDX-License-Identifier: GPL-2.0

//! Small glue the `kernel` crate does not offer (yet).

use kernel::{
    bindings,
    device::Device,
    sync::{CondVar, CondVarTimeoutResult, SpinLockIrq},
    time::msecs_to_jiffies,
};

/// The C `struct device` behind `dev`.
///
/// `Device::as_raw()` is `pub(crate)` in the kernel crate; `Device` is a
/// `#[repr(transparent)]` wrapper of `Opaque<bindings::device>`
/// (rust/kernel/device.rs), so the cast is what `as_raw()` does. Re-check
/// on every kernel update.
pub(crate) fn raw_device<Ctx: kernel::device::DeviceContext>(
    dev: &Device<Ctx>,
) -> *mut bindings::device {
    core::ptr::from_ref(dev).cast_mut().cast()
}

/// Why [`wait_until`] gave up.
pub(crate) enum WaitEnd {
    /// A fatal signal is pending (the caller is being killed).
    Interrupted,
    /// `timeout_ms` passed.
    TimedOut,
}

/// Sleep on `cv` until `ready` finds a result in the state `lock`
/// protects, for at most `timeout_ms`: the wait for a host's answer (a
/// reply, a guest event, a drained queue). `ready` runs with the lock held.
///
/// Killable, not interruptible: the host acts on what it was sent whether
/// or not the guest waits, so an ordinary signal must not end the wait
/// (user space would retry the system call and the host act twice).
pub(crate) fn wait_until<T: Unpin, R>(
    lock: &SpinLockIrq<T>,
    cv: &CondVar,
    timeout_ms: u32,
    mut ready: impl FnMut(&mut T) -> Option<R>,
) -> core::result::Result<R, WaitEnd> {
    let mut left = msecs_to_jiffies(timeout_ms);
    let mut guard = lock.lock();
    loop {
        if let Some(r) = ready(&mut guard) {
            return Ok(r);
        }
        match cv.wait_killable_timeout(&mut guard, left) {
            CondVarTimeoutResult::Woken { jiffies } => left = jiffies,
            CondVarTimeoutResult::Signal { .. } => return Err(WaitEnd::Interrupted),
            CondVarTimeoutResult::Timeout => return Err(WaitEnd::TimedOut),
        }
    }
}
