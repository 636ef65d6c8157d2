// SPDX-License-Identifier: GPL-2.0

//! `dxg-info [--brief] [--allow-none]`: every dxg adapter, found the way
//! Mesa's loader finds GPUs: libdrm's `drmGetDevices2()` lists the DRM
//! devices, each render node is opened and `drmGetVersion()` names its
//! driver; devices of other drivers are skipped. For each dxg adapter it
//! prints the LUID, the host's description, the UAPI and host protocol
//! versions, compute-only, the PCI bus id and ids, the nodes, and the
//! adapter type (a host round trip: QUERY_ADAPTER_INFO type 15).
//!
//! `--brief`: one `key=value` line per adapter. Exit status: 0 if at least
//! one adapter was listed and every query worked; 1 if no dxg adapter was
//! found (unless `--allow-none`) or a query failed; 2 on usage errors.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::os::fd::{AsFd, AsRawFd};
use std::process::ExitCode;

use dxg_uapi::{AdapterInfo, Node};

/// KMTQAITYPE_ADAPTERTYPE: the adapter type flags.
const QAI_ADAPTERTYPE: u32 = 15;

/// libdrm's `DRM_NODE_PRIMARY`, `DRM_NODE_RENDER`, `DRM_NODE_MAX`.
const DRM_NODE_PRIMARY: usize = 0;
const DRM_NODE_RENDER: usize = 2;
const DRM_NODE_MAX: usize = 3;
/// libdrm's `DRM_BUS_PCI`.
const DRM_BUS_PCI: c_int = 0;

/// `drmPciBusInfo` (xf86drm.h).
#[repr(C)]
struct DrmPciBusInfo {
    domain: u16,
    bus: u8,
    dev: u8,
    func: u8,
}

/// `drmPciDeviceInfo` (xf86drm.h).
#[repr(C)]
struct DrmPciDeviceInfo {
    vendor_id: u16,
    device_id: u16,
    subvendor_id: u16,
    subdevice_id: u16,
    revision_id: u8,
}

/// `drmDevice` (xf86drm.h); the bus and device info unions are pointers.
#[repr(C)]
struct DrmDevice {
    nodes: *mut *mut c_char,
    available_nodes: c_int,
    bustype: c_int,
    businfo: *mut c_void,
    deviceinfo: *mut c_void,
}

/// `drmVersion` (xf86drm.h).
#[repr(C)]
struct DrmVersion {
    version_major: c_int,
    version_minor: c_int,
    version_patchlevel: c_int,
    name_len: c_int,
    name: *mut c_char,
    date_len: c_int,
    date: *mut c_char,
    desc_len: c_int,
    desc: *mut c_char,
}

#[link(name = "drm")]
extern "C" {
    fn drmGetDevices2(flags: u32, devices: *mut *mut DrmDevice, max_devices: c_int) -> c_int;
    fn drmFreeDevices(devices: *mut *mut DrmDevice, count: c_int);
    fn drmGetVersion(fd: c_int) -> *mut DrmVersion;
    fn drmFreeVersion(v: *mut DrmVersion);
}

/// PCI `(domain, bus, dev, func)`.
type PciBus = (u16, u8, u8, u8);
/// PCI `(vendor, device, subvendor, subdevice)`.
type PciIds = (u16, u16, u16, u16);

const _: () = assert!(DRM_NODE_PRIMARY < DRM_NODE_MAX && DRM_NODE_RENDER < DRM_NODE_MAX);

/// What libdrm says about one DRM device.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Found {
    primary: Option<String>,
    render: Option<String>,
    pci: Option<(PciBus, PciIds)>,
}

fn pci_bus_id(b: PciBus) -> String {
    format!("{:04x}:{:02x}:{:02x}.{}", b.0, b.1, b.2, b.3)
}

/// Every DRM device libdrm finds: `drmGetDevices2(0, ...)`, as Mesa's
/// loader calls it (flag 0: do not wake devices to read the PCI revision).
fn drm_devices() -> Result<Vec<Found>, String> {
    // SAFETY: a NULL array with 0 entries asks only for the count.
    let n = unsafe { drmGetDevices2(0, std::ptr::null_mut(), 0) };
    if n == -nix::libc::ENOENT {
        return Ok(Vec::new()); // no /dev/dri at all
    }
    if n < 0 {
        return Err(format!("drmGetDevices2 failed: {}", errno_text(-n)));
    }
    let mut devs: Vec<*mut DrmDevice> = vec![std::ptr::null_mut(); n as usize];
    // SAFETY: `devs` has room for `n` pointers; libdrm fills at most that.
    let got = unsafe { drmGetDevices2(0, devs.as_mut_ptr(), n) };
    if got < 0 {
        return Err(format!("drmGetDevices2 failed: {}", errno_text(-got)));
    }
    let got = (got as usize).min(devs.len());
    let mut out = Vec::with_capacity(got);
    for &d in &devs[..got] {
        // SAFETY: libdrm returned `got` valid device pointers; they stay
        // valid until drmFreeDevices below.
        let d = unsafe { &*d };
        let node = |i: usize| -> Option<String> {
            if d.available_nodes & (1 << i) == 0 || d.nodes.is_null() {
                return None;
            }
            // SAFETY: `nodes` has DRM_NODE_MAX entries; available ones are
            // NUL-terminated strings.
            let p = unsafe { *d.nodes.add(i) };
            (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
        };
        let pci = (d.bustype == DRM_BUS_PCI && !d.businfo.is_null() && !d.deviceinfo.is_null())
            .then(|| {
                // SAFETY: for DRM_BUS_PCI both unions hold PCI info pointers.
                let (b, i) = unsafe {
                    (
                        &*(d.businfo as *const DrmPciBusInfo),
                        &*(d.deviceinfo as *const DrmPciDeviceInfo),
                    )
                };
                (
                    (b.domain, b.bus, b.dev, b.func),
                    (i.vendor_id, i.device_id, i.subvendor_id, i.subdevice_id),
                )
            });
        out.push(Found {
            primary: node(DRM_NODE_PRIMARY),
            render: node(DRM_NODE_RENDER),
            pci,
        });
    }
    // SAFETY: the `got` devices drmGetDevices2 returned, freed once.
    unsafe { drmFreeDevices(devs.as_mut_ptr(), got as c_int) };
    Ok(out)
}

fn errno_text(e: c_int) -> String {
    std::io::Error::from_raw_os_error(e).to_string()
}

/// `drmGetVersion()`: the driver's name and version.
fn driver_of(node: &Node) -> Option<(String, String)> {
    // SAFETY: the fd is open for the call; libdrm returns NULL or a
    // version we free with drmFreeVersion.
    let v = unsafe { drmGetVersion(node.as_fd().as_raw_fd()) };
    if v.is_null() {
        return None;
    }
    // SAFETY: non-NULL `v` is a valid drmVersion with a NUL-terminated
    // name (or NULL).
    let r = unsafe {
        let name = if (*v).name.is_null() {
            String::new()
        } else {
            CStr::from_ptr((*v).name).to_string_lossy().into_owned()
        };
        let ver = format!(
            "{}.{}.{}",
            (*v).version_major,
            (*v).version_minor,
            (*v).version_patchlevel
        );
        drmFreeVersion(v);
        (name, ver)
    };
    Some(r)
}

struct Adapter {
    found: Found,
    driver_version: String,
    info: AdapterInfo,
    adapter_type: Result<u32, String>,
}

fn query(path: &str, found: &Found) -> Result<Option<Adapter>, String> {
    let node = Node::open(path).map_err(|e| format!("cannot open {path}: {e}"))?;
    let Some((name, driver_version)) = driver_of(&node) else {
        return Err(format!("{path}: drmGetVersion failed"));
    };
    if name != "dxg" {
        return Ok(None);
    }
    let info = node
        .query_adapter()
        .map_err(|e| format!("{path}: DRM_IOCTL_DXG_QUERY_ADAPTER: {e}"))?;
    let mut ty = [0u8; 4];
    let adapter_type = node
        .query_adapter_info(QAI_ADAPTERTYPE, &mut ty)
        .map(|_| u32::from_le_bytes(ty))
        .map_err(|e| e.to_string());
    Ok(Some(Adapter {
        found: found.clone(),
        driver_version,
        info,
        adapter_type,
    }))
}

fn brief_line(a: &Adapter) -> String {
    let (bus, ids) = match a.found.pci {
        Some((b, i)) => (pci_bus_id(b), format!("{:04x}:{:04x}", i.0, i.1)),
        None => ("none".into(), "none".into()),
    };
    let ty = match &a.adapter_type {
        Ok(t) => format!("{t:#x}"),
        Err(_) => "error".into(),
    };
    format!(
        "render={} card={} luid={:#018x} pci={bus} pci_id={ids} uapi={} host={} compute_only={} adapter_type={ty} description={:?}",
        a.found.render.as_deref().unwrap_or("none"),
        a.found.primary.as_deref().unwrap_or("none"),
        a.info.luid,
        a.info.uapi_version,
        a.info.host_version,
        u8::from(a.info.compute_only),
        a.info.description
    )
}

fn print_long(i: usize, a: &Adapter) {
    let render = a.found.render.as_deref().unwrap_or("none");
    println!("adapter {i}: {render}");
    println!("  luid:          {:#018x}", a.info.luid);
    println!("  description:   {:?}", a.info.description);
    println!("  uapi version:  {}", a.info.uapi_version);
    println!("  host version:  {}", a.info.host_version);
    println!(
        "  compute only:  {}",
        if a.info.compute_only { "yes" } else { "no" }
    );
    match a.found.pci {
        Some((b, ids)) => {
            println!("  pci bus id:    {}", pci_bus_id(b));
            println!(
                "  pci ids:       {:04x}:{:04x} (subsystem {:04x}:{:04x})",
                ids.0, ids.1, ids.2, ids.3
            );
        }
        None => println!("  pci bus id:    none (not a PCI device)"),
    }
    println!("  render node:   {render}");
    println!(
        "  primary node:  {}",
        a.found.primary.as_deref().unwrap_or("none")
    );
    println!("  driver:        dxg {}", a.driver_version);
    match &a.adapter_type {
        Ok(t) => println!("  adapter type:  {t:#010x} (QUERY_ADAPTER_INFO 15)"),
        Err(e) => println!("  adapter type:  error: {e}"),
    }
}

fn main() -> ExitCode {
    let (mut brief, mut allow_none) = (false, false);
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--brief" | "-1" => brief = true,
            "--allow-none" => allow_none = true,
            "-h" | "--help" => {
                println!("usage: dxg-info [--brief] [--allow-none]");
                return ExitCode::SUCCESS;
            }
            _ => {
                eprintln!("usage: dxg-info [--brief] [--allow-none]");
                return ExitCode::from(2);
            }
        }
    }
    let devices = match drm_devices() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("dxg-info: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut rc = ExitCode::SUCCESS;
    let mut adapters = Vec::new();
    for d in &devices {
        // Mesa opens the render node; a device without one is no GPU for it.
        let Some(render) = &d.render else { continue };
        match query(render, d) {
            Ok(Some(a)) => {
                if a.adapter_type.is_err() {
                    rc = ExitCode::FAILURE;
                }
                adapters.push(a);
            }
            Ok(None) => {}
            Err(e) => {
                eprintln!("dxg-info: {e}");
                rc = ExitCode::FAILURE;
            }
        }
    }
    if adapters.is_empty() {
        eprintln!(
            "dxg-info: no dxg adapter found (libdrm lists {} DRM device(s); is dxg loaded and the host up?)",
            devices.len()
        );
        return if allow_none { rc } else { ExitCode::FAILURE };
    }
    if !brief {
        println!(
            "{} dxg adapter(s) among {} DRM device(s) (libdrm drmGetDevices2)",
            adapters.len(),
            devices.len()
        );
    }
    for (i, a) in adapters.iter().enumerate() {
        if brief {
            println!("{}", brief_line(a));
        } else {
            print_long(i, a);
        }
    }
    rc
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn libdrm_layouts() {
        // xf86drm.h on LP64.
        assert_eq!(size_of::<DrmDevice>(), 32);
        assert_eq!(offset_of!(DrmDevice, available_nodes), 8);
        assert_eq!(offset_of!(DrmDevice, businfo), 16);
        assert_eq!(offset_of!(DrmDevice, deviceinfo), 24);
        assert_eq!(size_of::<DrmVersion>(), 56);
        assert_eq!(offset_of!(DrmVersion, name), 16);
        assert_eq!(offset_of!(DrmVersion, desc), 48);
        assert_eq!(size_of::<DrmPciBusInfo>(), 6);
        assert_eq!(offset_of!(DrmPciBusInfo, func), 4);
        assert_eq!(size_of::<DrmPciDeviceInfo>(), 10);
    }

    #[test]
    fn formats() {
        assert_eq!(pci_bus_id((0, 0, 3, 0)), "0000:00:03.0");
        assert_eq!(pci_bus_id((0x10, 0xab, 0x1f, 7)), "0010:ab:1f.7");
        let a = Adapter {
            found: Found {
                primary: Some("/dev/dri/card0".into()),
                render: Some("/dev/dri/renderD128".into()),
                pci: Some(((0, 0, 4, 0), (0x1b36, 5, 0x1af4, 0x1100))),
            },
            driver_version: "1.0.0".into(),
            info: AdapterInfo {
                luid: 0x1_0000_0002,
                uapi_version: 1,
                host_version: 40,
                compute_only: true,
                description: "a b".into(),
            },
            adapter_type: Ok(0x20),
        };
        assert_eq!(
            brief_line(&a),
            "render=/dev/dri/renderD128 card=/dev/dri/card0 luid=0x0000000100000002 \
             pci=0000:00:04.0 pci_id=1b36:0005 uapi=1 host=40 compute_only=1 \
             adapter_type=0x20 description=\"a b\""
        );
    }

    #[test]
    fn libdrm_enumerates_without_dxg() {
        // The build machine may have no DRM device at all; listing works.
        drm_devices().unwrap();
    }
}
