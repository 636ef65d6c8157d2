#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# dxg.ko loads, logs its version, and unloads cleanly, 20 times in a row;
# the harness's kmemleak scan after the test must find nothing.
# dxg-test: timeout=300
. "$DXG_TESTS/lib.sh"

want=$(cat "$DXG_PAYLOAD/VERSION")
i=0
while [ $i -lt 20 ]; do
	dxg_load
	[ -d /sys/module/dxg ] || fail "loop $i: /sys/module/dxg missing after insmod"
	[ -d /sys/bus/pci/drivers/dxg ] || fail "loop $i: PCI driver dxg not registered"
	dxg_unload
	[ -d /sys/module/dxg ] && fail "loop $i: /sys/module/dxg still present after rmmod"
	i=$((i + 1))
done
n=$(dmesg | grep -c "dxg $want loading")
[ "$n" -eq 20 ] || fail "expected 20 'dxg $want loading' lines, got $n"
n=$(dmesg | grep -c "dxg $want unloaded")
[ "$n" -eq 20 ] || fail "expected 20 'dxg $want unloaded' lines, got $n"
# kmemleak only reports objects older than 5 s.
sleep 6
echo "20 load/unload cycles of dxg $want"
