#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The test kernel has HYPERV_VMBUS built in, but QEMU under TCG offers no
# VMBus: registering dxg's VMBus driver fails with -ENODEV. dxg says so
# once per load, keeps the loopback transport working, and unloads clean
# (issue #6: the module must load on a Hyper-V-capable kernel anywhere).
# dxg-test: timeout=240
# dxg-qemu: -device pci-testdev
. "$DXG_TESTS/lib.sh"

# (Without a Hyper-V hypervisor the VMBus core does not even register its
# bus, so there is no /sys/bus/vmbus.)
[ -z "$(ls /sys/bus/vmbus/devices 2>/dev/null)" ] || fail "this machine has VMBus devices: not the case under test"
dxg_load standin=1 loopback=1
n=$(dmesg | grep -c "no VMBus on this machine")
[ "$n" -eq 1 ] || fail "expected one 'no VMBus' line, got $n"
[ -d /sys/bus/vmbus/drivers/dxg_vmbus ] && fail "dxg_vmbus registered without VMBus"
host_start --adapters 1
wait_for 60 adapters_are 1 || { host_log; fail "the loopback adapter did not open"; }
dxg-query $(dxg_render_nodes) || fail "query over the loopback failed"
host_stop
wait_for 30 adapters_are 0 || fail "adapter still bound after the host went away"
dxg_unload
dxg_load
n=$(dmesg | grep -c "no VMBus on this machine")
[ "$n" -eq 2 ] || fail "expected the line once per load (2), got $n"
dxg_unload
