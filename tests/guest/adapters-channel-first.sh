#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Channels first: the host offers the channels before the PCI functions
# are bound (driver_override + drivers_probe binds them afterwards); the
# probe finds its channels at once.
# dxg-test: timeout=240
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"

dxg_load loopback=1
host_start --adapters 2
wait_for 30 channels_are 3 ||
	{ ls -l /sys/bus/auxiliary/devices/ /sys/bus/auxiliary/drivers/; host_log; fail "channels not bound"; }
adapters_are 0 || fail "adapters bound without their functions"
for f in $(standin_functions); do
	echo dxg >/sys/bus/pci/devices/$f/driver_override
	echo $f >/sys/bus/pci/drivers_probe
done
wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open"; }
[ "$(dxg_render_nodes | wc -l)" -eq 2 ] || fail "expected 2 dxg render nodes"
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
for f in $(standin_functions); do echo >/sys/bus/pci/devices/$f/driver_override; done
dxg_unload
