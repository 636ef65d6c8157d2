// SPDX-License-Identifier: GPL-2.0

//! Host devices.
//!
//! A host device (CREATEDEVICE, the D3DKMT device) scopes contexts, the GPU
//! virtual address space and host allocations. dxg gives each one a paging
//! queue (CREATEPAGINGQUEUE): GPU VA updates and residency changes run on
//! it, and the kernel waits for its monitored fence before returning, so
//! user space never sees a half-applied mapping. Dropping the device sends
//! DESTROYDEVICE, which destroys everything the host keeps under it.
//!
//! Waiting for a host fence from the CPU: if the value in the IO space is
//! not reached yet, WAITFORSYNCOBJECTFROMCPU names a guest event and the
//! waiter sleeps until SIGNALGUESTEVENT (routed by [`Vm`](crate::host::vm::Vm)),
//! for at most the channel timeout (only a fatal signal ends the wait
//! early: the host acts on the request either way).

use kernel::page::PAGE_SIZE;
use kernel::{
    new_condvar, new_spinlock_irq,
    prelude::*,
    sync::{Arc, CondVar, SpinLockIrq},
};

use crate::host::{
    adapter::Adapter,
    health::DeviceHealth,
    request::{check_status, decode_raw, errno, proto_err},
    vm::{GuestEvent, IoSpace},
};
use crate::proto::{
    alloc::{
        AllocInfo, CreateAllocationMsg, CreateAllocationReply, DestroyAllocationMsg,
        CREATE_ALLOC_FLAG_EXISTING_SYSMEM, CREATE_ALLOC_FLAG_STANDARD_ALLOCATION,
    },
    backing::SetExistingSysmemStore,
    context::{CreatePagingQueue, CreatePagingQueueReply},
    decode_reply,
    device::{
        CreateDevice, CreateDeviceReply, DestroyDevice, FlushDevice, FLUSH_REASON_DEVICE_TERMINATE,
    },
    gpuva::{FreeGpuVirtualAddress, MapGpuVaReply, MapGpuVirtualAddress},
    misc::EscapeMsg,
    model::StandardAllocDesc,
    residency::{EvictMsg, EvictReply, MakeResidentMsg, MakeResidentReply},
    syncmsg::WaitFromCpuMsg,
    validate::check_sysmem_size,
    Handle, U32, U64,
};
use crate::sys::util::{wait_until, WaitEnd};

/// D3DKMT_STANDARDALLOCATIONTYPE_EXISTINGHEAP: guest memory of a given size.
const STD_ALLOC_EXISTING_HEAP: u32 = 1;

/// MAPGPUVIRTUALADDRESS protection: read and write.
const PROTECT_READ_WRITE: u64 = 0;

/// A CPU waiter for one guest event.
#[pin_data]
struct CpuWait {
    /// Protects the outcome; `None` until the event comes.
    #[pin]
    done: SpinLockIrq<Option<Result>>,
    #[pin]
    cv: CondVar,
}

impl GuestEvent for CpuWait {
    fn signal(&self, result: Result) {
        *self.done.lock() = Some(result);
        self.cv.notify_all();
    }
}

/// A host device of one DRM file.
pub(crate) struct HostDevice {
    adapter: Arc<Adapter>,
    /// The host process of the DRM file.
    process: Handle,
    handle: Handle,
    paging_queue: Handle,
    paging_sync: Handle,
    paging_fence_gpa: u64,
    io: Arc<IoSpace>,
    /// Whether the host reported the device lost (registered with the VM
    /// under its cookie while the device exists).
    health: Arc<DeviceHealth>,
}

impl HostDevice {
    /// CREATEDEVICE and CREATEPAGINGQUEUE for `process` on `adapter`.
    pub(crate) fn create(adapter: Arc<Adapter>, process: Handle) -> Result<Self> {
        let io = adapter.vm().io_space()?;
        let health = DeviceHealth::new(adapter.vm().next_cookie())?;
        let r = adapter.request(
            &CreateDevice::new(process, 0, health.cookie()),
            size_of::<CreateDeviceReply>(),
        )?;
        let handle = decode_raw(&r, |r| {
            decode_reply::<CreateDeviceReply>(r).and_then(|d| d.validate())
        })?;
        let mut dev = Self {
            adapter,
            process,
            handle,
            paging_queue: Handle::NULL,
            paging_sync: Handle::NULL,
            paging_fence_gpa: 0,
            io,
            health,
        };
        dev.adapter.vm().add_device(dev.health.clone())?;
        // From here on, dropping `dev` destroys the host device.
        let r = dev.adapter.request(
            &CreatePagingQueue::new(process, handle, 0),
            size_of::<CreatePagingQueueReply>(),
        )?;
        let pq = decode_raw(&r, |r| {
            let pq = decode_reply::<CreatePagingQueueReply>(r)?;
            pq.validate(dev.io.range())?;
            Ok(pq)
        })?;
        dev.paging_queue = pq.paging_queue;
        dev.paging_sync = pq.sync_object;
        // At the start of the checked page, as dxgkrnl reads it
        // (dxgvmb_send_create_paging_queue() maps the page;
        // `fence_storage_offset` is not used).
        dev.paging_fence_gpa = pq.fence_storage_physical_address.get();
        Ok(dev)
    }

    /// The adapter.
    pub(crate) fn adapter(&self) -> &Arc<Adapter> {
        &self.adapter
    }

    /// The host's handle.
    pub(crate) fn handle(&self) -> Handle {
        self.handle
    }

    /// The host process the device belongs to.
    pub(crate) fn process(&self) -> Handle {
        self.process
    }

    /// The IO space (monitored fence values).
    pub(crate) fn io(&self) -> &Arc<IoSpace> {
        &self.io
    }

    /// Whether the host reported the device lost.
    pub(crate) fn health(&self) -> &Arc<DeviceHealth> {
        &self.health
    }

    /// Wait until the host fence `sync`, whose value the host keeps at
    /// `gpa` in the IO space, reaches `value`.
    pub(crate) fn wait_host_fence(&self, sync: Handle, gpa: u64, value: u64) -> Result {
        if self.io.read_u64(gpa)? >= value {
            return Ok(());
        }
        let w = Arc::pin_init(
            pin_init!(CpuWait {
                done <- new_spinlock_irq!(None, "dxg_cpu_wait"),
                cv <- new_condvar!("dxg_cpu_wait_cv"),
            }),
            GFP_KERNEL,
        )?;
        let vm = self.adapter.vm();
        let event = vm.add_event(self.adapter.event_owner(), w.clone())?;
        let values = [U64::new(value)];
        let objects = [sync];
        let msg = WaitFromCpuMsg::new(self.process, self.handle, 0, event, &objects, &values)
            .map_err(proto_err)?;
        if let Err(e) = self
            .adapter
            .request_msg(&msg, 8)
            .and_then(|r| check_status(&r))
        {
            vm.remove_event(event);
            return Err(e);
        }
        let timeout = crate::module_parameters::timeout_ms.value();
        match wait_until(&w.done, &w.cv, timeout, |done| *done) {
            Ok(r) => r,
            Err(end) => {
                vm.remove_event(event);
                Err(match end {
                    WaitEnd::Interrupted => EINTR,
                    WaitEnd::TimedOut => ETIMEDOUT,
                })
            }
        }
    }

    fn wait_paging(&self, value: u64) -> Result {
        self.wait_host_fence(self.paging_sync, self.paging_fence_gpa, value)
    }

    /// Create a host allocation of `size` bytes backed by the guest pages
    /// of GPADL `gpadl` (CREATEALLOCATION + SETEXISTINGSYSMEMSTORE).
    /// `priv_data` is the user-mode driver's description; without one the
    /// allocation is a standard existing-heap allocation.
    pub(crate) fn create_allocation(
        &self,
        gpadl: u32,
        size: u64,
        priv_data: &[u8],
    ) -> Result<Handle> {
        let std_desc = StandardAllocDesc {
            kind: U32::new(STD_ALLOC_EXISTING_HEAP),
            reserved: U32::new(0),
            size: U64::new(size),
            flags: U32::new(0),
            reserved1: U32::new(0),
        };
        let (flags, resource_priv): (u32, &[u8]) = if priv_data.is_empty() {
            (
                CREATE_ALLOC_FLAG_EXISTING_SYSMEM | CREATE_ALLOC_FLAG_STANDARD_ALLOCATION,
                zerocopy::IntoBytes::as_bytes(&std_desc),
            )
        } else {
            (CREATE_ALLOC_FLAG_EXISTING_SYSMEM, &[])
        };
        let infos = [AllocInfo {
            flags: U32::new(0),
            priv_drv_data_size: U32::new(u32::try_from(priv_data.len()).map_err(|_| E2BIG)?),
            vidpn_source_id: U32::new(0),
        }];
        let msg = CreateAllocationMsg::new(
            self.process,
            self.handle,
            flags,
            &infos,
            resource_priv,
            priv_data,
        )
        .map_err(proto_err)?;
        let max = CreateAllocationReply::max_len(&infos).map_err(proto_err)?;
        let r = self.adapter.request_msg(&msg, max)?;
        let (alloc, alloc_size) = decode_raw(&r, |r| {
            let reply = CreateAllocationReply::decode(r, &infos)?;
            reply
                .records
                .first()
                .map(|rec| (rec.allocation, rec.allocation_size.get()))
                .ok_or(crate::proto::ProtoError::Truncated)
        })?;
        // dxgkrnl shares `allocation_size` bytes of the user's memory (its
        // GPADL's size, create_existing_sysmem()); the GPADL here covers
        // the whole object, so the host's size must be a non-zero number
        // of pages within it.
        if let Err(e) = check_sysmem_size(alloc_size, size) {
            self.destroy_allocation(alloc);
            return Err(proto_err(e));
        }
        let r = self
            .adapter
            .request(
                &SetExistingSysmemStore::new(self.process, self.handle, alloc, gpadl),
                8,
            )
            .and_then(|r| check_status(&r));
        if let Err(e) = r {
            self.destroy_allocation(alloc);
            return Err(e);
        }
        Ok(alloc)
    }

    /// DESTROYALLOCATION (best effort: failures are logged).
    pub(crate) fn destroy_allocation(&self, alloc: Handle) {
        let allocs = [alloc];
        let r = DestroyAllocationMsg::new(self.process, self.handle, Handle::NULL, 0, &allocs)
            .map_err(proto_err)
            .and_then(|m| self.adapter.request_msg(&m, 8))
            .and_then(|r| check_status(&r));
        if let Err(e) = r {
            if e != ENODEV {
                pr_warn!(
                    "host did not destroy allocation {:#x}: {:?}\n",
                    alloc.value(),
                    e
                );
            }
        }
    }

    /// Map `pages` pages of `alloc`, from page `first`, at GPU VA `va`;
    /// returns once the paging queue has done it.
    pub(crate) fn map_gpu_va(&self, alloc: Handle, va: u64, first: u64, pages: u64) -> Result {
        // No device: the host finds it from the paging queue, and dxgkrnl
        // sends 0 there (dxgvmb_send_map_gpu_va()).
        let cmd = MapGpuVirtualAddress::new(
            self.process,
            Handle::NULL,
            self.paging_queue,
            alloc,
            va,
            0,
            0,
            first,
            pages,
            PROTECT_READ_WRITE,
        );
        let r = self.adapter.request(&cmd, size_of::<MapGpuVaReply>())?;
        let reply = decode_raw(&r, decode_reply::<MapGpuVaReply>)?;
        reply.status.check().map_err(errno)?;
        if reply.virtual_address.get() != va {
            // The host put it elsewhere: undo, and call it a protocol error.
            let _ = self.free_gpu_va(reply.virtual_address.get(), pages * PAGE_SIZE as u64);
            return Err(EPROTO);
        }
        self.wait_paging(reply.paging_fence_value.get())
    }

    /// FREEGPUVIRTUALADDRESS of `[va, va + size)`.
    pub(crate) fn free_gpu_va(&self, va: u64, size: u64) -> Result {
        let cmd = FreeGpuVirtualAddress::new(self.process, self.adapter.host_handle(), va, size);
        check_status(&self.adapter.request(&cmd, 8)?)
    }

    /// MAKERESIDENT of `allocs` on the paging queue; returns once done.
    pub(crate) fn make_resident(&self, allocs: &[Handle]) -> Result {
        // No device, as dxgkrnl sends (dxgvmb_send_make_resident()): the
        // paging queue names it.
        let msg = MakeResidentMsg::new(self.process, Handle::NULL, self.paging_queue, 0, allocs)
            .map_err(proto_err)?;
        let r = self
            .adapter
            .request_msg(&msg, size_of::<MakeResidentReply>())?;
        let reply = decode_raw(&r, decode_reply::<MakeResidentReply>)?;
        if reply.status.is_pending() {
            return self.wait_paging(reply.paging_fence_value.get());
        }
        reply.status.check().map(|_| ()).map_err(errno)
    }

    /// EVICT of `allocs`.
    pub(crate) fn evict(&self, allocs: &[Handle]) -> Result {
        let msg = EvictMsg::new(self.process, self.handle, 0, allocs).map_err(proto_err)?;
        let r = self.adapter.request_msg(&msg, size_of::<EvictReply>())?;
        decode_raw(&r, decode_reply::<EvictReply>)?;
        Ok(())
    }

    /// ESCAPE with `data` (in and out), for the device or one of its
    /// contexts.
    pub(crate) fn escape(&self, context: Handle, escape_type: u32, data: &mut [u8]) -> Result {
        escape(
            &self.adapter,
            self.process,
            self.handle,
            context,
            escape_type,
            data,
        )
    }
}

/// ESCAPE on `adapter` for `device` (or the adapter) and `context` (or
/// none): the host returns the buffer, at most as long as sent.
pub(crate) fn escape(
    adapter: &Adapter,
    process: Handle,
    device: Handle,
    context: Handle,
    escape_type: u32,
    data: &mut [u8],
) -> Result {
    let mut msg = EscapeMsg::new(process, adapter.host_handle(), device, escape_type, 0, data)
        .map_err(proto_err)?;
    msg.cmd.context = context;
    let r = adapter.request_msg(&msg, data.len())?;
    // The reply is the buffer (no status); a shorter one is a failure.
    let n = data.len();
    decode_raw(&r, |r| {
        r.get(..n)
            .map(|_| ())
            .ok_or(crate::proto::ProtoError::Truncated)
    })?;
    data.copy_from_slice(r.get(..n).ok_or(EPROTO)?);
    Ok(())
}

impl Drop for HostDevice {
    fn drop(&mut self) {
        self.adapter.vm().remove_device(self.health.cookie());
        if self.adapter.dead().is_some() {
            return;
        }
        // As dxgkrnl tears a device down (dxgprocess_adapter_destroy()):
        // FLUSHDEVICE for termination, then DESTROYDEVICE. Its work is
        // done or failed by now; a failed flush does not keep the device.
        let _ = self
            .adapter
            .request(
                &FlushDevice::new(self.process, self.handle, FLUSH_REASON_DEVICE_TERMINATE),
                8,
            )
            .and_then(|r| check_status(&r));
        let r = self
            .adapter
            .request(&DestroyDevice::new(self.process, self.handle), 8)
            .and_then(|r| check_status(&r));
        if let Err(e) = r {
            if e != ENODEV {
                pr_warn!(
                    "host did not destroy device {:#x}: {:?}\n",
                    self.handle.value(),
                    e
                );
            }
        }
    }
}
