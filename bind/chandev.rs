// SPDX-License-Identifier: GPL-2.0

//! Channel devices: what binding an offered channel makes.
//!
//! The host offers one VM-level channel per VM and one channel per vGPU.
//! Each offer is a device: a VMBus device on Hyper-V (bound by the VMBus
//! driver, `bind/hv.rs`), an auxiliary device `dxg.channel.N` with the
//! loopback transport of the test build (bound by the loopback channel
//! driver, whose probe
//! and remove are [`dxg_loop_probe`] and [`dxg_channel_remove`]). Both
//! drivers are static C driver structures (`bind/channel_drivers.c`), and
//! both end in [`BoundChannel::bind`], whose result is the device's driver
//! data until remove. Binding creates the [`Channel`] and, for the
//! VM-level channel, the per-VM object ([`Vm`]) and the workqueue on which
//! the adapters of a lost host are unbound. A vGPU PCI function finds the
//! bound channels through the driver core (`bind/lookup.rs`); a successful
//! bind makes the driver core retry deferred probes, so a PCI function
//! waiting for its channel is probed again.
//!
//! Unbinding (the rescind) kills the channel, failing every request in
//! flight, and unbinds the adapter that used it, so an adapter exists
//! only while both halves are present.
//!
//! Lock order: a channel device's lock (held by the driver core around
//! probe and remove) before a PCI function's lock (a channel's unbind
//! reprobes the function that uses it, which is why everything else only
//! trylocks a channel device: see `bind/lookup.rs`), before
//! [`Binding::claim`]; [`Binding::reprobe`] is a leaf. Neither of the
//! two is held across a host request.

use core::ffi::{c_int, c_void};

use kernel::{
    bindings, new_mutex, pci,
    prelude::*,
    sync::{aref::ARef, Arc, Mutex},
};

use crate::bind::lookup;
use crate::host::vm::{IoMem, Vm};
use crate::proto::{Guid, Luid};
use crate::sys::{self, workqueue::OwnedQueue};
#[cfg(dxg_test)]
use crate::vmbus::loopback::LoopLink;
use crate::vmbus::{
    channel::{Channel, ChannelKind, Link, Notify, Target},
    hv::OpenChannel,
};

/// What a bound channel device shares: with the PCI function that uses
/// it (its claim) and with a lookup.
#[pin_data]
pub(crate) struct Binding {
    kind: ChannelKind,
    instance: Guid,
    vgpu_luid: Luid,
    channel: Arc<Channel>,
    vm: Option<Arc<Vm>>,
    /// Protects who uses this vGPU channel.
    #[pin]
    claim: Mutex<Claim>,
    /// Protects the workqueue on which a VM-level channel unbinds the
    /// adapters of a lost host; `None` for a vGPU channel, and once the
    /// device unbinds (which destroys the workqueue).
    #[pin]
    reprobe: Mutex<Option<OwnedQueue>>,
}

/// Who uses a vGPU channel.
struct Claim {
    /// The PCI function whose adapter uses the channel, if any.
    user: Option<ARef<pci::Device>>,
    /// The channel device left: nobody may claim it any more.
    gone: bool,
}

impl Binding {
    /// Which kind of channel this is.
    pub(crate) fn kind(&self) -> ChannelKind {
        self.kind
    }

    /// The channel of this device.
    pub(crate) fn channel(&self) -> &Arc<Channel> {
        &self.channel
    }

    /// The VM object of a VM-level channel.
    pub(crate) fn vm(&self) -> Option<&Arc<Vm>> {
        self.vm.as_ref()
    }

    /// The vGPU LUID from the offer.
    pub(crate) fn vgpu_luid(&self) -> Luid {
        self.vgpu_luid
    }

    /// The instance GUID.
    pub(crate) fn instance(&self) -> Guid {
        self.instance
    }

    /// Make `pdev` the user of this vGPU channel until the returned claim
    /// drops; `EBUSY` if another function already uses it, `ENODEV` if
    /// the channel device left.
    pub(crate) fn claim<'a>(self: &Arc<Self>, pdev: &'a pci::Device) -> Result<ChannelClaim<'a>> {
        let mut c = self.claim.lock();
        if c.gone {
            return Err(ENODEV);
        }
        if c.user.is_some() {
            return Err(EBUSY);
        }
        c.user = Some(pdev.into());
        Ok(ChannelClaim {
            binding: self.clone(),
            pdev,
        })
    }

    /// Give up the claim of `pdev` (its adapter went away).
    fn unclaim(&self, pdev: &pci::Device) {
        let mut c = self.claim.lock();
        if c.user.as_deref().map(|d| core::ptr::eq(d, pdev)) == Some(true) {
            c.user = None;
        }
    }

    /// The PCI function that uses this channel, if any.
    fn user(&self) -> Option<ARef<pci::Device>> {
        self.claim.lock().user.clone()
    }

    /// Unbind, from this VM-level channel's workqueue, the adapters of
    /// `users`, whose host stopped answering.
    fn queue_reprobe(&self, users: KVec<ARef<pci::Device>>) {
        let q = self.reprobe.lock();
        let Some(q) = q.as_ref() else {
            pr_warn!("the VM-level channel is going: adapters of a lost host stay bound\n");
            return;
        };
        let r = q.try_spawn(GFP_KERNEL, move || {
            for u in users.iter() {
                reprobe(u, "host timeout");
            }
        });
        if r.is_err() {
            pr_warn!("out of memory: adapters of a lost host stay bound\n");
        }
    }
}

/// A vGPU channel used by a PCI function ([`Binding::claim`]); dropping it
/// gives the claim up: on every failure of the function's probe after
/// the claim, and when its adapter goes.
pub(crate) struct ChannelClaim<'a> {
    binding: Arc<Binding>,
    pdev: &'a pci::Device,
}

impl Drop for ChannelClaim<'_> {
    fn drop(&mut self) {
        self.binding.unclaim(self.pdev);
    }
}

/// A bound channel, of either transport: a channel device's driver data,
/// its link delivering to its channel. Dropping it is the rescind: the
/// channel dies (every waiter fails), the VM's guest events fail, the
/// adapter that used the channel is unbound, and a VM-level channel's
/// workqueue is destroyed once the reprobes on it have run.
pub(crate) struct BoundChannel {
    binding: Arc<Binding>,
    link: Arc<Link>,
    /// A VMBus channel device's open channel: closed (after its device was
    /// revoked) once everything above is undone. Declared last: fields
    /// drop in declaration order, after `drop` below.
    _open: Option<OpenChannel>,
}

impl BoundChannel {
    /// Bind an offered channel of `kind` reached through `link`; `io` is
    /// the IO space offered with a VM-level channel, `open` the VMBus
    /// channel behind `link`, if it is one (closed again if this fails).
    #[expect(clippy::too_many_arguments)]
    pub(crate) fn bind(
        dev: &kernel::device::Device,
        kind: ChannelKind,
        instance: Guid,
        vgpu_luid: Luid,
        link: Link,
        io: Option<IoMem>,
        timeout_ms: u32,
        open: Option<OpenChannel>,
    ) -> Result<Self> {
        if lookup::duplicate(kind, instance)? {
            pr_warn!(
                "second offer of a {:?} channel {} refused\n",
                kind,
                crate::GuidText::new(&instance).as_str()
            );
            return Err(EEXIST);
        }
        let name = match kind {
            ChannelKind::Vm => c"vm",
            ChannelKind::Vgpu => c"vgpu",
        };
        let reprobe = match kind {
            ChannelKind::Vm => Some(OwnedQueue::new(c"dxg_reprobe")?),
            ChannelKind::Vgpu => None,
        };
        let link = Arc::new(link, GFP_KERNEL)?;
        // A channel whose host stops answering unbinds its adapters.
        let channel = Channel::new(name, link.clone(), timeout_ms, lost)?;
        let vm = match kind {
            ChannelKind::Vm => Some(Vm::new(channel.clone(), io)?),
            ChannelKind::Vgpu => None,
        };
        let notify: Option<Arc<dyn Notify>> = match &vm {
            Some(vm) => Some(vm.clone()),
            None => None,
        };
        let target = Target {
            channel: channel.clone(),
            notify,
        };
        let binding = Arc::pin_init(
            pin_init!(Binding {
                kind,
                instance,
                vgpu_luid,
                channel,
                vm,
                claim <- new_mutex!(Claim { user: None, gone: false }, "dxg_channel_claim"),
                reprobe <- new_mutex!(reprobe, "dxg_channel_reprobe"),
            }),
            GFP_KERNEL,
        )?;
        // Nothing fails after this: from here on, `drop` undoes it.
        link.attach(target);
        dev_info!(
            dev,
            "{:?} channel {} offered\n",
            kind,
            crate::GuidText::new(&instance).as_str()
        );
        if let Some(vm) = binding.vm() {
            dev_info!(dev, "VM IO space: {} MiB\n", vm.mmio_size() >> 20);
        }
        Ok(Self {
            binding,
            link,
            _open: open,
        })
    }

    /// What this channel device shares with the functions that use it.
    pub(crate) fn binding(&self) -> &Arc<Binding> {
        &self.binding
    }
}

impl Drop for BoundChannel {
    fn drop(&mut self) {
        let b = &self.binding;
        self.link.detach();
        b.channel.kill(ENODEV);
        if let Some(vm) = b.vm() {
            // No guest event can arrive any more.
            vm.fail_events(None, ENODEV);
        }
        // Nobody may claim the channel any more; an adapter exists only
        // while its channel does. Its function is probed again right away
        // (with this device's lock held: see the lock order), and waits,
        // deferred, for a new offer.
        let user = {
            let mut c = b.claim.lock();
            c.gone = true;
            c.user.take()
        };
        if let Some(pdev) = user {
            reprobe(&pdev, "channel rescind");
        }
        // A VM-level channel: destroying the workqueue runs the reprobes
        // still queued first. Their probes only trylock this device.
        let queue = b.reprobe.lock().take();
        drop(queue);
    }
}

/// Unbind `pdev`'s adapter and probe the function again (it then waits,
/// deferred, for a live channel).
fn reprobe(pdev: &pci::Device, why: &str) {
    let dev: &kernel::device::Device = pdev.as_ref();
    let raw = sys::util::raw_device(dev);
    // SAFETY: the caller holds a reference to the device; device_reprobe()
    // takes the device lock itself. The callers hold no lock of ours; a
    // channel device's unbind holds its own device lock, which a PCI
    // probe only trylocks (bind/lookup.rs), and a PCI remove never takes.
    let ret = unsafe { bindings::device_reprobe(raw) };
    if ret != 0 {
        dev_warn!(dev, "reprobe after {} failed: {}\n", why, ret);
    }
}

/// The host stopped answering on `channel` (it is dead already): unbind,
/// from the VM-level channel's workqueue, the adapter that uses it — or
/// every adapter, for the VM-level channel — so their DRM devices are
/// unplugged. The [`LostHook`](crate::vmbus::channel::LostHook) of every
/// bound channel; runs in the timed-out request.
pub(crate) fn lost(channel: &Channel) {
    let Ok(bound) = lookup::bound_channels(|_| false) else {
        pr_warn!("out of memory: adapters of a lost host stay bound\n");
        return;
    };
    // Not found: its bind or unbind is in progress (the unbind unbinds
    // its adapter itself).
    let Some(me) = bound
        .iter()
        .find(|b| core::ptr::eq(&**b.channel(), channel))
    else {
        return;
    };
    let mut users = KVec::new();
    for b in bound.iter() {
        if me.kind() == ChannelKind::Vgpu && !Arc::ptr_eq(b, me) {
            continue;
        }
        if let Some(u) = b.user() {
            if users.push(u, GFP_KERNEL).is_err() {
                pr_warn!("out of memory: an adapter of a lost host stays bound\n");
            }
        }
    }
    if users.is_empty() {
        return;
    }
    match bound.iter().find(|b| b.kind() == ChannelKind::Vm) {
        Some(vm) => vm.queue_reprobe(users),
        None => pr_warn!("no VM-level channel: adapters of a lost host stay bound\n"),
    }
}

/// Registration of the loopback channel driver (`bind/channel_drivers.c`),
/// unregistered on drop.
///
/// # Invariants
///
/// The driver is registered, by this value.
#[cfg(dxg_test)]
pub(crate) struct LoopRegistration(());

#[cfg(dxg_test)]
impl LoopRegistration {
    /// Register the driver. Before the PCI driver: a PCI probe looks
    /// channels up through it.
    ///
    /// # Safety
    ///
    /// The driver is not registered (the module's init registers it, once):
    /// registering a driver structure in use corrupts it.
    pub(crate) unsafe fn new() -> Result<Self> {
        // SAFETY: not registered (see above).
        kernel::error::to_result(unsafe { sys::dxg_loop_driver_register() })?;
        // INVARIANT: registered just above.
        Ok(Self(()))
    }
}

#[cfg(dxg_test)]
impl Drop for LoopRegistration {
    fn drop(&mut self) {
        // SAFETY: registered by this value (type invariant).
        unsafe { sys::dxg_loop_driver_unregister() };
    }
}

/// Hand a new bound channel to a C probe, as the device's driver data
/// (the probes of both channel drivers end here).
///
/// # Safety
///
/// `out` is valid for a write.
pub(crate) unsafe fn store(bound: Result<BoundChannel>, out: *mut *mut c_void) -> c_int {
    let bound = match bound.and_then(|b| Ok(KBox::new(b, GFP_KERNEL)?)) {
        Ok(b) => b,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: `out` is valid for a write (see above); `dxg_channel_remove`
    // takes the box back.
    unsafe { out.write(KBox::into_raw(bound).cast()) };
    0
}

/// The loopback channel driver's probe (test build; called from
/// `bind/channel_drivers.c`): bind the channel device `dev`, whose link is
/// `link`, and store the [`BoundChannel`] in `*out`.
///
/// # Safety
///
/// `dev` is a loopback channel device being bound, `link` its link
/// (`dxg_loop_channel_link()`), and `out` valid for a write.
#[cfg(dxg_test)]
#[no_mangle]
pub(crate) unsafe extern "C" fn dxg_loop_probe(
    dev: *mut bindings::device,
    link: *mut c_void,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: the driver core keeps `dev` valid during probe.
    let dev = unsafe { kernel::device::Device::from_raw(dev) };
    // SAFETY: `link` is the link of the channel device `dev`, which holds
    // it while it exists, beyond this probe.
    let link: Arc<LoopLink> = unsafe { LoopLink::from_channel_device(link) }.into();
    let io = link.io_space().map(IoMem::Loopback);
    let bound = BoundChannel::bind(
        dev,
        link.kind(),
        link.instance(),
        link.vgpu_luid(),
        Link::Loopback(link),
        io,
        crate::module_parameters::timeout_ms.value(),
        None,
    );
    // SAFETY: `out` is valid for a write (the caller's promise).
    unsafe { store(bound, out) }
}

/// Both channel drivers' remove (called from `bind/channel_drivers.c`):
/// unbind the channel device whose driver data is `bound`.
///
/// # Safety
///
/// `bound` is the driver data a probe of dxg's channel drivers stored, of
/// a device being unbound; it is not used again.
#[no_mangle]
pub(crate) unsafe extern "C" fn dxg_channel_remove(bound: *mut c_void) {
    if !bound.is_null() {
        // SAFETY: the probe stored a `KBox<BoundChannel>`, taken back once,
        // here.
        drop(unsafe { KBox::from_raw(bound.cast::<BoundChannel>()) });
    }
}
