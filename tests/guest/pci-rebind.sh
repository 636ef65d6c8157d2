#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# PCI unbind/bind of a stand-in function in use (dxg-uapi-test unplug
# pci): with open DRM files, live mmaps and pending fences (the host takes
# 2 s per submission) on both adapters, the first node's PCI function is
# unbound from dxg through sysfs. The write returns, the old file gets
# ENODEV, its fences complete with an error, its mappings stay usable, the
# other adapter keeps working; after bind the adapter works again.
# dxg-test: timeout=400
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
# On failure, leave no host or module behind for the next test of the boot.
cleanup() { host_stop; wait_for 30 adapters_are 0; rmmod dxg 2>/dev/null; true; }
trap cleanup EXIT

dxg_load standin=1 loopback=1
host_start --adapters 2 --exec-latency 2000
wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open"; }
dxg-uapi-test unplug pci --gone unbind --back bind || { host_log; fail "dxg-uapi-test unplug pci"; }
wait_for 60 adapters_are 2 || fail "function not rebound"
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
dxg_unload
