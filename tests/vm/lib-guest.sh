# SPDX-License-Identifier: GPL-2.0
# Sourced by the guest scripts (tests/vm/guest-*.sh, busybox sh): the TAP
# line of a check and the start of a pinload.

# ok COMMAND...: "ok - $T" when COMMAND succeeds, else "not ok - $T"
ok() { if "$@" >/dev/null 2>&1; then echo "ok - $T"; else echo "not ok - $T"; fi; }

# start_pinload OUT ERR ARGS...: pinload --no-stdin ARGS in the background,
# its pid in plpid; waits (10 s at most) for the JSON line it prints once
# its buffers are registered. Fails when that line did not come.
start_pinload() {
	_out=$1 _err=$2
	shift 2
	pinload --no-stdin "$@" >"$_out" 2>"$_err" &
	plpid=$!
	_i=0
	while [ $_i -lt 100 ] && ! grep -q '"pid"' "$_out" && kill -0 $plpid 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
	grep -q '"pid"' "$_out"
}
