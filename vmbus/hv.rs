// SPDX-License-Identifier: GPL-2.0

//! The VMBus link: dxg's transport on a real Hyper-V host.
//!
//! On Hyper-V the host offers the VM-level channel and one channel per
//! vGPU as VMBus devices (class GUIDs in protocol §2.1); the VMBus driver
//! that binds them is `bind/hv.rs`. This file is the link below the
//! channel seam: [`HvLink`] moves the bytes of one open channel
//! ([`OpenChannel`]): packets go out with `vmbus_sendpacket()`, and the
//! channel callback drains the ring with `vmbus_recvpacket_raw()` into
//! `Channel::receive`, the one receive path both transports share.
//! [`HvMmio`] is the IO space reserved from the VMBus MMIO range. The C
//! glue is `vmbus/hv_helpers.c`.
//!
//! Shaped to move into rust/kernel as a VMBus abstraction: the raw channel
//! API is confined to this file (and the driver's to `bind/hv.rs`), and
//! [`HvDevice`] is a borrowed `hv_device`.
//!
//! Lock order: [`HvLink::target`], [`HvLink::gpadls`] and [`HvLink::rx`]
//! are leaves.

use core::ptr::NonNull;

use kernel::{
    new_mutex, new_spinlock, new_spinlock_irq,
    prelude::*,
    sync::{Arc, Mutex, SpinLock, SpinLockIrq},
};

use crate::proto::{consts::RING_SIZE, Guid};
use crate::sys;
use crate::vmbus::{
    channel::{PacketSource, Target},
    memory::PageRefs,
};

/// Largest packet the receive buffer takes: a VMBus packet descriptor and
/// the largest message (protocol §4.1), padded.
const RX_BUFFER: usize = 128 * 1024 + 64;

/// A `struct hv_device` that is bound to dxg (between probe and remove).
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

/// The VMBus link of one open channel.
#[pin_data]
pub(crate) struct HvLink {
    dev: HvDevice,
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
}

impl HvLink {
    /// The link of `dev`'s channel, not open yet.
    pub(crate) fn new(dev: HvDevice) -> Result<Arc<Self>> {
        Arc::pin_init(
            try_pin_init!(HvLink {
                dev,
                target <- new_spinlock_irq!(None, "dxg_hv_target"),
                rx <- new_spinlock!(KVec::with_capacity(RX_BUFFER, GFP_KERNEL)?, "dxg_hv_rx"),
                gpadls <- new_mutex!(Some(KVec::new()), "dxg_hv_gpadls"),
            }),
            GFP_KERNEL,
        )
    }

    /// Open the channel (its ring), delivering to `link`; it stays open
    /// until the returned [`OpenChannel`] drops.
    pub(crate) fn open(link: &Arc<Self>) -> Result<OpenChannel> {
        let ring = u32::try_from(RING_SIZE).map_err(|_| EINVAL)?;
        let ctx = Arc::as_ptr(link).cast_mut().cast::<core::ffi::c_void>();
        // SAFETY: valid device; `ctx` stays valid while the channel is open
        // (the `OpenChannel` holds the link and closes first).
        kernel::error::to_result(unsafe {
            sys::dxg_hv_open(link.dev.as_ptr(), ring, Some(channel_callback), ctx)
        })?;
        // INVARIANT: opened just above, with `link` as the callback context.
        Ok(OpenChannel { link: link.clone() })
    }

    /// Queue one packet on the ring.
    pub(crate) fn send(&self, payload: &[u8], trans_id: u64, completion: bool) -> Result {
        let len = u32::try_from(payload.len()).map_err(|_| E2BIG)?;
        // SAFETY: valid open channel; `payload` is readable for `len` bytes
        // (the VMBus core copies it into the ring).
        kernel::error::to_result(unsafe {
            sys::dxg_hv_send(
                self.dev.as_ptr(),
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

    /// Establish a GPADL over `pages`.
    pub(crate) fn gpadl_establish(&self, pages: Arc<PageRefs>) -> Result<u32> {
        let mut g = self.gpadls.lock();
        let list = Option::as_mut(&mut *g).ok_or(ENODEV)?;
        list.reserve(1, GFP_KERNEL)?;
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
        // SAFETY: valid open channel; `vaddr` maps `size` bytes.
        let gp = unsafe { sys::dxg_hv_gpadl_establish(self.dev.as_ptr(), vaddr.as_ptr(), size) };
        let gp = match kernel::error::from_err_ptr(gp).and_then(|p| NonNull::new(p).ok_or(ENOMEM)) {
            Ok(p) => p,
            Err(e) => {
                // SAFETY: mapped just above, not shared with the host.
                unsafe { sys::dxg_vunmap(vaddr.as_ptr()) };
                return Err(e);
            }
        };
        // SAFETY: `gp` is a live GPADL.
        let id = unsafe { sys::dxg_hv_gpadl_handle(gp.as_ptr()) };
        list.push(
            HvGpadl {
                id,
                raw: gp,
                vaddr,
                _pages: pages,
            },
            GFP_KERNEL,
        )?;
        Ok(id)
    }

    /// Tear down GPADL `id` (nothing if the channel already closed).
    pub(crate) fn gpadl_teardown(&self, id: u32) {
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
            self.teardown(g);
        }
    }

    fn teardown(&self, g: HvGpadl) {
        // SAFETY: `g.raw` is a GPADL of this channel, torn down once; the
        // host cannot reach the pages afterwards, so the mapping can go.
        unsafe {
            sys::dxg_hv_gpadl_teardown(self.dev.as_ptr(), g.raw.as_ptr());
            sys::dxg_vunmap(g.vaddr.as_ptr());
        }
    }

    /// Drain the ring into the bound channel (the channel callback).
    fn drain(&self) {
        let target = self.target.lock().clone();
        let mut buf = self.rx.lock();
        let Some(target) = target else {
            // Not bound (yet, or any more): read and drop.
            while let Ok(Some(_)) = self.next(&mut buf) {
                buf.clear();
            }
            return;
        };
        // Malformed packets were logged (rate-limited) by the channel.
        let _ = target.drain(self, &mut buf);
    }
}

impl PacketSource for HvLink {
    fn next<'a>(&'a self, buf: &'a mut KVec<u8>) -> Result<Option<&'a [u8]>> {
        let mut actual = 0u32;
        let cap = u32::try_from(buf.capacity()).unwrap_or(u32::MAX);
        // SAFETY: valid open channel; `buf` has `cap` bytes of capacity,
        // and the VMBus core writes at most that many.
        let r = unsafe {
            sys::dxg_hv_recv(self.dev.as_ptr(), buf.as_mut_ptr().cast(), cap, &mut actual)
        };
        if r != 0 {
            pr_warn!("VMBus receive failed: {}\n", r);
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
/// `context` is the `HvLink` the channel was opened with, and the channel
/// is still open (`vmbus_close()` waits for a running callback).
unsafe extern "C" fn channel_callback(context: *mut core::ffi::c_void) {
    // SAFETY: `context` is the `HvLink` the channel was opened with; the
    // link outlives the open channel (it is closed before the link drops).
    let link = unsafe { &*context.cast::<HvLink>() };
    link.drain();
}

/// An open VMBus channel, closed on drop.
///
/// # Invariants
///
/// The channel of `link`'s device is open, with `link` as the context of
/// its channel callback.
pub(crate) struct OpenChannel {
    link: Arc<HvLink>,
}

impl Drop for OpenChannel {
    fn drop(&mut self) {
        // SAFETY: the channel is open (type invariant), and this is its one
        // `OpenChannel` (`vmbus_open()` refuses an open channel), so it is
        // closed once.
        unsafe { sys::dxg_hv_close(self.link.dev.as_ptr()) };
        // The host is gone: no GPADL may outlive the channel.
        let list = self.link.gpadls.lock().take();
        for g in list.into_iter().flatten() {
            self.link.teardown(g);
        }
    }
}
