// SPDX-License-Identifier: GPL-2.0

//! The safe library over the dxg object ioctls: devices, contexts, GEM
//! buffer objects and their CPU mappings, GPU VA binding, submission,
//! escape, residency, device and context state, and (through the `drm`
//! crate) syncobjs and PRIME.
//!
//! Objects are RAII and borrow what they live in, so the compiler keeps
//! the kernel's order: a [`Device`] borrows its [`Node`] (the DRM file), a
//! [`Context`] its device; [`Bo`]s and [`Syncobj`]s belong to the DRM file
//! and borrow the node. Dropping an object destroys it in the kernel
//! (errors on that path are ignored: the file's close cleans up anyway).
//!
//! Every fallible call returns an [`io::Error`] carrying the errno (the
//! kernel's, or `EINVAL`/`E2BIG` from the checks done here first, which
//! mirror the kernel's so that bad arguments fail the same way).

use std::io;
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;
use std::ptr::NonNull;
use std::time::Duration;

use drm::buffer;
use drm::control::{syncobj, Device as _};
use nix::libc::{E2BIG, EINVAL};

use crate::abi::*;
use crate::Node;

/// The page size GPU VAs, offsets and ranges are aligned to.
pub const PAGE_SIZE: u64 = 4096;

fn err(errno: i32) -> io::Error {
    io::Error::from_raw_os_error(errno)
}

/// A user pointer for the kernel: the slice's address, or 0 if empty.
fn user_ptr<T>(s: &[T]) -> u64 {
    if s.is_empty() {
        0
    } else {
        s.as_ptr() as u64
    }
}

/// The size of a private driver data blob, at most `DXG_PRIV_MAX`.
fn priv_size(data: &[u8]) -> io::Result<u32> {
    if data.len() > DXG_PRIV_MAX {
        return Err(err(E2BIG));
    }
    Ok(data.len() as u32)
}

fn page_aligned(v: u64) -> bool {
    v & (PAGE_SIZE - 1) == 0
}

/// Arguments of `DRM_IOCTL_DXG_CONTEXT_CREATE`.
pub fn context_create_args(
    device: u32,
    node: u32,
    engine_affinity: u32,
    priv_data: &[u8],
) -> io::Result<DrmDxgContextCreate> {
    Ok(DrmDxgContextCreate {
        device,
        node,
        engine_affinity,
        priv_data: user_ptr(priv_data),
        priv_size: priv_size(priv_data)?,
        ..Default::default()
    })
}

/// Arguments of `DRM_IOCTL_DXG_GEM_CREATE`: `bo_size` must not be zero.
pub fn gem_create_args(device: u32, bo_size: u64, priv_data: &[u8]) -> io::Result<DrmDxgGemCreate> {
    if bo_size == 0 {
        return Err(err(EINVAL));
    }
    Ok(DrmDxgGemCreate {
        bo_size,
        device,
        priv_data: user_ptr(priv_data),
        priv_size: priv_size(priv_data)?,
        ..Default::default()
    })
}

/// Arguments of `DRM_IOCTL_DXG_VM_BIND`: page-aligned `offset`, `range`
/// and `va`, `range` not zero, no wrap-around; UNMAP takes handle and
/// offset 0.
pub fn vm_bind_args(
    device: u32,
    op: u32,
    handle: u32,
    offset: u64,
    range: u64,
    va: u64,
) -> io::Result<DrmDxgVmBind> {
    let ok = match op {
        DXG_VM_BIND_MAP => handle != 0,
        DXG_VM_BIND_UNMAP => handle == 0 && offset == 0,
        _ => false,
    };
    if !ok
        || range == 0
        || !page_aligned(offset)
        || !page_aligned(range)
        || !page_aligned(va)
        || offset.checked_add(range).is_none()
        || va.checked_add(range).is_none()
    {
        return Err(err(EINVAL));
    }
    Ok(DrmDxgVmBind {
        op,
        device,
        handle,
        offset,
        range,
        va,
        ..Default::default()
    })
}

/// A syncobj and a timeline point (0 for a binary syncobj): one entry of a
/// submission's in or out fences (`struct drm_dxg_sync`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncPoint {
    /// The syncobj handle.
    pub handle: u32,
    /// The timeline point; 0 for a binary syncobj.
    pub point: u64,
}

impl From<SyncPoint> for DrmDxgSync {
    fn from(s: SyncPoint) -> Self {
        DrmDxgSync {
            handle: s.handle,
            flags: 0,
            point: s.point,
        }
    }
}

fn syncs(s: &[SyncPoint]) -> io::Result<Vec<DrmDxgSync>> {
    if s.len() > DXG_MAX_SYNCS {
        return Err(err(E2BIG));
    }
    if s.iter().any(|s| s.handle == 0) {
        return Err(err(EINVAL));
    }
    Ok(s.iter().map(|&s| s.into()).collect())
}

/// Arguments of `DRM_IOCTL_DXG_SUBMIT`. `in_syncs`/`out_syncs` must stay
/// alive (and unmoved) until the ioctl returns.
pub fn submit_args(
    context: u32,
    cmd_va: u64,
    cmd_size: u64,
    priv_data: &[u8],
    in_syncs: &[DrmDxgSync],
    out_syncs: &[DrmDxgSync],
) -> io::Result<DrmDxgSubmit> {
    if in_syncs.len() > DXG_MAX_SYNCS || out_syncs.len() > DXG_MAX_SYNCS {
        return Err(err(E2BIG));
    }
    if cmd_size == 0 || cmd_va.checked_add(cmd_size).is_none() {
        return Err(err(EINVAL));
    }
    Ok(DrmDxgSubmit {
        context,
        cmd_va,
        cmd_size,
        priv_data: user_ptr(priv_data),
        priv_size: priv_size(priv_data)?,
        num_in_syncs: in_syncs.len() as u32,
        in_syncs: user_ptr(in_syncs),
        num_out_syncs: out_syncs.len() as u32,
        out_syncs: user_ptr(out_syncs),
        ..Default::default()
    })
}

/// Arguments of `DRM_IOCTL_DXG_ESCAPE`: 1..=`DXG_PRIV_MAX` bytes.
pub fn escape_args(
    device: u32,
    context: u32,
    type_: u32,
    data: &mut [u8],
) -> io::Result<DrmDxgEscape> {
    if data.is_empty() {
        return Err(err(EINVAL));
    }
    Ok(DrmDxgEscape {
        device,
        context,
        data: data.as_mut_ptr() as u64,
        data_size: priv_size(data)?,
        type_,
        ..Default::default()
    })
}

/// Arguments of `DRM_IOCTL_DXG_RESIDENCY`: 1..=`DXG_MAX_RESIDENCY` handles.
pub fn residency_args(device: u32, op: u32, handles: &[u32]) -> io::Result<DrmDxgResidency> {
    if handles.len() > DXG_MAX_RESIDENCY {
        return Err(err(E2BIG));
    }
    if handles.is_empty() || !matches!(op, DXG_RESIDENCY_MAKE_RESIDENT | DXG_RESIDENCY_EVICT) {
        return Err(err(EINVAL));
    }
    Ok(DrmDxgResidency {
        op,
        device,
        count: handles.len() as u32,
        handles: user_ptr(handles),
        ..Default::default()
    })
}

/// `drm_dxg_query_state.state`: whether a device or context takes work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateKind {
    /// `DXG_STATE_ACTIVE`: takes work.
    Active,
    /// `DXG_STATE_CONTEXT_LOST`: a job of the context did not complete
    /// within the module's `job_timeout_ms` (error `-ETIME`).
    ContextLost,
    /// `DXG_STATE_DEVICE_LOST`: the host reported a device error (`-EIO`).
    DeviceLost,
    /// `DXG_STATE_HOST_GONE`: the host or the adapter went away (`-ENODEV`).
    HostGone,
    /// A value this crate does not know.
    Unknown(u32),
}

impl From<u32> for StateKind {
    fn from(v: u32) -> Self {
        match v {
            DXG_STATE_ACTIVE => StateKind::Active,
            DXG_STATE_CONTEXT_LOST => StateKind::ContextLost,
            DXG_STATE_DEVICE_LOST => StateKind::DeviceLost,
            DXG_STATE_HOST_GONE => StateKind::HostGone,
            v => StateKind::Unknown(v),
        }
    }
}

/// What `DRM_IOCTL_DXG_QUERY_STATE` reports about a device or context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State {
    /// Of the context if one was asked about (a context of a lost device
    /// is [`StateKind::DeviceLost`]), else of the device.
    pub state: StateKind,
    /// The negative errno the lost work failed with; 0 if active.
    pub error: i32,
    /// The sequence number of the context's last submission (its fences'
    /// seqno); 0 for a device.
    pub submitted: u64,
    /// The highest sequence number the host completed.
    pub completed: u64,
}

impl From<&DrmDxgQueryState> for State {
    fn from(q: &DrmDxgQueryState) -> Self {
        State {
            state: q.state.into(),
            error: q.error,
            submitted: q.submitted,
            completed: q.completed,
        }
    }
}

/// Arguments of `DRM_IOCTL_DXG_QUERY_STATE` (`context` 0: the device).
pub fn query_state_args(device: u32, context: u32) -> DrmDxgQueryState {
    DrmDxgQueryState {
        device,
        context,
        ..Default::default()
    }
}

/// An absolute CLOCK_MONOTONIC deadline `timeout` from now, in ns, as the
/// syncobj wait ioctls take it (saturating).
pub fn deadline_ns(timeout: Duration) -> io::Result<i64> {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)?;
    let now = i128::from(now.tv_sec()) * 1_000_000_000 + i128::from(now.tv_nsec());
    let t = now.saturating_add(timeout.as_nanos().min(i64::MAX as u128) as i128);
    Ok(t.min(i128::from(i64::MAX)) as i64)
}

/// The render nodes (`/dev/dri/renderD*`) whose driver is dxg, sorted by
/// minor. Nodes that cannot be opened are skipped.
pub fn find_render_nodes() -> io::Result<Vec<PathBuf>> {
    let mut v: Vec<(u32, PathBuf)> = Vec::new();
    let dir = match std::fs::read_dir("/dev/dri") {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    for e in dir {
        let e = e?;
        let name = e.file_name();
        let Some(minor) = name
            .to_str()
            .and_then(|n| n.strip_prefix("renderD"))
            .and_then(|m| m.parse().ok())
        else {
            continue;
        };
        let is_dxg = Node::open(e.path())
            .and_then(|n| n.driver_name())
            .is_ok_and(|d| d == "dxg");
        if is_dxg {
            v.push((minor, e.path()));
        }
    }
    v.sort();
    Ok(v.into_iter().map(|(_, p)| p).collect())
}

impl Node {
    fn raw(&self) -> i32 {
        self.0.as_raw_fd()
    }

    /// `DRM_IOCTL_DXG_DEVICE_CREATE`: a host device (and its paging queue).
    pub fn create_device(&self) -> io::Result<Device<'_>> {
        let mut a = DrmDxgDeviceCreate::default();
        // SAFETY: `a` is a valid, writable `drm_dxg_device_create`; no
        // pointers inside.
        unsafe { ioctl_device_create(self.raw(), &mut a) }?;
        Ok(Device {
            node: self,
            id: a.device,
        })
    }

    /// A syncobj (binary or timeline: the kernel does not distinguish);
    /// `signaled` creates it signaled.
    pub fn create_syncobj(&self, signaled: bool) -> io::Result<Syncobj<'_>> {
        let handle = self.create_syncobj_raw(signaled)?;
        Ok(Syncobj { node: self, handle })
    }

    fn create_syncobj_raw(&self, signaled: bool) -> io::Result<syncobj::Handle> {
        drm::control::Device::create_syncobj(self, signaled)
    }

    /// `DRM_IOCTL_DXG_ESCAPE` to the adapter (no device, no context):
    /// `data` is sent and replaced by the host's answer.
    pub fn escape(&self, type_: u32, data: &mut [u8]) -> io::Result<()> {
        self.escape_in(0, 0, type_, data)
    }

    fn escape_in(&self, device: u32, context: u32, type_: u32, data: &mut [u8]) -> io::Result<()> {
        let a = escape_args(device, context, type_, data)?;
        // SAFETY: `a.data` points to `data`, `a.data_size` bytes, borrowed
        // mutably for the call: the kernel reads and writes only those.
        unsafe { ioctl_escape(self.raw(), &a) }?;
        Ok(())
    }

    /// Imports a dma-buf (PRIME) as a GEM object of this file. It gets a
    /// host allocation in a device on its first `Device::vm_bind_map`.
    pub fn import_bo(&self, fd: BorrowedFd<'_>) -> io::Result<Bo<'_>> {
        let size = nix::unistd::lseek(fd.as_raw_fd(), 0, nix::unistd::Whence::SeekEnd)?;
        let h = self.prime_fd_to_buffer(fd)?;
        Ok(Bo {
            node: self,
            handle: h.into(),
            size: size as u64,
        })
    }

    /// `DRM_IOCTL_DXG_QUERY_STATE` with caller-built arguments (no checks
    /// here); the kernel fills in the `out` fields.
    pub fn query_state_raw(&self, a: &mut DrmDxgQueryState) -> io::Result<()> {
        // SAFETY: a valid, writable argument struct without pointers.
        unsafe { ioctl_query_state(self.raw(), a) }?;
        Ok(())
    }

    /// `DRM_IOCTL_DXG_GEM_MMAP_OFFSET`: the fake offset to mmap `handle`.
    pub fn gem_mmap_offset(&self, handle: u32) -> io::Result<u64> {
        let mut a = DrmDxgGemMmapOffset {
            handle,
            ..Default::default()
        };
        // SAFETY: a valid, writable argument struct without pointers.
        unsafe { ioctl_gem_mmap_offset(self.raw(), &mut a) }?;
        Ok(a.offset)
    }
}

/// A host device (`DRM_IOCTL_DXG_DEVICE_CREATE`); destroyed on drop, with
/// its contexts, GPU VA mappings and host allocations (GEM objects stay).
#[derive(Debug)]
pub struct Device<'n> {
    node: &'n Node,
    id: u32,
}

impl<'n> Device<'n> {
    /// The device id (valid in this DRM file only).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The node (DRM file) of the device.
    pub fn node(&self) -> &'n Node {
        self.node
    }

    /// `DRM_IOCTL_DXG_CONTEXT_CREATE` on engine `node`, any physical engine.
    pub fn create_context(&self, node: u32, priv_data: &[u8]) -> io::Result<Context<'_>> {
        self.create_context_on(node, 0, priv_data)
    }

    /// `DRM_IOCTL_DXG_CONTEXT_CREATE` with an engine affinity mask.
    pub fn create_context_on(
        &self,
        node: u32,
        engine_affinity: u32,
        priv_data: &[u8],
    ) -> io::Result<Context<'_>> {
        let mut a = context_create_args(self.id, node, engine_affinity, priv_data)?;
        // SAFETY: `a.priv_data` points to `priv_data` (`a.priv_size` bytes),
        // which the kernel only reads; the rest is a plain struct.
        unsafe { ioctl_context_create(self.node.raw(), &mut a) }?;
        Ok(Context {
            device: self,
            id: a.context,
        })
    }

    /// `DRM_IOCTL_DXG_GEM_CREATE`: `size` bytes (rounded up to pages by
    /// the kernel) of guest memory the host sees, with a host allocation
    /// in this device described by `priv_data`.
    pub fn create_bo(&self, size: u64, priv_data: &[u8]) -> io::Result<Bo<'n>> {
        let mut a = gem_create_args(self.id, size, priv_data)?;
        // SAFETY: as in `create_context_on`: `priv_data` is only read.
        unsafe { ioctl_gem_create(self.node.raw(), &mut a) }?;
        Ok(Bo {
            node: self.node,
            handle: a.handle,
            size: size.div_ceil(PAGE_SIZE) * PAGE_SIZE,
        })
    }

    /// `DRM_IOCTL_DXG_VM_BIND` MAP: maps `range` bytes of `bo` from byte
    /// `offset` at GPU VA `va` (all page aligned). Returns once the paging
    /// queue has executed it.
    pub fn vm_bind_map(&self, bo: &Bo<'_>, offset: u64, range: u64, va: u64) -> io::Result<()> {
        let a = vm_bind_args(self.id, DXG_VM_BIND_MAP, bo.handle, offset, range, va)?;
        self.vm_bind_raw(&a)
    }

    /// `DRM_IOCTL_DXG_VM_BIND` UNMAP of exactly a range an earlier MAP
    /// created.
    pub fn vm_bind_unmap(&self, va: u64, range: u64) -> io::Result<()> {
        let a = vm_bind_args(self.id, DXG_VM_BIND_UNMAP, 0, 0, range, va)?;
        self.vm_bind_raw(&a)
    }

    /// `DRM_IOCTL_DXG_VM_BIND` with caller-built arguments (no checks here).
    pub fn vm_bind_raw(&self, a: &DrmDxgVmBind) -> io::Result<()> {
        // SAFETY: a plain struct without pointers, only read.
        unsafe { ioctl_vm_bind(self.node.raw(), a) }?;
        Ok(())
    }

    fn residency(&self, op: u32, bos: &[&Bo<'_>]) -> io::Result<()> {
        let handles: Vec<u32> = bos.iter().map(|b| b.handle).collect();
        let a = residency_args(self.id, op, &handles)?;
        // SAFETY: `a.handles` points to `handles` (`a.count` u32s), only
        // read by the kernel during the call.
        unsafe { ioctl_residency(self.node.raw(), &a) }?;
        Ok(())
    }

    /// `DRM_IOCTL_DXG_RESIDENCY` MAKE_RESIDENT (each object must have a
    /// host allocation in this device).
    pub fn make_resident(&self, bos: &[&Bo<'_>]) -> io::Result<()> {
        self.residency(DXG_RESIDENCY_MAKE_RESIDENT, bos)
    }

    /// `DRM_IOCTL_DXG_RESIDENCY` EVICT.
    pub fn evict(&self, bos: &[&Bo<'_>]) -> io::Result<()> {
        self.residency(DXG_RESIDENCY_EVICT, bos)
    }

    /// `DRM_IOCTL_DXG_ESCAPE` in this device.
    pub fn escape(&self, type_: u32, data: &mut [u8]) -> io::Result<()> {
        self.node.escape_in(self.id, 0, type_, data)
    }

    /// `DRM_IOCTL_DXG_QUERY_STATE`: the state of `context` (of this
    /// device), or of the device alone. Sends nothing to the host and
    /// never blocks.
    pub fn query_state(&self, context: Option<&Context<'_>>) -> io::Result<State> {
        let mut a = query_state_args(self.id, context.map_or(0, |c| c.id));
        self.node.query_state_raw(&mut a)?;
        Ok(State::from(&a))
    }
}

impl Drop for Device<'_> {
    fn drop(&mut self) {
        let a = DrmDxgDeviceDestroy {
            device: self.id,
            reserved: 0,
        };
        // SAFETY: a plain struct without pointers, only read.
        let _ = unsafe { ioctl_device_destroy(self.node.raw(), &a) };
    }
}

/// A context (`DRM_IOCTL_DXG_CONTEXT_CREATE`); destroyed on drop. With a
/// live host the destroy waits (at most the module's `timeout_ms`) for
/// the host to finish what it was sent; submissions never sent fail with
/// `-ECANCELED`.
#[derive(Debug)]
pub struct Context<'d> {
    device: &'d Device<'d>,
    id: u32,
}

impl Context<'_> {
    /// The context id (valid in this DRM file only).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// `DRM_IOCTL_DXG_SUBMIT`: runs `cmd_size` bytes of commands at GPU VA
    /// `cmd_va` after the `wait` fences; every `signal` syncobj (point)
    /// gets the submission's fence. Queues the work and returns at once:
    /// it never waits for a fence or for the host. `ECANCELED` if the
    /// context or its device is lost.
    pub fn submit(
        &self,
        cmd_va: u64,
        cmd_size: u64,
        priv_data: &[u8],
        wait: &[SyncPoint],
        signal: &[SyncPoint],
    ) -> io::Result<()> {
        let (w, s) = (syncs(wait)?, syncs(signal)?);
        let a = submit_args(self.id, cmd_va, cmd_size, priv_data, &w, &s)?;
        self.submit_raw(&a)
    }

    /// `DRM_IOCTL_DXG_SUBMIT` with caller-built arguments.
    ///
    /// # Safety
    ///
    /// The pointers in `a` must be 0 or point to readable memory of the
    /// sizes `a` gives (the kernel only reads through them).
    pub unsafe fn submit_raw_unchecked(&self, a: &DrmDxgSubmit) -> io::Result<()> {
        // SAFETY: the caller's promise.
        unsafe { ioctl_submit(self.device.node.raw(), a) }?;
        Ok(())
    }

    fn submit_raw(&self, a: &DrmDxgSubmit) -> io::Result<()> {
        // SAFETY: `a` was built by `submit_args` from live slices.
        unsafe { self.submit_raw_unchecked(a) }
    }

    /// `DRM_IOCTL_DXG_ESCAPE` in this context's device and this context.
    pub fn escape(&self, type_: u32, data: &mut [u8]) -> io::Result<()> {
        self.device
            .node
            .escape_in(self.device.id, self.id, type_, data)
    }

    /// `DRM_IOCTL_DXG_QUERY_STATE` of this context.
    pub fn query_state(&self) -> io::Result<State> {
        self.device.query_state(Some(self))
    }
}

impl Drop for Context<'_> {
    fn drop(&mut self) {
        let a = DrmDxgContextDestroy {
            context: self.id,
            reserved: 0,
        };
        // SAFETY: a plain struct without pointers, only read.
        let _ = unsafe { ioctl_context_destroy(self.device.node.raw(), &a) };
    }
}

/// A GEM buffer object of the DRM file; closed (`DRM_IOCTL_GEM_CLOSE`) on
/// drop. CPU mappings made with [`Bo::map`] stay valid after that.
#[derive(Debug)]
pub struct Bo<'n> {
    node: &'n Node,
    handle: u32,
    size: u64,
}

impl Bo<'_> {
    /// The GEM handle.
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// The size in bytes (whole pages).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Maps the whole object read-write and shared into this process.
    pub fn map(&self) -> io::Result<Mapping> {
        let off = self.node.gem_mmap_offset(self.handle)?;
        let len = usize::try_from(self.size)
            .ok()
            .and_then(NonZeroUsize::new)
            .ok_or_else(|| err(EINVAL))?;
        let off = i64::try_from(off).map_err(|_| err(EINVAL))?;
        use nix::sys::mman::{mmap, MapFlags, ProtFlags};
        // SAFETY: a new shared mapping chosen by the kernel (no address
        // hint), so it aliases no Rust object; `Mapping` unmaps it.
        let ptr = unsafe {
            mmap(
                None,
                len,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
                self.node.as_fd(),
                off,
            )
        }?;
        Ok(Mapping {
            ptr: ptr.cast(),
            len: len.get(),
        })
    }

    /// Exports the object as a dma-buf (PRIME), read-write, close-on-exec.
    pub fn export(&self) -> io::Result<OwnedFd> {
        let h: buffer::Handle = drm::control::from_u32(self.handle).ok_or_else(|| err(EINVAL))?;
        self.node.buffer_to_prime_fd(h, drm::CLOEXEC | drm::RDWR)
    }
}

impl Drop for Bo<'_> {
    fn drop(&mut self) {
        if let Some(h) = drm::control::from_u32::<buffer::Handle>(self.handle) {
            let _ = self.node.close_buffer(h);
        }
    }
}

/// A CPU mapping of a [`Bo`] (`mmap` of the DRM file); unmapped on drop.
///
/// The memory is shared with the GPU (the host): read what a submission
/// wrote only after waiting for its fence, and do not write what a
/// running submission uses.
#[derive(Debug)]
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

impl Mapping {
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: mappings are at least a page.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The mapped bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` is a live mapping of `len` readable bytes until
        // drop; the borrow of `self` keeps it alive.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The mapped bytes, writable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`; `&mut self` makes this the only Rust
        // reference into the mapping.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping `mmap` returned, unmapped exactly once; no
        // slice into it outlives `self`.
        let _ = unsafe { nix::sys::mman::munmap(self.ptr.cast(), self.len) };
    }
}

/// A drm_syncobj of the DRM file; destroyed on drop.
#[derive(Debug)]
pub struct Syncobj<'n> {
    node: &'n Node,
    handle: syncobj::Handle,
}

impl Syncobj<'_> {
    /// The syncobj handle.
    pub fn handle(&self) -> syncobj::Handle {
        self.handle
    }

    /// The raw handle.
    pub fn raw(&self) -> u32 {
        self.handle.into()
    }

    /// As a binary syncobj (point 0) for a submission.
    pub fn binary(&self) -> SyncPoint {
        self.at(0)
    }

    /// Timeline point `point` of this syncobj for a submission.
    pub fn at(&self, point: u64) -> SyncPoint {
        SyncPoint {
            handle: self.raw(),
            point,
        }
    }

    /// Waits (binary) until the syncobj's fence signals, waiting for a
    /// fence to be attached first; `ETIME` after `timeout`.
    pub fn wait(&self, timeout: Duration) -> io::Result<()> {
        self.node
            .syncobj_wait(&[self.handle], deadline_ns(timeout)?, true, true)
            .map(|_| ())
    }

    /// Waits until timeline point `point` signals (waiting for it to be
    /// submitted first); `ETIME` after `timeout`.
    pub fn wait_point(&self, point: u64, timeout: Duration) -> io::Result<()> {
        self.node
            .syncobj_timeline_wait(
                &[self.handle],
                &[point],
                deadline_ns(timeout)?,
                true,
                true,
                false,
            )
            .map(|_| ())
    }

    /// The timeline's last signaled point.
    pub fn query(&self) -> io::Result<u64> {
        let mut p = [0u64];
        self.node
            .syncobj_timeline_query(&[self.handle], &mut p, false)?;
        Ok(p[0])
    }

    /// Signals timeline point `point` from the CPU (0: the binary fence).
    pub fn signal(&self, point: u64) -> io::Result<()> {
        if point == 0 {
            self.node.syncobj_signal(&[self.handle])
        } else {
            self.node.syncobj_timeline_signal(&[self.handle], &[point])
        }
    }

    /// Exports the syncobj as a file descriptor, or (`sync_file`) its
    /// current fence as a poll()-able sync_file.
    pub fn to_fd(&self, sync_file: bool) -> io::Result<OwnedFd> {
        self.node.syncobj_to_fd(self.handle, sync_file)
    }
}

impl Drop for Syncobj<'_> {
    fn drop(&mut self) {
        let _ = self.node.destroy_syncobj(self.handle);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errno(r: io::Result<impl std::fmt::Debug>) -> i32 {
        r.unwrap_err().raw_os_error().unwrap()
    }

    #[test]
    fn sizes_are_filled_in_and_reserved_zero() {
        let a = context_create_args(3, 1, 0, &[1, 2, 3]).unwrap();
        assert_eq!(a.size, 40);
        assert_eq!((a.device, a.node, a.priv_size, a.reserved), (3, 1, 3, 0));
        assert_ne!(a.priv_data, 0);
        let a = context_create_args(3, 0, 0, &[]).unwrap();
        assert_eq!((a.priv_data, a.priv_size), (0, 0));
        assert_eq!(gem_create_args(1, 4096, &[]).unwrap().size, 40);
        assert_eq!(DrmDxgDeviceCreate::default().size, 16);
        assert_eq!(DrmDxgResidency::default().size, 32);
        assert_eq!(DrmDxgEscape::default().size, 32);
        assert_eq!(DrmDxgVmBind::default().size, 48);
        assert_eq!(DrmDxgSubmit::default().size, 72);
        assert_eq!(DrmDxgQueryState::default().size, 40);
        let q = query_state_args(3, 7);
        assert_eq!((q.size, q.flags, q.device, q.context), (40, 0, 3, 7));
    }

    #[test]
    fn states() {
        for (v, k) in [
            (DXG_STATE_ACTIVE, StateKind::Active),
            (DXG_STATE_CONTEXT_LOST, StateKind::ContextLost),
            (DXG_STATE_DEVICE_LOST, StateKind::DeviceLost),
            (DXG_STATE_HOST_GONE, StateKind::HostGone),
            (9, StateKind::Unknown(9)),
        ] {
            assert_eq!(StateKind::from(v), k);
        }
        let q = DrmDxgQueryState {
            state: DXG_STATE_CONTEXT_LOST,
            error: -62,
            submitted: 5,
            completed: 3,
            ..Default::default()
        };
        assert_eq!(
            State::from(&q),
            State {
                state: StateKind::ContextLost,
                error: -62,
                submitted: 5,
                completed: 3
            }
        );
    }

    #[test]
    fn private_data_limit() {
        let big = vec![0u8; DXG_PRIV_MAX + 1];
        let max = vec![0u8; DXG_PRIV_MAX];
        assert_eq!(errno(context_create_args(1, 0, 0, &big)), E2BIG);
        assert!(context_create_args(1, 0, 0, &max).is_ok());
        assert_eq!(errno(gem_create_args(1, 4096, &big)), E2BIG);
        assert_eq!(errno(gem_create_args(1, 0, &max)), EINVAL);
        assert_eq!(errno(submit_args(1, 0x1000, 8, &big, &[], &[])), E2BIG);
        let mut big = big;
        assert_eq!(errno(escape_args(0, 0, 0, &mut big)), E2BIG);
        assert_eq!(errno(escape_args(0, 0, 0, &mut [])), EINVAL);
        let mut one = [7u8];
        let e = escape_args(2, 5, 9, &mut one).unwrap();
        assert_eq!((e.device, e.context, e.type_, e.data_size), (2, 5, 9, 1));
    }

    #[test]
    fn vm_bind_checks() {
        let m = |h, off, range, va| vm_bind_args(1, DXG_VM_BIND_MAP, h, off, range, va);
        let a = m(5, 0x1000, 0x2000, 0x1_0000_0000).unwrap();
        assert_eq!(
            (a.op, a.handle, a.offset, a.range, a.va),
            (0, 5, 0x1000, 0x2000, 1 << 32)
        );
        assert_eq!((a.flags, a.reserved), (0, 0));
        assert_eq!(errno(m(0, 0, 4096, 0x10000)), EINVAL); // no handle
        assert_eq!(errno(m(5, 1, 4096, 0x10000)), EINVAL); // offset
        assert_eq!(errno(m(5, 0, 4095, 0x10000)), EINVAL); // range
        assert_eq!(errno(m(5, 0, 0, 0x10000)), EINVAL); // empty
        assert_eq!(errno(m(5, 0, 4096, 0x10001)), EINVAL); // va
        assert_eq!(errno(m(5, 0, 8192, u64::MAX - 4095)), EINVAL); // wraps
        let u = vm_bind_args(1, DXG_VM_BIND_UNMAP, 0, 0, 4096, 0x10000).unwrap();
        assert_eq!((u.op, u.handle), (DXG_VM_BIND_UNMAP, 0));
        assert_eq!(
            errno(vm_bind_args(1, DXG_VM_BIND_UNMAP, 5, 0, 4096, 0x10000)),
            EINVAL
        );
        assert_eq!(errno(vm_bind_args(1, 2, 5, 0, 4096, 0x10000)), EINVAL);
    }

    #[test]
    fn submit_syncs() {
        let pts: Vec<SyncPoint> = (1..=3)
            .map(|h| SyncPoint {
                handle: h,
                point: 10 * u64::from(h),
            })
            .collect();
        let w = syncs(&pts).unwrap();
        assert_eq!(
            w[2],
            DrmDxgSync {
                handle: 3,
                flags: 0,
                point: 30
            }
        );
        let a = submit_args(4, 0x1_0000_0000, 64, &[], &w, &[]).unwrap();
        assert_eq!((a.context, a.cmd_va, a.cmd_size), (4, 1 << 32, 64));
        assert_eq!((a.num_in_syncs, a.in_syncs), (3, w.as_ptr() as u64));
        assert_eq!((a.num_out_syncs, a.out_syncs), (0, 0));
        assert_eq!(
            (a.priv_data, a.priv_size, a.reserved, a.reserved2),
            (0, 0, 0, 0)
        );
        let many = vec![
            SyncPoint {
                handle: 1,
                point: 0
            };
            DXG_MAX_SYNCS + 1
        ];
        assert_eq!(errno(syncs(&many)), E2BIG);
        assert!(syncs(&many[1..]).is_ok());
        assert_eq!(
            errno(syncs(&[SyncPoint {
                handle: 0,
                point: 1
            }])),
            EINVAL
        );
        let many: Vec<DrmDxgSync> = many.iter().map(|&s| s.into()).collect();
        assert_eq!(errno(submit_args(1, 0, 8, &[], &[], &many)), E2BIG);
        assert_eq!(errno(submit_args(1, 0x1000, 0, &[], &[], &[])), EINVAL);
        assert_eq!(errno(submit_args(1, u64::MAX, 8, &[], &[], &[])), EINVAL);
    }

    #[test]
    fn residency_checks() {
        let a = residency_args(2, DXG_RESIDENCY_EVICT, &[1, 2]).unwrap();
        assert_eq!((a.device, a.op, a.count, a.reserved), (2, 1, 2, 0));
        assert_eq!(errno(residency_args(2, 0, &[])), EINVAL);
        assert_eq!(errno(residency_args(2, 2, &[1])), EINVAL);
        assert_eq!(
            errno(residency_args(2, 0, &vec![1; DXG_MAX_RESIDENCY + 1])),
            E2BIG
        );
        assert!(residency_args(2, 0, &vec![1; DXG_MAX_RESIDENCY]).is_ok());
    }

    #[test]
    fn deadline_is_in_the_future_and_saturates() {
        let a = deadline_ns(Duration::from_secs(1)).unwrap();
        let b = deadline_ns(Duration::ZERO).unwrap();
        assert!(a > b && a - b >= 999_000_000);
        assert_eq!(deadline_ns(Duration::MAX).unwrap(), i64::MAX);
    }

    #[test]
    fn no_dxg_nodes_is_not_an_error() {
        // The build machine has no dxg device (and maybe no /dev/dri).
        let _ = find_render_nodes().unwrap();
    }
}
