// SPDX-License-Identifier: GPL-2.0

//! The VMBus driver: dxg's channel devices on a real Hyper-V host.
//!
//! On Hyper-V the host offers the VM-level channel and one channel per
//! vGPU as VMBus devices (class GUIDs in protocol §2.1). [`Registration`]
//! registers one `hv_driver` for both classes (the C glue is
//! `bind/hv_driver.c`); its probe opens the channel (the VMBus link,
//! `vmbus/hv.rs`) and binds it exactly like a loopback channel device
//! ([`BoundChannel`]): same directory, same pairing with the PCI function,
//! same teardown on rescind.
//!
//! On a machine without VMBus (QEMU), registration fails with `ENODEV`;
//! dxg says so once and keeps the loopback transport.

use core::ptr::NonNull;

use kernel::{prelude::*, sync::Arc};

use crate::bind::chandev::BoundChannel;
use crate::host::vm::IoMem;
use crate::proto::Luid;
use crate::sys;
use crate::vmbus::{
    channel::{ChannelKind, Link},
    hv::{HvDevice, HvLink, HvMmio, OpenChannel},
};

/// A bound VMBus channel device: its open channel and its binding.
pub(crate) struct HvChannelDevice {
    /// Declared first: unbound (which fails every waiter and unbinds the
    /// adapter) before the channel closes.
    bound: Option<BoundChannel>,
    /// Closes the channel when it drops: on remove, after the binding, and
    /// when probe fails after opening it.
    _open: OpenChannel,
}

impl HvChannelDevice {
    fn probe(dev: HvDevice, kind: ChannelKind) -> Result<KBox<Self>> {
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
        // From here on, dropping `open` (or `this`, which takes it) closes
        // the channel again.
        let (link, open) = HvLink::open(dev)?;
        let mut this = KBox::new(
            Self {
                bound: None,
                _open: open,
            },
            GFP_KERNEL,
        )?;
        let timeout = crate::module_parameters::timeout_ms.value();
        // The vGPU LUID comes from the PCI mailbox on Hyper-V (bind/pci.rs).
        this.bound = Some(BoundChannel::bind(
            dev.dev(),
            kind,
            dev.instance(),
            Luid::ZERO,
            Link::Vmbus(link),
            io.map(IoMem::Vmbus),
            timeout,
        )?);
        Ok(this)
    }
}

/// `hv_driver.probe` (called from bind/hv_driver.c).
///
/// # Safety
///
/// `hdev` is a VMBus device being bound to dxg's driver.
#[no_mangle]
pub(crate) unsafe extern "C" fn dxg_hv_probe(
    hdev: *mut sys::hv_device,
    kind: core::ffi::c_ulong,
) -> core::ffi::c_int {
    let Some(dev) = NonNull::new(hdev) else {
        return EINVAL.to_errno();
    };
    // SAFETY: the VMBus core keeps `hdev` valid until remove.
    let dev = unsafe { HvDevice::from_raw(dev) };
    let kind = match kind as u32 {
        sys::DXG_HV_CHANNEL_VM => ChannelKind::Vm,
        sys::DXG_HV_CHANNEL_VGPU => ChannelKind::Vgpu,
        _ => return ENODEV.to_errno(),
    };
    match HvChannelDevice::probe(dev, kind) {
        Ok(b) => {
            // SAFETY: valid device; the box is taken back in remove.
            unsafe { sys::dxg_hv_set_drvdata(dev.as_ptr(), KBox::into_raw(b).cast()) };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// `hv_driver.remove` (called from bind/hv_driver.c).
///
/// # Safety
///
/// `hdev` is a VMBus device whose probe by dxg succeeded.
#[no_mangle]
pub(crate) unsafe extern "C" fn dxg_hv_remove(hdev: *mut sys::hv_device) {
    // SAFETY: probe stored a `KBox<HvChannelDevice>` as driver data.
    let p = unsafe { sys::dxg_hv_get_drvdata(hdev) }.cast::<HvChannelDevice>();
    if !p.is_null() {
        // SAFETY: taken back once, here.
        drop(unsafe { KBox::from_raw(p) });
    }
}

/// The registered VMBus driver, unregistered on drop.
pub(crate) struct Registration(NonNull<sys::hv_driver>);

// SAFETY: the driver structure is owned and only passed back to the VMBus
// core, from any thread.
unsafe impl Send for Registration {}
// SAFETY: see above.
unsafe impl Sync for Registration {}

impl Registration {
    /// Register the driver; `None` (said once in the log) on a machine
    /// without VMBus.
    pub(crate) fn new() -> Result<Option<Self>> {
        // SAFETY: no preconditions.
        let drv = unsafe { sys::dxg_hv_driver_register() };
        match kernel::error::from_err_ptr(drv) {
            Ok(p) => Ok(NonNull::new(p).map(Self)),
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
        // SAFETY: registered in `new`.
        unsafe { sys::dxg_hv_driver_unregister(self.0.as_ptr()) };
    }
}
