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
two_adapters_up
for n in $nodes; do
	dxg-uapi-test prime $n || { host_log; fail "dxg-uapi-test prime $n"; }
done
two_adapters_down
