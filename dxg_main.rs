// SPDX-License-Identifier: GPL-2.0

//! dxg: Hyper-V GPU-PV virtual GPUs as DRM devices.
//!
//! Each virtual GPU (adapter) the Hyper-V host offers is its own DRM device
//! with a render node, parented on the adapter's PCI function. See
//! Documentation/dxg.rst for the design.

mod pci;
mod sys;

use kernel::{driver as kdriver, pci as kpci, prelude::*};

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
    },
}

/// The driver version, from ./VERSION (the only place it is written).
pub(crate) const VERSION: &str = env!("DXG_VERSION");

/// PCI driver name, as in /sys/bus/pci/drivers/.
const PCI_DRIVER_NAME: &CStr = c"dxg";

/// The module: owns every driver registration; no other global state.
#[pin_data(PinnedDrop)]
struct DxgModule {
    #[pin]
    _pci: kdriver::Registration<kpci::Adapter<pci::VgpuFunctionDriver>>,
}

impl kernel::InPlaceModule for DxgModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        pr_info!("dxg {} loading\n", VERSION);
        try_pin_init!(Self {
            _pci <- kdriver::Registration::new(PCI_DRIVER_NAME, module),
        })
        .pin_chain(|_| {
            if module_parameters::standin.value() {
                // SAFETY: The driver named PCI_DRIVER_NAME was registered
                // just above and stays registered until module exit.
                kernel::error::to_result(unsafe {
                    sys::dxg_pci_add_dynid(
                        PCI_DRIVER_NAME.as_char_ptr(),
                        pci::STANDIN_VENDOR,
                        pci::STANDIN_DEVICE,
                    )
                })?;
                pr_info!("dxg: binding stand-in vGPU functions (pci-testdev)\n");
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
