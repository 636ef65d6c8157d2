#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host-side checks of `make check`: the module's layering
# (scripts/check-layers.sh), formatting, clippy, the unit tests of every
# workspace crate (one summary line per test) and the bounded fuzz smoke run
# of the protocol decoders. Usage: host-checks.sh SUMMARY [FILTER]
set -u
summary=$1 filter=${2:-}
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
out=$here/out/check
mkdir -p "$out"

. "$here/tests/harness/checks-lib.sh"

if want check-layers; then
	if scripts/check-layers.sh >"$out/layers.log" 2>&1; then
		result "PASS check-layers ($(tail -n1 "$out/layers.log" | sed 's/^check-layers: //'))"
	else
		grep '^check-layers: ' "$out/layers.log" | tail -n 20
		result "FAIL check-layers: a module file uses a higher layer (out/check/layers.log)"
	fi
fi
if want cargo-fmt; then
	if cargo fmt --all --check >"$out/fmt.log" 2>&1; then result "PASS cargo-fmt"
	else result "FAIL cargo-fmt: run 'cargo fmt --all' (out/check/fmt.log)"; fi
fi
if want cargo-clippy; then
	if cargo clippy -q --workspace --all-targets -- -D warnings >"$out/clippy.log" 2>&1; then
		result "PASS cargo-clippy"
	else
		tail -n 20 "$out/clippy.log"
		result "FAIL cargo-clippy: see out/check/clippy.log"
	fi
fi
if want cargo-test; then
	cargo test --workspace --no-fail-fast >"$out/cargo-test.log" 2>&1
	rc=$?
	# libtest prints "test NAME ... ok|FAILED|ignored" per test.
	python3 - "$out/cargo-test.log" "$summary" <<'PY'
import re, sys
n = 0
text = open(sys.argv[1], errors="replace").read()
with open(sys.argv[2], "a") as s:
    for m in re.finditer(r"^test (.+?) \.\.\. (ok|FAILED|ignored)$", text, re.M):
        v = {"ok": "PASS", "FAILED": "FAIL", "ignored": "SKIP"}[m.group(2)]
        l = f"{v} cargo-test:{m.group(1)}"
        if v == "FAIL":
            print(l)
            sect = re.search(r"^---- " + re.escape(m.group(1)) + r" stdout ----\n(.*?)(?=^----|^failures:)", text, re.M | re.S)
            if sect:
                print("\n".join("    | " + x for x in sect.group(1).splitlines()[-15:]))
        s.write(l + "\n")
        n += 1
print(f"cargo-test: {n} unit tests")
PY
	if [ $rc -ne 0 ] && ! grep -q '\.\.\. FAILED' "$out/cargo-test.log"; then
		tail -n 20 "$out/cargo-test.log"
		result "FAIL cargo-test: the tests did not build (out/check/cargo-test.log)"
	fi
fi
if want fuzz-smoke && [ -f proto/examples/fuzz_smoke.rs ]; then
	if cargo run -q --release -p dxg-proto --example fuzz_smoke -- --seconds 20 >"$out/fuzz.log" 2>&1; then
		result "PASS fuzz-smoke ($(tail -n1 "$out/fuzz.log"))"
	else
		tail -n 20 "$out/fuzz.log"
		result "FAIL fuzz-smoke: see out/check/fuzz.log"
	fi
fi
exit 0
