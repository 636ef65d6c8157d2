// SPDX-License-Identifier: GPL-2.0

//! The PCI stand-in mailbox: QEMU `pci-testdev` functions (1b36:0005) whose
//! config space above 0x40 is plain memory. The host writes what Hyper-V
//! would publish (the `DXGK_VMBUS_*_OFFSET` macros of dxgkrnl dxgmodule.c,
//! read by dxg_pci_probe_device()): channel GUID at 0xC0, version at 0xD0,
//! vGPU LUID at 0xD4/0xD8, host capabilities at 0xDC.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use dxg_proto::consts::{CFG_CHANNEL_GUID, CFG_HOST_CAPS, CFG_VERSION, CFG_VGPU_LUID};
use dxg_proto::Guid;

/// Vendor id of the stand-in.
pub const STANDIN_VENDOR: u16 = 0x1b36;
/// Device id of the stand-in.
pub const STANDIN_DEVICE: u16 = 0x0005;
const SYSFS: &str = "/sys/bus/pci/devices";

fn read_hex(p: &Path) -> Option<u16> {
    let s = fs::read_to_string(p).ok()?;
    u16::from_str_radix(s.trim().trim_start_matches("0x"), 16).ok()
}

/// Every stand-in function, sorted by address.
pub fn discover() -> io::Result<Vec<String>> {
    let mut v = Vec::new();
    for e in fs::read_dir(SYSFS)? {
        let e = e?;
        let p = e.path();
        if read_hex(&p.join("vendor")) == Some(STANDIN_VENDOR)
            && read_hex(&p.join("device")) == Some(STANDIN_DEVICE)
        {
            v.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    v.sort();
    Ok(v)
}

/// The dwords written, as (offset, value).
pub fn mailbox_dwords(
    guid: &Guid,
    version: u32,
    vgpu_luid: u64,
    host_caps: u32,
) -> Vec<(u16, u32)> {
    let mut v = Vec::new();
    for (i, d) in guid.to_dwords().iter().enumerate() {
        v.push((CFG_CHANNEL_GUID + 4 * i as u16, *d));
    }
    v.push((CFG_VERSION, version));
    v.push((CFG_VGPU_LUID, vgpu_luid as u32));
    v.push((CFG_VGPU_LUID + 4, (vgpu_luid >> 32) as u32));
    v.push((CFG_HOST_CAPS, host_caps));
    v
}

/// Writes the mailbox of function `addr` with 4-byte pwrites.
pub fn fill(addr: &str, dwords: &[(u16, u32)]) -> io::Result<()> {
    let f = OpenOptions::new()
        .write(true)
        .open(Path::new(SYSFS).join(addr).join("config"))?;
    for (off, v) in dwords {
        let n = f.write_at(&v.to_le_bytes(), u64::from(*off))?;
        if n != 4 {
            return Err(io::Error::other(format!(
                "{addr}: short config write at {off:#x}"
            )));
        }
    }
    Ok(())
}

/// Unbinds `addr` from its driver (if any) and asks the PCI core to probe
/// it again, so the driver reads the freshly written mailbox.
pub fn reprobe(addr: &str) -> io::Result<()> {
    let dev = Path::new(SYSFS).join(addr);
    if dev.join("driver").exists() {
        fs::write(dev.join("driver/unbind"), addr)?;
    }
    fs::write("/sys/bus/pci/drivers_probe", addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dwords() {
        let g = Guid([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0]);
        let d = mailbox_dwords(&g, 40, 0x1_0000_0002, 1);
        assert_eq!(
            d,
            vec![
                (0xc0, 1),
                (0xc4, 2),
                (0xc8, 3),
                (0xcc, 4),
                (0xd0, 40),
                (0xd4, 2),
                (0xd8, 1),
                (0xdc, 1)
            ]
        );
    }
}
