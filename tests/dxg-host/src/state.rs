// SPDX-License-Identifier: GPL-2.0

//! The host's object model: VM (IO space), adapters, processes, devices,
//! contexts, paging queues, resources, allocations, sync objects, monitored
//! fences, CPU waits and per-(process, adapter) GPU VA spaces.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use dxg_proto::consts::PAGE_SIZE;
use dxg_proto::status::{
    NtStatus, STATUS_INVALID_HANDLE, STATUS_INVALID_PARAMETER, STATUS_NO_MEMORY,
};

use crate::config::AdapterCfg;
use crate::fault::Injector;
use crate::mem::Region;

/// Lowest GPU VA handed out.
pub const VA_BASE: u64 = 0x1_0000_0000;
/// GPU VAs end below this.
pub const VA_LIMIT: u64 = 1 << 47;
/// Monitored fences get GPU VAs `FENCE_VA_BASE + IO-space offset`; they
/// are not in any page table.
pub const FENCE_VA_BASE: u64 = 1 << 48;

/// Page-granular first-fit allocator over `[0, len)`.
#[derive(Debug)]
pub struct PageAlloc {
    free: BTreeMap<u64, u64>,
}

impl PageAlloc {
    /// An allocator with everything free.
    pub fn new(len: u64) -> PageAlloc {
        let mut free = BTreeMap::new();
        if len > 0 {
            free.insert(0, len);
        }
        PageAlloc { free }
    }

    /// Allocates `len` bytes (a page multiple).
    pub fn alloc(&mut self, len: u64) -> Option<u64> {
        let (&start, &flen) = self.free.iter().find(|(_, &l)| l >= len)?;
        self.free.remove(&start);
        if flen > len {
            self.free.insert(start + len, flen - len);
        }
        Some(start)
    }

    /// Frees a range returned by `alloc`.
    pub fn free(&mut self, start: u64, len: u64) {
        let mut s = start;
        let mut l = len;
        if let Some((&ps, &pl)) = self.free.range(..s).next_back() {
            if ps + pl == s {
                self.free.remove(&ps);
                s = ps;
                l += pl;
            }
        }
        if let Some(&nl) = self.free.get(&(s + l)) {
            self.free.remove(&(s + l));
            l += nl;
        }
        self.free.insert(s, l);
    }

    /// Free bytes.
    pub fn free_bytes(&self) -> u64 {
        self.free.values().sum()
    }
}

/// The registered IO space.
pub struct Io {
    /// Guest-physical base.
    pub base: u64,
    /// Length in bytes.
    pub len: u64,
    /// The host's mapping of it.
    pub region: Arc<Region>,
    /// Placement of fence pages and host-backed allocations.
    pub pages: PageAlloc,
}

/// VM-level state.
#[derive(Default)]
pub struct Vm {
    /// The VM channel, when offered.
    pub channel: Option<u32>,
    /// The IO space, once SETIOSPACEREGION succeeded.
    pub io: Option<Io>,
}

/// One adapter.
pub struct AdapterState {
    /// Configuration.
    pub cfg: AdapterCfg,
    /// Its vGPU channel, when offered.
    pub channel: Option<u32>,
    /// Local-segment bytes in use.
    pub used_local: u64,
    /// Non-local-segment bytes in use.
    pub used_nonlocal: u64,
}

/// Where an allocation's bytes live.
#[derive(Clone, Debug)]
pub enum Backing {
    /// Host-backed, in the IO space at this offset.
    Io(u64),
    /// Existing sysmem, not backed yet.
    Unbacked,
    /// Existing sysmem mapped through a GPADL.
    Gpadl(u32, Arc<Region>),
    /// Existing sysmem described by PFNs (recorded, not accessible).
    Pfns(Vec<u64>),
}

/// Work queued on a context, executed in order by its worker thread.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Execute the command buffer at `va`.
    Submit {
        /// GPU VA.
        va: u64,
        /// Length in bytes.
        len: u32,
        /// Null rendering: skip execution.
        null: bool,
    },
    /// Wait until every (fence id, value) is reached.
    Wait(Vec<(u64, u64)>),
    /// Signal (fence id, value) pairs and guest events.
    Signal {
        /// Fences.
        fences: Vec<(u64, u64)>,
        /// Guest events.
        events: Vec<u64>,
        /// Allow fence values to go backwards.
        rewind: bool,
    },
}

/// Object kinds.
pub enum Kind {
    /// A host process (CREATEPROCESS).
    Process {
        /// Name from the request.
        name: String,
        /// Guest pid.
        pid: u64,
    },
    /// An open adapter (OPENADAPTER).
    Adapter,
    /// A device.
    Device {
        /// Guest cookie echoed in SETGUESTDATA.
        cookie: u64,
        /// Execution state (1 active, 3 hung, 6 DMA fault, 7 DMA page fault).
        exec_state: u32,
    },
    /// A context.
    Context {
        /// Queued operations.
        queue: VecDeque<Op>,
        /// The worker is executing an operation.
        busy: bool,
        /// The worker is blocked on a stalled submission (until `stall
        /// clear`, the context's destruction or the host quitting).
        stalled: bool,
        /// Error that stopped the context.
        error: Option<String>,
    },
    /// A paging queue.
    PagingQueue {
        /// Its monitored fence's sync object handle.
        sync: u32,
        /// The fence id.
        fence: u64,
    },
    /// A resource grouping allocations.
    Resource,
    /// An allocation.
    Allocation {
        /// Size in bytes (page multiple).
        size: u64,
        /// Backing.
        backing: Backing,
        /// Owning resource or 0.
        resource: u32,
        /// Created with existing_sysmem.
        sysmem: bool,
    },
    /// A sync object.
    Sync {
        /// `SYNC_TYPE_*`.
        stype: u32,
        /// Fence id (monitored and legacy fences).
        fence: Option<u64>,
        /// Guest event id (CPU notification).
        event: u64,
        /// Global (shared) handle or 0.
        global: u32,
    },
    /// An NT shared object naming another object.
    NtShared {
        /// The shared object.
        object: u32,
    },
}

impl Kind {
    /// A short name for logs.
    pub fn tag(&self) -> &'static str {
        match self {
            Kind::Process { .. } => "process",
            Kind::Adapter => "adapter",
            Kind::Device { .. } => "device",
            Kind::Context { .. } => "context",
            Kind::PagingQueue { .. } => "paging queue",
            Kind::Resource => "resource",
            Kind::Allocation { .. } => "allocation",
            Kind::Sync { .. } => "sync object",
            Kind::NtShared { .. } => "NT shared object",
        }
    }
}

/// An object and its owners.
pub struct Object {
    /// What it is.
    pub kind: Kind,
    /// Owning process handle (0: none).
    pub process: u32,
    /// Adapter index, for per-adapter objects.
    pub adapter: Option<usize>,
    /// Owning device handle (0: none).
    pub device: u32,
}

/// A monitored (or legacy) fence.
pub struct Fence {
    /// Current value.
    pub value: u64,
    /// Offset of its page in the IO space (monitored fences).
    pub io_off: Option<u64>,
    /// Sync objects referring to it.
    pub refs: u32,
}

/// A registered CPU wait.
pub struct CpuWait {
    /// Guest event id to signal.
    pub event: u64,
    /// (fence id, value) pairs.
    pub objs: Vec<(u64, u64)>,
    /// Any instead of all.
    pub any: bool,
}

/// Kind of a VA range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeKind {
    /// RESERVEGPUVIRTUALADDRESS.
    Reserved,
    /// Created by a map.
    Mapped,
}

/// A GPU VA space (one per process and adapter).
#[derive(Default)]
pub struct VaSpace {
    /// Ranges: start -> (length, kind).
    pub ranges: BTreeMap<u64, (u64, RangeKind)>,
    /// Page table: VA page number -> (allocation handle, page in allocation).
    pub pages: BTreeMap<u64, (u32, u64)>,
}

impl VaSpace {
    fn overlapping(&self, va: u64, len: u64) -> Vec<(u64, u64, RangeKind)> {
        let end = va.saturating_add(len);
        let mut v = Vec::new();
        if let Some((&s, &(l, k))) = self.ranges.range(..=va).next_back() {
            if s + l > va {
                v.push((s, l, k));
            }
        }
        for (&s, &(l, k)) in self.ranges.range(va..end) {
            if s != va || v.is_empty() {
                v.push((s, l, k));
            }
        }
        v.dedup();
        v
    }

    /// Claims `[va, va+len)` for a mapping: fine if it lies inside one
    /// existing range or overlaps none (then a Mapped range is created).
    pub fn claim(&mut self, va: u64, len: u64) -> Result<(), NtStatus> {
        if va % PAGE_SIZE != 0 || len == 0 || len % PAGE_SIZE != 0 {
            return Err(STATUS_INVALID_PARAMETER);
        }
        let end = va.checked_add(len).ok_or(STATUS_INVALID_PARAMETER)?;
        if va < VA_BASE || end > VA_LIMIT {
            return Err(STATUS_INVALID_PARAMETER);
        }
        let ov = self.overlapping(va, len);
        match ov.as_slice() {
            [] => {
                self.ranges.insert(va, (len, RangeKind::Mapped));
                Ok(())
            }
            [(s, l, _)] if *s <= va && s + l >= end => Ok(()),
            _ => Err(STATUS_INVALID_PARAMETER),
        }
    }

    /// Finds a free range of `len` bytes in `[min, max)`.
    pub fn find_free(&self, len: u64, min: u64, max: u64) -> Option<u64> {
        let lo = min.max(VA_BASE).checked_add(PAGE_SIZE - 1)? & !(PAGE_SIZE - 1);
        let hi = if max == 0 {
            VA_LIMIT
        } else {
            max.min(VA_LIMIT)
        };
        let mut cur = lo;
        for (&s, &(l, _)) in self.ranges.range(..) {
            if s + l <= cur {
                continue;
            }
            if s >= cur && s - cur >= len {
                break;
            }
            cur = cur.max(s + l);
        }
        (cur.checked_add(len)? <= hi).then_some(cur)
    }

    /// Maps `pages` pages of `alloc` starting at page `first` to `va`.
    pub fn map(&mut self, va: u64, alloc: u32, first: u64, pages: u64) {
        let vpn = va / PAGE_SIZE;
        for i in 0..pages {
            self.pages.insert(vpn + i, (alloc, first + i));
        }
    }

    /// Unmaps `[va, va+len)`.
    pub fn unmap(&mut self, va: u64, len: u64) {
        let first = va / PAGE_SIZE;
        let last = va.saturating_add(len).div_ceil(PAGE_SIZE);
        let keys: Vec<u64> = self.pages.range(first..last).map(|(k, _)| *k).collect();
        for k in keys {
            self.pages.remove(&k);
        }
    }

    /// Frees the range starting at `va` of length `len`.
    pub fn free(&mut self, va: u64, len: u64) -> Result<(), NtStatus> {
        match self.ranges.get(&va) {
            Some(&(l, _)) if l == len => {
                self.ranges.remove(&va);
                self.unmap(va, len);
                Ok(())
            }
            _ => Err(STATUS_INVALID_PARAMETER),
        }
    }

    /// Removes every mapping of `alloc` (and Mapped ranges left empty).
    pub fn drop_allocation(&mut self, alloc: u32) {
        self.pages.retain(|_, (a, _)| *a != alloc);
        let pages = &self.pages;
        self.ranges.retain(|&s, &mut (l, k)| {
            k == RangeKind::Reserved
                || pages
                    .range(s / PAGE_SIZE..(s + l) / PAGE_SIZE)
                    .next()
                    .is_some()
        });
    }
}

/// Messages of one command, by how the guest sent them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CmdCount {
    /// Sent with a completion request and without the async header bit.
    pub sync: u64,
    /// Sent without a completion request, or with the async header bit
    /// ([`dxg_proto::header::ASYNC_MSG_BIT`]).
    pub async_: u64,
}

/// Request counters (control command `stats`; `stats reset` zeroes them).
#[derive(Default)]
pub struct Stats {
    /// Messages per command name (commands not seen since the start or
    /// the last reset are absent).
    pub per_cmd: BTreeMap<String, CmdCount>,
    /// In-band data packets received.
    pub requests: u64,
    /// Packets that failed to decode.
    pub bad: u64,
    /// Requests answered with an error status.
    pub errors: u64,
    /// Submissions executed.
    pub submissions: u64,
}

impl Stats {
    /// Counts one message of command `name`.
    pub fn count(&mut self, name: &str, asynchronous: bool) {
        let c = self.per_cmd.entry(name.to_string()).or_default();
        if asynchronous {
            c.async_ += 1;
        } else {
            c.sync += 1;
        }
    }

    /// Zeroes every counter.
    pub fn reset(&mut self) {
        *self = Stats::default();
    }
}

/// All host state, behind one mutex.
pub struct State {
    next_index: u32,
    unique: u32,
    /// VM-level state.
    pub vm: Vm,
    /// Adapters in configuration order.
    pub adapters: Vec<AdapterState>,
    /// Every object by handle.
    pub objects: HashMap<u32, Object>,
    /// Fences by id.
    pub fences: HashMap<u64, Fence>,
    next_fence: u64,
    /// Registered CPU waits.
    pub cpu_waits: Vec<CpuWait>,
    /// VA spaces by (process, adapter).
    pub vas: HashMap<(u32, usize), VaSpace>,
    /// Negotiated interface version.
    pub version: u32,
    /// Fault injector.
    pub faults: Injector,
    /// Counters.
    pub stats: Stats,
    /// Requests received so far (numbers requests in logs; never reset).
    pub req_no: u64,
    /// Context workers start no queued operation (control `hold` /
    /// `release`, `--hold`).
    pub hold: bool,
    /// That many more submissions are stalled when a worker would execute
    /// them (control `stall-next N`, `--stall-next N`).
    pub stall_next: u64,
    /// Context worker threads running.
    pub workers: usize,
    /// The dxgkrnl conformance oracle (`--strict`).
    pub oracle: Option<crate::conform::Oracle>,
}

impl State {
    /// Fresh state.
    pub fn new(adapters: &[AdapterCfg], version: u32, faults: Injector) -> State {
        State {
            next_index: 1,
            unique: 1,
            vm: Vm::default(),
            adapters: adapters
                .iter()
                .map(|c| AdapterState {
                    cfg: c.clone(),
                    channel: None,
                    used_local: 0,
                    used_nonlocal: 0,
                })
                .collect(),
            objects: HashMap::new(),
            fences: HashMap::new(),
            next_fence: 1,
            cpu_waits: Vec::new(),
            vas: HashMap::new(),
            version,
            faults,
            stats: Stats::default(),
            req_no: 0,
            hold: false,
            stall_next: 0,
            workers: 0,
            oracle: None,
        }
    }

    /// A new D3DKMT handle: instance 0, index counting up (never reused
    /// until the 24-bit index wraps), unique 1..3 advancing on each wrap.
    pub fn new_handle(&mut self) -> u32 {
        loop {
            let h = dxg_proto::Handle::from_parts(0, self.next_index, self.unique).value();
            self.next_index += 1;
            if self.next_index >= 1 << 24 {
                self.next_index = 1;
                self.unique = self.unique % 3 + 1;
            }
            if !self.objects.contains_key(&h) {
                return h;
            }
        }
    }

    /// Inserts an object; returns its handle.
    pub fn insert(&mut self, kind: Kind, process: u32, adapter: Option<usize>, device: u32) -> u32 {
        let h = self.new_handle();
        self.objects.insert(
            h,
            Object {
                kind,
                process,
                adapter,
                device,
            },
        );
        h
    }

    /// Looks up `h` owned by `process` (0: any) on `adapter` (None: any).
    pub fn get(&self, h: u32, process: u32, adapter: Option<usize>) -> Result<&Object, NtStatus> {
        let o = self.objects.get(&h).ok_or(STATUS_INVALID_HANDLE)?;
        if process != 0 && o.process != process {
            return Err(STATUS_INVALID_HANDLE);
        }
        if adapter.is_some() && o.adapter.is_some() && o.adapter != adapter {
            return Err(STATUS_INVALID_HANDLE);
        }
        Ok(o)
    }

    /// Mutable `get`.
    pub fn get_mut(
        &mut self,
        h: u32,
        process: u32,
        adapter: Option<usize>,
    ) -> Result<&mut Object, NtStatus> {
        self.get(h, process, adapter)?;
        self.objects.get_mut(&h).ok_or(STATUS_INVALID_HANDLE)
    }

    /// Allocates a monitored fence page in the IO space.
    pub fn new_fence(&mut self, initial: u64, monitored: bool) -> Result<u64, NtStatus> {
        let io_off = if monitored {
            let io = self.vm.io.as_mut().ok_or(STATUS_INVALID_PARAMETER)?;
            let off = io.pages.alloc(PAGE_SIZE).ok_or(STATUS_NO_MEMORY)?;
            let _ = io.region.fill(off, PAGE_SIZE as usize, 0);
            let _ = io.region.write_u64(off, initial);
            Some(off)
        } else {
            None
        };
        let id = self.next_fence;
        self.next_fence += 1;
        self.fences.insert(
            id,
            Fence {
                value: initial,
                io_off,
                refs: 1,
            },
        );
        Ok(id)
    }

    /// Drops one reference to a fence; frees its page with the last.
    pub fn unref_fence(&mut self, id: u64) {
        let gone = match self.fences.get_mut(&id) {
            Some(f) => {
                f.refs = f.refs.saturating_sub(1);
                f.refs == 0
            }
            None => false,
        };
        if gone {
            if let Some(f) = self.fences.remove(&id) {
                if let (Some(off), Some(io)) = (f.io_off, self.vm.io.as_mut()) {
                    io.pages.free(off, PAGE_SIZE);
                }
            }
            self.cpu_waits
                .retain(|w| w.objs.iter().all(|(f, _)| *f != id));
        }
    }

    /// GPA and GPU VA of a monitored fence.
    pub fn fence_addrs(&self, id: u64) -> (u64, u64) {
        match (self.fences.get(&id).and_then(|f| f.io_off), &self.vm.io) {
            (Some(off), Some(io)) => (io.base + off, FENCE_VA_BASE + off),
            _ => (0, 0),
        }
    }

    /// Current value of a fence (0 if gone).
    pub fn fence_value(&self, id: u64) -> u64 {
        self.fences.get(&id).map_or(0, |f| f.value)
    }

    /// Sets a fence (never backwards unless `rewind`), mirrors it into its
    /// IO page, and returns the guest events of CPU waits now satisfied.
    pub fn signal_fence(&mut self, id: u64, value: u64, rewind: bool) -> Vec<u64> {
        let Some(f) = self.fences.get_mut(&id) else {
            return Vec::new();
        };
        if value > f.value || rewind {
            f.value = value;
        }
        if let (Some(off), Some(io)) = (f.io_off, &self.vm.io) {
            let _ = io.region.write_u64(off, f.value);
        }
        self.take_satisfied_waits()
    }

    /// Whether every (fence, value) of a GPU wait is reached (a fence
    /// that is gone no longer holds anyone up).
    pub fn waits_reached(&self, objs: &[(u64, u64)]) -> bool {
        objs.iter()
            .all(|(f, v)| !self.fences.contains_key(f) || self.fence_value(*f) >= *v)
    }

    /// Performs an [`Op::Signal`]: sets `fences` and returns the guest
    /// events to send, `events` first, then those of CPU waits the
    /// fences satisfied.
    pub fn signal_all(
        &mut self,
        fences: Vec<(u64, u64)>,
        events: Vec<u64>,
        rewind: bool,
    ) -> Vec<u64> {
        let mut ev = events;
        for (f, v) in fences {
            ev.extend(self.signal_fence(f, v, rewind));
        }
        ev
    }

    /// Removes and returns the events of satisfied CPU waits.
    pub fn take_satisfied_waits(&mut self) -> Vec<u64> {
        let fences = &self.fences;
        let done = |w: &CpuWait| {
            let ok = |(f, v): &(u64, u64)| fences.get(f).is_some_and(|x| x.value >= *v);
            if w.any {
                w.objs.iter().any(ok)
            } else {
                w.objs.iter().all(ok)
            }
        };
        let mut events = Vec::new();
        self.cpu_waits.retain(|w| {
            if done(w) {
                events.push(w.event);
                false
            } else {
                true
            }
        });
        events
    }

    /// Destroys `h` and everything it owns. Context workers notice on
    /// their own that their context is gone.
    pub fn destroy(&mut self, h: u32) {
        let Some(obj) = self.objects.remove(&h) else {
            return;
        };
        // Children first: objects owned by this process or device, or in
        // this resource.
        let children: Vec<u32> = self
            .objects
            .iter()
            .filter(|(_, o)| match obj.kind {
                Kind::Process { .. } => o.process == h,
                Kind::Device { .. } => o.device == h,
                Kind::Resource => {
                    matches!(o.kind, Kind::Allocation { resource, .. } if resource == h)
                }
                _ => false,
            })
            .map(|(k, _)| *k)
            .collect();
        for c in children {
            self.destroy(c);
        }
        match obj.kind {
            Kind::Process { .. } => {
                self.vas.retain(|(p, _), _| *p != h);
            }
            Kind::PagingQueue { sync, .. } => self.destroy(sync),
            Kind::Allocation { size, backing, .. } => {
                if let Some(a) = obj.adapter {
                    if let Some(ad) = self.adapters.get_mut(a) {
                        if let Backing::Io(_) = backing {
                            ad.used_local = ad.used_local.saturating_sub(size);
                        } else {
                            ad.used_nonlocal = ad.used_nonlocal.saturating_sub(size);
                        }
                    }
                    if let Some(vs) = self.vas.get_mut(&(obj.process, a)) {
                        vs.drop_allocation(h);
                    }
                }
                if let (Backing::Io(off), Some(io)) = (backing, self.vm.io.as_mut()) {
                    io.pages.free(off, size);
                }
            }
            Kind::Sync { fence: Some(f), .. } => self.unref_fence(f),
            _ => {}
        }
        // NT shared objects naming it become dangling; drop them.
        let shared: Vec<u32> = self
            .objects
            .iter()
            .filter(|(_, o)| matches!(o.kind, Kind::NtShared { object } if object == h))
            .map(|(k, _)| *k)
            .collect();
        for s in shared {
            self.objects.remove(&s);
        }
    }

    /// Destroys every object of adapter `a`.
    pub fn drop_adapter(&mut self, a: usize) {
        let hs: Vec<u32> = self
            .objects
            .iter()
            .filter(|(_, o)| o.adapter == Some(a))
            .map(|(k, _)| *k)
            .collect();
        for h in hs {
            self.destroy(h);
        }
        self.vas.retain(|(_, x), _| *x != a);
    }

    /// Destroys everything (VM channel rescinded).
    pub fn drop_all(&mut self) {
        self.objects.clear();
        self.fences.clear();
        self.cpu_waits.clear();
        self.vas.clear();
        self.vm.io = None;
        for a in &mut self.adapters {
            a.used_local = 0;
            a.used_nonlocal = 0;
        }
    }

    /// The device of context `ctx`, if it is in an error state.
    pub fn context_failed(&self, ctx: u32) -> bool {
        match self.objects.get(&ctx) {
            Some(Object {
                kind: Kind::Context { error, .. },
                device,
                ..
            }) => {
                error.is_some()
                    || matches!(
                        self.objects.get(device).map(|o| &o.kind),
                        Some(Kind::Device { exec_state, .. }) if *exec_state != 1
                    )
            }
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_alloc() {
        let mut p = PageAlloc::new(4 * PAGE_SIZE);
        let a = p.alloc(PAGE_SIZE).unwrap();
        let b = p.alloc(2 * PAGE_SIZE).unwrap();
        assert_eq!((a, b), (0, PAGE_SIZE));
        assert!(p.alloc(2 * PAGE_SIZE).is_none());
        p.free(a, PAGE_SIZE);
        p.free(b, 2 * PAGE_SIZE);
        assert_eq!(p.free_bytes(), 4 * PAGE_SIZE);
        assert_eq!(p.alloc(4 * PAGE_SIZE), Some(0));
    }

    #[test]
    fn va_space() {
        let mut v = VaSpace::default();
        let a = v.find_free(2 * PAGE_SIZE, 0, 0).unwrap();
        assert_eq!(a, VA_BASE);
        v.claim(a, 2 * PAGE_SIZE).unwrap();
        let b = v.find_free(PAGE_SIZE, 0, 0).unwrap();
        assert_eq!(b, VA_BASE + 2 * PAGE_SIZE);
        assert!(v.claim(a + PAGE_SIZE, 2 * PAGE_SIZE).is_err());
        assert!(v.claim(a + PAGE_SIZE, PAGE_SIZE).is_ok());
        v.map(a, 7, 0, 2);
        assert_eq!(v.pages.len(), 2);
        assert!(v.free(a, PAGE_SIZE).is_err());
        v.free(a, 2 * PAGE_SIZE).unwrap();
        assert!(v.pages.is_empty());
        assert!(v.claim(1, PAGE_SIZE).is_err());
        v.ranges.insert(VA_BASE, (PAGE_SIZE, RangeKind::Reserved));
        v.ranges
            .insert(VA_BASE + 3 * PAGE_SIZE, (PAGE_SIZE, RangeKind::Reserved));
        assert_eq!(v.find_free(2 * PAGE_SIZE, 0, 0), Some(VA_BASE + PAGE_SIZE));
        assert_eq!(
            v.find_free(3 * PAGE_SIZE, 0, 0),
            Some(VA_BASE + 4 * PAGE_SIZE)
        );
    }

    #[test]
    fn handles_unique() {
        let mut s = State::new(&[], 40, Injector::new(0, &[]));
        let a = s.insert(Kind::Resource, 0, None, 0);
        let b = s.insert(Kind::Resource, 0, None, 0);
        assert_ne!(a, b);
        assert_eq!(dxg_proto::Handle::new(a).unique(), 1);
        assert_eq!(dxg_proto::Handle::new(a).instance(), 0);
        s.destroy(a);
        let c = s.insert(Kind::Resource, 0, None, 0);
        assert_ne!(c, a);
    }
}
