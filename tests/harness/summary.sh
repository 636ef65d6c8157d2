#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print the failures again and the one-line count of a summary file
# ("PASS name" / "FAIL name: why" / "SKIP name" lines); exit 1 on any FAIL.
f=$1
p=$(grep -c '^PASS' "$f")
x=$(grep -c '^FAIL' "$f")
s=$(grep -c '^SKIP' "$f")
if [ "$x" -gt 0 ]; then
	echo "== failures:"
	grep '^FAIL' "$f"
fi
line="$p passed, $x failed"
[ "$s" -gt 0 ] && line="$line, $s skipped"
echo "$line"
[ "$x" -eq 0 ] && [ "$p" -gt 0 ]
