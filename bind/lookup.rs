// SPDX-License-Identifier: GPL-2.0

//! Pairing through the driver core: where a vGPU PCI function finds its
//! channels.
//!
//! Pairing a PCI function with its vGPU channel is a lookup by GUID across
//! two buses, in either arrival order. dxg keeps no list of its own: the
//! channel devices bound to its two channel drivers are the list. The C
//! helper `dxg_channels_for_each()` (`bind/channel_drivers.c`) walks the
//! devices bound to each driver (`driver_for_each_device()`), takes each
//! device's lock with `device_trylock()`, checks that the device is bound
//! to that driver, and only then reads its driver data, the
//! [`BoundChannel`] its probe made, of which the lookup keeps the shared
//! [`Binding`].
//!
//! Lock order: a channel device's lock before a PCI function's lock. A
//! channel's unbind reprobes the function that uses it (`device_reprobe()`
//! takes the function's lock) while it holds its own device lock, and a
//! VM-level channel's unbind waits, with its lock held, for the reprobes
//! still queued on its workqueue. So nothing that may run under a PCI
//! function's lock or that an unbind waits for (a PCI probe, a host
//! timeout, a channel's bind) ever blocks on a channel device lock: a
//! device whose lock is taken is *busy* and skipped. Its bind or unbind
//! is in progress, or another lookup holds it for a moment; a lookup that
//! saw busy devices and did not find what it needs tries again a few
//! times, [`BUSY_DELAY_MS`] apart (a device that just bound still holds
//! its lock for a moment after the driver core retried the deferred
//! probes), and then settles for what it found: a PCI probe returns
//! `-EPROBE_DEFER`, and the next successful bind retries it.

use core::ffi::{c_int, c_void};

use kernel::{
    prelude::*,
    sync::Arc,
    time::{delay::fsleep, Delta},
};

use crate::bind::chandev::{Binding, BoundChannel};
use crate::host::vm::Vm;
use crate::proto::{Guid, Luid};
use crate::sys;
use crate::vmbus::channel::ChannelKind;

/// How often a lookup that met busy devices tries again.
const BUSY_RETRIES: u32 = 20;

/// How long it waits before each retry (ms).
const BUSY_DELAY_MS: i64 = 5;

/// The bindings of the bound channel devices, of both drivers.
///
/// While some devices are busy, looks again (at most [`BUSY_RETRIES`]
/// times) until `enough` says the ones found suffice; then returns what
/// it found, which may miss busy devices.
pub(crate) fn bound_channels(
    enough: impl Fn(&[Arc<Binding>]) -> bool,
) -> Result<KVec<Arc<Binding>>> {
    let mut tries = 0;
    loop {
        let mut found: KVec<Arc<Binding>> = KVec::new();
        // SAFETY: `collect` is called with the driver data of bound channel
        // devices, under their lock, and with `ctx` as given here: `found`,
        // which outlives the call.
        let busy =
            unsafe { sys::dxg_channels_for_each(Some(collect), (&raw mut found).cast::<c_void>()) };
        kernel::error::to_result(busy)?;
        if busy == 0 || tries >= BUSY_RETRIES || enough(&found) {
            return Ok(found);
        }
        drop(found);
        tries += 1;
        fsleep(Delta::from_millis(BUSY_DELAY_MS));
    }
}

/// The callback of `dxg_channels_for_each()`: keep the binding of `bound`.
///
/// # Safety
///
/// `bound` is the driver data of a device bound to one of dxg's channel
/// drivers, whose device lock the caller holds; `ctx` is a
/// `KVec<Arc<Binding>>` that nothing else uses during the call.
unsafe extern "C" fn collect(bound: *mut c_void, ctx: *mut c_void) -> c_int {
    // SAFETY: the driver data of a bound channel device is the
    // `BoundChannel` its probe made (bind/chandev.rs), and its remove,
    // which takes it back, cannot run while the caller holds the lock.
    let bound = unsafe { &*bound.cast::<BoundChannel>() };
    // SAFETY: see the function's safety section.
    let found = unsafe { &mut *ctx.cast::<KVec<Arc<Binding>>>() };
    match found.push(bound.binding().clone(), GFP_KERNEL) {
        Ok(()) => 0,
        Err(_) => ENOMEM.to_errno(),
    }
}

/// What a vGPU function pairs with, as far as it is bound: the VM object
/// of the VM-level channel, and the function's vGPU channel.
pub(crate) type Pair = (Option<Arc<Vm>>, Option<Arc<Binding>>);

/// What the vGPU function whose channel LUID (the first 8 bytes of its
/// vGPU channel's instance GUID) is `key` pairs with.
pub(crate) fn pair(key: Luid) -> Result<Pair> {
    let is_vgpu =
        |b: &Arc<Binding>| b.kind() == ChannelKind::Vgpu && Luid::from_guid(&b.instance()) == key;
    let is_vm = |b: &Arc<Binding>| b.kind() == ChannelKind::Vm;
    let found = bound_channels(|f| f.iter().any(is_vm) && f.iter().any(is_vgpu))?;
    Ok((
        found
            .iter()
            .find(|b| is_vm(b))
            .and_then(|b| b.vm().cloned()),
        found.iter().find(|b| is_vgpu(b)).cloned(),
    ))
}

/// Whether a channel device of `kind` with `instance` would be a second
/// one: there is one VM-level channel per VM, and one device per vGPU
/// instance. Called from a channel's probe, which the lookup cannot see
/// yet (the driver core lists a device once its probe returned).
pub(crate) fn duplicate(kind: ChannelKind, instance: Guid) -> Result<bool> {
    let dup = |b: &Arc<Binding>| {
        b.kind() == kind && (kind == ChannelKind::Vm || b.instance() == instance)
    };
    Ok(bound_channels(|f| f.iter().any(dup))?.iter().any(dup))
}
