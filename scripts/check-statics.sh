#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dxg keeps no driver-owned global mutable state: per-VM and per-adapter
# state lives in objects owned by devices. The only statics allowed are
# module registrations (the module! object, its parameters) and constant
# tables (ID tables, ops, ioctl descriptors).
#
#   scripts/check-statics.sh SRCDIR [MODULE.ko ...]
#
# 1. Lists every static item and every file-scope C variable in the module's
#    Rust and C sources (SRCDIR without proto/, uapi/, tests/) with its
#    verdict: a Rust `static`, a `global_lock!` or a writable C file-scope
#    variable is refused; `const` items and `static const` C tables are fine.
# 2. For each built module, lists every writable data symbol (.data, .bss;
#    `.data.rel.ro` is relocated read-only data, i.e. constant tables) and
#    refuses any that is not a module registration, a lockdep class key
#    (the keys the lock initialisers create, which only lockdep writes) or,
#    in a KASAN build, the compiler's global descriptors and ODR indicators.
#    This catches what macros expand to, which the source scan cannot see.
#
# Prints one line per item; exits 1 if anything was refused.
set -uo pipefail

src=${1:?usage: check-statics.sh SRCDIR [MODULE.ko ...]}
shift
bad=0
# Driver structures the module registers (static, written only by the
# driver core while registered) are module registrations, like the Rust
# ones inside the module object.
drivers='hv_driver|auxiliary_driver|pci_driver|platform_driver'
registrations=
say() { printf '%-7s %s\n' "$1" "$2"; [ "$1" = REFUSED ] && bad=1; return 0; }

files=$(cd "$src" && find . \( -path ./proto -o -path ./uapi -o -path ./tests -o -path ./target \
	-o -path ./out -o -path ./.git \) -prune -o \( -name '*.rs' -o -name '*.c' -o -name '*.h' \) \
	-print | sed 's|^\./||' | grep -v '_generated\.rs$' | sort)

# --- 1. sources --------------------------------------------------------------
for f in $files; do
	case "$f" in
	*.rs)
		# `static` items (also `static mut`, in macros), global locks;
		# not in comments.
		while IFS= read -r l; do
			say REFUSED "$f:${l%%:*}: Rust static: ${l#*:}"
		done < <(grep -nE '(^|[[:space:](])static[[:space:]]+(mut[[:space:]]+)?[A-Za-z_][A-Za-z0-9_]*[[:space:]]*:|global_lock!' "$src/$f" |
			grep -vE '^[0-9]+:[[:space:]]*//')
		;;
	*.c|*.h)
		# File-scope objects: lines at column 0 that declare a variable
		# (no parenthesis before '=', ';' or '['), or DEFINE_*() objects.
		# A constant is `const T name` (no pointer) or `T *const name`;
		# `const T *name` is a writable pointer.
		while IFS= read -r l; do
			decl=${l#*:}
			lhs=${decl%%[=;[]*}
			if [[ "$lhs" =~ ^static[[:space:]]+struct[[:space:]]+($drivers)[[:space:]]+([A-Za-z_0-9]+)[[:space:]]*$ ]]; then
				say ok "$f:${l%%:*}: module registration (driver): $decl"
				registrations+=" ${BASH_REMATCH[2]}"
			elif [[ "$lhs" =~ \*[[:space:]]*const[[:space:]] ]] ||
				{ [[ "$lhs" =~ ^(static[[:space:]]+)?const[[:space:]] ]] && [[ "$lhs" != *'*'* ]]; }; then
				say ok "$f:${l%%:*}: constant: $decl"
			else
				say REFUSED "$f:${l%%:*}: writable C object: $decl"
			fi
		done < <(grep -nE '^(static[[:space:]]+)?(const[[:space:]]+)?(struct|union|enum|unsigned|signed|int|long|char|bool|u8|u16|u32|u64|s32|s64|size_t)[^(]*(=|;|\[)|^(static[[:space:]]+)?DEFINE_[A-Z_]+\(' "$src/$f" |
			grep -vE '^[0-9]+:(struct|union|enum)[[:space:]]+[a-z_0-9]+[[:space:]]*[;{]|^[0-9]+:typedef|^[0-9]+:extern')
		;;
	esac
done

# --- 2. built modules ----------------------------------------------------------
NM=${NM:-llvm-nm-19}
READELF=${READELF:-llvm-readelf-19}
for ko in "$@"; do
	if [ ! -f "$ko" ]; then say REFUSED "$ko: no such module"; continue; fi
	# Section index -> name, then every defined object symbol with its section.
	syms=$("$READELF" -W --sections --symbols --demangle "$ko" 2>/dev/null | awk '
		/^ *\[ *[0-9]+\]/ { s = $0; sub(/^ *\[ */, "", s); n = s + 0; sub(/^[0-9]+\] */, "", s)
			split(s, a, " "); sec[n] = a[1]; next }
		$4 == "OBJECT" && $7 ~ /^[0-9]+$/ { name = $8; for (i = 9; i <= NF; i++) name = name " " $i
			print sec[$7] "\t" $3 "\t" name }')
	# KASAN builds: the compiler describes every instrumented global in an
	# unnamed array of struct kasan_global (64 bytes each, registered with
	# __asan_register_globals()) and gives each global an ODR indicator.
	kasan=0
	if "$NM" -u "$ko" 2>/dev/null | grep '__asan_register_globals' >/dev/null; then kasan=1; fi
	while IFS=$'\t' read -r sec size name; do
		[ -n "$sec" ] || continue
		case "$sec" in
		.data.rel.ro*|.rodata*|.modinfo|__param|__ksymtab*|.gnu.linkonce.this_module|__versions|.init.rodata*)
			kind=const ;;
		.data*|.bss*|.init.data*) kind=writable ;;
		*) kind=other ;;
		esac
		[ "$kind" = writable ] || continue
		case "$name" in
		*::__MOD|*::THIS_MODULE|__this_module|*::module_parameters::*|*__param_str*|*__UNIQUE_ID_*)
			say ok "$(basename "$ko"): $sec $name (module registration)" ;;
		*::CLASS|__key.*|*::__key*)
			say ok "$(basename "$ko"): $sec $name (lockdep class key)" ;;
		__odr_asan_gen_*)
			if [ $kasan = 1 ]; then say ok "$(basename "$ko"): $sec $name (KASAN ODR indicator)"
			else say REFUSED "$(basename "$ko"): $sec $name (writable global)"; fi ;;
		__unnamed_*|anon.*)
			if [ $kasan = 1 ] && [ $((size % 64)) = 0 ]; then
				say ok "$(basename "$ko"): $sec $name, $size bytes (KASAN global descriptors)"
			else say REFUSED "$(basename "$ko"): $sec $name, $size bytes (writable global)"; fi ;;
		*)
			if [[ " $registrations " == *" $name "* ]]; then
				say ok "$(basename "$ko"): $sec $name (module registration: driver)"
			else
				say REFUSED "$(basename "$ko"): $sec $name (writable global)"
			fi ;;
		esac
	done <<<"$syms"
done

if [ $bad != 0 ]; then
	echo "check-statics: driver-owned global state found (see REFUSED lines)"
	exit 1
fi
echo "check-statics: no driver-owned global mutable state"
