// SPDX-License-Identifier: GPL-2.0

//! The VMBus driver: dxg's channel devices on a real Hyper-V host.
//!
//! On Hyper-V the host offers the VM-level channel and one channel per
//! vGPU as VMBus devices. [`Registration`] registers the static
//! `hv_driver` of both classes (`bind/channel_drivers.c`); its probe,
//! [`dxg_hv_probe`], opens the channel (the VMBus link, `vmbus/hv.rs`) and
//! binds it exactly like a loopback channel device ([`BoundChannel`]):
//! same lookup, same pairing with the PCI function, same teardown on
//! rescind. Its remove is the loopback driver's, `dxg_channel_remove`:
//! dropping the [`BoundChannel`] undoes the binding, then closes the
//! channel (after revoking the link's access to the device).
//!
//! On a machine without VMBus (QEMU), registration fails with `ENODEV`;
//! dxg says so once and keeps the loopback transport.

use core::ffi::{c_int, c_ulong, c_void};
use core::ptr::NonNull;

use kernel::{prelude::*, sync::Arc};

use crate::bind::chandev::{self, BoundChannel};
use crate::host::vm::IoMem;
use crate::proto::Luid;
use crate::sys;
use crate::vmbus::{
    channel::{ChannelKind, Link},
    hv::{HvDevice, HvLink, HvMmio},
};

/// Bind the VMBus channel device `dev` of `kind`.
fn probe(dev: HvDevice, kind: ChannelKind) -> Result<BoundChannel> {
    // SAFETY: valid device.
    if unsafe { sys::dxg_hv_dxgkrnl_present(dev.as_ptr()) } {
        dev_warn!(
            dev.dev(),
            "dxgkrnl is loaded and owns the GPU-PV channels; dxg does not bind\n"
        );
        return Err(EBUSY);
    }
    let io = match kind {
        ChannelKind::Vm => {
            let size = dev.mmio_size();
            if size == 0 {
                None
            } else {
                Some(Arc::new(HvMmio::new(dev, size)?, GFP_KERNEL)?)
            }
        }
        ChannelKind::Vgpu => None,
    };
    // From here on, dropping `open` (which `bind` takes, and the bound
    // channel keeps) closes the channel again.
    let (link, open) = HvLink::open(dev)?;
    // The vGPU LUID comes from the PCI mailbox on Hyper-V (bind/pci.rs).
    BoundChannel::bind(
        dev.dev(),
        kind,
        dev.instance(),
        Luid::ZERO,
        Link::Vmbus(link),
        io.map(IoMem::Vmbus),
        crate::module_parameters::timeout_ms.value(),
        Some(open),
    )
}

/// `hv_driver.probe` (called from `bind/channel_drivers.c`): bind `hdev`
/// and store the [`BoundChannel`] in `*out`.
///
/// # Safety
///
/// `hdev` is a VMBus device being bound to dxg's driver, and `out` is
/// valid for a write.
#[no_mangle]
pub(crate) unsafe extern "C" fn dxg_hv_probe(
    hdev: *mut sys::hv_device,
    kind: c_ulong,
    out: *mut *mut c_void,
) -> c_int {
    let Some(dev) = NonNull::new(hdev) else {
        return EINVAL.to_errno();
    };
    // SAFETY: the VMBus core keeps `hdev` valid until remove, which drops
    // every copy: the bound channel holds them (its open channel, and the
    // link's revocable, revoked in remove).
    let dev = unsafe { HvDevice::from_raw(dev) };
    let kind = match kind as u32 {
        sys::DXG_HV_CHANNEL_VM => ChannelKind::Vm,
        sys::DXG_HV_CHANNEL_VGPU => ChannelKind::Vgpu,
        _ => return ENODEV.to_errno(),
    };
    // SAFETY: `out` is valid for a write (the caller's promise).
    unsafe { chandev::store(probe(dev, kind), out) }
}

/// The registered VMBus driver, unregistered on drop.
///
/// # Invariants
///
/// The driver is registered, by this value.
pub(crate) struct Registration(());

impl Registration {
    /// Register the driver; `None` (said once in the log) on a machine
    /// without VMBus. Before the PCI driver: a PCI probe looks channels up
    /// through it.
    ///
    /// # Safety
    ///
    /// The driver is not registered (the module's init registers it, once):
    /// registering a driver structure in use corrupts it.
    pub(crate) unsafe fn new() -> Result<Option<Self>> {
        // SAFETY: not registered (see above).
        match kernel::error::to_result(unsafe { sys::dxg_hv_driver_register() }) {
            // INVARIANT: registered just now.
            Ok(()) => Ok(Some(Self(()))),
            Err(e) if e == ENODEV => {
                pr_info!("no VMBus on this machine; the VMBus transport is off\n");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: registered by this value (type invariant).
        unsafe { sys::dxg_hv_driver_unregister() };
    }
}
