#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch, configure and build the pinned Linux 7.3.x that dxg is built and
# tested against, with the config fragments in tests/kernel/.
#
#   scripts/kernel.sh          build (or reuse) and print the build folder
#
# DXG_KERNEL_FLAVOUR picks the configuration:
#   test   (default) the guest-test kernel: base + debug (KASAN, lockdep,
#          kmemleak, hung-task detection) + shmem-gpuvm;
#   bench  the benchmark kernel: base + shmem-gpuvm + bench (event tracing),
#          without debug.config. KASAN and kmemleak record a stack trace for
#          every allocation, which under TCG costs more than everything else
#          a host round trip does (Documentation/benchmarks.rst), so
#          benchmarks run without them.
#
# The kernel-crate abstractions dxg needs and 7.3 lacks are carried as an
# upstream-form patch series, kernel/patches/ (applied in the order of its
# `series` file, with `patch -p1`, to a hard-linked copy of the pristine
# source, so the pristine tree stays as Debian shipped it).
#
# The build folder is ~/.cache/dxg/kernel/<version>-<hash>, where <hash>
# covers the fragments, the patch series, this script and the rustc/clang/
# bindgen versions: a warm run with nothing changed rebuilds nothing. The
# result is recorded in <build>/dxg-kernel.info (version, sha256 of the .deb,
# patches, toolchain).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${DXG_CACHE:-$HOME/.cache/dxg}
BINDGEN=${BINDGEN:-$HOME/.cargo/bin/bindgen}
KFLAGS="LLVM=-19 RUSTC=/usr/bin/rustc BINDGEN=$BINDGEN"
case "${DXG_KERNEL_FLAVOUR:-test}" in
test) FRAGS="$here/tests/kernel/base.config $here/tests/kernel/debug.config $here/tests/kernel/shmem-gpuvm.config" ;;
bench) FRAGS="$here/tests/kernel/base.config $here/tests/kernel/shmem-gpuvm.config $here/tests/kernel/bench.config" ;;
*) echo "kernel: DXG_KERNEL_FLAVOUR must be test or bench, not '$DXG_KERNEL_FLAVOUR'" >&2; exit 2 ;;
esac
PATCHES=$here/kernel/patches
SERIES=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$PATCHES/series")
log() { echo "kernel: $*" >&2; }

# --- 1. which linux-source-7.3 ---------------------------------------------
A=$CACHE/apt-trixie
mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$CACHE/kernel"
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
printf 'deb %s trixie main\ndeb %s trixie-backports main\n' "$mirror" "$mirror" >"$A/sources.list"
APTT=(-o Dir::Etc::SourceList="$A/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o Dir::State::Lists="$A/lists" -o Dir::Cache="$A/cache"
	-o Dir::State::status=/dev/null -o APT::Architecture=amd64 -o APT::Sandbox::User=root)
pinned=$(sed -n 's/^version=//p' "$here/tests/kernel/pin")

# A cached build of the pinned version needs no network at all.
# Bump RECIPE when a change below alters the build output (not for cosmetics).
RECIPE=2
patches_key() {
	(cd "$PATCHES" && cat series $SERIES) | sha256sum | cut -c1-12
}
key_src() {
	{ cat $FRAGS; echo "recipe $RECIPE"; echo "patches $(patches_key)"; /usr/bin/rustc --version
	  clang-19 --version | head -n1; "$BINDGEN" --version; } | sha256sum | cut -c1-12
}
key=$(key_src)
upstream() { echo "${1%%-*}"; }
# One build at a time: a second caller waits, then finds the build done.
exec 9>"$CACHE/kernel/.lock"
flock 9
bdir="$CACHE/kernel/$(upstream "$pinned")-$key"
if [ -f "$bdir/dxg-kernel.done" ]; then
	echo "$bdir"; exit 0
fi

if [ ! -f "$A/lists.stamp" ] || [ -n "$(find "$A/lists.stamp" -mmin +720)" ]; then
	apt-get "${APTT[@]}" update -qq >&2
	touch "$A/lists.stamp"
fi
offered=$(apt-cache "${APTT[@]}" madison linux-source-7.3 | awk -F'|' '{gsub(/ /,"",$2); print $2}')
if echo "$offered" | grep -qxF "$pinned"; then
	ver=$pinned
else
	ver=$(echo "$offered" | sort -V | tail -n1)
	[ -n "$ver" ] || { log "linux-source-7.3 is not offered by $mirror (trixie, trixie-backports)"; exit 1; }
	log "pinned $pinned is gone from the archive; using the newest 7.3.x on offer: $ver"
	log "update tests/kernel/pin to make this the pin"
fi
kver=$(upstream "$ver")
bdir="$CACHE/kernel/$kver-$key"
if [ -f "$bdir/dxg-kernel.done" ]; then echo "$bdir"; exit 0; fi

# --- 2. source -----------------------------------------------------------------
src="$CACHE/src/linux-source-$ver"
if [ ! -f "$src/.dxg-extracted" ]; then
	log "downloading linux-source-7.3=$ver"
	tmp=$(mktemp -d "$CACHE/dl.XXXXXX")
	(cd "$tmp" && apt-get "${APTT[@]}" download -qq "linux-source-7.3=$ver" >&2)
	deb=$(ls "$tmp"/linux-source-7.3_*.deb)
	sha=$(sha256sum "$deb" | cut -d' ' -f1)
	dpkg -x "$deb" "$tmp/x"
	rm -rf "$src"; mkdir -p "$src"
	tar -xf "$tmp"/x/usr/src/linux-source-7.3.tar.xz -C "$src" --strip-components=1
	echo "$sha" >"$src/.dxg-deb-sha256"
	touch "$src/.dxg-extracted"
	rm -rf "$tmp"
fi
sha=$(cat "$src/.dxg-deb-sha256")

# --- 2b. the patch series ------------------------------------------------------
# GNU patch writes each patched file anew (and renames it into place), so the
# hard links to the pristine tree are broken exactly for the patched files.
psrc="$CACHE/src/linux-source-$ver+dxg-$(patches_key)"
if [ ! -f "$psrc/.dxg-patched" ]; then
	log "applying kernel/patches ($(echo $SERIES | wc -w) patches) in $psrc"
	rm -rf "$psrc" "$psrc.tmp"
	cp -al "$src" "$psrc.tmp"
	for p in $SERIES; do
		if ! patch -d "$psrc.tmp" -p1 -s -N <"$PATCHES/$p" >&2; then
			log "patch $p does not apply to $ver"; rm -rf "$psrc.tmp"; exit 1
		fi
	done
	touch "$psrc.tmp/.dxg-patched"
	mv "$psrc.tmp" "$psrc"
fi
src=$psrc

# --- 3. configure --------------------------------------------------------------
mkdir -p "$bdir"
K=(make -s -C "$src" O="$bdir" $KFLAGS)
log "configuring $kver in $bdir"
"${K[@]}" tinyconfig >/dev/null
(cd "$bdir" && "$src/scripts/kconfig/merge_config.sh" -m -O "$bdir" .config $FRAGS >/dev/null)
"${K[@]}" olddefconfig >/dev/null
bad=0
for f in $FRAGS; do
	while read -r l; do
		case "$l" in ''|'#'\ CONFIG_*is\ not\ set) ;; '#'*) continue ;; esac
		[ -n "$l" ] || continue
		k=${l%%=*}; k=${k#\# }; k=${k%% *}
		got=$(grep -E "^$k=|^# $k is not set" "$bdir/.config" || echo absent)
		# An option whose dependencies are off is absent: that is "not set".
		[ "$got" = absent ] && [ "$l" = "# $k is not set" ] && continue
		if [ "$got" != "$l" ]; then log "config: wanted '$l' got '$got' ($f)"; bad=1; fi
	done <"$f"
done
[ $bad = 0 ] || { log "requested options did not take (see above)"; exit 1; }

# --- 4. build ------------------------------------------------------------------
log "building $kver (cold: ~10 min on 2 cores)"
"${K[@]}" -j"$(nproc)" all >&2
"${K[@]}" headers >/dev/null
{
	echo "version=$ver"; echo "deb_sha256=$sha"; echo "key=$key"
	echo "patches=$(echo $SERIES)"
	echo "rustc=$(/usr/bin/rustc --version)"; echo "bindgen=$("$BINDGEN" --version)"
	echo "clang=$(clang-19 --version | head -n1)"
	grep CONFIG_RUSTC_VERSION_TEXT "$bdir/.config"
} >"$bdir/dxg-kernel.info"
echo "$src" >"$bdir/dxg-kernel.src"
touch "$bdir/dxg-kernel.done"
log "built $(cat "$bdir/include/config/kernel.release") in $bdir"
echo "$bdir"
