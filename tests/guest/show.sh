#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# What `make run` shows: dxg loaded, its kernel log lines, DRM devices.
echo "== insmod dxg.ko standin=1"
insmod "$DXG_PAYLOAD/dxg.ko" standin=1
dmesg | grep -E "dxg" | sed 's/^/   /'
echo "== /dev/dri"
ls -l /dev/dri 2>/dev/null || echo "   (no DRM devices)"
