// SPDX-License-Identifier: GPL-2.0

//! The DRM driver: an adapter as a DRM device.
//!
//! Every open adapter gets a DRM device parented on its PCI function: a
//! render node (and the core's primary node), GEM, and `drm_syncobj` with
//! timelines. The device is registered at the end of the function's probe
//! and unplugged (`drm_dev_unplug()`) when the function unbinds or the
//! adapter's channel is rescinded; open files then get `-ENODEV`.

use core::fmt::Write;

use kernel::{
    device::{Core, DeviceContext},
    drm::{self, ioctl},
    pci,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{Atomic, Relaxed},
        Arc,
    },
};

use crate::drm::{
    file::DxgFile,
    gem::{self, DxgGem, DxgObject},
};
use crate::host::adapter::Adapter;

/// The DRM driver of dxg adapters.
pub(crate) struct DxgDriver;

/// A dxg DRM device.
pub(crate) type DxgDevice<Ctx = drm::Normal> = drm::Device<DxgDriver, Ctx>;

/// Per-device data: the adapter behind the DRM device.
pub(crate) struct DxgDeviceData {
    adapter: Arc<Adapter>,
    /// The key of the next DRM file opened (see `DxgFile::key`).
    next_file_key: Atomic<u64>,
}

impl DxgDeviceData {
    /// A key no other file of this device ever had.
    pub(crate) fn next_file_key(&self) -> u64 {
        self.next_file_key.fetch_add(1, Relaxed)
    }

    /// The adapter.
    pub(crate) fn adapter(&self) -> &Arc<Adapter> {
        &self.adapter
    }
}

const INFO: drm::DriverInfo = drm::DriverInfo {
    major: 1,
    minor: 0,
    patchlevel: 0,
    name: c"dxg",
    desc: c"Hyper-V GPU-PV virtual GPU",
};

#[vtable]
impl drm::Driver for DxgDriver {
    type Data = DxgDeviceData;
    type RegistrationData<'a> = ();
    type File = DxgFile;
    type Object = drm::gem::shmem::Object<DxgObject>;
    type ParentDevice<Ctx: DeviceContext> = pci::Device<Ctx>;

    const INFO: drm::DriverInfo = INFO;
    const FEAT_RENDER: bool = true;
    const FEAT_SYNCOBJ: bool = true;
    const FEAT_SYNCOBJ_TIMELINE: bool = true;

    kernel::declare_drm_ioctls! {
        uapi = crate::sys::uapi;
        (DXG_QUERY_ADAPTER, drm_dxg_query_adapter, ioctl::RENDER_ALLOW, DxgFile::query_adapter),
        (DXG_QUERY_ADAPTER_INFO, drm_dxg_query_adapter_info, ioctl::RENDER_ALLOW,
         DxgFile::query_adapter_info),
        (DXG_DEVICE_CREATE, drm_dxg_device_create, ioctl::RENDER_ALLOW, DxgFile::device_create),
        (DXG_DEVICE_DESTROY, drm_dxg_device_destroy, ioctl::RENDER_ALLOW, DxgFile::device_destroy),
        (DXG_CONTEXT_CREATE, drm_dxg_context_create, ioctl::RENDER_ALLOW, DxgFile::context_create),
        (DXG_CONTEXT_DESTROY, drm_dxg_context_destroy, ioctl::RENDER_ALLOW,
         DxgFile::context_destroy),
        (DXG_GEM_CREATE, drm_dxg_gem_create, ioctl::RENDER_ALLOW, DxgFile::gem_create),
        (DXG_GEM_MMAP_OFFSET, drm_dxg_gem_mmap_offset, ioctl::RENDER_ALLOW,
         DxgFile::gem_mmap_offset),
        (DXG_VM_BIND, drm_dxg_vm_bind, ioctl::RENDER_ALLOW, DxgFile::vm_bind),
        (DXG_SUBMIT, drm_dxg_submit, ioctl::RENDER_ALLOW, DxgFile::submit),
        (DXG_ESCAPE, drm_dxg_escape, ioctl::RENDER_ALLOW, DxgFile::escape),
        (DXG_RESIDENCY, drm_dxg_residency, ioctl::RENDER_ALLOW, DxgFile::residency),
        (DXG_QUERY_STATE, drm_dxg_query_state, ioctl::RENDER_ALLOW, DxgFile::query_state),
    }

    /// drm-usage-stats: the memory keys of the file's GEM objects (all
    /// resident: their pages stay populated while the host may use them)
    /// and the GPU time of its submissions.
    fn show_fdinfo(_dev: &DxgDevice, file: &drm::File<DxgFile>, p: &mut drm::Printer) {
        file.show_memory_stats(p);
        // A printer cannot fail.
        let _ = writeln!(p, "drm-engine-gpu:\t{} ns", file.inner().engine_ns());
    }

    /// PRIME import of an object of another dxg adapter: a new object of
    /// this adapter over the same pages, with its own GPADL and host
    /// allocations (no host-level sharing between adapters is assumed).
    fn gem_prime_import_sibling(dev: &DxgDevice, obj: &DxgGem) -> Result<ARef<DxgGem>> {
        gem::import_sibling(dev, obj)
    }
}

/// The registered DRM device of an adapter. Dropping it unplugs the device.
pub(crate) struct DxgRegistration<'bound> {
    _reg: drm::Registration<'bound, DxgDriver>,
}

impl<'bound> DxgRegistration<'bound> {
    /// Create and register the DRM device of `adapter`, parented on `pdev`.
    pub(crate) fn new(pdev: &'bound pci::Device<Core<'_>>, adapter: Arc<Adapter>) -> Result<Self> {
        let data: Result<DxgDeviceData> = Ok(DxgDeviceData {
            adapter,
            next_file_key: Atomic::new(1),
        });
        let drm = drm::UnregisteredDevice::<DxgDriver>::new(pdev, data)?;
        // SAFETY: The registration lives in the PCI function's driver data
        // and is dropped when it unbinds; it is never leaked.
        let reg = unsafe { drm::Registration::new(pdev.as_ref(), drm, (), 0)? };
        Ok(Self { _reg: reg })
    }
}
