#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/watch-overhead.sh: CPU cost of `pininspect --watch` (issue 4,
# deliver 6). Not a test, not part of make check.
#
# Two pinload targets of the same size live side by side: one with
# WB_PINNED_GIB registered as io_uring buffers ("pinned"), one with nothing
# registered ("baseline": the same watch, event handling and scans of the
# mappings, but no pinned pages to diff). Each is watched by its own
# `pininspect --watch --json --duration=WB_SECS` at the default interval,
# both at once, under GNU time (user + sys of the watcher from getrusage):
#   1. idle: nothing else happens;
#   2. storm: a loop writes 1 to /proc/sys/vm/compact_memory for the whole
#      watch (every compaction event wakes both watchers).
# It prints and writes a Markdown table: CPU seconds, % of one core, scans,
# events seen, and a one-shot `pininspect PID` of the pinned target for
# scale.
#
#   sudo bench/watch-overhead.sh              # 4 GiB, 1 GiB pinned, 60 s each
#
# Environment:
#   WB_GIB          target size in GiB (default 4)
#   WB_PINNED_GIB   pinned part in GiB (default 1; io_uring buffers of <= 512M)
#   WB_SECS         seconds per phase (default 60)
#   WB_OUT          results file (default bench/watch-overhead-<UTC date>.md;
#                   each run appends its table)
#   WB_NO_BUILD=1   do not run make in the tree
# Needs root (tracefs, PFNs), GNU time (apt install time), jq, /proc/sys/vm/
# compact_memory for the storm phase, and free memory for 2 x WB_GIB.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
gib=${WB_GIB:-4}
pgib=${WB_PINNED_GIB:-1}
secs=${WB_SECS:-60}
out=${WB_OUT:-$top/bench/watch-overhead-$(date -u +%F).md}
pi=$top/pininspect
pl=$top/tests/helpers/pinload

die() { echo "watch-overhead: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (tracefs and PFNs need it)"
[ -x /usr/bin/time ] || die "GNU time missing (apt install time)"
command -v jq >/dev/null || die "jq missing"
[ -w /proc/sys/vm/compact_memory ] || die "no /proc/sys/vm/compact_memory (CONFIG_COMPACTION off)"

if [ "${WB_NO_BUILD:-0}" != 1 ]; then
	(cd "$top" && make -j2 pininspect tests/helpers/pinload >/dev/null) ||
		die "make failed"
fi

tmp=$(mktemp -d /tmp/pininspect-watchbench.XXXXXX)
pids=""
storm=""
cleanup() {
	[ -n "$storm" ] && kill "$storm" 2>/dev/null
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# start_target NAME ARGS...: pinload in the background, its pid in $tpid
start_target() {
	local name=$1
	shift
	"$pl" --no-stdin --size="${gib}G" "$@" >"$tmp/$name.pl" 2>"$tmp/$name.pl.err" &
	pids="$pids $!"
	for _ in $(seq 1200); do
		grep -q '"pid"' "$tmp/$name.pl" && break
		kill -0 $! 2>/dev/null || die "pinload $name: $(cat "$tmp/$name.pl.err")"
		sleep 0.05
	done
	tpid=$(jq -r 'select(.pid) | .pid' "$tmp/$name.pl" | head -n 1)
	[ -n "$tpid" ] || die "pinload $name did not start"
}

# buffers of at most 512 MiB (io_uring's per-buffer limit is 1 GiB)
bufs=()
off=0
while [ $off -lt $((pgib * 1024)) ]; do
	len=$((pgib * 1024 - off))
	[ $len -gt 512 ] && len=512
	bufs+=("--buffer=${off}M:${len}M")
	off=$((off + len))
done
start_target pinned "${bufs[@]}"
ppid=$tpid
start_target baseline --no-buffers
bpid=$tpid
vmpin=$(jq -r 'select(.pid) | .vmpin_kib' "$tmp/pinned.pl" | head -n 1)
echo "targets: pinned pid $ppid (${gib} GiB, VmPin ${vmpin} kB), baseline pid $bpid (${gib} GiB, nothing pinned)"

# one-shot report of the pinned target, for scale
/usr/bin/time -f '%U %S %e' -o "$tmp/oneshot.time" "$pi" "$ppid" >/dev/null 2>"$tmp/oneshot.err" ||
	die "pininspect $ppid: $(cat "$tmp/oneshot.err")"

# watch NAME PID: pininspect --watch under GNU time, in the background
watch() {
	/usr/bin/time -f '%U %S %e' -o "$tmp/$1.time" \
		"$pi" --watch --json --duration="$secs" "$2" >"$tmp/$1.json" 2>"$tmp/$1.err" &
	wpids="$wpids $!"
}

# phase NAME: both watchers at once, then a table row for each
rows=""
phase() {
	wpids=""
	watch "$1-pinned" "$ppid"
	watch "$1-baseline" "$bpid"
	if [ "$1" = storm ]; then
		( n=0; while :; do echo 1 >/proc/sys/vm/compact_memory; n=$((n + 1)); echo $n >"$tmp/storm.n"; done ) &
		storm=$!
	fi
	for w in $wpids; do wait "$w" || die "watch $1 failed: $(cat "$tmp/$1"-*.err)"; done
	if [ -n "$storm" ]; then
		kill "$storm" 2>/dev/null
		wait "$storm" 2>/dev/null || true
		storm=""
	fi
	for t in pinned baseline; do
		read -r u s e <"$tmp/$1-$t.time"
		sum=$(grep '"type":"summary"' "$tmp/$1-$t.json" | tail -n 1)
		scans=$(echo "$sum" | jq '.processes[0].scans')
		full=$(echo "$sum" | jq '.processes[0].full_scans')
		pages=$(echo "$sum" | jq '.processes[0].pinned_pages')
		ev=$(echo "$sum" | jq '[.events[]] | add')
		comp=$(echo "$sum" | jq '[.events | to_entries[] | select(.key | startswith("compaction:")) | .value] | add')
		row=$(awk -v u="$u" -v s="$s" -v e="$e" 'BEGIN { printf "%.2f | %.2f | %.2f | %.1f | %.2f%%", u, s, u + s, e, (u + s) / e * 100 }')
		rows="$rows| $1 | $t | $pages | $row | $scans ($full full) | $ev ($comp compaction) |
"
		echo "$1 $t: user+sys $(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }') s over $e s, $scans scans, $ev events"
	done
}

echo "phase idle: ${secs} s"
phase idle
echo "phase storm: ${secs} s with compact_memory in a loop"
phase storm
storms=$(cat "$tmp/storm.n" 2>/dev/null || echo 0)

read -r ou os oe <"$tmp/oneshot.time"
{
	echo
	echo "## $(date -u '+%F %H:%M') UTC: pininspect --watch overhead, $(git -C "$top" describe --always --dirty 2>/dev/null)"
	echo
	echo "Host: $(uname -r), $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, swap: $(awk 'NR > 1' /proc/swaps | wc -l) devices."
	echo "Targets: two pinload processes of ${gib} GiB (4k pages), one with ${pgib} GiB registered as io_uring buffers (VmPin ${vmpin} kB), one with none."
	echo "Each watched by \`pininspect --watch --json --duration=${secs}\` (default interval, source $(jq -r 'select(.type == "start") | .source' "$tmp/idle-pinned.json")), both at once."
	echo "Storm: \`echo 1 > /proc/sys/vm/compact_memory\` in a loop for the whole phase ($storms full compactions)."
	echo "CPU: user + sys of the watcher (GNU time, getrusage), startup and final summary included; % of one core = CPU / wall."
	echo
	echo "| phase | target | pinned pages | user s | sys s | CPU s | wall s | % of one core | scans | events |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s' "$rows"
	echo
	echo "For scale: one \`pininspect PID\` report of the pinned target: $(awk -v u="$ou" -v s="$os" 'BEGIN { printf "%.2f", u + s }') s CPU, $oe s wall."
	echo
	echo "Rerun: \`sudo bench/watch-overhead.sh\` (WB_GIB, WB_PINNED_GIB, WB_SECS: see its header)."
} | tee -a "$out"
echo "appended to $out"
