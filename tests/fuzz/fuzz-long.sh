#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make fuzz: the fuzzer run of tests/guest/fuzz.sh, for FUZZ_SECONDS
# (default 600; the Makefile writes it and FUZZ_SEED into the payload).
# dxg-test: timeout=7800
# dxg-qemu: -device pci-testdev -device pci-testdev
. "$DXG_TESTS/fuzz.sh"
