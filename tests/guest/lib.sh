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

# host_start ARGS...: run dxg-host in the background with ARGS, under the
# dxgkrnl conformance oracle (--strict) unless DXG_HOST_STRICT=0; host_stop
# fails the test if any guest message broke a rule. DXG_HOST_ARGS are added
# to every host (the protocol-version suite sets --version there).
DXG_HOST_STRICT=${DXG_HOST_STRICT:-1}
DXG_HOST_ARGS=${DXG_HOST_ARGS:-}
host_start() {
	strict=
	[ "$DXG_HOST_STRICT" = 1 ] && strict=--strict
	# shellcheck disable=SC2086 # word splitting wanted
	dxg-host --control $HOST_SOCK $strict $DXG_HOST_ARGS "$@" >$HOST_LOG 2>&1 &
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
	rc=$?
	HOST_PID=
	rm -f $HOST_SOCK
	if [ $rc -eq 3 ]; then
		grep 'conformance:' $HOST_LOG | head -n 40
		fail "the guest broke dxgkrnl conformance rules (dxg-host --strict, $HOST_LOG)"
	fi
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

# examples_on NODE...: dxg-example (the whole submission path) and its
# --resident variant on each node, then PRIME from the first to the second.
examples_on() {
	for n in "$@"; do
		dxg-example $n || { host_log; fail "dxg-example $n"; }
		dxg-example --resident $n || { host_log; fail "dxg-example --resident $n"; }
	done
	[ $# -ge 2 ] || return 0
	dxg-example --cross $1 $2 || { host_log; fail "PRIME from $1 to $2"; }
}

# Primary (card) nodes of dxg DRM devices.
dxg_card_nodes() {
	for c in /sys/class/drm/card[0-9]*; do
		case "$(basename "$c")" in *-*) continue ;; esac	# connectors
		[ -e "$c/device/driver" ] || continue
		[ "$(basename "$(readlink -f "$c/device/driver")")" = dxg ] && echo /dev/dri/$(basename $c)
	done
}

# --- IGT (scripts/igt.sh puts it in the payload when it can be had) --------
IGT=$DXG_PAYLOAD/igt
IGT_FAILED=
igt_require() { [ -x "$IGT/bin/core_getversion" ] || skip "IGT is not in the payload (make igt)"; }

# Subtests whose verdict rests on wall-clock deadlines of 100-200 ms (a
# fence signalled by a timer or a thread, a wait with a short timeout): on
# a debug kernel under TCG they can miss them. One that fails is run again
# alone, up to twice; passing then counts, with a note. Failing all three
# runs, it is reported as FAIL-WALLCLOCK and its log printed, but it fails
# the guest test only with IGT_STRICT=1.
IGT_STRICT=${IGT_STRICT:-0}
IGT_WALLCLOCK="syncobj_*/*delayed* syncobj_*/*snapshot syncobj_*/*complex syncobj_*/reset-during-wait*"

# igt_run TAG DRIVER CARD SECONDS PROGRAM: run an IGT program on the DRM
# device CARD (driver DRIVER) and print one line per subtest:
#   igt TAG PROGRAM/SUBTEST RESULT
# RESULT is IGT's own (SUCCESS, SKIP, FAIL, CRASH, ...; dynamic subtests
# are PARENT@NAME); a program without subtests gets one line from its exit
# status. A failed subtest, and a program that exits other than 0 (pass) or
# 77 (skip), is added to IGT_FAILED and its log printed.
igt_exec() {	# igt_exec LOG ARGS...
	l=$1; shift
	IGT_FORCE_DRIVER=$drv LD_LIBRARY_PATH=$IGT/lib \
		timeout -s KILL "$tmo" "$IGT/bin/$prog" --device "drm:$card" "$@" >"$l" 2>&1 </dev/null
}
igt_results() {	# igt_results LOG: "name result" per subtest
	awk '/^Starting subtest: / { cur = $3 }
		/^Subtest [^ ]*: [A-Z]+/ { n = $2; sub(/:$/, "", n); print n, $3 }
		/^Dynamic subtest [^ ]*: [A-Z]+/ { n = $3; sub(/:$/, "", n); print cur "@" n, $4 }' "$1"
}
igt_run() {
	tag=$1 drv=$2 card=$3 tmo=$4 prog=$5
	log=/tmp/igt-$tag-$prog.log
	igt_exec "$log"
	rc=$?
	opened=$(sed -n 's/.*Opened device: //p' "$log" | sort -u | tr '\n' ' ')
	[ -z "$opened" ] || [ "$opened" = "$card " ] || echo "-- $prog opened: $opened"
	igt_results "$log" >"$log.res"
	if [ ! -s "$log.res" ]; then
		case $rc in 0) res=SUCCESS ;; 77) res=SKIP ;; *) res=FAIL ;; esac
		echo "$prog $res" >"$log.res"
	fi
	: >"$log.final"
	bad= shown=
	firstbad=$(awk '$2 != "SUCCESS" && $2 != "SKIP"' "$log.res")
	while read -r name res; do
		note=
		if [ "$res" != SUCCESS ] && [ "$res" != SKIP ] && [ "$name" != "$prog" ]; then
			for pat in $IGT_WALLCLOCK; do
				case "$prog/$name" in $pat) ;; *) continue ;; esac
				for try in 1 2; do
					igt_exec "$log.retry" --run-subtest "${name%@*}"
					r=$(igt_results "$log.retry" | awk -v n="$name" '$1 == n { print $2 }')
					note="$note; retry $try: ${r:-none}"
					[ "$r" = SUCCESS ] && { res=SUCCESS; break; }
				done
				[ "$res" = SUCCESS ] || [ "$IGT_STRICT" = 1 ] || res=FAIL-WALLCLOCK
				break
			done
		fi
		echo "$name $res" >>"$log.final"
		if [ "$name" = "$prog" ]; then echo "igt $tag $prog $res (exit $rc)"
		else echo "igt $tag $prog/$name $res${note:+ (first run FAILED$note)}"; fi
		case "$res" in
		SUCCESS | SKIP) ;;
		FAIL-WALLCLOCK) shown="$shown $name" ;;
		*) bad="$bad $name" shown="$shown $name" ;;
		esac
	done <"$log.res"
	mv "$log.final" "$log.res"
	for b in $shown; do
		[ "$b" = "$prog" ] && continue
		echo "-- $prog: log of subtest $b:"
		awk -v s="${b%@*}" '$0 == "Starting subtest: " s { on = 1 }
			on { print } on && index($0, "Subtest " s ": ") == 1 { on = 0 }' "$log" |
			grep -v '^\[.*igt_core-INFO: ' | tail -n 40 | sed 's/^/   | /'
	done
	case $rc in
	0 | 77) ;;
	98) [ -n "$firstbad" ] || bad="$bad exit-98" ;;	# failed subtests set it; retries may have cleared those
	*) bad="$bad exit-$rc"
		echo "-- $prog exited $rc; end of its log:"
		tail -n 30 "$log" | sed 's/^/   | /' ;;
	esac
	[ -z "$bad" ] || IGT_FAILED="$IGT_FAILED $prog:$(echo $bad | tr ' ' ',')"
	# Why subtests skipped, once per reason.
	grep -hE '^(Test requirement: |No known gpu)' "$log" |
		sort | uniq -c | sed 's/^ */-- skip reason (times): /' | head -n 20
	return 0
}

# igt_summary TAG: count the results printed by igt_run for TAG, and name
# the subtests that missed their wall-clock deadlines.
igt_summary() {
	for r in /tmp/igt-$1-*.log.res; do
		[ -e "$r" ] || continue
		p=${r#/tmp/igt-$1-}; p=${p%.log.res}
		sed "s|^|$p |" "$r"
	done | awk -v tag=$1 '
		{ n[$3]++ } $3 == "FAIL-WALLCLOCK" { wc = wc " " $1 "/" $2 }
		END { printf "igt %s: %d SUCCESS, %d SKIP, %d FAIL-WALLCLOCK, %d other\n", tag,
			n["SUCCESS"], n["SKIP"], n["FAIL-WALLCLOCK"],
			NR - n["SUCCESS"] - n["SKIP"] - n["FAIL-WALLCLOCK"]
		      if (wc != "") print "-- missed wall-clock deadlines in 3 runs (not counted):" wc }'
}
