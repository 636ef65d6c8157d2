#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Install, idempotently, what building and testing dxg needs on a Debian 12
# (bookworm) host: the kernel's Rust toolchain (rustc-web + rust-web-src, and
# rust-web-clippy: the production module is built with CLIPPY=1),
# LLVM/Clang 19, the kernel build tools, debootstrap, QEMU 10 from
# bookworm-backports and bindgen-cli from the crates registry.
#
# Prints nothing when everything is present. When something is missing and
# cannot be installed (not root, no apt), stops with one message naming it.
set -eu

PKGS="rustc-web rust-web-src rust-web-clippy clang-19 lld-19 llvm-19 libclang-19-dev flex bison bc
libelf-dev libssl-dev cpio kmod xz-utils make gcc libc6-dev python3 debootstrap
rsync libdrm-dev pkg-config"
BINDGEN_VERSION=0.71.1
BINDGEN=${BINDGEN:-$HOME/.cargo/bin/bindgen}
STATE=${DXG_CACHE:-$HOME/.cache/dxg}/apt-host

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
need_qemu=0
qv=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null || true)
case "$qv" in 1:1[0-9].*) ;; *) need_qemu=1 ;; esac
need_bindgen=0
"$BINDGEN" --version 2>/dev/null | grep -q " $BINDGEN_VERSION\$" || need_bindgen=1

[ -z "$missing" ] && [ $need_qemu = 0 ] && [ $need_bindgen = 0 ] && exit 0

want="$missing"
[ $need_qemu = 1 ] && want="$want qemu-system-x86(>=10, bookworm-backports)"
[ $need_bindgen = 1 ] && want="$want bindgen-cli-$BINDGEN_VERSION"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
	echo "deps: missing:$want; run 'make deps' as root on Debian 12 to install them" >&2
	exit 1
fi

echo "deps: installing:$want"
# bookworm-backports (for QEMU 10) through a private source list, so the
# host's own apt configuration stays untouched.
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
mkdir -p "$STATE"
echo "deb $mirror bookworm-backports main" >"$STATE/backports.list"
APTOPT="-o Dir::Etc::SourceList=$STATE/backports.list"
export DEBIAN_FRONTEND=noninteractive
apt-get $APTOPT update -qq
if [ -n "$missing" ]; then
	apt-get $APTOPT install -y -qq --no-install-recommends $missing
fi
if [ $need_qemu = 1 ]; then
	apt-get $APTOPT install -y -qq --no-install-recommends -t bookworm-backports qemu-system-x86
fi
if [ $need_bindgen = 1 ]; then
	cargo install -q bindgen-cli --version "$BINDGEN_VERSION" --locked
fi
"$BINDGEN" --version | grep -q " $BINDGEN_VERSION\$" || { echo "deps: bindgen $BINDGEN_VERSION not usable" >&2; exit 1; }
/usr/bin/rustc --version >/dev/null || { echo "deps: /usr/bin/rustc (rustc-web) not usable" >&2; exit 1; }
