// SPDX-License-Identifier: GPL-2.0

//! The VMBus link: dxg's transport on a real Hyper-V host.
//!
//! On Hyper-V the host offers the VM-level channel and one channel per
//! vGPU as VMBus devices (class GUIDs: HV_GPUP_DXGK_GLOBAL_GUID and
//! HV_GPUP_DXGK_VGPU_GUID in dxgkrnl dxgmodule.c, dxg_vmbus_id_table); the
//! VMBus driver that binds them is `bind/hv.rs`. This file is the link below the
//! channel seam: [`HvLink`] moves the bytes of one open channel
//! ([`OpenChannel`]): packets go out with `vmbus_sendpacket()`, and the
//! channel callback drains the ring with `vmbus_recvpacket_raw()` into
//! `Channel::receive`, the one receive path both transports share.
//! [`HvMmio`] is the IO space reserved from the VMBus MMIO range. The C
//! glue is `vmbus/hv_helpers.c`.
//!
//! The link reaches its device only through a revocable
//! ([`SrcuRevocable`]), which the device's remove revokes before it closes
//! the channel ([`OpenChannel`]'s drop): a request racing the remove
//! either finishes its send, receive or GPADL call before the ring goes,
//! or fails with `ENODEV`. The link itself may outlive the device (a GEM
//! object's GPADL holds it) and then never touches it again.
//!
//! Shaped to move into rust/kernel as a VMBus abstraction: the raw channel
//! API is confined to this file (and the driver's to `bind/hv.rs`), and
//! [`HvDevice`] is a borrowed `hv_device`.
//!
//! Lock order: an access to [`HvLink::dev`] (an SRCU read section, which
//! the remove waits for) is taken before [`HvLink::gpadls`], never while
//! holding it; [`HvLink::target`], [`HvLink::gpadls`] and [`HvLink::rx`]
//! are leaves. Only the GPADL calls sleep with an access held, for the
//! VMBus host's answer (which the host's VMBus gives itself; a rescind
//! fails them), and they hold no lock across that wait.

use core::ptr::NonNull;

use kernel::{
    new_mutex, new_spinlock, new_spinlock_irq,
    prelude::*,
    sync::{atomic::Atomic, Arc, Mutex, SpinLock, SpinLockIrq},
    types::ScopeGuard,
};

use crate::proto::{
    consts::{MAX_MESSAGE_SIZE, RING_SIZE},
    Guid,
};
use crate::sys::{self, revocable::SrcuRevocable};
use crate::vmbus::{
    channel::{host_warn, PacketSource, Target, DRAIN_BUDGET},
    memory::PageRefs,
};

/// Largest packet the receive buffer takes: a VMBus packet descriptor and
/// the largest message (DXG_MAX_VM_BUS_PACKET_SIZE in dxgkrnl dxgvmbus.h),
/// padded.
const RX_BUFFER: usize = 128 * 1024 + 64;

// The VMBus core copies at most `max_pkt_size` (MAX_MESSAGE_SIZE) bytes of
// a packet out of the ring and clamps its length to that: a longer packet
// is consumed as a truncated one (which the channel rejects and counts),
// never left in the ring. `vmbus_recvpacket_raw()` returns ENOBUFS, without
// consuming the packet, only for a buffer shorter than that copy, which
// this rules out.
const _: () = assert!(RX_BUFFER >= MAX_MESSAGE_SIZE);

/// A `struct hv_device` that is bound to dxg (between probe and remove).
///
/// Copies live in the probe, in the [`OpenChannel`] that the remove drops,
/// and behind the revocable of the [`HvLink`], which the remove revokes.
///
/// # Invariants
///
/// `self.0` is a valid `hv_device` for the lifetime of the object.
#[derive(Clone, Copy)]
pub(crate) struct HvDevice(NonNull<sys::hv_device>);

// SAFETY: the VMBus core keeps a bound device alive until remove returns;
// its API may be called from any thread.
unsafe impl Send for HvDevice {}
// SAFETY: see above.
unsafe impl Sync for HvDevice {}

impl HvDevice {
    /// The device `hdev` of a VMBus probe.
    ///
    /// # Safety
    ///
    /// `hdev` is valid for the lifetime of the returned object (the VMBus
    /// core keeps a device valid from probe until remove returns).
    pub(crate) unsafe fn from_raw(hdev: NonNull<sys::hv_device>) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self(hdev)
    }

    /// The raw `hv_device`.
    pub(crate) fn as_ptr(&self) -> *mut sys::hv_device {
        self.0.as_ptr()
    }

    /// The generic device, for log messages.
    pub(crate) fn dev(&self) -> &kernel::device::Device {
        // SAFETY: the embedded `struct device` is valid as long as `self`
        // (type invariant).
        unsafe { kernel::device::Device::from_raw(sys::dxg_hv_device(self.as_ptr())) }
    }

    /// The channel instance GUID.
    pub(crate) fn instance(&self) -> Guid {
        let mut g = [0u8; 16];
        // SAFETY: valid device; `g` has room for 16 bytes.
        unsafe { sys::dxg_hv_instance(self.as_ptr(), g.as_mut_ptr()) };
        Guid(g)
    }

    /// The size of the IO space the offer asks for (VM-level channel).
    pub(crate) fn mmio_size(&self) -> u64 {
        // SAFETY: valid device.
        unsafe { sys::dxg_hv_mmio_size(self.as_ptr()) }
    }
}

/// The IO space: MMIO the guest reserves for the host (VM-level channel).
///
/// # Invariants
///
/// `[start, start + len)` was allocated with `vmbus_allocate_mmio()` and is
/// mapped write-back at `vaddr`; both are released on drop.
pub(crate) struct HvMmio {
    start: u64,
    len: usize,
    vaddr: NonNull<u8>,
}

// SAFETY: a mapping of memory the host writes; accessed only through
// volatile 64-bit reads.
unsafe impl Send for HvMmio {}
// SAFETY: see above.
unsafe impl Sync for HvMmio {}

impl HvMmio {
    /// Reserve and map `len` bytes from the VMBus MMIO range for `dev`.
    pub(crate) fn new(dev: HvDevice, len: u64) -> Result<Self> {
        let mut start = 0u64;
        let mut vaddr: *mut core::ffi::c_void = core::ptr::null_mut();
        // SAFETY: valid device; the out pointers are valid.
        kernel::error::to_result(unsafe {
            sys::dxg_hv_mmio_alloc(dev.as_ptr(), len, &mut start, &mut vaddr)
        })?;
        let vaddr = NonNull::new(vaddr.cast::<u8>()).ok_or(ENOMEM)?;
        // INVARIANT: allocated and mapped just above.
        Ok(Self {
            start,
            len: usize::try_from(len).map_err(|_| E2BIG)?,
            vaddr,
        })
    }

    /// Guest-physical start (what SETIOSPACEREGION registers).
    pub(crate) fn start(&self) -> u64 {
        self.start
    }

    /// Length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The kernel mapping.
    pub(crate) fn vaddr(&self) -> NonNull<u8> {
        self.vaddr
    }
}

impl Drop for HvMmio {
    fn drop(&mut self) {
        // SAFETY: allocated and mapped in `new` (type invariant).
        unsafe { sys::dxg_hv_mmio_free(self.start, self.len as u64, self.vaddr.as_ptr().cast()) };
    }
}

/// A GPADL on a VMBus channel: the pages, their contiguous kernel mapping
/// (what `vmbus_establish_gpadl()` takes) and the VMBus bookkeeping.
struct HvGpadl {
    id: u32,
    raw: NonNull<sys::vmbus_gpadl>,
    vaddr: NonNull<core::ffi::c_void>,
    _pages: Arc<PageRefs>,
}

// SAFETY: owned allocations, used under `HvLink::gpadls`.
unsafe impl Send for HvGpadl {}

/// Tear down `g`, a GPADL of `dev`'s channel, and unmap its pages.
///
/// The caller has an access to `dev` (or is its remove, which owns it),
/// and `g` is in no list any more. If the teardown fails, the host may
/// still reach the pages: they are leaked (mapping, page references and
/// the GPADL record), never freed, as netvsc does with its buffers; the
/// first [`MAX_COMPLAINTS`](crate::vmbus::channel::MAX_COMPLAINTS) of a
/// link are logged (`link`'s counter).
fn teardown(link: &HvLink, dev: &HvDevice, g: HvGpadl) {
    // SAFETY: `g.raw` is a GPADL of `dev`'s channel, torn down once (the
    // caller took it out of the list, or never put it there); `dev` is
    // valid (see above).
    let r = unsafe { sys::dxg_hv_gpadl_teardown(dev.as_ptr(), g.raw.as_ptr()) };
    if r != 0 {
        host_warn!(
            link,
            "GPADL {:#x}: teardown failed ({}); leaking its {} pages\n",
            g.id,
            r,
            g._pages.len()
        );
        core::mem::forget(g);
        return;
    }
    // SAFETY: the host cannot reach the pages any more, so the mapping
    // made at establish time can go.
    unsafe { sys::dxg_vunmap(g.vaddr.as_ptr()) };
}

/// The VMBus link of one open channel.
///
/// # Invariants
///
/// While [`HvLink::dev`] is not revoked, the device's channel is open,
/// with this link as the context of its channel callback.
#[pin_data]
pub(crate) struct HvLink {
    /// The device: every use holds an access. Revoked by [`OpenChannel`]'s
    /// drop, in the device's remove, before the channel closes.
    #[pin]
    dev: SrcuRevocable<HvDevice>,
    /// Protects the bound channel (set by `BoundChannel::bind`, cleared
    /// by its drop); read by the channel callback.
    #[pin]
    target: SpinLockIrq<Option<Target>>,
    /// Protects the receive buffer; the channel callback is serialised per
    /// channel, so this lock is never contended.
    #[pin]
    rx: SpinLock<KVec<u8>>,
    /// Protects the established GPADLs; `None` once the channel closed.
    #[pin]
    gpadls: Mutex<Option<KVec<HvGpadl>>>,
    /// Complaints logged so far (receive errors, failed GPADL teardowns),
    /// see [`host_warn`].
    complaints: Atomic<u32>,
}

impl HvLink {
    /// Open `dev`'s channel (its ring), delivering to the returned link.
    /// The channel stays open until the returned [`OpenChannel`] drops,
    /// which `dev`'s remove must do.
    pub(crate) fn open(dev: HvDevice) -> Result<(Arc<Self>, OpenChannel)> {
        let ring = u32::try_from(RING_SIZE).map_err(|_| EINVAL)?;
        // The largest message of the protocol (dxgkrnl's
        // DXG_MAX_VM_BUS_PACKET_SIZE): without it Linux reads at most 4 KiB
        // of each packet.
        let max_pkt = u32::try_from(MAX_MESSAGE_SIZE).map_err(|_| EINVAL)?;
        let link = Arc::pin_init(
            try_pin_init!(HvLink {
                dev <- SrcuRevocable::new(dev),
                target <- new_spinlock_irq!(None, "dxg_hv_target"),
                rx <- new_spinlock!(KVec::with_capacity(RX_BUFFER, GFP_KERNEL)?, "dxg_hv_rx"),
                gpadls <- new_mutex!(Some(KVec::new()), "dxg_hv_gpadls"),
                complaints: Atomic::new(0),
            }),
            GFP_KERNEL,
        )?;
        let ctx = Arc::as_ptr(&link).cast_mut().cast::<core::ffi::c_void>();
        // SAFETY: valid device; `ctx` stays valid while the channel is open
        // (the `OpenChannel` holds the link and closes first).
        kernel::error::to_result(unsafe {
            sys::dxg_hv_open(dev.as_ptr(), ring, max_pkt, Some(channel_callback), ctx)
        })?;
        // INVARIANT: opened just above, with `link` as the callback
        // context; only this `OpenChannel`'s drop revokes `link.dev`, right
        // before it closes the channel.
        let open = OpenChannel {
            link: link.clone(),
            dev,
        };
        Ok((link, open))
    }

    /// Queue one packet on the ring; `ENODEV` once the device is removed.
    pub(crate) fn send(&self, payload: &[u8], trans_id: u64, completion: bool) -> Result {
        let len = u32::try_from(payload.len()).map_err(|_| E2BIG)?;
        let dev = self.dev.try_access().ok_or(ENODEV)?;
        // SAFETY: `dev` is not revoked, so its channel is open (type
        // invariant) while the access lives; `payload` is readable for
        // `len` bytes (the VMBus core copies it into the ring).
        kernel::error::to_result(unsafe {
            sys::dxg_hv_send(
                dev.as_ptr(),
                payload.as_ptr().cast(),
                len,
                trans_id,
                completion,
            )
        })
    }

    /// Bind the channel that handles this link's host packets.
    pub(crate) fn attach(&self, target: Target) {
        *self.target.lock() = Some(target);
    }

    /// Unbind it.
    pub(crate) fn detach(&self) {
        let t = self.target.lock().take();
        drop(t);
    }

    /// Establish a GPADL over `pages`; `ENODEV` once the device is
    /// removed. Sleeps for the VMBus host's answer.
    pub(crate) fn gpadl_establish(&self, pages: Arc<PageRefs>) -> Result<u32> {
        // Held across the wait for the host; the remove waits for it.
        let dev = self.dev.try_access().ok_or(ENODEV)?;
        let mut raw = KVec::with_capacity(pages.len(), GFP_KERNEL)?;
        for p in pages.pages() {
            raw.push(p, GFP_KERNEL)?;
        }
        let count = u32::try_from(pages.len()).map_err(|_| E2BIG)?;
        let size = count
            .checked_mul(kernel::page::PAGE_SIZE as u32)
            .ok_or(E2BIG)?;
        // SAFETY: `raw` holds `count` pages referenced by `pages`, which
        // the GPADL keeps until the mapping is gone.
        let vaddr = unsafe { sys::dxg_vmap_pages(raw.as_mut_ptr(), count) };
        let vaddr = NonNull::new(vaddr).ok_or(ENOMEM)?;
        // Until the host knows the pages, failing only unmaps them.
        let mapped = ScopeGuard::new(|| {
            // SAFETY: mapped just above, not shared with the host.
            unsafe { sys::dxg_vunmap(vaddr.as_ptr()) };
        });
        // SAFETY: `dev` is not revoked, so its channel is open (type
        // invariant); `vaddr` maps `size` bytes.
        let gp = unsafe { sys::dxg_hv_gpadl_establish(dev.as_ptr(), vaddr.as_ptr(), size) };
        let gp = kernel::error::from_err_ptr(gp).and_then(|p| NonNull::new(p).ok_or(ENOMEM))?;
        mapped.dismiss();
        // SAFETY: `gp` is a live GPADL.
        let id = unsafe { sys::dxg_hv_gpadl_handle(gp.as_ptr()) };
        // From here on, failing tears the GPADL down again.
        let gpadl = ScopeGuard::new_with_data(
            HvGpadl {
                id,
                raw: gp,
                vaddr,
                _pages: pages,
            },
            |g| teardown(self, &dev, g),
        );
        let mut g = self.gpadls.lock();
        // Not closed yet: the close comes after the revocation, which waits
        // for the access held here.
        let list = Option::as_mut(&mut *g).ok_or(ENODEV)?;
        list.reserve(1, GFP_KERNEL)?;
        // Cannot fail: room was reserved just above, under the same lock.
        list.push(gpadl.dismiss(), GFP_KERNEL)?;
        Ok(id)
    }

    /// Tear down GPADL `id`; nothing once the device is removed (its
    /// remove tore every GPADL down). Sleeps for the VMBus host's answer.
    pub(crate) fn gpadl_teardown(&self, id: u32) {
        let Some(dev) = self.dev.try_access() else {
            return;
        };
        let g = {
            let mut g = self.gpadls.lock();
            let Some(list) = Option::as_mut(&mut *g) else {
                return;
            };
            match list.iter().position(|x| x.id == id) {
                Some(i) => list.remove(i).ok(),
                None => None,
            }
        };
        if let Some(g) = g {
            teardown(self, &dev, g);
        }
    }

    /// Drain the ring into the bound channel (the channel callback).
    fn drain(&self) {
        let target = self.target.lock().clone();
        let mut buf = self.rx.lock();
        let Some(target) = target else {
            // Not bound (yet, or any more): read and drop, within the same
            // budget as a bound channel.
            for _ in 0..DRAIN_BUDGET {
                buf.clear();
                if !matches!(self.next(&mut buf), Ok(Some(_))) {
                    break;
                }
            }
            return;
        };
        // Malformed packets were logged (rate-limited) by the channel.
        let _ = target.drain(self, &mut buf);
    }
}

impl PacketSource for HvLink {
    /// `ENODEV` once the device is removed.
    fn next<'a>(&'a self, buf: &'a mut KVec<u8>) -> Result<Option<&'a [u8]>> {
        let mut actual = 0u32;
        let cap = u32::try_from(buf.capacity()).unwrap_or(u32::MAX);
        let r = {
            let dev = self.dev.try_access().ok_or(ENODEV)?;
            // SAFETY: `dev` is not revoked, so its channel is open (type
            // invariant); `buf` has `cap` bytes of capacity, and the VMBus
            // core writes at most that many.
            unsafe { sys::dxg_hv_recv(dev.as_ptr(), buf.as_mut_ptr().cast(), cap, &mut actual) }
        };
        if r != 0 {
            host_warn!(self, "VMBus receive failed: {}\n", r);
            return Err(Error::from_errno(r));
        }
        if actual == 0 {
            return Ok(None);
        }
        let n = (actual as usize).min(buf.capacity());
        // SAFETY: the VMBus core initialised the first `n` bytes.
        unsafe { buf.inc_len(n) };
        Ok(Some(&buf[..]))
    }
}

/// The channel callback (softirq context).
///
/// # Safety
///
/// `context` is the context the channel was opened with, an [`HvLink`]
/// that outlives the open channel.
unsafe extern "C" fn channel_callback(context: *mut core::ffi::c_void) {
    // SAFETY: `context` is the `HvLink` the channel was opened with; the
    // link outlives the open channel (it is closed before the link drops).
    let link = unsafe { &*context.cast::<HvLink>() };
    link.drain();
}

/// An open VMBus channel, closed on drop; the device's remove drops it.
///
/// # Invariants
///
/// The channel of `dev`, `link`'s device, is open, with `link` as the
/// context of its channel callback; `dev` stays valid until this drops.
pub(crate) struct OpenChannel {
    link: Arc<HvLink>,
    dev: HvDevice,
}

impl Drop for OpenChannel {
    fn drop(&mut self) {
        // No send, receive or GPADL call reaches the device from now on,
        // and those in progress are done once this returns.
        self.link.dev.revoke();
        // SAFETY: the channel is open (type invariant), and this is its one
        // `OpenChannel` (`vmbus_open()` refuses an open channel), so it is
        // closed once.
        unsafe { sys::dxg_hv_close(self.dev.as_ptr()) };
        // The host is gone: no GPADL may outlive the channel. (No new one
        // can appear: establishing one needs an access to the device.)
        let list = self.link.gpadls.lock().take();
        for g in list.into_iter().flatten() {
            teardown(&self.link, &self.dev, g);
        }
    }
}
