#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Every fault class of dxg-host, injected into a host round trip of a user
# process (QUERYADAPTERINFO) and into adapter bring-up: each ends in a
# clean errno within a bounded time, never a splat (the harness checks the
# kernel log), a host that stops answering loses its adapter (the DRM
# device is unplugged), and the adapter recovers once the host behaves.
# Then each fault class on SETIOSPACEREGION, the setup message of the
# first device: the host is lost cleanly, and a restarted one works; and
# on the bring-up messages (OPENADAPTER, GETINTERNALADAPTERINFO): the
# function waits, unbound, and the channel's next offer brings it back.
# dxg-test: timeout=900
# dxg-qemu: -device pci-testdev
. "$DXG_TESTS/lib.sh"

dxg_load standin=1 loopback=1 timeout_ms=3000
host_start --adapters 1 --seed 7
wait_for 60 adapters_are 1 || { host_log; fail "the adapter did not open"; }
node=$(dxg_render_nodes)
dxg-query $node || fail "clean query failed"

recover() {
	host_ctl rescind vgpu 0 >/dev/null 2>&1
	wait_for 30 adapters_are 0 || fail "$1: adapter still bound after rescind"
	host_ctl offer vgpu 0 || fail "$1: re-offer"
	wait_for 60 adapters_are 1 || fail "$1: adapter did not come back"
	node=$(dxg_render_nodes)
}

for class in truncated oversized unknown-status pending garbage wrong-trans-id no-reply rescind-in-flight; do
	host_ctl fault "$class:cmd=query-adapter-info:count=1" || fail "ctl fault $class"
	t0=$(cut -d. -f1 /proc/uptime)
	out=$(dxg-query $node 2>&1); rc=$?
	t1=$(cut -d. -f1 /proc/uptime)
	echo "$class: rc=$rc $out ($((t1 - t0)) s)"
	[ $((t1 - t0)) -le 10 ] || fail "$class: took $((t1 - t0)) s"
	case $class in
	garbage) ;; # random bytes may even decode; only no splat matters
	# A reply longer than expected is taken by its prefix, as dxgkrnl
	# does (process_completion_packet()).
	oversized) [ $rc -eq 0 ] || fail "$class: the prefix of a longer reply was refused" ;;
	*) [ $rc -ne 0 ] || fail "$class: the query succeeded" ;;
	esac
	case $class in
	unknown-status) echo "$out" | grep -q "Input/output error" || fail "$class: want EIO" ;;
	truncated|pending) echo "$out" | grep -q "Protocol error" || fail "$class: want EPROTO" ;;
	wrong-trans-id|no-reply) echo "$out" | grep -q "timed out" || fail "$class: want ETIMEDOUT" ;;
	rescind-in-flight) echo "$out" | grep -q "No such device" || fail "$class: want ENODEV" ;;
	esac
	case $class in
	wrong-trans-id|no-reply)
		# A host that stops answering is lost: its DRM device goes.
		wait_for 20 adapters_are 0 || fail "$class: adapter still bound after the host timed out"
		[ -z "$(dxg_render_nodes)" ] || fail "$class: render node left after the host timed out"
		dmesg | grep -q "declaring the host lost" || fail "$class: no log line"
		;;
	esac
	case $class in
	wrong-trans-id|no-reply|rescind-in-flight) recover $class ;;
	esac
	dxg-query $node >/dev/null || fail "$class: no clean query afterwards"
done

# Setup: every fault class on SETIOSPACEREGION (sent once, first, by the
# first adapter's bring-up): the bring-up fails and the host is declared
# lost (no adapter that looks alive and fails every call), or, for
# STATUS_PENDING (a success status) and garbage that happens to decode as
# success, everything works; a restarted
# host brings the adapter back with a working IO space.
for class in truncated oversized unknown-status pending garbage wrong-trans-id no-reply; do
	host_stop
	wait_for 30 adapters_are 0 || fail "$class: adapter still bound after the host stopped"
	n0=$(dmesg | grep -c "cannot open the adapter")
	host_start --adapters 1 --seed 7 --fault "$class:cmd=set-io-space-region:count=1"
	wait_for 60 sh -c "[ \$(dmesg | grep -c 'cannot open the adapter') -gt $n0 ] || [ \$(ls /sys/class/drm | grep -c renderD) -gt 0 ]" ||
		{ host_log; fail "$class: neither an adapter nor a failure"; }
	if [ $(dmesg | grep -c "cannot open the adapter") -gt $n0 ]; then
		echo "SETIOSPACEREGION $class: the bring-up failed: $(dmesg | grep 'cannot open the adapter' | tail -n1)"
		adapters_are 0 || fail "$class: adapter bound after SETIOSPACEREGION failed"
		dmesg | grep -q "SETIOSPACEREGION failed\|declaring the host lost" || fail "$class: no log line"
	else
		# STATUS_PENDING is a success status (NT_SUCCESS(), as dxgkrnl's
		# ntstatus2int() takes it), and garbage may decode as success.
		echo "SETIOSPACEREGION $class: the adapter opened"
		case $class in garbage|pending|oversized) ;; *) fail "$class: the bring-up succeeded" ;; esac
		dxg-example $(dxg_render_nodes) >/dev/null || [ $class = garbage ] || fail "$class: the adapter does not work"
	fi
	host_stop
	wait_for 30 adapters_are 0 || fail "$class: adapter still bound after the host stopped"
	host_start --adapters 1 --seed 7
	wait_for 60 adapters_are 1 || { host_log; fail "$class: the adapter did not come back"; }
	dxg-example $(dxg_render_nodes) >/dev/null || { host_log; fail "$class: no working device afterwards"; }
done

# Bring-up: every fault class on OPENADAPTER and GETINTERNALADAPTERINFO.
# A failed bring-up leaves the function unbound (deferred, with a log
# line) or, for faults that decode as success, the adapter works; either
# way the next offer of the channel (the host behaving again) brings a
# working adapter back, without a module reload.
for cmd in open-adapter get-internal-adapter-info; do
	for class in truncated oversized unknown-status garbage no-reply; do
		n0=$(dmesg | grep -c "cannot open the adapter")
		host_ctl fault "$class:cmd=$cmd:count=1" || fail "ctl fault $class $cmd"
		host_ctl rescind vgpu 0 >/dev/null
		wait_for 30 adapters_are 0 || fail "$cmd $class: adapter still bound after rescind"
		host_ctl offer vgpu 0 >/dev/null || fail "$cmd $class: offer"
		wait_for 60 sh -c "[ \$(dmesg | grep -c 'cannot open the adapter') -gt $n0 ] || [ \$(ls /sys/class/drm | grep -c renderD) -gt 0 ]" ||
			{ dmesg | grep dxg | tail; fail "$cmd $class: neither an adapter nor a failure"; }
		if [ $(dmesg | grep -c "cannot open the adapter") -gt $n0 ]; then
			echo "$cmd $class: bring-up failed: $(dmesg | grep 'cannot open the adapter' | tail -n1)"
			adapters_are 0 || fail "$cmd $class: adapter bound despite a failed bring-up"
			host_ctl rescind vgpu 0 >/dev/null
			wait_for 30 channels_are 1 || fail "$cmd $class: the vGPU channel did not go"
			host_ctl offer vgpu 0 >/dev/null || fail "$cmd $class: re-offer"
		else
			# A reply longer than expected may be taken by its prefix (as
			# dxgkrnl does), and random bytes may decode as a success (with
			# a random host handle: calls then fail cleanly). An adapter
			# that came up must work, but for garbage; offer it afresh.
			echo "$cmd $class: the adapter came up"
			case $class in
			garbage) ;;
			oversized) dxg-example $(dxg_render_nodes) >/dev/null || fail "$cmd $class: the adapter came up but does not work" ;;
			*) fail "$cmd $class: the bring-up succeeded despite the fault" ;;
			esac
			host_ctl rescind vgpu 0 >/dev/null
			wait_for 30 adapters_are 0 || fail "$cmd $class: adapter still bound after rescind"
			host_ctl offer vgpu 0 >/dev/null || fail "$cmd $class: re-offer"
		fi
		wait_for 60 adapters_are 1 || { dmesg | grep dxg | tail; fail "$cmd $class: the adapter did not come back"; }
		dxg-example $(dxg_render_nodes) >/dev/null || fail "$cmd $class: no working adapter afterwards"
	done
done
host_stop
dxg_unload
