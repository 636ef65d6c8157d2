// SPDX-License-Identifier: GPL-2.0

//! Configuration: command-line flags and `--config FILE` (one `key = value`
//! per line, the keys being the long flag names; `#` starts a comment).

use std::collections::HashMap;

use crate::fault::{normalize_cmd, FaultSpec};

/// Per-adapter properties.
#[derive(Clone, Debug, PartialEq)]
pub struct AdapterCfg {
    /// Description reported by GETINTERNALADAPTERINFO.
    pub name: String,
    /// Host adapter LUID (= channel LUID: first 8 bytes of the instance GUID).
    pub luid: u64,
    /// vGPU LUID (config space 0xD4, offer, GETINTERNALADAPTERINFO).
    pub vgpu_luid: u64,
    /// Local (video) memory segment size in bytes.
    pub local_mem: u64,
    /// Non-local (system) memory segment size in bytes.
    pub nonlocal_mem: u64,
    /// Compute-only adapter.
    pub compute_only: bool,
}

impl AdapterCfg {
    /// Defaults for adapter `i`.
    pub fn default_for(i: usize) -> AdapterCfg {
        let i64_ = i as u64;
        AdapterCfg {
            name: format!("dxg-host vGPU {i}"),
            luid: 0x0001_0000 + i64_,
            vgpu_luid: 0x0002_0000 + i64_,
            local_mem: 256 << 20,
            nonlocal_mem: 1 << 30,
            compute_only: false,
        }
    }
}

/// Order of PCI mailbox filling and channel offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Fill the mailboxes, then offer the channels.
    PciFirst,
    /// Offer the channels, then fill the mailboxes.
    ChannelFirst,
}

/// Paging behaviour of MAPGPUVIRTUALADDRESS / MAKERESIDENT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paging {
    /// Reply STATUS_PENDING with a paging fence value that is already reached.
    Pending,
    /// Reply STATUS_SUCCESS.
    Sync,
}

/// Everything configurable.
#[derive(Clone, Debug)]
pub struct Config {
    /// Loopback device path.
    pub device: String,
    /// Adapters.
    pub adapters: Vec<AdapterCfg>,
    /// IO space size offered with the VM channel.
    pub mmio_size: u64,
    /// Host capability word (config 0xDC).
    pub host_caps: u32,
    /// Interface version published at config 0xD0 (and spoken).
    pub version: u32,
    /// Mailbox/offer order.
    pub order: Order,
    /// Explicit PCI functions (adapter i <-> i-th); empty: discover.
    pub pci: Vec<String>,
    /// Do not touch PCI config space at all.
    pub no_pci: bool,
    /// Unbind and re-probe each PCI function after filling its mailbox.
    pub reprobe: bool,
    /// Reply latency per command (normalized name -> ms).
    pub latency: HashMap<String, u64>,
    /// Extra time each submission takes to execute (ms).
    pub exec_latency_ms: u64,
    /// Fault specifications.
    pub faults: Vec<FaultSpec>,
    /// Fault seed.
    pub seed: u64,
    /// Control socket path ("" = none).
    pub control: String,
    /// Report `async_msg_enabled` in GETINTERNALADAPTERINFO.
    pub async_msg: bool,
    /// Check every guest message against the dxgkrnl conformance oracle
    /// ([`crate::conform`]); exit with status 3 if any broke a rule.
    pub strict: bool,
    /// Paging model.
    pub paging: Paging,
    /// A WAIT inside a command buffer that is not satisfied within this
    /// many ms hangs the context (0 = wait forever).
    pub gpu_timeout_ms: u64,
    /// Start with the context workers held (control `hold`).
    pub hold: bool,
    /// Stall the first N submissions executed (control `stall-next N`).
    pub stall_next: u64,
    /// Log every request.
    pub verbose: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            device: "/dev/dxg-loopback".into(),
            adapters: vec![AdapterCfg::default_for(0)],
            mmio_size: 16 << 20,
            host_caps: 0,
            version: dxg_proto::consts::VERSION,
            order: Order::PciFirst,
            pci: Vec::new(),
            no_pci: false,
            reprobe: false,
            latency: HashMap::new(),
            exec_latency_ms: 0,
            faults: Vec::new(),
            seed: 1,
            control: "/run/dxg-host.sock".into(),
            async_msg: false,
            strict: false,
            paging: Paging::Pending,
            gpu_timeout_ms: 10_000,
            hold: false,
            stall_next: 0,
            verbose: false,
        }
    }
}

/// Usage text.
pub const USAGE: &str = "\
usage: dxg-host [options]            run the software Hyper-V GPU-PV host
       dxg-host ctl [--control PATH] COMMAND...   send a control command

options (a --config FILE holds the same as `key = value` lines):
  --config FILE             read options from FILE
  --device PATH             loopback device (/dev/dxg-loopback)
  --adapters N              number of adapters (1)
  --adapter I:KEY=V[,KEY=V] adapter I properties: name, luid, vgpu-luid,
                            local-mem, nonlocal-mem, compute-only (0/1)
  --mmio-size SIZE          IO space size (16M); K/M/G suffixes
  --host-caps N             host capability word at config 0xDC (0)
  --map-guest-memory        set host caps bit 0 (PFN lists instead of GPADLs)
  --version N               interface version published at 0xD0 (40)
  --order pci-first|channel-first   mailbox vs. channel offer order
  --pci ADDR[,ADDR]         PCI functions for adapters 0.. (default: every
                            1b36:0005 function, sorted by address)
  --no-pci                  do not write any PCI config space
  --reprobe                 unbind + reprobe each PCI function after filling it
  --latency CMD=MS          delay the reply of CMD (e.g. SUBMITCOMMAND=50)
  --exec-latency MS         extra execution time per submission
  --fault SPEC              CLASS[:cmd=NAME][:every=N|:prob=P][:count=K]
                            classes: truncated oversized wrong-trans-id
                            unknown-status pending no-reply
                            rescind-in-flight garbage
  --seed S                  fault seed (1)
  --control PATH            control socket (/run/dxg-host.sock; \"\" = none)
  --async-msg               report async_msg_enabled to the guest
  --strict                  check every guest message against the dxgkrnl
                            conformance oracle; exit status 3 on a violation
  --paging pending|sync     MAPGPUVA/MAKERESIDENT status (pending)
  --gpu-timeout MS          command-buffer WAIT timeout, 0 = none (10000)
  --hold                    start with the context workers held (ctl hold)
  --stall-next N            stall the first N submissions (ctl stall-next)
  -v, --verbose             log every request

ctl commands:
  offer vm | rescind vm | offer vgpu N | rescind vgpu N
  fault SPEC | fault clear | faults
  stats         one line per command seen since the start or the last
                `stats reset`: `NAME sync=N async=M` (async: sent without
                a completion request or with the async header bit), then
                `requests N`, `errors N`, `bad N`, `faults N` (injected),
                `submissions N` (executed)
  stats reset   zero all of those counters (the per-spec counts shown by
                `faults`, which count= limits use, stay)
  hold          context workers start no queued operation (submissions
                stay queued, fences unsignalled; requests are still
                answered); an operation already started goes on
  release       end hold: the queues run in order
  stall-next [N]  the next N (1) submissions a worker would execute never
                complete: that context's worker blocks on it (no fault, no
                signal; later operations of the context stay queued) until
                `stall clear`, context/device/process destruction or quit;
                other contexts run. Replaces any pending count.
  stall clear   release stalled contexts (each executes its stalled
                submission and goes on), cancel pending stalls; answers
                `released N`
  status        channels, IO space, object counts, then `workers N`
                (context threads), `held 0|1`, `stalled N` (contexts),
                `stall-next N` (stalls pending), `queued N` (operations
                queued, not started)
  processes     one line per host process: `process HANDLE pid PID name
                \"NAME\"` (CREATEPROCESS's process id and name)
  conformance   `violations N`, then each departure from dxgkrnl the
                oracle found (--strict only)
  quit
Answers end with `ok` (exit 0) or are `error: ...` (exit 1; 2 if the
socket cannot be reached).
";

/// Parses a size with an optional K/M/G suffix, or a 0x hex number.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mul) = match s.chars().last() {
        Some('k' | 'K') => (&s[..s.len() - 1], 1u64 << 10),
        Some('m' | 'M') => (&s[..s.len() - 1], 1 << 20),
        Some('g' | 'G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    parse_u64(num)?
        .checked_mul(mul)
        .ok_or_else(|| format!("size {s} overflows"))
}

/// Parses a decimal or 0x-prefixed hexadecimal number.
pub fn parse_u64(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let r = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16)
    } else {
        s.parse()
    };
    r.map_err(|_| format!("bad number {s:?}"))
}

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim() {
        "1" | "true" | "yes" | "on" | "" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("bad boolean {s:?}")),
    }
}

/// Options that take a value.
const VALUED: &[&str] = &[
    "config",
    "device",
    "adapters",
    "adapter",
    "mmio-size",
    "host-caps",
    "version",
    "order",
    "pci",
    "latency",
    "exec-latency",
    "fault",
    "seed",
    "control",
    "paging",
    "gpu-timeout",
    "stall-next",
];

/// Options that take no value on the command line.
fn is_flag(key: &str) -> bool {
    matches!(
        key,
        "map-guest-memory"
            | "no-pci"
            | "reprobe"
            | "async-msg"
            | "strict"
            | "hold"
            | "verbose"
            | "v"
    )
}

impl Config {
    fn adapter_mut(&mut self, i: usize) -> &mut AdapterCfg {
        while self.adapters.len() <= i {
            let n = self.adapters.len();
            self.adapters.push(AdapterCfg::default_for(n));
        }
        &mut self.adapters[i]
    }

    fn set_adapter(&mut self, spec: &str) -> Result<(), String> {
        let (idx, props) = spec
            .split_once(':')
            .ok_or_else(|| format!("--adapter {spec:?}: expected I:KEY=V,..."))?;
        let i = usize::try_from(parse_u64(idx)?).map_err(|_| "bad adapter index".to_string())?;
        if i >= 64 {
            return Err("at most 64 adapters".into());
        }
        for kv in props.split(',').filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').unwrap_or((kv, "1"));
            let a = self.adapter_mut(i);
            match k.trim() {
                "name" => a.name = v.to_string(),
                "luid" => a.luid = parse_u64(v)?,
                "vgpu-luid" => a.vgpu_luid = parse_u64(v)?,
                "local-mem" => a.local_mem = parse_size(v)?,
                "nonlocal-mem" => a.nonlocal_mem = parse_size(v)?,
                "compute-only" => a.compute_only = parse_bool(v)?,
                _ => return Err(format!("unknown adapter property {k:?}")),
            }
        }
        Ok(())
    }

    /// Applies one option (`key` without dashes). Returns whether `value`
    /// was consumed.
    fn apply(&mut self, key: &str, value: Option<&str>) -> Result<bool, String> {
        let need = || value.ok_or_else(|| format!("--{key} needs a value"));
        match key {
            "map-guest-memory" => self.host_caps |= dxg_proto::consts::HOST_CAP_MAP_GUEST_MEMORY,
            "no-pci" => self.no_pci = true,
            "reprobe" => self.reprobe = true,
            "async-msg" => self.async_msg = true,
            "strict" => self.strict = true,
            "hold" => self.hold = true,
            "verbose" | "v" => self.verbose = true,
            _ => {
                if !VALUED.contains(&key) {
                    return Err(format!("unknown option --{key}"));
                }
                let v = need()?;
                match key {
                    "config" => self.load_file(v)?,
                    "device" => self.device = v.into(),
                    "adapters" => {
                        let n = usize::try_from(parse_u64(v)?).unwrap_or(usize::MAX);
                        if n > 64 {
                            return Err("at most 64 adapters".into());
                        }
                        self.adapters.truncate(n);
                        while self.adapters.len() < n {
                            let i = self.adapters.len();
                            self.adapters.push(AdapterCfg::default_for(i));
                        }
                    }
                    "adapter" => self.set_adapter(v)?,
                    "mmio-size" => self.mmio_size = parse_size(v)?,
                    "host-caps" => {
                        self.host_caps = u32::try_from(parse_u64(v)?)
                            .map_err(|_| "host caps must fit 32 bits".to_string())?
                    }
                    "version" => {
                        self.version =
                            u32::try_from(parse_u64(v)?).map_err(|_| "bad version".to_string())?
                    }
                    "order" => {
                        self.order = match v {
                            "pci-first" => Order::PciFirst,
                            "channel-first" => Order::ChannelFirst,
                            _ => return Err(format!("bad --order {v:?}")),
                        }
                    }
                    "pci" => self.pci.extend(
                        v.split(',')
                            .filter(|s| !s.is_empty())
                            .map(|s| s.trim().to_string()),
                    ),
                    "latency" => {
                        let (c, ms) = v
                            .split_once('=')
                            .ok_or_else(|| format!("--latency {v:?}: expected CMD=MS"))?;
                        let name = normalize_cmd(c);
                        if crate::engine::command_by_name(&name).is_none() {
                            return Err(format!("--latency: unknown command {c:?}"));
                        }
                        self.latency.insert(name, parse_u64(ms)?);
                    }
                    "exec-latency" => self.exec_latency_ms = parse_u64(v)?,
                    "fault" => self.faults.push(FaultSpec::parse(v)?),
                    "seed" => self.seed = parse_u64(v)?,
                    "control" => self.control = v.into(),
                    "paging" => {
                        self.paging = match v {
                            "pending" => Paging::Pending,
                            "sync" => Paging::Sync,
                            _ => return Err(format!("bad --paging {v:?}")),
                        }
                    }
                    "gpu-timeout" => self.gpu_timeout_ms = parse_u64(v)?,
                    "stall-next" => self.stall_next = parse_u64(v)?,
                    _ => return Err(format!("unknown option --{key}")),
                }
                return Ok(true);
            }
        }
        if let Some(v) = value {
            // A boolean given a value in a config file.
            if !parse_bool(v)? {
                return Err(format!("{key} = {v}: flags cannot be turned off"));
            }
        }
        Ok(false)
    }

    /// Reads `key = value` lines from `path`.
    pub fn load_file(&mut self, path: &str) -> Result<(), String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        self.load_str(&text).map_err(|e| format!("{path}: {e}"))
    }

    /// Parses config-file text.
    pub fn load_str(&mut self, text: &str) -> Result<(), String> {
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (k, v) = match line.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (line, None),
            };
            self.apply(k, v)
                .map_err(|e| format!("line {}: {e}", n + 1))?;
        }
        Ok(())
    }

    /// Parses command-line arguments (without the program name).
    pub fn from_args<I: IntoIterator<Item = String>>(args: I) -> Result<Config, String> {
        let mut c = Config::default();
        let mut it = args.into_iter().peekable();
        while let Some(a) = it.next() {
            let key = if a == "-v" {
                "verbose".to_string()
            } else if let Some(k) = a.strip_prefix("--") {
                k.to_string()
            } else {
                return Err(format!("unexpected argument {a:?}"));
            };
            let (key, inline) = match key.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (key, None),
            };
            if let Some(v) = inline {
                c.apply(&key, Some(&v))?;
                continue;
            }
            let next = if is_flag(&key) {
                None
            } else {
                it.peek().cloned()
            };
            if c.apply(&key, next.as_deref())? {
                it.next();
            }
        }
        c.check()?;
        Ok(c)
    }

    /// Consistency checks.
    pub fn check(&self) -> Result<(), String> {
        if self.mmio_size == 0 || self.mmio_size % 4096 != 0 {
            return Err("--mmio-size must be a non-zero multiple of 4096".into());
        }
        let mut seen = std::collections::HashSet::new();
        for a in &self.adapters {
            if a.luid == 0 || a.vgpu_luid == 0 {
                return Err(format!("adapter {:?}: LUIDs must be non-zero", a.name));
            }
            if !seen.insert(a.luid) || !seen.insert(a.vgpu_luid) {
                return Err(format!("adapter {:?}: LUIDs must be unique", a.name));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn flags() {
        let c = Config::from_args(args(
            "--adapters 2 --adapter 1:name=Comp,compute-only=1,local-mem=64M \
             --mmio-size 32M --latency submit-command=5 --fault garbage:every=3 \
             --seed 0x10 --order channel-first --pci 0000:00:03.0,0000:00:04.0 \
             --map-guest-memory --control= -v",
        ))
        .unwrap();
        assert_eq!(c.adapters.len(), 2);
        assert!(c.adapters[1].compute_only);
        assert_eq!(c.adapters[1].name, "Comp");
        assert_eq!(c.adapters[1].local_mem, 64 << 20);
        assert_eq!(c.mmio_size, 32 << 20);
        assert_eq!(c.latency.get("SUBMITCOMMAND"), Some(&5));
        assert_eq!(c.faults.len(), 1);
        assert_eq!(c.seed, 16);
        assert_eq!(c.order, Order::ChannelFirst);
        assert_eq!(c.pci.len(), 2);
        assert_eq!(c.host_caps, 1);
        assert_eq!(c.control, "");
        assert!(c.verbose);
        assert!(Config::from_args(args("--bogus")).is_err());
        assert!(Config::from_args(args("--adapters")).is_err());
        assert!(Config::from_args(args("--mmio-size 100")).is_err());
        assert!(Config::from_args(args("--latency FOO=1")).is_err());
        assert!(Config::from_args(args("--adapter 0:luid=0")).is_err());
        let c = Config::from_args(args("--hold --stall-next 3")).unwrap();
        assert!(c.hold);
        assert_eq!(c.stall_next, 3);
        let c = Config::from_args(args("--stall-next=0x2")).unwrap();
        assert!(!c.hold);
        assert_eq!(c.stall_next, 2);
        assert!(Config::from_args(args("--stall-next")).is_err());
        assert!(Config::from_args(args("--stall-next x")).is_err());
    }

    #[test]
    fn file() {
        let mut c = Config::default();
        c.load_str(
            "# comment\nadapters = 3\nadapter = 2:name=X # trailing\nasync-msg = true\n\
             paging = sync\nfault = no-reply:cmd=ESCAPE\n",
        )
        .unwrap();
        assert_eq!(c.adapters.len(), 3);
        assert_eq!(c.adapters[2].name, "X");
        assert!(c.async_msg);
        assert_eq!(c.paging, Paging::Sync);
        c.load_str("hold = yes\nstall-next = 4\n").unwrap();
        assert!(c.hold);
        assert_eq!(c.stall_next, 4);
        assert!(c.load_str("async-msg = false").is_err());
        assert!(c.load_str("nope = 1").is_err());
    }
}
