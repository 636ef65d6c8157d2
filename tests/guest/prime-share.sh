#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Two processes (fork, each its own DRM file) on one adapter share a
# buffer by PRIME fd and fences by syncobj fd and sync_file, passed with
# SCM_RIGHTS (dxg-uapi-test prime): the second imports and maps the buffer
# (CPU and VM_BIND in its own device) and FILLs it, signalling the shared
# syncobj the first waits on and then reads the bytes through its mmap;
# the first FILLs it and sends the fence as sync_file, which the second
# imports and waits for; and back, with the foreign fence as an in-sync.
# dxg-test: timeout=300
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
# On failure, leave no host or module behind for the next test of the boot.
cleanup() { host_stop; wait_for 30 adapters_are 0; rmmod dxg 2>/dev/null; true; }
trap cleanup EXIT

dxg_load standin=1 loopback=1
host_start --adapters 2
wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open"; }
for n in $(dxg_render_nodes); do
	dxg-uapi-test prime $n || { host_log; fail "dxg-uapi-test prime $n"; }
done
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
dxg_unload
