// SPDX-License-Identifier: GPL-2.0

//! Host processes.
//!
//! The host scopes devices, contexts and allocations to a host process
//! (CREATEPROCESS on the VM-level channel). dxgkrnl keeps one per guest
//! thread group in a global table (dxgglobal_get_current_process() in
//! dxgmodule.c, dxgprocess_create() in dxgprocess.c); dxg creates one per
//! open DRM file, so a file's host objects die with the file and nothing is
//! shared by accident.

use kernel::{prelude::*, sync::Arc};

use crate::host::{
    request::{call, proto_err},
    vm::Vm,
};
use crate::proto::{
    decode_reply, decode_status,
    global::{CreateProcess, CreateProcessReply, DestroyProcess},
    Framing, Handle, Luid,
};
use crate::sys;

/// The calling task's name (`comm`, NUL padded), which dxgkrnl sends as
/// CREATEPROCESS's process name (dxgvmb_send_create_process() in
/// dxgvmbus.c); its 16 bytes are `TASK_COMM_LEN`, all of it.
fn current_comm() -> [u8; 16] {
    let mut comm = [0u8; 16];
    // SAFETY: `comm` is valid for writes of `comm.len()` bytes, all the
    // helper writes (NUL terminated and padded).
    unsafe { sys::dxg_current_comm(comm.as_mut_ptr().cast(), comm.len()) };
    comm
}

/// A host process, destroyed on drop.
pub(crate) struct HostProcess {
    vm: Arc<Vm>,
    version: u32,
    handle: Handle,
}

impl HostProcess {
    /// CREATEPROCESS for the calling task, speaking protocol `version`: its
    /// pid and name, as dxgkrnl sends them.
    pub(crate) fn create(vm: Arc<Vm>, version: u32) -> Result<Self> {
        let task = kernel::current!();
        let pid = task.pid();
        let framing = Framing::new(version, Luid::ZERO);
        // The cookie is an opaque number for the host; never an address.
        let cookie = u64::try_from(pid).unwrap_or(0);
        let cmd = CreateProcess::new(cookie, cookie, &current_comm());
        let reply = call(
            vm.channel(),
            &framing,
            &cmd,
            size_of::<CreateProcessReply>(),
        )?;
        let reply: CreateProcessReply = decode_reply(&reply).map_err(proto_err)?;
        let handle = reply.validate().map_err(proto_err)?;
        Ok(Self {
            vm,
            version,
            handle,
        })
    }

    /// The host's handle of the process.
    pub(crate) fn handle(&self) -> Handle {
        self.handle
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        let ch = self.vm.channel();
        if ch.dead().is_some() {
            return;
        }
        let framing = Framing::new(self.version, Luid::ZERO);
        let r = call(ch, &framing, &DestroyProcess::new(self.handle), 8)
            .and_then(|r| decode_status(&r).map_err(proto_err));
        if let Ok(st) = r {
            if st.check().is_err() {
                pr_warn!(
                    "host refused to destroy process {:#x}\n",
                    self.handle.value()
                );
            }
        }
    }
}
