#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The whole submission path on each of two simulated adapters: dxg-example
# creates a device, a context, two 64 KiB buffers and a command buffer,
# VM_BINDs them, writes FILL(A, 0x5a) + COPY(A -> B) through mmap, submits
# with a timeline syncobj point as out fence, waits for it and checks the
# bytes of A and B through mmap; then again with the buffers made resident
# (and evicted after). The host model counts the submissions it executed.
# dxg-test: timeout=300
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"

dxg_load standin=1 loopback=1
host_start --adapters 2
wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open"; }
nodes=$(dxg_render_nodes)
[ "$(echo "$nodes" | wc -l)" -eq 2 ] || fail "expected 2 dxg render nodes, got: $nodes"
# PRIME across adapters, both ways (a re-wrap of the same pages).
set -- $nodes
examples_on $1 $2
dxg-example --cross $2 $1 || { host_log; fail "PRIME from $2 to $1"; }
# fdinfo (drm-usage-stats) of a file that submitted work.
dxg-example --fdinfo $(echo "$nodes" | head -n1) || { host_log; fail "dxg-example --fdinfo"; }
# Without a node it takes the first dxg render node.
dxg-example >/tmp/example.txt 2>&1 || { cat /tmp/example.txt; fail "dxg-example (first node)"; }
grep -q "^PASS" /tmp/example.txt || { cat /tmp/example.txt; fail "dxg-example printed no PASS"; }
subs=$(host_ctl stats | sed -n 's/^submissions //p')
note "dxg-host executed ${subs:-?} submissions"
[ "${subs:-0}" -ge 5 ] || { host_ctl stats; fail "dxg-host executed ${subs:-no} submissions, expected at least 5"; }
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
dxg_unload
