#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Every dxg ioctl's success path and each documented error, on both of two
# simulated adapters (dxg-uapi-test errors): wrong size, nonzero
# flags/reserved -> EINVAL; unknown device/context/GEM/syncobj ids ->
# ENOENT; priv_size > DXG_PRIV_MAX and too many syncs/handles -> E2BIG;
# bad user pointers -> EFAULT; unaligned or out-of-bounds VM_BIND and
# bo_size 0 -> EINVAL; the escape round trip (dxg-host XORs with 0xff);
# residency of an object without an allocation in that device -> ENOENT;
# use after DEVICE_DESTROY -> ENOENT; and that failed calls lose nothing
# (the objects still work, a failed submit attaches no fence).
# dxg-test: timeout=300
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
# On failure, leave no host or module behind for the next test of the boot.
cleanup() { host_stop; wait_for 30 adapters_are 0; rmmod dxg 2>/dev/null; true; }
trap cleanup EXIT

dxg_load standin=1 loopback=1
host_start --adapters 2
wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open"; }
for n in $(dxg_render_nodes); do
	dxg-uapi-test errors $n || { host_log; fail "dxg-uapi-test errors $n"; }
done
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
dxg_unload
