#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A traced run of the raw host round trip (make bench-trace).
# dxg-test: timeout=900
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
. "$DXG_TESTS/trace-lib.sh"
trap two_adapters_cleanup EXIT
two_adapters_up
trace_run trace-round-trip dxg-bench loopback $(echo $nodes | cut -d' ' -f1) 300 1 || fail "dxg-bench loopback"
two_adapters_down
