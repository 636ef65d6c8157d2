#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The harness tests itself: boots a guest with deliberately broken tests
# (a WARN_ON in a module's init, a leaked allocation, a timeout, a failing
# exit status) and one clean test, and checks that each broken one FAILs
# with its cause named while the clean one PASSes.
# Usage: selftest.sh SUMMARY HARNESS-ARGS...
set -u
summary=$1; shift
out=$(mktemp -d)
log=$out/log
"$(dirname "$0")/dxgtest.py" "$@" --tests "$(dirname "$0")/selftest" --out "$out" \
	--summary-file "$out/summary" >"$log" 2>&1
bad=""
expect() { # NAME REGEX: the test's line in the harness output matches
	grep -Eq "$2" <(grep -A3 -E "^(PASS|FAIL|SKIP) $1\b" "$log") || bad="$bad $1"
}
expect selftest-pass '^PASS selftest-pass$'
expect selftest-warn '^FAIL selftest-warn: kernel splat.*|WARNING: .*dxg_splat_init'
expect selftest-warn 'WARNING: '
expect selftest-leak 'kmemleak: unreferenced object'
expect selftest-timeout '^FAIL selftest-timeout: killed at its 5 s timeout'
expect selftest-exit '^FAIL selftest-exit: exit status 3'
if [ -z "$bad" ]; then
	echo "PASS harness-selftest (WARN, leak, timeout and exit status each fail their test)" | tee -a "$summary"
else
	sed 's/^/    | /' "$log" | tail -n 40
	echo "FAIL harness-selftest: wrong verdict for:$bad (harness output above)" | tee -a "$summary"
fi
rm -rf "$out"
