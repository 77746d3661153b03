#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/audit-all.sh: `pininspect --audit --all` on this host with N idle
# processes plus one pinload (issue 5, Deliver 6). A benchmark, not a test:
# not part of make check. Needs root (--all reads every process), python3
# (wall clock, wait4 rusage), GNU time for peak RSS (apt install time) and
# pinload (liburing).
#
#   sudo bench/audit-all.sh                   # 500 idle processes, 5 runs
#   sudo BENCH_IDLE=2000 bench/audit-all.sh
#
# Measured, each a median of BENCH_RUNS runs after one warm-up:
#   baseline   --audit --all with the host's processes plus pinload, with
#              the default pin source and with --source=io_uring (no BPF
#              program to load: shows the per-process part alone)
#   loaded     the same with BENCH_IDLE `sleep` children added
#   ps -e      procps on the loaded host (libproc2, like --all)
#   /proc walk cat /proc/[0-9]*/status on the loaded host (the floor: one
#              status read per process, which --all also does)
#
# Environment:
#   BENCH_IDLE        idle processes to add (default 500)
#   BENCH_RUNS        timed runs per command (default 5)
#   BENCH_PINLOAD     pinload arguments (default "-s 64M -b 0:16M")
#   BENCH_OUT         results file (default bench/audit-all-<UTC date>.md;
#                     each run appends its table)
#   BENCH_NO_BUILD=1  do not run make in the tree
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
idle=${BENCH_IDLE:-500}
runs=${BENCH_RUNS:-5}
pinload_args=${BENCH_PINLOAD:--s 64M -b 0:16M}
out=${BENCH_OUT:-$top/bench/audit-all-$(date -u +%F).md}

if [ "$(id -u)" != 0 ]; then
	echo "bench: run as root (--audit --all reads every process)" >&2
	exit 1
fi
command -v python3 >/dev/null || { echo "bench: python3 missing" >&2; exit 1; }
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
	make -C "$top" -j2 pininspect tests/helpers/pinload >/dev/null
fi
PININSPECT=$top/pininspect
PINLOAD=$top/tests/helpers/pinload
[ -x "$PINLOAD" ] || { echo "bench: pinload not built (liburing missing)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/pininspect-bench-audit.XXXXXX)
children=()
cleanup() {
	# the sleeps and pinload we started, by pid; nothing else
	if [ ${#children[@]} -gt 0 ]; then
		kill "${children[@]}" 2>/dev/null || true
	fi
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# pinload: pinned pages for --all to find
# shellcheck disable=SC2086
"$PINLOAD" --no-stdin --comm=bench-audit-pin $pinload_args >"$tmp/pinload.out" 2>"$tmp/pinload.err" &
children+=($!)
pl=$!
for _ in $(seq 100); do
	[ -s "$tmp/pinload.out" ] && break
	kill -0 "$pl" 2>/dev/null || break
	sleep 0.05
done
if ! [ -s "$tmp/pinload.out" ]; then
	echo "bench: pinload did not start: $(cat "$tmp/pinload.err")" >&2
	exit 1
fi

# median of a column of numbers
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# one run of CMD...: "wall cpu rss_kib". Wall: monotonic clock; CPU: user +
# sys from wait4 rusage (to the microsecond where GNU time gives 10 ms); peak
# RSS from GNU time around CMD when present (wait4's ru_maxrss would count
# the python process that forked it).
runone() {
	python3 -c '
import os, sys, tempfile, time
argv = sys.argv[1:]
rss = None
if os.access("/usr/bin/time", os.X_OK):
    rss = tempfile.NamedTemporaryFile(prefix="bench-rss.")
    argv = ["/usr/bin/time", "-f", "%M", "-o", rss.name] + argv
t = time.monotonic()
pid = os.fork()
if pid == 0:
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1); os.dup2(fd, 2)
    os.execvp(argv[0], argv)
_, _, ru = os.wait4(pid, 0)
wall = time.monotonic() - t
maxrss = ru.ru_maxrss
if rss is not None:
    try:
        maxrss = int(open(rss.name).read().split()[-1])
    except (ValueError, IndexError):
        pass
print("%.6f %.6f %d" % (wall, ru.ru_utime + ru.ru_stime, maxrss))
' "$@"
}

# measure NAME CMD...: one warm-up, then $runs runs; leaves "wall cpu
# rss_kib" medians in $tmp/NAME.res
measure() {
	local name=$1; shift
	runone "$@" >/dev/null
	: >"$tmp/$name.runs"
	for _ in $(seq "$runs"); do
		runone "$@" >>"$tmp/$name.runs"
	done
	printf '%s %s %s\n' \
		"$(awk '{ print $1 }' "$tmp/$name.runs" | median)" \
		"$(awk '{ print $2 }' "$tmp/$name.runs" | median)" \
		"$(awk '{ print $3 }' "$tmp/$name.runs" | median)" >"$tmp/$name.res"
}

# what --all saw: seen, audited, skipped, found pinload, scan duration
audit_stats() {
	"$PININSPECT" --audit --all -J 2>/dev/null >"$tmp/stats.json" || true
	if command -v jq >/dev/null; then
		jq -r --argjson p "$pl" '"\(.stats.processes_seen) \(.stats.processes_audited) \(.stats.processes_without_pins) \([.processes[] | select(.pid == $p)] | length) \(.duration_seconds)"' "$tmp/stats.json"
	else
		echo "? ? ? ? ?"
	fi
}
default_source=$("$PININSPECT" --audit -J $$ 2>/dev/null | sed -n 's/.*"source": *"\([^"]*\)".*/\1/p' | head -1)
[ -n "$default_source" ] || default_source="see pininspect --probe"
nprocs() { local a=(/proc/[0-9]*); echo ${#a[@]}; }
nproc_before=$(nprocs)
read -r b_seen b_aud b_skip b_found b_dur <<<"$(audit_stats)"
measure baseline "$PININSPECT" --audit --all
measure baseline_iou "$PININSPECT" --audit --all --source=io_uring
measure ps0 ps -e
measure walk0 bash -c 'cat /proc/[0-9]*/status >/dev/null 2>&1'

# the idle processes
for _ in $(seq "$idle"); do
	sleep 600 &
	children+=($!)
done
sleep 0.5
nproc_after=$(nprocs)
read -r l_seen l_aud l_skip l_found l_dur <<<"$(audit_stats)"
measure loaded "$PININSPECT" --audit --all
measure loaded_iou "$PININSPECT" --audit --all --source=io_uring
measure ps1 ps -e
measure walk1 bash -c 'cat /proc/[0-9]*/status >/dev/null 2>&1'
load=$(cut -d' ' -f1-3 /proc/loadavg)

res() { cat "$tmp/$1.res"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'; }
row() {
	local label=$1 name=$2 procs=$3 ref=$4
	read -r w c r <<<"$(res "$name")"
	read -r rw rc _ <<<"$(res "$ref")"
	printf '| %s | %s | %.4f s | %.4f s | %.1f MiB | %s | %s |\n' "$label" "$procs" "$w" "$c" \
		"$(awk -v r="$r" 'BEGIN { print r / 1024 }')" "$(ratio "$w" "$rw")" "$(ratio "$c" "$rc")"
}
# per_proc LOADED BASELINE FIELD: (loaded - baseline) / idle in ms
per_proc() { paste "$tmp/$1.res" "$tmp/$2.res" | awk -v f="$3" -v n="$idle" '{ printf "%.3f", ($f - $(f + 3)) * 1000 / n }'; }
read -r bw bc _ <<<"$(res baseline)"
read -r lw lc _ <<<"$(res loaded)"
per_proc_ms=$(awk -v a="$lw" -v b="$bw" -v n="$idle" 'BEGIN { printf "%.3f", (a - b) * 1000 / n }')
per_proc_cpu_ms=$(awk -v a="$lc" -v b="$bc" -v n="$idle" 'BEGIN { printf "%.3f", (a - b) * 1000 / n }')

if ! [ -s "$out" ]; then
	cat >"$out" <<-'EOF'
	# pininspect --audit --all with many idle processes (issue 5, Deliver 6)

	bench/audit-all.sh: one pinload holding pins and N idle `sleep` processes;
	`--audit --all` reads every process's status (and its fd links) with
	libproc2 and audits only those that can hold pins. Wall times on a shared
	2-CPU machine are noisy; the CPU column is steadier.
	EOF
fi
{
	echo
	echo "## $(date -u '+%F %H:%M') UTC: $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?'), kernel $(uname -r), $(nproc) CPUs"
	echo
	echo "Command: \`BENCH_IDLE=$idle BENCH_RUNS=$runs bench/audit-all.sh\` (as root)."
	echo "pinload $pinload_args (pid $pl); $idle idle \`sleep 600\` children added for the loaded rows."
	echo "Processes on the host: $nproc_before before, $nproc_after with the idle ones. Load average after: $load."
	echo
	echo "Median of $runs runs after one warm-up (wall: monotonic clock; CPU: user + sys from wait4 rusage; peak RSS: GNU time)."
	echo "Ratios are against the same command without the idle processes. Default pin source here: $default_source."
	echo
	echo "| command | processes | wall | CPU (user+sys) | peak RSS | wall vs baseline | CPU vs baseline |"
	echo "|---|---|---|---|---|---|---|"
	row "pininspect --audit --all (baseline)" baseline "$nproc_before" baseline
	row "pininspect --audit --all (+$idle idle)" loaded "$nproc_after" baseline
	row "pininspect --audit --all --source=io_uring" baseline_iou "$nproc_before" baseline_iou
	row "pininspect --audit --all --source=io_uring (+$idle idle)" loaded_iou "$nproc_after" baseline_iou
	row "ps -e" ps0 "$nproc_before" ps0
	row "ps -e (+$idle idle)" ps1 "$nproc_after" ps0
	row "cat /proc/*/status" walk0 "$nproc_before" walk0
	row "cat /proc/*/status (+$idle idle)" walk1 "$nproc_after" walk0
	echo
	read -r pw pc _ <<<"$(res ps1)"
	read -r ww wc _ <<<"$(res walk1)"
	echo "- Loaded host: --audit --all takes $(ratio "$lw" "$pw") the wall time of \`ps -e\` and $(ratio "$lw" "$ww") that of the /proc status walk (CPU: $(ratio "$lc" "$pc"), $(ratio "$lc" "$wc"))."
	echo "- Cost of an idle process: $per_proc_ms ms wall, $per_proc_cpu_ms ms CPU each ((loaded - baseline) / $idle); with --source=io_uring: $(per_proc loaded_iou baseline_iou 1) ms wall, $(per_proc loaded_iou baseline_iou 2) ms CPU."
	echo "- --all (from -J): baseline saw $b_seen, audited $b_aud, skipped $b_skip without pins, pinload found: $b_found, scan duration ${b_dur} s;"
	echo "  loaded saw $l_seen, audited $l_aud, skipped $l_skip without pins, pinload found: $l_found, scan duration ${l_dur} s."
} | tee -a "$out"
echo "bench: appended to $out" >&2
