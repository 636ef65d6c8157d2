#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The queued submission path (make bench): host messages per submission
# (sync and async, from dxg-host's stats) against those per host round
# trip; submit -> out-fence latency against the raw host round trip;
# pipelined submissions per second on one context against submit+wait;
# the raw host round trip against a pipe ping-pong between two processes.
# Then all of it once more against a host started with --async-msg (as
# hosts that enable asynchronous messages run it). Prints medians, p99
# and ratios, never absolute thresholds.
# Same QEMU arguments as bench-drm, so all share one boot.
# dxg-test: timeout=1500
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"

# On a failure, leave no host or module behind for the next script.
trap two_adapters_cleanup EXIT
dxg_load standin=1 loopback=1
host_start --adapters 2
wait_for 60 adapters_are 2 || { host_log; fail "2 adapters did not open"; }
node=$(dxg_render_nodes | head -n 1)
[ -n "$node" ] || fail "no dxg render node"
dxg-bench queue --node "$node" --control $HOST_SOCK --iterations 500 --depth 64 ||
	{ host_log; fail "dxg-bench queue"; }

note "the same with dxg-host --async-msg (the host enables asynchronous messages)"
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
host_start --adapters 2 --async-msg
wait_for 60 adapters_are 2 || { host_log; fail "2 adapters did not open (--async-msg)"; }
node=$(dxg_render_nodes | head -n 1)
[ -n "$node" ] || fail "no dxg render node (--async-msg)"
dxg-bench queue --node "$node" --control $HOST_SOCK --iterations 500 --depth 64 ||
	{ host_log; fail "dxg-bench queue (--async-msg)"; }
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
dxg_unload
