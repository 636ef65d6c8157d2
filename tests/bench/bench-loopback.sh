#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Raw loopback round trip (make bench): a host request and its reply,
# median/p99 and messages/s for 1 and 4 concurrent requesters, as ratios
# against DRM_IOCTL_VERSION on the same node (no host involved). Same QEMU
# arguments as bench-drm, so both share one boot.
# dxg-test: timeout=900
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"

dxg_load standin=1 loopback=1
host_start --adapters 2
wait_for 60 adapters_are 2 || { host_log; fail "the adapters did not open"; }
dxg-bench loopback $(dxg_render_nodes | head -n 1) ${DXG_BENCH_ITERATIONS:-2000} 4 || fail "dxg-bench"
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
dxg_unload
