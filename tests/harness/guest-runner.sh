#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the dxg test harness: runs the tests listed in
# /dxg/results/plan ("NAME TIMEOUT_S" per line), one after the other, and
# leaves for each NAME in /dxg/results:
#   NAME.out       its stdout and stderr
#   NAME.dmesg     the kernel log written while it ran
#   NAME.kmemleak  kmemleak's report after a scan at its end (empty: no leak)
#   NAME.rc        its exit status (77: skipped; 137: killed at the timeout)
# The host (tests/harness/dxgtest.py) reads these and fails any test whose
# kernel log shows a splat. Console markers DXGTEST-BEGIN/END let the host
# name the test that was running if the guest dies.
R=/dxg/results
P=/dxg/payload
KML=/sys/kernel/debug/kmemleak
export DXG_PAYLOAD=$P DXG_TESTS=$P/tests PATH=$P/bin:$PATH

# Catch hung tasks well inside the per-test timeouts.
echo 20 >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
# Boot-time objects are not the tests' business: scan once and forget them.
if [ -w $KML ]; then echo scan >$KML; echo scan >$KML; echo clear >$KML; fi
dmesg -c >$R/boot.dmesg

run_one() {
	name=$1 tmo=$2
	echo "DXGTEST-BEGIN $name"
	timeout -s KILL "$tmo" /bin/sh "$P/tests/$name.sh" >"$R/$name.out" 2>&1 </dev/null
	rc=$?
	: >"$R/$name.kmemleak"
	echo "DXGTEST-SCAN $name"
	if [ -w $KML ]; then
		# kmemleak reports an object only when two scans in a row
		# found it unreferenced with unchanged contents.
		echo scan >$KML
		echo scan >$KML
		cat $KML >"$R/$name.kmemleak"
		echo clear >$KML
	fi
	dmesg -c >"$R/$name.dmesg"
	echo "$rc" >"$R/$name.rc"
	sync
	echo "DXGTEST-END $name rc=$rc"
}

mode=test
for a in $(cat /proc/cmdline); do case "$a" in dxg.mode=*) mode=${a#dxg.mode=} ;; esac; done

if [ "$mode" = run ]; then
	/bin/sh $P/tests/show.sh
	if [ -e $R/interactive ]; then
		echo "dxg guest shell; 'poweroff -f' or Ctrl-D leaves."
		setsid sh -c 'exec sh </dev/ttyS0 >/dev/ttyS0 2>&1'
	fi
	exit 0
fi

while read -r name tmo; do
	[ -n "$name" ] && run_one "$name" "$tmo"
done <$R/plan
# Leaks are only reported for objects older than 5 s: one last scan after
# everything settled catches what the per-test scans were too early for.
if [ -w $KML ]; then
	sleep 6
	echo scan >$KML
	echo scan >$KML
	cat $KML >"$R/final.kmemleak"
fi
dmesg -c >"$R/final.dmesg"
sync
