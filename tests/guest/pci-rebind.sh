#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# PCI unbind/bind of a stand-in function in use (dxg-uapi-test unplug
# pci): with open DRM files, live mmaps and pending fences (the host takes
# 2 s per submission) on both adapters, the first node's PCI function is
# unbound from dxg through sysfs. The write returns, the old file gets
# ENODEV, its fences complete (the live host finishes them first: unbind
# waits for it), its mappings stay usable, the
# other adapter keeps working; after bind the adapter works again.
# Then, with a host that answers queries only after a minute, a request
# in flight does not hold up the unbind: its waiter fails with ENODEV at
# once (no D state until the reply or timeout_ms), and unbinding the
# other, idle adapter right after is not held up either (drm_dev_unplug's
# SRCU is global).
# dxg-test: timeout=400
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
two_adapters_up --exec-latency 2000
dxg-uapi-test unplug pci --gone unbind --back bind || { host_log; fail "dxg-uapi-test unplug pci"; }
wait_for 60 adapters_are 2 || fail "function not rebound"
two_adapters_down

two_adapters_up --latency query-adapter-info=60000
set -- $nodes
fn() { basename "$(readlink -f /sys/class/drm/$(basename $1)/device)"; }
f1=$(fn $1) f2=$(fn $2)
host_ctl stats reset >/dev/null || fail "stats reset"
dxg-query $1 >/tmp/q.unbind 2>&1 &
qp=$!
wait_for 30 sh -c "dxg-host ctl --control $HOST_SOCK stats | grep -qiE '^query_?adapter_?info sync=[1-9]'" ||
	{ host_ctl stats; fail "the query did not reach the host"; }
t0=$(cut -d. -f1 /proc/uptime)
echo $f1 >/sys/bus/pci/drivers/dxg/unbind || fail "unbind $f1"
echo $f2 >/sys/bus/pci/drivers/dxg/unbind || fail "unbind $f2"
t1=$(cut -d. -f1 /proc/uptime)
wait $qp && fail "the query succeeded although its adapter was unbound"
cat /tmp/q.unbind
grep -q "No such device" /tmp/q.unbind || fail "the query's waiter did not get ENODEV"
echo "unbinding both functions with a query in flight took $((t1 - t0)) s"
[ $((t1 - t0)) -le 20 ] || fail "unbinding took $((t1 - t0)) s: held up by the host's reply"
echo $f1 >/sys/bus/pci/drivers/dxg/bind || fail "bind $f1"
echo $f2 >/sys/bus/pci/drivers/dxg/bind || fail "bind $f2"
wait_for 60 adapters_are 2 || fail "functions not rebound"
two_adapters_down
