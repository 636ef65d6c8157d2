#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch (or reuse) the IGT test programs the guest runs against dxg
# (tests/guest/igt-generic.sh), as pinned in tests/igt/pin (which says why
# these are Debian's binaries rather than a source build). Prints the folder:
#
#   ~/.cache/dxg/igt/<version>-<hash>/bin/   the test programs
#   ~/.cache/dxg/igt/<version>-<hash>/lib/   libigt and what trixie lacks
#   ~/.cache/dxg/igt/<version>-<hash>/igt.info   packages, versions, sha256
#
# <hash> covers the pin, the test list and RECIPE: a warm run with nothing
# changed needs no network and unpacks nothing. The guest runs the programs
# with LD_LIBRARY_PATH=<folder>/lib; their other libraries come from the
# rootfs (its package list in scripts/rootfs.sh names them).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${DXG_CACHE:-$HOME/.cache/dxg}
PIN=$here/tests/igt/pin
# The generic DRM tests of issue #5 (core_setmaster_vs_auth comes with
# core_setmaster's family) and vgem_basic, for the reference run on vgem.
TESTS="core_getversion core_getclient core_getstats core_auth core_setmaster
core_setmaster_vs_auth core_sysfs core_debugfs syncobj_basic syncobj_wait
syncobj_timeline syncobj_eventfd core_hotunplug vgem_basic"
LIBS="libigt.so.0 libi915_perf.so.1.5 libdrm_amdgpu.so.1"
# Bump when a change below alters the output folder.
RECIPE=1
log() { echo "igt: $*" >&2; }

suite=$(sed -n 's/^suite=//p' "$PIN")
mapfile -t debs < <(sed -n 's/^deb //p' "$PIN")
igtver=$(printf '%s\n' "${debs[@]}" | awk '$1 == "igt-gpu-tools-tests" { sub(/-[^-]*$/, "", $2); print $2 }')
key=$({ grep -v '^#' "$PIN"; echo "$TESTS $LIBS recipe $RECIPE"; } | sha256sum | cut -c1-12)
dir="$CACHE/igt/$igtver-$key"
if [ -f "$dir.done" ]; then echo "$dir"; exit 0; fi

# --- 1. the .debs (cached; apt checks them against the signed index) -------
D=$CACHE/igt/debs
A=$CACHE/apt-$suite
mkdir -p "$D" "$A/lists/partial" "$A/cache/archives/partial"
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
printf 'deb %s %s main\n' "$mirror" "$suite" >"$A/sources.list"
APTT=(-o Dir::Etc::SourceList="$A/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o Dir::State::Lists="$A/lists" -o Dir::Cache="$A/cache"
	-o Dir::State::status=/dev/null -o APT::Architecture=amd64 -o APT::Sandbox::User=root)
updated=0
for line in "${debs[@]}"; do
	read -r name ver sha <<<"$line"
	f="$D/${name}_${ver}_amd64.deb"
	if [ -f "$f" ] && echo "$sha  $f" | sha256sum -c --quiet 2>/dev/null; then continue; fi
	if [ $updated = 0 ]; then
		apt-get "${APTT[@]}" update -qq >&2
		updated=1
	fi
	if ! apt-cache "${APTT[@]}" madison "$name" | awk -F'|' '{gsub(/ /,"",$2); print $2}' | grep -qxF "$ver"; then
		offered=$(apt-cache "${APTT[@]}" madison "$name" | awk -F'|' '{gsub(/ /,"",$2); print $2}' | sort -V | tail -n1)
		log "pinned $name=$ver is gone from $suite (on offer: ${offered:-nothing}); update tests/igt/pin"
		exit 1
	fi
	log "downloading $name=$ver ($suite)"
	(cd "$D" && apt-get "${APTT[@]}" download -qq "$name=$ver" >&2)
	echo "$sha  $f" | sha256sum -c --quiet ||
		{ log "$f: sha256 differs from tests/igt/pin"; rm -f "$f"; exit 1; }
done

# --- 2. unpack what the guest needs --------------------------------------------
rm -rf "$dir" "$dir.tmp"
mkdir -p "$dir.tmp/x" "$dir.tmp/bin" "$dir.tmp/lib"
{
	echo "# scripts/igt.sh from tests/igt/pin (suite $suite)"
	for line in "${debs[@]}"; do
		read -r name ver sha <<<"$line"
		dpkg -x "$D/${name}_${ver}_amd64.deb" "$dir.tmp/x"
		echo "$name $ver $sha"
	done
} >"$dir.tmp/igt.info"
for t in $TESTS; do
	cp "$dir.tmp/x/usr/libexec/igt-gpu-tools/$t" "$dir.tmp/bin/" ||
		{ log "$t is not in igt-gpu-tools-tests $igtver"; exit 1; }
done
for l in $LIBS; do
	cp -L "$dir.tmp/x/usr/lib/x86_64-linux-gnu/$l" "$dir.tmp/lib/" ||
		{ log "$l is not in the pinned packages"; exit 1; }
done
rm -rf "$dir.tmp/x"
mv "$dir.tmp" "$dir"
touch "$dir.done"
log "igt-gpu-tools $igtver: $(echo $TESTS | wc -w) test programs in $dir"
echo "$dir"
