#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Host messages per submission (dxg-uapi-test count): 20 submissions, each
# waited for, send one SUBMITCOMMAND and one SIGNALSYNCOBJECT each and no
# CPU wait (WAITFORSYNCOBJECTFROMCPU: the context's one guest event is
# signalled by the host). With a normal host both are requests (2
# synchronous messages per submission); with a host started with
# --async-msg both go without waiting for a reply (0 synchronous, 2
# asynchronous).
# dxg-test: timeout=300
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
cleanup() { host_stop; wait_for 30 adapters_are 0; rmmod dxg 2>/dev/null; true; }
trap cleanup EXIT

dxg_load standin=1 loopback=1
for async in "" --async; do
	host_start --adapters 2 ${async:+--async-msg}
	wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open (host ${async:-sync})"; }
	n=$(dxg_render_nodes | head -n1)
	dxg-uapi-test count $n 20 $async --control $HOST_SOCK ||
		{ host_log; fail "dxg-uapi-test count $n 20 $async"; }
	host_stop
	wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
done
dxg_unload
