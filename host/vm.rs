// SPDX-License-Identifier: GPL-2.0

//! The per-VM object.
//!
//! Hyper-V keeps some protocol state VM-wide (dxgkrnl keeps it in struct
//! dxgglobal, dxgkrnl.h): the VM-level channel, the IO space, host
//! processes and host-to-guest notifications.
//! dxg keeps it in one [`Vm`], owned by the bound VM-level channel device
//! (`bind/chandev.rs`) — never in module-global state — and shared by the
//! adapters of that VM.
//!
//! Guest events: a CPU wait for a host fence (WAITFORSYNCOBJECTFROMCPU)
//! names a guest event id; the host answers with SIGNALGUESTEVENT on the
//! VM-level channel once the fence values are reached. [`Vm`] hands out the
//! ids and routes each signal to the [`GuestEvent`] registered for it.
//!
//! A context keeps one event for its whole life ([`Vm::reserve_event`],
//! [`Vm::install_event`]): the host signals it each time the context's
//! fence advances.
//!
//! Device health: CREATEDEVICE names a cookie ([`Vm::next_cookie`]); the
//! host's SETGUESTDATA with that cookie marks the device lost
//! ([`DeviceHealth`]).
//!
//! Lock order: [`Vm::io`] is a leaf. [`Vm::events`] is held while a
//! long-lived [`GuestEvent`] is signalled (so removing it waits for the
//! signal and no waiter is freed in the receive path), so
//! `GuestEvent::signal` must not call back into the event table;
//! [`Vm::devices`] likewise while a device is marked lost.

use core::ptr::NonNull;

use kernel::{
    new_mutex, new_spinlock_irq,
    prelude::*,
    sync::{
        atomic::{Atomic, Relaxed},
        Arc, Mutex, SpinLockIrq,
    },
};

use crate::host::{
    health::DeviceHealth,
    request::{call, errno, proto_err},
};
use crate::proto::{
    decode_host_message, decode_status, global::SetIoSpaceRegion, validate::IoSpace as IoRange,
    Framing, HostMessage, Luid,
};
use crate::vmbus::{
    channel::{Channel, Notify},
    hv::HvMmio,
};
#[cfg(dxg_test)]
use crate::vmbus::{loopback, memory::IoPages};

/// Something waiting for a guest event.
pub(crate) trait GuestEvent: Send + Sync {
    /// The host signalled the event (`Ok`), or it will never come (`Err`:
    /// the VM-level channel died or the waiter was cancelled).
    fn signal(&self, result: Result);
}

/// The memory behind the IO space, by transport.
pub(crate) enum IoMem {
    /// Guest pages the loopback host maps (test build).
    #[cfg(dxg_test)]
    Loopback(Arc<IoPages>),
    /// MMIO reserved from the VMBus range, which the Hyper-V host backs.
    Vmbus(Arc<HvMmio>),
}

impl IoMem {
    /// The guest-physical start SETIOSPACEREGION names.
    fn start(&self) -> u64 {
        match self {
            #[cfg(dxg_test)]
            IoMem::Loopback(_) => loopback::IO_SPACE_START,
            IoMem::Vmbus(m) => m.start(),
        }
    }

    /// Length in bytes.
    fn len(&self) -> usize {
        match self {
            #[cfg(dxg_test)]
            IoMem::Loopback(p) => p.len(),
            IoMem::Vmbus(m) => m.len(),
        }
    }

    /// The kernel mapping.
    fn vaddr(&self) -> NonNull<u8> {
        match self {
            #[cfg(dxg_test)]
            IoMem::Loopback(p) => p.vaddr(),
            IoMem::Vmbus(m) => m.vaddr(),
        }
    }
}

/// The IO space once registered with the host.
pub(crate) struct IoSpace {
    range: IoRange,
    mem: Arc<IoMem>,
}

impl IoSpace {
    /// Read the 64-bit value the host keeps at guest-physical `gpa`.
    pub(crate) fn read_u64(&self, gpa: u64) -> Result<u64> {
        let off = gpa.checked_sub(self.range.base()).ok_or(EINVAL)?;
        let end = off.checked_add(8).ok_or(EINVAL)?;
        if off % 8 != 0 || end > self.mem.len() as u64 {
            return Err(EINVAL);
        }
        let p: NonNull<u8> = self.mem.vaddr();
        // SAFETY: `off + 8` is inside the mapping (checked above) and
        // 8-aligned; the host changes the value concurrently, which an
        // aligned volatile 64-bit load observes whole.
        Ok(unsafe { core::ptr::read_volatile(p.as_ptr().add(off as usize).cast::<u64>()) })
    }

    /// The registered range (for validating host replies).
    pub(crate) fn range(&self) -> &IoRange {
        &self.range
    }
}

/// One registered guest event.
struct Event {
    id: u64,
    /// An adapter's [`event_owner`](crate::host::adapter::Adapter::event_owner).
    owner: u64,
    /// `None` while reserved.
    waiter: Option<Arc<dyn GuestEvent>>,
    /// Signalled any number of times, until removed.
    long_lived: bool,
}

/// The registered guest events.
struct Events {
    next: u64,
    list: KVec<Event>,
    /// Owners that are gone: their new events are refused.
    dead_owners: KVec<u64>,
    /// Set when the VM-level channel died: no event will come any more.
    dead: bool,
}

/// The VM-wide state.
#[pin_data]
pub(crate) struct Vm {
    /// The VM-level channel (also in the channel device's binding).
    channel: Arc<Channel>,
    /// The IO space the host offered with the VM-level channel.
    offered_io: Option<Arc<IoMem>>,
    /// Protects the IO space registration (SETIOSPACEREGION, sent once,
    /// by the first adapter's bring-up; held across that request, which
    /// no teardown path waits for: the VM object's removal comes after
    /// its adapters').
    #[pin]
    io: Mutex<Option<Arc<IoSpace>>>,
    /// Protects the guest event table (taken in the receive path).
    #[pin]
    events: SpinLockIrq<Events>,
    /// The next CREATEDEVICE cookie.
    next_cookie: Atomic<u64>,
    /// Protects the health of the VM's host devices (taken in the receive
    /// path).
    #[pin]
    devices: SpinLockIrq<KVec<Arc<DeviceHealth>>>,
}

impl Vm {
    /// The VM object for a newly bound VM-level channel.
    pub(crate) fn new(channel: Arc<Channel>, offered_io: Option<IoMem>) -> Result<Arc<Self>> {
        let offered_io = match offered_io {
            Some(io) => Some(Arc::new(io, GFP_KERNEL)?),
            None => None,
        };
        Arc::pin_init(
            pin_init!(Self {
                channel,
                offered_io,
                io <- new_mutex!(None, "dxg_vm_io"),
                events <- new_spinlock_irq!(
                    Events { next: 1, list: KVec::new(), dead_owners: KVec::new(), dead: false },
                    "dxg_vm_events"
                ),
                next_cookie: Atomic::new(1),
                devices <- new_spinlock_irq!(KVec::new(), "dxg_vm_devices"),
            }),
            GFP_KERNEL,
        )
    }

    /// The VM-level channel.
    pub(crate) fn channel(&self) -> &Arc<Channel> {
        &self.channel
    }

    /// The IO space size the host offered.
    pub(crate) fn mmio_size(&self) -> u64 {
        self.offered_io.as_ref().map_or(0, |io| io.len() as u64)
    }

    /// The IO space, once registered ([`register_io_space`]).
    ///
    /// `ENODEV` if the host offered none (no monitored fences then) or it
    /// is not registered.
    ///
    /// [`register_io_space`]: Self::register_io_space
    pub(crate) fn io_space(&self) -> Result<Arc<IoSpace>> {
        self.io.lock().clone().ok_or(ENODEV)
    }

    /// Register the offered IO space with the host (SETIOSPACEREGION),
    /// framed for interface `version`, unless it is registered already.
    /// The first adapter's bring-up calls it before its OPENADAPTER, as
    /// dxgkrnl sends SETIOSPACEREGION first (dxgmodule.c
    /// dxgglobal_init_global_channel()). `ENODEV` if the host offered none.
    pub(crate) fn register_io_space(&self, version: u32) -> Result<Arc<IoSpace>> {
        let mut io = self.io.lock();
        if let Some(io) = io.as_ref() {
            return Ok(io.clone());
        }
        let mem = self.offered_io.clone().ok_or(ENODEV)?;
        let start = mem.start();
        let len = mem.len() as u64;
        let range = IoRange::new(start, len).map_err(proto_err)?;
        let framing = Framing::new(version, Luid::ZERO);
        let registered = call(
            &self.channel,
            &framing,
            &SetIoSpaceRegion::new(start, len),
            8,
        )
        .and_then(|reply| {
            decode_status(&reply)
                .map_err(proto_err)?
                .check()
                .map_err(errno)
        });
        if let Err(e) = registered {
            // dxgkrnl sends it once, at start-up, and gives up on the host
            // if it fails; whether the host registered the range is
            // unknown, and a second registration is not known to be
            // accepted. So no device can get monitored fences from this
            // host: lose it (its adapters go) rather than keep adapters
            // that fail every device creation. A new VM-level channel (the
            // host's restart) starts afresh.
            if self.channel.dead().is_none() {
                pr_err!(
                    "SETIOSPACEREGION failed ({:?}): declaring the host lost\n",
                    e
                );
                self.channel.declare_lost();
            }
            return Err(e);
        }
        let space = Arc::new(IoSpace { range, mem }, GFP_KERNEL)?;
        *io = Some(space.clone());
        Ok(space)
    }

    /// A CREATEDEVICE cookie no other device of this VM has (never 0).
    pub(crate) fn next_cookie(&self) -> u64 {
        self.next_cookie.fetch_add(1, Relaxed)
    }

    /// Watch `health` for SETGUESTDATA until [`remove_device`](Self::remove_device).
    pub(crate) fn add_device(&self, health: Arc<DeviceHealth>) -> Result {
        self.devices.lock().push(health, GFP_ATOMIC)?;
        Ok(())
    }

    /// Stop watching the device of `cookie`.
    pub(crate) fn remove_device(&self, cookie: u64) {
        let gone = {
            let mut d = self.devices.lock();
            match d.iter().position(|h| h.cookie() == cookie) {
                Some(i) => d.remove(i).ok(),
                None => None,
            }
        };
        drop(gone);
    }

    fn insert_event(
        &self,
        owner: u64,
        waiter: Option<Arc<dyn GuestEvent>>,
        long_lived: bool,
    ) -> Result<u64> {
        let mut e = self.events.lock();
        if e.dead || e.dead_owners.contains(&owner) {
            return Err(ENODEV);
        }
        let id = e.next;
        e.next = id.checked_add(1).ok_or(ENOSPC)?;
        e.list.push(
            Event {
                id,
                owner,
                waiter,
                long_lived,
            },
            GFP_ATOMIC,
        )?;
        Ok(id)
    }

    /// Register `ev` for `owner`, for one signal, and return its event id
    /// (never 0). `ENODEV` once the VM-level channel or the owner is gone.
    pub(crate) fn add_event(&self, owner: u64, ev: Arc<dyn GuestEvent>) -> Result<u64> {
        self.insert_event(owner, Some(ev), false)
    }

    /// Reserve a long-lived event id for `owner`; its waiter comes with
    /// [`install_event`](Self::install_event).
    pub(crate) fn reserve_event(&self, owner: u64) -> Result<u64> {
        self.insert_event(owner, None, true)
    }

    /// Make `ev` the waiter of the reserved event `id`: signalled every
    /// time the host signals `id`, until [`remove_event`](Self::remove_event).
    /// `ENODEV` if the event was failed meanwhile (`ev` is then failed).
    pub(crate) fn install_event(&self, id: u64, ev: Arc<dyn GuestEvent>) -> Result {
        let mut e = self.events.lock();
        match e.list.iter_mut().find(|x| x.id == id) {
            Some(x) => {
                x.waiter = Some(ev);
                Ok(())
            }
            None => {
                drop(e);
                ev.signal(Err(ENODEV));
                Err(ENODEV)
            }
        }
    }

    /// Forget event `id` without signalling it (its wait was never sent,
    /// or its owner is done with it). Once this returns, the waiter is
    /// not being signalled.
    pub(crate) fn remove_event(&self, id: u64) {
        let removed = {
            let mut e = self.events.lock();
            match e.list.iter().position(|x| x.id == id) {
                Some(pos) => e.list.remove(pos).ok(),
                None => None,
            }
        };
        drop(removed);
    }

    /// An owner came back (a re-bound adapter may reuse the address).
    pub(crate) fn revive_owner(&self, owner: u64) {
        self.events.lock().dead_owners.retain(|o| *o != owner);
    }

    /// Fail the registered events of `owner` (`None`: all of them, the
    /// VM-level channel is gone) with `err`, and refuse new ones.
    pub(crate) fn fail_events(&self, owner: Option<u64>, err: Error) {
        let mut failed = KVec::new();
        {
            let mut e = self.events.lock();
            match owner {
                None => {
                    e.dead = true;
                    failed = core::mem::take(&mut e.list);
                }
                Some(o) => {
                    // Under memory pressure the owner may stay unmarked;
                    // its later events then wait for the host as usual.
                    let _ = e.dead_owners.push(o, GFP_ATOMIC);
                    for x in e.list.iter() {
                        if let (true, Some(w)) = (x.owner == o, &x.waiter) {
                            w.signal(Err(err));
                        }
                    }
                    e.list.retain(|x| x.owner != o);
                }
            }
        }
        for x in failed.iter() {
            if let Some(w) = &x.waiter {
                w.signal(Err(err));
            }
        }
    }
}

impl Notify for Vm {
    fn notify(&self, payload: &[u8]) {
        match decode_host_message(payload) {
            Ok(HostMessage::SignalGuestEvent { event, .. }) => {
                let once = {
                    let mut e = self.events.lock();
                    match e.list.iter().position(|x| x.id == event) {
                        Some(pos) => match e.list.get(pos) {
                            Some(Event {
                                long_lived: true,
                                waiter,
                                ..
                            }) => {
                                // Signalled under the lock, see the
                                // lock order above.
                                if let Some(w) = waiter {
                                    w.signal(Ok(()));
                                }
                                return;
                            }
                            _ => e.list.remove(pos).ok(),
                        },
                        None => None,
                    }
                };
                match once.and_then(|x| x.waiter) {
                    Some(w) => w.signal(Ok(())),
                    None => pr_debug!("host signalled unknown guest event {}\n", event),
                }
            }
            Ok(HostMessage::SetGuestData(d)) if d.is_device_state_change() => {
                let cookie = d.guest_pointer.get();
                let d = self.devices.lock();
                match d.iter().find(|h| h.cookie() == cookie) {
                    Some(h) => h.set_lost(),
                    None => pr_debug!("host changed the state of unknown device {:#x}\n", cookie),
                }
            }
            Ok(_) => pr_debug!("host message ignored\n"),
            Err(e) => pr_warn!("bad host message: {}\n", e.as_str()),
        }
    }
}
