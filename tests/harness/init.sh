#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of the dxg test guest (started by the rootfs's /dxg/init, which
# has mounted the payload share). The root (9p, the cached Debian image) is
# read-only; writable state lives in tmpfs. Two more 9p shares come from the
# host: the payload (dxg.ko, kernel modules, test programs; read-only) and
# the results folder of this run (read-write), where the runner writes one
# file set per test.
export PATH=/dxg/payload/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mountpoint -q /dev || mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mount -t tmpfs varlog /var/log
mount -t debugfs debugfs /sys/kernel/debug
mount -t 9p -o trans=virtio,version=9p2000.L,rw dxgresults /dxg/results
mount --bind /dxg/payload/modules /usr/lib/modules
echo "DXG-INIT uptime=$(cut -d' ' -f1 /proc/uptime)"
/bin/sh /dxg/payload/harness/guest-runner.sh
echo "DXG-RUNNER-EXIT rc=$?"
sync
echo o >/proc/sysrq-trigger
# PID 1 must never exit, and the 9p root is going away: no external commands.
while :; do :; done
