// SPDX-License-Identifier: GPL-2.0

//! Per-open-file state.

use kernel::{
    drm::{self, Registered},
    prelude::*,
};

use crate::drm::driver::{DxgDevice, DxgDriver};
use crate::process::HostProcess;
use crate::sys::uapi;
use kernel::uaccess::{UserPtr, UserSlice};

/// What a dxg DRM file holds.
pub(crate) struct DxgFile {
    /// The file's host process; destroyed when the file closes.
    process: HostProcess,
}

impl drm::file::DriverFile for DxgFile {
    type Driver = DxgDriver;

    fn open(dev: &DxgDevice) -> Result<Pin<KBox<Self>>> {
        let a = dev.adapter();
        let process = HostProcess::create(a.vm().clone(), a.version())?;
        Ok(KBox::new(Self { process }, GFP_KERNEL)?.into())
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

    /// DRM_IOCTL_DXG_QUERY_ADAPTER_INFO.
    pub(crate) fn query_adapter_info(
        dev: &DxgDevice<Registered>,
        _reg: &(),
        req: &mut uapi::drm_dxg_query_adapter_info,
        file: &drm::File<DxgFile>,
    ) -> Result<u32> {
        if req.size as usize != core::mem::size_of::<uapi::drm_dxg_query_adapter_info>()
            || req.reserved != 0
        {
            return Err(EINVAL);
        }
        let len = req.data_size as usize;
        if len > uapi::DXG_QUERY_MAX as usize {
            return Err(E2BIG);
        }
        let user = UserSlice::new(UserPtr::from_addr(req.data as usize), len);
        let (mut reader, mut writer) = user.reader_writer();
        let mut data = KVec::from_elem(0u8, len, GFP_KERNEL)?;
        reader.read_slice(&mut data)?;
        let process = file.inner().process.handle();
        dev.adapter()
            .query_adapter_info(process, req.type_, &mut data)?;
        writer.write_slice(&data)?;
        Ok(0)
    }
}
