// SPDX-License-Identifier: GPL-2.0

//! `dxg-fuzz [--seed S] [--seconds N] [--threads T] [--forks F]
//! [--control SOCK --host-pid PID] NODE...`: an in-guest fuzzer of dxg's
//! UAPI.
//!
//! Each of T threads per NODE (one DRM file per NODE, shared by its
//! threads) issues random ioctls for N seconds: every dxg ioctl of
//! `uapi/dxg_drm.h` and the core DRM ioctls a client uses on a dxg node
//! (syncobjs and their fds, GEM close and PRIME, VERSION, GET_CAP), plus
//! mmap/munmap of GEM objects. Arguments are mostly plausible (ids and
//! handles taken from what the file created, sizes near the limits),
//! then mutated: random flags, reserved fields, sizes, counts, ids, and
//! pointers from a fixed set (the thread's scratch buffer, null, an
//! unmapped address, a kernel address), so the kernel sees every error
//! path while the fuzzer never has its own memory overwritten. F times
//! during the run a child is forked that fuzzes the same files for a
//! while and then exits or is killed (SIGKILL) in the middle.
//!
//! With `--control` and `--host-pid`, a chaos thread meanwhile makes
//! dxg-host misbehave: fault injection (truncated, oversized,
//! unknown-status, pending and garbage replies, with a small probability)
//! and short stalls (SIGSTOP for less than the driver's timeout, then
//! SIGCONT).
//!
//! Every ioctl must end in success or an errno of the documented set
//! ([`EXPECTED`]); anything else (and a crash of a child) fails the run.
//! The kernel's side (splats, leaks) is checked by the test harness. The
//! run is reproducible from its seed as far as the inputs go (each
//! thread's sequence is a function of the seed); the interleaving of
//! threads is not. Prints the seed first and per-ioctl counts at the end;
//! exit status 0 if nothing unexpected happened.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dxg_uapi::*;

/// Errnos an ioctl may end with (Documentation/uapi.rst and the DRM core's
/// syncobj, GEM and PRIME ioctls). `EINTR`: a signal of the chaos or the
/// harness; `ETIME`: a fence wait's timeout.
const EXPECTED: &[i32] = &[
    libc::EINVAL,
    libc::ENOENT,
    libc::ENOMEM,
    libc::E2BIG,
    libc::EFAULT,
    libc::ENODEV,
    libc::ETIMEDOUT,
    libc::ETIME,
    libc::EINTR,
    libc::EPROTO,
    libc::EIO,
    libc::ENOSPC,
    libc::EBUSY,
    libc::ECANCELED,
    libc::EOVERFLOW,
    libc::EOPNOTSUPP,
    libc::EAGAIN,
    libc::EBADF,
    libc::EPERM,
    libc::EACCES,
    libc::ENXIO,
    libc::EEXIST,
    libc::ENOSYS,
    libc::EMFILE,
];

/// An address nothing is mapped at, and one in the kernel's half.
const UNMAPPED: u64 = 0x10;
const KERNEL_PTR: u64 = 0xffff_8880_0000_0000;
/// Bytes of each thread's scratch buffer (every pointer argument points
/// into it, or is one of the bad ones above).
const SCRATCH: usize = 128 * 1024;
/// GPU VA window the fuzzer binds in (plus a random offset).
const VA_BASE: u64 = 0x1_0000_0000;

/// SplitMix64: small, seedable; the sequences only need to be
/// reproducible, not good.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    /// True with probability `pct` percent.
    fn pct(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> Option<T> {
        if v.is_empty() {
            None
        } else {
            Some(v[self.below(v.len() as u64) as usize])
        }
    }
    /// A u32 that is usually `good`, sometimes an edge value.
    fn u32_near(&mut self, good: u32) -> u32 {
        match self.below(10) {
            0 => 0,
            1 => u32::MAX,
            2 => self.next() as u32,
            3 => good.wrapping_add(1 + self.below(8) as u32),
            _ => good,
        }
    }
    /// A size: small, near a power of two, or huge.
    fn size(&mut self) -> u64 {
        match self.below(8) {
            0 => 0,
            1 => 1 + self.below(64),
            2 => 4096,
            3 => 1 << (12 + self.below(13)),
            4 => (1 << (12 + self.below(13))) + 1,
            5 => self.next(),
            6 => 1 << 32,
            _ => 4096 * (1 + self.below(16)),
        }
    }
}

/// What a DRM file created, shared by the threads (and copied into the
/// forked children) that use it.
#[derive(Default, Clone)]
struct Pools {
    devices: Vec<u32>,
    contexts: Vec<u32>,
    bos: Vec<(u32, u64)>,
    syncobjs: Vec<u32>,
}

/// Keep at most this many of each kind (older ones are forgotten, not
/// destroyed: the kernel must cope with leaks too, until the file closes).
const POOL_MAX: usize = 24;

fn remember<T>(v: &mut Vec<T>, x: T) {
    if v.len() >= POOL_MAX {
        v.remove(0);
    }
    v.push(x);
}

/// Results per operation: `errno -> count` (0 for success).
type Stats = BTreeMap<&'static str, BTreeMap<i32, u64>>;

struct Worker<'a> {
    fd: BorrowedFd<'a>,
    pools: &'a Mutex<Pools>,
    rng: Rng,
    scratch: Vec<u8>,
    stats: Stats,
    unexpected: Vec<String>,
}

fn errno_of(r: nix::Result<i32>) -> i32 {
    match r {
        Ok(_) => 0,
        Err(e) => e as i32,
    }
}

fn io_errno(r: &std::io::Result<impl Sized>) -> i32 {
    match r {
        Ok(_) => 0,
        Err(e) => e.raw_os_error().unwrap_or(libc::EIO),
    }
}

impl Worker<'_> {
    fn record(&mut self, op: &'static str, errno: i32) {
        *self.stats.entry(op).or_default().entry(errno).or_default() += 1;
        if errno != 0 && !EXPECTED.contains(&errno) {
            self.unexpected.push(format!(
                "{op}: errno {errno} ({})",
                std::io::Error::from_raw_os_error(errno)
            ));
        }
    }

    /// A pointer argument: into the scratch buffer, or a bad one.
    fn ptr(&mut self) -> u64 {
        match self.rng.below(12) {
            0 => 0,
            1 => UNMAPPED,
            2 => KERNEL_PTR,
            _ => {
                let off = self.rng.below(SCRATCH as u64 / 2) & !7;
                self.scratch.as_ptr() as u64 + off
            }
        }
    }

    fn pools(&self) -> std::sync::MutexGuard<'_, Pools> {
        self.pools.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn device(&mut self) -> u32 {
        let d = self.pools().devices.clone();
        match self.rng.pick(&d) {
            Some(x) if !self.rng.pct(5) => x,
            _ => self.rng.u32_near(1),
        }
    }

    fn context(&mut self) -> u32 {
        let c = self.pools().contexts.clone();
        match self.rng.pick(&c) {
            Some(x) if !self.rng.pct(5) => x,
            _ => self.rng.u32_near(1),
        }
    }

    fn bo(&mut self) -> (u32, u64) {
        let b = self.pools().bos.clone();
        match self.rng.pick(&b) {
            Some(x) if !self.rng.pct(5) => x,
            _ => (self.rng.u32_near(1), 4096),
        }
    }

    fn syncobj(&mut self) -> u32 {
        let s = self.pools().syncobjs.clone();
        match self.rng.pick(&s) {
            Some(x) if !self.rng.pct(5) => x,
            _ => self.rng.u32_near(1),
        }
    }

    /// Randomise the scratch buffer now and then (handles, points and
    /// private data come from there).
    fn stir(&mut self) {
        if self.rng.pct(10) {
            for _ in 0..64 {
                let i = self.rng.below(SCRATCH as u64) as usize;
                self.scratch[i] = self.rng.next() as u8;
            }
        }
    }

    /// Write `n` ids (from `pick`) as u32s at the start of the scratch
    /// buffer's second half; its address.
    fn ids(&mut self, n: usize, pick: impl Fn(&mut Self) -> u32) -> u64 {
        let base = SCRATCH / 2;
        for i in 0..n.min(SCRATCH / 8) {
            let v = pick(self);
            self.scratch[base + 4 * i..base + 4 * i + 4].copy_from_slice(&v.to_ne_bytes());
        }
        self.scratch.as_ptr() as u64 + base as u64
    }

    fn step(&mut self) {
        self.stir();
        let raw = self.fd.as_raw_fd();
        match self.rng.below(22) {
            0 => {
                let mut q = DrmDxgQueryAdapter::default();
                q.size = self.rng.u32_near(q.size);
                if self.rng.pct(10) {
                    q.flags = self.rng.next() as u32;
                }
                // SAFETY: a plain struct, written by the kernel.
                let r = unsafe { ioctl_query_adapter(raw, &mut q) };
                self.record("QUERY_ADAPTER", errno_of(r));
            }
            1 => {
                let mut q = DrmDxgQueryAdapterInfo {
                    size: std::mem::size_of::<DrmDxgQueryAdapterInfo>() as u32,
                    type_: self.rng.u32_near(dxg_proto::model::QAI_ADAPTERTYPE),
                    data: self.ptr(),
                    data_size: (self.rng.size() as u32).min(SCRATCH as u32 / 2),
                    reserved: 0,
                };
                if self.rng.pct(5) {
                    q.data_size = self.rng.next() as u32;
                    q.data = if self.rng.pct(50) { UNMAPPED } else { 0 };
                }
                // SAFETY: `data` points into the scratch buffer for at most
                // half its size, or is a bad pointer.
                let r = unsafe { ioctl_query_adapter_info(raw, &mut q) };
                self.record("QUERY_ADAPTER_INFO", errno_of(r));
            }
            2 | 3 => {
                let mut a = DrmDxgDeviceCreate::default();
                if self.rng.pct(10) {
                    a.flags = self.rng.next() as u32;
                }
                a.size = self.rng.u32_near(a.size);
                // SAFETY: a plain struct.
                let r = unsafe { ioctl_device_create(raw, &mut a) };
                if r.is_ok() {
                    remember(&mut self.pools().devices, a.device);
                }
                self.record("DEVICE_CREATE", errno_of(r));
            }
            4 => {
                let a = DrmDxgDeviceDestroy {
                    device: self.device(),
                    reserved: if self.rng.pct(5) { 1 } else { 0 },
                };
                // SAFETY: a plain struct.
                let r = unsafe { ioctl_device_destroy(raw, &a) };
                self.record("DEVICE_DESTROY", errno_of(r));
            }
            5 | 6 => {
                let mut a = DrmDxgContextCreate {
                    device: self.device(),
                    node: self.rng.u32_near(0),
                    ..Default::default()
                };
                if self.rng.pct(20) {
                    a.priv_data = self.ptr();
                    a.priv_size = (self.rng.size() as u32).min(8192);
                }
                // SAFETY: `priv_data` points into the scratch buffer (read
                // only) or is bad.
                let r = unsafe { ioctl_context_create(raw, &mut a) };
                if r.is_ok() {
                    remember(&mut self.pools().contexts, a.context);
                }
                self.record("CONTEXT_CREATE", errno_of(r));
            }
            7 => {
                let a = DrmDxgContextDestroy {
                    context: self.context(),
                    reserved: 0,
                };
                // SAFETY: a plain struct.
                let r = unsafe { ioctl_context_destroy(raw, &a) };
                self.record("CONTEXT_DESTROY", errno_of(r));
            }
            8 | 9 => {
                let size = if self.rng.pct(80) {
                    4096 * (1 + self.rng.below(32))
                } else {
                    self.rng.size()
                };
                let mut a = DrmDxgGemCreate {
                    bo_size: size,
                    device: self.device(),
                    ..Default::default()
                };
                if self.rng.pct(30) {
                    // The host model's allocation private data: its size.
                    let p = dxg_proto::model::ModelAllocPriv {
                        size: dxg_proto::U64::new(size),
                    };
                    let bytes = zerocopy::IntoBytes::as_bytes(&p);
                    self.scratch[..bytes.len()].copy_from_slice(bytes);
                    a.priv_data = self.scratch.as_ptr() as u64;
                    a.priv_size = bytes.len() as u32;
                } else if self.rng.pct(10) {
                    a.priv_data = self.ptr();
                    a.priv_size = self.rng.u32_near(16);
                }
                // SAFETY: `priv_data` is read only.
                let r = unsafe { ioctl_gem_create(raw, &mut a) };
                if r.is_ok() {
                    remember(&mut self.pools().bos, (a.handle, size));
                }
                self.record("GEM_CREATE", errno_of(r));
            }
            10 => {
                let (handle, _) = self.bo();
                let r = drm_ffi::gem::close(self.fd, handle);
                self.record("GEM_CLOSE", io_errno(&r));
            }
            11 => self.map_bo(),
            12 | 13 => {
                let (handle, size) = self.bo();
                let mut a = DrmDxgVmBind {
                    op: if self.rng.pct(70) {
                        DXG_VM_BIND_MAP
                    } else {
                        self.rng.u32_near(DXG_VM_BIND_UNMAP)
                    },
                    device: self.device(),
                    handle,
                    offset: if self.rng.pct(80) { 0 } else { self.rng.size() },
                    range: if self.rng.pct(70) {
                        size
                    } else {
                        self.rng.size()
                    },
                    va: VA_BASE + 0x10_0000 * self.rng.below(64),
                    ..Default::default()
                };
                if self.rng.pct(10) {
                    a.va = self.rng.next();
                }
                if self.rng.pct(5) {
                    a.flags = self.rng.next() as u32;
                }
                // SAFETY: a plain struct.
                let r = unsafe { ioctl_vm_bind(raw, &a) };
                self.record("VM_BIND", errno_of(r));
            }
            14 | 15 => self.submit(),
            16 => {
                let n = self.rng.below(6) as usize;
                let handles = self.ids(n, |w| w.bo().0);
                let mut a = DrmDxgResidency {
                    op: self.rng.u32_near(DXG_RESIDENCY_MAKE_RESIDENT),
                    device: self.device(),
                    count: n as u32,
                    handles,
                    ..Default::default()
                };
                if self.rng.pct(10) {
                    a.count = self.rng.next() as u32;
                    a.handles = self.ptr();
                }
                // SAFETY: `handles` is read only.
                let r = unsafe { ioctl_residency(raw, &a) };
                self.record("RESIDENCY", errno_of(r));
            }
            17 => {
                let mut a = DrmDxgEscape {
                    device: if self.rng.pct(50) { 0 } else { self.device() },
                    context: if self.rng.pct(70) { 0 } else { self.context() },
                    data: self.ptr(),
                    data_size: (self.rng.size() as u32).min(SCRATCH as u32 / 2),
                    ..Default::default()
                };
                if self.rng.pct(5) {
                    a.type_ = self.rng.next() as u32;
                }
                // SAFETY: `data` points into the scratch buffer for at most
                // half its size (written back), or is bad.
                let r = unsafe { ioctl_escape(raw, &a) };
                self.record("ESCAPE", errno_of(r));
            }
            18 => {
                let mut a = DrmDxgQueryState {
                    device: self.device(),
                    context: if self.rng.pct(30) { 0 } else { self.context() },
                    ..Default::default()
                };
                // SAFETY: a plain struct, written by the kernel.
                let r = unsafe { ioctl_query_state(raw, &mut a) };
                self.record("QUERY_STATE", errno_of(r));
            }
            19 | 20 => self.syncobj_op(),
            _ => {
                let r = if self.rng.pct(50) {
                    drm_ffi::get_capability(self.fd, self.rng.below(0x20)).map(drop)
                } else {
                    drm_ffi::get_version(self.fd, None, None, None).map(drop)
                };
                self.record("VERSION/GET_CAP", io_errno(&r));
            }
        }
    }

    /// GEM_MMAP_OFFSET, then map, touch and unmap part of the object.
    fn map_bo(&mut self) {
        let (handle, size) = self.bo();
        let mut a = DrmDxgGemMmapOffset {
            handle,
            flags: if self.rng.pct(5) { 1 } else { 0 },
            offset: 0,
        };
        // SAFETY: a plain struct, written by the kernel.
        let r = unsafe { ioctl_gem_mmap_offset(self.fd.as_raw_fd(), &mut a) };
        self.record("GEM_MMAP_OFFSET", errno_of(r));
        if r.is_err() {
            return;
        }
        let len = if self.rng.pct(90) {
            size.clamp(4096, 1 << 20)
        } else {
            self.rng.size().clamp(4096, 1 << 30)
        } as usize;
        let Some(nz) = std::num::NonZeroUsize::new(len) else {
            return;
        };
        use nix::sys::mman::{mmap, munmap, MapFlags, ProtFlags};
        // SAFETY: a new shared mapping of the DRM file at the offset the
        // kernel gave, at an address the kernel picks: no existing memory
        // is affected.
        let r = unsafe {
            mmap(
                None,
                nz,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
                self.fd,
                a.offset as libc::off_t,
            )
        };
        let p = match r {
            Ok(p) => p,
            Err(e) => {
                self.record("mmap", e as i32);
                return;
            }
        };
        self.record("mmap", 0);
        // Touch the first and the last byte.
        // SAFETY: `p` maps `len` bytes, readable and writable, until the
        // munmap below.
        unsafe {
            std::ptr::write_volatile(p.as_ptr().cast::<u8>(), 0x5a);
            std::ptr::write_volatile(p.as_ptr().cast::<u8>().add(len - 1), 0xa5);
            let _ = munmap(p, len);
        }
    }

    fn submit(&mut self) {
        let n_in = if self.rng.pct(70) {
            0
        } else {
            self.rng.below(4) as usize
        };
        let n_out = if self.rng.pct(30) {
            0
        } else {
            1 + self.rng.below(2) as usize
        };
        let base = SCRATCH / 4;
        let mut syncs = Vec::new();
        for _ in 0..n_in + n_out {
            syncs.push(DrmDxgSync {
                handle: self.syncobj(),
                flags: if self.rng.pct(3) { 1 } else { 0 },
                point: if self.rng.pct(50) {
                    0
                } else {
                    self.rng.below(64)
                },
            });
        }
        let bytes = syncs.len() * std::mem::size_of::<DrmDxgSync>();
        // SAFETY: DrmDxgSync is plain integers; `bytes` fit the buffer.
        let src = unsafe { std::slice::from_raw_parts(syncs.as_ptr().cast::<u8>(), bytes) };
        self.scratch[base..base + bytes].copy_from_slice(src);
        let sp = self.scratch.as_ptr() as u64 + base as u64;
        let mut a = DrmDxgSubmit {
            context: self.context(),
            cmd_va: VA_BASE + 0x10_0000 * self.rng.below(64),
            cmd_size: if self.rng.pct(80) {
                16 * (1 + self.rng.below(16))
            } else {
                self.rng.size()
            },
            num_in_syncs: n_in as u32,
            in_syncs: sp,
            num_out_syncs: n_out as u32,
            out_syncs: sp + (n_in * std::mem::size_of::<DrmDxgSync>()) as u64,
            ..Default::default()
        };
        if self.rng.pct(10) {
            a.priv_data = self.ptr();
            a.priv_size = self.rng.u32_near(64);
        }
        if self.rng.pct(5) {
            a.num_in_syncs = self.rng.next() as u32;
            a.in_syncs = self.ptr();
        }
        if self.rng.pct(3) {
            a.flags = self.rng.next() as u32;
        }
        // SAFETY: every pointer is read only and into the scratch buffer,
        // or bad.
        let r = unsafe { ioctl_submit(self.fd.as_raw_fd(), &a) };
        self.record("SUBMIT", errno_of(r));
    }

    fn syncobj_op(&mut self) {
        let fd = self.fd;
        match self.rng.below(9) {
            0 | 1 => {
                let r = drm_ffi::syncobj::create(fd, self.rng.pct(30));
                if let Ok(s) = &r {
                    remember(&mut self.pools().syncobjs, s.handle);
                }
                self.record("SYNCOBJ_CREATE", io_errno(&r));
            }
            2 => {
                let h = self.syncobj();
                let r = drm_ffi::syncobj::destroy(fd, h);
                self.record("SYNCOBJ_DESTROY", io_errno(&r));
            }
            3 => {
                let hs: Vec<u32> = (0..1 + self.rng.below(3)).map(|_| self.syncobj()).collect();
                let timeout = if self.rng.pct(50) {
                    0
                } else {
                    now_ns() + self.rng.below(20_000_000) as i64
                };
                let r =
                    drm_ffi::syncobj::wait(fd, &hs, timeout, self.rng.pct(50), self.rng.pct(50));
                self.record("SYNCOBJ_WAIT", io_errno(&r));
            }
            4 => {
                let hs: Vec<u32> = (0..1 + self.rng.below(3)).map(|_| self.syncobj()).collect();
                let pts: Vec<u64> = hs.iter().map(|_| self.rng.below(64)).collect();
                let timeout = now_ns() + self.rng.below(20_000_000) as i64;
                let r = drm_ffi::syncobj::timeline_wait(
                    fd,
                    &hs,
                    &pts,
                    timeout,
                    self.rng.pct(50),
                    self.rng.pct(50),
                    self.rng.pct(20),
                );
                self.record("SYNCOBJ_TIMELINE_WAIT", io_errno(&r));
            }
            5 => {
                let hs: Vec<u32> = (0..1 + self.rng.below(3)).map(|_| self.syncobj()).collect();
                let r = if self.rng.pct(50) {
                    drm_ffi::syncobj::signal(fd, &hs).map(drop)
                } else {
                    drm_ffi::syncobj::reset(fd, &hs).map(drop)
                };
                self.record("SYNCOBJ_SIGNAL/RESET", io_errno(&r));
            }
            6 => {
                let hs: Vec<u32> = (0..1 + self.rng.below(3)).map(|_| self.syncobj()).collect();
                let pts: Vec<u64> = hs.iter().map(|_| 1 + self.rng.below(64)).collect();
                let r = if self.rng.pct(50) {
                    drm_ffi::syncobj::timeline_signal(fd, &hs, &pts).map(drop)
                } else {
                    let mut out = pts.clone();
                    drm_ffi::syncobj::query(fd, &hs, &mut out, self.rng.pct(50)).map(drop)
                };
                self.record("SYNCOBJ_TIMELINE_SIGNAL/QUERY", io_errno(&r));
            }
            7 => {
                let (a, b) = (self.syncobj(), self.syncobj());
                let r = drm_ffi::syncobj::transfer(fd, a, b, self.rng.below(8), self.rng.below(8));
                self.record("SYNCOBJ_TRANSFER", io_errno(&r));
            }
            _ => {
                // Round trips through fds: syncobj <-> fd / sync_file, GEM
                // <-> PRIME fd.
                let h = self.syncobj();
                let sync_file = self.rng.pct(50);
                let r = drm_ffi::syncobj::handle_to_fd(fd, h, sync_file);
                self.record("SYNCOBJ_HANDLE_TO_FD", io_errno(&r));
                if let Ok(x) = r {
                    // SAFETY: the kernel just gave us this descriptor.
                    let owned = unsafe { OwnedFd::from_raw_fd(x.fd) };
                    let r = drm_ffi::syncobj::fd_to_handle(fd, owned.as_fd(), sync_file);
                    if let Ok(s) = &r {
                        if !sync_file {
                            remember(&mut self.pools().syncobjs, s.handle);
                        }
                    }
                    self.record("SYNCOBJ_FD_TO_HANDLE", io_errno(&r));
                }
                let (bo, size) = self.bo();
                let r = drm_ffi::gem::handle_to_fd(fd, bo, libc::O_CLOEXEC as u32);
                self.record("PRIME_HANDLE_TO_FD", io_errno(&r));
                if let Ok(p) = r {
                    // SAFETY: as above.
                    let owned = unsafe { OwnedFd::from_raw_fd(p.fd) };
                    let r = drm_ffi::gem::fd_to_handle(fd, owned.as_fd());
                    if let Ok(p) = &r {
                        remember(&mut self.pools().bos, (p.handle, size));
                    }
                    self.record("PRIME_FD_TO_HANDLE", io_errno(&r));
                }
            }
        }
    }
}

fn now_ns() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

/// Fuzz `fd` with `rng` until `deadline`; the stats and what was
/// unexpected.
fn fuzz(
    fd: BorrowedFd<'_>,
    pools: &Mutex<Pools>,
    rng: Rng,
    deadline: Instant,
) -> (Stats, Vec<String>) {
    let mut w = Worker {
        fd,
        pools,
        rng,
        scratch: vec![0u8; SCRATCH],
        stats: Stats::new(),
        unexpected: Vec::new(),
    };
    while Instant::now() < deadline {
        w.step();
    }
    (w.stats, w.unexpected)
}

/// The chaos thread: host faults and short stalls until `deadline`.
fn chaos(ctl: &str, sock: &str, pid: i32, mut rng: Rng, deadline: Instant) -> Vec<String> {
    let mut log = Vec::new();
    let run = |args: &[&str]| {
        std::process::Command::new(ctl)
            .args(["ctl", "--control", sock])
            .args(args)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200 + rng.below(1300)));
        match rng.below(4) {
            0 => {
                let class = rng
                    .pick(&[
                        "truncated",
                        "oversized",
                        "unknown-status",
                        "pending",
                        "garbage",
                    ])
                    .unwrap_or("truncated");
                let spec = format!("{class}:prob=0.05:count={}", 1 + rng.below(4));
                if run(&["fault", &spec]) {
                    log.push(format!("fault {spec}"));
                }
            }
            1 => {
                let ms = 50 + rng.below(450);
                // SAFETY: kill() has no memory effects.
                unsafe { libc::kill(pid, libc::SIGSTOP) };
                std::thread::sleep(Duration::from_millis(ms));
                // SAFETY: as above.
                unsafe { libc::kill(pid, libc::SIGCONT) };
                log.push(format!("stall {ms} ms"));
            }
            _ => {}
        }
    }
    run(&["fault", "clear"]);
    log
}

struct Opts {
    seed: u64,
    seconds: u64,
    threads: usize,
    forks: usize,
    control: Option<String>,
    host_pid: Option<i32>,
    nodes: Vec<String>,
}

fn parse() -> Result<Opts, String> {
    let mut o = Opts {
        seed: now_ns() as u64,
        seconds: 60,
        threads: 4,
        forks: 4,
        control: None,
        host_pid: None,
        nodes: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        let num = |s: String, name: &str| {
            s.parse::<u64>()
                .map_err(|_| format!("{name}: not a number: {s}"))
        };
        match a.as_str() {
            "--seed" => o.seed = num(val("--seed")?, "--seed")?,
            "--seconds" => o.seconds = num(val("--seconds")?, "--seconds")?,
            "--threads" => o.threads = num(val("--threads")?, "--threads")? as usize,
            "--forks" => o.forks = num(val("--forks")?, "--forks")? as usize,
            "--control" => o.control = Some(val("--control")?),
            "--host-pid" => o.host_pid = Some(num(val("--host-pid")?, "--host-pid")? as i32),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ => o.nodes.push(a),
        }
    }
    if o.nodes.is_empty() {
        return Err(
            "usage: dxg-fuzz [--seed S] [--seconds N] [--threads T] [--forks F] \
                    [--control SOCK --host-pid PID] NODE..."
                .into(),
        );
    }
    if o.threads == 0 {
        return Err("--threads must be at least 1".into());
    }
    Ok(o)
}

fn merge(into: &mut Stats, from: Stats) {
    for (op, m) in from {
        let e = into.entry(op).or_default();
        for (k, v) in m {
            *e.entry(k).or_default() += v;
        }
    }
}

fn main() -> ExitCode {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("dxg-fuzz: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "dxg-fuzz: seed {} ({} s, {} threads per node, {} forks, nodes {})",
        o.seed,
        o.seconds,
        o.threads,
        o.forks,
        o.nodes.join(" ")
    );
    let files: Vec<OwnedFd> = match o
        .nodes
        .iter()
        .map(|n| {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(n)
                .map(OwnedFd::from)
                .map_err(|e| format!("open {n}: {e}"))
        })
        .collect::<Result<_, _>>()
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("dxg-fuzz: {e}");
            return ExitCode::from(2);
        }
    };
    let pools: Vec<Mutex<Pools>> = files.iter().map(|_| Mutex::default()).collect();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(o.seconds);
    let mut stats = Stats::new();
    let mut unexpected = Vec::new();
    let chaos_log = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|sc| {
        if let (Some(sock), Some(pid)) = (o.control.clone(), o.host_pid) {
            let log = chaos_log.clone();
            let rng = Rng(o.seed ^ 0xc4a0_5c4a);
            sc.spawn(move || {
                let ctl = std::env::var("DXG_HOST").unwrap_or_else(|_| "dxg-host".into());
                let l = chaos(&ctl, &sock, pid, rng, deadline);
                *log.lock().unwrap_or_else(|e| e.into_inner()) = l;
            });
        }
        let mut hs = Vec::new();
        for (fi, (f, p)) in files.iter().zip(&pools).enumerate() {
            for t in 0..o.threads {
                let rng = Rng(o.seed ^ ((fi * 64 + t + 1) as u64).wrapping_mul(0x9e37_79b9));
                let fd = f.as_fd();
                hs.push(sc.spawn(move || fuzz(fd, p, rng, deadline)));
            }
        }
        // Forked children fuzz the same files for a while, then exit or
        // are killed in the middle of whatever they do.
        let mut rng = Rng(o.seed ^ 0xf0f0);
        for k in 0..o.forks {
            let at = start + Duration::from_secs(o.seconds) * (k as u32 + 1) / (o.forks as u32 + 1);
            while Instant::now() < at {
                std::thread::sleep(Duration::from_millis(50));
            }
            let fi = rng.below(files.len() as u64) as usize;
            let child_rng = Rng(rng.next());
            let run_ms = 300 + rng.below(2000);
            let kill = rng.pct(50);
            // Copied before the fork: a parent thread may hold the lock
            // at the moment of the fork, and the child's copy of a held
            // lock is never released.
            let copy = pools[fi]
                .lock()
                .map(|g| g.clone())
                .unwrap_or_else(|e| e.into_inner().clone());
            // SAFETY: the child only runs `fuzz` on inherited descriptors
            // and its own copy of the pools, then _exit()s; it takes no
            // lock a parent thread may hold (the parent's threads do not
            // print while fuzzing, and glibc's malloc is fork-safe).
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                let own = Mutex::new(copy);
                let (_, bad) = fuzz(
                    files[fi].as_fd(),
                    &own,
                    child_rng,
                    Instant::now() + Duration::from_millis(run_ms),
                );
                for b in &bad {
                    eprintln!("dxg-fuzz child: unexpected: {b}");
                }
                // SAFETY: ends the child without running the parent's
                // destructors.
                unsafe { libc::_exit(if bad.is_empty() { 0 } else { 1 }) };
            }
            if pid < 0 {
                unexpected.push(format!("fork: {}", std::io::Error::last_os_error()));
                continue;
            }
            if kill {
                std::thread::sleep(Duration::from_millis(rng.below(run_ms)));
                // SAFETY: kill() has no memory effects.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            let mut status = 0;
            // SAFETY: waits for our own child.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            let ok = if kill {
                (libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGKILL)
                    || (libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0)
            } else {
                libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
            };
            println!(
                "dxg-fuzz: child {k} ({} ms{}) ended with status {status:#x}",
                run_ms,
                if kill { ", killed" } else { "" }
            );
            if !ok {
                unexpected.push(format!("child {k} ended with status {status:#x}"));
            }
        }
        for h in hs {
            match h.join() {
                Ok((s, bad)) => {
                    merge(&mut stats, s);
                    unexpected.extend(bad);
                }
                Err(_) => unexpected.push("a fuzzing thread panicked".into()),
            }
        }
    });
    let log = chaos_log.lock().map(|l| l.clone()).unwrap_or_default();
    if !log.is_empty() {
        println!("dxg-fuzz: host chaos: {}", log.join(", "));
    }
    let mut total = 0;
    for (op, m) in &stats {
        let n: u64 = m.values().sum();
        total += n;
        let parts: Vec<String> = m
            .iter()
            .map(|(e, c)| {
                if *e == 0 {
                    format!("ok {c}")
                } else {
                    format!("{} {c}", nix::errno::Errno::from_raw(*e))
                }
            })
            .collect();
        println!("  {op:<30} {n:>7}: {}", parts.join(", "));
    }
    println!(
        "dxg-fuzz: {total} operations in {:.1} s, {} unexpected (seed {})",
        start.elapsed().as_secs_f64(),
        unexpected.len(),
        o.seed
    );
    unexpected.sort();
    unexpected.dedup();
    for u in &unexpected {
        println!("  unexpected: {u}");
    }
    if unexpected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_reproducible() {
        let (mut a, mut b) = (Rng(42), Rng(42));
        for _ in 0..100 {
            assert_eq!(a.next(), b.next());
        }
        assert_ne!(Rng(1).next(), Rng(2).next());
    }

    #[test]
    fn pools_keep_the_newest() {
        let mut v = Vec::new();
        for i in 0..(POOL_MAX as u32 + 5) {
            remember(&mut v, i);
        }
        assert_eq!(v.len(), POOL_MAX);
        assert_eq!(v[0], 5);
    }

    #[test]
    fn sizes_cover_the_edges() {
        let mut r = Rng(7);
        let s: Vec<u64> = (0..1000).map(|_| r.size()).collect();
        assert!(s.contains(&0));
        assert!(s.contains(&4096));
        assert!(s.contains(&(1 << 32)));
    }
}
