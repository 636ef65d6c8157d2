// SPDX-License-Identifier: GPL-2.0

//! GEM objects: guest pages (shmem) that the host sees.
//!
//! An object is a shmem GEM object whose pages are shared with the host
//! through one GPADL on the VM-level channel, established when the object
//! is created and torn down when it is freed. Host allocations are views
//! of those pages in one host device each ([`Binding`]): the creating
//! device gets one at creation; another device (another DRM file after a
//! PRIME import, or another device of the same file) gets one the first
//! time it maps the object. A DRM file's allocations go when the file
//! closes its handle to the object (or the file closes).
//!
//! Lock order: [`DxgObject::state`] is taken before any channel lock and
//! held across host requests (it serialises creating allocations).

use kernel::page::PAGE_SIZE;
use kernel::{
    bindings,
    drm::{self, gem},
    new_mutex,
    prelude::*,
    sync::{aref::ARef, Arc, Mutex},
};

use crate::drm::driver::{DxgDevice, DxgDriver};
use crate::drm::file::DxgFile;
use crate::host::device::HostDevice;
use crate::proto::Handle;
use crate::vmbus::{channel::Gpadl, memory::PageRefs};

/// A dxg GEM object.
pub(crate) type DxgGem = gem::shmem::Object<DxgObject>;

/// The host allocation of an object in one host device.
struct Binding {
    /// The DRM file the device belongs to ([`DxgFile::key`]).
    file: u64,
    /// The device's id in that file.
    device: u32,
    alloc: Handle,
}

struct GemState {
    /// The pages as the host sees them; set right after creation. Torn
    /// down when the object is freed, before its shmem file is truncated
    /// (that file's final fput() is deferred past the free callback).
    gpadl: Option<Gpadl>,
    bindings: KVec<Binding>,
}

/// Creation arguments.
pub(crate) struct GemArgs {
    /// The user-mode driver's description of the allocation.
    pub(crate) priv_data: KVec<u8>,
}

/// The driver part of a dxg GEM object.
#[pin_data]
pub(crate) struct DxgObject {
    /// Private driver data for every host allocation of the object.
    priv_data: KVec<u8>,
    /// Protects the GPADL and the host allocations.
    #[pin]
    state: Mutex<GemState>,
}

impl gem::DriverObject for DxgObject {
    type Driver = DxgDriver;
    type Args = GemArgs;

    fn new(_dev: &DxgDevice, _size: usize, args: GemArgs) -> impl PinInit<Self, Error> {
        try_pin_init!(DxgObject {
            priv_data: args.priv_data,
            state <- new_mutex!(GemState { gpadl: None, bindings: KVec::new() }, "dxg_gem"),
        })
    }

    fn close(obj: &DxgGem, file: &drm::File<DxgFile>) {
        // The file drops its handle: its host allocations of the object go.
        let key = file.inner().key();
        let gone = {
            let mut st = obj.state.lock();
            let mut gone = KVec::new();
            let mut i = 0;
            while i < st.bindings.len() {
                if st.bindings.get(i).is_some_and(|b| b.file == key) {
                    if let Ok(b) = st.bindings.remove(i) {
                        if gone.push(b, GFP_KERNEL).is_err() {
                            // Out of memory: the host frees it with the device.
                        }
                    }
                } else {
                    i += 1;
                }
            }
            gone
        };
        if !gone.is_empty() {
            // Work the host was sent may use the allocations: let it finish
            // (as the host's memory manager would wait before freeing).
            file.inner().wait_sent();
        }
        for b in gone.iter() {
            if let Ok(dev) = file.inner().device(b.device) {
                dev.destroy_allocation(b.alloc);
            }
        }
    }
}

/// The share of the guest's RAM that pinned GEM pages never take: an
/// object is created only if MemAvailable stays above `RAM >>
/// RESERVE_SHIFT` (1/8) with its pages taken.
const RESERVE_SHIFT: u32 = 3;

/// Whether an object of `size` bytes may pin its pages now: `ENOMEM`
/// unless the guest keeps 1/8 of its RAM available afterwards. Its pages
/// are pinned for its whole life and the shmem allocation does not wake
/// the OOM killer (`__GFP_RETRY_MAYFAIL`), so without this check a large
/// object would take the memory that other processes (the OOM killer's
/// victims) then lack. The pages are charged to the caller's memory
/// cgroup as they are allocated (shmem page cache is).
pub(crate) fn check_memory(size: usize) -> Result {
    // SAFETY: `sysinfo` is plain integers (and an empty trailing array):
    // all zeroes is a valid value.
    let mut info: bindings::sysinfo = unsafe { core::mem::MaybeUninit::zeroed().assume_init() };
    // SAFETY: `info` is a valid `sysinfo` to fill.
    unsafe { bindings::si_meminfo(&mut info) };
    // SAFETY: reads global counters only.
    let available = unsafe { bindings::si_mem_available() };
    let available = usize::try_from(available).unwrap_or(0);
    let reserve = info.totalram >> RESERVE_SHIFT;
    if (size / PAGE_SIZE).saturating_add(reserve) > available {
        return Err(ENOMEM);
    }
    Ok(())
}

/// Share the pages of `obj` with the host (once, at creation).
pub(crate) fn share_pages(obj: &DxgGem) -> Result {
    let count = gem::BaseObject::size(obj) / PAGE_SIZE;
    // SAFETY: `obj` is a live dxg shmem object.
    let pages = unsafe { crate::sys::dxg_gem_pages(gem::IntoGEMObject::as_raw(obj)) };
    if pages.is_null() {
        return Err(ENOMEM);
    }
    kernel::error::from_err_ptr(pages)?;
    // SAFETY: dxg_gem_pages() returned the object's array of `count`
    // pages, valid until the object is freed, which `obj` prevents.
    let pages = unsafe { core::slice::from_raw_parts(pages, count) };
    // SAFETY: every entry is a valid page of the live object.
    let refs = unsafe { PageRefs::new(pages) }?;
    let vm = obj.dev().adapter().vm().clone();
    let gpadl = vm.channel().establish_gpadl(refs)?;
    obj.state.lock().gpadl = Some(gpadl);
    Ok(())
}

/// The host allocation of `obj` in device `id` of `file`, created if the
/// device has none yet.
pub(crate) fn allocation_in(
    obj: &DxgGem,
    file: &DxgFile,
    id: u32,
    dev: &Arc<HostDevice>,
) -> Result<Handle> {
    let key = file.key();
    let mut st = obj.state.lock();
    if let Some(b) = st.bindings.iter().find(|b| b.file == key && b.device == id) {
        return Ok(b.alloc);
    }
    let gpadl = st.gpadl.as_ref().ok_or(ENODEV)?.id();
    let size = gem::BaseObject::size(obj) as u64;
    st.bindings.reserve(1, GFP_KERNEL)?;
    let alloc = dev.create_allocation(gpadl, size, &obj.priv_data)?;
    st.bindings.push(
        Binding {
            file: key,
            device: id,
            alloc,
        },
        GFP_KERNEL,
    )?;
    Ok(alloc)
}

/// The host allocation of `obj` in device `id` of `file`, if it has one.
pub(crate) fn existing_allocation(obj: &DxgGem, file: &DxgFile, id: u32) -> Option<Handle> {
    let key = file.key();
    let st = obj.state.lock();
    st.bindings
        .iter()
        .find(|b| b.file == key && b.device == id)
        .map(|b| b.alloc)
}

/// Import `src`, an object of another dxg adapter, into `dev`: a new
/// object over the same pages (the same shmem file) with its own GPADL;
/// its host allocations are created when a device of `dev` maps it
/// (`drm::Driver::gem_prime_import_sibling`).
pub(crate) fn import_sibling(dev: &DxgDevice, src: &DxgGem) -> Result<ARef<DxgGem>> {
    let size = gem::BaseObject::size(src);
    let mut priv_data = KVec::with_capacity(src.priv_data.len(), GFP_KERNEL)?;
    priv_data.extend_from_slice(&src.priv_data, GFP_KERNEL)?;
    let obj = DxgGem::new(dev, size, Default::default(), GemArgs { priv_data })?;
    // SAFETY: both are live dxg shmem objects; `obj` is fresh and shared
    // with nobody yet.
    kernel::error::to_result(unsafe {
        crate::sys::dxg_gem_share_backing(
            gem::IntoGEMObject::as_raw(&*obj),
            gem::IntoGEMObject::as_raw(src),
        )
    })?;
    share_pages(&obj)?;
    Ok(obj)
}
