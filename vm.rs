// SPDX-License-Identifier: GPL-2.0

//! The per-VM object.
//!
//! Hyper-V keeps some protocol state VM-wide (protocol §3): the VM-level
//! channel, the IO space, host processes and host-to-guest notifications.
//! dxg keeps it in one [`Vm`], owned by the bound VM-level channel device
//! (`vmbus/chandev.rs`) — never in module-global state — and shared by the
//! adapters of that VM.

use kernel::{prelude::*, sync::Arc};

use crate::proto::{decode_host_message, HostMessage};
use crate::vmbus::channel::{Channel, Notify};

/// The VM-wide state.
pub(crate) struct Vm {
    /// The VM-level channel (also in the channel device's directory entry).
    channel: Arc<Channel>,
    /// Size of the IO space the host offered with the VM-level channel.
    mmio_size: u64,
}

impl Vm {
    /// The VM object for a newly bound VM-level channel.
    pub(crate) fn new(channel: Arc<Channel>, mmio_size: u64) -> Result<Arc<Self>> {
        Ok(Arc::new(Self { channel, mmio_size }, GFP_KERNEL)?)
    }

    /// The VM-level channel.
    pub(crate) fn channel(&self) -> &Arc<Channel> {
        &self.channel
    }

    /// The IO space size the host offered.
    pub(crate) fn mmio_size(&self) -> u64 {
        self.mmio_size
    }
}

impl Notify for Vm {
    fn notify(&self, payload: &[u8]) {
        match decode_host_message(payload) {
            Ok(HostMessage::SignalGuestEvent { event, .. }) => {
                // Guest events back CPU waits, which arrive with syncobjs.
                pr_debug!("dxg: host signalled guest event {}\n", event);
            }
            Ok(_) => pr_debug!("dxg: host message ignored\n"),
            Err(e) => pr_warn!("dxg: bad host message: {}\n", e.as_str()),
        }
    }
}
