// SPDX-License-Identifier: GPL-2.0

//! The loopback transport: the Hyper-V host in a user process.
//!
//! With `loopback=1` the module creates `/dev/dxg-loopback` (mode 0600,
//! and opening it needs `CAP_SYS_ADMIN`). The process that opens it, the
//! host model `dxg-host` in tests, plays the Hyper-V host: it offers and
//! rescinds channels, reads the VMBus packets the driver sends and writes
//! the host's packets back. The contract is `uapi/dxg_loopback.h`.
//!
//! Every offered channel becomes an auxiliary device `dxg.channel.N`
//! ([`ChannelDevice`], made by `vmbus/loopback_helpers.c`), parented on
//! this session's faux device `dxg-loopback` and carrying the channel's
//! [`LoopLink`], which says what was offered. The loopback channel driver
//! (`bind/chandev.rs`) binds it exactly like a VMBus channel device would
//! be bound. Closing the file rescinds everything it offered.
//!
//! Memory the driver shares with the host (GPADLs, the IO space) is mapped
//! by the host process with mmap() on the same file, without a copy. The
//! mappings are filled page by page on fault ([`Session::fault`]), from
//! what is shared at that moment, so a GPADL's teardown can take the pages
//! back: it removes the GPADL, then zaps every host mapping of its range
//! ([`HostMappings::zap`]). Its pages, often a GEM object's shmem pages,
//! are freed or truncated only after that, so the host never keeps a page
//! the driver freed, even a host that is stopped and does not unmap.
//!
//! Lock order: [`Session::inbuf`] first (a host write delivers its packet
//! with it held); [`Session::offers`] before [`Session::out`];
//! [`Session::gpadls`] is a leaf (a fault takes it with the faulting
//! mapping locked; it is never held while zapping); the channel locks (`vmbus/channel.rs`)
//! are never held while taking any of them.

use core::ptr::NonNull;

use kernel::page::PAGE_SIZE;
use kernel::{
    alloc::KVVec,
    bindings, faux,
    fs::{File, Kiocb},
    iov::{IovIterDest, IovIterSource},
    miscdevice::{MiscDevice, MiscDeviceRegistration},
    mm::virt::VmaNew,
    new_condvar, new_mutex, new_spinlock_irq,
    prelude::*,
    sync::{Arc, ArcBorrow, CondVar, Mutex, SpinLockIrq},
    transmute::AsBytes,
    types::ForeignOwnable,
    uaccess::{UserPtr, UserSlice},
};

use crate::proto::{
    consts::RING_SIZE,
    vmbus::{self, PacketType, VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED},
    Guid, Luid,
};
use crate::sys::{self, uapi};
use crate::vmbus::{
    channel::{ChannelKind, PacketSource, Target},
    memory::{IoPages, PageRefs},
};

/// The name of the misc device, `/dev/dxg-loopback`.
pub(crate) const DEVICE_NAME: &CStr = c"dxg-loopback";

/// The name of a session's faux device, the parent of its channel
/// devices (a child of the misc device).
const FAUX_NAME: &CStr = c"dxg-loopback";

/// Largest packet a record may carry.
const MAX_PACKET: usize = uapi::DXG_LOOPBACK_MAX_PACKET as usize;

/// Size of `struct dxg_loopback_record`.
const RECORD_HDR: usize = core::mem::size_of::<uapi::dxg_loopback_record>();

/// The outbound queue holds at most what one VMBus ring would (the ring is
/// per channel; one limit for the session is stricter and simpler).
const MAX_QUEUED: usize = RING_SIZE;

/// The misc device, registered while the module is loaded with
/// `loopback=1`.
pub(crate) type Loopback = MiscDeviceRegistration<Session>;

/// Packets the driver sent and the host did not read yet.
struct OutQueue {
    packets: KVec<(u32, KVec<u8>)>,
    bytes: usize,
    closed: bool,
    /// Buffers of packets the host has read, for the next ones (at most
    /// [`SPARE_BUFFERS`], none larger than [`SPARE_MAX`]): sending a packet
    /// then allocates nothing.
    spare: KVec<KVec<u8>>,
}

/// How many read packet buffers a session keeps for reuse.
const SPARE_BUFFERS: usize = 8;

/// The largest packet buffer a session keeps for reuse.
const SPARE_MAX: usize = 4 * PAGE_SIZE;

/// A loopback channel device `dxg.channel.N`, deleted on drop (the
/// rescind: the device is unbound first).
///
/// # Invariants
///
/// `self.0` was returned by `dxg_loop_channel_add()` and is deleted only
/// by `drop`.
struct ChannelDevice(NonNull<bindings::auxiliary_device>);

// SAFETY: a device may be deleted from any thread; nothing else is done
// with the pointer.
unsafe impl Send for ChannelDevice {}
// SAFETY: `&ChannelDevice` gives access to nothing.
unsafe impl Sync for ChannelDevice {}

impl ChannelDevice {
    /// Add the channel device `dxg.channel.<id>` under `parent`, carrying
    /// `link`. The channel driver may bind it (and probe) right here.
    ///
    /// # Safety
    ///
    /// `parent` stays valid until the returned device is dropped.
    unsafe fn add(parent: &kernel::device::Device, id: u32, link: Arc<LoopLink>) -> Result<Self> {
        let raw = Arc::into_raw(link).cast_mut().cast::<core::ffi::c_void>();
        // SAFETY: `parent` is a valid device that outlives the channel
        // device (the caller's promise); `raw` is a reference to a
        // `LoopLink`, which the device owns from now on, also on failure
        // (its release drops it with `dxg_loop_link_put()`).
        let adev = unsafe { sys::dxg_loop_channel_add(sys::util::raw_device(parent), id, raw) };
        let adev = kernel::error::from_err_ptr(adev)?;
        // INVARIANT: added just above.
        NonNull::new(adev).map(Self).ok_or(ENOMEM)
    }
}

impl Drop for ChannelDevice {
    fn drop(&mut self) {
        // SAFETY: added by `add` and deleted once, here (type invariant).
        unsafe { sys::dxg_loop_channel_del(self.0.as_ptr()) };
    }
}

/// `dxg_loop_link_put()`: the release of a channel device drops the
/// reference to its link (`vmbus/loopback_helpers.c`).
///
/// # Safety
///
/// `link` is a reference to a `LoopLink` made by `Arc::into_raw()` and not
/// used by the caller any more.
#[no_mangle]
pub(crate) unsafe extern "C" fn dxg_loop_link_put(link: *mut core::ffi::c_void) {
    // SAFETY: the caller hands over the reference (see above).
    drop(unsafe { Arc::<LoopLink>::from_raw(link.cast_const().cast()) });
}

/// A channel this session offered.
struct Offered {
    id: u32,
    link: Arc<LoopLink>,
    /// Dropping this deletes the channel device (the rescind).
    _dev: ChannelDevice,
}

/// The channels a session offered.
struct Offers {
    next_id: u32,
    list: KVec<Offered>,
}

/// One open of `/dev/dxg-loopback`: one host.
#[pin_data(PinnedDrop)]
pub(crate) struct Session {
    /// Protects the list of offered channels.
    #[pin]
    offers: Mutex<Offers>,
    /// Protects the packets waiting for the host; [`Session::out_ready`]
    /// signals a new one.
    #[pin]
    out: SpinLockIrq<OutQueue>,
    #[pin]
    out_ready: CondVar,
    /// Protects the buffer the host's packets are written into (one
    /// write at a time; taken only by `write_iter`, before any other lock).
    #[pin]
    inbuf: Mutex<KVVec<u8>>,
    /// Protects the GPADL table; held while a fault maps a GPADL page.
    #[pin]
    gpadls: Mutex<Gpadls>,
    /// The host's mappings of the file.
    mappings: HostMappings,
    /// The parent of the channel devices. Declared last: fields drop in
    /// order, and every channel device must be gone before its parent.
    faux: faux::Registration,
}

#[pinned_drop]
impl PinnedDrop for Session {
    fn drop(self: Pin<&mut Self>) {
        // Normally empty already (release rescinds everything).
        let list = core::mem::take(&mut self.offers.lock().list);
        drop(list);
    }
}

/// The mappings of the open loopback file (those of its inode, whose
/// files this session is the only one to use: one host at a time).
///
/// # Invariants
///
/// `inode` is a valid inode on which this object holds a reference.
struct HostMappings {
    inode: NonNull<bindings::inode>,
}

// SAFETY: an inode reference may be used and dropped from any thread.
unsafe impl Send for HostMappings {}
// SAFETY: `zap` may run concurrently; the page-table code locks itself.
unsafe impl Sync for HostMappings {}

impl HostMappings {
    fn new(file: &File) -> Result<Self> {
        // SAFETY: `file` is an open file; the helper takes a reference on
        // its inode.
        let inode = unsafe { sys::dxg_loop_inode_get(file.as_ptr()) };
        // INVARIANT: a reference was taken.
        Ok(Self {
            inode: NonNull::new(inode).ok_or(EINVAL)?,
        })
    }

    /// Remove every host mapping of file pages `[pgoff, pgoff + count)`;
    /// a later access faults ([`Session::fault`]).
    fn zap(&self, pgoff: usize, count: usize) {
        // SAFETY: `inode` is valid (type invariant).
        unsafe { sys::dxg_loop_zap(self.inode.as_ptr(), pgoff, count) };
    }
}

impl Drop for HostMappings {
    fn drop(&mut self) {
        // SAFETY: the reference is held (type invariant) and dropped once.
        unsafe { sys::dxg_loop_inode_put(self.inode.as_ptr()) };
    }
}

/// `dxg_loop_fault()`: a page fault in a host mapping of the loopback file
/// (`vmbus/loopback_helpers.c`); see [`Session::fault`].
///
/// # Safety
///
/// `session` is the private data of the mapped file, which the mapping
/// keeps open; `vma` is the faulting mapping, locked for the fault, and
/// `addr` lies in it.
#[no_mangle]
pub(crate) unsafe extern "C" fn dxg_loop_fault(
    session: *mut core::ffi::c_void,
    vma: *mut bindings::vm_area_struct,
    addr: usize,
    index: usize,
) -> bindings::vm_fault_reason {
    // SAFETY: the file's private data is its `Arc<Session>`, alive while
    // the file is open (see above).
    let session = unsafe { <Arc<Session> as ForeignOwnable>::borrow(session) };
    // SAFETY: `vma` is locked for the fault (see above).
    let pgoff = unsafe { (*vma).vm_pgoff };
    let insert = |page: *mut bindings::page| {
        // SAFETY: `vma` is a mixed mapping locked for the fault, `addr` is
        // in it and `page` is valid while the caller holds it; the
        // mapping takes its own reference.
        let r = unsafe { bindings::vm_insert_page(vma, addr, page) };
        // As vmf_insert_page() (a static inline) maps the result; EBUSY:
        // another fault mapped it first.
        match r {
            0 => bindings::vm_fault_reason_VM_FAULT_NOPAGE,
            r if r == -(bindings::EBUSY as i32) => bindings::vm_fault_reason_VM_FAULT_NOPAGE,
            r if r == -(bindings::ENOMEM as i32) => bindings::vm_fault_reason_VM_FAULT_OOM,
            _ => bindings::vm_fault_reason_VM_FAULT_SIGBUS,
        }
    };
    session.fault(pgoff, index, insert)
}

impl Session {
    /// Map page `index` of what offset `pgoff` maps, with `insert`, from
    /// what is shared now: the IO space at offset 0, a GPADL's pages at
    /// its handle (under the GPADL table's lock, so that a teardown's zap
    /// comes after the page is mapped, or the GPADL is not found). A page
    /// that is not shared any more faults with `SIGBUS`.
    fn fault(
        &self,
        pgoff: usize,
        index: usize,
        insert: impl FnOnce(*mut bindings::page) -> bindings::vm_fault_reason,
    ) -> bindings::vm_fault_reason {
        if pgoff == 0 {
            let Some(io) = self.io_space() else {
                return bindings::vm_fault_reason_VM_FAULT_SIGBUS;
            };
            return match io.pages().nth(index) {
                Some(page) => insert(page),
                None => bindings::vm_fault_reason_VM_FAULT_SIGBUS,
            };
        }
        let g = self.gpadls.lock();
        let page = u32::try_from(pgoff)
            .ok()
            .and_then(|id| g.list.iter().find(|(i, _)| *i == id))
            .and_then(|(_, p)| p.pages().nth(index));
        match page {
            Some(page) => insert(page),
            None => bindings::vm_fault_reason_VM_FAULT_SIGBUS,
        }
    }

    /// A buffer of `len` zero bytes for a packet: a spare one if one is
    /// large enough.
    fn packet_buffer(&self, len: usize) -> Result<KVec<u8>> {
        let spare = {
            let mut q = self.out.lock();
            match q.spare.iter().position(|b| b.capacity() >= len) {
                Some(i) => q.spare.remove(i).ok(),
                None => None,
            }
        };
        let mut buf = match spare {
            Some(b) => b,
            None => KVec::with_capacity(len, GFP_KERNEL)?,
        };
        buf.clear();
        // Within the capacity: cannot allocate.
        buf.resize(len, 0, GFP_KERNEL)?;
        Ok(buf)
    }

    /// Keep the buffer of a packet the host has read for a later one.
    fn recycle(&self, buf: KVec<u8>) {
        if buf.capacity() > SPARE_MAX {
            return;
        }
        let refused = self.out.lock().spare.push_within_capacity(buf).err();
        drop(refused);
    }

    fn push(&self, channel_id: u32, packet: KVec<u8>) -> Result {
        let mut q = self.out.lock();
        if q.closed {
            return Err(ENODEV);
        }
        let bytes = q.bytes.checked_add(packet.len()).ok_or(EOVERFLOW)?;
        if bytes > MAX_QUEUED {
            return Err(EAGAIN);
        }
        q.packets.push((channel_id, packet), GFP_ATOMIC)?;
        q.bytes = bytes;
        drop(q);
        self.out_ready.notify_all();
        Ok(())
    }

    fn offer(this: ArcBorrow<'_, Session>, arg: usize) -> Result<isize> {
        let size = core::mem::size_of::<uapi::dxg_loopback_offer>();
        let (mut reader, mut writer) =
            UserSlice::new(UserPtr::from_addr(arg), size).reader_writer();
        let mut req: uapi::dxg_loopback_offer = reader.read()?;
        if req.size as usize != size || req.reserved != 0 {
            return Err(EINVAL);
        }
        let kind = match req.kind {
            uapi::DXG_LOOPBACK_CHANNEL_VM => ChannelKind::Vm,
            uapi::DXG_LOOPBACK_CHANNEL_VGPU => ChannelKind::Vgpu,
            _ => return Err(EINVAL),
        };
        if kind == ChannelKind::Vgpu && req.mmio_size != 0 {
            return Err(EINVAL);
        }
        if req.mmio_size > MAX_IO_SPACE || req.mmio_size % PAGE_SIZE as u64 != 0 {
            return Err(EINVAL);
        }
        // The IO space: guest pages the host maps at offset 0.
        let io = match req.mmio_size {
            0 => None,
            n => Some(Arc::new(IoPages::new(n as usize)?, GFP_KERNEL)?),
        };
        let mut offers = this.offers.lock();
        let id = offers.next_id;
        offers.next_id = id.checked_add(1).ok_or(ENOSPC)?;
        let link = Arc::pin_init(
            pin_init!(LoopLink {
                id,
                kind,
                instance: Guid(req.instance),
                vgpu_luid: Luid::from_u64(req.vgpu_luid),
                io,
                session: this.into(),
                target <- new_spinlock_irq!(None, "dxg_loop_target"),
            }),
            GFP_KERNEL,
        )?;
        offers.list.reserve(1, GFP_KERNEL)?;
        // The channel device may bind (and its driver probe) right here.
        // SAFETY: The faux device outlives the channel device: `Offered`
        // values live in `offers`, which is emptied in release() and in
        // the session's drop, both before `faux` (declared last) drops.
        let dev = unsafe { ChannelDevice::add(this.faux.as_ref().as_ref(), id, link.clone())? };
        // Cannot fail: room was reserved above, under the same lock.
        offers.list.push(
            Offered {
                id,
                link,
                _dev: dev,
            },
            GFP_KERNEL,
        )?;
        drop(offers);
        req.channel_id = id;
        writer.write(&req)?;
        Ok(0)
    }

    fn rescind(&self, arg: usize) -> Result<isize> {
        let size = core::mem::size_of::<uapi::dxg_loopback_rescind>();
        let mut reader = UserSlice::new(UserPtr::from_addr(arg), size).reader();
        let req: uapi::dxg_loopback_rescind = reader.read()?;
        if req.reserved != 0 {
            return Err(EINVAL);
        }
        let id = req.channel_id;
        let removed = {
            let mut offers = self.offers.lock();
            let pos = offers.list.iter().position(|o| o.id == id).ok_or(ENOENT)?;
            offers.list.remove(pos).map_err(|_| ENOENT)?
        };
        // Deleting the device unbinds it, outside the session lock.
        drop(removed);
        Ok(0)
    }

    fn link(&self, id: u32) -> Result<Arc<LoopLink>> {
        let offers = self.offers.lock();
        offers
            .list
            .iter()
            .find(|o| o.id == id)
            .map(|o| o.link.clone())
            .ok_or(ENOENT)
    }
}

/// Largest IO space a host may offer (the host model uses 16 MiB).
const MAX_IO_SPACE: u64 = 256 << 20;

/// Where the IO space appears to the host: its "guest-physical" start
/// (SETIOSPACEREGION). The loopback IO space is ordinary guest pages, not
/// MMIO; the host only uses this number to name addresses in it.
pub(crate) const IO_SPACE_START: u64 = 1 << 40;

/// GPADLs established on a session's channels.
struct Gpadls {
    /// The next handle; 0 is never used (offset 0 is the IO space).
    next: u32,
    list: KVec<(u32, Arc<PageRefs>)>,
}

impl Session {
    /// Share `pages` with the host: a new GPADL handle.
    fn gpadl_add(&self, pages: Arc<PageRefs>) -> Result<u32> {
        let mut g = self.gpadls.lock();
        // Handles go up to 2^20: the host maps handle << PAGE_SHIFT, which
        // must fit an off_t of a 32-bit host process too.
        let id = g.next;
        if id >= 1 << 20 {
            return Err(ENOSPC);
        }
        g.list.push((id, pages), GFP_KERNEL)?;
        g.next = id + 1;
        Ok(id)
    }

    /// Tear down GPADL `id`: once this returns, the host maps none of its
    /// pages (a host access faults with `SIGBUS`).
    fn gpadl_remove(&self, id: u32) {
        let removed = {
            let mut g = self.gpadls.lock();
            match g.list.iter().position(|(i, _)| *i == id) {
                Some(pos) => g.list.remove(pos).ok(),
                None => None,
            }
        };
        if let Some((id, pages)) = removed {
            // Faults after the removal find nothing, and those before it
            // mapped their page already. The range may overlap mappings of
            // later GPADLs (handles are consecutive page offsets): those
            // fault their pages in again.
            self.mappings.zap(id as usize, pages.len());
        }
    }

    /// The IO space of this session's VM-level channel, if offered.
    fn io_space(&self) -> Option<Arc<IoPages>> {
        let offers = self.offers.lock();
        offers.list.iter().find_map(|o| o.link.io.clone())
    }
}

/// Set up the host's `vma` over `count` shared pages, from its start:
/// filled on fault ([`Session::fault`]), never copied by fork().
fn setup_mapping(vma: &VmaNew, count: usize) -> Result {
    let len = vma.end() - vma.start();
    if len > count * PAGE_SIZE {
        return Err(EINVAL);
    }
    vma.set_dontexpand();
    vma.set_dontcopy();
    let vma = vma.set_mixedmap();
    // SAFETY: `vma` is being set up by mmap() (mmap lock held); its file
    // is a loopback file, whose private data the fault handler expects.
    unsafe { sys::dxg_loop_vma_init(vma.as_ptr()) };
    Ok(())
}

/// The one packet a loopback host wrote, as a [`PacketSource`].
struct OnePacket<'p>(core::cell::Cell<Option<&'p [u8]>>);

impl PacketSource for OnePacket<'_> {
    fn next<'a>(&'a self, _buf: &'a mut KVec<u8>) -> Result<Option<&'a [u8]>> {
        Ok(self.0.take())
    }
}

/// The link between one offered channel and its session, and what the
/// host offered: the channel device carries it to its driver.
#[pin_data]
pub(crate) struct LoopLink {
    id: u32,
    kind: ChannelKind,
    /// Instance GUID; a vGPU function names its channel by it.
    instance: Guid,
    /// vGPU channels: the vGPU LUID (see `uapi/dxg_loopback.h`).
    vgpu_luid: Luid,
    /// VM-level channel: the IO space the host offered with it.
    io: Option<Arc<IoPages>>,
    session: Arc<Session>,
    /// Protects the bound channel (set by the channel device's probe,
    /// cleared by its removal).
    #[pin]
    target: SpinLockIrq<Option<Target>>,
}

impl LoopLink {
    /// The link of a channel device, as the C probe of the loopback
    /// channel driver gets it (`dxg_loop_channel_link()`).
    ///
    /// # Safety
    ///
    /// `link` is the link of a channel device made by [`Session::offer`],
    /// and that device stays alive for `'a` (it holds the reference).
    pub(crate) unsafe fn from_channel_device<'a>(
        link: *const core::ffi::c_void,
    ) -> ArcBorrow<'a, LoopLink> {
        // SAFETY: `link` came from `Arc::into_raw()` (in `ChannelDevice::add`)
        // and the device keeps that reference for `'a` (see above).
        unsafe { ArcBorrow::from_raw(link.cast()) }
    }

    /// Which kind of channel was offered.
    pub(crate) fn kind(&self) -> ChannelKind {
        self.kind
    }

    /// The instance GUID of the offer.
    pub(crate) fn instance(&self) -> Guid {
        self.instance
    }

    /// The vGPU LUID of a vGPU channel's offer.
    pub(crate) fn vgpu_luid(&self) -> Luid {
        self.vgpu_luid
    }

    /// Queue one packet for the host: what `vmbus_sendpacket()` would put
    /// on the ring (`EAGAIN` when the queue is full).
    pub(crate) fn send(&self, payload: &[u8], trans_id: u64, completion: bool) -> Result {
        let len = vmbus::packet_len(payload.len()).map_err(|_| E2BIG)?;
        let flags = if completion {
            VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED
        } else {
            0
        };
        let mut pkt = self.session.packet_buffer(len)?;
        vmbus::encode_packet(
            &mut pkt,
            PacketType::DataInband,
            flags,
            trans_id,
            payload,
            0,
        )
        .map_err(|_| EINVAL)?;
        self.session.push(self.id, pkt)
    }

    /// The IO space offered with this (VM-level) channel.
    pub(crate) fn io_space(&self) -> Option<Arc<IoPages>> {
        self.io.clone()
    }

    /// Establish a GPADL over `pages`; see [`Session::gpadl_add`].
    pub(crate) fn gpadl_establish(&self, pages: Arc<PageRefs>) -> Result<u32> {
        self.session.gpadl_add(pages)
    }

    /// Tear down GPADL `id`.
    pub(crate) fn gpadl_teardown(&self, id: u32) {
        self.session.gpadl_remove(id)
    }

    /// Bind the channel that handles this link's host packets.
    pub(crate) fn attach(&self, target: Target) {
        *self.target.lock() = Some(target);
    }

    /// Fail everything in flight on the bound channel: the host is gone.
    fn kill(&self) {
        let channel = self.target.lock().as_ref().map(|t| t.channel.clone());
        if let Some(c) = channel {
            c.kill(ENODEV);
        }
    }

    /// Unbind it (channel device removal).
    pub(crate) fn detach(&self) {
        let t = self.target.lock().take();
        drop(t);
    }

    /// A packet from the host: checked as a ring packet (with trailer),
    /// then handed over as a VMBus ring read returns it (without), through
    /// the same drain as the VMBus transport's channel callback.
    fn deliver(&self, packet: &[u8]) -> Result {
        let target = self.target.lock().clone().ok_or(ENOTCONN)?;
        let (_, used) = vmbus::decode_packet(packet).map_err(|_| EINVAL)?;
        if used != packet.len() {
            return Err(EINVAL);
        }
        let body = packet.get(..used - vmbus::TRAILER_SIZE).ok_or(EINVAL)?;
        target.drain(
            &OnePacket(core::cell::Cell::new(Some(body))),
            &mut KVec::new(),
        )
    }
}

#[vtable]
impl MiscDevice for Session {
    type Ptr = Arc<Session>;

    fn open(file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<Arc<Session>> {
        // SAFETY: `capable()` only reads the current task's credentials.
        if !unsafe { kernel::bindings::capable(kernel::bindings::CAP_SYS_ADMIN as i32) } {
            return Err(EPERM);
        }
        // One host at a time: the faux device name is the lock. A second
        // registration of the name would fail only after sysfs warned
        // about the duplicate (with a backtrace), so look first; two opens
        // racing each other can still get there, and the loser then gets
        // EBUSY after that warning.
        // SAFETY: the misc device is registered while its open runs; a
        // child found by name comes with a reference, dropped at once.
        let attached = unsafe {
            let found = bindings::device_find_child(
                crate::sys::util::raw_device(misc.device()),
                FAUX_NAME.as_char_ptr().cast(),
                Some(bindings::device_match_name),
            );
            if !found.is_null() {
                bindings::put_device(found);
            }
            !found.is_null()
        };
        if attached {
            return Err(EBUSY);
        }
        let faux = faux::Registration::new(FAUX_NAME, Some(misc.device())).map_err(|e| {
            if e == EEXIST {
                EBUSY
            } else {
                e
            }
        })?;
        Arc::pin_init(
            try_pin_init!(Session {
                offers <- new_mutex!(Offers { next_id: 0, list: KVec::new() }, "dxg_loop_offers"),
                out <- new_spinlock_irq!(OutQueue {
                    packets: KVec::new(),
                    bytes: 0,
                    closed: false,
                    spare: KVec::with_capacity(SPARE_BUFFERS, GFP_KERNEL)?,
                }, "dxg_loop_out"),
                out_ready <- new_condvar!("dxg_loop_out_ready"),
                inbuf <- new_mutex!(KVVec::from_elem(0u8, MAX_PACKET, GFP_KERNEL)?, "dxg_loop_inbuf"),
                gpadls <- new_mutex!(Gpadls { next: 1, list: KVec::new() }, "dxg_loop_gpadls"),
                mappings: HostMappings::new(file)?,
                faux,
            }),
            GFP_KERNEL,
        )
    }

    fn release(session: Arc<Session>, _file: &File) {
        // GPADLs die with the host; live host mappings keep their pages.
        let gpadls = core::mem::take(&mut session.gpadls.lock().list);
        drop(gpadls);
        session.out.lock().closed = true;
        session.out_ready.notify_all();
        let list = core::mem::take(&mut session.offers.lock().list);
        // The host is gone: fail every request in flight on every channel
        // first. Unbinding an adapter unplugs its DRM device, which waits
        // for all DRM ioctls in progress (the unplug SRCU is global), and
        // those may be waiting on another channel of this host.
        for o in list.iter() {
            o.link.kill();
        }
        // Then rescind everything, outside the lock.
        drop(list);
    }

    fn ioctl(me: ArcBorrow<'_, Session>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            uapi::DXG_LOOPBACK_IOCTL_OFFER => Session::offer(me, arg),
            uapi::DXG_LOOPBACK_IOCTL_RESCIND => me.rescind(arg),
            _ => Err(ENOTTY),
        }
    }

    /// Offset 0 maps the IO space, offset `gpadl << PAGE_SHIFT` a GPADL's
    /// pages, from its first page; shared, never copied.
    fn mmap(me: ArcBorrow<'_, Session>, _file: &File, vma: &VmaNew) -> Result {
        // SAFETY: `vma` is valid during mmap(); vm_pgoff is set by the core.
        let pgoff = unsafe { (*vma.as_ptr()).vm_pgoff };
        if pgoff == 0 {
            let io = me.io_space().ok_or(ENXIO)?;
            return setup_mapping(vma, io.len() / PAGE_SIZE);
        }
        let id = u32::try_from(pgoff).map_err(|_| ENXIO)?;
        let count = {
            let g = me.gpadls.lock();
            g.list
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, p)| p.len())
                .ok_or(ENXIO)?
        };
        setup_mapping(vma, count)
    }

    fn read_iter(mut kiocb: Kiocb<'_, Arc<Session>>, iov: &mut IovIterDest<'_>) -> Result<usize> {
        let me = kiocb.file();
        // SAFETY: the kiocb belongs to a read on an open file.
        let nonblock =
            unsafe { (*(*kiocb.as_raw()).ki_filp).f_flags & kernel::bindings::O_NONBLOCK != 0 };
        let mut q = me.out.lock();
        while q.packets.is_empty() {
            if q.closed {
                return Ok(0);
            }
            if nonblock {
                return Err(EAGAIN);
            }
            if me.out_ready.wait_interruptible(&mut q) {
                return Err(ERESTARTSYS);
            }
        }
        let (id, len) = match q.packets.first() {
            Some((id, p)) => (*id, p.len()),
            None => return Err(EAGAIN),
        };
        if iov.len() < RECORD_HDR + len {
            return Err(EMSGSIZE);
        }
        let (_, packet) = q.packets.remove(0).map_err(|_| EAGAIN)?;
        q.bytes = q.bytes.saturating_sub(len);
        drop(q);
        let hdr = uapi::dxg_loopback_record {
            channel_id: id,
            len: len as u32,
        };
        let mut n = iov.copy_to_iter(hdr.as_bytes());
        n += iov.copy_to_iter(&packet);
        if n != RECORD_HDR + len {
            // A bad buffer must not lose the packet: put it back in front
            // (removing it left the capacity for it).
            let mut q = me.out.lock();
            q.bytes = q.bytes.saturating_add(len);
            if q.packets.insert_within_capacity(0, (id, packet)).is_err() {
                q.bytes = q.bytes.saturating_sub(len);
            }
            return Err(EFAULT);
        }
        me.recycle(packet);
        *kiocb.ki_pos_mut() += n as i64;
        Ok(n)
    }

    fn write_iter(kiocb: Kiocb<'_, Arc<Session>>, iov: &mut IovIterSource<'_>) -> Result<usize> {
        let me = kiocb.file();
        let total = iov.len();
        if total < RECORD_HDR || total - RECORD_HDR > MAX_PACKET {
            return Err(EINVAL);
        }
        let mut hdr = [0u8; RECORD_HDR];
        if iov.copy_from_iter(&mut hdr) != RECORD_HDR {
            return Err(EFAULT);
        }
        let id = u32::from_le_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
        let len = u32::from_le_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]) as usize;
        if len != total - RECORD_HDR {
            return Err(EINVAL);
        }
        let mut inbuf = me.inbuf.lock();
        let packet = inbuf.get_mut(..len).ok_or(EINVAL)?;
        if iov.copy_from_iter(packet) != len {
            return Err(EFAULT);
        }
        me.link(id)?
            .deliver(packet)
            .map_err(|e| if e == ENOTCONN { e } else { EINVAL })?;
        Ok(total)
    }
}
