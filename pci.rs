// SPDX-License-Identifier: GPL-2.0

//! The vGPU PCI function driver.
//!
//! On Hyper-V every virtual GPU is a PCI function, 1414:008E (render) or
//! 1414:008A (compute only), paired with a per-vGPU VMBus channel by the
//! channel instance GUID the host writes into the function's config space
//! mailbox. The function is the adapter's bus device: its DRM device is
//! parented on it, so libdrm lists the adapter as a PCI device and PCI
//! unbind is the hot-unplug path.
//!
//! In QEMU a `pci-testdev` (1b36:0005) stands in for the function. It is
//! matched only when the `standin` module parameter adds its id as a dynamic
//! id, never from the static table (udev would autoload dxg for every test
//! device otherwise).

use kernel::{device::Core, io::Io, pci, prelude::*};

/// Config-space mailbox of the vGPU function (dxgkrnl-protocol.md §2.3).
mod mailbox {
    /// 16 bytes: instance GUID of the function's vGPU VMBus channel.
    pub(super) const GUID: usize = 0xC0;
    /// Host interface version.
    pub(super) const VERSION: usize = 0xD0;
    /// Read: vGPU LUID (8 bytes). Write: guest capabilities.
    pub(super) const LUID: usize = 0xD4;
    /// Host capabilities.
    pub(super) const HOST_CAPS: usize = 0xDC;
}

/// QEMU `pci-testdev`, the stand-in for a vGPU function in tests.
pub(crate) const STANDIN_VENDOR: u32 = 0x1b36;
/// See [`STANDIN_VENDOR`].
pub(crate) const STANDIN_DEVICE: u32 = 0x0005;

/// What kind of adapter the matching id says the function is.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FunctionKind {
    /// 1414:008E: graphics and compute.
    Render,
    /// 1414:008A: compute only.
    ComputeOnly,
}

kernel::pci_device_table!(
    PCI_TABLE,
    <VgpuFunctionDriver as pci::Driver>::IdInfo,
    [
        (
            pci::DeviceId::from_id(pci::Vendor::MICROSOFT, 0x008E),
            FunctionKind::Render
        ),
        (
            pci::DeviceId::from_id(pci::Vendor::MICROSOFT, 0x008A),
            FunctionKind::ComputeOnly
        ),
    ]
);

/// The PCI driver for vGPU functions.
pub(crate) struct VgpuFunctionDriver;

impl pci::Driver for VgpuFunctionDriver {
    type IdInfo = FunctionKind;
    type Data<'bound> = ();

    const ID_TABLE: pci::IdTable<Self::IdInfo> = &PCI_TABLE;

    fn probe<'bound>(
        pdev: &'bound pci::Device<Core<'_>>,
        info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        // A dynamic id (the stand-in) carries no table entry.
        let kind = info.copied().unwrap_or(FunctionKind::Render);
        let cfg = pdev.config_space();
        let mut guid = [0u32; 4];
        for (i, dw) in guid.iter_mut().enumerate() {
            *dw = cfg.try_read32(mailbox::GUID + 4 * i)?;
        }
        dev_info!(
            pdev,
            "vGPU function ({:?}): channel {:08x}-{:08x}-{:08x}-{:08x}, version {}, host caps {:#x}\n",
            kind,
            guid[0],
            guid[1],
            guid[2],
            guid[3],
            cfg.read32(mailbox::VERSION),
            cfg.read32(mailbox::HOST_CAPS),
        );
        let _ = mailbox::LUID;
        // An adapter needs both halves: this function and its vGPU channel.
        // No transport offers channels yet, so wait for one.
        Err(EPROBE_DEFER)
    }
}
