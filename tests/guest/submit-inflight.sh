#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Teardown with jobs on a live host (dxg-uapi-test inflight): with the
# host's workers held, 8 jobs are submitted, then (in another thread)
# CONTEXT_DESTROY, or the close of the DRM file, which must wait for the
# jobs the host was sent: it has not returned after 2 s of hold and no
# fence has signalled; after `release` it returns and every fence
# signalled without error. Last, with a CONTEXT_DESTROY waiting, the host
# is killed (SIGKILL): every fence fails with ENODEV, the destroy returns,
# the adapters go. job_timeout_ms is raised so that holding the host
# cannot lose a context.
# dxg-test: timeout=400
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
cleanup() { host_stop; wait_for 30 adapters_are 0; rmmod dxg 2>/dev/null; true; }
trap cleanup EXIT

dxg_load standin=1 loopback=1 job_timeout_ms=120000
host_start --adapters 2
wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open"; }
n=$(dxg_render_nodes | head -n1)
for mode in destroy close; do
	dxg-uapi-test inflight $n $mode --control $HOST_SOCK || { host_log; fail "dxg-uapi-test inflight $n $mode"; }
done
# Kills the host: last.
dxg-uapi-test inflight $n dead --kill $HOST_PID --control $HOST_SOCK ||
	{ host_log; fail "dxg-uapi-test inflight $n dead"; }
wait $HOST_PID 2>/dev/null
HOST_PID=
rm -f $HOST_SOCK
wait_for 30 adapters_are 0 || fail "adapters still bound after the host was killed"
dxg_unload
