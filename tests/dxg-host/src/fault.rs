// SPDX-License-Identifier: GPL-2.0

//! Seeded fault injection: `CLASS[:cmd=NAME][:every=N|:prob=P][:count=K]`.

use std::fmt;

/// What goes wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultClass {
    /// Reply shorter than its structure.
    Truncated,
    /// Length/count fields larger than the bytes present or than asked for.
    Oversized,
    /// Completion with a transaction id that matches no request; the real
    /// reply is never sent.
    WrongTransId,
    /// An NTSTATUS the guest does not know (0xC0DE0001).
    UnknownStatus,
    /// STATUS_PENDING instead of a final status.
    Pending,
    /// The request is swallowed: no processing, no reply.
    NoReply,
    /// The channel the request came on is rescinded instead of replying.
    RescindInFlight,
    /// Random bytes as the completion payload.
    Garbage,
}

impl FaultClass {
    /// Every class.
    pub const ALL: [FaultClass; 8] = [
        FaultClass::Truncated,
        FaultClass::Oversized,
        FaultClass::WrongTransId,
        FaultClass::UnknownStatus,
        FaultClass::Pending,
        FaultClass::NoReply,
        FaultClass::RescindInFlight,
        FaultClass::Garbage,
    ];

    /// The name used on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            FaultClass::Truncated => "truncated",
            FaultClass::Oversized => "oversized",
            FaultClass::WrongTransId => "wrong-trans-id",
            FaultClass::UnknownStatus => "unknown-status",
            FaultClass::Pending => "pending",
            FaultClass::NoReply => "no-reply",
            FaultClass::RescindInFlight => "rescind-in-flight",
            FaultClass::Garbage => "garbage",
        }
    }

    /// Parses a class name.
    pub fn parse(s: &str) -> Option<FaultClass> {
        FaultClass::ALL.into_iter().find(|c| c.name() == s)
    }

    /// True if the request is still processed (the reply is corrupted).
    pub const fn processes_request(self) -> bool {
        !matches!(self, FaultClass::NoReply | FaultClass::RescindInFlight)
    }
}

impl fmt::Display for FaultClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// When a fault fires.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Trigger {
    /// Every N-th matching request (N >= 1).
    Every(u64),
    /// Each matching request with probability P (0..=1).
    Prob(f64),
}

/// One `--fault` specification.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    /// The class.
    pub class: FaultClass,
    /// Only requests of this command (protocol name, case-insensitive,
    /// e.g. `SUBMITCOMMAND` or `SubmitCommand`).
    pub cmd: Option<String>,
    /// When it fires.
    pub trigger: Trigger,
    /// At most this many injections.
    pub count: Option<u64>,
}

impl FaultSpec {
    /// Parses `CLASS[:cmd=NAME][:every=N|:prob=P][:count=K]`.
    pub fn parse(s: &str) -> Result<FaultSpec, String> {
        let mut parts = s.trim().split(':');
        let class_s = parts.next().unwrap_or("");
        let class = FaultClass::parse(class_s).ok_or_else(|| {
            let names: Vec<_> = FaultClass::ALL.iter().map(|c| c.name()).collect();
            format!(
                "unknown fault class {class_s:?} (one of {})",
                names.join(", ")
            )
        })?;
        let mut spec = FaultSpec {
            class,
            cmd: None,
            trigger: Trigger::Every(1),
            count: None,
        };
        let mut have_trigger = false;
        for p in parts {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| format!("fault option {p:?} is not key=value"))?;
            match k {
                "cmd" => {
                    let name = normalize_cmd(v);
                    if crate::engine::command_by_name(&name).is_none() {
                        return Err(format!("unknown command {v:?}"));
                    }
                    spec.cmd = Some(name);
                }
                "every" | "prob" if have_trigger => {
                    return Err("give only one of every= and prob=".into())
                }
                "every" => {
                    let n: u64 = v.parse().map_err(|_| format!("bad every={v}"))?;
                    if n == 0 {
                        return Err("every= must be >= 1".into());
                    }
                    spec.trigger = Trigger::Every(n);
                    have_trigger = true;
                }
                "prob" => {
                    let p: f64 = v.parse().map_err(|_| format!("bad prob={v}"))?;
                    if !(0.0..=1.0).contains(&p) {
                        return Err("prob= must be in 0..1".into());
                    }
                    spec.trigger = Trigger::Prob(p);
                    have_trigger = true;
                }
                "count" => spec.count = Some(v.parse().map_err(|_| format!("bad count={v}"))?),
                _ => return Err(format!("unknown fault option {k:?}")),
            }
        }
        Ok(spec)
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.class)?;
        if let Some(c) = &self.cmd {
            write!(f, ":cmd={c}")?;
        }
        match self.trigger {
            Trigger::Every(n) => write!(f, ":every={n}")?,
            Trigger::Prob(p) => write!(f, ":prob={p}")?,
        }
        if let Some(k) = self.count {
            write!(f, ":count={k}")?;
        }
        Ok(())
    }
}

/// Upper-case protocol name without separators (`submit-command` ->
/// `SUBMITCOMMAND`).
pub fn normalize_cmd(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// SplitMix64: small, seedable, good enough for test decisions.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub const fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            v.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        v.truncate(n);
        v
    }
}

struct Armed {
    spec: FaultSpec,
    matched: u64,
    injected: u64,
}

/// Decides, per request, whether a fault is injected. Deterministic for a
/// given seed and request sequence.
pub struct Injector {
    seed: u64,
    rng: Rng,
    armed: Vec<Armed>,
    /// Faults injected so far, per class name.
    pub injected: u64,
}

impl Injector {
    /// An injector with `specs`, seeded with `seed`.
    pub fn new(seed: u64, specs: &[FaultSpec]) -> Injector {
        let mut i = Injector {
            seed,
            rng: Rng::new(seed),
            armed: Vec::new(),
            injected: 0,
        };
        for s in specs {
            i.add(s.clone());
        }
        i
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Arms one more specification.
    pub fn add(&mut self, spec: FaultSpec) {
        self.armed.push(Armed {
            spec,
            matched: 0,
            injected: 0,
        });
    }

    /// Disarms everything.
    pub fn clear(&mut self) {
        self.armed.clear();
    }

    /// The armed specifications.
    pub fn specs(&self) -> Vec<String> {
        self.armed
            .iter()
            .map(|a| format!("{} (injected {})", a.spec, a.injected))
            .collect()
    }

    /// Random bytes for garbage replies (from the same seeded stream).
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// Decides for one request of command `cmd` (normalized name).
    pub fn decide(&mut self, cmd: &str) -> Option<FaultClass> {
        let mut hit = None;
        for a in self.armed.iter_mut() {
            if a.spec.cmd.as_deref().is_some_and(|c| c != cmd) {
                continue;
            }
            if a.spec.count.is_some_and(|k| a.injected >= k) {
                continue;
            }
            a.matched += 1;
            let fire = match a.spec.trigger {
                Trigger::Every(n) => a.matched % n == 0,
                Trigger::Prob(p) => self.rng.next_f64() < p,
            };
            if fire && hit.is_none() {
                a.injected += 1;
                hit = Some(a.spec.class);
            }
        }
        if hit.is_some() {
            self.injected += 1;
        }
        hit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_specs() {
        let s = FaultSpec::parse("truncated:cmd=submit-command:every=3:count=2").unwrap();
        assert_eq!(s.class, FaultClass::Truncated);
        assert_eq!(s.cmd.as_deref(), Some("SUBMITCOMMAND"));
        assert_eq!(s.trigger, Trigger::Every(3));
        assert_eq!(s.count, Some(2));
        assert_eq!(s.to_string(), "truncated:cmd=SUBMITCOMMAND:every=3:count=2");
        assert!(FaultSpec::parse("nope").is_err());
        assert!(FaultSpec::parse("garbage:every=0").is_err());
        assert!(FaultSpec::parse("garbage:prob=2").is_err());
        assert!(FaultSpec::parse("garbage:every=2:prob=0.5").is_err());
        assert!(FaultSpec::parse("garbage:cmd=FOO").is_err());
        assert!(FaultSpec::parse("garbage:x").is_err());
        for c in FaultClass::ALL {
            assert_eq!(FaultSpec::parse(c.name()).unwrap().class, c);
        }
    }

    #[test]
    fn every_and_count() {
        let mut i = Injector::new(1, &[FaultSpec::parse("pending:every=2:count=2").unwrap()]);
        let v: Vec<_> = (0..8).map(|_| i.decide("X").is_some()).collect();
        assert_eq!(v, [false, true, false, true, false, false, false, false]);
    }

    #[test]
    fn seeded_probability_is_deterministic() {
        let spec = [FaultSpec::parse("garbage:prob=0.3").unwrap()];
        let run = |seed| {
            let mut i = Injector::new(seed, &spec);
            (0..200)
                .map(|_| i.decide("X").is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let hits = run(7).iter().filter(|b| **b).count();
        assert!((30..90).contains(&hits), "{hits}");
    }
}
