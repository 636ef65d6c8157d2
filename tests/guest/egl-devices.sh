#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# EGL device enumeration (dxg-uapi-test egl: libEGL through dlopen,
# EGL_EXT_device_enumeration, EGL_EXT_device_query,
# EGL_EXT_device_drm_render_node) lists both dxg render nodes.
# dxg-test: timeout=240
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
# On failure, leave no host or module behind for the next test of the boot.
cleanup() { host_stop; wait_for 30 adapters_are 0; rmmod dxg 2>/dev/null; true; }
trap cleanup EXIT

ls /usr/lib/*/libEGL.so.1 >/dev/null 2>&1 || skip "no libEGL.so.1 in the guest"
dxg_load standin=1 loopback=1
host_start --adapters 2
wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open"; }
if ! dxg-uapi-test egl; then
	note "again with EGL_LOG_LEVEL=debug:"
	EGL_LOG_LEVEL=debug dxg-uapi-test egl 2>&1 | head -n 60
	fail "dxg-uapi-test egl"
fi
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
dxg_unload
