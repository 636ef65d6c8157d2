#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The older framing. Every other guest test runs against a host that
# publishes interface version 40 (the extension header on every message);
# this one runs the operations of that suite against a host that publishes
# 27, the version dxgkrnl falls back to: no extension header,
# QUERYADAPTERINFO replies without a status, GETINTERNALADAPTERINFO without
# the vGPU LUID. Under the conformance oracle like every host of the
# suite (dxg-host --strict): adapter bring-up and queries, devices,
# contexts, paging queues, allocations, GPU VA, submissions with fences,
# residency, PRIME across adapters, queued submission, teardown; then the
# same against a host that also reports asynchronous messages, which dxg
# ignores below version 40 (the oracle checks that everything stays
# synchronous, on the vGPU channels).
# dxg-test: timeout=600
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"

# dxg-uapi-test queue waits on vgem fences too (foreign in-fences).
modprobe vgem || fail "modprobe vgem"
for DXG_HOST_ARGS in "--version 27" "--version 27 --async-msg"; do
	note "dxg-host $DXG_HOST_ARGS"
	two_adapters_up
	out=$(dxg-info --brief) || fail "dxg-info --brief failed: $out"
	echo "$out"
	host=$(echo "$out" | tr ' ' '\n' | sed -n 's/^host=//p' | sort -u)
	[ "$host" = 27 ] || fail "the adapters speak version $host, not 27"
	set -- $nodes
	examples_on $1 $2
	dxg-uapi-test queue $1 --control $HOST_SOCK || { host_log; fail "dxg-uapi-test queue $1"; }
	# host_stop fails the test if a message broke a dxgkrnl rule.
	two_adapters_down
	trap - EXIT
done
rmmod vgem
