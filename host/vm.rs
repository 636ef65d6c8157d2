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
//! Lock order: [`Vm::io`] is a leaf. [`Vm::events`] may be held while a
//! [`GuestEvent`] is signalled, so `GuestEvent::signal` must not call back
//! into the event table.

use core::ptr::NonNull;

use kernel::{
    new_mutex, new_spinlock_irq,
    prelude::*,
    sync::{Arc, Mutex, SpinLockIrq},
};

use crate::host::request::{call, errno, proto_err};
use crate::proto::{
    consts::VERSION, decode_host_message, decode_status, global::SetIoSpaceRegion,
    validate::IoSpace as IoRange, Framing, HostMessage, Luid,
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

/// The registered guest events.
struct Events {
    next: u64,
    /// (event id, owner, waiter); the owner is an adapter's
    /// [`event_owner`](crate::host::adapter::Adapter::event_owner).
    list: KVec<(u64, u64, Arc<dyn GuestEvent>)>,
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
    /// Protects the IO space registration (SETIOSPACEREGION, done once,
    /// on first use).
    #[pin]
    io: Mutex<Option<Arc<IoSpace>>>,
    /// Protects the guest event table (taken in the receive path).
    #[pin]
    events: SpinLockIrq<Events>,
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

    /// The IO space, registered with the host on first use.
    ///
    /// `ENODEV` if the host offered none (no monitored fences then).
    pub(crate) fn io_space(&self) -> Result<Arc<IoSpace>> {
        let mut io = self.io.lock();
        if let Some(io) = io.as_ref() {
            return Ok(io.clone());
        }
        let mem = self.offered_io.clone().ok_or(ENODEV)?;
        let start = mem.start();
        let len = mem.len() as u64;
        let range = IoRange::new(start, len).map_err(proto_err)?;
        let framing = Framing::new(VERSION, Luid::ZERO);
        let reply = call(
            &self.channel,
            &framing,
            &SetIoSpaceRegion::new(start, len),
            8,
        )?;
        decode_status(&reply)
            .map_err(proto_err)?
            .check()
            .map_err(errno)?;
        let space = Arc::new(IoSpace { range, mem }, GFP_KERNEL)?;
        *io = Some(space.clone());
        Ok(space)
    }

    /// Register `ev` for `owner` and return its event id (never 0).
    /// `ENODEV` once the VM-level channel or the owner is gone.
    pub(crate) fn add_event(&self, owner: u64, ev: Arc<dyn GuestEvent>) -> Result<u64> {
        let mut e = self.events.lock();
        if e.dead || e.dead_owners.contains(&owner) {
            return Err(ENODEV);
        }
        let id = e.next;
        e.next = id.checked_add(1).ok_or(ENOSPC)?;
        e.list.push((id, owner, ev), GFP_ATOMIC)?;
        Ok(id)
    }

    /// Forget event `id` without signalling it (its wait was never sent).
    pub(crate) fn remove_event(&self, id: u64) {
        let removed = {
            let mut e = self.events.lock();
            match e.list.iter().position(|(i, _, _)| *i == id) {
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
                    for (_, owner, ev) in e.list.iter() {
                        if *owner == o {
                            ev.signal(Err(err));
                        }
                    }
                    e.list.retain(|x| x.1 != o);
                }
            }
        }
        for (_, _, ev) in failed.iter() {
            ev.signal(Err(err));
        }
    }
}

impl Notify for Vm {
    fn notify(&self, payload: &[u8]) {
        match decode_host_message(payload) {
            Ok(HostMessage::SignalGuestEvent { event, .. }) => {
                let found = {
                    let mut e = self.events.lock();
                    match e.list.iter().position(|(i, _, _)| *i == event) {
                        Some(pos) => e.list.remove(pos).ok(),
                        None => None,
                    }
                };
                match found {
                    Some((_, _, ev)) => ev.signal(Ok(())),
                    None => pr_debug!("host signalled unknown guest event {}\n", event),
                }
            }
            Ok(_) => pr_debug!("host message ignored\n"),
            Err(e) => pr_warn!("bad host message: {}\n", e.as_str()),
        }
    }
}
