#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# PCI unbind/bind of a stand-in function in use (dxg-uapi-test unplug
# pci): with open DRM files, live mmaps and pending fences (the host takes
# 2 s per submission) on both adapters, the first node's PCI function is
# unbound from dxg through sysfs. The write returns, the old file gets
# ENODEV, its fences complete (the live host finishes them first: unbind
# waits for it), its mappings stay usable, the
# other adapter keeps working; after bind the adapter works again.
# dxg-test: timeout=400
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
two_adapters_up --exec-latency 2000
dxg-uapi-test unplug pci --gone unbind --back bind || { host_log; fail "dxg-uapi-test unplug pci"; }
wait_for 60 adapters_are 2 || fail "function not rebound"
two_adapters_down
