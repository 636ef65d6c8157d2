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
two_adapters_up
for n in $nodes; do
	dxg-uapi-test errors $n || { host_log; fail "dxg-uapi-test errors $n"; }
done
two_adapters_down
