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
