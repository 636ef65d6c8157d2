// SPDX-License-Identifier: GPL-2.0

//! `dxg_drm_ioctls!`: a driver-local `kernel::declare_drm_ioctls!`.
//!
//! The kernel macro names every argument type `kernel::uapi::<name>`, so it
//! only takes UAPI headers built into the kernel's own `uapi` crate. dxg's
//! UAPI is its own header (uapi/dxg_drm.h), so this variant takes full type
//! paths. The handler signature is the in-tree one, so switching back is a
//! one-line change once the kernel macro accepts driver types.
//!
//! Entry: `(fn_name, index, ioctl_number, ArgType, flags, handler)`, where
//! `index` is the driver-relative number (0, 1, ... in order) and `handler`
//! is `fn(&drm::Device<D, Registered>, &D::RegistrationData<'_>,
//! &mut ArgType, &drm::File<D::File>) -> Result<u32>`. The table is checked
//! at compile time: dense, numbers and sizes matching the header.

/// Expands to `const IOCTLS` inside a `drm::Driver` impl.
macro_rules! dxg_drm_ioctls {
    ($drv:ty; $( ($name:ident, $idx:expr, $cmd:expr, $arg:ty, $flags:expr, $handler:expr) ),* $(,)?) => {
        const IOCTLS: &'static [::kernel::drm::ioctl::DrmIoctlDescriptor] = {
            // Compile-time checks: dense table, matching number and size.
            const _: () = {
                let mut i: u32 = 0;
                $(
                    ::core::assert!($idx as u32 == i);
                    ::core::assert!(::kernel::ioctl::_IOC_NR($cmd as u32)
                        == ::kernel::uapi::DRM_COMMAND_BASE + i);
                    ::core::assert!(::kernel::ioctl::_IOC_SIZE($cmd as u32)
                        == ::core::mem::size_of::<$arg>());
                    i += 1;
                )*
                let _ = i;
            };

            &[$(
                ::kernel::bindings::drm_ioctl_desc {
                    cmd: $cmd as u32,
                    flags: $flags,
                    func: {
                        #[allow(non_snake_case)]
                        unsafe extern "C" fn $name(
                            raw_dev: *mut ::kernel::bindings::drm_device,
                            raw_data: *mut ::core::ffi::c_void,
                            raw_file: *mut ::kernel::bindings::drm_file,
                        ) -> ::core::ffi::c_int {
                            // SAFETY: drm_ioctl() only calls us for a registered
                            // device of this driver and keeps it alive meanwhile.
                            let dev = unsafe {
                                ::kernel::drm::Device::<$drv, ::kernel::drm::Ioctl>::from_raw(raw_dev)
                            };
                            let Some(guard) = dev.registration_guard() else {
                                return ::kernel::error::code::ENODEV.to_errno();
                            };
                            // SAFETY: drm_ioctl() provides a kernel buffer of
                            // _IOC_SIZE(cmd) bytes, asserted above to equal the
                            // size of a plain-integer UAPI struct.
                            let data = unsafe { &mut *raw_data.cast::<$arg>() };
                            // SAFETY: `raw_file` is an open file of this driver.
                            let file = unsafe {
                                ::kernel::drm::File::<<$drv as ::kernel::drm::Driver>::File>::from_raw(raw_file)
                            };
                            match guard.registration_data_with(|rd| $handler(&*guard, rd, data, file)) {
                                Ok(v) => ::core::convert::TryInto::<::core::ffi::c_int>::try_into(v)
                                    .unwrap_or(::kernel::error::code::ERANGE.to_errno()),
                                Err(e) => e.to_errno(),
                            }
                        }
                        Some($name)
                    },
                    name: ::core::concat!(::core::stringify!($name), "\0").as_ptr().cast(),
                }
            ),*]
        };
    };
}
