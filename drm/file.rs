// SPDX-License-Identifier: GPL-2.0

//! Per-open-file state.

use kernel::{
    drm::{self, Registered},
    prelude::*,
};

use crate::drm::driver::{DxgDevice, DxgDriver};
use crate::sys::uapi;

/// What a dxg DRM file holds.
pub(crate) struct DxgFile;

impl drm::file::DriverFile for DxgFile {
    type Driver = DxgDriver;

    fn open(_dev: &DxgDevice) -> Result<Pin<KBox<Self>>> {
        Ok(KBox::new(Self, GFP_KERNEL)?.into())
    }
}

impl DxgFile {
    /// DRM_IOCTL_DXG_QUERY_ADAPTER.
    pub(crate) fn query_adapter(
        dev: &DxgDevice<Registered>,
        _reg: &(),
        req: &mut uapi::drm_dxg_query_adapter,
        _file: &drm::File<DxgFile>,
    ) -> Result<u32> {
        if req.size as usize != core::mem::size_of::<uapi::drm_dxg_query_adapter>()
            || req.flags != 0
            || req.reserved != 0
        {
            return Err(EINVAL);
        }
        let a = dev.adapter();
        req.luid = a.luid().as_u64();
        req.uapi_version = uapi::DXG_UAPI_VERSION;
        req.host_version = a.version();
        req.adapter_flags = if a.compute_only() {
            uapi::DXG_ADAPTER_COMPUTE_ONLY
        } else {
            0
        };
        a.description_utf8(&mut req.description);
        Ok(0)
    }
}
