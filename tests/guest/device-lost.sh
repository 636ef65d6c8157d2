#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A lost device (dxg-uapi-test device-lost): a COPY from an unmapped GPU VA
# faults on the host, which drops the context's queue and reports the
# device state (SETGUESTDATA). The job's fence fails with EIO, QUERY_STATE
# reports DEVICE_LOST for the device and its contexts, SUBMIT on any of
# them fails with ECANCELED, and a new device of the same file works.
# job_timeout_ms is raised so that the fault, not the job timeout, fails
# the job.
# dxg-test: timeout=200
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
cleanup() { host_stop; wait_for 30 adapters_are 0; rmmod dxg 2>/dev/null; true; }
trap cleanup EXIT

dxg_load standin=1 loopback=1 job_timeout_ms=120000
host_start --adapters 2
wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open"; }
n=$(dxg_render_nodes | head -n1)
dxg-uapi-test device-lost $n || { host_log; fail "dxg-uapi-test device-lost $n"; }
grep -q "GPU page fault" $HOST_LOG || { host_log; fail "the host reported no GPU page fault"; }
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
dxg_unload
