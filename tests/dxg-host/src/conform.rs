// SPDX-License-Identifier: GPL-2.0

//! The dxgkrnl conformance oracle (`--strict`).
//!
//! The real Hyper-V host is only known to accept what Microsoft's dxgkrnl
//! sends, in the order it sends it. The oracle checks every message the
//! guest sends against the rules of `Documentation/protocol.rst`
//! ("Message sequences"), each taken from dxgkrnl's source
//! (WSL2-Linux-Kernel, `drivers/hv/dxgkrnl/`), and reports each violation
//! with the rule it broke. It only observes: the host model answers as it
//! would without it.
//!
//! Rules ([`Rule`]):
//!
//! - *framing*: the extension header is there exactly when the negotiated
//!   version is at least 40 (`init_message()` in `dxgvmbus.c`), names the
//!   adapter's vGPU LUID on vGPU commands and zero on VM-level ones;
//! - *header*: `command_id` 0, the process handle 0 on the commands
//!   dxgkrnl builds with `command_*_init1()` (SETIOSPACEREGION,
//!   CREATEPROCESS, DESTROYNTSHAREDOBJECT, OPENADAPTER, CLOSEADAPTER,
//!   GETINTERNALADAPTERINFO) and a live process on all others;
//! - *channel*: VM-level commands on the VM-level channel; vGPU commands on
//!   their adapter's channel, or on the VM-level channel once the host
//!   enabled asynchronous messages for that adapter (`init_message()`);
//! - *async*: SUBMITCOMMAND, SUBMITCOMMANDTOHWQUEUE, SIGNALSYNCOBJECT and
//!   WAITFORSYNCOBJECTFROMGPU go without a completion request (and with the
//!   async bit) exactly when the host enabled asynchronous messages; every
//!   other message requests a completion (`dxgvmb_send_async_msg()`
//!   callers);
//! - *length*: the length dxgkrnl sends for the command (its `sizeof`
//!   arithmetic, slack bytes included), as the VMBus ring carries it
//!   (padded to 8 bytes);
//! - *fields*: fields dxgkrnl always sends as zero or as fixed values
//!   (CREATEPROCESS: the Linux flag only and the task's comm as the name);
//! - *order*: SETIOSPACEREGION first on the VM-level channel and only once,
//!   OPENADAPTER then GETINTERNALADAPTERINFO first for each adapter,
//!   after its CLOSEADAPTER nothing but a new OPENADAPTER, no process handle used
//!   before CREATEPROCESS returned it or after DESTROYPROCESS.
//!
//! Departures that `Documentation/protocol.rst` documents as safe are
//! accepted by name ([`Departure`]); anything else is a violation.

use std::collections::BTreeSet;
use std::fmt;

use dxg_proto::command::{CommandId, GlobalCommand as G, VgpuCommand as V};
use dxg_proto::consts::{VERSION_EXT_HEADER, VERSION_LAST_COMPATIBLE};
use dxg_proto::header::{GuestMessage, EXT_HEADER_SIZE};
use dxg_proto::request::Request;

/// The longest task name dxgkrnl sends: `TASK_COMM_LEN` less its NUL.
const COMM_MAX: usize = 15;

/// A rule of the oracle; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// Extension header presence and LUID.
    Framing,
    /// Command header fields.
    Header,
    /// Which channel carries the command.
    Channel,
    /// Completion requested or not.
    Async,
    /// Message length.
    Length,
    /// Fields dxgkrnl sends as zero or fixed values.
    Fields,
    /// Message order.
    Order,
}

impl Rule {
    /// The rule's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Framing => "framing",
            Rule::Header => "header",
            Rule::Channel => "channel",
            Rule::Async => "async",
            Rule::Length => "length",
            Rule::Fields => "fields",
            Rule::Order => "order",
        }
    }
}

/// A departure from dxgkrnl that `Documentation/protocol.rst` documents as
/// safe on a real host; the oracle accepts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Departure {
    /// SETEXISTINGSYSMEMPAGES is sent with its exact length (40 + 8n)
    /// instead of dxgkrnl's fixed maximum; the host reads `num_pages`.
    ExactSysmemPages,
    /// An adapter's OPENADAPTER and GETINTERNALADAPTERINFO go on its own
    /// channel even when another adapter enabled asynchronous messages
    /// (dxgkrnl's flag is global, dxg's per adapter; dxgkrnl sends the
    /// first adapter's pair on its vGPU channel too).
    PerAdapterAsync,
    /// Below version 40 the host's `async_msg_enabled` is ignored: without
    /// the extension header a vGPU command on the VM-level channel cannot
    /// name its adapter (dxgkrnl sends it there regardless, which no host
    /// can route).
    NoAsyncBelow40,
}

/// A broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// What was seen, and what dxgkrnl sends instead.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule {}: {}", self.rule.name(), self.detail)
    }
}

/// Where a message arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// The VM-level channel.
    Vm,
    /// The vGPU channel of adapter `i`.
    Vgpu(usize),
}

/// One message the guest sent, as the oracle sees it.
pub struct Seen<'a> {
    /// The channel it arrived on.
    pub via: Via,
    /// The adapter it addresses (by channel or by the LUID of its
    /// extension header), for vGPU commands.
    pub adapter: Option<usize>,
    /// The VMBus packet asked for a completion.
    pub completion: bool,
    /// The VMBus transaction id.
    pub trans_id: u64,
    /// The VMBus payload (padded to 8 bytes).
    pub payload: &'a [u8],
    /// The parsed message and request.
    pub msg: &'a GuestMessage<'a>,
    /// The decoded request.
    pub req: &'a Request<'a>,
}

/// Per-adapter progress.
#[derive(Clone, Debug, Default)]
struct AdapterSeq {
    /// Messages seen for it.
    seen: u32,
    /// The host enabled asynchronous messages for it (its
    /// GETINTERNALADAPTERINFO reply said so).
    async_on: bool,
    /// CLOSEADAPTER was sent.
    closed: bool,
}

/// The oracle for one host session.
pub struct Oracle {
    version: u32,
    /// The host reports `async_msg_enabled`.
    host_async: bool,
    /// vGPU LUID per adapter index.
    luids: Vec<u64>,
    adapters: Vec<AdapterSeq>,
    /// Messages seen on the VM-level channel.
    vm_seen: u32,
    /// SETIOSPACEREGION was sent.
    io_space_set: bool,
    /// The host offered an IO space with its VM-level channel.
    io_space_offered: bool,
    /// Process handles CREATEPROCESS returned and no DESTROYPROCESS ended.
    processes: BTreeSet<u32>,
    /// Departures accepted.
    departures: Vec<Departure>,
    /// Every violation so far, with the request number and command.
    pub violations: Vec<String>,
}

/// The commands dxgkrnl may send asynchronously (`dxgvmb_send_async_msg()`
/// callers in `dxgvmbus.c`).
fn may_be_async(id: CommandId) -> bool {
    matches!(
        id,
        CommandId::Vgpu(
            V::SubmitCommand
                | V::SubmitCommandToHwQueue
                | V::SignalSyncObject
                | V::WaitForSyncObjectFromGpu
        )
    )
}

/// Commands whose header carries process 0 (`command_vm_to_host_init1()`,
/// `command_vgpu_to_host_init1()` in `dxgvmbus.c`).
fn without_process(id: CommandId) -> bool {
    matches!(
        id,
        CommandId::Global(G::SetIoSpaceRegion | G::CreateProcess | G::DestroyNtSharedObject)
            | CommandId::Vgpu(V::OpenAdapter | V::CloseAdapter | V::GetInternalAdapterInfo)
    )
}

fn round8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// The command length dxgkrnl sends for `req` (without the extension
/// header and VMBus padding), from its `sizeof` arithmetic; `None` for
/// commands the oracle has no rule for.
pub fn dxgkrnl_length(req: &Request<'_>) -> Option<usize> {
    use core::mem::size_of;
    use dxg_proto::{global, misc};
    Some(match req {
        Request::SetIoSpaceRegion(_) => 48,
        Request::CreateProcess(_) => 568,
        Request::DestroyProcess(_) => 24,
        Request::CreateNtSharedObject(_) => size_of::<global::CreateNtSharedObject>(),
        Request::DestroyNtSharedObject(_) => size_of::<global::DestroyNtSharedObject>(),
        Request::OpenSyncObject(_) => 40,
        Request::DestroySyncObject(_) => 32,
        Request::OpenAdapter(_) => 40,
        Request::CloseAdapter(_) => 32,
        Request::GetInternalAdapterInfo(_) => 24,
        // sizeof(dxgkvmb_command_queryadapterinfo) 40, data at 32.
        Request::QueryAdapterInfo(m) => 39 + m.data.len(),
        Request::CreateDevice(_) => 40,
        Request::DestroyDevice(_) => 32,
        Request::FlushDevice(_) => 32,
        Request::GetDeviceState(_) => 80,
        // sizeof 56, private data at 52.
        Request::CreateContextVirtual(m) => 55 + m.priv_data.len(),
        Request::DestroyContext(_) => 32,
        Request::CreatePagingQueue(_) => 56,
        Request::DestroyPagingQueue(_) => 32,
        Request::CreateAllocation(m) => {
            64 + 12 * m.infos.len()
                + m.runtime_data.len()
                + m.resource_priv.len()
                + m.alloc_priv.len()
        }
        // sizeof 48, handles at 40.
        Request::DestroyAllocation(m) => 48 + 4 * m.allocations.len(),
        Request::SetExistingSysmemStore(_) => 40,
        Request::SetExistingSysmemPages(_) => {
            40 + 8 * dxg_proto::consts::MAX_PFNS_PER_MESSAGE as usize
        }
        Request::Lock2(_) => 64,
        Request::Unlock2(_) => 40,
        Request::MapGpuVirtualAddress(_) => 136,
        Request::ReserveGpuVirtualAddress(_) => 96,
        Request::FreeGpuVirtualAddress(_) => 48,
        Request::UpdateGpuVirtualAddress(m) => 56 + 64 * m.ops.len(),
        // sizeof 48, handles at 40.
        Request::MakeResident(m) => 44 + 4 * m.allocations.len(),
        Request::Evict(m) => 36 + 4 * m.allocations.len(),
        Request::CreateSyncObject(_) => 128,
        Request::SignalSyncObject(m) => {
            56 + 4 * m.objects.len() + 4 * m.contexts.len() + 8 * m.fence_values.len()
        }
        Request::WaitForSyncObjectFromCpu(m) => 56 + 12 * m.objects.len(),
        // Microsoft's dxgvmbus.h: u64 fence_values[1] in a 48-byte struct.
        Request::WaitForSyncObjectFromGpu(m) => 40 + 12 * m.objects.len(),
        Request::SubmitCommand(m) => 408 + 4 * m.history.len() + m.priv_data.len(),
        // sizeof 56, data at 48.
        Request::Escape(m) => 55 + m.data.len(),
        Request::QueryStatistics(_) => size_of::<misc::QueryStatistics>(),
        Request::QueryVideoMemoryInfo(_) => size_of::<misc::QueryVideoMemoryInfo>(),
        Request::Unsupported(_) => return None,
    })
}

impl Oracle {
    /// An oracle for a host speaking `version`, reporting `async_msg_enabled`
    /// = `host_async`, with adapters of these vGPU LUIDs.
    pub fn new(version: u32, host_async: bool, luids: Vec<u64>) -> Oracle {
        let adapters = vec![AdapterSeq::default(); luids.len()];
        Oracle {
            version,
            host_async,
            luids,
            adapters,
            vm_seen: 0,
            io_space_set: false,
            io_space_offered: false,
            processes: BTreeSet::new(),
            departures: vec![
                Departure::ExactSysmemPages,
                Departure::PerAdapterAsync,
                Departure::NoAsyncBelow40,
            ],
            violations: Vec::new(),
        }
    }

    /// Forgets the departures accepted by default (unit tests).
    pub fn without_departures(mut self) -> Oracle {
        self.departures.clear();
        self
    }

    fn accepts(&self, d: Departure) -> bool {
        self.departures.contains(&d)
    }

    /// The VM-level channel was (re-)offered, with an IO space or not: its
    /// sequence starts again.
    pub fn vm_offered(&mut self, io_space: bool) {
        self.vm_seen = 0;
        self.io_space_set = false;
        self.io_space_offered = io_space;
        self.processes.clear();
    }

    /// Adapter `i`'s channel was (re-)offered: its sequence starts again.
    pub fn vgpu_offered(&mut self, i: usize) {
        if let Some(a) = self.adapters.get_mut(i) {
            *a = AdapterSeq::default();
        }
    }

    /// Checks one message; returns the violations (also kept in
    /// [`Oracle::violations`], prefixed with `what`).
    pub fn check(&mut self, what: &str, s: &Seen<'_>) -> Vec<Violation> {
        let mut v = Vec::new();
        self.framing(s, &mut v);
        self.header(s, &mut v);
        self.channel(s, &mut v);
        self.asynchronous(s, &mut v);
        self.length(s, &mut v);
        self.fields(s, &mut v);
        self.order(s, &mut v);
        for x in &v {
            self.violations.push(format!("{what}: {x}"));
        }
        v
    }

    /// A message that does not parse: a violation of its own.
    pub fn malformed(&mut self, what: &str, detail: String) -> Violation {
        let v = Violation {
            rule: Rule::Header,
            detail,
        };
        self.violations.push(format!("{what}: {v}"));
        v
    }

    /// The host answered `s` successfully with `data`; tracks what the
    /// order rules need.
    pub fn replied(&mut self, s: &Seen<'_>, data: &[u8]) {
        match s.req {
            Request::CreateProcess(_) => {
                if let Some(h) = data.get(..4) {
                    let h = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
                    if h != 0 {
                        self.processes.insert(h);
                    }
                }
            }
            Request::GetInternalAdapterInfo(_)
                if self.host_async
                    && (self.version >= VERSION_EXT_HEADER
                        || !self.accepts(Departure::NoAsyncBelow40)) =>
            {
                if let Some(a) = s.adapter.and_then(|i| self.adapters.get_mut(i)) {
                    a.async_on = true;
                }
            }
            _ => {}
        }
    }

    fn async_on(&self, s: &Seen<'_>) -> bool {
        s.adapter
            .and_then(|i| self.adapters.get(i))
            .is_some_and(|a| a.async_on)
    }

    fn framing(&self, s: &Seen<'_>, v: &mut Vec<Violation>) {
        let want = self.version >= VERSION_EXT_HEADER;
        match (&s.msg.ext, want) {
            (None, true) => v.push(Violation {
                rule: Rule::Framing,
                detail: format!(
                    "no extension header at version {} (dxgkrnl init_message(): one when the version is >= 40)",
                    self.version
                ),
            }),
            (Some(_), false) => v.push(Violation {
                rule: Rule::Framing,
                detail: format!(
                    "an extension header at version {} (dxgkrnl sends none below 40)",
                    self.version
                ),
            }),
            (Some(e), true) => {
                let luid = e.vgpu_luid.as_u64();
                let want = match s.msg.id {
                    CommandId::Global(_) => Some(0),
                    CommandId::Vgpu(_) => s.adapter.and_then(|i| self.luids.get(i).copied()),
                };
                if want.is_some_and(|w| w != luid) {
                    v.push(Violation {
                        rule: Rule::Framing,
                        detail: format!(
                            "extension header vGPU LUID {luid:#x}, dxgkrnl sends {:#x} (the adapter's vGPU LUID, 0 for VM-level commands)",
                            want.unwrap_or(0)
                        ),
                    });
                }
            }
            (None, false) => {}
        }
    }

    fn header(&self, s: &Seen<'_>, v: &mut Vec<Violation>) {
        let h = &s.msg.header;
        let p = h.process.value();
        if without_process(s.msg.id) {
            if p != 0 {
                v.push(Violation {
                    rule: Rule::Header,
                    detail: format!(
                        "process {p:#x} in the header, dxgkrnl sends 0 (command_*_init1())"
                    ),
                });
            }
        } else if p == 0 {
            v.push(Violation {
                rule: Rule::Header,
                detail: "process 0 in the header, dxgkrnl sends the host process handle (command_*_init2())".into(),
            });
        }
    }

    fn channel(&self, s: &Seen<'_>, v: &mut Vec<Violation>) {
        let want_vm = match s.msg.id {
            CommandId::Global(_) => true,
            CommandId::Vgpu(V::OpenAdapter | V::GetInternalAdapterInfo)
                if self.accepts(Departure::PerAdapterAsync) =>
            {
                false
            }
            CommandId::Vgpu(_) => self.async_on(s),
        };
        let on_vm = s.via == Via::Vm;
        if want_vm != on_vm {
            v.push(Violation {
                rule: Rule::Channel,
                detail: format!(
                    "sent on the {} channel, dxgkrnl uses the {} channel{}",
                    if on_vm { "VM-level" } else { "vGPU" },
                    if want_vm {
                        "VM-level"
                    } else {
                        "adapter's vGPU"
                    },
                    match s.msg.id {
                        CommandId::Global(_) => " for VM-level commands",
                        CommandId::Vgpu(_) if want_vm =>
                            " once the host enabled asynchronous messages",
                        CommandId::Vgpu(_) => " unless the host enabled asynchronous messages",
                    }
                ),
            });
        }
    }

    fn asynchronous(&self, s: &Seen<'_>, v: &mut Vec<Violation>) {
        let want_async = may_be_async(s.msg.id) && self.async_on(s);
        let is_async = !s.completion;
        if want_async != is_async {
            v.push(Violation {
                rule: Rule::Async,
                detail: if want_async {
                    "sent with a completion request, dxgkrnl sends it asynchronously once the host enabled asynchronous messages".into()
                } else if may_be_async(s.msg.id) {
                    "sent asynchronously, but the host did not enable asynchronous messages".into()
                } else {
                    "sent asynchronously, dxgkrnl always waits for this command's reply".into()
                },
            });
        }
        if is_async != s.msg.header.is_async() {
            v.push(Violation {
                rule: Rule::Async,
                detail: format!(
                    "async bit {} on a packet {} a completion request (dxgkrnl sets it exactly on asynchronous messages)",
                    u8::from(s.msg.header.is_async()),
                    if s.completion { "with" } else { "without" }
                ),
            });
        }
        if is_async && s.trans_id != 0 {
            v.push(Violation {
                rule: Rule::Async,
                detail: format!(
                    "asynchronous packet with transaction id {}, dxgkrnl sends 0",
                    s.trans_id
                ),
            });
        }
    }

    fn length(&self, s: &Seen<'_>, v: &mut Vec<Violation>) {
        let Some(want) = dxgkrnl_length(s.req) else {
            return;
        };
        let ext = if s.msg.ext.is_some() {
            EXT_HEADER_SIZE
        } else {
            0
        };
        let got = s.payload.len().saturating_sub(ext);
        if got == round8(want) {
            return;
        }
        if let Request::SetExistingSysmemPages(m) = s.req {
            if self.accepts(Departure::ExactSysmemPages) && got == round8(40 + 8 * m.pfns.len()) {
                return;
            }
        }
        v.push(Violation {
            rule: Rule::Length,
            detail: format!(
                "{got} bytes after the extension header, dxgkrnl sends {want} (padded: {})",
                round8(want)
            ),
        });
    }

    fn fields(&self, s: &Seen<'_>, v: &mut Vec<Violation>) {
        let mut bad = |field: &str, got: u64, want: &str| {
            v.push(Violation {
                rule: Rule::Fields,
                detail: format!("{field} = {got:#x}, dxgkrnl sends {want}"),
            })
        };
        match s.req {
            Request::SetIoSpaceRegion(c) if c.shared_page_gpadl.get() != 0 => bad(
                "shared_page_gpadl",
                c.shared_page_gpadl.get().into(),
                "0 (dxgvmb_send_set_iospace_region())",
            ),
            Request::OpenAdapter(c) => {
                if c.vmbus_interface_version.get() != self.version {
                    bad(
                        "vmbus_interface_version",
                        c.vmbus_interface_version.get().into(),
                        "the negotiated version (dxgvmb_send_open_adapter())",
                    );
                }
                if c.vmbus_last_compatible_interface_version.get() != VERSION_LAST_COMPATIBLE {
                    bad(
                        "vmbus_last_compatible_interface_version",
                        c.vmbus_last_compatible_interface_version.get().into(),
                        "16",
                    );
                }
                if c.guest_adapter_luid.as_u64() != 0 {
                    bad("guest_adapter_luid", c.guest_adapter_luid.as_u64(), "0");
                }
            }
            Request::CreateProcess(c) => {
                if c.flags != dxg_proto::global::PROCESS_FLAG_LINUX {
                    bad(
                        "flags",
                        c.flags.into(),
                        "linux_process only (dxgvmb_send_create_process())",
                    );
                }
                // The task's comm: at most TASK_COMM_LEN - 1 characters,
                // then NUL to the end (the command is zeroed first).
                let name = c.name().len();
                if name > COMM_MAX {
                    bad(
                        "process_name length",
                        name as u64,
                        "the task's comm, at most 15 characters (dxgvmb_send_create_process())",
                    );
                }
                let tail = c.process_name.get(name..).unwrap_or(&[]);
                if let Some(pos) = tail.iter().position(|u| u.get() != 0) {
                    bad(
                        "process_name after its NUL",
                        (name + pos) as u64,
                        "zero units (dxgvmb_send_create_process())",
                    );
                }
            }
            Request::FlushDevice(c)
                if c.reason.get() != dxg_proto::device::FLUSH_REASON_DEVICE_TERMINATE =>
            {
                bad(
                    "reason",
                    c.reason.get().into(),
                    "4, DEVICE_TERMINATE (dxgprocess_adapter_destroy(), its only caller)",
                )
            }
            Request::CreateDevice(c) if c.cdd_device != 0 => bad(
                "cdd_device",
                c.cdd_device.into(),
                "0 (dxgvmb_send_create_device())",
            ),
            Request::CreateAllocation(m) if m.cmd.make_resident != 0 => bad(
                "make_resident",
                m.cmd.make_resident.into(),
                "0 (dxgvmb_send_create_allocation())",
            ),
            Request::MapGpuVirtualAddress(c) if c.device.value() != 0 => bad(
                "device",
                c.device.value().into(),
                "0 (dxgvmb_send_map_gpu_va())",
            ),
            Request::MakeResident(m) if m.cmd.device.value() != 0 => bad(
                "device",
                m.cmd.device.value().into(),
                "0 (dxgvmb_send_make_resident())",
            ),
            Request::SignalSyncObject(m)
                if m.cmd.flags.get() & dxg_proto::syncmsg::SIGNAL_FLAG_ENQUEUE_CPU_EVENT != 0
                    && !m.contexts.is_empty()
                    && !m.objects.is_empty() =>
            {
                bad(
                    "object_count",
                    m.objects.len() as u64,
                    "0 with ENQUEUE_CPU_EVENT on contexts: an event and fence values are two messages (dxgkio_signal_sync_object_gpu2())",
                )
            }
            Request::SignalSyncObject(m)
                if !m.contexts.is_empty()
                    && m.cmd.flags.get() & dxg_proto::syncmsg::SIGNAL_FLAG_ENQUEUE_CPU_EVENT == 0
                    && m.cmd.flags.get() != 0 =>
            {
                bad(
                    "flags",
                    m.cmd.flags.get().into(),
                    "0 on a fence signal queued on contexts (dxgkio_signal_sync_object_gpu())",
                )
            }
            Request::SignalSyncObject(m) if !m.contexts.is_empty() => {
                // Queued on contexts (signal from the GPU): the union at
                // offset 48 holds no device (dxgkio_signal_sync_object_gpu*).
                let enqueue_cpu_event =
                    m.cmd.flags.get() & dxg_proto::syncmsg::SIGNAL_FLAG_ENQUEUE_CPU_EVENT != 0;
                if !enqueue_cpu_event && m.cmd.cpu_event_or_device.get() != 0 {
                    bad(
                        "device (offset 48)",
                        m.cmd.cpu_event_or_device.get(),
                        "0 on a signal queued on contexts (dxgkio_signal_sync_object_gpu())",
                    );
                }
            }
            Request::SignalSyncObject(m) if m.cmd.cpu_event_or_device.get() == 0 => bad(
                "device (offset 48)",
                0,
                "the device on a signal from the CPU (dxgkio_signal_sync_object_cpu())",
            ),
            Request::WaitForSyncObjectFromCpu(m) if m.cmd.dereference_event != 0 => bad(
                "dereference_event",
                m.cmd.dereference_event.into(),
                "0 (dxgvmb_send_wait_sync_object_cpu())",
            ),
            _ => {}
        }
    }

    fn order(&mut self, s: &Seen<'_>, v: &mut Vec<Violation>) {
        let mut bad = |detail: String| {
            v.push(Violation {
                rule: Rule::Order,
                detail,
            })
        };
        if s.via == Via::Vm {
            self.vm_seen += 1;
        }
        match s.msg.id {
            CommandId::Global(G::SetIoSpaceRegion) => {
                if self.io_space_set {
                    bad("a second SETIOSPACEREGION (dxgkrnl sends it once, at the VM-level channel's start)".into());
                } else if self.vm_seen != 1 {
                    bad(format!(
                        "SETIOSPACEREGION as message {} of the VM-level channel, dxgkrnl sends it first (dxgglobal_init_global_channel())",
                        self.vm_seen
                    ));
                }
                self.io_space_set = true;
            }
            _ if s.via == Via::Vm && self.io_space_offered && !self.io_space_set => {
                bad("a message on the VM-level channel before SETIOSPACEREGION (dxgkrnl sends it first when the host offers an IO space)".into());
                // Once is enough.
                self.io_space_set = true;
            }
            _ => {}
        }
        if let (CommandId::Vgpu(c), Some(i)) = (s.msg.id, s.adapter) {
            if let Some(a) = self.adapters.get_mut(i) {
                if a.closed && c == V::OpenAdapter {
                    // The channel was closed and opened again (dxgkrnl
                    // dxgadapter_stop(), then a new dxgadapter_start()).
                    a.closed = false;
                    a.seen = 0;
                }
                a.seen += 1;
                let want = match a.seen {
                    1 => Some(V::OpenAdapter),
                    2 => Some(V::GetInternalAdapterInfo),
                    _ => None,
                };
                if a.closed {
                    bad(format!(
                        "{} after CLOSEADAPTER of adapter {i} (dxgkrnl closes the channel then; a new start begins with OPENADAPTER)",
                        c.name()
                    ));
                } else if let Some(w) = want.filter(|&w| w != c) {
                    bad(format!(
                        "{} as message {} of adapter {i}, dxgkrnl sends {} (dxgadapter_set_vmbus())",
                        c.name(),
                        a.seen,
                        w.name()
                    ));
                }
                if c == V::CloseAdapter {
                    a.closed = true;
                }
            }
        }
        let p = s.msg.header.process.value();
        if !without_process(s.msg.id) && p != 0 && !self.processes.contains(&p) {
            bad(format!(
                "process {p:#x} used before CREATEPROCESS returned it or after its DESTROYPROCESS"
            ));
        }
        if let Request::DestroyProcess(_) = s.req {
            self.processes.remove(&p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dxg_proto::adapter::{GetInternalAdapterInfo, OpenAdapter};
    use dxg_proto::device::CreateDevice;
    use dxg_proto::global::{CreateProcess, DestroyProcess, SetIoSpaceRegion};
    use dxg_proto::gpuva::MapGpuVirtualAddress;
    use dxg_proto::header::{mark_async, Framing};
    use dxg_proto::submit::SubmitCommandMsg;
    use dxg_proto::syncmsg::{SignalSyncObjectMsg, SIGNAL_FLAG_ENQUEUE_CPU_EVENT};
    use dxg_proto::{Handle, Luid, U16, U64};

    const LUID: u64 = 0x2_0000;
    const PROCESS: u32 = 0x4000_0001;

    /// How a test message is sent.
    #[derive(Clone, Copy)]
    struct How {
        version: u32,
        via: Via,
        luid: u64,
        completion: bool,
        /// Extra bytes after the message (a wrong length).
        extra: usize,
    }

    fn vm() -> How {
        How {
            version: 40,
            via: Via::Vm,
            luid: 0,
            completion: true,
            extra: 0,
        }
    }

    fn vgpu() -> How {
        How {
            via: Via::Vgpu(0),
            luid: LUID,
            ..vm()
        }
    }

    /// Encodes `req` as `how` says, pads it as a VMBus ring does, and
    /// checks it; the rules broken.
    fn send(o: &mut Oracle, req: &Request<'_>, how: How) -> Vec<Rule> {
        let f = Framing::new(how.version, Luid::from_u64(how.luid));
        let mut buf = vec![0u8; 1 << 17];
        let n = req.encode(&f, &mut buf).unwrap();
        if !how.completion {
            mark_async(&mut buf[..n], &f).unwrap();
        }
        buf.truncate(round8(n + how.extra));
        let (msg, req) = Request::parse(&buf, how.version >= 40).unwrap();
        let adapter = match msg.id {
            CommandId::Vgpu(_) => Some(0),
            CommandId::Global(_) => None,
        };
        let s = Seen {
            via: how.via,
            adapter,
            completion: how.completion,
            trans_id: u64::from(how.completion),
            payload: &buf,
            msg: &msg,
            req: &req,
        };
        let v = o.check("test", &s);
        if let Request::CreateProcess(_) = req {
            o.replied(&s, &PROCESS.to_le_bytes());
        }
        if let Request::GetInternalAdapterInfo(_) = req {
            o.replied(&s, &[]);
        }
        v.into_iter().map(|x| x.rule).collect()
    }

    fn oracle(version: u32, host_async: bool) -> Oracle {
        let mut o = Oracle::new(version, host_async, vec![LUID]);
        o.vm_offered(true);
        o.vgpu_offered(0);
        o
    }

    /// The start-up of dxgkrnl: SETIOSPACEREGION, OPENADAPTER,
    /// GETINTERNALADAPTERINFO, CREATEPROCESS, then CREATEDEVICE.
    fn start(o: &mut Oracle, version: u32) -> Vec<Rule> {
        let vm = How { version, ..vm() };
        let vgpu = How { version, ..vgpu() };
        let mut v = send(
            o,
            &Request::SetIoSpaceRegion(&SetIoSpaceRegion::new(1 << 30, 16 << 20)),
            vm,
        );
        v.extend(send(
            o,
            &Request::OpenAdapter(&OpenAdapter::new(version)),
            vgpu,
        ));
        v.extend(send(
            o,
            &Request::GetInternalAdapterInfo(&GetInternalAdapterInfo::new()),
            vgpu,
        ));
        v.extend(send(
            o,
            &Request::CreateProcess(&CreateProcess::new(1, 2, b"t")),
            vm,
        ));
        v
    }

    fn device() -> CreateDevice {
        CreateDevice::new(Handle::new(PROCESS), 0, 1)
    }

    /// CREATEDEVICE of the started process, sent as `how` says.
    fn create_device(o: &mut Oracle, how: How) -> Vec<Rule> {
        send(o, &Request::CreateDevice(&device()), how)
    }

    #[test]
    fn dxgkrnl_sequences_pass_at_both_versions() {
        for version in [27, 40] {
            let mut o = oracle(version, false);
            assert_eq!(start(&mut o, version), vec![]);
            let vgpu = How { version, ..vgpu() };
            assert_eq!(create_device(&mut o, vgpu), vec![]);
            let d = DestroyProcess::new(Handle::new(PROCESS));
            let vm = How { version, ..vm() };
            assert_eq!(send(&mut o, &Request::DestroyProcess(&d), vm), vec![]);
            assert!(o.violations.is_empty(), "{:?}", o.violations);
        }
    }

    #[test]
    fn framing_rule() {
        let mut o = oracle(40, false);
        start(&mut o, 40);
        // Old framing at version 40, then a wrong LUID.
        let old = How {
            version: 27,
            ..vgpu()
        };
        assert_eq!(create_device(&mut o, old), vec![Rule::Framing]);
        let luid = How { luid: 7, ..vgpu() };
        assert_eq!(create_device(&mut o, luid), vec![Rule::Framing]);
        // An extension header below version 40.
        let mut o = oracle(27, false);
        start(&mut o, 27);
        let new = How {
            version: 40,
            ..vgpu()
        };
        assert_eq!(create_device(&mut o, new), vec![Rule::Framing]);
    }

    #[test]
    fn header_rule() {
        let mut o = oracle(40, false);
        start(&mut o, 40);
        let no_process = CreateDevice::new(Handle::NULL, 0, 1);
        assert_eq!(
            send(&mut o, &Request::CreateDevice(&no_process), vgpu()),
            vec![Rule::Header]
        );
    }

    #[test]
    fn channel_rule() {
        let mut o = oracle(40, false);
        start(&mut o, 40);
        assert_eq!(
            send(
                &mut o,
                &Request::CreateDevice(&device()),
                How {
                    via: Via::Vm,
                    ..vgpu()
                }
            ),
            vec![Rule::Channel]
        );
        let p = CreateProcess::new(1, 2, b"t");
        assert_eq!(
            send(
                &mut o,
                &Request::CreateProcess(&p),
                How {
                    via: Via::Vgpu(0),
                    ..vm()
                }
            ),
            vec![Rule::Channel]
        );
    }

    fn submit() -> SubmitCommandMsg<'static> {
        SubmitCommandMsg::new(
            Handle::new(PROCESS),
            0x1000,
            64,
            0,
            &[Handle::new(9)],
            &[],
            &[],
        )
        .unwrap()
    }

    #[test]
    fn async_rule() {
        // Without the host's asynchronous messages nothing goes async.
        let mut o = oracle(40, false);
        start(&mut o, 40);
        let a = How {
            completion: false,
            ..vgpu()
        };
        assert_eq!(
            send(&mut o, &Request::SubmitCommand(submit()), a),
            vec![Rule::Async]
        );
        // With them, a submission must go async, on the VM-level channel,
        // and a device creation stays synchronous.
        let mut o = oracle(40, true);
        start(&mut o, 40);
        let on_vm = How {
            via: Via::Vm,
            ..vgpu()
        };
        assert_eq!(
            send(&mut o, &Request::SubmitCommand(submit()), on_vm),
            vec![Rule::Async]
        );
        let a = How {
            completion: false,
            ..on_vm
        };
        assert_eq!(send(&mut o, &Request::SubmitCommand(submit()), a), vec![]);
        assert_eq!(create_device(&mut o, a), vec![Rule::Async]);
        assert_eq!(create_device(&mut o, vgpu()), vec![Rule::Channel]);
        assert_eq!(create_device(&mut o, on_vm), vec![]);
    }

    #[test]
    fn no_async_below_40() {
        let mut o = oracle(27, true);
        start(&mut o, 27);
        let old = How {
            version: 27,
            ..vgpu()
        };
        assert_eq!(send(&mut o, &Request::SubmitCommand(submit()), old), vec![]);
        let mut o = oracle(27, true).without_departures();
        start(&mut o, 27);
        assert_eq!(
            send(&mut o, &Request::SubmitCommand(submit()), old),
            vec![Rule::Channel, Rule::Async]
        );
    }

    #[test]
    fn length_rule() {
        let mut o = oracle(40, false);
        start(&mut o, 40);
        let long = How { extra: 8, ..vgpu() };
        assert_eq!(create_device(&mut o, long), vec![Rule::Length]);
    }

    #[test]
    fn fields_rule() {
        let mut o = oracle(40, false);
        start(&mut o, 40);
        let p = Handle::new(PROCESS);
        let map = |dev| {
            MapGpuVirtualAddress::new(
                p,
                dev,
                Handle::new(3),
                Handle::new(4),
                0x10000,
                0,
                0,
                0,
                1,
                0,
            )
        };
        let good = map(Handle::NULL);
        assert_eq!(
            send(&mut o, &Request::MapGpuVirtualAddress(&good), vgpu()),
            vec![]
        );
        let bad = map(Handle::new(2));
        assert_eq!(
            send(&mut o, &Request::MapGpuVirtualAddress(&bad), vgpu()),
            vec![Rule::Fields]
        );
        // A fence signal and an event in one message, a device on a GPU
        // signal: dxgkrnl sends neither. The two it sends pass.
        let objs = [Handle::new(5)];
        let ctxs = [Handle::new(9)];
        let vals = [U64::new(1)];
        let sig = |flags, ev, objs: &'static [Handle], vals: &'static [U64]| {
            SignalSyncObjectMsg::new(p, flags, ev, objs, &ctxs, vals).unwrap()
        };
        let objs: &'static [Handle] = Box::leak(Box::new(objs));
        let vals: &'static [U64] = Box::leak(Box::new(vals));
        let both = sig(SIGNAL_FLAG_ENQUEUE_CPU_EVENT, 7, objs, vals);
        assert_eq!(
            send(&mut o, &Request::SignalSyncObject(both), vgpu()),
            vec![Rule::Fields]
        );
        let device = sig(0, u64::from(PROCESS), objs, vals);
        assert_eq!(
            send(&mut o, &Request::SignalSyncObject(device), vgpu()),
            vec![Rule::Fields]
        );
        let fence = sig(0, 0, objs, vals);
        assert_eq!(
            send(&mut o, &Request::SignalSyncObject(fence), vgpu()),
            vec![]
        );
        let event = sig(SIGNAL_FLAG_ENQUEUE_CPU_EVENT, 7, &[], &[]);
        assert_eq!(
            send(&mut o, &Request::SignalSyncObject(event), vgpu()),
            vec![]
        );
        let mut opened = OpenAdapter::new(27);
        assert_eq!(
            send(
                &mut oracle(40, false),
                &Request::OpenAdapter(&opened),
                vgpu()
            ),
            vec![Rule::Fields]
        );
        opened = OpenAdapter::new(40);
        assert_eq!(
            send(
                &mut oracle(40, false),
                &Request::OpenAdapter(&opened),
                vgpu()
            ),
            vec![]
        );
    }

    #[test]
    fn create_process_fields() {
        let mut o = oracle(40, false);
        start(&mut o, 40);
        let comm = CreateProcess::new(1, 2, b"dxg-uapi-test");
        assert_eq!(send(&mut o, &Request::CreateProcess(&comm), vm()), vec![]);
        // A name longer than a task's comm, units after the NUL, another
        // process kind: dxgkrnl sends none of them.
        let long = CreateProcess::new(1, 3, b"sixteen-chars-xx");
        assert_eq!(
            send(&mut o, &Request::CreateProcess(&long), vm()),
            vec![Rule::Fields]
        );
        let mut tail = CreateProcess::new(1, 4, b"t");
        tail.process_name[5] = U16::new(u16::from(b'x'));
        assert_eq!(
            send(&mut o, &Request::CreateProcess(&tail), vm()),
            vec![Rule::Fields]
        );
        let mut wow = CreateProcess::new(1, 5, b"t");
        wow.flags |= dxg_proto::global::PROCESS_FLAG_WOW64;
        assert_eq!(
            send(&mut o, &Request::CreateProcess(&wow), vm()),
            vec![Rule::Fields]
        );
    }

    #[test]
    fn order_rule() {
        // CREATEPROCESS before SETIOSPACEREGION, which then comes late.
        let mut o = oracle(40, false);
        let p = CreateProcess::new(1, 2, b"t");
        assert_eq!(
            send(&mut o, &Request::CreateProcess(&p), vm()),
            vec![Rule::Order]
        );
        let io = SetIoSpaceRegion::new(1 << 30, 16 << 20);
        assert_eq!(
            send(&mut o, &Request::SetIoSpaceRegion(&io), vm()),
            vec![Rule::Order]
        );
        // GETINTERNALADAPTERINFO before OPENADAPTER.
        let mut o = oracle(40, false);
        send(&mut o, &Request::SetIoSpaceRegion(&io), vm());
        let gi = GetInternalAdapterInfo::new();
        assert_eq!(
            send(&mut o, &Request::GetInternalAdapterInfo(&gi), vgpu()),
            vec![Rule::Order]
        );
        // A process no CREATEPROCESS returned, and one used after its
        // DESTROYPROCESS.
        let mut o = oracle(40, false);
        start(&mut o, 40);
        let other = CreateDevice::new(Handle::new(PROCESS + 1), 0, 1);
        assert_eq!(
            send(&mut o, &Request::CreateDevice(&other), vgpu()),
            vec![Rule::Order]
        );
        let d = DestroyProcess::new(Handle::new(PROCESS));
        assert_eq!(send(&mut o, &Request::DestroyProcess(&d), vm()), vec![]);
        assert_eq!(create_device(&mut o, vgpu()), vec![Rule::Order]);
        assert_eq!(o.violations.len(), 2);
    }

    #[test]
    fn departures_are_named_and_can_be_refused() {
        use dxg_proto::backing::SetExistingSysmemPagesMsg;
        let pfns = [U64::new(1), U64::new(2)];
        let m = SetExistingSysmemPagesMsg::new(
            Handle::new(PROCESS),
            Handle::new(2),
            Handle::new(3),
            0,
            &pfns,
        )
        .unwrap();
        let mut o = oracle(40, false);
        start(&mut o, 40);
        assert_eq!(
            send(&mut o, &Request::SetExistingSysmemPages(m), vgpu()),
            vec![]
        );
        let mut o = oracle(40, false).without_departures();
        start(&mut o, 40);
        assert_eq!(
            send(&mut o, &Request::SetExistingSysmemPages(m), vgpu()),
            vec![Rule::Length]
        );
    }
}
