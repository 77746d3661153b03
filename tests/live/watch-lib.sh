# Helpers for the watch-*.test live tests; sourced after tests/lib.sh.
require_root; require_pinload; require_jq
# the watch tests munmap and MADV_DONTNEED registered buffers: orphaned pins
orphan_lock

# start_watch OUT ARGS...: pininspect in the background (W_PID), ready once
# the NDJSON start object is out (the baseline is taken).
start_watch() {
	local out="$1"; shift
	: >"$out"	# the background job truncates it too late for the check below
	"$PININSPECT" "$@" >"$out" 2>"$out.err" 9>&- &
	W_PID=$!
	for _ in $(seq 200); do
		grep -q '"type":"start"' "$out" 2>/dev/null && return 0
		kill -0 "$W_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# usr1 PLOUT PID: run pinload's --on-usr1 actions and wait until it reports them
usr1() {
	local n
	n=$(grep -c '"event": "usr1"' "$1")
	kill -USR1 "$2"
	for _ in $(seq 100); do
		[ "$(grep -c '"event": "usr1"' "$1")" -gt "$n" ] && return 0
		sleep 0.05
	done
	return 1
}

# wait_watch: wait for W_PID, return its exit status
wait_watch() { wait "$W_PID"; }

# transitions OUT [KIND]: "start end pages" (decimal) of transition objects
transitions() {
	jq -r --arg k "${2:-}" 'select(.type == "transition" and ($k == "" or .transition == $k))
		| "\(.start) \(.end) \(.pages)"' "$1" | while read -r s e p; do
		printf '%d %d %d\n' "$s" "$e" "$p"; done
}

# buffer_range PLOUT N: "start end" of pinload buffer N in decimal
buffer_range() {
	jq -r --argjson n "$2" 'select(.buffers) | .buffers[$n] | "\(.addr) \(.len)"' "$1" | head -1 |
		{ read -r a l; printf '%d %d\n' "$a" $((a + l)); }
}

instance_of() { [ -d "/sys/kernel/tracing/instances/pininspect-$1" ]; }

# tests of the tracepoint side need tracefs (watch mounts it itself as well)
require_tracefs() {
	[ -d /sys/kernel/tracing/instances ] ||
		mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
	[ -d /sys/kernel/tracing/instances ] || skip_all "tracefs unavailable (no instances directory)"
}
