#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module a user installs (`make module`) carries no test machinery and
# the aliases that make udev load it on Hyper-V:
#
#   scripts/check-production.sh out/module/prod/dxg.ko
#
# - parameters: only job_timeout_ms and timeout_ms (no `loopback`, no `standin`);
# - aliases: the vGPU PCI functions 1414:008E and 1414:008A, and both VMBus
#   channel classes (VM-level DDE9CBC0-5060-4436-9448-EA1254A5D177, per-vGPU
#   6E382D18-3336-4F4B-ACC4-2B7703D4DF4A, as modpost spells them: the GUID's
#   bytes in memory order); nothing on the auxiliary bus;
# - symbols and strings: nothing of the loopback transport or the stand-in.
#
# Prints one line per check; exits 1 if any failed.
set -u
ko=${1:?usage: check-production.sh MODULE.ko}
NM=${NM:-llvm-nm-19}
bad=0
ok() { echo "ok      $*"; }
no() { echo "FAILED  $*"; bad=1; }

[ -f "$ko" ] || { echo "check-production: $ko: no such module"; exit 1; }

parms=$(modinfo -F parm "$ko" | cut -d: -f1 | sort | tr '\n' ' ')
if [ "$parms" = "job_timeout_ms timeout_ms " ]; then ok "parameters: $parms"
else no "parameters: '$parms' (want only job_timeout_ms, timeout_ms)"; fi

aliases=$(modinfo -F alias "$ko")
for want in 'pci:v00001414d0000008Esv*sd*bc*sc*i*' 'pci:v00001414d0000008Asv*sd*bc*sc*i*' \
	'vmbus:c0cbe9dd605036449448ea1254a5d177' 'vmbus:182d386e36334b4facc42b7703d4df4a'; do
	if grep -qxF "$want" <<<"$aliases"; then ok "alias $want"; else no "alias $want missing"; fi
done
n=$(grep -c . <<<"$aliases")
if [ "$n" = 4 ]; then ok "4 aliases, no other"
else no "$n aliases, want 4: $(tr '\n' ' ' <<<"$aliases")"; fi

test_syms=$("$NM" --defined-only --demangle "$ko" | grep -iE 'loopback|standin|stand_in|add_dynid' | head -n 5)
if [ -z "$test_syms" ]; then ok "no loopback or stand-in symbols"
else no "test symbols: $(tr '\n' ' ' <<<"$test_syms")"; fi

test_strs=$(strings -a "$ko" | grep -E 'dxg-loopback|pci-testdev|standin=|loopback=' | head -n 5)
if [ -z "$test_strs" ]; then ok "no loopback or stand-in strings"
else no "test strings: $(tr '\n' ' ' <<<"$test_strs")"; fi

if [ $bad != 0 ]; then
	echo "check-production: the production module is not as it should be (see FAILED lines)"
	exit 1
fi
echo "check-production: job_timeout_ms and timeout_ms only, 4 aliases (PCI 008E/008A, VMBus VM/vGPU), no test machinery"
