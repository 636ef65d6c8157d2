#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The harness reaches DRM devices the way users do: vgem loads, and a test
# program opens its render node and reads the driver name with
# DRM_IOCTL_VERSION.
# dxg-test: timeout=120
. "$DXG_TESTS/lib.sh"

modprobe vgem || fail "modprobe vgem"
node=""
for r in /sys/class/drm/renderD*; do
	[ -e "$r" ] || continue
	# vgem's DRM device is parented on the faux device called vgem.
	[ "$(basename "$(readlink -f "$r/device")")" = vgem ] && node=/dev/dri/$(basename "$r")
done
[ -n "$node" ] || fail "no render node belongs to vgem"
out=$(drm-version "$node") || fail "drm-version $node: $out"
echo "$out"
echo "$out" | grep -q "^name: vgem$" || fail "driver name is not vgem"
rmmod vgem || fail "rmmod vgem"
