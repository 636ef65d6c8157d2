// SPDX-License-Identifier: GPL-2.0

//! The DRM driver: an adapter as a DRM device.
//!
//! Every open adapter gets a DRM device parented on its PCI function: a
//! render node (and the core's primary node), GEM, and `drm_syncobj` with
//! timelines. The device is registered at the end of the function's probe
//! and unplugged (`drm_dev_unplug()`) when the function unbinds or the
//! adapter's channel is rescinded; open files then get `-ENODEV`.

use kernel::{
    device::{Core, DeviceContext},
    drm::{self, ioctl},
    pci,
    prelude::*,
    sync::Arc,
};

use crate::adapter::Adapter;
use crate::drm::{features, file::DxgFile, gem::DxgObject};
use crate::sys::uapi;

/// The DRM driver of dxg adapters.
pub(crate) struct DxgDriver;

/// A dxg DRM device.
pub(crate) type DxgDevice<Ctx = drm::Normal> = drm::Device<DxgDriver, Ctx>;

/// Per-device data: the adapter behind the DRM device.
pub(crate) struct DxgDeviceData {
    adapter: Arc<Adapter>,
}

impl DxgDeviceData {
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

    dxg_drm_ioctls! { DxgDriver;
        (DXG_QUERY_ADAPTER, uapi::DRM_DXG_QUERY_ADAPTER, uapi::DRM_IOCTL_DXG_QUERY_ADAPTER,
         uapi::drm_dxg_query_adapter, ioctl::RENDER_ALLOW, DxgFile::query_adapter),
        (DXG_QUERY_ADAPTER_INFO, uapi::DRM_DXG_QUERY_ADAPTER_INFO,
         uapi::DRM_IOCTL_DXG_QUERY_ADAPTER_INFO, uapi::drm_dxg_query_adapter_info,
         ioctl::RENDER_ALLOW, DxgFile::query_adapter_info),
    }
}

/// The registered DRM device of an adapter. Dropping it unplugs the device.
pub(crate) struct DxgRegistration<'bound> {
    _reg: drm::Registration<'bound, DxgDriver>,
}

impl<'bound> DxgRegistration<'bound> {
    /// Create and register the DRM device of `adapter`, parented on `pdev`.
    pub(crate) fn new(pdev: &'bound pci::Device<Core<'_>>, adapter: Arc<Adapter>) -> Result<Self> {
        let data: Result<DxgDeviceData> = Ok(DxgDeviceData { adapter });
        let drm = drm::UnregisteredDevice::<DxgDriver>::new(pdev, data)?;
        features::enable(&drm)?;
        // SAFETY: The registration lives in the PCI function's driver data
        // and is dropped when it unbinds; it is never leaked.
        let reg = unsafe { drm::Registration::new(pdev.as_ref(), drm, (), 0)? };
        Ok(Self { _reg: reg })
    }
}
