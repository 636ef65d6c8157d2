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

extern "C" fn on_signal(sig: libc::c_int) {
    if sig != libc::SIGUSR1 {
        SIGNALLED.store(true, Ordering::SeqCst);
    }
}

/// Installs `on_signal` for SIGTERM, SIGINT and SIGUSR1 *without*
/// SA_RESTART, so a blocking read() of the loopback device returns EINTR.
fn install_signals() {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGUSR1] {
        // SAFETY: a zeroed sigaction with an async-signal-safe handler
        // (it only stores to an atomic) and an empty mask.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            sa.sa_flags = 0;
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// The main thread sits in a blocking read() of the loopback device (no
/// poll() before it: one system call per packet, not two). Once the host is
/// asked to stop, this thread keeps poking the main thread with SIGUSR1
/// (no SA_RESTART: the read returns EINTR) until it has left the loop.
fn spawn_waker(host: Arc<Host>, done: Arc<AtomicBool>) {
    // SAFETY: pthread_self has no preconditions.
    let main_thread = unsafe { libc::pthread_self() };
    let _ = std::thread::Builder::new()
        .name("waker".into())
        .spawn(move || {
            while !done.load(Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(100));
                if (SIGNALLED.load(Ordering::SeqCst) || host.quitting())
                    && !done.load(Ordering::SeqCst)
                {
                    // SAFETY: the main thread outlives this loop (`done` is
                    // set before it returns from `run`).
                    unsafe { libc::pthread_kill(main_thread, libc::SIGUSR1) };
                }
            }
        });
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

fn run(cfg: Config) -> Result<Exit, String> {
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
    install_signals();
    let done = Arc::new(AtomicBool::new(false));
    spawn_waker(host.clone(), done.clone());
    eprintln!("dxg-host: serving (seed {})", cfg.seed);
    let mut buf = vec![0u8; RECORD_HEADER_SIZE + 2 * MAX_PACKET + 4096];
    let mut result = Ok(());
    while !host.quitting() && !SIGNALLED.load(Ordering::SeqCst) {
        match lb.recv(&mut buf) {
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
    done.store(true, Ordering::SeqCst);
    eprintln!("dxg-host: exiting");
    host.shutdown();
    if let Some(t) = ctl {
        let _ = t.join();
    }
    result?;
    match host.violations() {
        Some(v) if !v.is_empty() => {
            eprintln!(
                "dxg-host: conformance: {} message(s) broke the dxgkrnl rules:",
                v.len()
            );
            for x in &v {
                eprintln!("dxg-host: conformance:   {x}");
            }
            Ok(Exit::Violations)
        }
        Some(_) => {
            eprintln!("dxg-host: conformance: every message followed the dxgkrnl rules");
            Ok(Exit::Clean)
        }
        None => Ok(Exit::Clean),
    }
}

/// How a host run ended.
enum Exit {
    Clean,
    /// `--strict` and the guest broke a conformance rule.
    Violations,
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
        Ok(Exit::Clean) => ExitCode::SUCCESS,
        Ok(Exit::Violations) => ExitCode::from(3),
        Err(e) => {
            eprintln!("dxg-host: {e}");
            ExitCode::FAILURE
        }
    }
}
