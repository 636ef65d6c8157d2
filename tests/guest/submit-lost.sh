#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A lost context (dxg-uapi-test lost): dxg runs with job_timeout_ms=3000
# and the host never completes the next submission (stall-next 1). The
# context's job and the one queued behind it fail with ETIME once the
# timeout passes, QUERY_STATE reports CONTEXT_LOST (-ETIME), a new SUBMIT
# on it fails with ECANCELED; another context of the same device keeps
# working and is ACTIVE.
# dxg-test: timeout=200
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
cleanup() { host_stop; wait_for 30 adapters_are 0; rmmod dxg 2>/dev/null; true; }
trap cleanup EXIT

dxg_load standin=1 loopback=1 job_timeout_ms=3000
host_start --adapters 2
wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open"; }
n=$(dxg_render_nodes | head -n1)
dxg-uapi-test lost $n --control $HOST_SOCK || { host_log; fail "dxg-uapi-test lost $n"; }
grep -q "submission stalled" $HOST_LOG || { host_log; fail "the host stalled no submission"; }
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
dxg_unload
