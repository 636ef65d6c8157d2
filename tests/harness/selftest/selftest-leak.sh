#!/bin/sh
# Harness self-test: a leaked allocation fails the test (expected FAIL).
# dxg-test: timeout=60
insmod "$DXG_PAYLOAD/dxg_splat.ko" leak=1 && rmmod dxg_splat
sleep 6 # kmemleak reports objects older than 5 s
