#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Traced runs of the queued submission, against a host without and with
# asynchronous messages (make bench-trace).
# dxg-test: timeout=900
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
. "$DXG_TESTS/trace-lib.sh"
trap two_adapters_cleanup EXIT
two_adapters_up
trace_run trace-submit dxg-bench queue --node $(echo $nodes | cut -d' ' -f1) --control $HOST_SOCK \
	--iterations 40 --depth 8 || fail "dxg-bench queue"
two_adapters_down
two_adapters_up --async-msg
trace_run trace-submit-async dxg-bench queue --node $(echo $nodes | cut -d' ' -f1) --control $HOST_SOCK \
	--iterations 40 --depth 8 || fail "dxg-bench queue (--async-msg)"
two_adapters_down
