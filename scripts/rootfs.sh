#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) the guest root filesystem: Debian trixie (stable, so CI
# does not drift), minbase, plus what the guest tests need. Prints its path.
#
# The result, ~/.cache/dxg/rootfs/trixie-<hash>, is never modified by a test
# run: QEMU exports it read-only and the guest keeps its writable state in
# tmpfs (see tests/harness/init.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${DXG_CACHE:-$HOME/.cache/dxg}
SUITE=trixie
# kmod: insmod/rmmod/modprobe; libdrm-tests: drmdevice (drmGetDevices2);
# mesa-utils-bin + libegl-mesa0: EGL device enumeration; pciutils: lspci;
# busybox: timeout and friends; procps: ps/pkill.
PKGS=kmod,libdrm-tests,libdrm2,mesa-utils-bin,libegl1,libegl-mesa0,pciutils,busybox,procps
# What IGT's libigt links to (scripts/igt.sh brings IGT itself, in the
# payload); libkmod2, libpci3 and libudev1 come with kmod and pciutils.
PKGS=$PKGS,libcairo2,libglib2.0-0t64,libdw1t64,libpciaccess0,libpixman-1-0,libdrm-nouveau2,libunwind8
RECIPE=2
key=$(echo "$SUITE $PKGS $RECIPE" | sha256sum | cut -c1-12)
root="$CACHE/rootfs/$SUITE-$key"
log() { echo "rootfs: $*" >&2; }

if [ -f "$root.done" ]; then echo "$root"; exit 0; fi

mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
log "debootstrap $SUITE into $root (about a minute)"
rm -rf "$root" "$root.tmp"
mkdir -p "$CACHE/rootfs"
debootstrap --variant=minbase --include="$PKGS" "$SUITE" "$root.tmp" "$mirror" \
	>"$CACHE/rootfs/$SUITE-$key.log" 2>&1 ||
	{ log "debootstrap failed, see $CACHE/rootfs/$SUITE-$key.log"; exit 1; }
# Mount points the harness uses on a read-only root.
mkdir -p "$root.tmp/dxg/payload" "$root.tmp/dxg/results" "$root.tmp/usr/lib/modules"
# The kernel's init= must be on the root: a fixed bootstrap that mounts
# the payload share and hands over to the harness's init there.
cat >"$root.tmp/dxg/init" <<'INIT'
#!/bin/sh
# dxg test guest bootstrap (scripts/rootfs.sh): the real init is in the payload.
/bin/mount -t 9p -o trans=virtio,version=9p2000.L,ro dxgpayload /dxg/payload &&
	exec /bin/sh /dxg/payload/harness/init.sh
echo "dxg bootstrap: cannot mount the payload share"
echo o >/proc/sysrq-trigger
while :; do :; done
INIT
chmod 755 "$root.tmp/dxg/init"
# Drop the package caches: the image is only ever read.
rm -rf "$root.tmp/var/cache/apt/archives/"*.deb
chroot "$root.tmp" dpkg-query -W -f '${Package} ${Version}\n' >"$root.tmp/dxg/packages"
mv "$root.tmp" "$root"
touch "$root.done"
log "$(grep -E '^(libdrm2|libegl-mesa0) ' "$root/dxg/packages" | tr '\n' ' ')"
echo "$root"
