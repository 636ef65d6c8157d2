#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Rescind and re-offer a vGPU channel: its adapter and DRM device go, the
# other adapter stays; re-offering brings it back. Then PCI unbind/bind
# through sysfs closes and reopens an adapter.
# dxg-test: timeout=300
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"

dxg_load standin=1 loopback=1
host_start --adapters 2
wait_for 60 adapters_are 2 || { host_log; fail "2 adapters did not open"; }
for round in 1 2 3; do
	host_ctl rescind vgpu 0 || fail "ctl rescind"
	wait_for 30 adapters_are 1 || fail "round $round: adapter 0 still bound after its rescind"
	[ "$(dxg_render_nodes | wc -l)" -eq 1 ] || fail "round $round: expected 1 render node"
	host_ctl offer vgpu 0 || fail "ctl offer"
	wait_for 60 adapters_are 2 || fail "round $round: adapter 0 did not come back"
done
f=$(standin_functions | head -n1)
for round in 1 2 3; do
	echo $f >/sys/bus/pci/drivers/dxg/unbind || fail "unbind $f"
	adapters_are 1 || fail "round $round: $f still bound"
	echo $f >/sys/bus/pci/drivers/dxg/bind || fail "bind $f"
	wait_for 60 adapters_are 2 || fail "round $round: $f did not rebind"
done
[ "$(dxg_render_nodes | wc -l)" -eq 2 ] || fail "expected 2 render nodes at the end"
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
dxg_unload
