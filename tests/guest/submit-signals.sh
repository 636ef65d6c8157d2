#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# No ioctl fails on an ordinary signal (dxg-uapi-test signals): for 10 s a
# thread SUBMITs and GEM_CREATEs + GEM_CLOSEs with raw ioctl() calls (no
# retry that could hide a double action) while another thread sends it
# SIGUSR1, whose handler has no SA_RESTART, every 1 ms. None fails with
# EINTR or EAGAIN, every job completes, and the host saw each successful
# call exactly once: SUBMITCOMMANDs (sync + async) = submits and
# CREATEALLOCATIONs = allocations. The scenario resets the host's stats
# (`stats reset`) before its loop and checks them itself; this script
# compares them again with what it printed.
# dxg-test: timeout=300
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/lib.sh"
cleanup() { host_stop; wait_for 30 adapters_are 0; rmmod dxg 2>/dev/null; true; }
trap cleanup EXIT

dxg_load standin=1 loopback=1
host_start --adapters 2
wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open"; }
n=$(dxg_render_nodes | head -n1)
out=$(dxg-uapi-test signals $n 10 --control $HOST_SOCK); rc=$?
echo "$out"
[ $rc -eq 0 ] || { host_log; fail "dxg-uapi-test signals $n 10"; }
line=$(echo "$out" | grep '^submits=') || fail "no submits=N allocations=M line"
subs=$(echo "$line" | sed -n 's/^submits=\([0-9]*\) .*/\1/p')
allocs=$(echo "$line" | sed -n 's/.* allocations=\([0-9]*\)$/\1/p')
[ -n "$subs" ] && [ -n "$allocs" ] || fail "cannot parse: $line"
stats=$(host_ctl stats) || fail "host_ctl stats"
# count NAME sync|all: the host's messages of command NAME (any spelling).
count() {
	echo "$stats" | awk -v want="$1" -v what="$2" '
		{ n = toupper($1); gsub(/[^A-Z0-9]/, "", n) }
		n == want { s = $2; a = $3; sub(/^sync=/, "", s); sub(/^async=/, "", a)
			print (what == "sync" ? s : s + a); found = 1 }
		END { if (!found) print 0 }'
}
hs=$(count SUBMITCOMMAND all)
ha=$(count CREATEALLOCATION sync)
note "guest: $subs submits, $allocs allocations; host: $hs SUBMITCOMMAND, $ha CREATEALLOCATION (sync)"
[ "$hs" -eq "$subs" ] || { echo "$stats"; fail "the host got $hs SUBMITCOMMANDs for $subs successful SUBMITs"; }
[ "$ha" -eq "$allocs" ] || { echo "$stats"; fail "the host got $ha CREATEALLOCATIONs for $allocs successful GEM_CREATEs"; }
host_stop
wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
dxg_unload
