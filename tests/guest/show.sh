#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# What `make run` shows: dxg with two simulated adapters (dxg-host), as the
# kernel, libdrm and the dxg UAPI see them.
. "$DXG_TESTS/lib.sh"

echo "== insmod dxg.ko standin=1 loopback=1; dxg-host --adapters 2"
dxg_load standin=1 loopback=1
host_start --adapters 2 --adapter 1:name=dxg-host-compute,compute-only=1
wait_for 60 adapters_are 2 || echo "   (the adapters did not open; dxg-host log below)"
echo "== kernel log (dxg)"
dmesg | grep -E "dxg|\[drm\]" | sed 's/^\[[ 0-9.]*\] /   /'
echo "== /dev/dri"
ls -l /dev/dri | sed 's/^/   /'
echo "== dxg-info (found through libdrm's drmGetDevices2, as Mesa finds devices)"
dxg-info 2>&1 | sed 's/^/   /'
echo "== drmdevice (libdrm drmGetDevices2)"
drmdevice 2>&1 | sed -n '1,/^--- Opening device node/p' |
	grep -E "^device|nodes\[|domain|bus |dev  |func|vendor_id|device_id" | sed 's/^/   /'
echo "== dxg-example on each adapter: two buffers, FILL + COPY, timeline syncobj, bytes checked by mmap"
for n in $(dxg_render_nodes); do dxg-example $n 2>&1 | sed 's/^/   /'; done
echo "== fdinfo of a dxg file (drm-usage-stats)"
dxg-example --fdinfo $(dxg_render_nodes | head -n1) 2>&1 | sed -n '/^drm-\|fdinfo/p' | sed 's/^/   /'
echo "== dxg-host"
host_ctl status 2>&1 | sed 's/^/   /'
echo
echo "The host model keeps running: 'dxg-host ctl --control $HOST_SOCK stats', 'rescind vgpu 0', ..."
