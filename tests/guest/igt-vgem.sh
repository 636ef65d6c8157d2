#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Reference for igt-generic: the same IGT programs on vgem, the upstream
# render-only driver without KMS, in the same kernel. What vgem skips, dxg
# may skip too. core_hotunplug is left out: vgem's device is a faux
# device, not a PCI function that can be removed and found by a rescan
# (not tried). Fails only if an IGT program crashes or hangs; vgem's own
# FAILs are printed, not held against dxg.
# (The stand-in PCI functions are only there to share igt-generic's boot.)
# dxg-test: timeout=600 boot=igt
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
igt_require

modprobe vgem || fail "modprobe vgem"
card=
for c in /sys/class/drm/card[0-9]*; do
	[ "$(basename "$(readlink -f "$c/device")")" = vgem ] && card=/dev/dri/$(basename "$c")
done
[ -n "$card" ] || fail "no primary node belongs to vgem"
note "IGT device: $card"
for t in core_getversion core_getclient core_getstats core_auth core_setmaster \
	core_setmaster_vs_auth core_sysfs core_debugfs \
	syncobj_basic syncobj_wait syncobj_timeline syncobj_eventfd vgem_basic; do
	igt_run vgem vgem "$card" 300 $t
done
igt_summary vgem
echo "-- vgem failures (reference only):${IGT_FAILED:- none}"
case "$IGT_FAILED" in *exit-1[23]*) fail "an IGT program crashed or hung on vgem" ;; esac
rmmod vgem || fail "rmmod vgem"
