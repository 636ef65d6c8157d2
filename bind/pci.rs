// SPDX-License-Identifier: GPL-2.0

//! The vGPU PCI function driver.
//!
//! On Hyper-V every virtual GPU is a PCI function, 1414:008E (render) or
//! 1414:008A (compute only), paired with a per-vGPU VMBus channel by the
//! channel instance GUID the host writes into the function's config-space
//! mailbox. The function is the adapter's bus device: its DRM device is
//! parented on it, so libdrm lists the adapter as a PCI device and PCI
//! unbind is the hot-unplug path.
//!
//! Probe negotiates the interface version through the mailbox, then looks
//! for the VM-level channel and the vGPU channel among the devices bound
//! to dxg's channel drivers ([`lookup`](crate::bind::lookup), which only
//! ever trylocks a channel device: a channel's unbind reprobes this
//! function while it holds its own device lock). Until both are bound it
//! returns `-EPROBE_DEFER`; binding a channel device retries deferred
//! probes, so either arrival order works.
//!
//! In QEMU a `pci-testdev` (1b36:0005) stands in for the function. It is
//! matched only when the `standin` module parameter adds its id as a dynamic
//! id, never from the static table (udev would autoload dxg for every test
//! device otherwise). Its mailbox is plain memory: the guest's capability
//! write at 0xD4 overwrites the vGPU LUID there, so on the stand-in the
//! vGPU LUID is taken from the channel offer instead (the one difference
//! from Hyper-V, see Documentation/dxg.rst).

use kernel::{device::Core, io::Io, pci, prelude::*, sync::Arc};

use crate::bind::{chandev::ChannelClaim, lookup};
use crate::drm::driver::DxgRegistration;
use crate::host::adapter::Adapter;
use crate::proto::{
    consts::{negotiate_version, GUEST_CAP_WSL2, VERSION, VERSION_EXT_HEADER},
    Guid, Luid,
};

/// Config-space mailbox of the vGPU function (dxgkrnl dxgmodule.c, the
/// `DXGK_VMBUS_*_OFFSET` macros).
mod mailbox {
    /// 16 bytes: instance GUID of the function's vGPU VMBus channel.
    pub(super) const GUID: usize = 0xC0;
    /// Interface version: the host's on read, the guest's choice on write.
    pub(super) const VERSION: usize = 0xD0;
    /// Read: vGPU LUID (8 bytes). Write: guest capabilities.
    pub(super) const LUID: usize = 0xD4;
    /// Host capabilities.
    pub(super) const HOST_CAPS: usize = 0xDC;
}

/// QEMU `pci-testdev`, the stand-in for a vGPU function in tests.
#[cfg(dxg_test)]
pub(crate) const STANDIN_VENDOR: u32 = 0x1b36;
/// See [`STANDIN_VENDOR`].
#[cfg(dxg_test)]
pub(crate) const STANDIN_DEVICE: u32 = 0x0005;

/// What kind of function the matching id says it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// A bound vGPU function: its open adapter.
pub(crate) struct VgpuFunction<'bound> {
    /// The adapter's DRM device; unplugged first when the function goes.
    drm: Option<DxgRegistration<'bound>>,
    pdev: &'bound pci::Device,
    /// The function's claim of its vGPU channel: given up once `drop`
    /// below is done, before the adapter reference goes (fields drop in
    /// declaration order).
    _vgpu: ChannelClaim<'bound>,
    adapter: Arc<Adapter>,
}

impl Drop for VgpuFunction<'_> {
    fn drop(&mut self) {
        // Unplug: waits for the ioctls in progress (their host requests
        // fail at once meanwhile); no new one starts.
        self.adapter.begin_unplug();
        drop(self.drm.take());
        self.adapter.end_unplug();
        // Then no new job can come: let the host finish (bounded), then
        // fail what is left.
        self.adapter.shutdown();
        dev_info!(self.pdev.as_ref(), "adapter removed\n");
        // Then `_vgpu` drops: the claim is given up.
    }
}

/// What the mailbox says.
struct Mailbox {
    guid: Guid,
    version: u32,
    vgpu_luid: Luid,
    host_caps: u32,
}

/// Negotiate through the mailbox, in the order of dxg_pci_probe_device() in
/// dxgkrnl dxgmodule.c.
fn negotiate(pdev: &pci::Device<Core<'_>>) -> Result<Mailbox> {
    let cfg = pdev.config_space();
    cfg.try_write32(GUEST_CAP_WSL2, mailbox::LUID)?;
    // A failed or zero read means version 27, as in dxgkrnl.
    let version = negotiate_version(cfg.try_read32(mailbox::VERSION).ok());
    let mut host_caps = 0;
    if version >= VERSION_EXT_HEADER {
        cfg.try_write32(VERSION.min(version), mailbox::VERSION)?;
        host_caps = cfg.try_read32(mailbox::HOST_CAPS)?;
    }
    let mut d = [0u32; 4];
    for (i, dw) in d.iter_mut().enumerate() {
        *dw = cfg.try_read32(mailbox::GUID + 4 * i)?;
    }
    let vgpu_luid = if version >= VERSION_EXT_HEADER {
        Luid::new(
            cfg.try_read32(mailbox::LUID)?,
            cfg.try_read32(mailbox::LUID + 4)?,
        )
    } else {
        Luid::ZERO
    };
    Ok(Mailbox {
        guid: Guid::from_dwords(d),
        version,
        vgpu_luid,
        host_caps,
    })
}

impl pci::Driver for VgpuFunctionDriver {
    type IdInfo = FunctionKind;
    type Data<'bound> = VgpuFunction<'bound>;

    const ID_TABLE: pci::IdTable<Self::IdInfo> = &PCI_TABLE;

    fn probe<'bound>(
        pdev: &'bound pci::Device<Core<'_>>,
        info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        // A dynamic id (the stand-in) carries no table entry.
        let standin = info.is_none();
        let kind = info.copied().unwrap_or(FunctionKind::Render);
        // SAFETY: a NUL-terminated name; driver_find() only looks it up.
        if unsafe { crate::sys::dxg_pci_driver_present(c"dxgkrnl".as_char_ptr()) } {
            dev_warn!(
                pdev.as_ref(),
                "dxgkrnl is loaded and owns the vGPU functions; dxg does not bind\n"
            );
            return Err(EBUSY);
        }
        let mb = negotiate(pdev)?;
        let key = Luid::from_guid(&mb.guid);
        let (Some(vm), Some(vgpu)) = lookup::pair(key)? else {
            dev_info!(
                pdev.as_ref(),
                "vGPU function for channel {} waits for its channels\n",
                crate::GuidText::new(&mb.guid).as_str()
            );
            return Err(EPROBE_DEFER);
        };
        if vm.channel().dead().is_some() {
            // Its host is lost (a timeout, a failed SETIOSPACEREGION): no
            // device could be created; wait for the channel's next offer.
            dev_info!(
                pdev.as_ref(),
                "vGPU function for channel {} waits for a live VM-level channel\n",
                crate::GuidText::new(&mb.guid).as_str()
            );
            return Err(EPROBE_DEFER);
        }
        let vgpu_luid = if standin {
            vgpu.vgpu_luid()
        } else {
            mb.vgpu_luid
        };
        let bound: &'bound pci::Device = pdev;
        // From here on, returning drops the claim: every failure below
        // gives the channel up again.
        let claim = match vgpu.claim(bound) {
            Ok(c) => c,
            // The channel left just now, or another function uses it.
            Err(e) => return Err(if e == ENODEV { EPROBE_DEFER } else { e }),
        };
        dev_info!(
            pdev.as_ref(),
            "vGPU function ({:?}) paired with channel {}, version {}, host caps {:#x}\n",
            kind,
            crate::GuidText::new(&mb.guid).as_str(),
            mb.version,
            mb.host_caps
        );
        let adapter = match Adapter::open(
            pdev,
            vm,
            vgpu.channel().clone(),
            vgpu.instance(),
            mb.version,
            vgpu_luid,
            // A stand-in's PCI id does not tell: the host is asked.
            (!standin).then_some(kind == FunctionKind::ComputeOnly),
        ) {
            Ok(a) => a,
            Err(e) => {
                dev_err!(
                    pdev.as_ref(),
                    "cannot open the adapter: error {}\n",
                    e.to_errno()
                );
                // Whatever failed (a channel that died, a malformed or
                // refused reply), the host may behave once its channel is
                // offered again: wait for that like for a channel not
                // offered yet (binding a channel retries deferred probes),
                // instead of staying unbound until the module reloads.
                return Err(EPROBE_DEFER);
            }
        };
        let adapter = Arc::new(adapter, GFP_KERNEL)?;
        adapter.vm().revive_owner(adapter.event_owner());
        let drm = DxgRegistration::new(pdev, adapter.clone())?;
        Ok(VgpuFunction {
            drm: Some(drm),
            pdev: bound,
            _vgpu: claim,
            adapter,
        })
    }
}
