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
two_adapters_up --exec-latency 3000
ctl="dxg-host ctl --control $HOST_SOCK"
dxg-uapi-test unplug rescind --gone "$ctl rescind vgpu 0" --back "$ctl offer vgpu 0" ||
	{ host_log; fail "dxg-uapi-test unplug rescind"; }
wait_for 60 adapters_are 2 || fail "adapter 0 not back"
two_adapters_down
