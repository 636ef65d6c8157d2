// SPDX-License-Identifier: GPL-2.0

//! `dxg-host`: the software Hyper-V GPU-PV host (see
//! `Documentation/host-model.rst`), and `dxg-host ctl` to control it.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dxg_host::config::{Config, Order, USAGE};
use dxg_host::engine::Host;
use dxg_host::loopback::{Loopback, MAX_PACKET, RECORD_HEADER_SIZE};
use dxg_host::{control, pci};

static SIGNALLED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    SIGNALLED.store(true, Ordering::SeqCst);
}

fn ctl(args: &[String]) -> ExitCode {
    let mut path = Config::default().control;
    let mut rest = args;
    while let [flag, v, tail @ ..] = rest {
        if flag == "--control" {
            path = v.clone();
            rest = tail;
        } else if let Some(p) = flag.strip_prefix("--control=") {
            path = p.to_string();
            rest = &rest[1..];
        } else {
            break;
        }
    }
    if rest.is_empty() {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    }
    ExitCode::from(control::client(&path, &rest.join(" ")) as u8)
}

fn fill_mailboxes(host: &Host, cfg: &Config, addrs: &[String]) -> Result<(), String> {
    for (i, a) in cfg.adapters.iter().enumerate() {
        let Some(addr) = addrs.get(i) else {
            eprintln!("dxg-host: no PCI function for adapter {i}; mailbox not written");
            continue;
        };
        let dw = pci::mailbox_dwords(
            &host.instance_guid(i),
            cfg.version,
            a.vgpu_luid,
            cfg.host_caps,
        );
        pci::fill(addr, &dw).map_err(|e| format!("PCI {addr}: {e}"))?;
        eprintln!(
            "dxg-host: adapter {i} mailbox at {addr}: guid {} version {} vgpu-luid {:#x} caps {:#x}",
            host.instance_guid(i),
            cfg.version,
            a.vgpu_luid,
            cfg.host_caps
        );
        if cfg.reprobe {
            pci::reprobe(addr).map_err(|e| format!("reprobe {addr}: {e}"))?;
        }
    }
    Ok(())
}

fn offer_all(host: &Host) -> Result<(), String> {
    let id = host.offer_vm()?;
    eprintln!("dxg-host: offered VM channel {id}");
    for i in 0..host.adapter_count() {
        let id = host.offer_vgpu(i)?;
        eprintln!(
            "dxg-host: offered vGPU {i} channel {id} ({})",
            host.instance_guid(i)
        );
    }
    Ok(())
}

fn run(cfg: Config) -> Result<(), String> {
    let lb = Arc::new(Loopback::open(&cfg.device).map_err(|e| format!("{}: {e}", cfg.device))?);
    let host = Arc::new(Host::new(cfg.clone(), lb.clone()));
    let addrs = if cfg.no_pci {
        Vec::new()
    } else if !cfg.pci.is_empty() {
        cfg.pci.clone()
    } else {
        pci::discover().map_err(|e| format!("PCI discovery: {e}"))?
    };
    if !cfg.no_pci && addrs.len() < cfg.adapters.len() {
        eprintln!(
            "dxg-host: warning: {} adapters but {} stand-in PCI functions",
            cfg.adapters.len(),
            addrs.len()
        );
    }
    match cfg.order {
        Order::PciFirst => {
            fill_mailboxes(&host, &cfg, &addrs)?;
            offer_all(&host)?;
        }
        Order::ChannelFirst => {
            offer_all(&host)?;
            fill_mailboxes(&host, &cfg, &addrs)?;
        }
    }
    let ctl = if cfg.control.is_empty() {
        None
    } else {
        Some(
            control::serve(host.clone(), &cfg.control)
                .map_err(|e| format!("{}: {e}", cfg.control))?,
        )
    };
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        libc::signal(
            libc::SIGTERM,
            on_signal as extern "C" fn(libc::c_int) as *const () as libc::sighandler_t,
        );
        libc::signal(
            libc::SIGINT,
            on_signal as extern "C" fn(libc::c_int) as *const () as libc::sighandler_t,
        );
    }
    eprintln!("dxg-host: serving (seed {})", cfg.seed);
    let mut buf = vec![0u8; RECORD_HEADER_SIZE + 2 * MAX_PACKET + 4096];
    let mut result = Ok(());
    while !host.quitting() && !SIGNALLED.load(Ordering::SeqCst) {
        match lb.recv(&mut buf, 200) {
            Ok(Some((ch, len))) => {
                if let Some(p) = buf.get(RECORD_HEADER_SIZE..RECORD_HEADER_SIZE + len) {
                    host.handle_packet(ch, p);
                }
            }
            Ok(None) => {}
            Err(e) => {
                result = Err(format!("loopback read: {e}"));
                break;
            }
        }
    }
    eprintln!("dxg-host: exiting");
    host.shutdown();
    if let Some(t) = ctl {
        let _ = t.join();
    }
    result
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("ctl") {
        return ctl(&args[1..]);
    }
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let cfg = match Config::from_args(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("dxg-host: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(cfg) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dxg-host: {e}");
            ExitCode::FAILURE
        }
    }
}
