// SPDX-License-Identifier: GPL-2.0

//! The loopback transport: the Hyper-V host in a user process.
//!
//! With `loopback=1` the module creates `/dev/dxg-loopback` (mode 0600,
//! and opening it needs `CAP_SYS_ADMIN`). The process that opens it, the
//! host model `dxg-host` in tests, plays the Hyper-V host: it offers and
//! rescinds channels, reads the VMBus packets the driver sends and writes
//! the host's packets back. The contract is `uapi/dxg_loopback.h`.
//!
//! Every offered channel becomes an auxiliary device `dxg.channel.N`,
//! parented on this session's faux device `dxg-loopback`, and bound by
//! [`crate::vmbus::chandev::ChannelDriver`] exactly like a VMBus channel
//! device would be. Closing the file rescinds everything it offered.
//!
//! Lock order: [`Session::offers`] before [`Session::out`]; the channel
//! locks (`vmbus/channel.rs`) are never held while taking either.

use kernel::{
    auxiliary, c_str, faux,
    fs::{File, Kiocb},
    iov::{IovIterDest, IovIterSource},
    miscdevice::{MiscDevice, MiscDeviceRegistration},
    new_condvar, new_mutex, new_spinlock_irq,
    prelude::*,
    sync::{Arc, ArcBorrow, CondVar, Mutex, SpinLockIrq},
    transmute::AsBytes,
    time::{delay::fsleep, Delta},
    types::ForLt,
    uaccess::{UserPtr, UserSlice},
};

use crate::proto::{
    consts::RING_SIZE,
    vmbus::{self, PacketType, VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED},
    Guid, Luid,
};
use crate::sys::uapi;
use crate::vmbus::{
    chandev::{ChannelKind, Offer},
    channel::{Channel, Notify},
};

/// The name of the misc device, `/dev/dxg-loopback`.
pub(crate) const DEVICE_NAME: &CStr = c"dxg-loopback";

/// Largest packet a record may carry.
const MAX_PACKET: usize = uapi::DXG_LOOPBACK_MAX_PACKET as usize;

/// Size of `struct dxg_loopback_record`.
const RECORD_HDR: usize = core::mem::size_of::<uapi::dxg_loopback_record>();

/// The outbound queue holds at most what one VMBus ring would (the ring is
/// per channel; one limit for the session is stricter and simpler).
const MAX_QUEUED: usize = RING_SIZE;

/// Like the original on a full ring: retry a few times, 1 ms apart.
const RING_FULL_RETRIES: u32 = 50;

/// The misc device, registered while the module is loaded with
/// `loopback=1`.
pub(crate) type Loopback = MiscDeviceRegistration<Session>;

/// Packets the driver sent and the host did not read yet.
struct OutQueue {
    packets: KVec<(u32, KVec<u8>)>,
    bytes: usize,
    closed: bool,
}

/// A channel this session offered.
struct Offered {
    id: u32,
    link: Arc<LoopLink>,
    /// Dropping this deletes the channel device (the rescind).
    _reg: auxiliary::Registration<'static, ForLt!(Offer)>,
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

impl Session {
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
        let (mut reader, mut writer) = UserSlice::new(UserPtr::from_addr(arg), size).reader_writer();
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
        let mut offers = this.offers.lock();
        let id = offers.next_id;
        offers.next_id = id.checked_add(1).ok_or(ENOSPC)?;
        let link = Arc::pin_init(
            pin_init!(LoopLink {
                id,
                session: this.into(),
                target <- new_spinlock_irq!(None, "dxg_loop_target"),
            }),
            GFP_KERNEL,
        )?;
        let offer = Offer {
            kind,
            instance: Guid(req.instance),
            vgpu_luid: Luid::from_u64(req.vgpu_luid),
            mmio_size: req.mmio_size,
            link: link.clone(),
        };
        let parent: *const kernel::device::Device<kernel::device::Bound> =
            core::ptr::from_ref(this.faux.as_ref().as_ref());
        // SAFETY: The faux device outlives this registration: `Offered`
        // values live in `offers`, which is emptied in release() and in
        // the session's drop, both before `faux` (declared last) drops.
        let parent: &'static kernel::device::Device<kernel::device::Bound> = unsafe { &*parent };
        offers.list.reserve(1, GFP_KERNEL)?;
        // The channel device may bind (and its driver probe) right here.
        let reg = auxiliary::Registration::<ForLt!(Offer)>::new(
            parent,
            c"channel",
            id,
            crate::MODULE_NAME,
            offer,
        )?;
        offers.list.push(Offered { id, link, _reg: reg }, GFP_KERNEL)?;
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

/// Where a channel's host packets go once its device is bound.
pub(crate) struct Target {
    channel: Arc<Channel>,
    notify: Option<Arc<dyn Notify>>,
}

/// The link between one offered channel and its session.
#[pin_data]
pub(crate) struct LoopLink {
    id: u32,
    session: Arc<Session>,
    /// Protects the bound channel (set by the channel device's probe,
    /// cleared by its removal).
    #[pin]
    target: SpinLockIrq<Option<Target>>,
}

impl LoopLink {
    /// Queue one packet for the host: what `vmbus_sendpacket()` would put
    /// on the ring.
    pub(crate) fn send(&self, payload: &[u8], trans_id: u64, completion: bool) -> Result {
        let len = vmbus::packet_len(payload.len()).map_err(|_| E2BIG)?;
        let flags = if completion {
            VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED
        } else {
            0
        };
        let mut tries = 0;
        loop {
            let mut pkt = KVec::from_elem(0u8, len, GFP_KERNEL)?;
            vmbus::encode_packet(&mut pkt, PacketType::DataInband, flags, trans_id, payload, 0)
                .map_err(|_| EINVAL)?;
            match self.session.push(self.id, pkt) {
                Err(e) if e == EAGAIN && tries < RING_FULL_RETRIES => {
                    tries += 1;
                    fsleep(Delta::from_millis(1));
                }
                r => return r,
            }
        }
    }

    /// Bind the channel that handles this link's host packets.
    pub(crate) fn attach(&self, channel: Arc<Channel>, notify: Option<Arc<dyn Notify>>) {
        *self.target.lock() = Some(Target { channel, notify });
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

    fn deliver(&self, packet: &[u8]) -> Result {
        let (channel, notify) = {
            let t = self.target.lock();
            let t = t.as_ref().ok_or(ENOTCONN)?;
            (t.channel.clone(), t.notify.clone())
        };
        channel.receive(packet, notify.as_deref())
    }
}

#[vtable]
impl MiscDevice for Session {
    type Ptr = Arc<Session>;

    fn open(_file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<Arc<Session>> {
        // SAFETY: `capable()` only reads the current task's credentials.
        if !unsafe { kernel::bindings::capable(kernel::bindings::CAP_SYS_ADMIN as i32) } {
            return Err(EPERM);
        }
        // One host at a time: the faux device name is the lock.
        let faux = faux::Registration::new(c_str!("dxg-loopback"), Some(misc.device()))
            .map_err(|e| if e == EEXIST { EBUSY } else { e })?;
        Arc::pin_init(
            try_pin_init!(Session {
                offers <- new_mutex!(Offers { next_id: 0, list: KVec::new() }, "dxg_loop_offers"),
                out <- new_spinlock_irq!(OutQueue {
                    packets: KVec::new(),
                    bytes: 0,
                    closed: false,
                }, "dxg_loop_out"),
                out_ready <- new_condvar!("dxg_loop_out_ready"),
                faux,
            }),
            GFP_KERNEL,
        )
    }

    fn release(session: Arc<Session>, _file: &File) {
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

    fn read_iter(mut kiocb: Kiocb<'_, Arc<Session>>, iov: &mut IovIterDest<'_>) -> Result<usize> {
        let me = kiocb.file();
        // SAFETY: the kiocb belongs to a read on an open file.
        let nonblock = unsafe {
            (*(*kiocb.as_raw()).ki_filp).f_flags & kernel::bindings::O_NONBLOCK != 0
        };
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
        let mut packet = KVec::from_elem(0u8, len, GFP_KERNEL)?;
        if iov.copy_from_iter(&mut packet) != len {
            return Err(EFAULT);
        }
        me.link(id)?
            .deliver(&packet)
            .map_err(|e| if e == ENOTCONN { e } else { EINVAL })?;
        Ok(total)
    }
}
