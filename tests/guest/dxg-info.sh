#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# dxg-info finds adapters the way Mesa's loader does (libdrm drmGetDevices2,
# then drmGetVersion on each render node): with two simulated adapters (the
# second compute-only) and vgem loaded as a non-dxg DRM device, it lists
# exactly the two dxg adapters, with distinct LUIDs, distinct render nodes
# (those sysfs names dxg's), PCI bus ids of the stand-in functions, UAPI 1
# and host protocol 40, and the host's adapter type (compute-only bit set
# for the compute adapter only) and QUERY_ADAPTER's compute-only flag with
# it (a stand-in function is never 1414:008A, so the kernel asks the
# host's adapter type instead of reading the PCI id); drmdevice lists the same
# render nodes. Once the host is gone, dxg-info fails with a clear message unless
# --allow-none.
# dxg-test: timeout=240
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"

[ "$(standin_functions | wc -l)" -eq 2 ] || fail "expected 2 pci-testdev functions"
dxg_load standin=1 loopback=1
host_start --adapters 2 --adapter 1:name=dxg-host-compute,compute-only=1
wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open"; }
vgem=0
modprobe vgem && vgem=1 || note "vgem did not load; no non-dxg device to skip"

dxg-info >/tmp/dxg-info.txt 2>&1 || { cat /tmp/dxg-info.txt; fail "dxg-info failed"; }
cat /tmp/dxg-info.txt
out=$(dxg-info --brief) || fail "dxg-info --brief failed: $out"
echo "$out"
[ "$(echo "$out" | wc -l)" -eq 2 ] || fail "expected 2 adapters from dxg-info --brief"
field() { echo "$out" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
[ "$(field luid | sort -u | wc -l)" -eq 2 ] || fail "the two adapters report the same LUID"
[ "$(field render | sort -u)" = "$(dxg_render_nodes | sort)" ] ||
	fail "dxg-info render nodes ($(field render | tr '\n' ' ')) are not dxg's ($(dxg_render_nodes | tr '\n' ' '))"
[ "$(field pci | sort)" = "$(standin_functions)" ] ||
	fail "dxg-info PCI bus ids ($(field pci | tr '\n' ' ')) are not the stand-in functions ($(standin_functions | tr '\n' ' '))"
[ "$(field pci_id | sort -u)" = 1b36:0005 ] || fail "unexpected PCI ids: $(field pci_id | tr '\n' ' ')"
[ "$(field uapi | sort -u)" = 2 ] || fail "unexpected UAPI versions"
[ "$(field host | sort -u)" = 40 ] || fail "unexpected host versions"
echo "$out" | grep -q 'adapter_type=error' && fail "an adapter-type query failed"
# KMTQAITYPE_ADAPTERTYPE bit 11: compute only.
echo "$out" | while read -r line; do
	ty=$(echo "$line" | tr ' ' '\n' | sed -n 's/^adapter_type=//p')
	co=$(echo "$line" | tr ' ' '\n' | sed -n 's/^compute_only=//p')
	case "$line" in
	*'description="dxg-host-compute"'*)
		[ $((ty & 0x800)) -ne 0 ] || fail "compute adapter: type $ty lacks compute-only"
		[ "$co" = 1 ] || fail "compute adapter: QUERY_ADAPTER says compute_only=$co";;
	*)
		[ $((ty & 0x800)) -eq 0 ] || fail "render adapter: type $ty says compute-only"
		[ "$co" = 0 ] || fail "render adapter: QUERY_ADAPTER says compute_only=$co";;
	esac
done || exit 1
echo "$out" | grep -q 'description="dxg-host-compute"' || fail "compute adapter's description missing"
for n in $(field render); do
	grep -q "^adapter .*: $n\$" /tmp/dxg-info.txt || fail "$n missing from the long listing"
done

drmdevice >/tmp/drmdevice.txt 2>&1
drm_renders=$(grep -o '/dev/dri/renderD[0-9]*' /tmp/drmdevice.txt | sort -u)
for n in $(field render); do
	echo "$drm_renders" | grep -qx "$n" || { cat /tmp/drmdevice.txt; fail "drmdevice does not list $n"; }
done
if [ $vgem = 1 ]; then
	rmmod vgem || fail "rmmod vgem"
fi

host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
if none=$(dxg-info 2>&1); then fail "dxg-info succeeded without adapters: $none"; fi
echo "$none"
echo "$none" | grep -q "no dxg adapter found" || fail "no clear message without adapters: $none"
dxg-info --allow-none >/dev/null 2>&1 || fail "dxg-info --allow-none failed without adapters"
dxg_unload
