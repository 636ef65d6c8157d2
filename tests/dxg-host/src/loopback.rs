// SPDX-License-Identifier: GPL-2.0

//! The loopback misc device `/dev/dxg-loopback` (uapi/dxg_loopback.h):
//! offers and rescinds channels, carries VMBus ring packets as records,
//! maps shared guest memory.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::sync::Arc;

use crate::mem::Region;
use crate::transport::{ChannelKind, Offer, Transport};

/// `struct dxg_loopback_offer`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct LoopbackOffer {
    /// `sizeof(struct dxg_loopback_offer)`.
    pub size: u32,
    /// `DXG_LOOPBACK_CHANNEL_*`.
    pub kind: u32,
    /// Channel instance GUID.
    pub instance: [u8; 16],
    /// vGPU LUID.
    pub vgpu_luid: u64,
    /// Out: channel id.
    pub channel_id: u32,
    /// Zero.
    pub reserved: u32,
    /// IO space size (VM channel).
    pub mmio_size: u64,
}

/// `struct dxg_loopback_rescind`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct LoopbackRescind {
    /// Channel id.
    pub channel_id: u32,
    /// Zero.
    pub reserved: u32,
}

const _: () = assert!(std::mem::size_of::<LoopbackOffer>() == 48);
const _: () = assert!(std::mem::size_of::<LoopbackRescind>() == 8);

/// `DXG_LOOPBACK_CHANNEL_VM`.
pub const CHANNEL_VM: u32 = 0;
/// `DXG_LOOPBACK_CHANNEL_VGPU`.
pub const CHANNEL_VGPU: u32 = 1;
/// Size of `struct dxg_loopback_record`.
pub const RECORD_HEADER_SIZE: usize = 8;
/// `DXG_LOOPBACK_MAX_PACKET`.
pub const MAX_PACKET: usize = 128 * 1024;

const IOC_WRITE: u64 = 1;
const IOC_READ: u64 = 2;

const fn ioc(dir: u64, ty: u8, nr: u8, size: usize) -> u64 {
    (dir << 30) | ((size as u64) << 16) | ((ty as u64) << 8) | nr as u64
}

/// `DXG_LOOPBACK_IOCTL_OFFER` = `_IOWR('x', 0x40, struct dxg_loopback_offer)`.
pub const IOCTL_OFFER: u64 = ioc(
    IOC_READ | IOC_WRITE,
    b'x',
    0x40,
    std::mem::size_of::<LoopbackOffer>(),
);
/// `DXG_LOOPBACK_IOCTL_RESCIND` = `_IOW('x', 0x41, struct dxg_loopback_rescind)`.
pub const IOCTL_RESCIND: u64 = ioc(
    IOC_WRITE,
    b'x',
    0x41,
    std::mem::size_of::<LoopbackRescind>(),
);

/// An open loopback device.
pub struct Loopback {
    file: File,
}

impl Loopback {
    /// Opens the device at `path`.
    pub fn open(path: &str) -> io::Result<Loopback> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        Ok(Loopback { file })
    }

    /// The raw descriptor.
    pub fn fd(&self) -> i32 {
        self.file.as_raw_fd()
    }

    /// Waits for a record (a blocking read: a signal ends the wait);
    /// returns `(channel, packet)`, or `None` if interrupted.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<(u32, usize)>> {
        // SAFETY: `buf` is a valid writable buffer of its length.
        let n = unsafe { libc::read(self.fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if matches!(
                e.kind(),
                io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
            ) {
                return Ok(None);
            }
            return Err(e);
        }
        let n = usize::try_from(n).unwrap_or(0);
        let hdr = buf
            .get(..RECORD_HEADER_SIZE)
            .filter(|_| n >= RECORD_HEADER_SIZE)
            .ok_or_else(|| io::Error::other("short loopback record"))?;
        let mut ch = [0u8; 4];
        let mut len = [0u8; 4];
        ch.copy_from_slice(hdr.get(0..4).unwrap_or(&[0; 4]));
        len.copy_from_slice(hdr.get(4..8).unwrap_or(&[0; 4]));
        let len = usize::try_from(u32::from_le_bytes(len)).unwrap_or(usize::MAX);
        if len.checked_add(RECORD_HEADER_SIZE) != Some(n) {
            return Err(io::Error::other(format!(
                "loopback record length {len} does not match read size {n}"
            )));
        }
        Ok(Some((u32::from_le_bytes(ch), len)))
    }
}

impl Transport for Loopback {
    fn offer(&self, offer: &Offer) -> io::Result<u32> {
        let mut o = LoopbackOffer {
            size: std::mem::size_of::<LoopbackOffer>() as u32,
            kind: match offer.kind {
                ChannelKind::Vm => CHANNEL_VM,
                ChannelKind::Vgpu => CHANNEL_VGPU,
            },
            instance: offer.instance.0,
            vgpu_luid: offer.vgpu_luid,
            channel_id: 0,
            reserved: 0,
            mmio_size: offer.mmio_size,
        };
        // SAFETY: the ioctl reads and writes one `LoopbackOffer`, whose
        // layout matches the UAPI structure (size asserted above).
        let r = unsafe { libc::ioctl(self.fd(), IOCTL_OFFER as _, &mut o as *mut LoopbackOffer) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(o.channel_id)
    }

    fn rescind(&self, channel: u32) -> io::Result<()> {
        let r = LoopbackRescind {
            channel_id: channel,
            reserved: 0,
        };
        // SAFETY: the ioctl reads one `LoopbackRescind`.
        let rc =
            unsafe { libc::ioctl(self.fd(), IOCTL_RESCIND as _, &r as *const LoopbackRescind) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn send(&self, channel: u32, packet: &[u8]) -> io::Result<()> {
        let len = u32::try_from(packet.len()).map_err(|_| io::Error::other("packet too large"))?;
        let mut hdr = [0u8; RECORD_HEADER_SIZE];
        hdr[..4].copy_from_slice(&channel.to_le_bytes());
        hdr[4..].copy_from_slice(&len.to_le_bytes());
        // One record in one write, header and packet gathered (no copy).
        let iov = [
            libc::iovec {
                iov_base: hdr.as_ptr().cast_mut().cast(),
                iov_len: hdr.len(),
            },
            libc::iovec {
                iov_base: packet.as_ptr().cast_mut().cast(),
                iov_len: packet.len(),
            },
        ];
        loop {
            // SAFETY: both iovecs describe valid buffers of their lengths,
            // which the kernel only reads.
            let n = unsafe { libc::writev(self.fd(), iov.as_ptr(), iov.len() as libc::c_int) };
            if n >= 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    continue;
                }
                _ => return Err(e),
            }
        }
    }

    fn map(&self, offset: u64, len: usize) -> io::Result<Arc<Region>> {
        Region::mmap(self.fd(), offset, len).map(Arc::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_numbers() {
        // _IOWR('x', 0x40, 48 bytes), _IOW('x', 0x41, 8 bytes)
        assert_eq!(IOCTL_OFFER, 0xc030_7840);
        assert_eq!(IOCTL_RESCIND, 0x4008_7841);
    }
}
