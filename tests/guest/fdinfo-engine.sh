#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# fdinfo engine time as gputop reads it (dxg-uapi-test engine): with the
# host model's workers held, a DRM file with one job in flight shows
# drm-engine-gpu growing (a client with a long job is not idle); with a
# job on each of two contexts it grows no faster than wall-clock time
# (overlap counts once); after completion it stops.
# dxg-test: timeout=300
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
cleanup() { host_ctl release >/dev/null 2>&1; host_stop; wait_for 30 adapters_are 0; rmmod dxg 2>/dev/null; true; }
trap cleanup EXIT

dxg_load standin=1 loopback=1
host_start --adapters 2
wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open"; }
n=$(dxg_render_nodes | head -n1)
dxg-uapi-test engine $n || { host_log; fail "dxg-uapi-test engine $n"; }
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
dxg_unload
true
