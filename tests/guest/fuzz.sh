#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The in-guest fuzzer (dxg-fuzz), a bounded run: 4 threads on each of two
# DRM files (one per adapter) issue random and mutated dxg and core DRM
# ioctls for 90 s, 4 forked children join in and exit or are killed, and
# dxg-host meanwhile injects reply faults and is stopped for short spells.
# Every ioctl must end in success or a documented errno; the kernel must
# not splat or leak (the harness checks); afterwards both adapters still
# work (dxg-example) and, once every file is closed, the host holds no
# object of any process (no orphan). The seed is printed; a failure is
# reproduced with `dxg-fuzz --seed S`.
# dxg-test: timeout=600
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
two_adapters_up
set -- $nodes
# The first devices register the IO space (SETIOSPACEREGION, once per
# host) before any fault is injected: a failed registration loses the host.
for n in $1 $2; do dxg-example $n >/dev/null || fail "dxg-example $n before fuzzing"; done
seed=${DXG_FUZZ_SEED:-$(cat $DXG_PAYLOAD/fuzz-seed 2>/dev/null || date +%s)}
secs=${DXG_FUZZ_SECONDS:-$(cat $DXG_PAYLOAD/fuzz-seconds 2>/dev/null || echo 90)}
dxg-fuzz --seed $seed --seconds $secs --threads 4 --forks 4 \
	--control $HOST_SOCK --host-pid $HOST_PID $1 $2 ||
	{ host_log | tail -n 40; fail "dxg-fuzz (seed $seed)"; }
host_ctl fault clear >/dev/null
wait_for 30 adapters_are 2 || fail "an adapter is gone after fuzzing"
for n in $(dxg_render_nodes); do
	dxg-example $n >/dev/null || { host_log | tail -n 20; fail "dxg-example $n after fuzzing"; }
done
status=$(host_ctl status)
for k in processes devices contexts allocations; do
	v=$(echo "$status" | sed -n "s/^$k //p")
	[ "$v" = 0 ] || { echo "$status"; fail "the host still holds $v $k after every file closed"; }
done
note "host after fuzzing: $(echo "$status" | grep -E '^(processes|devices|contexts|allocations|sync objects) ' | tr '\n' ' ')"
two_adapters_down
