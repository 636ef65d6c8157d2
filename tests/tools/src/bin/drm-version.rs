// SPDX-License-Identifier: GPL-2.0

//! `drm-version NODE`: open a DRM node and print what DRM_IOCTL_VERSION says.

use std::fs::{File, OpenOptions};
use std::os::fd::{AsFd, BorrowedFd};
use std::process::ExitCode;

struct Node(File);

impl AsFd for Node {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl drm::Device for Node {}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: drm-version NODE (for example /dev/dri/renderD128)");
        return ExitCode::from(2);
    };
    let node = match OpenOptions::new().read(true).write(true).open(&path) {
        Ok(f) => Node(f),
        Err(e) => {
            eprintln!("drm-version: cannot open {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match drm::Device::get_driver(&node) {
        Ok(d) => {
            println!("name: {}", d.name().to_string_lossy());
            println!("date: {}", d.date().to_string_lossy());
            println!("desc: {}", d.description().to_string_lossy());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("drm-version: DRM_IOCTL_VERSION on {path} failed: {e}");
            ExitCode::FAILURE
        }
    }
}
