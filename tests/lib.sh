# Shared helpers for the TAP shell tests. Source it; then plan, ok, skip_all.
: "${top_builddir:=$(cd "$(dirname "$0")/../.." 2>/dev/null && pwd)}"
: "${PININSPECT:=$top_builddir/pininspect}"
PINLOAD="$top_builddir/tests/helpers/pinload"
MKFIXTURE="$top_builddir/tests/helpers/mkfixture"
tap_n=0
tap_failed=0

skip_all() { echo "1..0 # SKIP $*"; exit 0; }
ok() { # ok COND-EXIT-STATUS DESCRIPTION
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $tap_n - $2"; else echo "not ok $tap_n - $2"; tap_failed=$((tap_failed + 1)); fi
}
check() { # check DESCRIPTION COMMAND...
	local d="$1"; shift
	"$@"; ok $? "$d"
}
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP $*"; }
diag() { echo "# $*" | sed '2,$s/^/# /'; }
done_testing() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; exit $?; }

require_root() { [ "$(id -u)" = 0 ] || skip_all "needs root"; }
require_pinload() { [ -x "$PINLOAD" ] || skip_all "pinload not built (liburing-dev missing)"; }
require_jq() { command -v jq >/dev/null || skip_all "jq not installed"; }

# orphan_lock [-s]: pinned pages that no process maps (a registered buffer
# munmapped or MADV_DONTNEEDed, a ring outliving its process) are matched
# to holders by page counts, so two tests' orphans at once get mixed up, and
# a churn of exiting pinning processes lands among them. Tests that make
# orphans or churn, or assert whose orphans are whose, hold this lock
# exclusively until they exit; -s (shared) only keeps those out. Children
# (pinload) do not inherit it.
orphan_lock() {
	exec 9>>"${TMPDIR:-/tmp}/pininspect-orphans.lock"
	flock "${1:--x}" -w 900 9 2>/dev/null || diag "orphan lock not taken in 900 s"
}

# start_pinload OUTFILE ARGS...: runs pinload fed by a pipe that we hold open;
# sets PL_PID (pinload's pid). Stopped by stop_pinload (and on EXIT).
PL_PIDS=""
start_pinload() {
	local out="$1"; shift
	: >"$out"
	"$PINLOAD" --no-stdin "$@" >"$out" 2>"$out.err" 9>&- &
	PL_PID=$!
	PL_PIDS="$PL_PIDS $PL_PID"
	for _ in $(seq 100); do
		grep -q '"pid"' "$out" 2>/dev/null && return 0
		kill -0 "$PL_PID" 2>/dev/null || break
		sleep 0.05
	done
	wait "$PL_PID" 2>/dev/null
	PL_STATUS=$?
	return 1
}
stop_pinload() {
	for p in $PL_PIDS; do kill "$p" 2>/dev/null; done
	for p in $PL_PIDS; do wait "$p" 2>/dev/null; done
	PL_PIDS=""
}
trap stop_pinload EXIT
