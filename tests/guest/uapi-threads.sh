#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Concurrent submission (dxg-uapi-test threads): 16 threads on each of
# three DRM files (two on the first adapter, one on the second), half with
# their own contexts and half sharing one per file, each queueing rounds of
# FILL submissions with timeline syncobj points; every fence signals and
# every buffer holds its bytes.
# dxg-test: timeout=600
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
# On failure, leave no host or module behind for the next test of the boot.
cleanup() { host_stop; wait_for 30 adapters_are 0; rmmod dxg 2>/dev/null; true; }
trap cleanup EXIT

dxg_load standin=1 loopback=1
host_start --adapters 2
wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open"; }
set -- $(dxg_render_nodes)
[ $# -eq 2 ] || fail "expected 2 dxg render nodes, got $*"
dxg-uapi-test threads $1 $1 $2 || { host_log; fail "dxg-uapi-test threads"; }
note "dxg-host: $(host_ctl stats | tr '\n' ' ')"
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
dxg_unload
