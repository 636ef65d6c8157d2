// SPDX-License-Identifier: GPL-2.0

//! `dxg-query NODE...`: print what DRM_IOCTL_DXG_QUERY_ADAPTER says about
//! each dxg DRM node, one line per node (for scripts and tests).

use std::process::ExitCode;

/// KMTQAITYPE_ADAPTERTYPE: the adapter type flags.
const QAI_ADAPTERTYPE: u32 = 15;

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
            let info = n.query_adapter()?;
            // A round trip to the host: KMTQAITYPE_ADAPTERTYPE (15).
            let mut ty = [0u8; 4];
            n.query_adapter_info(QAI_ADAPTERTYPE, &mut ty)?;
            Ok((info, u32::from_le_bytes(ty)))
        });
        match r {
            Ok((i, ty)) => println!(
                "{path}: luid={:#018x} uapi={} host={} compute_only={} adapter_type={:#x} description={:?}",
                i.luid, i.uapi_version, i.host_version, i.compute_only, ty, i.description
            ),
            Err(e) => {
                eprintln!("dxg-query: {path}: {e}");
                rc = ExitCode::FAILURE;
            }
        }
    }
    rc
}
