#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# dxg as a DRM driver against vgem in the same guest (make bench):
# syncobj create/destroy, signal and wait; GEM create + mmap + touch +
# close at 4 KiB, 1 MiB and 64 MiB (vgem: dumb buffers); memcpy bandwidth
# into a 64 MiB GEM mapping against anonymous memory; submit -> signal
# latency of a tiny FILL against the raw host round trip. Prints medians,
# p99 and ratios dxg/baseline, never absolute thresholds.
# dxg-test: timeout=1500
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"

modprobe vgem || fail "modprobe vgem"
vgem=""
for r in /sys/class/drm/renderD*; do
	[ -e "$r" ] || continue
	[ "$(basename "$(readlink -f "$r/device")")" = vgem ] && vgem=/dev/dri/$(basename "$r")
done
[ -n "$vgem" ] || fail "no render node belongs to vgem"

dxg_load standin=1 loopback=1
host_start --adapters 2
wait_for 60 adapters_are 2 || { host_log; fail "2 adapters did not open"; }
node=$(dxg_render_nodes | head -n 1)
[ -n "$node" ] || fail "no dxg render node"
dxg-bench drm --node "$node" --baseline "$vgem" --iterations 500 || { host_log; fail "dxg-bench drm"; }
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
dxg_unload
rmmod vgem || fail "rmmod vgem"
