// SPDX-License-Identifier: GPL-2.0

//! Per-open-file state and the driver's ioctls.
//!
//! A DRM file is a host process (created on open, destroyed on close). It
//! owns the host devices and contexts it creates, by small per-file ids
//! that are never reused while the file is open. Everything it owns is
//! destroyed when the file closes: contexts, then devices, then the
//! process. Every ioctl validates its whole argument (size, flags,
//! reserved fields, bounds) before it sends anything to the host.
//!
//! Lock order: [`DxgFile::objects`] is a leaf, held only to look up or
//! insert; host requests are sent without it.

use kernel::page::PAGE_SIZE;
use kernel::{
    dma_fence::{ChainNode, Fence},
    drm::{self, gem::BaseObject, syncobj::SyncObj, Registered},
    new_mutex,
    prelude::*,
    sync::{Arc, Mutex},
    uaccess::{UserPtr, UserSlice},
};

use crate::drm::driver::{DxgDevice, DxgDriver};
use crate::drm::gem::{self, DxgGem, GemArgs};
use crate::host::{
    adapter::Adapter,
    context::{EngineStats, HostContext, Loss, Submission},
    device::{self, HostDevice},
    process::HostProcess,
};
use crate::proto::{Handle, U64};
use crate::sys::{smallbuf::SmallBuf, uapi};

/// Most devices one DRM file may create.
const MAX_DEVICES: usize = 64;
/// Most contexts one DRM file may create.
const MAX_CONTEXTS: usize = 1024;
/// Largest GEM object.
const MAX_BO_SIZE: u64 = 1 << 32;
/// Most fences one WAITFORSYNCOBJECTFROMGPU names (the protocol's limit);
/// further ones are waited for in the guest.
const MAX_GPU_WAITS: usize = 32;

/// Objects of one kind that a file created, by id.
struct IdTable<T> {
    list: KVec<(u32, Arc<T>)>,
    /// Most entries (`ENOSPC` beyond).
    max: usize,
}

impl<T> IdTable<T> {
    const fn new(max: usize) -> Self {
        Self {
            list: KVec::new(),
            max,
        }
    }

    fn get(&self, id: u32) -> Result<Arc<T>> {
        self.list
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, x)| x.clone())
            .ok_or(ENOENT)
    }

    fn check_room(&self) -> Result {
        if self.list.len() >= self.max {
            return Err(ENOSPC);
        }
        Ok(())
    }

    fn insert(&mut self, id: u32, x: Arc<T>) -> Result {
        self.check_room()?;
        self.list.push((id, x), GFP_KERNEL)?;
        Ok(())
    }

    fn remove(&mut self, id: u32) -> Result<Arc<T>> {
        let pos = self.list.iter().position(|(i, _)| *i == id).ok_or(ENOENT)?;
        Ok(self.list.remove(pos).map_err(|_| ENOENT)?.1)
    }

    /// Take out every entry for which `f` holds (dropped by the caller,
    /// outside the lock).
    fn take_where(&mut self, f: impl Fn(&T) -> bool) -> Result<KVec<Arc<T>>> {
        let mut out = KVec::new();
        let mut i = 0;
        while i < self.list.len() {
            if self.list.get(i).is_some_and(|(_, x)| f(x)) {
                out.reserve(1, GFP_KERNEL)?;
                if let Ok((_, x)) = self.list.remove(i) {
                    out.push(x, GFP_KERNEL)?;
                }
            } else {
                i += 1;
            }
        }
        Ok(out)
    }
}

/// What a file created, by id. Ids are shared by both tables.
struct FileObjects {
    next_id: u32,
    devices: IdTable<HostDevice>,
    contexts: IdTable<HostContext>,
}

impl FileObjects {
    /// A fresh id: never 0, never reused while the file is open.
    fn next_id(&mut self) -> Result<u32> {
        let id = self.next_id;
        self.next_id = id.checked_add(1).ok_or(ENOSPC)?;
        Ok(id)
    }
}

/// What a dxg DRM file holds.
#[pin_data]
pub(crate) struct DxgFile {
    /// Distinguishes this file from every other file of the device, ever.
    key: u64,
    adapter: Arc<Adapter>,
    /// GPU time of this file's submissions.
    stats: Arc<EngineStats>,
    /// Protects the device and context tables.
    #[pin]
    objects: Mutex<FileObjects>,
    /// The file's host process; destroyed when the file closes, after
    /// everything above (fields drop in order).
    process: HostProcess,
}

impl drm::file::DriverFile for DxgFile {
    type Driver = DxgDriver;

    fn open(dev: &DxgDevice) -> Result<Pin<KBox<Self>>> {
        let a = dev.adapter();
        let process = HostProcess::create(a.vm().clone(), a.version())?;
        let stats = EngineStats::new()?;
        KBox::pin_init(
            pin_init!(Self {
                key: dev.next_file_key(),
                adapter: a.clone(),
                stats,
                objects <- new_mutex!(FileObjects {
                    next_id: 1,
                    devices: IdTable::new(MAX_DEVICES),
                    contexts: IdTable::new(MAX_CONTEXTS),
                }, "dxg_file_objects"),
                process,
            }),
            GFP_KERNEL,
        )
    }
}

/// Check an extensible struct's size field.
fn check_size<T>(size: u32) -> Result {
    if size as usize != core::mem::size_of::<T>() {
        return Err(EINVAL);
    }
    Ok(())
}

/// Copy `len` bytes (at most `max`, else `E2BIG`) from user address `ptr`
/// into a buffer for the call at hand (small ones need no allocation).
fn read_user(ptr: u64, len: u32, max: u32) -> Result<SmallBuf<64>> {
    if len > max {
        return Err(E2BIG);
    }
    let mut v = SmallBuf::zeroed(len as usize, GFP_KERNEL)?;
    read_user_into(ptr, &mut v)?;
    Ok(v)
}

/// [`read_user`], into a buffer that is kept (by a GEM object or a job).
fn read_user_vec(ptr: u64, len: u32, max: u32) -> Result<KVec<u8>> {
    if len > max {
        return Err(E2BIG);
    }
    let mut v = KVec::from_elem(0u8, len as usize, GFP_KERNEL)?;
    read_user_into(ptr, &mut v)?;
    Ok(v)
}

/// Fill `dst` from user address `ptr`.
fn read_user_into(ptr: u64, dst: &mut [u8]) -> Result {
    if dst.is_empty() {
        return Ok(());
    }
    let addr = usize::try_from(ptr).map_err(|_| EFAULT)?;
    UserSlice::new(UserPtr::from_addr(addr), dst.len())
        .reader()
        .read_slice(dst)
}

/// Copy `data` back to user address `ptr`.
fn write_user(ptr: u64, data: &[u8]) -> Result {
    let addr = usize::try_from(ptr).map_err(|_| EFAULT)?;
    UserSlice::new(UserPtr::from_addr(addr), data.len())
        .writer()
        .write_slice(data)
}

/// Copy `count` (at most `max`, else `E2BIG`) records of `T` from `ptr`.
fn read_user_array<T: kernel::transmute::FromBytes>(
    ptr: u64,
    count: u32,
    max: u32,
) -> Result<KVec<T>> {
    if count > max {
        return Err(E2BIG);
    }
    let mut v = KVec::with_capacity(count as usize, GFP_KERNEL)?;
    if count == 0 {
        return Ok(v);
    }
    let addr = usize::try_from(ptr).map_err(|_| EFAULT)?;
    let len = (count as usize)
        .checked_mul(core::mem::size_of::<T>())
        .ok_or(E2BIG)?;
    let mut r = UserSlice::new(UserPtr::from_addr(addr), len).reader();
    for _ in 0..count {
        v.push(r.read::<T>()?, GFP_KERNEL)?;
    }
    Ok(v)
}

/// A page-aligned value.
fn page_aligned(v: u64) -> bool {
    v % PAGE_SIZE as u64 == 0
}

impl DxgFile {
    /// See the `key` field.
    pub(crate) fn key(&self) -> u64 {
        self.key
    }

    /// The GPU time of this file's submissions, in ns (fdinfo
    /// `drm-engine-gpu`).
    pub(crate) fn engine_ns(&self) -> u64 {
        self.stats.busy_ns()
    }

    /// Wait, for at most `timeout_ms`, until the host has completed the
    /// jobs of this file it was sent so far (before allocations go: the
    /// host would fault on work that uses them).
    pub(crate) fn wait_sent(&self) {
        if self.adapter.closing() || self.adapter.dead().is_some() {
            return;
        }
        let contexts: KVec<Arc<HostContext>> = {
            let o = self.objects.lock();
            let mut v = KVec::new();
            for (_, c) in o.contexts.list.iter() {
                if v.push(c.clone(), GFP_KERNEL).is_err() {
                    break;
                }
            }
            v
        };
        let timeout = crate::module_parameters::timeout_ms.value();
        for c in contexts.iter() {
            if !c.wait_sent(timeout) {
                pr_warn!("the host did not complete a context's jobs in time\n");
                break;
            }
        }
    }

    /// The device with id `id`.
    pub(crate) fn device(&self, id: u32) -> Result<Arc<HostDevice>> {
        self.objects.lock().devices.get(id)
    }

    fn context(&self, id: u32) -> Result<Arc<HostContext>> {
        self.objects.lock().contexts.get(id)
    }

    /// The host sync object and value standing for `fence`, if it is a
    /// fence of one of this file's contexts that the host can order.
    fn host_fence(&self, fence: &Fence) -> Option<(Handle, u64)> {
        let o = self.objects.lock();
        o.contexts
            .list
            .iter()
            .find_map(|(_, c)| c.host_fence(fence))
    }

    /// DRM_IOCTL_DXG_QUERY_ADAPTER.
    pub(crate) fn query_adapter(
        dev: &DxgDevice<Registered>,
        _reg: &(),
        req: &mut uapi::drm_dxg_query_adapter,
        file: &drm::File<DxgFile>,
    ) -> Result<u32> {
        check_size::<uapi::drm_dxg_query_adapter>(req.size)?;
        if req.flags != 0 || req.reserved != 0 {
            return Err(EINVAL);
        }
        let a = dev.adapter();
        req.luid = a.luid().as_u64();
        req.uapi_version = uapi::DXG_UAPI_VERSION;
        req.host_version = a.version();
        req.adapter_flags = if a.compute_only(file.inner().process.handle())? {
            uapi::DXG_ADAPTER_COMPUTE_ONLY
        } else {
            0
        };
        a.description_utf8(&mut req.description);
        Ok(0)
    }

    /// DRM_IOCTL_DXG_QUERY_ADAPTER_INFO.
    pub(crate) fn query_adapter_info(
        dev: &DxgDevice<Registered>,
        _reg: &(),
        req: &mut uapi::drm_dxg_query_adapter_info,
        file: &drm::File<DxgFile>,
    ) -> Result<u32> {
        check_size::<uapi::drm_dxg_query_adapter_info>(req.size)?;
        if req.reserved != 0 {
            return Err(EINVAL);
        }
        let mut data = read_user(req.data, req.data_size, uapi::DXG_QUERY_MAX)?;
        let process = file.inner().process.handle();
        dev.adapter()
            .query_adapter_info(process, req.type_, &mut data)?;
        write_user(req.data, &data)?;
        Ok(0)
    }

    /// DRM_IOCTL_DXG_DEVICE_CREATE.
    pub(crate) fn device_create(
        _dev: &DxgDevice<Registered>,
        _reg: &(),
        req: &mut uapi::drm_dxg_device_create,
        file: &drm::File<DxgFile>,
    ) -> Result<u32> {
        check_size::<uapi::drm_dxg_device_create>(req.size)?;
        if req.flags != 0 || req.reserved != 0 {
            return Err(EINVAL);
        }
        let f = file.inner();
        // Checked before and after the host round trip (which is unlocked).
        f.objects.lock().devices.check_room()?;
        let d = Arc::new(
            HostDevice::create(f.adapter.clone(), f.process.handle())?,
            GFP_KERNEL,
        )?;
        let mut o = f.objects.lock();
        let id = o.next_id()?;
        o.devices.insert(id, d)?;
        req.device = id;
        Ok(0)
    }

    /// DRM_IOCTL_DXG_DEVICE_DESTROY.
    pub(crate) fn device_destroy(
        _dev: &DxgDevice<Registered>,
        _reg: &(),
        req: &mut uapi::drm_dxg_device_destroy,
        file: &drm::File<DxgFile>,
    ) -> Result<u32> {
        if req.reserved != 0 {
            return Err(EINVAL);
        }
        let (device, contexts) = {
            let f = file.inner();
            let mut o = f.objects.lock();
            let d = o.devices.remove(req.device)?;
            // Its contexts go first (they keep the device alive).
            let gone = o.contexts.take_where(|c| Arc::ptr_eq(c.device(), &d))?;
            (d, gone)
        };
        drop(contexts);
        drop(device);
        Ok(0)
    }

    /// DRM_IOCTL_DXG_CONTEXT_CREATE.
    pub(crate) fn context_create(
        _dev: &DxgDevice<Registered>,
        _reg: &(),
        req: &mut uapi::drm_dxg_context_create,
        file: &drm::File<DxgFile>,
    ) -> Result<u32> {
        check_size::<uapi::drm_dxg_context_create>(req.size)?;
        if req.flags != 0 || req.reserved != 0 {
            return Err(EINVAL);
        }
        let f = file.inner();
        let priv_data = read_user(req.priv_data, req.priv_size, uapi::DXG_PRIV_MAX)?;
        let d = f.device(req.device)?;
        f.objects.lock().contexts.check_room()?;
        let c = HostContext::create(
            d.clone(),
            req.node,
            req.engine_affinity,
            &priv_data,
            f.stats.clone(),
        )?;
        let inserted = {
            let mut o = f.objects.lock();
            // The device may have been destroyed meanwhile (its contexts
            // with it): then the new context must not outlive it.
            if o.devices
                .get(req.device)
                .is_ok_and(|now| Arc::ptr_eq(&now, &d))
            {
                let id = o.next_id()?;
                o.contexts.insert(id, c.clone())?;
                req.context = id;
                true
            } else {
                false
            }
        };
        // If not, `c` is destroyed on the host here, outside the lock.
        if inserted {
            Ok(0)
        } else {
            Err(ENOENT)
        }
    }

    /// DRM_IOCTL_DXG_CONTEXT_DESTROY.
    pub(crate) fn context_destroy(
        _dev: &DxgDevice<Registered>,
        _reg: &(),
        req: &mut uapi::drm_dxg_context_destroy,
        file: &drm::File<DxgFile>,
    ) -> Result<u32> {
        if req.reserved != 0 {
            return Err(EINVAL);
        }
        let c = {
            let f = file.inner();
            let mut o = f.objects.lock();
            o.contexts.remove(req.context)?
        };
        drop(c);
        Ok(0)
    }

    /// DRM_IOCTL_DXG_GEM_CREATE.
    pub(crate) fn gem_create(
        dev: &DxgDevice<Registered>,
        _reg: &(),
        req: &mut uapi::drm_dxg_gem_create,
        file: &drm::File<DxgFile>,
    ) -> Result<u32> {
        check_size::<uapi::drm_dxg_gem_create>(req.size)?;
        if req.flags != 0 || req.reserved != 0 || req.bo_size == 0 {
            return Err(EINVAL);
        }
        if req.bo_size > MAX_BO_SIZE {
            return Err(E2BIG);
        }
        let size = req.bo_size.next_multiple_of(PAGE_SIZE as u64) as usize;
        let f = file.inner();
        let priv_data = read_user_vec(req.priv_data, req.priv_size, uapi::DXG_PRIV_MAX)?;
        let d = f.device(req.device)?;
        gem::check_memory(size)?;
        let obj = DxgGem::new(dev, size, Default::default(), GemArgs { priv_data })?;
        gem::share_pages(&obj)?;
        gem::allocation_in(&obj, &f, req.device, &d)?;
        req.handle = obj.create_handle(file)?;
        Ok(0)
    }

    /// DRM_IOCTL_DXG_GEM_MMAP_OFFSET.
    pub(crate) fn gem_mmap_offset(
        _dev: &DxgDevice<Registered>,
        _reg: &(),
        req: &mut uapi::drm_dxg_gem_mmap_offset,
        file: &drm::File<DxgFile>,
    ) -> Result<u32> {
        if req.flags != 0 {
            return Err(EINVAL);
        }
        let obj = DxgGem::lookup_handle(file, req.handle)?;
        req.offset = obj.create_mmap_offset()?;
        Ok(0)
    }

    /// DRM_IOCTL_DXG_VM_BIND.
    pub(crate) fn vm_bind(
        _dev: &DxgDevice<Registered>,
        _reg: &(),
        req: &mut uapi::drm_dxg_vm_bind,
        file: &drm::File<DxgFile>,
    ) -> Result<u32> {
        check_size::<uapi::drm_dxg_vm_bind>(req.size)?;
        if req.flags != 0
            || req.reserved != 0
            || req.range == 0
            || !page_aligned(req.range)
            || !page_aligned(req.va)
            || !page_aligned(req.offset)
        {
            return Err(EINVAL);
        }
        // VA 0 would ask the host to choose an address.
        if req.va == 0 {
            return Err(EINVAL);
        }
        req.va.checked_add(req.range).ok_or(EINVAL)?;
        let f = file.inner();
        match req.op {
            uapi::DXG_VM_BIND_MAP => {
                let d = f.device(req.device)?;
                let obj = DxgGem::lookup_handle(file, req.handle)?;
                let end = req.offset.checked_add(req.range).ok_or(EINVAL)?;
                if end > obj.size() as u64 {
                    return Err(EINVAL);
                }
                let alloc = gem::allocation_in(&obj, &f, req.device, &d)?;
                let page = PAGE_SIZE as u64;
                d.map_gpu_va(alloc, req.va, req.offset / page, req.range / page)?;
            }
            uapi::DXG_VM_BIND_UNMAP => {
                if req.handle != 0 || req.offset != 0 {
                    return Err(EINVAL);
                }
                f.device(req.device)?.free_gpu_va(req.va, req.range)?;
            }
            _ => return Err(EINVAL),
        }
        Ok(0)
    }

    /// DRM_IOCTL_DXG_SUBMIT: look everything up, then queue the job; never
    /// waits (see `host/context.rs`).
    pub(crate) fn submit(
        _dev: &DxgDevice<Registered>,
        _reg: &(),
        req: &mut uapi::drm_dxg_submit,
        file: &drm::File<DxgFile>,
    ) -> Result<u32> {
        check_size::<uapi::drm_dxg_submit>(req.size)?;
        if req.flags != 0 || req.reserved != 0 || req.reserved2 != 0 || req.cmd_size == 0 {
            return Err(EINVAL);
        }
        let cmd_len = u32::try_from(req.cmd_size).map_err(|_| E2BIG)?;
        let f = file.inner();
        let priv_data = read_user_vec(req.priv_data, req.priv_size, uapi::DXG_PRIV_MAX)?;
        let ins: KVec<uapi::drm_dxg_sync> =
            read_user_array(req.in_syncs, req.num_in_syncs, uapi::DXG_MAX_SYNCS)?;
        let outs: KVec<uapi::drm_dxg_sync> =
            read_user_array(req.out_syncs, req.num_out_syncs, uapi::DXG_MAX_SYNCS)?;
        if Iterator::chain(ins.iter(), outs.iter()).any(|s| s.flags != 0) {
            return Err(EINVAL);
        }
        let ctx = f.context(req.context)?;
        // Sort the in-fences: the host orders fences of this file's
        // contexts (same host process) that it was sent; the guest waits
        // for the rest.
        let mut gpu_objects = KVec::new();
        let mut gpu_values = KVec::new();
        let mut deps = KVec::new();
        for s in ins.iter() {
            let fence = SyncObj::find_fence(file, s.handle, s.point, 0)?;
            for c in fence.components()? {
                if c.is_signaled() {
                    // Its error, if any, still fails the job.
                    if c.status().is_err() {
                        deps.push(c, GFP_KERNEL)?;
                    }
                    continue;
                }
                if ctx.owns(&c) {
                    // Earlier work of the same queue: ordered already.
                    continue;
                }
                match f.host_fence(&c) {
                    Some((obj, value)) if gpu_objects.len() < MAX_GPU_WAITS => {
                        gpu_objects.push(obj, GFP_KERNEL)?;
                        gpu_values.push(U64::new(value), GFP_KERNEL)?;
                    }
                    _ => deps.push(c, GFP_KERNEL)?,
                }
            }
        }
        let mut targets = KVec::with_capacity(outs.len(), GFP_KERNEL)?;
        for s in outs.iter() {
            let chain = if s.point != 0 {
                Some(ChainNode::new()?)
            } else {
                None
            };
            targets.push(
                (SyncObj::lookup(file, s.handle)?, s.point, chain),
                GFP_KERNEL,
            )?;
        }
        let fence = ctx.queue(
            Submission {
                cmd_va: req.cmd_va,
                cmd_len,
                priv_data,
            },
            gpu_objects,
            gpu_values,
            deps,
        )?;
        for (syncobj, point, chain) in targets.into_iter() {
            match chain {
                Some(chain) => syncobj.add_point(chain, &fence, point),
                None => syncobj.replace_fence(Some(&*fence)),
            }
        }
        Ok(0)
    }

    /// DRM_IOCTL_DXG_QUERY_STATE.
    pub(crate) fn query_state(
        _dev: &DxgDevice<Registered>,
        _reg: &(),
        req: &mut uapi::drm_dxg_query_state,
        file: &drm::File<DxgFile>,
    ) -> Result<u32> {
        check_size::<uapi::drm_dxg_query_state>(req.size)?;
        if req.flags != 0 {
            return Err(EINVAL);
        }
        let f = file.inner();
        let d = f.device(req.device)?;
        let (lost, submitted, completed) = if req.context == 0 {
            (None, 0, 0)
        } else {
            let c = f.context(req.context)?;
            if !Arc::ptr_eq(c.device(), &d) {
                return Err(EINVAL);
            }
            let st = c.query();
            (st.lost, st.submitted, st.completed)
        };
        let lost = if d.adapter().dead().is_some() || d.adapter().closing() {
            Some((Loss::Host, ENODEV))
        } else if d.health().lost() {
            Some((Loss::Device, EIO))
        } else {
            lost
        };
        req.state = match lost {
            None => uapi::DXG_STATE_ACTIVE,
            Some((Loss::Context, _)) => uapi::DXG_STATE_CONTEXT_LOST,
            Some((Loss::Device, _)) => uapi::DXG_STATE_DEVICE_LOST,
            Some((Loss::Host, _)) => uapi::DXG_STATE_HOST_GONE,
        };
        req.error = lost.map_or(0, |(_, e)| e.to_errno());
        req.submitted = submitted;
        req.completed = completed;
        Ok(0)
    }

    /// DRM_IOCTL_DXG_ESCAPE.
    pub(crate) fn escape(
        _dev: &DxgDevice<Registered>,
        _reg: &(),
        req: &mut uapi::drm_dxg_escape,
        file: &drm::File<DxgFile>,
    ) -> Result<u32> {
        check_size::<uapi::drm_dxg_escape>(req.size)?;
        if req.flags != 0 || req.data_size == 0 {
            return Err(EINVAL);
        }
        let f = file.inner();
        let mut data = read_user(req.data, req.data_size, uapi::DXG_PRIV_MAX)?;
        match (req.device, req.context) {
            (0, 0) => device::escape(
                &f.adapter,
                f.process.handle(),
                Handle::NULL,
                Handle::NULL,
                req.type_,
                &mut data,
            )?,
            (0, _) => return Err(EINVAL),
            (d, 0) => f.device(d)?.escape(Handle::NULL, req.type_, &mut data)?,
            (d, c) => {
                let dev = f.device(d)?;
                let ctx = f.context(c)?;
                if !Arc::ptr_eq(ctx.device(), &dev) {
                    return Err(EINVAL);
                }
                dev.escape(ctx.handle(), req.type_, &mut data)?
            }
        }
        write_user(req.data, &data)?;
        Ok(0)
    }

    /// DRM_IOCTL_DXG_RESIDENCY.
    pub(crate) fn residency(
        _dev: &DxgDevice<Registered>,
        _reg: &(),
        req: &mut uapi::drm_dxg_residency,
        file: &drm::File<DxgFile>,
    ) -> Result<u32> {
        check_size::<uapi::drm_dxg_residency>(req.size)?;
        if req.reserved != 0 || req.count == 0 {
            return Err(EINVAL);
        }
        if req.op != uapi::DXG_RESIDENCY_MAKE_RESIDENT && req.op != uapi::DXG_RESIDENCY_EVICT {
            return Err(EINVAL);
        }
        let f = file.inner();
        let handles: KVec<u32> = read_user_array(req.handles, req.count, uapi::DXG_MAX_RESIDENCY)?;
        let d = f.device(req.device)?;
        let mut allocs = KVec::with_capacity(handles.len(), GFP_KERNEL)?;
        for h in handles.iter() {
            let obj = DxgGem::lookup_handle(file, *h)?;
            allocs.push(
                gem::existing_allocation(&obj, &f, req.device).ok_or(ENOENT)?,
                GFP_KERNEL,
            )?;
        }
        if req.op == uapi::DXG_RESIDENCY_MAKE_RESIDENT {
            d.make_resident(&allocs)?;
        } else {
            d.evict(&allocs)?;
        }
        Ok(0)
    }
}
