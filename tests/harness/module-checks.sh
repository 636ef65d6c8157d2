#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Checks of the built modules in `make check`:
#   check-statics     no driver-owned global mutable state, in the sources
#                     and in both built modules (scripts/check-statics.sh);
#   check-production  the module a user installs carries no test machinery
#                     and the aliases that load it on Hyper-V
#                     (scripts/check-production.sh).
# Usage: module-checks.sh SUMMARY MODOUT [FILTER]
set -u
summary=$1 modout=$2 filter=${3:-}
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
out=$here/out/check
mkdir -p "$out"

. "$here/tests/harness/checks-lib.sh"

if want check-statics; then
	if scripts/check-statics.sh . "$modout/prod/dxg.ko" "$modout/test/dxg.ko" >"$out/statics.log" 2>&1; then
		result "PASS check-statics ($(grep -c '^ok' "$out/statics.log") allowed items: module registrations, lock class keys, constants)"
	else
		grep '^REFUSED' "$out/statics.log" | head -n 20
		result "FAIL check-statics: driver-owned global state (out/check/statics.log)"
	fi
fi
if want check-production; then
	if scripts/check-production.sh "$modout/prod/dxg.ko" >"$out/production.log" 2>&1; then
		result "PASS check-production ($(tail -n1 "$out/production.log" | sed 's/^check-production: //'))"
	else
		grep -v '^ok' "$out/production.log" | head -n 20
		result "FAIL check-production: see out/check/production.log"
	fi
fi
exit 0
