#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Two simulated adapters, PCI functions first: dxg binds both stand-in
# functions, they wait (deferred) for their channels, dxg-host offers them,
# both adapters open, each becomes a DRM device (render node, driver dxg)
# whose query reports the host's LUID; drmdevice lists both as PCI devices.
# A second host cannot attach meanwhile (EBUSY, no splat).
# Stopping the host rescinds everything: the devices go, dxg unloads.
# dxg-test: timeout=240
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"

[ "$(standin_functions | wc -l)" -eq 2 ] || fail "expected 2 pci-testdev functions"
dxg_load standin=1 loopback=1
wait_for 20 sh -c 'dmesg | grep -q "waits for its channels"' || fail "functions did not probe"
adapters_are 0 || fail "adapters bound before any channel was offered"
host_start --adapters 2
wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open"; }
# A second host while one is attached: its open of the loopback device
# fails with EBUSY, before anything is registered (no sysfs warning about
# a duplicate name), and the attached host's adapters stay.
out=$(timeout 20 dxg-host --control /run/dxg-host-second.sock 2>&1) && fail "a second dxg-host ran while one is attached"
echo "second host: $out"
echo "$out" | grep -q "Device or resource busy" || fail "second host: want EBUSY"
adapters_are 2 || fail "the second host's attempt disturbed the adapters"
nodes=$(dxg_render_nodes)
[ "$(echo "$nodes" | wc -l)" -eq 2 ] || fail "expected 2 dxg render nodes, got: $nodes"
for n in $nodes; do
	out=$(dxg-query $n) || fail "dxg-query $n: $out"
	echo "$out"
	echo "$out" | grep -q "uapi=2 host=40" || fail "$n: unexpected versions"
done
[ "$(dxg-query $nodes | cut -d' ' -f2 | sort -u | wc -l)" -eq 2 ] || fail "the two adapters report the same LUID"
drmdevice >/tmp/drmdevice.txt 2>&1
grep -c "vendor_id.*1b36" /tmp/drmdevice.txt | grep -qx 2 ||
	grep -q "Devices reported 2" /tmp/drmdevice.txt || { cat /tmp/drmdevice.txt; fail "drmdevice does not list 2 devices"; }
channels_are 3 || fail "expected 3 bound channel devices"
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
[ -z "$(dxg_render_nodes)" ] || fail "render nodes left after the host went away"
dxg_unload
