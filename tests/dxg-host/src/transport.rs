// SPDX-License-Identifier: GPL-2.0

//! How the host reaches the guest: offer/rescind channels, send VMBus
//! packets, map shared guest memory. Production uses the loopback device
//! ([`crate::loopback::Loopback`]); tests use [`MemTransport`].

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use dxg_proto::Guid;

use crate::mem::Region;

/// Kind of a channel (`DXG_LOOPBACK_CHANNEL_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelKind {
    /// The VM-level ("global") channel.
    Vm,
    /// A per-vGPU channel.
    Vgpu,
}

/// An offer as the host makes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offer {
    /// Channel kind.
    pub kind: ChannelKind,
    /// Instance GUID.
    pub instance: Guid,
    /// vGPU LUID (vGPU channels).
    pub vgpu_luid: u64,
    /// IO space size (VM channel).
    pub mmio_size: u64,
}

/// The host's side of the guest connection.
pub trait Transport: Send + Sync {
    /// Offers a channel; returns its id.
    fn offer(&self, offer: &Offer) -> io::Result<u32>;
    /// Rescinds a channel.
    fn rescind(&self, channel: u32) -> io::Result<()>;
    /// Sends one VMBus ring packet on `channel`.
    fn send(&self, channel: u32, packet: &[u8]) -> io::Result<()>;
    /// Maps guest memory: offset 0 is the IO space, `gpadl << 12` a GPADL.
    fn map(&self, offset: u64, len: usize) -> io::Result<Arc<Region>>;
}

/// In-memory transport for tests: records offers and sent packets; shared
/// memory is heap regions the test registers (or, for the IO space,
/// creates on first map).
#[derive(Default)]
pub struct MemTransport {
    inner: Mutex<MemInner>,
    cv: Condvar,
}

#[derive(Default)]
struct MemInner {
    next_id: u32,
    offered: HashMap<u32, Offer>,
    sent: VecDeque<(u32, Vec<u8>)>,
    regions: HashMap<u64, Arc<Region>>,
}

impl MemTransport {
    /// A new transport.
    pub fn new() -> Arc<MemTransport> {
        Arc::new(MemTransport::default())
    }

    /// Registers guest memory the host can map at `offset`
    /// (`gpadl << 12`, or 0 for the IO space).
    pub fn add_region(&self, offset: u64, region: Arc<Region>) {
        if let Ok(mut g) = self.inner.lock() {
            g.regions.insert(offset, region);
        }
    }

    /// The region registered (or created) at `offset`.
    pub fn region(&self, offset: u64) -> Option<Arc<Region>> {
        self.inner.lock().ok()?.regions.get(&offset).cloned()
    }

    /// Currently offered channels.
    pub fn offered(&self) -> Vec<(u32, Offer)> {
        let mut v: Vec<_> = self
            .inner
            .lock()
            .map(|g| g.offered.iter().map(|(k, v)| (*k, *v)).collect())
            .unwrap_or_default();
        v.sort_by_key(|(k, _)| *k);
        v
    }

    /// Takes the oldest sent packet, waiting up to `timeout`.
    pub fn recv(&self, timeout: Duration) -> Option<(u32, Vec<u8>)> {
        let deadline = Instant::now() + timeout;
        let mut g = self.inner.lock().ok()?;
        loop {
            if let Some(p) = g.sent.pop_front() {
                return Some(p);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            g = self.cv.wait_timeout(g, deadline - now).ok()?.0;
        }
    }

    /// Takes every packet sent so far.
    pub fn drain(&self) -> Vec<(u32, Vec<u8>)> {
        self.inner
            .lock()
            .map(|mut g| g.sent.drain(..).collect())
            .unwrap_or_default()
    }
}

fn poisoned() -> io::Error {
    io::Error::other("lock poisoned")
}

impl Transport for MemTransport {
    fn offer(&self, offer: &Offer) -> io::Result<u32> {
        let mut g = self.inner.lock().map_err(|_| poisoned())?;
        g.next_id += 1;
        let id = g.next_id;
        g.offered.insert(id, *offer);
        Ok(id)
    }

    fn rescind(&self, channel: u32) -> io::Result<()> {
        let mut g = self.inner.lock().map_err(|_| poisoned())?;
        g.offered
            .remove(&channel)
            .map(|_| ())
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
    }

    fn send(&self, channel: u32, packet: &[u8]) -> io::Result<()> {
        let mut g = self.inner.lock().map_err(|_| poisoned())?;
        if !g.offered.contains_key(&channel) {
            return Err(io::Error::from_raw_os_error(libc::ENOENT));
        }
        g.sent.push_back((channel, packet.to_vec()));
        self.cv.notify_all();
        Ok(())
    }

    fn map(&self, offset: u64, len: usize) -> io::Result<Arc<Region>> {
        let mut g = self.inner.lock().map_err(|_| poisoned())?;
        if offset == 0 && !g.regions.contains_key(&0) {
            g.regions.insert(0, Arc::new(Region::heap(len)));
        }
        match g.regions.get(&offset) {
            Some(r) if r.len() >= len => Ok(r.clone()),
            _ => Err(io::Error::from_raw_os_error(libc::EINVAL)),
        }
    }
}
