#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Concurrent submission (dxg-uapi-test threads): 16 threads on each of
# three DRM files (two on the first adapter, one on the second), half with
# their own contexts and half sharing one per file, each queueing rounds of
# FILL submissions with timeline syncobj points; every fence signals and
# every buffer holds its bytes. Then (dxg-uapi-test race) CONTEXT_CREATE
# races DEVICE_DESTROY of its device: no context outlives its device, in
# the file or on the host.
# dxg-test: timeout=600
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
two_adapters_up
set -- $nodes
[ $# -eq 2 ] || fail "expected 2 dxg render nodes, got $*"
dxg-uapi-test threads $1 $1 $2 || { host_log; fail "dxg-uapi-test threads"; }
dxg-uapi-test race $1 --control $HOST_SOCK || { host_log; fail "dxg-uapi-test race"; }
note "dxg-host: $(host_ctl stats | tr '\n' ' ')"
two_adapters_down
