// SPDX-License-Identifier: GPL-2.0

//! Device health: whether the host reported a device lost.
//!
//! CREATEDEVICE names a guest cookie; when the execution state of the
//! device changes on the host (a GPU fault, a hang), the host sends
//! SETGUESTDATA with that cookie on the VM-level channel (dxgkrnl
//! dxgvmbus.c set_guest_data() counts these in `device_state_counter`).
//! The host only leaves the active state for an error, and drops the
//! device's queued work then, so dxg treats the notification as the
//! device being lost: the work of its contexts fails with `EIO`, later
//! submissions with `ECANCELED`, and DRM_IOCTL_DXG_QUERY_STATE reports it.
//!
//! Each [`DeviceHealth`] is registered with the [`Vm`](crate::host::vm::Vm)
//! under its cookie while its device exists.

use kernel::{
    new_spinlock_irq,
    prelude::*,
    sync::{
        atomic::{Acquire, Atomic, Full},
        Arc, SpinLockIrq,
    },
};

/// Work that fails when its device is lost (a context).
pub(crate) trait DeviceWork: Send + Sync {
    /// The host reported the device lost: fail everything pending.
    fn device_lost(&self);
}

/// The health of one host device.
#[pin_data]
pub(crate) struct DeviceHealth {
    /// The cookie sent in CREATEDEVICE (unique in its VM, never 0).
    cookie: u64,
    lost: Atomic<bool>,
    /// Protects the device's live contexts (taken in the receive path).
    #[pin]
    work: SpinLockIrq<KVec<Arc<dyn DeviceWork>>>,
}

impl DeviceHealth {
    /// A healthy device known to the host by `cookie`.
    pub(crate) fn new(cookie: u64) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                cookie,
                lost: Atomic::new(false),
                work <- new_spinlock_irq!(KVec::new(), "dxg_device_health"),
            }),
            GFP_KERNEL,
        )
    }

    /// The CREATEDEVICE cookie.
    pub(crate) fn cookie(&self) -> u64 {
        self.cookie
    }

    /// Whether the host reported the device lost.
    pub(crate) fn lost(&self) -> bool {
        self.lost.load(Acquire)
    }

    /// Track `w` until [`remove`](Self::remove); `ECANCELED` if the device
    /// is lost already.
    pub(crate) fn add(&self, w: Arc<dyn DeviceWork>) -> Result {
        let mut list = self.work.lock();
        if self.lost() {
            return Err(ECANCELED);
        }
        list.push(w, GFP_ATOMIC)?;
        Ok(())
    }

    /// Stop tracking the work at `w`.
    pub(crate) fn remove(&self, w: *const ()) {
        let gone = {
            let mut list = self.work.lock();
            match list.iter().position(|x| Arc::as_ptr(x).cast::<()>() == w) {
                Some(i) => list.remove(i).ok(),
                None => None,
            }
        };
        drop(gone);
    }

    /// The host reported the device lost (receive path).
    ///
    /// The contexts are failed under the lock, so [`remove`](Self::remove)
    /// waits for it and no context is freed here.
    pub(crate) fn set_lost(&self) {
        let list = self.work.lock();
        if self.lost.xchg(true, Full) {
            return;
        }
        pr_warn!("the host reported device {:#x} lost\n", self.cookie);
        for w in list.iter() {
            w.device_lost();
        }
    }
}
