// SPDX-License-Identifier: GPL-2.0

//! `dxg-query NODE...`: print what DRM_IOCTL_DXG_QUERY_ADAPTER says about
//! each dxg DRM node, one line per node (for scripts and tests).

use std::process::ExitCode;

fn main() -> ExitCode {
    let nodes: Vec<String> = std::env::args().skip(1).collect();
    if nodes.is_empty() {
        eprintln!("usage: dxg-query NODE... (for example /dev/dri/renderD128)");
        return ExitCode::from(2);
    }
    let mut rc = ExitCode::SUCCESS;
    for path in nodes {
        let r = dxg_uapi::Node::open(&path).and_then(|n| {
            let name = n.driver_name()?;
            if name != "dxg" {
                return Err(std::io::Error::other(format!(
                    "driver is {name:?}, not dxg"
                )));
            }
            n.query_adapter()
        });
        match r {
            Ok(i) => println!(
                "{path}: luid={:#018x} uapi={} host={} compute_only={} description={:?}",
                i.luid, i.uapi_version, i.host_version, i.compute_only, i.description
            ),
            Err(e) => {
                eprintln!("dxg-query: {path}: {e}");
                rc = ExitCode::FAILURE;
            }
        }
    }
    rc
}
