#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Closing with work in flight (dxg-uapi-test close-inflight), against a
# host that takes 1 s to execute each submission and 300 ms to answer
# SUBMITCOMMAND: close the DRM file with submissions pending; exit a
# process with submissions pending and one thread inside SUBMIT; SIGKILL
# a process looping in SUBMIT. Nothing hangs, the exported fences
# complete, the adapter works afterwards, and the module unloads.
# dxg-test: timeout=400
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
# On failure, leave no host or module behind for the next test of the boot.
cleanup() { host_stop; wait_for 30 adapters_are 0; rmmod dxg 2>/dev/null; true; }
trap cleanup EXIT

dxg_load standin=1 loopback=1
host_start --adapters 2 --exec-latency 1000 --latency SUBMITCOMMAND=300
wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open"; }
n=$(dxg_render_nodes | head -n1)
dxg-uapi-test close-inflight $n || { host_log; fail "dxg-uapi-test close-inflight $n"; }
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
dxg_unload
lsmod | grep -q '^dxg ' && fail "dxg still loaded"
true
