// SPDX-License-Identifier: GPL-2.0

//! The channel directory: where a vGPU PCI function finds its channels.
//!
//! Pairing a PCI function with its vGPU channel is a lookup by GUID across
//! two buses (protocol §2.4), in either arrival order. The driver core has
//! no cross-bus lookup an out-of-tree driver can use, so bound channel
//! devices enter themselves here while bound. The directory is an index,
//! not an owner: each entry is owned by its channel device (which holds the
//! per-VM object for the VM-level channel), and leaves when it unbinds.
//!
//! The directory also holds the module's workqueue, on which a channel
//! whose host stopped answering unbinds its adapters ([`lost`]): that
//! cannot happen in the timed-out request itself, which runs inside a DRM
//! ioctl that the unplug would wait for.
//!
//! Lock order: [`DIRECTORY`] before an entry's claim lock; no host request
//! is ever made with either held.

use kernel::{
    new_mutex, pci,
    prelude::*,
    sync::{aref::ARef, Arc, Mutex},
};

use crate::host::vm::Vm;
use crate::proto::{Guid, Luid};
use crate::sys;
use crate::vmbus::channel::{Channel, ChannelKind};

/// The module's workqueue, set while [`DirectoryStorage`] lives.
pub(crate) struct WqPtr(*mut kernel::bindings::workqueue_struct);

// SAFETY: a workqueue may be used from any thread.
unsafe impl Send for WqPtr {}

/// What the directory lock protects.
pub(crate) struct Directory {
    entries: KVec<Arc<Entry>>,
    wq: WqPtr,
}

kernel::sync::global_lock! {
    // SAFETY: `init()` is called in module init before any driver that
    // uses the directory is registered.
    /// Protects the list of bound channel devices and the workqueue.
    pub(crate) unsafe(uninit) static DIRECTORY: Mutex<Directory> = Directory {
        entries: KVec::new(),
        wq: WqPtr(core::ptr::null_mut()),
    };
}

/// The directory's storage and workqueue: the module owns one and drops
/// it after its drivers are unregistered (the directory is empty then,
/// but its vector may still hold capacity, and deferred unbinds may still
/// be queued: destroying the workqueue runs them first).
pub(crate) struct DirectoryStorage;

impl DirectoryStorage {
    /// Allocate the workqueue. Call after `DIRECTORY.init()`.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: no preconditions.
        let wq = unsafe { sys::dxg_wq_alloc() };
        if wq.is_null() {
            return Err(ENOMEM);
        }
        DIRECTORY.lock().wq = WqPtr(wq);
        Ok(Self)
    }
}

impl Drop for DirectoryStorage {
    fn drop(&mut self) {
        let (v, wq) = {
            let mut d = DIRECTORY.lock();
            let wq = core::mem::replace(&mut d.wq, WqPtr(core::ptr::null_mut()));
            (core::mem::take(&mut d.entries), wq)
        };
        drop(v);
        // SAFETY: allocated in `new()`, no longer reachable through the
        // directory; destroy_workqueue() runs what is still queued.
        unsafe { sys::dxg_wq_destroy(wq.0) };
    }
}

/// A bound channel device, as the directory knows it.
#[pin_data]
pub(crate) struct Entry {
    kind: ChannelKind,
    instance: Guid,
    vgpu_luid: Luid,
    channel: Arc<Channel>,
    vm: Option<Arc<Vm>>,
    /// Protects who uses this vGPU channel.
    #[pin]
    claim: Mutex<Claim>,
}

/// Who uses a vGPU channel.
struct Claim {
    /// The PCI function whose adapter uses the channel, if any.
    user: Option<ARef<pci::Device>>,
    /// The channel device left: nobody may claim it any more.
    gone: bool,
}

impl Entry {
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
            entry: self.clone(),
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
}

/// A vGPU channel used by a PCI function ([`Entry::claim`]); dropping it
/// gives the claim up: on every failure of the function's probe after
/// the claim, and when its adapter goes.
pub(crate) struct ChannelClaim<'a> {
    entry: Arc<Entry>,
    pdev: &'a pci::Device,
}

impl Drop for ChannelClaim<'_> {
    fn drop(&mut self) {
        self.entry.unclaim(self.pdev);
    }
}

/// Enter a newly bound channel device.
pub(crate) fn enter(
    kind: ChannelKind,
    instance: Guid,
    vgpu_luid: Luid,
    channel: Arc<Channel>,
    vm: Option<Arc<Vm>>,
) -> Result<Arc<Entry>> {
    let entry = Arc::pin_init(
        pin_init!(Entry {
            kind,
            instance,
            vgpu_luid,
            channel,
            vm,
            claim <- new_mutex!(Claim { user: None, gone: false }, "dxg_channel_claim"),
        }),
        GFP_KERNEL,
    )?;
    let mut dir = DIRECTORY.lock();
    // One VM-level channel per VM; one device per vGPU instance.
    let dup = dir
        .entries
        .iter()
        .any(|e| e.kind == kind && (kind == ChannelKind::Vm || e.instance == instance));
    if dup {
        pr_warn!(
            "second offer of a {:?} channel {} refused\n",
            kind,
            crate::GuidText::new(&instance).as_str()
        );
        return Err(EEXIST);
    }
    dir.entries.push(entry.clone(), GFP_KERNEL)?;
    Ok(entry)
}

/// Remove an unbinding channel device, and unbind the adapter that used
/// it: an adapter exists only while its channel does. The function is
/// probed again right away, and waits (deferred) for a new offer.
pub(crate) fn leave(entry: &Arc<Entry>) {
    DIRECTORY.lock().entries.retain(|e| !Arc::ptr_eq(e, entry));
    let user = {
        let mut c = entry.claim.lock();
        c.gone = true;
        c.user.take()
    };
    if let Some(pdev) = user {
        reprobe(&pdev, "channel rescind");
    }
}

/// Unbind `pdev`'s adapter and probe the function again (it then waits,
/// deferred, for a live channel).
fn reprobe(pdev: &pci::Device, why: &str) {
    let dev: &kernel::device::Device = pdev.as_ref();
    let raw = sys::util::raw_device(dev);
    // SAFETY: the caller holds a reference to the device; device_reprobe()
    // takes the device lock itself. The callers hold no lock: a channel
    // device's unbind holds only the channel device's lock, which no PCI
    // probe or remove of ours takes; the workqueue holds none.
    let ret = unsafe { kernel::bindings::device_reprobe(raw) };
    if ret != 0 {
        dev_warn!(dev, "reprobe after {} failed: {}\n", why, ret);
    }
}

/// The host stopped answering on `channel` (it is dead already): unbind,
/// from the module's workqueue, the adapter that uses it — or every
/// adapter, for the VM-level channel — so their DRM devices are unplugged.
/// The [`LostHook`](crate::vmbus::channel::LostHook) of every bound
/// channel.
pub(crate) fn lost(channel: &Channel) {
    let d = DIRECTORY.lock();
    let Some(entry) = d
        .entries
        .iter()
        .find(|e| core::ptr::eq(&**e.channel(), channel))
    else {
        return;
    };
    let mut users = KVec::new();
    for e in d.entries.iter() {
        if entry.kind == ChannelKind::Vgpu && !Arc::ptr_eq(e, entry) {
            continue;
        }
        if let Some(u) = e.claim.lock().user.clone() {
            if users.push(u, GFP_KERNEL).is_err() {
                pr_warn!("out of memory: an adapter of a lost host stays bound\n");
            }
        }
    }
    if users.is_empty() || d.wq.0.is_null() {
        return;
    }
    // SAFETY: the workqueue lives until `DirectoryStorage` drops, which
    // takes it out of the directory under the lock we hold.
    let wq = unsafe { kernel::workqueue::Queue::from_raw(d.wq.0) };
    let r = wq.try_spawn(GFP_KERNEL, move || {
        for u in users.iter() {
            reprobe(u, "host timeout");
        }
    });
    if r.is_err() {
        pr_warn!("out of memory: adapters of a lost host stay bound\n");
    }
}

/// The VM object, if the VM-level channel is bound.
pub(crate) fn vm() -> Option<Arc<Vm>> {
    DIRECTORY
        .lock()
        .entries
        .iter()
        .find(|e| e.kind == ChannelKind::Vm)
        .and_then(|e| e.vm.clone())
}

/// The bound vGPU channel whose channel LUID (the first 8 bytes of its
/// instance GUID, protocol §2.4) is `key`.
pub(crate) fn vgpu(key: Luid) -> Option<Arc<Entry>> {
    DIRECTORY
        .lock()
        .entries
        .iter()
        .find(|e| e.kind == ChannelKind::Vgpu && Luid::from_guid(&e.instance) == key)
        .cloned()
}
