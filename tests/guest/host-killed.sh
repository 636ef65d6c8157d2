#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kill -9 of the host with requests in flight: every waiter gets an error
# within a bounded time (the rescind on close fails them, no timeout
# needed), the adapters and DRM devices go, nothing hangs, dxg unloads.
# dxg-test: timeout=300
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"

dxg_load standin=1 loopback=1
# 1. Requests of user processes in flight: queries the host answers late.
host_start --adapters 2 --latency query-adapter-info=60000
wait_for 60 adapters_are 2 || { host_log; fail "2 adapters did not open"; }
pids=""
for n in $(dxg_render_nodes); do
	dxg-query $n >/tmp/q.$(basename $n) 2>&1 &
	pids="$pids $!"
done
sleep 3
kill -9 $HOST_PID
t0=$(cut -d. -f1 /proc/uptime)
for p in $pids; do
	wait $p && fail "a query succeeded although the host was killed"
done
t1=$(cut -d. -f1 /proc/uptime)
cat /tmp/q.*
[ $((t1 - t0)) -le 10 ] || fail "waiters took $((t1 - t0)) s to fail"
grep -q "No such device" /tmp/q.* || fail "waiters did not get ENODEV"
wait_for 30 adapters_are 0 || fail "adapters still bound after the host died"
HOST_PID=
rm -f $HOST_SOCK

# 2. Adapter bring-up in flight: OPENADAPTER answered late. Deferred
# probes run one at a time, so one probe waits for the host.
n0=$(dmesg | grep -c "paired with channel")
host_start --adapters 2 --latency open-adapter=60000
wait_for 30 sh -c "[ \$(dmesg | grep -c 'paired with channel') -gt $n0 ]" || fail "no probe started"
sleep 2
kill -9 $HOST_PID
HOST_PID=
rm -f $HOST_SOCK
wait_for 10 sh -c 'dmesg | grep -q "cannot open the adapter: error -19"' ||
	{ dmesg | grep dxg; fail "the probe waiting for the host did not fail within 10 s"; }
adapters_are 0 || fail "an adapter bound without a host"
dxg_unload
