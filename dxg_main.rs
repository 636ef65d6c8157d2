// SPDX-License-Identifier: GPL-2.0

//! dxg: Hyper-V GPU-PV virtual GPUs as DRM devices.
//!
//! Each virtual GPU (adapter) the Hyper-V host offers is a PCI function
//! paired with a vGPU channel; dxg makes it a device of its own, parented
//! on the PCI function. See Documentation/dxg.rst for the design.
//!
//! Module layout, one folder per layer; `use crate::...` only points down
//! this stack (`scripts/check-layers.sh` checks it):
//!
//! - [`bind`]: the drivers that make adapters appear and go (the vGPU PCI
//!   function driver, the channel device drivers, pairing);
//! - [`drm`]: the DRM face of an adapter (device, files, GEM, syncobjs);
//! - [`host`]: guest proxies of host objects (adapter, VM, process,
//!   device, context) and the one way to send them requests;
//! - [`vmbus`]: the links below the channel seam (VMBus, loopback) and the
//!   guest memory the host sees;
//! - [`sys`]: what the kernel crate lacks (C bindings, small glue).
//!
//! [`proto`] (the wire protocol, shared with userspace) and the small items
//! of this file may be used from any layer.

mod bind;
mod drm;
mod host;
#[allow(dead_code, unreachable_pub)]
#[path = "proto/src/protocol.rs"]
mod proto;
mod sys;
mod vmbus;

use kernel::{driver as kdriver, pci as kpci, prelude::*};

#[cfg(not(dxg_test))]
module! {
    type: DxgModule,
    name: "dxg",
    authors: ["The dxg authors"],
    description: "Hyper-V GPU-PV virtual GPUs as DRM devices",
    license: "GPL",
    params: {
        timeout_ms: u32 {
            default: 60000,
            description: "How long to wait for a host reply before declaring the host lost (ms)",
        },
        job_timeout_ms: u32 {
            default: 10000,
            description: "How long a submitted job may run on the host before its context is lost (ms)",
        },
    },
}

// The test build (Kbuild: DXG_TEST=1) has the same parameter and two more.
#[cfg(dxg_test)]
module! {
    type: DxgModule,
    name: "dxg",
    authors: ["The dxg authors"],
    description: "Hyper-V GPU-PV virtual GPUs as DRM devices (test build)",
    license: "GPL",
    params: {
        standin: bool {
            default: false,
            description: "Also bind QEMU pci-testdev 1b36:0005 as a vGPU function (tests only)",
        },
        loopback: bool {
            default: false,
            description: "Create /dev/dxg-loopback, through which a root process plays the host (tests only)",
        },
        timeout_ms: u32 {
            default: 60000,
            description: "How long to wait for a host reply before declaring the host lost (ms)",
        },
        job_timeout_ms: u32 {
            default: 10000,
            description: "How long a submitted job may run on the host before its context is lost (ms)",
        },
    },
}

/// The test machinery, in the test build only: the loopback transport's
/// misc device and channel-device driver, and the stand-in vGPU function.
#[cfg(dxg_test)]
mod test_build {
    use kernel::{
        miscdevice::{MiscDeviceOptions, MiscDeviceRegistration},
        prelude::*,
    };

    use crate::{bind, module_parameters, sys, vmbus, MODULE_NAME};

    /// `/dev/dxg-loopback`, with `loopback=1`.
    pub(crate) type Loopback = Option<Pin<KBox<vmbus::loopback::Loopback>>>;
    /// The driver of the loopback transport's channel devices.
    pub(crate) type Channels = bind::chandev::LoopRegistration;

    pub(crate) fn loopback() -> Result<Loopback> {
        if !module_parameters::loopback.value() {
            return Ok(None);
        }
        let opts = MiscDeviceOptions {
            name: vmbus::loopback::DEVICE_NAME,
        };
        Ok(Some(KBox::pin_init(
            MiscDeviceRegistration::register(opts),
            GFP_KERNEL,
        )?))
    }

    /// Register it: before the PCI driver, as a PCI probe looks its
    /// channels up through it.
    pub(crate) fn channels() -> Result<Channels> {
        // SAFETY: module init calls this once.
        unsafe { bind::chandev::LoopRegistration::new() }
    }

    /// With `standin=1`, make the PCI driver bind QEMU's pci-testdev too.
    pub(crate) fn add_standin() -> Result {
        if module_parameters::standin.value() {
            // SAFETY: The driver named MODULE_NAME is registered (the
            // module's init registered it before calling this) and stays
            // registered until module exit.
            kernel::error::to_result(unsafe {
                sys::dxg_pci_add_dynid(
                    MODULE_NAME.as_char_ptr(),
                    bind::pci::STANDIN_VENDOR,
                    bind::pci::STANDIN_DEVICE,
                )
            })?;
            pr_info!("binding stand-in vGPU functions (pci-testdev)\n");
        }
        Ok(())
    }
}

/// The module a user installs has no test machinery.
#[cfg(not(dxg_test))]
mod test_build {
    use kernel::prelude::*;

    pub(crate) type Loopback = ();
    pub(crate) type Channels = ();

    pub(crate) fn loopback() -> Result<Loopback> {
        Ok(())
    }

    pub(crate) fn channels() -> Result<Channels> {
        Ok(())
    }

    pub(crate) fn add_standin() -> Result {
        Ok(())
    }
}

/// The driver version, from ./VERSION (the only place it is written).
pub(crate) const VERSION: &str = env!("DXG_VERSION");

/// The module name, as drivers and devices are named after it.
pub(crate) const MODULE_NAME: &CStr = <LocalModule as kernel::ModuleMetadata>::NAME;

/// A GUID in its usual text form, for log messages.
pub(crate) struct GuidText([u8; proto::guid::GUID_STR_LEN]);

impl GuidText {
    /// The text of `g`.
    pub(crate) fn new(g: &proto::Guid) -> Self {
        let mut t = Self([0; proto::guid::GUID_STR_LEN]);
        g.format(&mut t.0);
        t
    }

    /// As a string.
    pub(crate) fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or("?")
    }
}

/// The module: owns every driver registration; no other state.
///
/// Fields drop in declaration order, which is the order of module exit:
///
/// 1. the loopback device (no session can be open then: each holds a
///    module reference, so every loopback channel device is gone);
/// 2. the PCI driver: every adapter goes. A host that times out in a
///    remove may still queue a reprobe on the VM-level channel's
///    workqueue;
/// 3. the channel drivers (VMBus first: a VMBus probe still in progress
///    looks up through the loopback driver too): every channel device
///    unbinds, and the VM-level one destroys its workqueue, which runs
///    the reprobes still queued first. So no reprobe runs once the
///    module's text is gone.
///
/// Init registers them the other way round: the channel drivers first,
/// since a PCI probe looks its channels up through them.
#[pin_data(PinnedDrop)]
struct DxgModule {
    _loopback: test_build::Loopback,
    #[pin]
    _pci: kdriver::Registration<kpci::Adapter<bind::pci::VgpuFunctionDriver>>,
    /// The VMBus driver; `None` on a machine without VMBus.
    _vmbus: Option<bind::hv::Registration>,
    /// The loopback channel driver (test build).
    _loop_channels: test_build::Channels,
}

impl kernel::InPlaceModule for DxgModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        pr_info!("dxg {} loading\n", VERSION);
        try_pin_init!(Self {
            _loop_channels: test_build::channels()?,
            // SAFETY: module init registers the VMBus driver once.
            _vmbus: unsafe { bind::hv::Registration::new()? },
            _pci <- kdriver::Registration::new(MODULE_NAME, module),
            _loopback: test_build::loopback()?,
        })
        .pin_chain(|_| test_build::add_standin())
    }
}

#[pinned_drop]
impl PinnedDrop for DxgModule {
    fn drop(self: Pin<&mut Self>) {
        pr_info!("dxg {} unloaded\n", VERSION);
    }
}
