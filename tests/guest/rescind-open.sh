#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Rescind an adapter in use (dxg-uapi-test unplug rescind): with open DRM
# files, live mmaps and pending fences (the host takes 3 s per submission)
# on both adapters, dxg-host rescinds vGPU 0. Its pending fences complete
# with an error and waits return, its mappings stay readable and writable,
# every dxg ioctl on its files fails with ENODEV, the other adapter keeps
# working; after the re-offer the adapter works again (new file).
# dxg-test: timeout=400
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
# On failure, leave no host or module behind for the next test of the boot.
cleanup() { host_stop; wait_for 30 adapters_are 0; rmmod dxg 2>/dev/null; true; }
trap cleanup EXIT

dxg_load standin=1 loopback=1
host_start --adapters 2 --exec-latency 3000
wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open"; }
ctl="dxg-host ctl --control $HOST_SOCK"
dxg-uapi-test unplug rescind --gone "$ctl rescind vgpu 0" --back "$ctl offer vgpu 0" ||
	{ host_log; fail "dxg-uapi-test unplug rescind"; }
wait_for 60 adapters_are 2 || fail "adapter 0 not back"
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
dxg_unload
