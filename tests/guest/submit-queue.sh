#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Queued submission (dxg-uapi-test queue): with the host's context workers
# held, 64 jobs on one context (each with its own out-syncobj, one more at
# a timeline point) and jobs of a second context of the same file waiting
# for them: every SUBMIT returns while the host is held, no fence signals
# until `release`, then all do, the waiting jobs' last. 64 vgem fences (and
# one at a timeline point) as in-fences: SUBMIT returns at once and the
# job completes only after the last of them. QUERY_STATE counts the
# submissions and their completion. Then (dxg-uapi-test stopped) the host
# process is stopped with SIGSTOP: SUBMIT still returns, a fence wait
# times out with ETIME, and SIGCONT lets everything finish.
# job_timeout_ms is raised so that holding the host cannot lose a context.
# dxg-test: timeout=300
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
# On failure, leave no host or module behind for the next test of the boot.
cleanup() { host_stop; wait_for 30 adapters_are 0; rmmod dxg 2>/dev/null; rmmod vgem 2>/dev/null; true; }
trap cleanup EXIT

modprobe vgem || fail "modprobe vgem"
dxg_load standin=1 loopback=1 job_timeout_ms=120000
host_start --adapters 2
wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open"; }
n=$(dxg_render_nodes | head -n1)
dxg-uapi-test queue $n --control $HOST_SOCK || { host_log; fail "dxg-uapi-test queue $n"; }
note "dxg-host: $(host_ctl stats | tr '\n' ' ')"
dxg-uapi-test stopped $n --kill $HOST_PID || { kill -CONT $HOST_PID; host_log; fail "dxg-uapi-test stopped $n"; }
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
dxg_unload
rmmod vgem || fail "rmmod vgem"
