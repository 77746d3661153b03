#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# pinload-selfcheck.sh [PINLOAD] - check that pinload pins what it says and
# that each SIGUSR1 action really does what it claims, by reading the PFNs
# of its pages from /proc/PID/pagemap (and /proc/kpageflags) before and
# after.  TAP output (for the TAP driver: a skip is "1..0 # SKIP", exit 0);
# skips without root, pinload or io_uring.
#
# Needs root for PFNs.  Uses only bash, dd and od.

PINLOAD=${1:-${top_builddir:-$(dirname "$0")/../..}/tests/helpers/pinload}
PAGE=4096
PFN_MASK=$(( (1 << 55) - 1 ))
n=0
failed=0

ok()   { n=$((n + 1)); echo "ok $n - $*"; }
nok()  { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }

[ "$(id -u)" = 0 ] || skip_all "needs root to read PFNs from pagemap"
[ -x "$PINLOAD" ] || skip_all "$PINLOAD not built (liburing missing?)"

PL_PID=
# start_pinload ARGS...: runs pinload as a coprocess, sets PL_PID and READY
start_pinload() {
	coproc PL { exec "$PINLOAD" "$@" 2>"$tmp/stderr"; }
	PL_IN=${PL[1]}
	PL_OUT=${PL[0]}

	if ! read -r -t 20 READY <&"$PL_OUT"; then
		wait "$PL_PID"
		rc=$?
		[ $rc = 77 ] && skip_all "$(cat "$tmp/stderr")"
		echo "Bail out! pinload $*: exit $rc: $(cat "$tmp/stderr")"
		exit 1
	fi
	PL_PID=$(json_num "$READY" pid)
}

stop_pinload() {
	[ -n "$PL_PID" ] || return 0
	# closing its stdin is how a test ends pinload
	eval "exec ${PL_IN}>&-" 2>/dev/null
	wait "$PL_PID" 2>/dev/null
	PL_PID=
}

tmp=$(mktemp -d) || exit 99
trap 'stop_pinload; rm -rf "$tmp"' EXIT

# usr1 ACTIONS_COUNT: send SIGUSR1, read one event line per action into EVENTS[]
usr1() {
	local i
	kill -USR1 "$PL_PID"
	EVENTS=()
	for ((i = 0; i < $1; i++)); do
		read -r -t 20 'EVENTS[i]' <&"$PL_OUT" || { echo "Bail out! no usr1 event"; exit 1; }
	done
}

json_num() { sed -n "s/.*\"$2\": \(-\{0,1\}[0-9][0-9]*\).*/\1/p" <<<"$1" | head -n1; }
json_str() { sed -n "s/.*\"$2\": \"\([^\"]*\)\".*/\1/p" <<<"$1" | head -n1; }
# buffer_field JSON INDEX addr|len
buffer_field() {
	local bufs
	bufs=$(sed -n 's/.*"buffers": \[\([^]]*\)\].*/\1/p' <<<"$1" | sed 's/}, {/}\n{/g')
	sed -n "$(($2 + 1))p" <<<"$bufs" | sed -n "s/.*\"$3\": \"\{0,1\}\([0-9a-fx]*\).*/\1/p"
}
vmpin() { sed -n 's/^VmPin:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }

# pagemap PID ADDR NPAGES: one hex entry per line
pagemap() {
	dd if="/proc/$1/pagemap" bs=$((8 * $3)) iflag=skip_bytes,count_bytes \
		skip=$(($2 / PAGE * 8)) count=$((8 * $3)) 2>/dev/null |
		od -An -v -tx8 | tr -s ' ' '\n' | sed '/^$/d'
}
# pfns PID ADDR NPAGES: PFN per page, "-" when not present
pfns() {
	local e
	for e in $(pagemap "$@"); do
		if (( (0x$e >> 63) & 1 )); then
			printf '%x\n' $(( 0x$e & PFN_MASK ))
		else
			echo -
		fi
	done
}
# count_bit PID ADDR NPAGES BIT: pages with that pagemap bit set
count_bit() {
	local e c=0
	for e in $(pagemap "$1" "$2" "$3"); do
		(( (0x$e >> $4) & 1 )) && c=$((c + 1))
	done
	echo $c
}
kpageflags() { dd if=/proc/kpageflags bs=8 skip=$((0x$1)) count=1 2>/dev/null | od -An -tx8 | tr -d ' '; }

same() { [ "$1" = "$2" ]; }
none_equal() { ! comm -12 <(sort <<<"$1") <(sort <<<"$2") | grep -qv '^-$'; }
all_present() { ! grep -q '^-$' <<<"$1" && [ -n "$1" ]; }
none_present() { ! grep -qv '^-$' <<<"$1"; }

echo "# pinload: $PINLOAD on $(uname -r)"

# --- 1: registered size == VmPin, 4k buffers -------------------------------
start_pinload --size=4M -b 0:256K -b 1M:512K -b 3M:4K --comm=pinload-check
check "three 4k buffers: VmPin $(json_num "$READY" vmpin_kib) KiB == 772 KiB registered" \
	same "$(json_num "$READY" vmpin_kib)" 772
check "VmPin in /proc/PID/status agrees" same "$(vmpin "$PL_PID")" 772
check "--comm sets the task name" same "$(cat /proc/$PL_PID/comm)" pinload-check
a0=$(buffer_field "$READY" 0 addr)
p0=$(pfns "$PL_PID" $((a0)) 64)
check "buffer 0: all 64 pages present" all_present "$p0"
check "buffer 0: all 64 pages mapped once (pagemap bit 56)" \
	same "$(count_bit "$PL_PID" $((a0)) 64 56)" 64
stop_pinload

# --- 2: THP buffer --------------------------------------------------------
start_pinload --size=1M -b 0:64K --thp-buffer=4M
thp=$(sed -n 's/.*"kind": "thp", "addr": "[0-9a-fx]*", "len": [0-9]*, "thp_kib": \([0-9]*\).*/\1/p' <<<"$READY")
if [ "$thp" = 4096 ]; then
	check "THP buffer: VmPin 64 + 4096 KiB" same "$(json_num "$READY" vmpin_kib)" 4160
	a1=$(buffer_field "$READY" 1 addr)
	p1=$(pfns "$PL_PID" $((a1)) 1)
	f=$(kpageflags "$p1")
	check "THP buffer: head page has KPF_THP and KPF_COMPOUND_HEAD" \
		test $(( (0x$f >> 22) & (0x$f >> 15) & 1 )) = 1
	check "THP buffer: PFN of the first page is 2 MiB aligned" test $(( 0x$p1 % 512 )) = 0
else
	ok "# SKIP THP buffer: no THP backing here (thp_kib=$thp)"
fi
stop_pinload

# --- 3: dontneed: fresh PFNs at the vaddr, VmPin unchanged --------------------
start_pinload --size=1M -b 0:256K --on-usr1=dontneed:0
a0=$(buffer_field "$READY" 0 addr)
before=$(pfns "$PL_PID" $((a0)) 64)
usr1 1
after=$(pfns "$PL_PID" $((a0)) 64)
check "dontneed: event ok" grep -q '"action": "dontneed:0", "ok": true' <<<"${EVENTS[0]}"
check "dontneed: pages present again after the write" all_present "$after"
check "dontneed: every page got a new PFN (old ones stay pinned)" none_equal "$before" "$after"
check "dontneed: VmPin unchanged (256)" same "$(vmpin "$PL_PID")" 256
stop_pinload

# --- 4: mremap: same PFNs at the new address, old range gone ----------------
start_pinload --size=1M -b 0:64K -b 512K:128K --on-usr1=mremap:1
a1=$(buffer_field "$READY" 1 addr)
before=$(pfns "$PL_PID" $((a1)) 32)
usr1 1
new=$(json_str "${EVENTS[0]}" addr)
old=$(json_str "${EVENTS[0]}" old_addr)
check "mremap: event ok, old_addr is the registered address" same "$old" "$a1"
check "mremap: the pinned PFNs moved with the mapping" same "$(pfns "$PL_PID" $((new)) 32)" "$before"
check "mremap: nothing mapped at the old address" none_present "$(pfns "$PL_PID" $((a1)) 32)"
check "mremap: the new address has its own maps line" \
	grep -q "^${new#0x}-" "/proc/$PL_PID/maps"
check "mremap: VmPin unchanged (192)" same "$(vmpin "$PL_PID")" 192
stop_pinload

# --- 5: fork: parent keeps pinned PFNs, exclusive; child gets copies --------
start_pinload --size=1M -b 0:256K --on-usr1=fork
a0=$(buffer_field "$READY" 0 addr)
before=$(pfns "$PL_PID" $((a0)) 64)
unpinned_before=$(pfns "$PL_PID" $((a0 + 256 * 1024)) 64)
usr1 1
child=$(json_num "${EVENTS[0]}" child)
check "fork: child $child runs" test -d "/proc/$child"
check "fork: parent keeps its pinned PFNs" same "$(pfns "$PL_PID" $((a0)) 64)" "$before"
check "fork: parent's pinned pages stay mapped once" \
	same "$(count_bit "$PL_PID" $((a0)) 64 56)" 64
check "fork: child got copies of the pinned pages" none_equal "$(pfns "$child" $((a0)) 64)" "$before"
check "fork: child shares the unpinned pages (COW)" \
	same "$(pfns "$child" $((a0 + 256 * 1024)) 64)" "$unpinned_before"
check "fork: shared unpinned pages are no longer mapped once" \
	same "$(count_bit "$PL_PID" $((a0 + 256 * 1024)) 64 56)" 0
check "fork: VmPin unchanged (256)" same "$(vmpin "$PL_PID")" 256
stop_pinload
sleep 0.2
check "fork: the child is gone once pinload exits" test ! -d "/proc/$child"

# --- 5b: SIGKILL of the parent takes the child too (PR_SET_PDEATHSIG) --------
start_pinload --size=1M --on-usr1=fork
usr1 1
child=$(json_num "${EVENTS[0]}" child)
kill -KILL "$PL_PID"; wait "$PL_PID" 2>/dev/null; PL_PID=
# dead = gone or a zombie: the reaper it was handed to may be slow to reap
dead() { ! grep -qv '^State:[[:space:]]*Z' <(grep '^State:' "/proc/$1/status" 2>/dev/null); }
for i in 1 2 3 4 5 6 7 8 9 10; do dead "$child" && break; sleep 0.1; done
check "fork: the child dies with a SIGKILLed parent" dead "$child"

# --- 6: munmap: orphaned pin --------------------------------------------------
start_pinload --size=1M -b 0:128K --on-usr1=munmap:0
a0=$(buffer_field "$READY" 0 addr)
usr1 1
check "munmap: event ok" grep -q '"ok": true' <<<"${EVENTS[0]}"
check "munmap: nothing mapped at the buffer" none_present "$(pfns "$PL_PID" $((a0)) 32)"
check "munmap: VmPin unchanged (128): an orphaned pin" same "$(vmpin "$PL_PID")" 128
stop_pinload

# --- 7: pageout: unpinned clean file pages go, pinned pages stay -------------
start_pinload --size=1M -b 0:128K --file-cow="$tmp/cow" --file-cow-size=256K \
	--file-cow-write=0:64K --on-usr1=pageout,pageout:0
a0=$(buffer_field "$READY" 0 addr)
cow=$(sed -n 's/.*"kind": "file-cow", "addr": "\(0x[0-9a-f]*\)".*/\1/p' <<<"$READY")
before=$(pfns "$PL_PID" $((a0)) 32)
check "file-cow: written pages are anon (not file, bit 61)" \
	same "$(count_bit "$PL_PID" $((cow)) 16 61)" 0
check "file-cow: unwritten pages are file pages" \
	same "$(count_bit "$PL_PID" $((cow + 65536)) 48 61)" 48
usr1 2
check "pageout: both events ok" \
	test "$(printf '%s\n' "${EVENTS[@]}" | grep -c '"ok": true')" = 2
check "pageout: clean file pages of the unpinned part were dropped" \
	none_present "$(pfns "$PL_PID" $((cow + 65536)) 48)"
check "pageout: the pinned buffer keeps its PFNs" same "$(pfns "$PL_PID" $((a0)) 32)" "$before"
stop_pinload

# --- 8: unregister and touch ------------------------------------------------
start_pinload --size=1M -b 0:256K --on-usr1=unregister,touch
usr1 2
check "unregister: VmPin drops to 0" same "$(json_num "${EVENTS[0]}" vmpin_kib)" 0
check "touch: event ok over the whole area" grep -q '"action": "touch", "ok": true, "len": 1048576' <<<"${EVENTS[1]}"
stop_pinload

# --- 9: stdin EOF ends pinload; --no-stdin ignores it -------------------------
"$PINLOAD" </dev/null >/dev/null 2>&1
check "stdin at EOF: exit 0" test $? = 0
"$PINLOAD" --no-stdin </dev/null >"$tmp/out" 2>&1 &
bg=$!
sleep 0.5
check "--no-stdin: still running with stdin at EOF" test -d "/proc/$bg"
kill -TERM "$bg"; wait "$bg"
check "SIGTERM: exit 0" test $? = 0

echo "1..$n"
[ "$failed" = 0 ]
