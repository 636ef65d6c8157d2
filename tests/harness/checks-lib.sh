# SPDX-License-Identifier: GPL-2.0
# Shared by host-checks.sh and module-checks.sh (sourced, after they set
# `summary` and `filter`).

want() { # run a check only if no filter is given or it matches the name
	[ -z "$filter" ] && return 0
	local p
	for p in ${filter//,/ }; do
		case "$1" in *$p*) return 0 ;; esac
	done
	return 1
}
result() { echo "$1" | tee -a "$summary"; }
