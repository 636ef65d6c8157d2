// SPDX-License-Identifier: GPL-2.0

//! Channel devices: the driver that binds an offered channel.
//!
//! The host offers one VM-level channel per VM and one channel per vGPU.
//! Each offer is a device: a VMBus device on Hyper-V (bound by the VMBus
//! driver in `bind/hv.rs`), an auxiliary device `dxg.channel.N` with the
//! loopback transport (bound by [`ChannelDriver`]). Both end in
//! [`BoundChannel::bind`]. Binding creates the [`Channel`] and enters it into the
//! [`directory`](crate::bind::directory), where a vGPU PCI function finds
//! it; a bound VM-level channel device owns the per-VM object
//! ([`Vm`]). A successful bind makes the driver core retry deferred
//! probes, so a PCI function waiting for its channel is probed again.
//!
//! Unbinding (the rescind) kills the channel, failing every request in
//! flight, and unbinds the adapter that used it, so an adapter exists
//! only while both halves are present.

#[cfg(dxg_test)]
use kernel::{auxiliary, device::Core, types::ForLt};
use kernel::{prelude::*, sync::Arc, types::ScopeGuard};

use crate::bind::directory::{self, Entry};
use crate::host::vm::{IoMem, Vm};
use crate::proto::{Guid, Luid};
use crate::vmbus::channel::{Channel, ChannelKind, Link, Notify, Target};
#[cfg(dxg_test)]
use crate::vmbus::loopback::Offer;

// The loopback transport's channel devices (test build).
#[cfg(dxg_test)]
kernel::auxiliary_device_table!(
    AUX_TABLE,
    <ChannelDriver as auxiliary::Driver>::IdInfo,
    [(auxiliary::DeviceId::new(crate::MODULE_NAME, c"channel"), ())]
);

/// The driver of channel devices.
#[cfg(dxg_test)]
pub(crate) struct ChannelDriver;

/// A bound channel, of either transport: in the directory, its link
/// delivering to its channel. Dropping it is the rescind: the channel dies
/// (every waiter fails), the VM's guest events fail, and the adapter that
/// used the channel is unbound.
pub(crate) struct BoundChannel {
    entry: Arc<Entry>,
    link: Arc<Link>,
}

impl BoundChannel {
    /// Bind an offered channel of `kind` reached through `link`; `io` is
    /// the IO space offered with a VM-level channel.
    pub(crate) fn bind(
        dev: &kernel::device::Device,
        kind: ChannelKind,
        instance: Guid,
        vgpu_luid: Luid,
        link: Link,
        io: Option<IoMem>,
        timeout_ms: u32,
    ) -> Result<Self> {
        let name = match kind {
            ChannelKind::Vm => c"vm",
            ChannelKind::Vgpu => c"vgpu",
        };
        let link = Arc::new(link, GFP_KERNEL)?;
        // A channel whose host stops answering unbinds its adapters.
        let channel = Channel::new(name, link.clone(), timeout_ms, directory::lost)?;
        let vm = match kind {
            ChannelKind::Vm => Some(Vm::new(channel.clone(), io)?),
            ChannelKind::Vgpu => None,
        };
        let notify: Option<Arc<dyn Notify>> = match &vm {
            Some(vm) => Some(vm.clone()),
            None => None,
        };
        link.attach(Target {
            channel: channel.clone(),
            notify,
        });
        // Until the channel is in the directory, failing undoes the attach.
        let unbind = ScopeGuard::new(|| {
            link.detach();
            channel.kill(ENODEV);
        });
        let entry = directory::enter(kind, instance, vgpu_luid, channel.clone(), vm)?;
        unbind.dismiss();
        dev_info!(
            dev,
            "{:?} channel {} offered\n",
            kind,
            crate::GuidText::new(&instance).as_str()
        );
        if let Some(vm) = entry.vm() {
            dev_info!(dev, "VM IO space: {} MiB\n", vm.mmio_size() >> 20);
        }
        Ok(Self { entry, link })
    }
}

impl Drop for BoundChannel {
    fn drop(&mut self) {
        self.link.detach();
        self.entry.channel().kill(ENODEV);
        if let Some(vm) = self.entry.vm() {
            // No guest event can arrive any more.
            vm.fail_events(None, ENODEV);
        }
        directory::leave(&self.entry);
    }
}

#[cfg(dxg_test)]
impl auxiliary::Driver for ChannelDriver {
    type IdInfo = ();
    type Data<'bound> = BoundChannel;

    const ID_TABLE: auxiliary::IdTable<Self::IdInfo> = &AUX_TABLE;

    fn probe<'bound>(
        adev: &'bound auxiliary::Device<Core<'_>>,
        _info: &'bound Self::IdInfo,
    ) -> impl PinInit<BoundChannel, Error> + 'bound {
        let (kind, instance, vgpu_luid, mmio_size, link) = adev
            .registration_data_with::<ForLt!(Offer), _>(|o| {
                (o.kind, o.instance, o.vgpu_luid, o.mmio_size, o.link.clone())
            })?;
        let io = link.io_space();
        if io.as_ref().map_or(0, |io| io.len() as u64) != mmio_size {
            return Err(EINVAL);
        }
        BoundChannel::bind(
            adev.as_ref(),
            kind,
            instance,
            vgpu_luid,
            Link::Loopback(link),
            io.map(IoMem::Loopback),
            crate::module_parameters::timeout_ms.value(),
        )
    }
}
