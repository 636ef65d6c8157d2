#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# IGT's generic DRM tests (issue #5) on a dxg device: with two simulated
# adapters, each program runs against the first dxg primary node
# (IGT_FORCE_DRIVER=dxg, --device drm:/dev/dri/cardN) and every subtest's
# result is printed. IGT's SKIP is a skip (a render-only driver without KMS
# skips what vgem skips too: compare igt-vgem), FAIL or a crash fails the
# test, except for the syncobj subtests bound to 100-200 ms wall-clock
# deadlines: those are retried, and one that misses its deadline every time
# (TCG on a debug kernel is slow) is reported as FAIL-WALLCLOCK without
# failing the test (IGT_STRICT=1 in lib.sh counts them). core_hotunplug
# runs last: it unbinds and rebinds the PCI function and removes it from
# the bus and rescans; after it both adapters must be back.
# dxg-test: timeout=1500 boot=igt
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
igt_require
cleanup() { host_stop; wait_for 30 adapters_are 0; rmmod dxg 2>/dev/null; true; }
trap cleanup EXIT

sed 's/^/-- /' "$IGT/igt.info"
dxg_load standin=1 loopback=1
host_start --adapters 2
wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open"; }
card=$(dxg_card_nodes | head -n1)
[ -n "$card" ] || fail "no dxg primary node"
note "IGT device: $card ($(dxg_render_nodes | head -n1) render)"

for t in core_getversion core_getclient core_getstats core_auth core_setmaster \
	core_setmaster_vs_auth core_sysfs core_debugfs \
	syncobj_basic syncobj_wait syncobj_timeline syncobj_eventfd; do
	igt_run dxg dxg "$card" 300 $t
done
igt_run dxg dxg "$card" 400 core_hotunplug
wait_for 60 adapters_are 2 || { dmesg | grep dxg | tail -n 20; fail "adapters not back after core_hotunplug"; }
igt_summary dxg
[ -z "$IGT_FAILED" ] || fail "IGT on dxg:$IGT_FAILED"
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
dxg_unload
trap - EXIT
