#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Raw loopback round trip (make bench): a host request and its reply,
# median/p99 and messages/s for 1 and 4 concurrent requesters, as ratios
# against DRM_IOCTL_VERSION on the same node (no host involved).
# dxg-test: timeout=900
# dxg-qemu: -device pci-testdev
. "$DXG_TESTS/lib.sh"

dxg_load standin=1 loopback=1
host_start --adapters 1
wait_for 60 adapters_are 1 || { host_log; fail "the adapter did not open"; }
dxg-bench loopback $(dxg_render_nodes) ${DXG_BENCH_ITERATIONS:-2000} 4 || fail "dxg-bench"
host_stop
dxg_unload
