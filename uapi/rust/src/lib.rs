// SPDX-License-Identifier: GPL-2.0

//! The dxg UAPI for Rust userspace: the same ABI as `uapi/dxg_drm.h`
//! (layouts asserted in the tests), and a safe library over it.
//!
//! Core DRM ioctls (version, GEM close, PRIME, syncobj) come from the `drm`
//! crate; this crate adds dxg's own. The argument structs and raw ioctls of
//! the object ioctls (0x02..) are in [`abi`] (re-exported here); the safe
//! library over them ([`Device`], [`Context`], [`Bo`], [`Mapping`],
//! [`Syncobj`]) in `gpu.rs`.

pub mod abi;
mod gpu;
#[cfg(test)]
mod layout_tests;

pub use abi::*;
pub use gpu::*;

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::Path;

/// The UAPI version this crate speaks (`DXG_UAPI_VERSION`).
pub const DXG_UAPI_VERSION: u32 = 2;
/// `DXG_ADAPTER_COMPUTE_ONLY`.
pub const DXG_ADAPTER_COMPUTE_ONLY: u32 = 1 << 0;
/// `DXG_DESCRIPTION_LEN`.
pub const DXG_DESCRIPTION_LEN: usize = 128;

/// `DXG_QUERY_MAX`: largest query buffer.
pub const DXG_QUERY_MAX: usize = 64 * 1024;
/// `DRM_DXG_QUERY_ADAPTER_INFO`.
const DRM_DXG_QUERY_ADAPTER_INFO: u8 = 0x01;

/// `DRM_COMMAND_BASE`.
const DRM_COMMAND_BASE: u8 = 0x40;
/// `DRM_IOCTL_BASE`.
const DRM_IOCTL_BASE: u8 = b'd';
/// `DRM_DXG_QUERY_ADAPTER`.
const DRM_DXG_QUERY_ADAPTER: u8 = 0x00;

/// `struct drm_dxg_query_adapter`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DrmDxgQueryAdapter {
    pub size: u32,
    pub flags: u32,
    pub luid: u64,
    pub uapi_version: u32,
    pub host_version: u32,
    pub adapter_flags: u32,
    pub reserved: u32,
    pub description: [u8; DXG_DESCRIPTION_LEN],
}

impl Default for DrmDxgQueryAdapter {
    fn default() -> Self {
        Self {
            size: std::mem::size_of::<Self>() as u32,
            flags: 0,
            luid: 0,
            uapi_version: 0,
            host_version: 0,
            adapter_flags: 0,
            reserved: 0,
            description: [0; DXG_DESCRIPTION_LEN],
        }
    }
}

nix::ioctl_readwrite!(
    ioctl_query_adapter,
    DRM_IOCTL_BASE,
    DRM_COMMAND_BASE + DRM_DXG_QUERY_ADAPTER,
    DrmDxgQueryAdapter
);

/// `struct drm_dxg_query_adapter_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DrmDxgQueryAdapterInfo {
    pub size: u32,
    pub type_: u32,
    pub data: u64,
    pub data_size: u32,
    pub reserved: u32,
}

nix::ioctl_readwrite!(
    ioctl_query_adapter_info,
    DRM_IOCTL_BASE,
    DRM_COMMAND_BASE + DRM_DXG_QUERY_ADAPTER_INFO,
    DrmDxgQueryAdapterInfo
);

/// What the host says about an adapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterInfo {
    /// Adapter LUID (`high << 32 | low`).
    pub luid: u64,
    /// The kernel's UAPI version.
    pub uapi_version: u32,
    /// The negotiated host protocol version.
    pub host_version: u32,
    /// Compute only (no graphics engines).
    pub compute_only: bool,
    /// The host's description of the adapter.
    pub description: String,
}

/// An open dxg DRM node (render node or primary node).
#[derive(Debug)]
pub struct Node(File);

impl AsFd for Node {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl drm::Device for Node {}
impl drm::control::Device for Node {}

impl Node {
    /// Open `path` (for example `/dev/dri/renderD128`) read-write.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        Ok(Node(OpenOptions::new().read(true).write(true).open(path)?))
    }

    /// The DRM driver name (`DRM_IOCTL_VERSION`).
    pub fn driver_name(&self) -> io::Result<String> {
        let d = drm::Device::get_driver(self)?;
        Ok(d.name().to_string_lossy().into_owned())
    }

    /// `DRM_IOCTL_DXG_QUERY_ADAPTER`.
    pub fn query_adapter(&self) -> io::Result<AdapterInfo> {
        let mut q = DrmDxgQueryAdapter::default();
        // SAFETY: `q` is a valid, writable `drm_dxg_query_adapter` and the fd
        // is open; the kernel writes only within the struct.
        unsafe { ioctl_query_adapter(self.0.as_raw_fd(), &mut q) }.map_err(io::Error::from)?;
        let end = q
            .description
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(q.description.len());
        Ok(AdapterInfo {
            luid: q.luid,
            uapi_version: q.uapi_version,
            host_version: q.host_version,
            compute_only: q.adapter_flags & DXG_ADAPTER_COMPUTE_ONLY != 0,
            description: String::from_utf8_lossy(&q.description[..end]).into_owned(),
        })
    }

    /// `DRM_IOCTL_DXG_QUERY_ADAPTER_INFO`: ask the host (QUERYADAPTERINFO)
    /// with query `type_`; `data` is the query buffer, in and out.
    pub fn query_adapter_info(&self, type_: u32, data: &mut [u8]) -> io::Result<()> {
        let mut q = DrmDxgQueryAdapterInfo {
            size: std::mem::size_of::<DrmDxgQueryAdapterInfo>() as u32,
            type_,
            data: data.as_mut_ptr() as u64,
            data_size: u32::try_from(data.len())
                .map_err(|_| io::Error::from_raw_os_error(nix::libc::E2BIG))?,
            reserved: 0,
        };
        self.query_adapter_info_raw(&mut q)
    }

    /// The raw adapter-info query, for tests of the kernel's checks.
    pub fn query_adapter_info_raw(&self, q: &mut DrmDxgQueryAdapterInfo) -> io::Result<()> {
        // SAFETY: `q` is a valid argument struct; the kernel reads and
        // writes `q.data_size` bytes at `q.data`, which the caller
        // provides (a bad pointer gives EFAULT, not memory corruption).
        unsafe { ioctl_query_adapter_info(self.0.as_raw_fd(), q) }
            .map(|_| ())
            .map_err(io::Error::from)
    }

    /// The raw query, for tests of the kernel's argument checks.
    pub fn query_adapter_raw(&self, q: &mut DrmDxgQueryAdapter) -> io::Result<()> {
        // SAFETY: as in `query_adapter`.
        unsafe { ioctl_query_adapter(self.0.as_raw_fd(), q) }
            .map(|_| ())
            .map_err(io::Error::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn layout_matches_the_c_header() {
        assert_eq!(size_of::<DrmDxgQueryAdapter>(), 160);
        assert_eq!(offset_of!(DrmDxgQueryAdapter, luid), 8);
        assert_eq!(offset_of!(DrmDxgQueryAdapter, uapi_version), 16);
        assert_eq!(offset_of!(DrmDxgQueryAdapter, adapter_flags), 24);
        assert_eq!(offset_of!(DrmDxgQueryAdapter, description), 32);
    }

    #[test]
    fn query_info_layout() {
        assert_eq!(size_of::<DrmDxgQueryAdapterInfo>(), 24);
        assert_eq!(offset_of!(DrmDxgQueryAdapterInfo, data), 8);
        assert_eq!(offset_of!(DrmDxgQueryAdapterInfo, data_size), 16);
    }

    #[test]
    fn ioctl_number_matches_drm_iowr() {
        // DRM_IOWR(0x40, 160-byte struct): dir 3, size 160, type 'd', nr 0x40.
        let want: u64 = (3 << 30) | (160 << 16) | ((b'd' as u64) << 8) | 0x40;
        let got = nix::request_code_readwrite!(
            DRM_IOCTL_BASE,
            DRM_COMMAND_BASE + DRM_DXG_QUERY_ADAPTER,
            size_of::<DrmDxgQueryAdapter>()
        ) as u64;
        assert_eq!(got, want);
    }
}
