#!/bin/sh
# Harness self-test: a WARN in a module's init fails the test (expected FAIL).
# dxg-test: timeout=60
insmod "$DXG_PAYLOAD/dxg_splat.ko" warn=1 && rmmod dxg_splat
