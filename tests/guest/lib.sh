# SPDX-License-Identifier: GPL-2.0
# Shared helpers for guest tests (sourced; POSIX sh).
set -u
DXG_KO=$DXG_PAYLOAD/dxg.ko

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
note() { echo "-- $*"; }

# Load dxg with the given parameters; fail the test if it does not load.
dxg_load() { insmod "$DXG_KO" "$@" || fail "insmod dxg.ko $*"; }
dxg_unload() { rmmod dxg || fail "rmmod dxg"; }

# --- adapters and the host model -------------------------------------------
HOST_LOG=/tmp/dxg-host.log
HOST_SOCK=/run/dxg-host.sock

# wait_for SECONDS CMD...: poll CMD until it succeeds; fail after SECONDS.
wait_for() {
	t=$1; shift
	i=0
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -gt $((t * 5)) ] && return 1
		sleep 0.2
	done
}

# The PCI addresses of the stand-in vGPU functions (pci-testdev), sorted.
standin_functions() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat $d/vendor):$(cat $d/device)" = "0x1b36:0x0005" ] && basename $d
	done | sort
}

# Number of PCI functions bound to dxg (open adapters).
bound_adapters() { ls -d /sys/bus/pci/drivers/dxg/0000:* 2>/dev/null | wc -l; }
adapters_are() { [ "$(bound_adapters)" -eq "$1" ]; }

# Render nodes of dxg DRM devices.
dxg_render_nodes() {
	for r in /sys/class/drm/renderD*; do
		[ -e "$r" ] || continue
		[ "$(basename "$(readlink -f "$r/device/driver")")" = dxg ] && echo /dev/dri/$(basename $r)
	done
}

# host_start ARGS...: run dxg-host in the background with ARGS.
host_start() {
	dxg-host --control $HOST_SOCK "$@" >$HOST_LOG 2>&1 &
	HOST_PID=$!
	wait_for 20 test -S $HOST_SOCK || { cat $HOST_LOG; fail "dxg-host did not start"; }
}
host_ctl() { dxg-host ctl --control $HOST_SOCK "$@"; }
# host_stop: SIGTERM the host; it closes the loopback device, which
# rescinds everything it offered. Escalate if it does not go.
host_stop() {
	[ -n "${HOST_PID:-}" ] || return 0
	kill $HOST_PID 2>/dev/null
	wait_for 10 sh -c "! kill -0 $HOST_PID" || { echo "-- dxg-host ignored SIGTERM"; kill -9 $HOST_PID; }
	wait $HOST_PID 2>/dev/null
	HOST_PID=
	rm -f $HOST_SOCK
}
host_log() { echo "-- dxg-host log:"; sed 's/^/   /' $HOST_LOG; }

# Number of channel devices bound to dxg's channel driver.
bound_channels() {
	n=0
	for c in /sys/bus/auxiliary/devices/dxg.channel.*; do
		[ -e "$c/driver" ] && n=$((n + 1))
	done
	echo $n
}
channels_are() { [ "$(bound_channels)" -eq "$1" ]; }

# --- two adapters on the software host -------------------------------------
# two_adapters_up [HOST ARGS...]: load dxg (stand-in functions, loopback
# transport), start dxg-host with 2 adapters (and ARGS), wait until both are
# open and set $nodes to their render nodes. On exit (a failure included)
# leave no host or module behind for the next test of the boot.
two_adapters_cleanup() { host_stop; wait_for 30 adapters_are 0; rmmod dxg 2>/dev/null; true; }
two_adapters_up() {
	trap two_adapters_cleanup EXIT
	dxg_load standin=1 loopback=1
	host_start --adapters 2 "$@"
	wait_for 60 adapters_are 2 || { host_log; dmesg | grep dxg; fail "2 adapters did not open"; }
	nodes=$(dxg_render_nodes)
}
# two_adapters_down: stop the host; both adapters go; unload dxg.
two_adapters_down() {
	host_stop
	wait_for 30 adapters_are 0 || fail "adapters still bound after the host went away"
	dxg_unload
}
