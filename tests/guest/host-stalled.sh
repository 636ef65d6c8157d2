#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A stalled host (dxg-uapi-test stalled): dxg-host is stopped with SIGSTOP
# while it maps GEM objects it has written into, so it keeps its mappings
# and answers nothing. A query times out (timeout_ms=2000), the host is
# declared lost, the adapter goes, and the client closes its objects while
# the stopped host still maps their pages: each GPADL's teardown takes its
# pages out of the host's page tables before they are freed (a page cache
# page freed while mapped is a kernel splat, which fails the run). The
# host is killed afterwards; dxg unloads.
# dxg-test: timeout=300
# dxg-qemu: -device pci-testdev
. "$DXG_TESTS/lib.sh"
cleanup() { [ -n "${HOST_PID:-}" ] && kill -CONT $HOST_PID 2>/dev/null; host_stop; wait_for 30 adapters_are 0; rmmod dxg 2>/dev/null; true; }
trap cleanup EXIT

dxg_load standin=1 loopback=1 timeout_ms=2000
host_start --adapters 1
wait_for 60 adapters_are 1 || { host_log; dmesg | grep dxg; fail "the adapter did not open"; }
n=$(dxg_render_nodes | head -n1)
dxg-uapi-test stalled $n --kill $HOST_PID || { host_log; fail "dxg-uapi-test stalled $n"; }
wait_for 30 adapters_are 0 || fail "the adapter is still bound after the host was declared lost"
host_stop
dxg_unload
