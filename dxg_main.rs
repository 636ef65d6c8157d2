// SPDX-License-Identifier: GPL-2.0

//! dxg: Hyper-V GPU-PV virtual GPUs as DRM devices.
//!
//! Each virtual GPU (adapter) the Hyper-V host offers is a PCI function
//! paired with a vGPU channel; dxg makes it a device of its own, parented
//! on the PCI function. See Documentation/dxg.rst for the design.
//!
//! Module layout: [`pci`] (the vGPU function driver, pairing), [`adapter`]
//! (host-side adapter lifetime), [`vm`] (per-VM state), [`vmbus`]
//! (transports, channel devices), [`proto`] (the wire protocol, shared with
//! userspace), [`sys`] (C bindings).

mod adapter;
mod context;
mod device;
mod drm;
mod pci;
mod process;
#[allow(dead_code, unreachable_pub)]
#[path = "proto/src/protocol.rs"]
mod proto;
mod sys;
mod util;
mod vm;
mod vmbus;

use kernel::{
    auxiliary, driver as kdriver,
    miscdevice::{MiscDeviceOptions, MiscDeviceRegistration},
    pci as kpci,
    prelude::*,
};

module! {
    type: DxgModule,
    name: "dxg",
    authors: ["The dxg authors"],
    description: "Hyper-V GPU-PV virtual GPUs as DRM devices",
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
    },
}

/// The driver version, from ./VERSION (the only place it is written).
pub(crate) const VERSION: &str = env!("DXG_VERSION");

/// The module name, as drivers and devices are named after it.
pub(crate) const MODULE_NAME: &CStr = <LocalModule as kernel::ModuleMetadata>::NAME;

/// A protocol decoding error as a kernel error.
pub(crate) fn proto_err(e: proto::ProtoError) -> Error {
    errno(e.errno())
}

/// A positive errno (as the protocol module reports them) as a kernel error.
pub(crate) fn errno(e: i32) -> Error {
    Error::from_errno(-e)
}

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
#[pin_data(PinnedDrop)]
struct DxgModule {
    // Fields drop in declaration order: the loopback device first (no
    // session can be open then: it holds a module reference), then the PCI
    // driver (adapters go), then the channel devices' driver.
    loopback: Option<Pin<KBox<vmbus::loopback::Loopback>>>,
    /// The VMBus driver; `None` on a machine without VMBus.
    _vmbus: Option<vmbus::hv::Registration>,
    #[pin]
    _pci: kdriver::Registration<kpci::Adapter<pci::VgpuFunctionDriver>>,
    #[pin]
    _channels: kdriver::Registration<auxiliary::Adapter<vmbus::chandev::ChannelDriver>>,
    /// Declared last: freed after every driver is gone.
    _directory: vmbus::directory::DirectoryStorage,
}

impl kernel::InPlaceModule for DxgModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        pr_info!("dxg {} loading\n", VERSION);
        // SAFETY: called once, before any driver that uses the directory
        // is registered.
        unsafe { vmbus::directory::DIRECTORY.init() };
        try_pin_init!(Self {
            _directory: vmbus::directory::DirectoryStorage::new()?,
            _channels <- kdriver::Registration::new(MODULE_NAME, module),
            _pci <- kdriver::Registration::new(MODULE_NAME, module),
            _vmbus: vmbus::hv::Registration::new()?,
            loopback: if module_parameters::loopback.value() {
                let opts = MiscDeviceOptions {
                    name: vmbus::loopback::DEVICE_NAME,
                };
                Some(KBox::pin_init(MiscDeviceRegistration::register(opts), GFP_KERNEL)?)
            } else {
                None
            },
        })
        .pin_chain(|_| {
            if module_parameters::standin.value() {
                // SAFETY: The driver named MODULE_NAME was registered just
                // above and stays registered until module exit.
                kernel::error::to_result(unsafe {
                    sys::dxg_pci_add_dynid(
                        MODULE_NAME.as_char_ptr(),
                        pci::STANDIN_VENDOR,
                        pci::STANDIN_DEVICE,
                    )
                })?;
                pr_info!("binding stand-in vGPU functions (pci-testdev)\n");
            }
            Ok(())
        })
    }
}

#[pinned_drop]
impl PinnedDrop for DxgModule {
    fn drop(self: Pin<&mut Self>) {
        pr_info!("dxg {} unloaded\n", VERSION);
    }
}
